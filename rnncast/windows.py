"""Scalers and sliding windows over stacked series, in plain NumPy.

All series share one array: `values` (N, F) float64 with column 0 the target, and
`offsets` (S+1,) int64 so that series s is rows offsets[s]:offsets[s+1], oldest first.
Shape letters: N rows, F columns, S series, T lookback, K horizon.

The split, in rows of each series of length n (start o):

    [o ........................ train_end)[train_end ............. o+n)
     training rows: scaler statistics      validation rows: targets of the
     and training windows (inputs and      validation windows, whose inputs may
     targets) come only from here          reach back T rows into the training part

so no validation value ever leaks into the scaler or into a training target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from rnncast.config import SCALERS, Scaler
from rnncast.errors import ConfigError, DataError

# Kinds a fitted scaler can be: "auto" is resolved (choose_scaler) before a scaler is fitted.
FITTED_SCALERS = tuple(kind for kind in SCALERS if kind != "auto")

# A spread below this fraction of the values' magnitude is rounding noise of a constant
# series (np.std of a constant 0.1 is about 1e-17, not 0); dividing by it would blow the
# series up, so such a column gets scale 1.
_CONSTANT_RTOL = 1e-12
# The largest magnitude a value may have: float64 reaches 1.8e308, and this leaves room
# for spreads and for forecasts beyond the data's range (scaled step * scale + loc).
MAX_ABS_VALUE = 1e300
# The network reads float32: unscaled values (--scaler none) must fit in it.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, eq=False)
class ScalerStats:
    """Per-series, per-column scaling: scaled = (x - loc) / scale.

    `loc` and `scale` are (S, F) float64, stored read-only; `scale` is positive and finite
    (a constant column gets scale 1, or 1e-12 x its magnitude beyond 1e12). eq=False:
    arrays have no single truth value, so instances compare by identity.
    """

    kind: str
    loc: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        if self.kind not in FITTED_SCALERS:
            raise ConfigError(f"--scaler must be one of {', '.join(FITTED_SCALERS)}, got {self.kind!r}")
        loc = np.array(self.loc, dtype=np.float64)
        scale = np.array(self.scale, dtype=np.float64)
        if loc.ndim != 2 or loc.shape != scale.shape:
            raise ValueError(f"loc and scale must both be (S, F), got {loc.shape} and {scale.shape}")
        if not (np.isfinite(loc).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("scaler statistics must be finite with a positive scale")
        loc.flags.writeable = False
        scale.flags.writeable = False
        object.__setattr__(self, "loc", loc)
        object.__setattr__(self, "scale", scale)

    def windows(self, history: np.ndarray, series_index: np.ndarray, columns: int | None = None) -> np.ndarray:
        """Windows (N, T, F) in original units -> scaled float64, window n by series series_index[n].

        `columns` keeps only the first that many columns (1: the target), of the data and the statistics.
        """
        loc, scale = self.loc[series_index, :columns], self.scale[series_index, :columns]  # (N, F)
        return (history[:, :, :columns] - loc[:, None, :]) / scale[:, None, :]


def choose_scaler(kind: Scaler, freq: str) -> Scaler:
    """The scaler a fit uses: `kind`, with "auto" decided by the data's frequency.

    A yearly series is mostly trend, so its standard deviation measures how far the level
    has travelled, not how much a year moves it; scaled by its mean yearly change instead,
    every series' steps are of one size, and the squared loss weighs series as MASE does.
    Measured on M3 (seed 0, sMAPE / MASE): the network alone on yearly 17.29 / 2.933 ->
    16.83 / 2.684; blended with Theta on other 4.86 / 2.309 -> 4.26 / 1.884; monthly and
    hourly (ETTh1) were worse, so they keep "standard".
    """
    from rnncast.frequency import YEAR_CODES, parse_alias

    if kind != "auto":
        return kind
    return "diff" if parse_alias(freq)[1] in YEAR_CODES else "standard"


def fit_scaler(kind: str, values: np.ndarray, offsets: np.ndarray, train_ends: np.ndarray, *,
               ids: Sequence[str] | None = None, columns: Sequence[str] | None = None) -> ScalerStats:
    """Fit per-series statistics on the training rows offsets[s]:train_ends[s] only.

    kind "standard": loc = mean, scale = population std (ddof=0); "diff": the same, except
    the target's scale, the mean absolute change from one row to the next; "minmax": loc =
    min, scale = max - min (training rows map to [0, 1]); "none": loc 0, scale 1.
    Values beyond +-MAX_ABS_VALUE (or, unscaled, beyond float32's range, which the
    network reads) raise DataError naming the series (`ids`) and column (`columns`).
    """
    if kind not in FITTED_SCALERS:
        raise ConfigError(f"--scaler must be one of {', '.join(FITTED_SCALERS)}, got {kind!r}")
    values, offsets = _check_values(values, offsets)
    ends = np.asarray(train_ends, dtype=np.int64)
    starts = offsets[:-1]
    if ends.shape != starts.shape or (ends <= starts).any() or (ends > offsets[1:]).any():
        raise ValueError("train_ends must give each series a non-empty training part inside the series")
    if not np.isfinite(values).all():
        raise DataError("the values contain NaN or infinity; fill or remove them before scaling")
    _check_magnitude(values, offsets, MAX_ABS_VALUE if kind != "none" else _FLOAT32_MAX, ids, columns,
                     "rescale the column (e.g. to other units)" if kind != "none" else
                     "use --scaler standard or minmax")
    n_series, n_cols = len(starts), values.shape[1]
    loc = np.zeros((n_series, n_cols))
    spread = np.ones((n_series, n_cols))
    if kind == "none":
        return ScalerStats(kind, loc, spread)
    magnitude = np.empty((n_series, n_cols))
    # One small reduction per series: S is at most a few thousand, and per-slice NumPy
    # reductions keep pairwise summation (a global cumsum would lose precision).
    for s in range(n_series):
        part = values[starts[s] : ends[s]]
        peak = np.abs(part).max(axis=0)  # (F,)
        # Work in units of a power of two near the peak: exact (no rounding changes), and
        # the squares of std cannot overflow for values beyond 1e154.
        unit = np.ldexp(1.0, np.frexp(np.where(peak > 0, peak, 1.0))[1])  # (F,)
        part = part / unit
        if kind in ("standard", "diff"):
            loc[s] = part.mean(axis=0) * unit
            spread[s] = part.std(axis=0) * unit
            if kind == "diff" and len(part) > 1:  # the target only: a 0/1 column's changes are rare
                spread[s, 0] = np.abs(np.diff(part[:, 0])).mean() * unit[0]
        else:
            low = part.min(axis=0)
            loc[s] = low * unit
            spread[s] = (part.max(axis=0) - low) * unit
        magnitude[s] = peak
    constant = ~(spread > _CONSTANT_RTOL * magnitude)
    # Scale 1, unless the values are so large (beyond 1e12) that the rounding noise of
    # x - loc would itself be large: a constant 1e100 would scale to about 1e84.
    spread[constant] = np.maximum(1.0, _CONSTANT_RTOL * magnitude[constant])
    return ScalerStats(kind, loc, spread)


def _check_magnitude(values: np.ndarray, offsets: np.ndarray, limit: float, ids: Sequence[str] | None,
                     columns: Sequence[str] | None, advice: str) -> None:
    huge = np.abs(values) > limit
    if huge.any():
        row, col = (int(v) for v in np.argwhere(huge)[0])
        s = int(np.searchsorted(offsets, row, side="right")) - 1
        column = repr(columns[col]) if columns is not None else f"#{col}"
        raise DataError(
            f"series {_name(ids, s)} has the value {values[row, col]:g} in column {column}, beyond the "
            f"+-{limit:.3g} rnncast can compute with; {advice}"
        )


def scale(values: np.ndarray, offsets: np.ndarray, stats: ScalerStats) -> np.ndarray:
    """(values - loc) / scale row by row with each row's series statistics; (N, F) float64."""
    values, offsets = _check_values(values, offsets)
    lengths = np.diff(offsets)
    if stats.loc.shape != (len(lengths), values.shape[1]):
        raise ValueError(
            f"the scaler holds {stats.loc.shape[0]} series x {stats.loc.shape[1]} columns, "
            f"the data {len(lengths)} series x {values.shape[1]} columns"
        )
    return (values - np.repeat(stats.loc, lengths, axis=0)) / np.repeat(stats.scale, lengths, axis=0)


