"""Updating: a fitted Model and rows newer than its fit in, the same model trained a little further out.

Warm start from the stored weights, a few epochs on the windows whose targets reach into
the new rows, mixed with older windows (when the data holds older rows: at least as many,
and REPLAY_WINDOWS) so the network does not forget. The intervals are recalibrated, when
there are enough new rows, by an update that held out the newest of them, on its errors
there (rows it did not train on), as fit calibrates on its first model's validation
errors. Each series' stored history moves forward; the lineage records the update.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from rnncast.errors import DataError
from rnncast.forecaster import Model, known_series
from rnncast.io import SeriesSet

UPDATE_EPOCHS = 5  # a brief continuation, not a refit
# Older windows replayed beside the new ones: at least as many as the new, and enough for
# the optimizer to take a few dozen steps an epoch (a handful of new rows alone would not).
REPLAY_WINDOWS = 2048
# The newest share of the new rows held out to recalibrate the intervals (horizon rows at least).
CALIBRATION_SHARE = 0.2


def update_model(model: Model, series: SeriesSet, *, epochs: int = UPDATE_EPOCHS,
                 notes: list[str] | None = None, on_epoch: Callable[..., None] | None = None) -> Model:
    """The model trained further on the rows of `series` newer than its fit (series in the model's zone)."""
    from rnncast.features import model_inputs, volatility
    from rnncast.fitting import validation_scores
    from rnncast.frequency import future_times, season_length
    from rnncast.holiday_flags import with_holidays
    from rnncast.intervals import calibrate_levels, min_windows_two_sided
    from rnncast.io.writing import iso_times
    from rnncast.linear import forecast as linear_forecast
    from rnncast.model import predict
    from rnncast.params import ParamLayout
    from rnncast.theta import blended
    from rnncast.train import train as run_training
    from rnncast.transform import to_model
    from rnncast.windows import ScalerStats, padded_windows, rows_before, scale

    series = with_holidays(series, model.window.holidays)
    T, K = model.window.steps
    known = known_series(model, series.ids)
    unknown = [name for name, m in zip(series.ids, known) if m is None]
    if unknown and notes is not None:
        notes.append(f"{len(unknown)} series the model was not fitted on left out ({unknown[0]!r}"
                     + (" ..." if len(unknown) > 1 else "") + "): fit again to include them")
    parts, times, index, old_lengths, new_rows = [], [], [], [], 0
    for s, m in enumerate(known):
        if m is None:
            continue
        a, b = series.offsets[s], series.offsets[s + 1]
        ts, vs = series.times[a:b], series.values[a:b]
        name = series.ids[s]
        if ts[-1] < model.last_times[m]:
            raise DataError(f"{series.source}: series {name!r} ends at {iso_times(ts[-1:], series.tz)[0]}, before "
                            f"the model's last row ({iso_times(model.last_times[m:m + 1], model.tz)[0]}): the data "
                            "goes back in time; give data that continues the model")
        first_new = int(np.searchsorted(ts, model.last_times[m], side="right"))
        if first_new < len(ts) and ts[first_new] != model.future_times[m, 0]:
            got = iso_times(ts[first_new:first_new + 1], series.tz)[0]
            want = iso_times(model.future_times[m, :1], model.tz)[0]
            raise DataError(f"{series.source}: series {name!r} goes on at {got}, but the model's next step is "
                            f"{want}: the new rows must continue the model without a gap")
        # The rows before the new ones: the data's own when it has the history a forecast reads, else the stored one.
        if first_new >= model.history_rows:
            old_v, old_t = vs[:first_new], ts[:first_new]
        else:
            old_v, old_t = model.history[m], model.history_times(m)
        parts.append(np.concatenate([old_v, vs[first_new:]]))
        times.append(np.concatenate([old_t, ts[first_new:]]))
        index.append(m)
        old_lengths.append(len(old_v))
        new_rows += len(ts) - first_new
    if not new_rows:
        latest = iso_times(model.last_times.max(keepdims=True), model.tz)[0]
        raise DataError(f"{series.source}: no rows newer than the model's last ({latest}); nothing to update")
    values = np.concatenate(parts)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    stamps = np.concatenate(times)
    idx = np.asarray(index)
    stats = ScalerStats(model.scaler.kind, model.scaler.loc[idx], model.scaler.scale[idx])
    scaled = scale(to_model(model.window.transform, values, [model.ids[m] for m in idx], offsets), offsets, stats)
    starts, ends, old_end = offsets[:-1], offsets[1:], offsets[:-1] + np.asarray(old_lengths)

    def inputs(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, ...]:
        x, y, which, t = padded_windows(scaled, offsets, T, K, first, last)
        ahead = t[:, None] + np.arange(K)  # (W, K): target rows, all real
        known_future = scaled[ahead, 1 + len(model.features):] if model.known_columns else None
        static = None if model.static_values is None else model.static_values[idx[which]]
        net_in, extra, anchor = model_inputs(x, stamps[ahead], model.window, model.calendar, known_future, static)
        return net_in, y - anchor[:, None], extra, anchor, which, x, t

    # Windows whose targets reach into the new rows, and as many from before them (no forgetting).
    x_new, y_new, e_new, a_new, s_new, raw_new, t_new = inputs(np.maximum(starts + 1, old_end - K + 1), ends - K)
    x_old, y_old, e_old, *_ = inputs(starts + T, old_end - K)
    rng = np.random.default_rng(model.train.seed)
    keep = np.sort(rng.choice(len(x_old), min(len(x_old), max(len(x_new), REPLAY_WINDOWS)), replace=False))
    x_train, y_train, e_train = (np.concatenate([new, old[keep]]) for new, old in
                                 ((x_new, x_old), (y_new, y_old), (e_new, e_old)))

    season = season_length(model.freq)

    def forecasts(params: dict[str, np.ndarray], at: np.ndarray | slice) -> np.ndarray:
        """The model's forecasts of new windows `at` in the network's units: blended as predict's are."""
        pred = predict(model.net, params, x_new[at], e_new[at]).astype(np.float64)
        if model.blend == 1.0:
            return pred
        if model.linear is not None:  # kept as fitted: its map is shared by every series, one step is noise to it
            other = linear_forecast(model.linear, raw_new[at][:, :, 0] - a_new[at][:, None])
            return model.blend * pred + (1.0 - model.blend) * other
        return blended(pred, model.blend, values[:, 0], starts, t_new[at], s_new[at], model.history_rows, stats,
                       a_new[at], model.window.transform, season, model.window.combine)

    # The model before the update on the new windows: errors on rows it never trained on.
    before = forecasts(model.params, slice(None))
    scores = validation_scores(before, y_new, a_new, raw_new[:, :, 0], stats, s_new, season, model.window.transform)
    layout = ParamLayout.for_spec(model.net)
    tspec = replace(model.train, epochs=epochs, patience=0)
    started = time.perf_counter()
    # Intervals from an update that did not see the newest CALIBRATION_SHARE of the new rows,
    # on the windows whose targets lie there: data that updated model did not train on.
    tail = np.maximum(K, np.rint(CALIBRATION_SHARE * (ends - old_end)).astype(np.int64))[s_new]
    held = t_new >= ends[s_new] - tail  # the windows whose targets all lie in the held-out tail
    taught = t_new + K <= ends[s_new] - tail
    intervals = model.intervals
    if held.sum() >= min_windows_two_sided(95) and taught.any():
        first = run_training(model.net, tspec, layout.flatten(model.params),
                             np.concatenate([x_new[taught], x_old[keep]]), np.concatenate([y_new[taught], y_old[keep]]),
                             extra_train=np.concatenate([e_new[taught], e_old[keep]]))
        calibrating = layout.views(first.params)
        pred = forecasts(calibrating, held)
        intervals = calibrate_levels((y_new[held] - pred) / volatility(raw_new[held])[:, None], s_new[held])
    elif notes is not None:
        count = int(held.sum())
        notes.append(f"intervals kept as they were: {count} window{'s' if count != 1 else ''} in the newest rows "
                     f"{'are' if count != 1 else 'is'} too few to recalibrate them (needs {min_windows_two_sided(95)})")
    result = run_training(model.net, tspec, layout.flatten(model.params), x_train, y_train, on_epoch=on_epoch,
                          extra_train=e_train)
    params = {name: view.copy() for name, view in layout.views(result.params).items()}

    last = stamps[ends - 1]
    history = values[rows_before(ends, starts, model.history_rows)].astype(np.float64)
    all_history, all_last, all_future = model.history.copy(), model.last_times.copy(), model.future_times.copy()
    all_history[idx], all_last[idx] = history, last
    all_future[idx] = future_times(last, model.freq, K)
    metrics: dict[str, Any] = {**model.metrics, "update_new_rows": int(new_rows), "update_windows": int(len(x_train)),
                               "update_seconds": round(time.perf_counter() - started, 3),
                               **{f"update_{k}": v for k, v in scores.items()}}
    event = {"event": "update", "rows": int(new_rows), "series": int(len(idx)),
             "until": iso_times(np.array([last.max()]), model.tz)[0]}
    return replace(model, params=params, history=all_history, last_times=all_last, future_times=all_future,
                   intervals=intervals, metrics=metrics, lineage=(*model.lineage, event))
