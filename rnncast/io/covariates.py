"""Covariates beyond the series' own past: per-series attributes (--static) and the forecast steps' known values.

The future is given the long way peers use: rows after a series' last observed target,
the target empty and the known columns filled (in `--data`, or alone in `--future`).
`align_future` puts them on the forecast steps and names exactly what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np

from rnncast.errors import DataError
from rnncast.io.columns import series_codes, to_float
from rnncast.io.folder import open_table
from rnncast.io.sources import Table, is_text
from rnncast.io.times import format_tick, parse_times, reject_duplicates


@dataclass(frozen=True, eq=False)
class FutureRows:
    """Known columns' values at timestamps after each series' history: series s is rows offsets[s]:offsets[s+1]."""

    times: np.ndarray  # (M,) datetime64[ns], sorted within each series
    values: np.ndarray  # (M, Kn) float64, NaN where empty
    offsets: np.ndarray  # (S+1,) int64
    rows: np.ndarray  # (M,) the file's row numbers, for messages
    source: str
    tz: str | None = None


def static_values(table: Table, names: Sequence[str], codes: np.ndarray, ids: Sequence[str]
                  ) -> dict[str, np.ndarray]:
    """{column: (S,) its one value per series}: float64 for numbers, str objects for text.

    A column that is empty for a series, or holds two values within one, is a DataError
    naming the series and rows.
    """
    import pyarrow as pa

    out: dict[str, np.ndarray] = {}
    for name in names:
        column = table.columns[name]
        if is_text(column.type):
            raw = column.cast(pa.string()).to_numpy(zero_copy_only=False)
            values = np.array([None if v is None else str(v).strip() for v in raw], dtype=object)
            empty = np.array([v is None or v == "" for v in values])
        else:
            values = to_float(table, name)
            empty = np.isnan(values)
        out[name] = _one_per_series(table, values, empty, codes, ids, f"static column {name!r} (--static)",
                                    "its attribute", "a static attribute has one value per series (time-varying "
                                    "inputs go in --known or --features)")
    return out


def group_values(table: Table, name: str, codes: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """(S,) str objects: each series' value of the --by column, as written ("007" stays "007")."""
    import pyarrow as pa

    column = table.columns[name]
    if not is_text(column.type) and table.as_text is not None:
        column = table.as_text(name)  # as ids are read: the text in the file, not a float's repr
    raw = column.cast(pa.string()).to_numpy(zero_copy_only=False)
    values = np.array([None if v is None else str(v).strip() for v in raw], dtype=object)
    empty = np.array([v is None or v == "" for v in values], dtype=bool)
    return _one_per_series(table, values, empty, codes, ids, f"column {name!r} (--by)", "its group",
                           "--by fits one model per group, so each series belongs to one group")


def _one_per_series(table: Table, values: np.ndarray, empty: np.ndarray, codes: np.ndarray, ids: Sequence[str],
                    what: str, needs: str, why: str) -> np.ndarray:
    """(S,) the one value of each series, or a DataError naming the series and rows where it is empty or varies."""
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise DataError(f"{table.at(row)}: {what} is empty for series {ids[codes[row]]!r}; every row of a series "
                        f"needs {needs}")
    first = np.full(len(ids), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # each series' first row in the file
    per_series = values[first]
    differs = np.flatnonzero(values != per_series[codes])
    if differs.size:
        row = int(differs[0])
        s = int(codes[row])
        raise DataError(f"{table.name}: {what} varies within series {ids[s]!r}: "
                        f"{_show(per_series[s])} in row {table.row_number(int(first[s]))}, "
                        f"{_show(values[row])} in row {table.row_number(row)}; {why}")
    return per_series


def split_future(target: np.ndarray, offsets: np.ndarray, ids: Sequence[str], name: str) -> np.ndarray:
    """(N,) bool: rows (sorted by series, then time; series s is offsets[s]:offsets[s+1]) after
    their series' last observed target.

    Those rows are the future, never history to fill: their known columns are the forecast
    steps' inputs. A series with no observed target at all is a DataError.
    """
    observed = np.where(~np.isnan(target), np.arange(len(target)), -1)
    last = np.maximum.reduceat(observed, offsets[:-1]) if len(target) else np.zeros(0, np.int64)
    empty = np.flatnonzero(last < 0)
    if empty.size:
        raise DataError(f"{name}: series {ids[int(empty[0])]!r} has no value of the target at all; "
                        "give its history, or leave the series out")
    return np.arange(len(target)) > np.repeat(last, np.diff(offsets))


def future_rows(times: np.ndarray, values: np.ndarray, codes: np.ndarray, rows: np.ndarray, n_series: int,
                source: str, tz: str | None) -> FutureRows:
    """The FutureRows of rows already sorted by series then time."""
    offsets = np.zeros(n_series + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_series), out=offsets[1:])
    return FutureRows(times.view("datetime64[ns]"), values, offsets, rows, source, tz)


