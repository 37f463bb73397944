"""Files in, arrays out; forecasts out.

`read_series` turns a CSV (plain, gzip-compressed or on stdin) or a Parquet file into a
`SeriesSet`: every series stacked in one float64 array, sorted by time, on a regular grid,
with gaps filled. `write_forecast` writes columns as CSV, JSON or Parquet.

pandas and pyarrow are imported inside the functions that need them, never at the top of
this module: importing rnncast and writing a CSV forecast must stay fast.

Row numbers in messages are the ones a user sees: for CSV the line in the file (header =
row 1, blank lines counted); for Parquet the 1-based row of the table.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import math
import os
import re
import sys
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from rnncast.atomic import atomic_write
from rnncast.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pyarrow as pa

FILLS = ("interpolate", "ffill", "error")
OUTPUT_FORMATS = ("csv", "json", "parquet")

# Column names (lower case, punctuation removed) taken for the time column before any other.
_TIME_NAMES = ("date", "time", "timestamp", "ds", "datetime", "period", "month", "week", "day")
# A timestamp that ends in a zone: a clock time, then Z / UTC / GMT / +hh:mm / +hhmm / +hh.
_ZONED = r"^(?P<body>.*\d:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
# A header field that is a number or a date: a file whose header is all such is headerless.
_DATA_LIKE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?([ T].*)?$")
_DAY_NS = 86_400_000_000_000
_SECOND_NS = 1_000_000_000
# Windows of this many points are long enough for pandas to recognise a pattern (a
# business-day week, a month) and short enough that some miss every holiday and gap.
_STRETCH = 16
# Checked against an already chosen frequency, a series may miss this share of its grid
# and still be taken as sharing it without a full inference of its own.
_FAST_MISSING = 0.1
_CSV_BLOCK = 65_536


@dataclass(frozen=True, eq=False)
class SeriesSet:
    """One or many time series on a shared regular frequency, stacked row-wise.

    values (N, F) float64: column 0 the target, then `features` in order; finite.
    offsets (S+1,) int64: series s is rows offsets[s]:offsets[s+1], sorted by time.
    ids: the S series ids as strings (one id equal to `target` without an id column).
    times (N,) datetime64[ns]: naive wall-clock times in zone `tz` (None: no zone given).
    freq: a pandas offset alias ("D", "B", "h", "MS", ...), inferred or as given.
    filled: how many values (cells of `values`) were made up: inserted gaps plus missing
    values filled by the fill policy. source: the path as given ("-" for stdin).
    made_up (N,) bool: rows whose target was made up (None: none, or not known).
    eq=False: instances hold arrays, so they compare by identity.
    """

    values: np.ndarray
    offsets: np.ndarray
    ids: tuple[str, ...]
    times: np.ndarray
    freq: str
    tz: str | None
    target: str
    features: tuple[str, ...]
    time_col: str
    id_col: str | None
    filled: int
    source: str
    made_up: np.ndarray | None = None


def read_series(
    source: str | os.PathLike[str],
    *,
    target: str | None = None,
    time_col: str | None = None,
    id_col: str | None = None,
    features: Sequence[str] = (),
    freq: str | None = None,
    fill: str = "interpolate",
    stdin: IO[bytes] | None = None,
) -> SeriesSet:
    """Read a CSV, CSV.gz or Parquet file ("-": CSV from `stdin`, default sys.stdin.buffer).

    The format is recognised by content (Parquet and gzip magic bytes), the encoding is
    UTF-8 (BOM or not) with a Latin-1 fallback, the separator comma, semicolon or tab.
    Columns not given are detected: the time column by name (date, time, timestamp, ds,
    ...) then by content; the target as the only numeric column left. With `id_col`,
    each id is its own series. `freq` (a pandas alias) is inferred when not given; all
    series must share it. Missing timestamps on the grid are inserted and, like empty
    cells, filled by `fill`: "interpolate" (linear in time, ends take the nearest value),
    "ffill" (then back-fill at the start) or "error".

    Time zones: timestamps with UTC offsets are kept as wall-clock time in the first
    row's offset (tz "+01:00", "UTC", or a Parquet column's zone name). When offsets vary
    (daylight saving) and every timestamp is a midnight, the calendar dates are kept as
    written instead, so daily data stays daily.

    Raises DataError (file or data unusable) or ConfigError (bad option), one line each.
    """
    if fill not in FILLS:
        raise ConfigError(f"--fill must be one of {', '.join(FILLS)}, got {fill!r}")
    features = (features,) if isinstance(features, str) else tuple(features)
    raw, name, suffix = _read_bytes(source, stdin)
    table = _load_table(raw, name, suffix)
    roles = _pick_columns(table, target=target, time_col=time_col, id_col=id_col, features=features)
    times, tz = _parse_times(table, roles.time_col)
    codes, ids = _series_codes(table, roles.id_col, roles.target)
    columns = (roles.target, *roles.features)
    values = np.column_stack([_to_float(table, c) for c in columns])
    _reject_inf(table, values, columns)

    ticks = times.view(np.int64)
    order = np.arange(len(ticks))
    step = np.diff(codes)
    if not ((step > 0) | ((step == 0) & (np.diff(ticks) >= 0))).all():
        order = np.lexsort((ticks, codes))  # stable: by series, then time
    codes, ticks, values = codes[order], ticks[order], values[order]
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=len(ids)), out=offsets[1:])
    _reject_duplicates(table, ticks, codes, order, ids, roles.id_col)

    alias = _normalise_freq(freq) if freq is not None else _infer_frequency(table, ticks, offsets, ids)
    grid = _regular_grid(table, ticks, offsets, order, ids, alias)
    filled_values = grid.values_from(values)
    missing = np.isnan(filled_values)
    _fill_missing(table, filled_values, missing, grid, ids, columns, fill)
    return SeriesSet(
        values=np.ascontiguousarray(filled_values),
        offsets=grid.offsets,
        ids=ids,
        times=grid.ticks.view("datetime64[ns]"),
        freq=alias,
        tz=tz,
        target=roles.target,
        features=roles.features,
        time_col=roles.time_col,
        id_col=roles.id_col,
        filled=int(missing.sum()),
        source=os.fspath(source),
        made_up=missing[:, 0].copy(),
    )


# ---------------------------------------------------------------------------------------
# Bytes and formats


@dataclass(frozen=True)
class _Table:
    """Columns as read, before interpretation, and how to point the user at a row."""

    name: str
    columns: dict[str, pa.ChunkedArray]
    row_number: Callable[[int], int]
    as_text: Callable[[str], pa.ChunkedArray] | None  # CSV: re-read one column verbatim
    decimal_comma: bool = False  # "3,14" may mean 3.14: only when commas do not separate

    def at(self, row: int) -> str:
        return f"{self.name}: row {self.row_number(int(row))}"


def _read_bytes(source: str | os.PathLike[str], stdin: IO[bytes] | None) -> tuple[bytes, str, str]:
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


def _load_table(raw: bytes, name: str, suffix: str) -> _Table:
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


def _read_parquet(raw: bytes, name: str) -> _Table:
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
    return _Table(name, _require_rows(columns, name), lambda i: i + 1, None)


def _read_csv(raw: bytes, name: str) -> _Table:
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

    return _Table(name, _require_rows(columns, name), lines, as_text, decimal_comma=sep != ",")


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


# ---------------------------------------------------------------------------------------
# Columns and their roles


@dataclass(frozen=True)
class _Roles:
    time_col: str
    id_col: str | None
    target: str
    features: tuple[str, ...]


def _pick_columns(
    table: _Table, *, target: str | None, time_col: str | None, id_col: str | None, features: tuple[str, ...]
) -> _Roles:
    names = list(table.columns)
    for column, option in [(time_col, "--time-col"), (id_col, "--id-col"), (target, "--target")] + [
        (f, "--features") for f in features
    ]:
        if column is not None and column not in table.columns:
            raise DataError(f"{table.name}: column {column!r} ({option}) not found; the columns are: {_listing(names)}")
    given = [c for c in (time_col, id_col, target, *features) if c is not None]
    repeated = sorted({c for c in given if given.count(c) > 1})
    if repeated:
        raise ConfigError(
            f"column {repeated[0]!r} is given more than one role (time, id, target, feature); give it one"
        )
    taken = {c for c in (id_col, target, *features) if c is not None}
    if time_col is None:
        time_col = _find_time_column(table, [c for c in names if c not in taken])
    taken.add(time_col)
    if target is None:
        target = _find_target(table, [c for c in names if c not in taken])
    return _Roles(time_col, id_col, target, features)


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:20])
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _find_time_column(table: _Table, candidates: list[str]) -> str:
    exact = [c for c in candidates if _norm(c) in _TIME_NAMES]
    partial = [c for c in candidates if c not in exact and ("date" in _norm(c) or "time" in _norm(c))]
    named = exact + partial
    for column in named + [c for c in candidates if c not in named]:
        if _looks_like_times(table.columns[column]):
            return column
    if named:
        return named[0]  # parsing it will say which value is not a date
    raise DataError(
        f"{table.name}: found no column of dates or times among {_listing(candidates)}; pass --time-col NAME"
    )


def _looks_like_times(column: pa.ChunkedArray) -> bool:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return True
    if not _is_text(kind):
        return False
    sample = column.drop_null().slice(0, 20).combine_chunks().cast(pa.string()).to_pylist()
    if not sample:
        return False
    zoned = re.compile(_ZONED)
    try:
        bodies = [m["body"] if (m := zoned.match(v.strip())) else v for v in sample]
        _parse_wall_clock(np.asarray(bodies, dtype=object))
    except _BadDate:
        return False
    return True


def _find_target(table: _Table, candidates: list[str]) -> str:
    import pyarrow as pa

    # pandas writes its index as an unnamed first column: never a target.
    usable = [c for c in candidates if not c.startswith("Unnamed: ")]
    kinds = {c: table.columns[c].type for c in usable}
    numeric = [c for c in usable if _is_number(kinds[c]) and not pa.types.is_boolean(kinds[c])]
    if len(numeric) == 1:
        return numeric[0]
    if len(numeric) > 1:
        raise DataError(
            f"{table.name}: several numeric columns could be the target ({_listing(numeric)}); "
            "pass --target NAME (and --features for columns to use as inputs)"
        )
    if len(usable) == 1:
        return usable[0]  # converting it will name the first value that is not a number
    raise DataError(
        f"{table.name}: found no numeric column to forecast among {_listing(candidates)}; pass --target NAME"
    )


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind) or pa.types.is_null(kind)
    )


def _to_float(table: _Table, column: str) -> np.ndarray:
    """The column as float64, empty cells NaN; a value that is not a number is an error."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = table.columns[column]
    if _is_number(data.type):
        # safe=False: integers beyond 2**53 round to the nearest float instead of failing.
        return np.asarray(pc.cast(data, pa.float64(), safe=False).to_numpy(), dtype=np.float64)
    if not _is_text(data.type):
        raise DataError(f"{table.name}: column {column!r} holds {data.type} values, not numbers; pick another column")
    import pandas as pd

    text = pd.Series(pc.utf8_trim_whitespace(data.cast(pa.string())).to_numpy(), dtype=object)
    text = text.where(text != "")
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & numbers.isna()
    if bad.any():
        if table.decimal_comma:
            # As semicolon-separated European files write them. Not in comma-separated
            # files, where a quoted "1,234" more likely has a thousands separator.
            commas = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
            if not (text.notna() & commas.isna()).any():
                return commas.to_numpy(dtype=np.float64, na_value=np.nan)
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{table.at(row)}: column {column!r} has {text.iloc[row]!r}, which is not a number; "
            "fix or remove it (empty cells are filled)"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _reject_inf(table: _Table, values: np.ndarray, columns: Sequence[str]) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise DataError(
            f"{table.at(row)}: column {columns[col]!r} is {values[row, col]}; replace it with a number "
            "or leave the cell empty to have it filled"
        )


