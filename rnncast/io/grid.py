"""The regular grid: every series on its frequency's ticks, missing timestamps inserted, missing values filled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnncast.errors import DataError
from rnncast.io.sources import Table
from rnncast.io.times import format_tick


@dataclass(frozen=True)
class _Grid:
    ticks: np.ndarray  # (M,) int64 ns, every series' grid stacked
    offsets: np.ndarray  # (S+1,) int64 into the grid
    position: np.ndarray | None  # (N,) int64: grid row of each sorted input row (None: no gaps, the same row)
    source: np.ndarray  # (M,) int64: file data row of each grid row, -1 where inserted

    def values_from(self, values: np.ndarray) -> np.ndarray:
        """Sorted input rows placed on the grid, NaN in inserted rows (no copy without gaps)."""
        if self.position is None:
            return values
        out = np.full((len(self.ticks), values.shape[1]), np.nan)
        out[self.position] = values
        return out


def regular_grid(
    table: Table, ticks: np.ndarray, offsets: np.ndarray, order: np.ndarray, ids: tuple[str, ...], alias: str
) -> _Grid:
    grids: list[np.ndarray] = []
    positions: list[np.ndarray | None] = []
    cache: dict[tuple[int, int], np.ndarray] = {}
    start = 0
    new_offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    for s in range(len(ids)):
        t = ticks[offsets[s] : offsets[s + 1]]
        key = (int(t[0]), int(t[-1]))
        if key not in cache:
            # More than twice as many grid points as rows: the frequency is wrong or a
            # timestamp is a typo; filling would invent most of the series.
            grid = grid_ticks(key[0], key[1], alias, limit=2 * len(t) + 2)
            if grid is None:
                raise DataError(
                    f"{table.name}: series {ids[s]!r} has {len(t)} rows from {format_tick(key[0])} to "
                    f"{format_tick(key[1])}, "
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
                f"{table.at(order[offsets[s] + i])}: timestamp {format_tick(int(t[i]))} does not fit frequency {alias} "
                f"(counted from the series' first timestamp, {format_tick(key[0])}); check --freq and the timestamps"
            )
        grids.append(grid)
        positions.append(pos + start if len(grid) != len(t) else None)  # None: row i is grid row i
        start += len(grid)
        new_offsets[s + 1] = start
    if start == len(ticks):  # no gaps: the rows are the grid (no position array: it is every row's own)
        return _Grid(ticks, offsets, None, order)
    position = np.concatenate([p if p is not None else np.arange(new_offsets[s], new_offsets[s + 1])
                               for s, p in enumerate(positions)])
    source = np.full(start, -1, dtype=np.int64)
    source[position] = order
    return _Grid(np.concatenate(grids), new_offsets, position, source)


def grid_ticks(first: int, last: int, alias: str, limit: int) -> np.ndarray | None:
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


def fill_missing(
    table: Table, values: np.ndarray, missing: np.ndarray, grid: _Grid, ids: tuple[str, ...],
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
                f"{table.name}: series {ids[s]!r} has no row for {format_tick(int(grid.ticks[row]))}, a gap at its "
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
        for j in np.flatnonzero(missing[lo:hi].any(axis=0)):
            gap = missing[lo:hi, j]
            column = values[lo:hi, j]
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
