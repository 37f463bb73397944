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
outcomes covered tends to the level as long as lambda never hits its bounds (1/100 and
100): the running sum of (share missed - allowed) is then the change in log lambda over
RATE, which is bounded (adaptive conformal inference, Gibbs & Candes 2021; its
scale-tracking form as in conformal PID control, Angelopoulos, Candes & Tibshirani 2023).
Pooling the K steps of each row lets a shift seen on short steps widen the long steps at
once, instead of waiting K rows for them.

Rows whose target was made up to fill a gap are no outcomes and are not counted.
The recursion is sequential by nature: a loop over rows, each a handful of NumPy calls on
that row's outcomes, for all series of similar length at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rnncast.forecaster import Model, forecast_windows, known_series
from rnncast.frequency import future_times
from rnncast.intervals import usable_levels
from rnncast.transform import to_model
from rnncast.windows import rows_before

if TYPE_CHECKING:
    from rnncast.io import SeriesSet

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
    return track_scales([errors], lower, upper, level, rate)[0]


def track_scales(errors: Sequence[np.ndarray], lower: np.ndarray, upper: np.ndarray, level: float,
                 rate: float = RATE) -> list[np.ndarray]:
    """`track_scale` for many independent series at once: one (N_s + 1,) array per (N_s, K).

    The series step through their rows together, so a thousand series cost about what
    one does; series of similar length share a batch (padding at most doubles the work).
    """
    out: list[np.ndarray] = [np.ones(len(e) + 1) for e in errors]
    batches: dict[int, list[int]] = {}
    for s, e in enumerate(errors):
        if len(e):
            batches.setdefault(int(np.ceil(np.log2(len(e)))), []).append(s)
    for members in batches.values():
        for s, scales in zip(members, _track_batch([np.asarray(errors[s], dtype=np.float64) for s in members],
                                                   lower, upper, level, rate)):
            out[s] = scales
    return out


def _track_batch(errors: list[np.ndarray], lower: np.ndarray, upper: np.ndarray, level: float,
                 rate: float) -> list[np.ndarray]:
    """The recursion of `track_scale` on B series in lockstep, padded with NaN to the longest."""
    n = max(len(e) for e in errors)
    k_steps = errors[0].shape[1]
    padded = np.full((len(errors), n, k_steps), np.nan)
    for b, e in enumerate(errors):
        padded[b, : len(e)] = e
    allowed, bound = 1.0 - level / 100.0, float(np.log(MAX_SCALE))
    steps = np.arange(k_steps)
    scales = np.ones((len(errors), n + 1))
    log_scale = np.zeros(len(errors))
    for row in range(n):
        # The outcomes row `row` reveals: origin row - k's step k, for every k it has.
        step = steps[: row + 1]
        origins = row - step
        err = padded[:, origins, step]  # (B, m)
        known = ~np.isnan(err)
        issued = scales[:, origins]  # the scale each origin's interval was given
        with np.errstate(invalid="ignore"):
            missed = ((err < issued * lower[step]) | (err > issued * upper[step])) & known
        counted = known.sum(axis=1)
        share = missed.sum(axis=1) / np.maximum(counted, 1)
        moved = np.clip(log_scale + rate * (share - allowed), -bound, bound)
        log_scale = np.where(counted > 0, moved, log_scale)
        scales[:, row + 1] = np.exp(log_scale)
    return [scales[b, : len(e) + 1] for b, e in enumerate(errors)]


def first_new_rows(model: Model, series: SeriesSet, known: Sequence[int | None]) -> list[int]:
    """Per series, the first row (within it) after the model's last fitted time of that
    series; its length for series the model does not know (nothing of theirs is new)."""
    out = []
    for s, (begin, end) in enumerate(zip(series.offsets[:-1], series.offsets[1:])):
        times = series.times[begin:end]
        out.append(len(times) if known[s] is None else
                   int(np.searchsorted(times, model.last_times[known[s]], side="right")))
    return out


def scored_rows(model: Model, series: SeriesSet, known: Sequence[int | None]) -> list[int]:
    """Per series, how many rows scored a forecast: new, not made up, with a window before."""
    out = []
    for s, first_new in enumerate(first_new_rows(model, series, known)):
        begin, end = series.offsets[s], series.offsets[s + 1]
        scored = np.zeros(end - begin, dtype=bool)
        scored[max(first_new, model.lookback):] = True
        if series.made_up is not None:
            scored &= ~series.made_up[begin:end]
        out.append(int(scored.sum()))
    return out


