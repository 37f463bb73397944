"""Bytes in, a Table of raw columns out: files and stdin, gzip, CSV sniffing, Parquet, foreign formats.

Also the header names as cleaned (stripped, unique), the row numbers messages point at,
and `is_text`, the test for a text column that every later step applies to raw columns.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import os
import re
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from rnncast.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

# A header field that is a number or a date: a file whose header is all such is headerless.
_DATA_LIKE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?([ T].*)?$")


@dataclass(frozen=True)
class Table:
    """Columns as read, before interpretation, and how to point the user at a row."""

    name: str
    columns: dict[str, pa.ChunkedArray]
    row_number: Callable[[int], int]
    as_text: Callable[[str], pa.ChunkedArray] | None  # CSV: re-read one column verbatim
    decimal_comma: bool = False  # "3,14" may mean 3.14: only when commas do not separate

    def at(self, row: int) -> str:
        return f"{self.name}: row {self.row_number(int(row))}"

    def release(self) -> None:
        """Let go of the columns once read into arrays (messages need only names and row numbers)."""
        self.columns.clear()


def read_bytes(source: str | os.PathLike[str], stdin: IO[bytes] | None) -> tuple[bytes, str, str]:
    if os.fspath(source) == "-":
        if stdin is None and sys.stdin is None:  # the process started with fd 0 closed
            raise DataError("stdin is closed, so '-' has nothing to read; give the data file's path")
        stream = stdin if stdin is not None else sys.stdin.buffer
        raw = stream.read()
        # A text stream (sys.stdin rather than sys.stdin.buffer) has already decoded.
        return (raw.encode("utf-8") if isinstance(raw, str) else raw), "stdin", ""
    path = Path(source)
    name = os.fspath(source)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{name}: file not found; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{name} is a folder; give a CSV or Parquet file") from None
    except PermissionError:
        raise DataError(f"{name}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    suffixes = [s.lower() for s in path.suffixes]
    return raw, name, suffixes[-1] if suffixes else ""


def load_table(raw: bytes, name: str, suffix: str) -> Table:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{name}: not a readable gzip file ({exc}); it may be truncated") from None
    if raw[:4] == b"PAR1":
        return _read_parquet(raw, name)
    if suffix in (".parquet", ".pq"):
        raise DataError(f"{name}: has a Parquet extension but is not a Parquet file; it may be truncated")
    if not raw or raw.isspace():  # isspace stops at the first other byte: cheap
        raise DataError(f"{name}: the file is empty; give a CSV with a header and data rows")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text": recode once so the CSV reader sees UTF-8.
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{name}: starts like UTF-16 text but is not valid UTF-16; save it as UTF-8 CSV") from None
    _reject_foreign(raw, name)
    return _read_csv(raw, name)


def _reject_foreign(raw: bytes, name: str) -> None:
    """Name formats that would otherwise surface as confusing CSV parse errors."""
    hint = None
    if raw.startswith(b"PK\x03\x04"):
        hint = "a zip archive (an Excel workbook?); export it as CSV"
    elif raw.lstrip()[:1] in (b"{", b"["):
        hint = "JSON; rnncast reads CSV and Parquet"
    elif b"\x00" in raw[:4096]:
        hint = "a binary file, not CSV or Parquet"
    if hint:
        raise DataError(f"{name}: unknown or unreadable format: it looks like {hint}")


def _read_parquet(raw: bytes, name: str) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # ParquetFile.read, not read_table: the latter refuses repeated column names,
        # which _clean_names makes unique.
        table = pq.ParquetFile(pa.BufferReader(raw)).read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{name}: not a readable Parquet file ({_one_line(exc)})") from None
    names = _clean_names(table.column_names)
    columns = dict(zip(names, table.columns))
    return Table(name, _require_rows(columns, name), lambda i: i + 1, None)


def _read_csv(raw: bytes, name: str) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    encoding = "utf8" if _is_utf8(raw) else "latin1"
    header_line, sep, header = _sniff(raw, encoding, name)
    if all(_DATA_LIKE.match(field.strip()) for field in header):
        raise DataError(
            f"{name}: the first line {sep.join(header)!r} looks like data, not a header; "
            "add a header line naming the columns, e.g. date,value"
        )
    names = _clean_names(header)
    generic = [f"c{i}" for i in range(len(names))]  # file names may repeat or be empty

    def read(convert: pcsv.ConvertOptions) -> pa.Table:
        options = pcsv.ReadOptions(encoding=encoding, column_names=generic, skip_rows=header_line)
        try:
            return pcsv.read_csv(pa.BufferReader(raw), read_options=options,
                                 parse_options=pcsv.ParseOptions(delimiter=sep), convert_options=convert)
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{name}: cannot read it as CSV ({_one_line(exc)}); check the separator ({_sep_name(sep)}) and quoting"
            ) from None

    table = read(pcsv.ConvertOptions(strings_can_be_null=True))
    columns = dict(zip(names, table.columns))
    lines = _LineNumbers(raw, header_line)

    def as_text(column: str) -> pa.ChunkedArray:
        key = generic[names.index(column)]
        convert = pcsv.ConvertOptions(include_columns=[key], column_types={key: pa.string()}, strings_can_be_null=True)
        return read(convert).column(0)

    return Table(name, _require_rows(columns, name), lines, as_text, decimal_comma=sep != ",")


def _require_rows(columns: dict[str, pa.ChunkedArray], name: str) -> dict[str, pa.ChunkedArray]:
    if not columns or len(next(iter(columns.values()))) == 0:
        raise DataError(f"{name}: has a header but no data rows")
    return columns


def _is_utf8(raw: bytes) -> bool:
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sniff(raw: bytes, encoding: str, name: str) -> tuple[int, str, list[str]]:
    """(header line number, separator, header fields) from the first lines of the file."""
    sample = raw[:65_536].decode("utf-8" if encoding == "utf8" else "latin-1", errors="replace")
    lines = sample.splitlines()
    # Compare bytes with bytes: a sample of multi-byte characters has fewer characters.
    if len(raw) > 65_536 and len(lines) > 1:
        lines = lines[:-1]  # probably cut in the middle
    header_line = next((i for i, line in enumerate(lines, 1) if line.strip()), 0)
    if not header_line:
        raise DataError(f"{name}: found no header line in the first 64 KiB (only blank lines)")
    body = [line for line in lines[header_line - 1 :] if line.strip()][:20]
    best: tuple[tuple[bool, int], str, list[str]] | None = None
    for sep in (",", ";", "\t"):
        rows = list(csv.reader(body, delimiter=sep))
        width = len(rows[0])
        score = (all(len(r) == width for r in rows), width)
        if width > 1 and (best is None or score > best[0]):
            best = (score, sep, rows[0])
    if best is None:
        raise DataError(
            f"{name}: found a single column; rnncast needs a time column and a value column "
            "separated by commas, semicolons or tabs"
        )
    return header_line, best[1], best[2]


def _sep_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[sep]


def _clean_names(header: Sequence[str]) -> list[str]:
    """Strip names; name empty ones like pandas does; make repeated ones unique."""
    names: list[str] = []
    for i, raw_name in enumerate(header):
        base = raw_name.strip() or f"Unnamed: {i}"
        candidate, k = base, 0
        while candidate in names:
            k += 1
            candidate = f"{base}.{k}"
        names.append(candidate)
    return names


class _LineNumbers:
    """Maps a 0-based CSV data row to its line in the file, blank lines included.

    Built only when a message needs a row number: it scans the whole file once.
    """

    def __init__(self, raw: bytes, header_line: int) -> None:
        self._raw = raw
        self._header_line = header_line
        self._lines: np.ndarray | None = None

    def __call__(self, row: int) -> int:
        if self._lines is None:
            buf = np.frombuffer(self._raw, dtype=np.uint8)
            newline = 10 if b"\n" in self._raw else 13  # 13: old Mac files end lines with CR only
            ends = np.flatnonzero(buf == newline)
            starts = np.concatenate(([0], ends + 1))
            stops = np.concatenate((ends, [len(buf)]))
            # A line is blank when empty or holding only the CR of a CRLF.
            ends_in_cr = (stops > starts) & (buf[np.maximum(stops - 1, 0)] == 13)
            blank = (stops - starts - ends_in_cr) <= 0
            numbers = np.flatnonzero(~blank) + 1
            self._lines = numbers[numbers > self._header_line]
        if row < len(self._lines):
            return int(self._lines[row])
        return self._header_line + 1 + row


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)
