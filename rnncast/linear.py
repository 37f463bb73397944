"""A linear map from each window's lookback to its horizon, solved in closed form: the partner the
network is blended with on hourly data (`--combine linear`, auto for hourly).

NLinear (Zeng et al. 2023) showed that one linear layer over windows re-centred on their
last value is hard to beat on ETT. Trained by gradient steps with early stopping, rnncast's
own linear "highway" stops short of that optimum; ridge regression reaches it in one solve
of the normal equations, summed over the training windows in chunks so memory stays
bounded whatever the panel. It lives in the network's units (scaled, re-centred on each
window's anchor), reads only the target's lookback, and is shared by every series, as
NLinear is. Its penalty is the one whose forecasts miss the validation windows least.

Sensor data has spikes (ETTh2's oil temperature jumps by several standard deviations), and
least squares bends towards them. A second candidate weights each window down by Huber's
rule, refitting twice from the least-squares residuals; validation chooses between the two.
On ETTh2's OT it scored MSE 0.1289 / 0.1670 at horizons 96 / 192 against 0.1311 / 0.1702.
In a panel each series' residuals have their own spread (scaled alike, a calm series and a
spiky one still miss by different amounts): a window is judged against its own series',
lest a whole noisy series be weighed down. Pooled, ETTh2's seven columns at horizon 336
scored 0.3655 against least squares' 0.3581; per series, 0.3546.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Ridge penalties tried, per window and per unit of the inputs' mean square: scale-free, so
# one grid serves a series of 8,000 windows and a panel of millions.
PENALTIES = np.logspace(-5, 1, 13)
# Windows summed into the normal equations at a time: bounds the memory of one chunk.
CHUNK = 16_384
# Training windows the map is solved on, at most (a fixed sample beyond): its T x K
# coefficients are pinned down long before that.
MAX_WINDOWS = 500_000

# Huber's threshold, in units of the residuals' robust spread (the usual 95 %-efficiency
# constant), and the reweighting passes: on ETT a second pass changed MSE by < 0.0002, more none.
HUBER_C = 1.345
HUBER_PASSES = 2
# Windows whose residuals give that spread (their median absolute value), spread over the set;
# a series with fewer of them in the sample than OWN_SPREAD_WINDOWS takes the pooled spread.
SCALE_SAMPLE = 16_384
OWN_SPREAD_WINDOWS = 8

# What a chunk reader gives: (W, T) inputs and (W, K) targets, re-centred, network units.
Chunks = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# The coefficients and each series' residual spread ((S + 1,), see residual_spread) that weight
# each window (Huber), or None: every window 1.
Weighting = tuple[np.ndarray, np.ndarray] | None
# X'WX (T+1, T+1), X'WY (T+1, K) and the windows' total weight.
Equations = tuple[np.ndarray, np.ndarray, float]


@dataclass(frozen=True)
class Fitted:
    """A solved map: coefficients (T+1, K), the last row the intercept; the penalty and
    weighting validation chose, the equations solved and their validation MSE."""

    coefficients: np.ndarray
    penalty: float
    weighting: Weighting
    equations: Equations
    val_mse: float

    @property
    def robust(self) -> bool:
        return self.weighting is not None


def with_intercept(x: np.ndarray) -> np.ndarray:
    """(W, T + 1): the inputs and a column of ones (the intercept, never penalised)."""
    return np.hstack([x.astype(np.float64), np.ones((len(x), 1))])


def huber_weights(residuals: np.ndarray, spread: float | np.ndarray) -> np.ndarray:
    """(W,) each window's weight: the mean over its K residuals of min(1, HUBER_C x spread / |r|)
    (`spread` one number, or (W, 1): each window's series')."""
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, HUBER_C * spread / np.abs(residuals)).mean(axis=1)


def normal_equations(read: Chunks, idx: np.ndarray, weighting: Weighting = None,
                     series: np.ndarray | None = None) -> Equations:
    """X'WX, X'WY over the windows `idx`, read CHUNK at a time, and their total weight (their count
    unweighted). `series` (all windows,): each window's series, whose spread weighs it (None: one series)."""
    gram = cross = None
    total = 0.0
    for lo in range(0, len(idx), CHUNK):
        part = idx[lo : lo + CHUNK]
        x, y = read(part)
        xa, y64 = with_intercept(x), y.astype(np.float64)
        if weighting is None:
            xw, total = xa, total + len(xa)
        else:
            ids = np.zeros(len(part), np.int64) if series is None else series[part]
            spread = weighting[1][np.minimum(ids, len(weighting[1]) - 1)]  # a series the fit never saw: pooled
            w = huber_weights(xa @ weighting[0] - y64, spread[:, None])
            xw, total = xa * w[:, None], total + float(w.sum())
        part_gram, part_cross = xw.T @ xa, xw.T @ y64
        gram = part_gram if gram is None else gram + part_gram
        cross = part_cross if cross is None else cross + part_cross
    assert gram is not None and cross is not None, "normal_equations needs at least one window"
    return gram, cross, total