def _series_codes(table: _Table, id_col: str | None, target: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """(series code per row, ids in order of first appearance)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if id_col is None:
        n = len(next(iter(table.columns.values())))
        return np.zeros(n, dtype=np.int64), (target,)
    data = table.columns[id_col]
    if data.null_count:
        row = int(np.flatnonzero(data.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError(f"{table.at(row)}: column {id_col!r} (--id-col) is empty; every row needs a series id")
    if not _is_text(data.type) and table.as_text is not None:
        data = table.as_text(id_col)  # ids as written: "007" stays "007", not 7
    encoded = pc.dictionary_encode(data.cast(pa.string()).combine_chunks())
    return encoded.indices.to_numpy().astype(np.int64), tuple(encoded.dictionary.to_pylist())


# ---------------------------------------------------------------------------------------
# Time


class _BadDate(Exception):
    """Internal: index (into the parsed values) of the first value that is not a date."""

    def __init__(self, index: int, why: str) -> None:
        super().__init__(index, why)
        self.index = index
        self.why = why


def _parse_times(table: _Table, column: str) -> tuple[np.ndarray, str | None]:
    """(wall-clock times as datetime64[ns] per row, zone name or None)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = table.columns[column]
    kind = data.type
    if data.null_count:
        row = int(np.flatnonzero(data.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError(f"{table.at(row)}: column {column!r} has no timestamp; every row needs one")
    if pa.types.is_timestamp(kind) and kind.tz is not None and table.as_text is not None:
        # The CSV reader converted zoned text to UTC and dropped the offsets we need.
        data, kind = table.as_text(column), pa.string()
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        try:
            ticks = data.cast(pa.timestamp("ns", tz=getattr(kind, "tz", None))).to_numpy().view(np.int64)
        except pa.ArrowInvalid:
            raise DataError(
                f"{table.name}: column {column!r} has dates outside 1677..2262, which rnncast cannot hold"
            ) from None
        zone = getattr(kind, "tz", None)
        if zone is None:
            return ticks.view("datetime64[ns]"), None
        return _settle_zone(_wall_in_zone(ticks, zone), ticks, zone)
    if not _is_text(kind):
        raise DataError(
            f"{table.name}: column {column!r} holds {kind} values, not dates; rnncast needs dates like "
            "2024-01-31 or 2024-01-31 13:00 (pass --time-col NAME)"
        )
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(data.cast(pa.string()).combine_chunks()))
    codes = encoded.indices.to_numpy().astype(np.int64)
    uniques = encoded.dictionary
    parts = pc.extract_regex(uniques, _ZONED)
    zoned = np.asarray(parts.is_valid())

    def parse(strings: pa.Array) -> np.ndarray:
        try:
            return _parse_wall_clock(np.asarray(strings.to_pylist(), dtype=object))
        except _BadDate as bad:
            row = int(np.flatnonzero(codes == bad.index)[0])
            raise DataError(
                f"{table.at(row)}: column {column!r} has {uniques[bad.index].as_py()!r}, which {bad.why} "
                f"(the first row has {uniques[codes[0]].as_py()!r}); fix it or pass --time-col"
            ) from None

    if not zoned.any():
        return parse(uniques).view("datetime64[ns]")[codes], None
    if not zoned.all():
        with_zone = int(np.flatnonzero(zoned[codes])[0])
        without = int(np.flatnonzero(~zoned[codes])[0])
        raise DataError(
            f"{table.name}: column {column!r} mixes timestamps with a time zone (row "
            f"{table.row_number(with_zone)}) and without one (row {table.row_number(without)}); make them consistent"
        )
    wall = parse(parts.field("body"))[codes]
    offset = _zone_offsets(parts.field("zone"))[codes]
    return _settle_zone(wall, wall - offset, None)


def _parse_wall_clock(strings: np.ndarray) -> np.ndarray:
    """Naive date/time strings -> int64 ns, one format for all; raises _BadDate.

    Tried in order: ISO 8601 (any precision), then the format pandas guesses from the
    first value, month first and then day first (and, for a month name, both its full
    and its abbreviated form: pandas reads "May" as full). When several formats read
    every value (01.02.2020 is 1 February or 2 January), the one giving the most regular
    steps wins, the month-first one on a tie. The attempt that fails least names the
    first bad value. Never dateutil's per-value guessing, which can read 01/02 as
    January in one row and February in the next.
    """
    import pandas as pd
    from pandas.tseries.api import guess_datetime_format

    index = pd.Index(strings, dtype=object)
    attempts: list[str] = ["ISO8601"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when the format it guessed is day-first
        for dayfirst in (False, True):
            guessed = guess_datetime_format(str(strings[0]), dayfirst=dayfirst)
            variants = [guessed, guessed.replace("%B", "%b"), guessed.replace("%b", "%B")] if guessed else []
            attempts += [fmt for fmt in variants if fmt not in attempts]
    worst: np.ndarray | None = None
    readings: list[Any] = []
    for fmt in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = pd.to_datetime(index, format=fmt, errors="coerce")
            bad = np.asarray(parsed.isna())
        except (ValueError, TypeError, OverflowError):
            # e.g. a zone in some values only; count the attempt as failing everywhere.
            bad = np.ones(len(strings), dtype=bool)
        if not bad.any():
            readings.append(parsed)
            if fmt == "ISO8601":
                break  # unambiguous: year first
        elif worst is None or bad.sum() < worst.sum():
            worst = bad
    if readings:
        parsed = min(readings, key=_irregularity)  # min keeps the first of equals
        years = np.asarray(parsed.year)
        outside = np.flatnonzero((years < 1678) | (years > 2261))
        if outside.size:
            raise _BadDate(int(outside[0]), "is outside the years 1678..2261 that rnncast can hold")
        return np.asarray(parsed.as_unit("ns").asi8)
    assert worst is not None
    raise _BadDate(int(np.argmax(worst)), "is not a date")


def _irregularity(parsed: Any) -> int:
    """How many different steps lie between the distinct times: 1 for a regular grid."""
    ticks = np.unique(np.asarray(parsed.as_unit("s").asi8))
    return len(np.unique(np.diff(ticks)))


def _zone_offsets(zones: pa.Array) -> np.ndarray:
    """'Z', 'UTC', '+01:00', '-0530', '+02' -> UTC offset in ns, parsing each distinct zone once."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(zones)
    per_zone = []
    for text in encoded.dictionary.to_pylist():
        if text.upper() in ("Z", "UTC", "GMT"):
            per_zone.append(0)
            continue
        digits = text[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        per_zone.append((-1 if text[0] == "-" else 1) * minutes * 60 * _SECOND_NS)
    return np.asarray(per_zone, dtype=np.int64)[encoded.indices.to_numpy()]


def _wall_in_zone(utc: np.ndarray, zone: str) -> np.ndarray:
    import pandas as pd

    index = pd.DatetimeIndex(utc.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
    return np.asarray(index.tz_localize(None).as_unit("ns").asi8)


def _settle_zone(wall: np.ndarray, utc: np.ndarray, zone: str | None) -> tuple[np.ndarray, str]:
    """Pick one zone for zoned timestamps (see read_series); returns (wall clock, zone name)."""
    offset = wall - utc
    first = int(offset[0])
    if (offset == first).all() or (wall % _DAY_NS == 0).all():
        return wall.view("datetime64[ns]"), zone or _offset_name(first)
    return (utc + first).view("datetime64[ns]"), _offset_name(first)


def _offset_name(offset_ns: int) -> str:
    if offset_ns == 0:
        return "UTC"
    minutes = abs(offset_ns) // (60 * _SECOND_NS)
    return f"{'-' if offset_ns < 0 else '+'}{minutes // 60:02d}:{minutes % 60:02d}"


def _reject_duplicates(
    table: _Table, ticks: np.ndarray, codes: np.ndarray, order: np.ndarray, ids: tuple[str, ...], id_col: str | None
) -> None:
    same = np.flatnonzero((codes[1:] == codes[:-1]) & (ticks[1:] == ticks[:-1]))
    if not same.size:
        return
    shown = []
    for i in same[:3]:
        when = _when(int(ticks[i]))
        where = f" in series {ids[codes[i]]!r}" if id_col else ""
        rows = sorted((table.row_number(int(order[i])), table.row_number(int(order[i + 1]))))
        shown.append(f"{when}{where} (rows {rows[0]} and {rows[1]})")
    more = f" and {same.size - 3} more" if same.size > 3 else ""
    hint = "" if id_col else "; if the file holds several series, pass --id-col"
    raise DataError(
        f"{table.name}: duplicate timestamps: {'; '.join(shown)}{more}; each timestamp may appear once per "
        f"series: remove or aggregate the duplicates{hint}"
    )


# ---------------------------------------------------------------------------------------
# Frequency


def _normalise_freq(freq: str) -> str:
    from pandas.tseries.frequencies import to_offset

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(to_offset(freq).freqstr)
    except (ValueError, TypeError):
        raise ConfigError(
            f"--freq {freq!r} is not a pandas frequency alias; use e.g. D (daily), B (business days), h (hourly), "
            "min, W (weekly), MS (month start), ME (month end), QS, YS"
        ) from None


def _pandas_infer(ticks: np.ndarray) -> str | None:
    import pandas as pd

    with warnings.catch_warnings():
        # pandas 3 announces that infer_freq will return an offset; both are handled.
        warnings.simplefilter("ignore")
        found = pd.infer_freq(pd.DatetimeIndex(ticks.view("datetime64[ns]")))
    return None if found is None else str(getattr(found, "freqstr", found))


def _infer_frequency(table: _Table, ticks: np.ndarray, offsets: np.ndarray, ids: tuple[str, ...]) -> str:
    """One frequency for all series; identical time indexes are inferred once."""
    chosen: str | None = None
    chosen_by = 0
    seen: dict[bytes, str | None] = {}
    for s in range(len(ids)):
        t = ticks[offsets[s] : offsets[s + 1]]
        if len(t) < 2:
            continue
        key = t.tobytes()
        if key not in seen:
            seen[key] = _infer_one(t, chosen)
        found = seen[key]
        if found is None:
            raise DataError(
                f"{table.name}: cannot infer the frequency of series {ids[s]!r}: its timestamps are irregular; "
                "pass --freq (e.g. D, B, h, MS)"
            )
        if chosen is None:
            chosen, chosen_by = found, s
        elif found != chosen:
            raise DataError(
                f"{table.name}: series {ids[chosen_by]!r} has frequency {chosen} but series {ids[s]!r} has "
                f"{found}; all series must share one: pass --freq to choose it"
            )
    if chosen is None:
        raise DataError(
            f"{table.name}: every series has a single timestamp, so no frequency can be inferred; pass --freq"
        )
    return chosen


def _infer_one(t: np.ndarray, candidate: str | None) -> str | None:
    """A frequency for one series: whole, an already chosen one, clean stretches, common step."""
    if len(t) >= 3 and (found := _pandas_infer(t)):
        return found
    if candidate is not None and _fits(t, candidate, _FAST_MISSING):
        return candidate
    if len(t) > _STRETCH:
        firsts = np.unique(np.linspace(0, len(t) - _STRETCH, num=min(64, len(t) - _STRETCH + 1)).astype(np.int64))
        votes = Counter(f for i in firsts if (f := _pandas_infer(t[i : i + _STRETCH])))
        if votes:
            found = votes.most_common(1)[0][0]
            if _fits(t, found, 0.5):
                return found
    found = _from_common_step(t)
    return found if found is not None and _fits(t, found, 0.5) else None


def _from_common_step(t: np.ndarray) -> str | None:
    """Map the most common difference between timestamps to an alias."""
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    steps, counts = np.unique(np.diff(t), return_counts=True)
    step = int(steps[np.argmax(counts)])
    if step % _DAY_NS:
        return str(to_offset(pd.Timedelta(step, unit="ns")).freqstr)
    days = step // _DAY_NS
    stamps = pd.DatetimeIndex(t.view("datetime64[ns]"))
    if days == 7:
        return f"W-{stamps[0].day_name()[:3].upper()}"
    period = "M" if 28 <= days <= 31 else "Q" if 89 <= days <= 92 else "Y" if 365 <= days <= 366 else None
    if period is None:
        return "D" if days == 1 else f"{days}D"
    if (stamps.day == 1).all():
        edge = "S"
    elif stamps.is_month_end.all():
        edge = "E"
    else:
        return None  # e.g. monthly on the 15th: no alias; the user must regularise
    if period == "M":
        return f"M{edge}"
    # Quarters and years are anchored on a month; the first timestamp's month is one.
    return f"{period}{edge}-{stamps[0].month_name()[:3].upper()}"


def _fits(t: np.ndarray, alias: str, max_missing: float) -> bool:
    """All of t on the alias grid from t[0] to t[-1], missing at most that share of it."""
    grid = _grid(int(t[0]), int(t[-1]), alias, limit=int(len(t) / (1.0 - max_missing)) + 2)
    if grid is None or not len(grid):  # empty: t[0] is not on an anchored alias (W-SUN, ...)
        return False
    pos = np.minimum(np.searchsorted(grid, t), len(grid) - 1)
    return bool((grid[pos] == t).all())


def _grid(first: int, last: int, alias: str, limit: int) -> np.ndarray | None:
    """Grid ticks (int64 ns) from first to last, or None if it would exceed `limit` points."""
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    offset = to_offset(alias)
    start = pd.Timestamp(first, unit="ns")
    try:
        # Bound the size before building it: a typo'd year at a fine frequency would
        # otherwise allocate billions of points. The shortest step gives an upper bound.
        shortest = int(np.diff(pd.date_range(start, periods=8, freq=offset, unit="ns").asi8).min())
        if (last - first) // shortest + 1 > 3 * limit:
            return None
        ticks = np.asarray(pd.date_range(start, pd.Timestamp(last, unit="ns"), freq=offset, unit="ns").asi8)
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return None  # steps so long the grid leaves the representable years
    return ticks if len(ticks) <= limit else None


# ---------------------------------------------------------------------------------------
# Regular grid and filling


@dataclass(frozen=True)
class _Grid:
    ticks: np.ndarray  # (M,) int64 ns, every series' grid stacked
    offsets: np.ndarray  # (S+1,) int64 into the grid
    position: np.ndarray  # (N,) int64: grid row of each sorted input row
    source: np.ndarray  # (M,) int64: file data row of each grid row, -1 where inserted

    def values_from(self, values: np.ndarray) -> np.ndarray:
        """Sorted input rows placed on the grid, NaN in inserted rows (no copy without gaps)."""
        if len(self.ticks) == len(values):
            return values
        out = np.full((len(self.ticks), values.shape[1]), np.nan)
        out[self.position] = values
        return out


def _regular_grid(
    table: _Table, ticks: np.ndarray, offsets: np.ndarray, order: np.ndarray, ids: tuple[str, ...], alias: str
) -> _Grid:
    grids: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    cache: dict[tuple[int, int], np.ndarray] = {}
    start = 0
    new_offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    for s in range(len(ids)):
        t = ticks[offsets[s] : offsets[s + 1]]
        key = (int(t[0]), int(t[-1]))
        if key not in cache:
            # More than twice as many grid points as rows: the frequency is wrong or a
            # timestamp is a typo; filling would invent most of the series.
            grid = _grid(key[0], key[1], alias, limit=2 * len(t) + 2)
            if grid is None:
                raise DataError(
                    f"{table.name}: series {ids[s]!r} has {len(t)} rows from {_when(key[0])} to {_when(key[1])}, "
                    f"but at frequency {alias} that span needs more than twice as many; check --freq and the timestamps"
                )
            cache[key] = grid
        grid = cache[key]
        pos = np.searchsorted(grid, t)
        # An empty grid: the first timestamp is not on an anchored alias (a Wednesday for W-SUN).
        off = np.flatnonzero(grid[np.minimum(pos, len(grid) - 1)] != t) if len(grid) else np.zeros(1, np.int64)
        if off.size:
            i = int(off[0])
            raise DataError(
                f"{table.at(order[offsets[s] + i])}: timestamp {_when(int(t[i]))} does not fit frequency {alias} "
                f"(counted from the series' first timestamp, {_when(key[0])}); check --freq and the timestamps"
            )
        grids.append(grid)
        positions.append(pos + start)
        start += len(grid)
        new_offsets[s + 1] = start
    position = np.concatenate(positions)
    if start == len(ticks):
        return _Grid(ticks, offsets, position, order)
    source = np.full(start, -1, dtype=np.int64)
    source[position] = order
    return _Grid(np.concatenate(grids), new_offsets, position, source)


def _when(tick: int) -> str:
    stamp = np.datetime64(tick, "ns")
    return str(np.datetime_as_string(stamp, unit="D" if tick % _DAY_NS == 0 else "s"))


def _fill_missing(
    table: _Table, values: np.ndarray, missing: np.ndarray, grid: _Grid, ids: tuple[str, ...],
    columns: Sequence[str], how: str,
) -> None:
    """Fill NaN cells of `values` (M, F) in place, series by series."""
    if not missing.any():
        return
    lengths = np.diff(grid.offsets)
    series_of_row = np.repeat(np.arange(len(ids)), lengths)
    if how == "error":
        row, col = (int(v) for v in np.argwhere(missing)[0])
        s = series_of_row[row]
        if grid.source[row] < 0:
            raise DataError(
                f"{table.name}: series {ids[s]!r} has no row for {_when(int(grid.ticks[row]))}, a gap at its "
                "frequency; pass --fill interpolate or --fill ffill, or add the row"
            )
        raise DataError(
            f"{table.at(grid.source[row])}: column {columns[col]!r} is empty; pass --fill interpolate or "
            "--fill ffill, or fill it in"
        )
    # A column with nothing to fill from cannot be filled by any policy.
    has_value = np.logical_or.reduceat(~missing, grid.offsets[:-1], axis=0)  # (S, F)
    empty = np.argwhere(~has_value)
    if empty.size:
        s, col = (int(v) for v in empty[0])
        raise DataError(f"{table.name}: series {ids[s]!r} has no values in column {columns[col]!r}")
    if how == "ffill":
        _forward_fill(values, missing, grid.offsets, series_of_row)
        return
    x = grid.ticks
    for s in np.flatnonzero(np.logical_or.reduceat(missing.any(axis=1), grid.offsets[:-1])):
        lo, hi = grid.offsets[s], grid.offsets[s + 1]
        xs = (x[lo:hi] - x[lo]).astype(np.float64)  # relative: keeps float precision
        for col in np.flatnonzero(missing[lo:hi].any(axis=0)):
            gap = missing[lo:hi, col]
            column = values[lo:hi, col]
            # np.interp holds the end values outside the known points: nearest-value ends.
            column[gap] = np.interp(xs[gap], xs[~gap], column[~gap])


def _forward_fill(values: np.ndarray, missing: np.ndarray, offsets: np.ndarray, series_of_row: np.ndarray) -> None:
    n = len(values)
    first_row = offsets[:-1][series_of_row]
    rows = np.arange(n)
    for col in np.flatnonzero(missing.any(axis=0)):
        known = ~missing[:, col]
        previous = np.maximum.accumulate(np.where(known, rows, -1))
        following = np.minimum.accumulate(np.where(known, rows, n)[::-1])[::-1]
        # A previous value from another series does not count: back-fill from the next,
        # which lies in the same series because every series has a value in this column.
        take = np.where(previous >= first_row, previous, following)
        values[:, col] = values[take, col]


# ---------------------------------------------------------------------------------------
# Forecasts out


def write_forecast(
    table: Mapping[str, np.ndarray],
    fmt: str,
    dest: IO[bytes] | str | os.PathLike[str],
    *,
    tz: str | None = None,
) -> None:
    """Write equal-length columns, in the mapping's order, as CSV, JSON or Parquet.

    CSV: a header, no index, floats as `.10g`, missing values as empty cells, times as
    ISO 8601. JSON: one array of records, one record per line, times as ISO strings,
    missing values null. Parquet: typed columns via pyarrow. datetime64 columns hold
    naive wall-clock times; with `tz` (a zone name such as "Europe/Paris", "+01:00" or
    "UTC", e.g. SeriesSet.tz) they are written with their UTC offset, except dates
    (all midnights), which stay plain dates.

    `dest` is a binary stream (written and flushed, not closed) or a path, which is
    replaced atomically. An unwritable path raises ConfigError.
    """
    fmt = fmt.lower()
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    columns = {str(name): np.asarray(column) for name, column in table.items()}
    lengths = {len(column) for column in columns.values()}
    if len(lengths) > 1 or any(column.ndim != 1 for column in columns.values()):
        raise ValueError(f"forecast columns must be 1-D and of equal length, got lengths {sorted(lengths)}")
    if fmt == "csv":
        chunks: Iterator[bytes | memoryview] = _csv_chunks(columns, tz)
    elif fmt == "json":
        chunks = _json_chunks(columns, tz)
    else:
        chunks = iter([_parquet_bytes(columns, tz)])
    if isinstance(dest, (str, os.PathLike)):
        atomic_write(dest, chunks, error=ConfigError, what="the forecast")
        return
    for chunk in chunks:
        dest.write(chunk)
    dest.flush()


def _csv_chunks(columns: dict[str, np.ndarray], tz: str | None) -> Iterator[bytes | memoryview]:
    # Rows are joined by hand rather than through csv.writer (3x slower on large
    # forecasts); only text cells can need quoting, and _as_text quotes those.
    yield (",".join(_csv_quote(str(name)) for name in columns) + "\n").encode("utf-8")
    n = len(next(iter(columns.values()), ()))
    for lo in range(0, n, _CSV_BLOCK):
        texts = [_as_text(column[lo : lo + _CSV_BLOCK], tz) for column in columns.values()]
        yield ("\n".join(map(",".join, zip(*texts))) + "\n").encode("utf-8")


def _csv_quote(text: str) -> str:
    """RFC 4180 quoting, only where needed (as csv.QUOTE_MINIMAL)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _as_text(column: np.ndarray, tz: str | None) -> list[str]:
    """CSV cells: .10g floats, ISO times, empty for NaN and NaT, quoted text where needed."""
    kind = column.dtype.kind
    if kind == "f":
        cells = [f"{v:.10g}" for v in column.tolist()]
        # NaN is an empty cell; values within 1e-10 of the largest float would overflow
        # when rounded to 10 digits, so they keep every digit.
        for i in np.flatnonzero(np.isnan(column) | (np.abs(column) >= 1e308)):
            cells[i] = "" if np.isnan(column[i]) else repr(float(column[i]))
        return cells
    if kind == "M":
        return [v or "" for v in _iso_times(column, tz)]
    if kind in "biu":
        return list(map(str, column.tolist()))
    return [_csv_quote(str(v)) for v in column.tolist()]


def _json_chunks(columns: dict[str, np.ndarray], tz: str | None) -> Iterator[bytes | memoryview]:
    names = list(columns)
    n = len(next(iter(columns.values()), ()))
    yield b"["
    for lo in range(0, n, _CSV_BLOCK):
        cells = [_as_json(column[lo : lo + _CSV_BLOCK], tz) for column in columns.values()]
        records = (json.dumps(dict(zip(names, row)), ensure_ascii=False) for row in zip(*cells))
        yield (("\n" if lo == 0 else ",\n") + ",\n".join(records)).encode("utf-8")
    yield b"\n]\n" if n else b"]\n"


def _as_json(column: np.ndarray, tz: str | None) -> list[Any]:
    kind = column.dtype.kind
    if kind == "f":
        return [v if math.isfinite(v) else None for v in column.tolist()]
    if kind == "M":
        return _iso_times(column, tz)
    if kind in "biu":
        return column.tolist()
    return [str(v) for v in column.tolist()]


def _iso_times(column: np.ndarray, tz: str | None) -> list[str | None]:
    """ISO 8601 strings at the coarsest precision that loses nothing; None for NaT."""
    ticks = column.astype("datetime64[ns]")
    valid = ~np.isnat(ticks)
    known = ticks[valid].view(np.int64)
    for unit, ns in (("D", _DAY_NS), ("s", _SECOND_NS), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        if (known % ns == 0).all():
            break
    texts = np.datetime_as_string(ticks, unit=unit).tolist()
    if tz is not None and unit != "D":
        texts = [t + z for t, z in zip(texts, _utc_offsets(ticks, tz))]
    if valid.all():
        return texts
    return [t if ok else None for t, ok in zip(texts, valid.tolist())]


def _utc_offsets(ticks: np.ndarray, tz: str) -> list[str]:
    """'+hh:mm' for each wall-clock time in zone tz (fixed offsets parse without a zone database)."""
    fixed = re.fullmatch(r"([+-])(\d\d):?(\d\d)", tz)
    if fixed or tz.upper() in ("UTC", "Z", "GMT"):
        text = f"{fixed[1]}{fixed[2]}:{fixed[3]}" if fixed else "+00:00"
        return [text] * len(ticks)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {tz!r}") from None
    # Forecasts repeat the same few timestamps across series: look each up once.
    distinct, inverse = np.unique(ticks, return_inverse=True)
    texts = []
    for stamp in distinct.astype("datetime64[us]").tolist():
        offset = stamp.replace(tzinfo=zone).utcoffset() if stamp is not None else None
        minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
        sign = "-" if minutes < 0 else "+"
        texts.append(f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
    return [texts[i] for i in inverse.ravel().tolist()]


def _parquet_bytes(columns: dict[str, np.ndarray], tz: str | None) -> memoryview:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    arrays = []
    for column in columns.values():
        if column.dtype.kind == "M":
            array = pa.array(column.astype("datetime64[ns]"))
            if tz is not None:
                try:
                    array = pc.assume_timezone(array, timezone=tz, ambiguous="earliest", nonexistent="earliest")
                except pa.ArrowInvalid:
                    raise ConfigError(f"unknown time zone {tz!r}") from None
        else:
            array = pa.array(column)
        arrays.append(array)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(arrays, names=list(columns)), sink)
    return memoryview(sink.getvalue())
