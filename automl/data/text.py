"""Text: a CSV / TSV with a text column and a label column, tokenized without Keras.

Tokens are lower-cased words (a unicode-aware ``\\w+`` regex) or single characters
(``data.tokenize: chars``, for languages written without spaces such as Chinese). The
vocabulary is fitted on the train rows only, most frequent first; id 0 is padding and id 1
stands for any token out of the vocabulary. Samples become int32 id rows padded with zeros
(or truncated) to ``data.max_length``, by default the 95th percentile of the train rows'
token counts (at most 500).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData

PAD, OOV = "", "[UNK]"
TEXT_COLUMNS = ("text", "sentence", "review", "document", "content", "comment", "message")
DEFAULT_MAX_LENGTH = 500
_WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str, mode: str) -> list[str]:
    """Split one text into tokens: ``words`` (lower-cased) or ``chars``."""
    if mode == "chars":
        return [c for c in text if not c.isspace()]
    return _WORD.findall(text.lower())


def load(data: Any, task: str | None) -> RawData:
    """Read the text and label columns of a CSV."""
    from automl.data.raw import RawData
    from automl.data.split import labels_of, pop_split_column
    from automl.data.tabular import _default_target, infer_task, read_csv, targets

    frame = read_csv(data.source, data)
    split = pop_split_column(frame, data, data.source)
    column = _text_column(frame, data)
    rest = frame.drop(columns=[column])
    if rest.shape[1] < 1:
        raise DataError(f"{data.source}: a text CSV needs a label column besides {column!r}")
    target = data.target or _default_target(rest)
    if target not in rest.columns:
        raise DataError(
            f"{data.source}: data.target: no column {target!r}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    frame = frame.dropna(subset=[target])
    x = frame[column].fillna("").astype(str).to_numpy(dtype=object)
    y_raw = frame[target].to_numpy()
    task = task or infer_task(y_raw)
    name = Path(data.source).name
    options = {
        "tokenize": data.tokenize,
        "max_length": data.max_length,
        "max_vocab": data.max_vocab,
        **labels_of(split, frame.index),
    }
    y, classes = targets(y_raw, task, data.source, target)
    return RawData(x, y, task, "text", name, classes=classes, options=options)


def _text_column(frame: Any, data: Any) -> str:
    columns = [str(c) for c in frame.columns]
    if data.text_column:
        if data.text_column not in columns:
            raise DataError(
                f"{data.source}: data.text_column: no column {data.text_column!r}; "
                f"columns: {', '.join(columns)}"
            )
        return str(data.text_column)
    lower = {c.lower(): c for c in columns}
    for name in TEXT_COLUMNS:
        if name in lower and lower[name] != data.target:
            return lower[name]
    strings = [c for c in columns if frame[c].dtype == object and c != data.target]
    if not strings:
        raise DataError(
            f"{data.source}: no text column; set data.text_column (columns: {', '.join(columns)})"
        )
    return max(strings, key=lambda c: frame[c].astype(str).str.len().mean())


def fit(texts: Iterable[str], options: dict[str, Any]) -> dict[str, Any]:
    """A tokenizer fitted on ``texts`` (the train rows): vocabulary and settings."""
    mode = options.get("tokenize", "words")
    counts: Counter[str] = Counter()
    lengths = []
    for t in texts:
        toks = tokens(str(t), mode)
        counts.update(toks)
        lengths.append(len(toks))
    max_vocab = int(options.get("max_vocab", 20000))
    vocabulary = [PAD, OOV] + [w for w, _ in counts.most_common(max_vocab - 2)]
    max_length = options.get("max_length") or int(
        min(DEFAULT_MAX_LENGTH, max(1, np.ceil(np.percentile(lengths or [1], 95))))
    )
    return {"tokenize": mode, "max_length": int(max_length), "vocabulary": vocabulary}


def encode(texts: Iterable[str], tokenizer: dict[str, Any]) -> np.ndarray:
    """Texts -> int32 ids of shape (samples, max_length), padded with 0, unknown tokens 1."""
    index = {w: i for i, w in enumerate(tokenizer["vocabulary"]) if i >= 2}
    length = int(tokenizer["max_length"])
    texts = list(texts)
    out = np.zeros((len(texts), length), dtype="int32")
    for row, t in enumerate(texts):
        ids = [index.get(w, 1) for w in tokens(str(t), tokenizer["tokenize"])[:length]]
        out[row, : len(ids)] = ids
    return out


def save_tokenizer(tokenizer: dict[str, Any], path: str | Path) -> Path:
    """Write a tokenizer as JSON (UTF-8), for :func:`load_tokenizer` and :func:`encode`."""
    path = Path(path)
    path.write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    return path


def load_tokenizer(path: str | Path) -> dict[str, Any]:
    """Read a tokenizer written by :func:`save_tokenizer`."""
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))
