"""The classical multiplicative season that Theta and damped trend divide out: its test and its indices."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnncast.windows import real_lengths

# The 90 % one-sided test of the lag-`season` autocorrelation (as R's forecast::thetaf).
SEASONALITY_Z = 1.645


def by_length(history: np.ndarray, horizon: int, season: int, least: int, chunk: Callable[[int], int],
              same_length: Callable[[np.ndarray, int, int], np.ndarray]) -> np.ndarray:
    """(N, K) a classic's forecasts from history (N, R), oldest first, edge-padded in front: one batch
    per real length (a few dozen at most) of at most chunk(n) windows; NaN below `least` real rows."""
    history = np.asarray(history, dtype=np.float64)
    out = np.full((len(history), horizon), np.nan)
    lengths = real_lengths(history)
    for n in np.unique(lengths[lengths >= least]):
        rows = np.flatnonzero(lengths == n)
        step = chunk(int(n))
        for start in range(0, len(rows), step):
            at = rows[start : start + step]
            out[at] = same_length(history[at, history.shape[1] - n :], horizon, season)
    return out


def adjusted(y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """y (N, n) divided by its multiplicative season where the test finds one, and the (N, m) indices (1 elsewhere)."""
    n = y.shape[1]
    indices = np.ones((len(y), m if m > 1 else 1))
    if m > 1 and n > 2 * m:
        indices = np.where(is_seasonal(y, m)[:, None], seasonal_indices(y, m), 1.0)
    position = np.arange(n) % m if m > 1 else np.zeros(n, np.int64)
    return y / indices[:, position], indices


def season_ahead(indices: np.ndarray, n: int, K: int, m: int) -> np.ndarray:
    """(N, K) the seasonal indices of the K steps after n rows: what an adjusted forecast is multiplied back by."""
    return indices[:, (np.arange(n, n + K) % m) if m > 1 else np.zeros(K, np.int64)]


def is_seasonal(y: np.ndarray, m: int) -> np.ndarray:
    """(N,) True where the lag-m autocorrelation is significant and every value positive (multiplicative)."""
    n = y.shape[1]
    d = y - y.mean(axis=1, keepdims=True)
    power = (d * d).sum(axis=1)
    safe = np.where(power > 0, power, 1.0)
    r = np.stack([(d[:, k:] * d[:, : n - k]).sum(axis=1) for k in range(1, m + 1)], axis=1) / safe[:, None]
    bound = np.sqrt((1 + 2 * (r[:, : m - 1] ** 2).sum(axis=1)) / n)
    return (np.abs(r[:, m - 1]) > SEASONALITY_Z * bound) & (power > 0) & (y > 0).all(axis=1)


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """(N, m) classical multiplicative indices: mean ratio to the centred moving average, normalised to mean 1."""
    n = y.shape[1]
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    width = len(weights)
    trend = sum(w * y[:, j : n - width + 1 + j] for j, w in enumerate(weights))  # (N, n - width + 1)
    ratio = np.full(y.shape, np.nan)
    ratio[:, width // 2 : width // 2 + trend.shape[1]] = y[:, width // 2 : width // 2 + trend.shape[1]] / trend
    position = np.arange(n) % m
    figure = np.stack([np.nanmean(ratio[:, position == p], axis=1) for p in range(m)], axis=1)
    return figure / figure.mean(axis=1, keepdims=True)
