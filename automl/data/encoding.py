"""Which encoding a text file is in: UTF-8 unless ``data.encoding`` says otherwise, and
never a silent guess. A byte that is not the encoding stops the read with one line that
names the file and the encoding to set; nothing is decoded to U+FFFD."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from automl.errors import DataError


def text_encoding(path: str, given: str | None) -> str:
    """The encoding to read a text file with: ``given`` (``data.encoding``), else UTF-8.

    Raises:
        DataError: naming the file, for an empty file, an unknown encoding, bytes that are
            not UTF-8 (with the encoding to set), or a file whose lines are in UTF-8 where
            ``given`` is a one-byte encoding (``señor`` would read as ``seÃ±or`` there,
            and become a second category).
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; a CSV needs a header line and rows")
    encoding = given or "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise DataError(f"{path}: data.encoding: unknown encoding {encoding!r}") from None
    if name in ("utf-8", "utf-8-sig"):
        return _utf8(path, raw, encoding)
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not valid {encoding} text (byte {raw[exc.start]:#x} on line {line}); "
            "set data.encoding to the file's encoding"
        ) from None
    utf8_line = _utf8_line(raw)
    if name.startswith(_ONE_BYTE) and utf8_line:
        raise DataError(
            f"{path}: line {utf8_line} is UTF-8, which data.encoding {encoding} would misread "
            "(señor as seÃ±or); save the file in one encoding, UTF-8 best, and drop "
            "data.encoding"
        )
    return encoding


_ONE_BYTE = ("iso8859", "latin", "cp125", "cp437", "cp850", "mac-")
# A multi-byte UTF-8 character: a lead byte and its continuation bytes.
_UTF8_CHAR = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _utf8(path: str, raw: bytes, encoding: str) -> str:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        utf8_line = _utf8_line(raw)
        mixed = (
            f"; line {utf8_line} is UTF-8, so the file may mix encodings: save it in one"
            if utf8_line
            else ""
        )
        raise DataError(
            f"{path}: not valid utf-8 text (byte {raw[exc.start]:#x} on line {line}); set "
            f"data.encoding to the file's encoding, e.g. {_guess(raw)}{mixed}"
        ) from None
    return encoding


def _utf8_line(raw: bytes) -> int:
    """The first line holding non-ASCII characters that is valid UTF-8 (0: none)."""
    for number, line in enumerate(raw.split(b"\n"), 1):
        if _UTF8_CHAR.search(line):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return number
    return 0


def _guess(raw: bytes) -> str:
    """An encoding to suggest: cp1252 when every non-ASCII byte stands alone (one-byte
    Western text), else the common multi-byte ones."""
    if not re.search(rb"[\x80-\xff]{2}", _UTF8_CHAR.sub(b" ", raw)):
        return "cp1252 (or latin-1)"
    return "gb18030 (Chinese), shift_jis (Japanese), cp1251 (Cyrillic) or cp1252"