def scale32(values: np.ndarray, offsets: np.ndarray, stats: ScalerStats, rows: int = 1 << 20) -> np.ndarray:
    """`scale(...)` as float32, the same values, computed in blocks of whole series of about `rows` rows.

    What the network reads, with no float64 copy of the whole data on the way (on a
    100,000-series panel that copy and its temporaries were over 1 GB of fit's peak).
    """
    values, offsets = _check_values(values, offsets)
    out = np.empty(values.shape, np.float32)
    lengths = np.diff(offsets)
    s = 0
    while s < len(lengths):
        stop = max(s + 1, int(np.searchsorted(offsets, offsets[s] + rows, side="right")) - 1)
        stop = min(stop, len(lengths))
        a, b = offsets[s], offsets[stop]
        part = stats.loc[s:stop], stats.scale[s:stop]
        out[a:b] = (values[a:b] - np.repeat(part[0], lengths[s:stop], axis=0)) / np.repeat(part[1], lengths[s:stop],
                                                                                            axis=0)
        s = stop
    return out


def unscale_target(y: np.ndarray, series_index: np.ndarray, stats: ScalerStats) -> np.ndarray:
    """Inverse of `scale` for column 0 (the target); float64 of y's shape.

    `series_index` gives the series of each leading entry of y: y (N, K) or (N,) with
    series_index (N,); its shape must be a prefix of y's.
    """
    y = np.asarray(y, dtype=np.float64)
    index = np.asarray(series_index, dtype=np.int64)
    if y.shape[: index.ndim] != index.shape:
        raise ValueError(f"series_index {index.shape} must match the leading axes of y {y.shape}")
    shape = index.shape + (1,) * (y.ndim - index.ndim)  # broadcast over y's trailing axes
    return y * stats.scale[index, 0].reshape(shape) + stats.loc[index, 0].reshape(shape)


