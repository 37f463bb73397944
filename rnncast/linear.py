"""A linear map from each window's lookback to its horizon, solved in closed form: the partner the
network is blended with on hourly data (`--combine linear`, auto for hourly).

NLinear (Zeng et al. 2023) showed that one linear layer over windows re-centred on their
last value is hard to beat on ETT. Trained by gradient steps with early stopping, rnncast's
own linear "highway" stops short of that optimum; ridge regression reaches it in one solve
of the normal equations, summed over the training windows in chunks so memory stays
bounded whatever the panel. It lives in the network's units (scaled, re-centred on each
window's anchor), reads only the target's lookback, and is shared by every series, as
NLinear is. Its penalty is the one whose forecasts miss the validation windows least.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Ridge penalties tried, per window and per unit of the inputs' mean square: scale-free, so
# one grid serves a series of 8,000 windows and a panel of millions.
PENALTIES = np.logspace(-5, 1, 13)
# Windows summed into the normal equations at a time: bounds the memory of one chunk.
CHUNK = 16_384
# Training windows the map is solved on, at most (a fixed sample beyond): its T x K
# coefficients are pinned down long before that.
MAX_WINDOWS = 500_000

# What a chunk reader gives: (W, T) inputs and (W, K) targets, re-centred, network units.
Chunks = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def with_intercept(x: np.ndarray) -> np.ndarray:
    """(W, T + 1): the inputs and a column of ones (the intercept, never penalised)."""
    return np.hstack([x.astype(np.float64), np.ones((len(x), 1))])


def normal_equations(read: Chunks, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """X'X (T+1, T+1) and X'Y (T+1, K) over the windows `idx`, read CHUNK at a time, and their count."""
    gram = cross = None
    for lo in range(0, len(idx), CHUNK):
        x, y = read(idx[lo : lo + CHUNK])
        xa = with_intercept(x)
        part_gram, part_cross = xa.T @ xa, xa.T @ y.astype(np.float64)
        gram = part_gram if gram is None else gram + part_gram
        cross = part_cross if cross is None else cross + part_cross
    assert gram is not None and cross is not None, "normal_equations needs at least one window"
    return gram, cross, len(idx)


def solve(gram: np.ndarray, cross: np.ndarray, windows: int, penalty: float) -> np.ndarray:
    """(T+1, K) ridge coefficients, the last row the intercept: penalty x windows x the inputs' mean square."""
    T = len(gram) - 1
    energy = float(np.trace(gram[:T, :T])) / max(T * windows, 1)
    ridge = np.zeros(T + 1)
    ridge[:T] = penalty * windows * max(energy, 1e-12)
    try:
        return np.linalg.solve(gram + np.diag(ridge), cross)
    except np.linalg.LinAlgError:  # a singular system (constant inputs): the least-squares answer
        return np.linalg.lstsq(gram + np.diag(ridge), cross, rcond=None)[0]


def forecast(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(W, K) forecasts of inputs x (W, T), re-centred network units, float64."""
    return x.astype(np.float64) @ coefficients[:-1] + coefficients[-1]


def fit(gram: np.ndarray, cross: np.ndarray, windows: int, x_val: np.ndarray,
        y_val: np.ndarray) -> tuple[np.ndarray, float]:
    """The coefficients and penalty whose forecasts of the validation windows have the least squared error."""
    best: tuple[float, float, np.ndarray] | None = None
    for penalty in PENALTIES:
        coefficients = solve(gram, cross, windows, float(penalty))
        error = float(np.mean((forecast(coefficients, x_val) - y_val) ** 2))
        if best is None or error < best[0]:
            best = (error, float(penalty), coefficients)
    assert best is not None
    return best[2], best[1]
