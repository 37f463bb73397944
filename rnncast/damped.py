"""Holt's damped-trend exponential smoothing, batched over windows: a second classic to blend with.

Damped trend (Gardner & McKenzie 1985; ETS(A,Ad,N)) is the level of simple exponential
smoothing plus a trend whose effect dies away by phi each step ahead. On M3's yearly-like
"other" series it is the best single classic, and its errors differ from both the network's
and Theta's (rnncast.theta).

For fixed (alpha, beta, phi) the one-step forecasts are linear in the series and in the
initial state, so every point of a small parameter grid is fitted by matrix products: the
initial trend is the slope of the first ten values (Hyndman's heuristic), the initial level
the least-squares one. The forecast is the mean of the grid points' forecasts weighted by
their Gaussian likelihood, exp(-n/2 log SSE): on M3 yearly (phi up to 0.98) that scored sMAPE 16.41 / MASE
2.808 where the single best grid point scored 17.65 / 2.963 (statsforecast's fitted AAdN
16.81 / 2.755), since many grid points fit a short series almost equally well and picking
one of them is noise. Seasonal series are first divided by Theta's multiplicative indices.
No optimiser, no loop over windows or time steps.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rnncast.seasonal import adjusted, by_length, season_ahead

# The grid: beta is a share of alpha (the trend adapts no faster than the level). phi 1,
# Holt's undamped linear trend, is one of the candidates, as AutoETS has AAN beside AAdN:
# the likelihood weighs it in only where a series holds its trend. With it the damped
# trend alone scored M3 other MASE 1.837 -> 1.765 and yearly comb 2.668 -> 2.661, and
# M1 yearly (not used to choose it) damped 3.536 -> 3.469.
_ALPHAS = np.array([0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])
_BETA_SHARES = np.array([0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
_PHIS = np.array([0.8, 0.85, 0.9, 0.95, 0.98, 1.0])
# (grid points x windows x rows) values computed at once: bounds memory (32 MB of float64).
BLOCK = 4_000_000
# Values the initial trend is the slope of.
TREND_START_ROWS = 10


def min_rows(season: int) -> int:
    """Real rows below which damped trend forecasts nothing: five parameters want more than a handful of points."""
    return max(2 * season + 1, 8)


def forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(N, K) damped-trend forecasts from history (N, R) in the data's units, oldest first; NaN below min_rows."""
    grid = len(_ALPHAS) * len(_BETA_SHARES) * len(_PHIS)
    return by_length(history, horizon, season, min_rows(season), lambda n: max(1, BLOCK // (grid * n)), _same_length)


@np.errstate(over="ignore", invalid="ignore", divide="ignore")  # data near float's limits: NaN, then the fallback
def _same_length(y: np.ndarray, K: int, m: int) -> np.ndarray:
    n = y.shape[1]
    x, indices = adjusted(y, m)
    k = min(TREND_START_ROWS, n)
    t = np.arange(k) - (k - 1) / 2
    slope = (x[:, :k] - x[:, :k].mean(axis=1, keepdims=True)) @ t / float(t @ t)
    error, ahead = _fit(x, slope, *_grid(n, K))  # (G, N), (G, N, K)
    # The likelihood-weighted mean over the grid: weights exp(loglik - the row's best).
    loglik = np.where(np.isfinite(error) & np.isfinite(ahead).all(axis=2), -n / 2 * np.log(np.maximum(error, 1e-300)),
                      -np.inf)
    top = loglik.max(axis=0)
    weights = np.where(np.isfinite(top), np.exp(loglik - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = weights.sum(axis=0)
    mean = (weights[:, :, None] * np.where(np.isfinite(ahead), ahead, 0.0)).sum(axis=0)
    best = np.where(total[:, None] > 0, mean / np.where(total > 0, total, 1.0)[:, None], np.nan)
    return best * season_ahead(indices, n, K, m)


def _fit(x: np.ndarray, slope: np.ndarray, residual: np.ndarray, start: np.ndarray, final_from_y: np.ndarray,
         final_from_start: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared one-step errors (G, N) and forecasts (G, N, K) at every grid point: initial trend `slope` (N,),
    initial level fitted by least squares."""
    r = x[None] @ residual.transpose(0, 2, 1) - slope[None, :, None] * start[:, None, :, 1]  # (G, N, n): zero level
    level = (r @ start[:, :, :1])[..., 0] / (start[:, :, 0] ** 2).sum(axis=1)[:, None]  # start[:, 0, 0] is 1
    error = ((r - level[..., None] * start[:, None, :, 0]) ** 2).sum(axis=2)
    final = (x[None] @ final_from_y + level[..., None] * final_from_start[:, None, :, 0]
             + slope[None, :, None] * final_from_start[:, None, :, 1])  # (G, N, 2): level and trend at the end
    return error, final[..., :1] + final[..., 1:] * steps[:, None, :]


@lru_cache(maxsize=64)
def _grid(n: int, K: int) -> tuple[np.ndarray, ...]:
    """The linear maps of damped trend over n rows at every grid point (no data; cached per length).

    State s = (level, trend) before each value; forecast w.s with w = (1, phi); after value y
    the state is M s + g y with M = D - g w, D = [[1, phi], [0, phi]], g = (alpha, beta).
    Returns residual (G, n, n): y -> one-step errors with a zero initial state; start (G, n, 2):
    the initial state's part of each forecast; final_from_y (G, n, 2), final_from_start
    (G, 2, 2): the state after the last value; steps (G, K): phi + ... + phi^h.
    """
    alpha, share, phi = (a.ravel() for a in np.meshgrid(_ALPHAS, _BETA_SHARES, _PHIS, indexing="ij"))
    G = len(alpha)
    w = np.stack([np.ones(G), phi], axis=1)  # (G, 2)
    g = np.stack([alpha, alpha * share], axis=1)
    D = np.zeros((G, 2, 2))
    D[:, 0, 0], D[:, 0, 1], D[:, 1, 1] = 1.0, phi, phi
    M = D - g[:, :, None] * w[:, None, :]
    powers = np.empty((n + 1, G, 2, 2))  # M^0 .. M^n
    powers[0] = np.eye(2)
    for k in range(n):  # n products of the grid's 2x2 matrices, once per length: not a loop over data
        powers[k + 1] = M @ powers[k]
    start = np.einsum("kgji,gj->gki", powers[:n], w)  # w M^t
    impulse = np.einsum("gi,kgij,gj->gk", w, powers[:n], g)  # c_k = w M^k g
    lag = np.arange(n)[:, None] - np.arange(n)[None, :] - 1  # forecast t reads y_i with weight c_{t-1-i}
    residual = np.eye(n) - np.where(lag >= 0, impulse[:, np.maximum(lag, 0)], 0.0)
    final_from_y = np.einsum("kgij,gj->gki", powers[:n][::-1], g)  # M^{n-1-i} g
    steps = np.cumsum(phi[:, None] ** np.arange(1, K + 1), axis=1)
    out = (residual, start, final_from_y, powers[n], steps)
    for array in out:
        array.flags.writeable = False  # shared by every call through the cache
    return out