def train_val_split(
    offsets: np.ndarray,
    val_fraction: float,
    lookback: int,
    horizon: int,
    *,
    ids: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split each series by time into training rows and validation rows.

    Returns (train_ends, val_starts), both (S,) int64 absolute row indices:
    - training rows are offsets[s]:train_ends[s]; pass train_ends to `fit_scaler` and as
      `ends` to `make_windows` for the training windows;
    - validation windows come from `make_windows(..., starts=val_starts)`, with
      val_starts = train_ends - lookback, so their targets are exactly the validation rows.

    A series of n rows keeps v = max(horizon, round(val_fraction * n)) rows for validation
    (at least one full validation window) when val_fraction > 0, and none when it is 0
    (then val_starts = the series ends, giving no validation windows). The windows whose
    targets would straddle the boundary (horizon - 1 of them) are used by neither side.
    A series too short to keep lookback + horizon training rows raises DataError.
    """
    offsets = _check_offsets(offsets)
    _check_steps(lookback, horizon)
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    lengths = np.diff(offsets)
    _require_length(lengths, lookback + horizon, ids, f"lookback {lookback} + horizon {horizon}")
    if val_fraction == 0:
        ends = offsets[1:].copy()
        return ends, ends.copy()
    n_val = _validation_rows(lengths, val_fraction, horizon)
    n_train = lengths - n_val
    short = np.flatnonzero(n_train < lookback + horizon)
    if short.size:
        s = int(short[0])
        raise DataError(
            f"series {_name(ids, s)} has {lengths[s]} rows: after its last {n_val[s]} are set aside for "
            f"validation (--val-fraction {val_fraction}), {n_train[s]} remain, but lookback {lookback} + "
            f"horizon {horizon} needs {lookback + horizon}; lower --val-fraction, --lookback or --horizon"
        )
    train_ends = offsets[:-1] + n_train
    return train_ends, train_ends - lookback


def spare_split(offsets: np.ndarray, val_fraction: float, lookback: int, horizon: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(train_ends (S,), validated (S,) bool): validation takes from each series only what it can spare.

    A series of n rows keeps v = max(horizon, round(val_fraction * n)) rows for validation,
    as `train_val_split` does, when the n - v rows left still hold lookback + horizon;
    a series too short for that keeps every row for training and is not validated.
    Nothing is ever too short here: short series are trained on padded windows
    (`padded_windows`).
    """
    offsets = _check_offsets(offsets)
    _check_steps(lookback, horizon)
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    lengths = np.diff(offsets)
    n_val = _validation_rows(lengths, val_fraction, horizon)
    validated = (n_val > 0) & (lengths - n_val >= lookback + horizon)
    return offsets[1:] - np.where(validated, n_val, 0), validated


def _validation_rows(lengths: np.ndarray, val_fraction: float, horizon: int) -> np.ndarray:
    """(S,) rows each series sets aside for validation: max(horizon, round(val_fraction * n)), 0 without."""
    if val_fraction == 0:
        return np.zeros_like(lengths)
    return np.maximum(horizon, np.rint(val_fraction * lengths).astype(np.int64))


def padded_windows(values: np.ndarray, offsets: np.ndarray, lookback: int, horizon: int,
                   first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Windows whose first target row t runs over first[s]..last[s] (inclusive) in series s.

    Returns X (W, T, F) float32, Y (W, K) float32, series (W,) and t (W,), ordered by series
    then time. Input rows before a series' first row repeat that first row (edge
    padding), so a series shorter than lookback + horizon still gives windows; targets
    are always real rows (the caller keeps t + horizon <= the series' end).
    """
    values, offsets = _check_values(values, offsets)
    t, series = _ranges(np.asarray(first, dtype=np.int64), np.asarray(last, dtype=np.int64) - first + 1)
    x, y = _gather(values, offsets, t, series, lookback, horizon)
    return x, y, series, t


def _ranges(lo: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo[s], lo[s] + 1, ..., lo[s] + counts[s] - 1 for every s in turn, the s of each): (W,), (W,)."""
    counts = np.maximum(counts, 0)
    series = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()), dtype=np.int64), series


