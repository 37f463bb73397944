"""Forecasts out: `write_forecast` and its CSV, JSON and Parquet encoders.

CSV and JSON need neither pandas nor pyarrow; Parquet imports pyarrow when it runs.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

import numpy as np

from rnncast.atomic import atomic_write
from rnncast.config import OUTPUT_FORMATS
from rnncast.errors import ConfigError
from rnncast.io.times import DAY_NS, SECOND_NS

_CSV_BLOCK = 65_536


def write_forecast(
    table: Mapping[str, np.ndarray],
    fmt: str,
    dest: IO[bytes] | str | os.PathLike[str],
    *,
    tz: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write equal-length columns, in the mapping's order, as CSV, JSON or Parquet.

    CSV: a header, no index, floats as `.10g`, missing values as empty cells, times as
    ISO 8601. JSON: one array of records, one record per line, times as ISO strings,
    missing values null. Parquet: typed columns via pyarrow. datetime64 columns hold
    naive wall-clock times; with `tz` (a zone name such as "Europe/Paris", "+01:00" or
    "UTC", e.g. SeriesSet.tz) they are written with their UTC offset, except dates
    (all midnights), which stay plain dates.

    `dest` is a binary stream (written and flushed, not closed) or a path, which is
    replaced atomically. An unwritable path raises ConfigError. `metadata`: key-value
    pairs for the Parquet file's schema (what made it), ignored by the other formats.
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
        chunks = iter([_parquet_bytes(columns, tz, metadata)])
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
        return [v or "" for v in iso_times(column, tz)]
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
        return iso_times(column, tz)
    if kind in "biu":
        return column.tolist()
    return [str(v) for v in column.tolist()]


def iso_times(column: np.ndarray, tz: str | None) -> list[str | None]:
    """ISO 8601 strings at the coarsest precision that loses nothing; None for NaT."""
    ticks = column.astype("datetime64[ns]")
    valid = ~np.isnat(ticks)
    known = ticks[valid].view(np.int64)
    for unit, ns in (("D", DAY_NS), ("s", SECOND_NS), ("ms", 10**6), ("us", 10**3), ("ns", 1)):  # noqa: B007
        if (known % ns == 0).all():
            break
    texts = np.datetime_as_string(ticks, unit=unit).tolist()  # type: ignore[call-overload]  # str unit
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


def _parquet_bytes(columns: dict[str, np.ndarray], tz: str | None, metadata: Mapping[str, str] | None) -> memoryview:
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
    table = pa.table(arrays, names=list(columns))
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    pq.write_table(table, sink)
    return memoryview(sink.getvalue())
