"""Forecast accuracy and interval scores on arrays of actuals `y` and forecasts `f`.

Every score reduces over all elements to a float, or along `axis` when one is given to an
array. Inputs are assumed finite (no NaN or inf); shapes are checked. MAE and RMSE are in
the units of y, MAPE and sMAPE in percent (sMAPE from 0 to 200), MASE a plain ratio.
"""

from __future__ import annotations

import numpy as np

from rnncast.errors import ConfigError

Axis = int | tuple[int, ...] | None

# MAPE divides by |y|: an actual below this is zero for our purposes (the smallest normal
# float64), and one such actual makes the mean undefined rather than merely large.
_MAPE_TINY = np.finfo(np.float64).tiny


def _pair(a: np.ndarray, b: np.ndarray, names: str = "y and f") -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"{names} are empty: there is nothing to score")
    return a, b


def _mean(terms: np.ndarray, axis: Axis) -> float | np.ndarray:
    # Overflow to inf is an honest answer for absurd inputs; numpy's warning is not needed.
    with np.errstate(over="ignore"):
        out = np.mean(terms, axis=axis)
    return float(out) if axis is None else np.asarray(out)


def mae(y: np.ndarray, f: np.ndarray, axis: Axis = None) -> float | np.ndarray:
    """Mean absolute error, in the units of y."""
    y, f = _pair(y, f)
    return _mean(np.abs(f - y), axis)


def rmse(y: np.ndarray, f: np.ndarray, axis: Axis = None) -> float | np.ndarray:
    """Root mean squared error, in the units of y."""
    y, f = _pair(y, f)
    err = np.abs(f - y)
    # Squaring errors below 1e-154 underflows to 0 and above 1e154 overflows; squaring
    # them as shares of the largest error in their slice does neither.
    # An infinite error makes the RMSE infinite (inf / inf would say NaN).
    big = np.max(err, axis=axis, keepdims=True)
    safe = np.where((big > 0) & (big < np.inf), big, 1.0)
    with np.errstate(over="ignore"):
        out = np.squeeze(safe, axis=axis) * np.sqrt(np.mean(np.square(err / safe), axis=axis))
    return float(out) if axis is None else np.asarray(out)


def mape_defined(y: np.ndarray) -> bool:
    """Whether MAPE is defined for these actuals: no |y| is (numerically) zero."""
    return bool((np.abs(np.asarray(y, dtype=np.float64)) >= _MAPE_TINY).all())


def mape(y: np.ndarray, f: np.ndarray, axis: Axis = None) -> float | np.ndarray:
    """Mean absolute percentage error, 100 * mean(|f - y| / |y|), in percent.

    NaN when an actual is zero (see `mape_defined`); with `axis`, NaN only in the slices
    whose actuals touch zero.
    """
    y, f = _pair(y, f)
    scale = np.abs(y)
    ok = scale >= _MAPE_TINY
    with np.errstate(over="ignore"):
        terms = np.divide(np.abs(f - y), scale, out=np.full(y.shape, np.nan), where=ok)
    return _mean(100.0 * terms, axis)


def smape(y: np.ndarray, f: np.ndarray, axis: Axis = None) -> float | np.ndarray:
    """Symmetric MAPE, mean of 200 * |f - y| / (|y| + |f|), in percent (0 to 200).

    A term where both y and f are 0 is a perfect forecast and counts as 0.
    """
    y, f = _pair(y, f)
    # Dividing both by the larger magnitude first keeps |f - y| and |y| + |f| from
    # overflowing to inf / inf for values near the float64 limit.
    big = np.maximum(np.abs(y), np.abs(f))
    nonzero = big > 0
    ys = y / np.where(nonzero, big, 1.0)
    fs = f / np.where(nonzero, big, 1.0)
    # Where both are 0 the numerator is 0 too, so a denominator of 1 makes the term 0.
    terms = 200.0 * np.abs(fs - ys) / np.where(nonzero, np.abs(ys) + np.abs(fs), 1.0)
    # |f - y| <= |y| + |f| exactly, but not always after rounding (200.00000000000003).
    return _mean(np.minimum(terms, 200.0), axis)


def mase_scale(insample: np.ndarray, season: int = 1) -> float:
    """Mean absolute error of the seasonal-naive forecast (lag `season`) within `insample`.

    Raises ValueError when the series has fewer than season + 1 values.
    """
    x = np.asarray(insample, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"the in-sample series must be 1-D, got shape {x.shape}")
    if isinstance(season, bool) or int(season) != season or season < 1:
        raise ConfigError(f"season must be a whole number >= 1, got {season!r}")
    season = int(season)
    if len(x) < season + 1:
        raise ValueError(
            f"MASE with season {season} needs at least {season + 1} in-sample values, got {len(x)}"
        )
    return float(np.mean(np.abs(x[season:] - x[:-season])))


def mase(
    y: np.ndarray, f: np.ndarray, insample: np.ndarray, season: int = 1, axis: Axis = None
) -> float | np.ndarray:
    """Mean absolute scaled error: MAE(y, f) / mase_scale(insample, season).

    Below 1 beats the in-sample seasonal-naive forecast (season 1: the naive one). When the
    scale is 0 (the in-sample series repeats itself exactly at lag `season`, e.g. a
    constant): +inf if the MAE is positive, NaN if it is 0 too. Never raises for that.
    """
    scale = mase_scale(insample, season)
    err = mae(y, f, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.divide(err, scale)
    return float(out) if axis is None else np.asarray(out)


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, axis: Axis = None) -> float | np.ndarray:
    """Fraction of actuals inside their closed interval [lower, upper], from 0 to 1.

    Bounds may be infinite. Raises ValueError when a lower bound exceeds its upper bound.
    """
    y, lower = _pair(y, lower, "y and lower")
    y, upper = _pair(y, upper, "y and upper")
    if (lower > upper).any():
        raise ValueError("every lower bound must be <= its upper bound")
    return _mean(((lower <= y) & (y <= upper)).astype(np.float64), axis)


def width(lower: np.ndarray, upper: np.ndarray, axis: Axis = None) -> float | np.ndarray:
    """Mean interval width, upper - lower, in the units of the bounds (inf if one is)."""
    lower, upper = _pair(lower, upper, "lower and upper")
    if (lower > upper).any():
        raise ValueError("every lower bound must be <= its upper bound")
    with np.errstate(invalid="ignore"):
        return _mean(upper - lower, axis)
