"""Split-conformal prediction intervals, one per horizon step.

Calibration uses residuals (N, K) = actual - forecast on N held-out windows, in whatever
units the caller chooses (scaled or original); `apply` must then get forecasts in the
same units. Each step k is calibrated on its own column, so later, noisier steps get
wider intervals.

Finite-sample correction: for a level of 100(1 - a)%, a bound is the r-th smallest of
the N calibration values with r = ceil((N + 1)(1 - a)) (two-sided: ceil((N + 1)(1 - a/2))
for the upper and its mirror for the lower). If the residuals and a new window's are
exchangeable, the interval then covers the new actual with probability >= the level.
When r > N, no calibration value is large enough to promise that, and the bound is
infinite (+inf half-width, or -inf / +inf quantiles) rather than the largest residual,
which would quietly under-cover. `min_windows` / `min_windows_two_sided` say how many
windows avoid it (95%: 19 / 39; 80%: 4 / 9). Callers can test for it with np.isinf.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from rnncast.errors import ConfigError, DataError

HalfWidths = dict[float, np.ndarray]
QuantileBounds = dict[float, tuple[np.ndarray, np.ndarray]]


def _check_level(level: float) -> Fraction:
    """The level as an exact fraction of 1, so ranks like ceil(20 * 0.95) are not off by one."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ConfigError(f"interval level must be a number strictly between 0 and 100, got {level!r}")
    if not (math.isfinite(level) and 0 < level < 100):
        raise ConfigError(f"interval level must be a percentage strictly between 0 and 100, got {level!r}")
    # str() gives the shortest decimal that round-trips, i.e. what the user wrote (95, 99.5).
    return Fraction(str(float(level))) / 100


def _check_residuals(residuals: np.ndarray) -> np.ndarray:
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 1 or r.shape[1] < 1:
        raise ValueError(f"residuals must be (N, K) with N >= 1 and K >= 1, got shape {r.shape}")
    if not np.isfinite(r).all():
        raise DataError("the calibration residuals contain NaN or infinity; the forecasts were not finite")
    return r


def _order_statistic(sorted_values: np.ndarray, rank: int) -> np.ndarray:
    """Row `rank` (1-based) of column-sorted values; -inf below 1, +inf above N."""
    n, k = sorted_values.shape
    if rank < 1:
        return np.full(k, -np.inf)
    if rank > n:
        return np.full(k, np.inf)
    return sorted_values[rank - 1].copy()


def min_windows(level: float) -> int:
    """The fewest calibration windows N giving a finite interval at this level (in percent)."""
    share = _check_level(level)
    # ceil((N + 1) * share) <= N  <=>  N >= share / (1 - share)
    return math.ceil(share / (1 - share))


def min_windows_two_sided(level: float) -> int:
    """The fewest calibration windows N giving finite `calibrate_quantiles` bounds."""
    share = _check_level(level)
    upper = (1 + share) / 2
    return math.ceil(upper / (1 - upper))


def calibrate(residuals: np.ndarray, levels: Sequence[float]) -> HalfWidths:
    """Symmetric half-widths: {level: (K,)}, the conformal quantile of |residual| per step.

    Half-width at step k: the ceil((N + 1) * level / 100)-th smallest |residuals[:, k]|,
    +inf when that rank exceeds N. Use as forecast -+ half-width.
    """
    shares = [(level, _check_level(level)) for level in levels]
    magnitudes = np.sort(np.abs(_check_residuals(residuals)), axis=0)  # (N, K)
    n = magnitudes.shape[0]
    return {level: _order_statistic(magnitudes, math.ceil((n + 1) * share)) for level, share in shares}


def calibrate_quantiles(residuals: np.ndarray, levels: Sequence[float], groups: np.ndarray | None = None
                        ) -> QuantileBounds:
    """Asymmetric bounds: {level: (lower (K,), upper (K,))} on the signed residuals per step.

    With a = 1 - level/100, upper is the ceil((N + 1)(1 - a/2))-th smallest residual and
    lower the floor((N + 1) a/2)-th, so each tail misses at most a/2; both are infinite
    when that rank falls outside 1..N. Use as (forecast + lower, forecast + upper).

    groups (N,): the series each residual's window comes from. Each series then weighs
    alike, however many windows it has (`series_weights`), and the ranks count weight
    instead of windows; with as many windows in every series, that is the rule above.
    """
    shares = [(level, _check_level(level)) for level in levels]
    r = _check_residuals(residuals)
    n = r.shape[0]
    weights = series_weights(groups, n)
    if weights is not None:
        ranks = np.array([float((n + 1) * (1 + share) / 2) for _, share in shares])  # weights, not counts
        uppers = _weighted_statistics(r, weights, ranks)
        lowers = -_weighted_statistics(-r, weights, ranks)  # the mirror image, as below
        return {level: (lowers[i], uppers[i]) for i, (level, _) in enumerate(shares)}
    ordered = np.sort(r, axis=0)  # (N, K)
    bounds: QuantileBounds = {}
    for level, share in shares:
        upper_rank = math.ceil((n + 1) * (1 + share) / 2)
        # The mirror image of the upper rank, so both tails get the same correction.
        lower_rank = n + 1 - upper_rank
        bounds[level] = (_order_statistic(ordered, lower_rank), _order_statistic(ordered, upper_rank))
    return bounds


