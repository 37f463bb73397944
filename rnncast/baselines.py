"""Benchmark forecasts a model has to beat: naive, seasonal naive and drift.

Each takes one series' history (n,) oldest first and a horizon K, and returns (K,) float64
forecasts for the K steps after the last value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from rnncast.errors import ConfigError, DataError

Baseline = Callable[[np.ndarray, int, int], np.ndarray]


def _check(history: np.ndarray, K: int) -> np.ndarray:
    x = np.asarray(history, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"history must be one series, 1-D, got shape {x.shape}")
    if len(x) == 0:
        raise DataError("a series has no history to forecast from")
    if not np.isfinite(x).all():
        raise DataError("the history contains NaN or infinity; fill or remove them first")
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"the horizon K must be a whole number >= 1, got {K!r}")
    return x


def _check_season(season: int) -> int:
    if isinstance(season, bool) or int(season) != season or season < 1:
        raise ConfigError(f"season must be a whole number >= 1, got {season!r}")
    return int(season)


def naive(history: np.ndarray, K: int) -> np.ndarray:
    """The last value, repeated K times."""
    x = _check(history, K)
    return np.full(int(K), x[-1])


def seasonal_naive(history: np.ndarray, K: int, season: int) -> np.ndarray:
    """The last `season` values, repeated: step h (0-based) gets x[n - season + h % season].

    Falls back to `naive` when the history is shorter than one season.
    """
    x = _check(history, K)
    season = _check_season(season)
    if len(x) < season:
        return naive(x, K)
    return x[len(x) - season + np.arange(int(K)) % season].copy()


def drift(history: np.ndarray, K: int) -> np.ndarray:
    """The line through the first and last values, extended: x[-1] + h * (x[-1] - x[0]) / (n - 1).

    With a single value there is no slope, and the forecast is the naive one.
    """
    x = _check(history, K)
    if len(x) == 1:
        return naive(x, K)
    slope = (x[-1] - x[0]) / (len(x) - 1)
    return x[-1] + slope * np.arange(1, int(K) + 1)


def _naive(history: np.ndarray, K: int, season: int) -> np.ndarray:
    return naive(history, K)


def _drift(history: np.ndarray, K: int, season: int) -> np.ndarray:
    return drift(history, K)


# One signature for all, (history, K, season) -> (K,), so callers can loop over names;
# naive and drift ignore the season. Read-only so no caller can swap a baseline globally.
BASELINES: Mapping[str, Baseline] = MappingProxyType(
    {"naive": _naive, "seasonal_naive": seasonal_naive, "drift": _drift}
)