def series_scales(model: Model, series: SeriesSet, known: Sequence[int | None],
                  levels: Sequence[int]) -> dict[int, list[np.ndarray]]:
    """{level: [(L_s + 1,) per series]}: the interval scale for a forecast from each row.

    known[s] is the model's index of series s (None: unknown, scale 1 throughout). Rows
    after the model's last fitted time of that series are new and counted, except those
    made up to fill gaps; entry r uses only rows before r; entry L_s is the scale for the
    forecast from the end of the data.
    """
    from rnncast.features import volatility
    from rnncast.holiday_flags import with_holidays

    series = with_holidays(series, model.window.holidays)
    T, K = model.lookback, model.net.horizon
    begins, ends = series.offsets[:-1], series.offsets[1:]
    out = {lv: [np.ones(end - begin + 1) for begin, end in zip(begins, ends)] for lv in levels}
    work = []  # (s, first new row, first origin to replay) for the series with something new
    for s, new_from in enumerate(first_new_rows(model, series, known)):
        first_origin = max(T, new_from - K + 1)
        if new_from < ends[s] - begins[s] and first_origin < ends[s] - begins[s]:
            work.append((s, new_from, first_origin))
    if not levels or not work:
        return out
    # One row per origin to replay, over all series: which series, which row, what is new.
    who = np.concatenate([np.full(ends[s] - begins[s] - o0, s) for s, _, o0 in work])
    origin = np.concatenate([np.arange(o0, ends[s] - begins[s]) for s, _, o0 in work])  # within its series
    new_from_row = np.concatenate([np.full(ends[s] - begins[s] - o0, f) for s, f, o0 in work])
    length, begin, index = ends[who] - begins[who], begins[who], np.array([known[s] for s in who])
    # Each series' times then the K after its end, where origins near the end forecast:
    # series s starts at begins[s] + s * K in this array (K extra per earlier series).
    ahead = future_times(series.times[ends - 1], model.freq, K)  # (S, K)
    times = np.concatenate([part for s in range(len(begins))
                            for part in (series.times[begins[s]:ends[s]], ahead[s])])
    errors = np.full((len(origin), K), np.nan)
    steps = np.arange(K)
    for lo in range(0, len(origin), CHUNK):
        at = slice(lo, lo + CHUNK)
        # (n, R, F): a blended model's Theta reads more than the lookback
        history = series.values[rows_before(begin[at] + origin[at], begin[at], model.history_rows)]
        targets = origin[at][:, None] + steps  # (n, K), rows within the series
        future = times[(begin[at] + who[at] * K)[:, None] + targets]
        # Target rows past the data have no actual: read the last row there, counted False.
        row = begin[at][:, None] + np.minimum(targets, length[at][:, None] - 1)
        steps_known = series.values[row, 1 + len(model.features):] if model.known_columns else None
        forecast = forecast_windows(model, history, future, model.scaler, index[at],
                                    known_future=steps_known)["forecast"]
        actual = series.values[row, 0]
        if model.window.transform != "none":  # misses in the model's space, where the intervals were calibrated
            actual = to_model(model.window.transform, np.maximum(actual, 1e-300)[..., None])[..., 0]
            forecast = to_model(model.window.transform, forecast[..., None])[..., 0]
            history = to_model(model.window.transform, history)
        counted = (targets < length[at][:, None]) & (targets >= new_from_row[at][:, None])
        if series.made_up is not None:
            counted &= ~series.made_up[row]
        # In the units the intervals were calibrated in: scaled, per unit of window spread.
        scale = model.scaler.scale[index[at], :1]  # (n, 1)
        spread = volatility(model.scaler.windows(history[:, -T:], index[at], columns=1).astype(np.float32))
        errors[at] = np.where(counted, (actual - forecast) / scale / spread[:, None], np.nan)
    per_series = np.split(errors, np.cumsum([ends[s] - begins[s] - o0 for s, _, o0 in work])[:-1])
    assert model.intervals is not None, "levels come from rnncast.intervals.usable_levels"
    for lv in levels:
        tracked = track_scales(per_series, model.intervals[0, lv - 1], model.intervals[1, lv - 1], lv)
        for (s, _, o0), scales in zip(work, tracked):
            out[lv][s][o0:] = scales
    return out


def interval_scales(model: Model, series: SeriesSet, levels: Sequence[int]) -> dict[int, list[np.ndarray]]:
    """{L: [(rows_s + 1,) per series]}: the level-L interval scale for a forecast from each row.

    Entry r of series s scales the interval of a forecast whose first step is row r of
    that series (entry rows_s: the forecast past its end), after the intervals' misses on
    the rows of s newer than the fit and before r; 1 where no row is new, and for series
    the model does not know. `series` is in original units, like `fit`'s data.
    """
    levels = usable_levels(model.intervals, levels)
    series = series.in_zone(model.tz)  # rows count as new by the model's clock
    return series_scales(model, series, known_series(model, series.ids), levels)


def latest_scales(model: Model, series: SeriesSet, levels: Sequence[int],
                  notes: list[str] | None) -> dict[int, np.ndarray]:
    """{L: (S,)} each series' interval scale at the end of `series` (in the model's zone), noted in `notes`.

    `levels` must come from rnncast.intervals.usable_levels, as `rnncast.api.forecast` checks them.
    """
    per_row = series_scales(model, series, known_series(model, series.ids), levels)
    latest = {lv: np.array([scales[-1] for scales in per_row[lv]]) for lv in levels}
    new_rows = scored_rows(model, series, known_series(model, series.ids))
    adapted = [s for s, rows in enumerate(new_rows) if rows > 0]
    if notes is not None and adapted:
        spans = ", ".join(f"{lv}% x{latest[lv][adapted].min():.2f}" + (
            f"..x{latest[lv][adapted].max():.2f}" if len(adapted) > 1 else "") for lv in levels)
        rows = sum(new_rows)
        where = f"{rows} row{'s' if rows != 1 else ''}" + (f" of {len(adapted)} series" if len(adapted) > 1 else "")
        notes.append(f"intervals follow their misses on {where} after the fit: width {spans}")
    return latest
