"""Read a file into a SeriesSet: the pipeline that runs sources, columns, times, cadence and grid in turn."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

import numpy as np

from rnncast.config import FILLS
from rnncast.errors import ConfigError, DataError
from rnncast.io.cadence import infer_frequency, normalise_freq
from rnncast.io.columns import pick_columns, reject_inf, series_codes, to_float
from rnncast.io.covariates import FutureRows, future_rows, group_values, split_future, static_values
from rnncast.io.folder import FolderTable, open_table
from rnncast.io.grid import fill_missing, regular_grid
from rnncast.io.times import parse_times, reject_duplicates


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
    known: columns of `values` after the features whose values are known in advance
    (also over the forecast steps); statics {column: (S,)} per-series attributes;
    future: the known columns' values after each series' history (rnncast.io.covariates).
    by, groups (S,) str: the --by column and each series' value of it (rnncast.groups).
    filled_per_series (S,): `filled` by series, so a subset of the series knows its own.
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
    known: tuple[str, ...] = ()
    statics: Mapping[str, np.ndarray] = field(default_factory=dict)
    future: FutureRows | None = None
    by: str | None = None
    groups: np.ndarray | None = None
    filled_per_series: np.ndarray | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of the columns of `values`: target, features, known."""
        return (self.target, *self.features, *self.known)

    def in_zone(self, tz: str | None) -> SeriesSet:
        """These series with their wall-clock times moved to zone `tz` (a model's).

        A model's timestamps (its last fitted row, its forecast times) are wall-clock times
        in its own zone; data written in another zone must be read in that one, or rows would
        count as new or old by the zones' difference and forecasts be labelled off by it.
        Unchanged when either zone is unknown (naive times).
        """
        if tz is None or self.tz is None or self.tz == tz:
            return self
        import pandas as pd

        try:
            moved = pd.DatetimeIndex(self.times).tz_localize(self.tz).tz_convert(tz).tz_localize(None)
        except Exception as error:  # ambiguous or missing wall-clock times at a DST change
            raise DataError(f"{self.source}: cannot move its times from zone {self.tz} to the model's zone "
                            f"{tz} ({error}); write the data in zone {tz}") from None
        return replace(self, times=np.asarray(moved.as_unit("ns").values), tz=tz)

    def fingerprint(self) -> str:
        """"sha256:..." of the values, series bounds, times and ids: which data a model was fitted on."""
        digest = hashlib.sha256()
        for part in (self.values, self.offsets, self.times.view(np.int64)):
            digest.update(np.ascontiguousarray(part).data)  # the buffer, not a copy of it
        digest.update("\x1f".join(self.ids).encode())
        return "sha256:" + digest.hexdigest()


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
    for_model: bool = False,
    known: Sequence[str] = (),
    static: Sequence[str] = (),
    by: str | None = None,
    files: Sequence[str | os.PathLike[str]] | None = None,
) -> SeriesSet:
    """Read a CSV, CSV.gz or Parquet file ("-": CSV from `stdin`, default sys.stdin.buffer), or a
    folder or glob of them (rnncast.io.folder: hive-partitioned folders add their keys as columns).

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

    `for_model`: the columns are a fitted model's, not options the user gave: a missing one
    is named as the model's.

    Rows after a series' last observed target are its future (SeriesSet.future), not gaps
    to fill: with `known` columns (read like features), their values at the forecast
    steps. `static` columns are read once per series (SeriesSet.statics), and so is `by`,
    as text (SeriesSet.groups): it needs `id_col`. `files`: of a folder or glob `source`,
    read only these (one partition), with their hive keys.

    Raises DataError (file or data unusable) or ConfigError (bad option), one line each.
    """
    if fill not in FILLS:
        raise ConfigError(f"--fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if by is not None and id_col is None:
        raise ConfigError(f"--by {by} fits one model per group of series: give the column naming the series "
                          "with --id-col")
    features = (features,) if isinstance(features, str) else tuple(features)
    table = open_table(source, stdin, None if files is None else [Path(f) for f in files])
    known, static = tuple(known), tuple(static)
    roles = pick_columns(table, target=target, time_col=time_col, id_col=id_col, features=features,
                         for_model=for_model, known=known, static=static, by=by)
    times, tz = parse_times(table, roles.time_col)
    codes, ids = series_codes(table, roles.id_col, roles.target)
    if isinstance(table, FolderTable) and ids != tuple(sorted(ids)):
        # Files come in any number and order: series in id order make the fit (its batches)
        # and every output the same however the data was partitioned.
        rank = np.argsort(np.argsort(np.array(ids, dtype=object))).astype(codes.dtype)
        codes, ids = rank[codes], tuple(sorted(ids))
    statics = static_values(table, static, codes, ids) if static else {}
    groups = group_values(table, by, codes, ids) if by is not None else None
    columns = (roles.target, *roles.features, *known)
    # One column (the usual target only) as a view: no second copy of the largest array.
    values = to_float(table, columns[0])[:, None] if len(columns) == 1 else \
        np.column_stack([to_float(table, c) for c in columns])
    if not values.flags.writeable:  # Arrow's own buffer, lent: filling writes in place
        values = values.copy()
    reject_inf(table, values, columns)
    table.release()  # the arrays hold what is needed now; the rest is names and row numbers

    ticks = times.view(np.int64)
    order = np.arange(len(ticks), dtype=np.int32 if len(ticks) < 2**31 else np.int64)
    step = np.diff(codes)
    if not ((step > 0) | ((step == 0) & (np.diff(ticks) >= 0))).all():
        order = np.lexsort((ticks, codes))  # stable: by series, then time
        codes, ticks, values = codes[order], ticks[order], values[order]  # no copies when already in order
    del step
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=len(ids)), out=offsets[1:])
    reject_duplicates(table, ticks, codes, order, ids, roles.id_col)
    # Rows after a series' last observed target are its future (known columns' values
    # at the forecast steps), never history to fill.
    future = None
    # Only a series whose last row has no target has a future (checked first: the test is cheap).
    ahead = split_future(values[:, 0], offsets, ids, table.name) if np.isnan(values[offsets[1:] - 1, 0]).any() \
        else None
    if ahead is not None and ahead.any():
        future = future_rows(ticks[ahead], values[ahead][:, 1 + len(roles.features):], codes[ahead],
                             np.array([table.row_number(int(r)) for r in order[ahead]], dtype=np.int64),
                             len(ids), table.name, tz)
        codes, ticks, values, order = codes[~ahead], ticks[~ahead], values[~ahead], order[~ahead]
        np.cumsum(np.bincount(codes, minlength=len(ids)), out=offsets[1:])

    alias = normalise_freq(freq) if freq is not None else infer_frequency(table, ticks, offsets, ids)
    grid = regular_grid(table, ticks, offsets, order, ids, alias)
    filled_values = grid.values_from(values)
    missing = np.isnan(filled_values)
    fill_missing(table, filled_values, missing, grid, ids, columns, fill)
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
        known=known,
        statics=statics,
        future=future,
        by=by,
        groups=groups,
        filled_per_series=np.add.reduceat(missing.sum(axis=1), grid.offsets[:-1]) if len(ids) else None,
    )