def rows_before(ends: np.ndarray, starts: np.ndarray, count: int) -> np.ndarray:
    """(N, count) the row indices of the `count` rows before each end (exclusive), oldest first.

    Where a series (starting at row starts[n]) has fewer, its first row repeats in front:
    the edge padding every short history gets, in training and forecasting alike.
    """
    return np.maximum(np.asarray(ends)[:, None] - count + np.arange(count), np.asarray(starts)[:, None])


def real_lengths(history: np.ndarray) -> np.ndarray:
    """(N,) rows of each window (N, R) that are its own, not the padding `rows_before` puts in front.

    A series that really starts with repeats of one value loses those repeats but its last
    one, which changes nothing of the smoothing and little of the trend.
    """
    repeats = np.cumprod(history == history[:, :1], axis=1).sum(axis=1)
    return history.shape[1] - repeats + 1


def _gather(values: np.ndarray, offsets: np.ndarray, t: np.ndarray, series: np.ndarray, lookback: int,
            horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """X (W, T, F) float32 from rows t - T .. t - 1, Y (W, K) from rows t .. t + K - 1 (column 0).

    Rows before a window's series starts are that series' first row (edge padding).
    """
    # Per batch this must not copy all the data: float32 values are used as they are.
    data = values if values.dtype == np.float32 else values.astype(np.float32)
    if not len(t):  # no windows (and maybe fewer rows than one window's views need)
        return np.empty((0, lookback, data.shape[1]), np.float32), np.empty((0, horizon), np.float32)
    start = offsets[:-1][series]
    whole = t - lookback >= start
    x = np.empty((len(t), lookback, data.shape[1]), np.float32)
    if whole.any():  # windows with a full history: strided views, no index array of W x T
        x_view = sliding_window_view(data, lookback, axis=0)  # (N-T+1, F, T), no copy
        x[whole] = x_view[t[whole] - lookback].transpose(0, 2, 1)
    if not whole.all():
        x[~whole] = data[rows_before(t[~whole], start[~whole], lookback)]
    return x, sliding_window_view(data[:, 0], horizon)[t]  # (N-K+1, K) view: targets are real rows


def make_windows(
    values: np.ndarray,
    offsets: np.ndarray,
    lookback: int,
    horizon: int,
    *,
    starts: np.ndarray | None = None,
    ends: np.ndarray | None = None,
    ids: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stride-1 window: X (W, T, F) float32 inputs, Y (W, K) float32 targets, series (W,) int64.

    Window w of series s starting at row r has X[w] = values[r : r+T] and
    Y[w] = values[r+T : r+T+K, 0]. Windows are taken from rows starts[s]:ends[s] (default:
    the whole series), ordered by series then time; a range of m rows gives
    max(0, m - T - K + 1) windows, so a whole series of n rows gives n - T - K + 1.
    A series (as a whole) shorter than T + K raises DataError naming it.
    """
    values, offsets = _check_values(values, offsets)
    _check_steps(lookback, horizon)
    _require_length(np.diff(offsets), lookback + horizon, ids, f"lookback {lookback} + horizon {horizon}")
    first, series = window_rows(offsets, lookback, horizon, starts=starts, ends=ends)
    x, y = _gather(values, offsets, first + lookback, series, lookback, horizon)
    return x, y, series


def window_rows(offsets: np.ndarray, lookback: int, horizon: int, *,
                starts: np.ndarray | None = None, ends: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(first row (W,), series (W,)) of every window `make_windows` builds, in its order.

    Window w's targets are rows first[w] + lookback ... + lookback + horizon - 1.
    """
    offsets = _check_offsets(offsets)
    lo = offsets[:-1] if starts is None else np.asarray(starts, dtype=np.int64)
    hi = offsets[1:] if ends is None else np.asarray(ends, dtype=np.int64)
    if lo.shape != hi.shape or lo.shape != offsets[:-1].shape or (lo < offsets[:-1]).any() or (hi > offsets[1:]).any():
        raise ValueError("starts and ends must be (S,) row indices inside each series")
    # First row of every window: each range's start plus 0, 1, 2, ... within the range.
    return _ranges(lo, hi - lo - lookback - horizon + 1)


def last_windows(
    values: np.ndarray, offsets: np.ndarray, lookback: int, *, ids: Sequence[str] | None = None,
    dtype: type[np.floating] = np.float32, pad: bool = False,
) -> np.ndarray:
    """The last `lookback` rows of each series, (S, T, F) `dtype`: the input of a forecast.

    Pass dtype=np.float64 for values in original units, which float32 may not hold
    (beyond 3.4e38 they become inf; the scaled windows the network reads are float32).
    With `pad`, a series shorter than lookback repeats its first row in front (as
    `padded_windows` trains on); without, it raises DataError.
    """
    values, offsets = _check_values(values, offsets)
    _check_steps(lookback, 1)
    if not pad:
        _require_length(np.diff(offsets), lookback, ids, f"lookback {lookback}")
    if (np.diff(offsets) < 1).any():
        raise DataError(f"series {_name(ids, int(np.flatnonzero(np.diff(offsets) < 1)[0]))} has no rows")
    return values[rows_before(offsets[1:], offsets[:-1], lookback)].astype(dtype)


def _check_steps(lookback: int, horizon: int) -> None:
    if lookback < 1 or horizon < 1:
        raise ConfigError(f"--lookback and --horizon must be at least 1, got {lookback} and {horizon}")


def _check_offsets(offsets: np.ndarray) -> np.ndarray:
    offsets = np.asarray(offsets, dtype=np.int64)
    if offsets.ndim != 1 or offsets.size < 2 or offsets[0] != 0 or (np.diff(offsets) < 0).any():
        raise ValueError("offsets must be (S+1,) non-decreasing row indices starting at 0")
    return offsets


def _check_values(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values)
    offsets = _check_offsets(offsets)
    if values.ndim != 2 or values.shape[0] != offsets[-1]:
        raise ValueError(f"values must be (N, F) with N = offsets[-1] = {offsets[-1]}, got {values.shape}")
    return values, offsets


def _require_length(lengths: np.ndarray, need: int, ids: Sequence[str] | None, why: str) -> None:
    short = np.flatnonzero(lengths < need)
    if short.size:
        s = int(short[0])
        more = f" (and {short.size - 1} more series)" if short.size > 1 else ""
        raise DataError(
            f"series {_name(ids, s)} has {lengths[s]} rows but {why} needs at least {need}{more}; "
            "use a shorter --lookback or --horizon, or more data"
        )


def _name(ids: Sequence[str] | None, s: int) -> str:
    return repr(ids[s]) if ids is not None else f"#{s}"