def read_future(source: str | os.PathLike[str], *, time_col: str, id_col: str | None, known: Sequence[str],
                ids: Sequence[str], target: str, stdin: IO[bytes] | None = None) -> FutureRows:
    """`predict --future FILE`: the known columns' values at the forecast steps of series `ids`.

    The file holds the time column, the id column (a model with one) and the known
    columns; other columns (the target too) are ignored. Rows of ids not in `ids` are
    ignored.
    """
    table = open_table(source, stdin)
    for column, role in [(time_col, "time"), (id_col, "id"), *[(k, "known") for k in known]]:
        if column is not None and column not in table.columns:
            raise DataError(f"{table.name}: the model's {role} column {column!r} is not in the file of future "
                            f"values; it needs {', '.join(repr(c) for c in [time_col, id_col, *known] if c)}")
    times, tz = parse_times(table, time_col)
    codes, file_ids = series_codes(table, id_col, target)
    ticks = times.view(np.int64)
    order = np.lexsort((ticks, codes))
    reject_duplicates(table, ticks[order], codes[order], order, file_ids, id_col)
    values = np.column_stack([to_float(table, k) for k in known]) if known else np.zeros((len(ticks), 0))
    mapping = {n: s for s, n in enumerate(ids)}
    target_codes = np.array([mapping.get(n, -1) for n in file_ids], dtype=np.int64)[codes]
    keep = order[target_codes[order] >= 0]
    keep = keep[np.lexsort((ticks[keep], target_codes[keep]))]
    rows = np.array([table.row_number(int(r)) for r in keep], dtype=np.int64)
    return future_rows(ticks[keep], values[keep], target_codes[keep], rows, len(ids), table.name, tz)


def align_future(future: FutureRows | None, ids: Sequence[str], expected: np.ndarray, known: Sequence[str],
                 steps: int, notes: list[str] | None = None) -> np.ndarray:
    """(S, K, Kn) the known values at each series' forecast steps `expected` (S, K) datetime64[ns].

    The first `steps` must all be given; steps past them (not forecast) repeat the last
    given one. Missing, empty or off-grid values are a DataError naming the series, the
    column and the timestamps; rows past the horizon are ignored (noted in `notes`).
    """
    S, K = expected.shape
    out = np.full((S, K, len(known)), np.nan)
    beyond = 0
    hint = ("add rows after the last observed target with the target empty and the known columns filled "
            "(in --data), or give them with --future FILE")
    for s in range(S):
        lo, hi = (0, 0) if future is None else (int(future.offsets[s]), int(future.offsets[s + 1]))
        if hi > lo and future is not None:
            t = future.times[lo:hi].astype("datetime64[ns]")
            late = t > expected[s, -1]
            beyond += int(late.sum())
            at = np.searchsorted(expected[s], t)
            off = np.flatnonzero(~late & (expected[s][np.minimum(at, K - 1)] != t))
            if off.size:
                i = int(off[0])
                raise DataError(
                    f"{future.source}: row {future.rows[lo + i]}: future timestamp "
                    f"{format_tick(int(t[i].astype(np.int64)))} of series {ids[s]!r} is not one of its forecast "
                    f"steps ({_stamps(expected[s, :3])} ...); put future rows on the data's frequency")
            out[s, at[~late]] = future.values[lo:hi][~late]
        for c, column in enumerate(known):
            gap = np.flatnonzero(np.isnan(out[s, :steps, c]))
            if gap.size:
                more = f" and {gap.size - 3} more" if gap.size > 3 else ""
                where = f"{future.source}: " if future is not None else ""
                raise DataError(
                    f"{where}series {ids[s]!r} has no value of known column {column!r} for "
                    f"{_stamps(expected[s, gap[:3]])}{more} (of the {steps} forecast steps from "
                    f"{_stamps(expected[s, :1])}); {hint}")
    if beyond and notes is not None:
        notes.append(f"{beyond} future row{'s' if beyond != 1 else ''} past the horizon ignored")
    # Steps beyond those forecast: the last given value, so the network reads finite inputs.
    if steps < K:
        out[:, steps:] = out[:, steps - 1 : steps]
    return out


def _stamps(times: np.ndarray) -> str:
    return ", ".join(format_tick(int(v)) for v in np.asarray(times).astype("datetime64[ns]").astype(np.int64))


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else f"{float(value):g}"  # type: ignore[arg-type]
