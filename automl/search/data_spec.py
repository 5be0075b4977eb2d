"""The ``data:`` section of a search space: where the data comes from, how it is read and
split, and the user's own splits (test and validation sources, a split column)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from automl.data import READERS
from automl.data.builtin import DATASETS
from automl.data.split import TEST, VALIDATION
from automl.search.params import Strict

# Names come from the registry, so the spec accepts exactly the kinds a reader exists for.
if TYPE_CHECKING:
    DataKind = str
else:
    DataKind = Literal[READERS.names]


class DataSpec(Strict):
    """Where the data comes from, how it is read and how it is split.

    ``kind`` picks the reader; when left out it is inferred from ``source``: a built-in
    name, a folder of class subfolders (images or WAV audio by the files' extensions), a
    ``.csv/.tsv`` (tabular; text when ``text_column`` is set; sequence windows when
    ``window`` is set; audio when a column lists ``.wav`` paths) or an ``.npz``.

    ``test_source`` / ``validation_source``: files or folders like ``source`` whose rows are
    that split (read and preprocessed like ``source``, preprocessing fitted on train only);
    ``split_column``: a column (an array of an ``.npz``) saying ``train``, ``validation`` or
    ``test`` for each row. A split neither gives is drawn from the train rows.
    """

    source: str
    kind: DataKind | None = None
    target: str | None = None
    validation: float | None = Field(None, gt=0, lt=1)  # default: VALIDATION (0.15)
    test: float | None = Field(None, gt=0, lt=1)  # default: TEST (0.15)
    test_source: str | None = Field(None, min_length=1)
    validation_source: str | None = Field(None, min_length=1)
    split_column: str | None = Field(None, min_length=1)
    split_seed: int = 0
    stratify: bool = True
    # Files: CSV reading, unreadable images or recordings.
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    encoding: str | None = None
    columns: list[str] | None = Field(None, min_length=2)  # names for a header-less file
    skip_bad_files: bool = False
    # Images: resized to image_size (height, width), pixels scaled to [0, 1].
    image_size: tuple[
        Annotated[int, Field(ge=1, le=4096)], Annotated[int, Field(ge=1, le=4096)]
    ] = (64, 64)
    color_mode: Literal["rgb", "grayscale"] = "rgb"
    # Audio: resampled to sample_rate (default: the files' lowest rate, at most 16000),
    # padded or trimmed to duration seconds; feature_cache: spectrograms computed once.
    sample_rate: int | None = Field(None, ge=100, le=384000)
    duration: float = Field(1.0, gt=0, le=600)
    feature_cache: bool = True
    # Text: a text column tokenized into ids (0 padding, 1 out of vocabulary).
    text_column: str | None = None
    tokenize: Literal["words", "chars"] = "words"
    max_length: int | None = Field(None, ge=1, le=100000)
    max_vocab: int = Field(20000, ge=3)
    # Sequences from a CSV time series: windows of `window` rows, target `horizon` rows on.
    window: int | None = Field(None, ge=1)
    horizon: int = Field(1, ge=0)
    stride: int = Field(1, ge=1)
    # Cross-validation: each trial trains on `folds` folds of the non-test samples.
    folds: int | None = Field(None, ge=2, le=20)
    # Interactions (recommenders): id columns, optional rating and time; see README.
    user_column: str | None = None
    item_column: str | None = None
    rating_column: str | None = None
    time_column: str | None = None
    implicit: bool | None = None  # default: implicit when there is no rating column
    split: Literal["random", "by_time"] | None = None  # default: by_time when implicit

    @model_validator(mode="after")
    def _fractions(self) -> DataSpec:
        validation, test = self.validation or VALIDATION, self.test or TEST
        if validation + test >= 0.9:
            raise ValueError(f"'validation' + 'test' must be < 0.9; got {validation} + {test}")
        _check_given_splits(self)
        return self


def _check_given_splits(data: DataSpec) -> None:
    """A split comes from one place: a source file, a split column, or a drawn fraction."""
    for share, source in (("test", "test_source"), ("validation", "validation_source")):
        if getattr(data, source) and getattr(data, share) is not None:
            raise ValueError(
                f"data.{share}: '{share}' must be left out when '{source}' is given (its "
                f"rows are the {share} split); got {getattr(data, share)}"
            )
    if data.split_column and (data.test_source or data.validation_source):
        given = "test_source" if data.test_source else "validation_source"
        raise ValueError(
            f"data.split_column: 'split_column' must be left out when '{given}' is given "
            f"(one way to give the splits); got {data.split_column!r}"
        )
    field = next(
        (f for f in ("split_column", "test_source", "validation_source") if getattr(data, f)),
        None,
    )
    if field is None:
        return
    if data.kind in ("builtin", "arrays") or data.source in DATASETS:
        raise ValueError(
            f"data.{field}: {data.source!r} is not a file or folder; '{field}' applies to "
            "data read from files"
        )
    if field == "split_column" and (data.kind == "images" or Path(data.source).is_dir()):
        raise ValueError(
            f"data.split_column: {data.source!r} is a folder of class subfolders, which has "
            "no column; give data.test_source (and data.validation_source) folders instead, "
            "or a CSV manifest with the split column (audio)"
        )