def solve(gram: np.ndarray, cross: np.ndarray, windows: float, penalty: float) -> np.ndarray:
    """(T+1, K) ridge coefficients, the last row the intercept: penalty x windows x the inputs' mean square."""
    T = len(gram) - 1
    energy = float(np.trace(gram[:T, :T])) / max(T * windows, 1e-12)
    ridge = np.zeros(T + 1)
    ridge[:T] = penalty * windows * max(energy, 1e-12)
    try:
        return np.linalg.solve(gram + np.diag(ridge), cross)
    except np.linalg.LinAlgError:  # a singular system (constant inputs): the least-squares answer
        return np.linalg.lstsq(gram + np.diag(ridge), cross, rcond=None)[0]


def forecast(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(W, K) forecasts of inputs x (W, T), re-centred network units, float64."""
    return x.astype(np.float64) @ coefficients[:-1] + coefficients[-1]


def residual_spread(read: Chunks, idx: np.ndarray, coefficients: np.ndarray,
                    series: np.ndarray | None = None) -> np.ndarray:
    """(S + 1,) each series' median absolute residual / 0.6745 (a normal's standard deviation) over
    SCALE_SAMPLE of `idx`, the last the pooled one: that of a series with too few windows there, or none
    missed (a constant series must not keep the whole panel from its weights)."""
    sample = idx[np.unique(np.linspace(0, len(idx) - 1, min(len(idx), SCALE_SAMPLE)).astype(np.int64))]
    x, y = read(sample)
    misses = np.abs(forecast(coefficients, x) - y)
    pooled = float(np.median(misses)) / 0.6745
    if series is None:
        return np.array([pooled])
    spreads = np.full(int(series.max()) + 2, pooled)
    of = series[sample]
    order = np.argsort(of, kind="stable")
    names, firsts, counts = np.unique(of[order], return_index=True, return_counts=True)
    for name, first, count in zip(names, firsts, counts):  # one median per series in the sample
        own = float(np.median(misses[order[first : first + count]])) / 0.6745
        if count >= OWN_SPREAD_WINDOWS and own > 0:  # a series fitted exactly keeps the pooled one
            spreads[name] = own
    return spreads


def fit(train: Chunks, train_idx: np.ndarray, val: Chunks, val_idx: np.ndarray,
        series: np.ndarray | None = None) -> Fitted:
    """Least squares or Huber-weighted, each at its best penalty: whichever misses the validation
    windows `val_idx` less (mean squared error). `series`: each training window's series (None: one)."""
    squares = best_penalty(normal_equations(train, train_idx), None, val, val_idx)
    robust = squares
    for _ in range(HUBER_PASSES):
        spread = residual_spread(train, train_idx, robust.coefficients, series)
        if not np.all(spread > 0):  # a series fitted exactly: nothing to weigh its misses against
            return squares
        weighting = (robust.coefficients, spread)
        robust = best_penalty(normal_equations(train, train_idx, weighting, series), weighting, val, val_idx)
    return robust if robust.val_mse < squares.val_mse else squares


def best_penalty(equations: Equations, weighting: Weighting, val: Chunks, val_idx: np.ndarray) -> Fitted:
    """The equations solved at every one of PENALTIES; the solution whose forecasts miss `val_idx` least."""
    solutions = [solve(*equations, float(penalty)) for penalty in PENALTIES]
    errors = np.zeros(len(PENALTIES))
    for lo in range(0, len(val_idx), CHUNK):
        x, y = val(val_idx[lo : lo + CHUNK])
        y64 = y.astype(np.float64)
        errors += [float(np.sum((forecast(c, x) - y64) ** 2)) for c in solutions]
    best = int(np.argmin(errors))
    values = len(val_idx) * solutions[best].shape[1]
    return Fitted(solutions[best], float(PENALTIES[best]), weighting, equations, float(errors[best]) / max(values, 1))


def refit(fitted: Fitted, read: Chunks, idx: np.ndarray, series: np.ndarray | None = None) -> np.ndarray:
    """The coefficients solved again, at the fitted penalty, with windows `idx` (of series `series`) added,
    weighted as the fit's were."""
    gram, cross, total = fitted.equations
    more = normal_equations(read, idx, fitted.weighting, series)
    return solve(gram + more[0], cross + more[1], total + more[2], fitted.penalty)
