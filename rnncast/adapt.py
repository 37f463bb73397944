"""Prediction intervals that follow their own misses on data that arrived after the fit.

Intervals calibrated at fit time hold their level on data like the validation data. When
a series turns calmer or wilder after the fit, they over- or under-cover, and no amount
of care at fit time can know which. Data given to `predict` that goes past the fit says
which: each new row is the outcome of up to K earlier forecasts (one per horizon step),
and each outcome tells whether that forecast's interval held.

So each interval's offsets from the forecast are multiplied by a factor lambda, one per
series and level, as the window's spread already multiplies them (a scale on the errors),
starting at 1 after the fit and moving with every new row:

    log lambda += RATE * (share of that row's outcomes missed - (1 - level))

wider after misses, narrower after hits. Whatever the data does, the long-run share of
outcomes covered tends to the level: the running sum of (missed - allowed) is RATE-times
the change in log lambda, which stays bounded while the errors do (adaptive conformal
inference, Gibbs & Candes 2021; its scale-tracking form as in conformal PID control,
Angelopoulos, Candes & Tibshirani 2023). Pooling the K steps of each row lets a shift
seen on short steps widen the long steps at once, instead of waiting K rows for them.

Rows whose target was made up to fill a gap are no outcomes and are not counted.
The recursion is sequential by nature: a loop over rows, each a handful of NumPy calls
on the K outcomes of that row (about 40 us a row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rnncast.api import Model

# Per row, log lambda moves by at most RATE: after a sudden doubling of the errors the
# intervals catch up within a few hundred rows, and one odd row moves them by 2 % at most.
RATE = 0.02
# Bounds on lambda: an interval that does not contain its forecast (levels of a few
# percent) can miss more as it widens, and must not run off to infinity or zero.
MAX_SCALE = 100.0
# Origins forecast per batch while replaying the new rows (bounds memory on long data).
CHUNK = 4096


def track_scale(errors: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float,
                rate: float = RATE) -> np.ndarray:
    """(N + 1,) the interval scale for forecasts from origins 0..N, given their errors.

    errors (N, K): errors[o, k] = actual - forecast of the forecast made at origin o for
    step k, i.e. for row o + k (origin o's first target is row o); NaN where unknown or
    not to be counted. lower, upper (K,): the interval at scale s is
    [forecast + s * lower, forecast + s * upper]. Rows are taken in order; the scale for
    origin o is the one reached after rows 0..o-1, and an outcome is judged by the
    interval that origin actually issued. Origins before the first counted outcome keep
    scale 1.
    """
    errors = np.asarray(errors, dtype=np.float64)
    n, k_steps = errors.shape
    allowed = 1.0 - level / 100.0
    steps = np.arange(k_steps)
    scales = np.ones(n + 1)
    log_scale, bound = 0.0, float(np.log(MAX_SCALE))
    for row in range(n):
        # The outcomes row `row` reveals: origin row - k's step k, for every k it has.
        origins = row - steps[: row + 1]
        step = steps[: row + 1]
        err = errors[origins, step]
        known = ~np.isnan(err)
        if known.any():
            origins, step, err = origins[known], step[known], err[known]
            issued = scales[origins]
            missed = (err < issued * lower[step]) | (err > issued * upper[step])
            log_scale = min(max(log_scale + rate * (float(missed.mean()) - allowed), -bound), bound)
        scales[row + 1] = np.exp(log_scale)
    return scales


def series_scales(model: Model, values: np.ndarray, times: np.ndarray, loc: np.ndarray, scale: np.ndarray,
                  first_new: int, levels: Sequence[int], made_up: np.ndarray | None = None
                  ) -> dict[int, np.ndarray]:
    """{level: (L + 1,)} interval scales for a forecast from each origin 0..L of one series.

    values (L, F) original units; times (L + K,) the rows' times then the K after the last
    (what origins near the end forecast); loc, scale (F,) the series' scaling. Rows
    from `first_new` on are new to the model and counted, except those `made_up` (L,)
    marks; the scale at origin r uses only rows before r. Entry L is the scale for the
    forecast from the end of the data.
    """
    from rnncast.api import forecast_windows
    from rnncast.features import volatility
    from rnncast.windows import ScalerStats

    T, K = model.window.lookback, model.net.horizon
    L = len(values)
    out = {lv: np.ones(L + 1) for lv in levels}
    first_origin = max(T, first_new - K + 1)
    if not levels or first_new >= L or first_origin >= L:
        return out
    stats = ScalerStats(model.window.scaler, loc[None, :], scale[None, :])
    origins = np.arange(first_origin, L)
    errors = np.full((len(origins), K), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(values, T, axis=0)  # (L-T+1, F, T)
    for begin in range(0, len(origins), CHUNK):
        chunk = origins[begin:begin + CHUNK]
        history = windows[chunk - T].transpose(0, 2, 1)  # (n, T, F)
        targets = chunk[:, None] + np.arange(K)  # (n, K)
        future = times[targets]
        forecast = forecast_windows(model, history, future, stats, np.zeros(len(chunk), dtype=np.int64))["forecast"]
        actual = values[np.minimum(targets, L - 1), 0]
        counted = (targets < L) & (targets >= first_new)
        if made_up is not None:
            counted &= ~made_up[np.minimum(targets, L - 1)]
        # In the units the intervals were calibrated in: scaled, per unit of window volatility.
        spread = volatility(((history[:, :, :1] - loc[0]) / scale[0]).astype(np.float32))[:, None]  # as forecast_windows
        errors[begin:begin + len(chunk)] = np.where(counted, (actual - forecast) / scale[0] / spread, np.nan)
    for lv in levels:
        out[lv][first_origin:] = track_scale(errors, model.intervals[0, lv - 1], model.intervals[1, lv - 1], lv)
    return out
