"""What the network sees besides the scaled series: window normalization, patches, the
head's extra inputs (the window itself and calendar features of the forecast steps).

Plain NumPy on windows X (N, T, F) and targets Y (N, K), column 0 the target.
"""

from __future__ import annotations

import numpy as np

from rnncast.config import WindowSpec

_NS_PER_HOUR = 3_600_000_000_000
_NS_PER_DAY = 24 * _NS_PER_HOUR


def anchors(X: np.ndarray, norm: str) -> np.ndarray:
    """(N,) the level each window is re-centred on: its last target value, its mean, or 0.

    Re-centring each window on its own last value (NLinear, RevIN) lets the network learn
    changes rather than levels, so a level it never saw in training does not throw it.
    """
    return anchors_of(X[:, :, :1], norm)[:, 0]


def anchors_of(columns: np.ndarray, norm: str) -> np.ndarray:
    """(N, C) the level of each window's columns (N, T, C), as `anchors` takes the target's."""
    if norm == "last":
        return columns[:, -1, :].astype(np.float32)
    if norm == "mean":
        return columns.mean(axis=1).astype(np.float32)
    return np.zeros((len(columns), columns.shape[2]), np.float32)


VOLATILITY_FLOOR = 1e-3  # scaled units: a constant window still gets an interval


def volatility(X: np.ndarray) -> np.ndarray:
    """(N,) each window's standard deviation of the target column, in scaled units.

    Prediction intervals are calibrated on residuals divided by this (locally weighted
    split conformal): a calm stretch gets narrow intervals, a turbulent one wide ones,
    instead of one width learned from whatever the validation period happened to be.
    """
    spread = X[:, :, 0].astype(np.float64).std(axis=1)
    return np.maximum(spread, VOLATILITY_FLOOR)


def calendar_features(times: np.ndarray, columns: tuple[str, ...]) -> np.ndarray:
    """sin/cos pairs of each cycle (rnncast.frequency.calendar_cycles) for `times` -> times.shape + (2C,)."""
    ns = times.astype("datetime64[ns]").astype(np.int64)
    parts = []
    for name in columns:
        if name == "hour":
            phase = (ns % _NS_PER_DAY) / _NS_PER_DAY
        elif name == "weekday":
            # 1970-01-01 was a Thursday: shift so Monday is 0.
            phase = ((ns // _NS_PER_DAY + 3) % 7) / 7
        else:
            month = times.astype("datetime64[M]").astype(np.int64) % 12
            phase = month / 12
        parts += [np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)]
    if not parts:
        return np.zeros(times.shape + (0,), np.float32)
    return np.stack(parts, axis=-1).astype(np.float32)


def model_inputs(X: np.ndarray, future_times: np.ndarray | None, window: WindowSpec,
                 calendar: tuple[str, ...], known_future: np.ndarray | None = None,
                 static: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows X (N, T, F) scaled -> (network input (N, T/P, P*F), head extras (N, E), anchors (N,)).

    The anchor is subtracted from the target column (add it back to the forecast); the
    head's extras are the re-centred target window (when window.highway), the calendar
    features of the K forecast steps (future_times (N, K)), the known columns' scaled
    values at those steps (known_future (N, K, Kn)) and the series' encoded attributes
    (static (N, D)). The head is where the forecast steps are, so that is where what is
    known of them enters; the recurrent encoder reads the known columns' past with the rest.
    """
    anchor = anchors(X, window.norm)
    X = X.astype(np.float32, copy=True)
    X[:, :, 0] -= anchor[:, None]
    width = 0 if known_future is None else known_future.shape[2]
    if width:
        # The known columns (X's last ones) are re-centred as the target is, on the window's
        # own last (or mean) values, over the lookback and the forecast steps alike: the
        # network reads changes (a promotion starting: +1), not levels that drift between
        # the training rows and later ones.
        level = anchors_of(X[:, :, -width:], window.norm)  # (N, Kn)
        X[:, :, -width:] -= level[:, None, :]
        known_future = known_future - level[:, None, :]
    extras = []
    if window.highway:
        extras.append(X[:, :, 0])
    if calendar and future_times is not None:
        extras.append(calendar_features(future_times, calendar).reshape(len(X), -1))
    if known_future is not None and width:
        extras.append(known_future.reshape(len(X), -1).astype(np.float32))
    if static is not None and static.size:
        extras.append(static.astype(np.float32))
    extra = np.concatenate(extras, axis=1) if extras else np.zeros((len(X), 0), np.float32)
    N, T, F = X.shape
    P = window.patch_size
    net_in = np.ascontiguousarray(X.reshape(N, T // P, P * F))  # (N, T/P, P*F): P steps a token
    return net_in, np.ascontiguousarray(extra, dtype=np.float32), anchor


def extra_width(window: WindowSpec, calendar: tuple[str, ...], known: int = 0, static: int = 0) -> int:
    """E: how many extra inputs the head reads (known: columns known in advance; static: encoded width)."""
    lookback, horizon = window.steps
    return (lookback if window.highway else 0) + horizon * (2 * len(calendar) + known) + static
