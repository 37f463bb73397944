"""Timestamps: parsing them (one format per column), their time zones, duplicates, and how messages show them."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from rnncast.errors import DataError
from rnncast.io.sources import Table, is_text

if TYPE_CHECKING:
    import pyarrow as pa

# A timestamp that ends in a zone: a clock time, then Z / UTC / GMT / +hh:mm / +hhmm / +hh.
_ZONED = r"^(?P<body>.*\d:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
DAY_NS = 86_400_000_000_000
SECOND_NS = 1_000_000_000


class _BadDate(Exception):
    """Internal: index (into the parsed values) of the first value that is not a date."""

    def __init__(self, index: int, why: str) -> None:
        super().__init__(index, why)
        self.index = index
        self.why = why


def looks_like_times(column: pa.ChunkedArray) -> bool:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return True
    if not is_text(kind):
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


def parse_times(table: Table, column: str) -> tuple[np.ndarray, str | None]:
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
    if not is_text(kind):
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
        per_zone.append((-1 if text[0] == "-" else 1) * minutes * 60 * SECOND_NS)
    return np.asarray(per_zone, dtype=np.int64)[encoded.indices.to_numpy()]


def _wall_in_zone(utc: np.ndarray, zone: str) -> np.ndarray:
    import pandas as pd

    index = pd.DatetimeIndex(utc.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
    return np.asarray(index.tz_localize(None).as_unit("ns").asi8)


def _settle_zone(wall: np.ndarray, utc: np.ndarray, zone: str | None) -> tuple[np.ndarray, str]:
    """Pick one zone for zoned timestamps (see read_series); returns (wall clock, zone name)."""
    offset = wall - utc
    first = int(offset[0])
    if (offset == first).all() or (wall % DAY_NS == 0).all():
        return wall.view("datetime64[ns]"), zone or _offset_name(first)
    return (utc + first).view("datetime64[ns]"), _offset_name(first)


def _offset_name(offset_ns: int) -> str:
    if offset_ns == 0:
        return "UTC"
    minutes = abs(offset_ns) // (60 * SECOND_NS)
    return f"{'-' if offset_ns < 0 else '+'}{minutes // 60:02d}:{minutes % 60:02d}"


def reject_duplicates(
    table: Table, ticks: np.ndarray, codes: np.ndarray, order: np.ndarray, ids: tuple[str, ...], id_col: str | None
) -> None:
    same = np.flatnonzero((codes[1:] == codes[:-1]) & (ticks[1:] == ticks[:-1]))
    if not same.size:
        return
    shown = []
    for i in same[:3]:
        when = format_tick(int(ticks[i]))
        where = f" in series {ids[codes[i]]!r}" if id_col else ""
        rows = sorted((table.row_number(int(order[i])), table.row_number(int(order[i + 1]))))
        shown.append(f"{when}{where} (rows {rows[0]} and {rows[1]})")
    more = f" and {same.size - 3} more" if same.size > 3 else ""
    hint = "" if id_col else "; if the file holds several series, pass --id-col"
    raise DataError(
        f"{table.name}: duplicate timestamps: {'; '.join(shown)}{more}; each timestamp may appear once per "
        f"series: remove or aggregate the duplicates{hint}"
    )


def format_tick(tick: int) -> str:
    stamp = np.datetime64(tick, "ns")
    return str(np.datetime_as_string(stamp, unit="D" if tick % DAY_NS == 0 else "s"))