def series_weights(groups: np.ndarray | None, n: int) -> np.ndarray | None:
    """(N,) weights N / (G x windows of its series) over G series, or None when every series has as many windows.

    Every series gets one forecast, so every series should count alike in its intervals;
    counted by windows, a long series with many validation windows outweighs a short one
    with a few. The weights keep a mean of 1, so the ranks' finite-sample correction is
    still that of N windows.
    """
    if groups is None:
        return None
    _, codes, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    if len(codes) != n:
        raise ValueError(f"groups must have one entry per residual ({n}), got {len(codes)}")
    if counts.min() == counts.max():
        return None
    return n / (len(counts) * counts[codes].astype(np.float64))


def _weighted_statistics(values: np.ndarray, weights: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """(L, K): per rank and column, the smallest value whose cumulative weight (smallest first) reaches it, or +inf."""
    n, k = values.shape
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0)  # (N, K)
    out = np.full((len(ranks), k), np.inf)
    reachable = ranks <= n * (1 + 1e-12)  # the weights sum to n
    targets = ranks[reachable] * (1 - 1e-12)  # float sums of weights may fall a hair short
    for j in range(k):  # one search per horizon step, all ranks at once
        at = np.minimum(np.searchsorted(cumulative[:, j], targets, side="left"), n - 1)
        out[reachable, j] = ordered[at, j]
    return out


def apply(
    forecast: np.ndarray,
    bounds: Mapping[float, np.ndarray] | Mapping[float, tuple[np.ndarray, np.ndarray]],
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper), each shaped like forecast (S, K), from `calibrate` or `calibrate_quantiles` output."""
    _check_level(level)
    if level not in bounds:
        known = ", ".join(f"{key:g}" for key in bounds) or "none"
        raise ConfigError(f"no interval was calibrated at level {level:g}; calibrated levels: {known}")
    f = np.asarray(forecast, dtype=np.float64)
    entry = bounds[level]
    if isinstance(entry, tuple):
        low, high = (np.asarray(part, dtype=np.float64) for part in entry)
    else:
        half = np.asarray(entry, dtype=np.float64)
        low, high = -half, half
    if f.ndim < 1 or low.shape != (f.shape[-1],) or high.shape != low.shape:
        raise ValueError(f"forecast (S, K) and bounds (K,) disagree: got {f.shape} and {low.shape}")
    return f + low, f + high


# ------------------------------------------------------------- a model's levels 1..99 %

LEVELS = np.arange(1, 100)  # interval levels, in percent, a model calibrates at fit time


def calibrate_levels(residuals: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """(2, 99, K) lower/upper offsets for levels 1..99 % (split conformal on residuals (N, K); groups as in
    `calibrate_quantiles`)."""
    bounds = calibrate_quantiles(residuals, [float(level) for level in LEVELS], groups)
    lower = np.stack([bounds[float(level)][0] for level in LEVELS])
    upper = np.stack([bounds[float(level)][1] for level in LEVELS])
    return np.stack([lower, upper])


def whole_percent(level: object) -> int:
    """`level` as an int, or ConfigError unless it is a whole percent from 1 to 99."""
    if not (isinstance(level, (int, np.integer)) and not isinstance(level, bool) and 1 <= level <= 99):
        raise ConfigError(f"--level must be a whole percent from 1 to 99, got {level!r}")
    return int(level)


def usable_levels(offsets: np.ndarray | None, levels: Sequence[object]) -> list[int]:
    """`levels` checked against a model's calibrated `offsets` (2, 99, K), each once, in order.

    ConfigError when the model has no intervals, a level is not a whole percent, or its
    validation windows were too few to calibrate it (its offsets are infinite).
    """
    if offsets is None and len(levels):
        raise ConfigError("this model has no calibrated intervals (it was fitted with --val-fraction 0); "
                          "fit it again with validation data to use --level")
    checked = list(dict.fromkeys(whole_percent(level) for level in levels))
    for level in checked:
        assert offsets is not None
        if not np.isfinite(offsets[:, level - 1]).all():
            raise ConfigError(f"too few validation windows to calibrate a {level}% interval (needs at least "
                              f"{min_windows_two_sided(level)}); use a lower --level or fit with more validation "
                              "data")
    return checked


def calibrated(offsets: np.ndarray | None, levels: Sequence[int]) -> list[int]:
    """The levels among `levels` that `offsets` calibrated (finite); the rest are left out."""
    return [level for level in levels if offsets is not None and np.isfinite(offsets[:, level - 1]).all()]
