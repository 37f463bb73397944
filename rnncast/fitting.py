"""Fitting: a SeriesSet and the specs in, a trained `Model` with calibrated intervals and validation scores out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.errors import DataError, TrainingError
from rnncast.forecaster import Model
from rnncast.io import SeriesSet
from rnncast.windows import ScalerStats

# Validation forecasts off by this many times how much the values move (in scaled units:
# ten thousand standard deviations) come from a diverged fit, never a model to write.
DIVERGED_RATIO = 1e4
# Validation windows the intervals and scores are computed on, at most (a fixed sample beyond).
CALIBRATION_WINDOWS = 200_000


def _sample(n: int, cap: int, seed: list[int]) -> np.ndarray:
    """All of range(n), or `cap` of them drawn by `seed`, sorted."""
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def fit_series(series: SeriesSet, window: WindowSpec, net: NetSpec, train: TrainSpec,
               on_epoch: Callable[..., None] | None = None) -> Model:
    """Train on every series of `series` and return the Model.

    `window` may leave lookback and horizon to the frequency; `net` gives the cell and
    sizes (its inputs, horizon and head width follow from the data and the window).
    """
    from rnncast import theta
    from rnncast.batches import WindowSet, window_set
    from rnncast.frequency import calendar_cycles, future_times, season_length
    from rnncast.holiday_flags import check_code, column_name, with_holidays
    from rnncast.io.writing import iso_times
    from rnncast.memory import give_back
    from rnncast.params import ParamLayout, init_params
    from rnncast.statics import encode, fit_statics
    from rnncast.train import train as run_training
    from rnncast.transform import choose, to_model
    from rnncast.windows import choose_scaler, fit_scaler, last_windows, scale, scale32, spare_split

    give_back()  # the read's temporaries, freed but kept by the allocator, before fit's own arrays
    window = window.resolved(series.freq)
    if window.holidays:
        window = replace(window, holidays=check_code(window.holidays))
    given_known = tuple(k for k in series.known if not window.holidays or k != column_name(window.holidays))
    series = with_holidays(series, window.holidays)
    classics = theta.candidates(window.combine, series.freq)  # chosen among on validation
    window = replace(window, transform=choose(window.transform, series.values[:, 0], series.freq),
                     combine=theta.choose(window.combine, series.freq),
                     scaler=choose_scaler(window.scaler, series.freq))
    original = series  # in the data's units: the stored history and the fingerprint
    series = replace(series, values=to_model(window.transform, series.values, series.ids, series.offsets))
    T, K = window.steps
    season = season_length(series.freq)
    rows = theta.history_rows(T, season) if window.combine in theta.BLENDED else T  # what each forecast reads
    cycles = calendar_cycles(series.freq) if window.calendar == "auto" else ()
    train_ends, validated = spare_split(series.offsets, window.val_fraction, T, K)
    stats = fit_scaler(window.scaler, series.values, series.offsets, train_ends, ids=series.ids,
                       columns=series.columns)
    scaled32 = scale32(series.values, series.offsets, stats)  # what the network reads
    # Known columns at the forecast steps are read in float64, as the network's inputs were
    # before windows were built per batch; without them no float64 copy is kept.
    scaled = scale(series.values, series.offsets, stats) if series.known else scaled32
    starts, ends = series.offsets[:-1], series.offsets[1:]
    static = fit_statics(series.statics)
    static_values = encode(static, series.statics, series.ids)  # (S, D)
    known_at = 1 + len(series.features)  # the known columns, after the features


    def windows(first: np.ndarray, last: np.ndarray) -> WindowSet:
        return window_set(scaled, scaled32, series.offsets, series.times, first, last, window, cycles,
                          known_at if series.known else None, static_values)

    # Training windows: every first target row with a full lookback before it; a series
    # too short for one also trains on windows whose inputs are padded (at least one real row).
    # They are described, not materialised: each batch is built when it is trained on.
    padded = train_ends - starts < T + K
    first_target = np.where(padded, starts + 1, starts + T)
    train_set = windows(first_target, train_ends - K)
    if not len(train_set):
        need = int(K + 1)
        raise DataError(f"{series.source}: no series has the {need} rows that one training window needs "
                        f"(a row of history and {K} to forecast); use a shorter --horizon or more data")
    val_set = windows(np.where(validated, train_ends, ends), ends - K) if validated.any() else None
    x_val = y_val = e_val = None
    if val_set is not None and len(val_set):
        # Early stopping reads a fixed sample of at most an epoch's worth of validation windows.
        x_val, y_val, e_val = val_set.batch(_sample(len(val_set), train.windows_per_epoch or len(train_set),
                                                    [train.seed, 1]))
    probe, _, probe_extra = train_set.batch(np.zeros(1, np.int64))
    net = replace(net, inputs=probe.shape[2], horizon=K, head_extra=probe_extra.shape[1])

    started = time.perf_counter()
    initial = init_params(net, np.random.default_rng(train.seed))
    result = run_training(net, train, initial, train_set, None, x_val, y_val, on_epoch=on_epoch, extra_val=e_val)
    train_count = len(train_set)
    seconds = time.perf_counter() - started

    layout = ParamLayout.for_spec(net)
    params = {name: view.copy() for name, view in layout.views(result.params).items()}
    blends_linear = window.combine == "linear" and val_set is not None and len(val_set) > 0
    # The validation windows that score the blend and calibrate the intervals (the linear map's penalty too).
    calibration = _sample(0 if val_set is None else len(val_set), CALIBRATION_WINDOWS, [train.seed, 2])
    if blends_linear:  # the linear partner, while the training windows are at hand
        from rnncast import linear

        assert val_set is not None
        partner = linear.fit(train_set.targets, _sample(len(train_set), linear.MAX_WINDOWS, [train.seed, 3]),
                             val_set.targets, calibration,
                             train_set.series)
    refit_windows = 0
    if train.refit_all and x_val is not None and len(x_val):
        # The validation rows are the most recent: train again on every row, from the same
        # start, for as many epochs as early stopping chose. Validation scores and the
        # intervals stay those of the first model, on rows it did not train on.
        whole = ends - starts < T + K
        del train_set  # the refit's windows replace them
        all_set = windows(np.where(whole, starts + 1, starts + T), ends - K)
        final = run_training(net, replace(train, epochs=result.best_epoch, patience=0), initial, all_set, None,
                             on_epoch=on_epoch, final=True)
        refit_windows = len(all_set)
        seconds = time.perf_counter() - started
        first_params, params = params, {name: view.copy() for name, view in layout.views(final.params).items()}
    else:
        first_params = params
    metrics: dict[str, Any] = {
        "padded_series": int((padded & (train_ends - starts > K)).sum()),
        "unvalidated_series": int((~validated).sum()) if window.val_fraction > 0 else 0,
        "train_windows": int(train_count),
        "refit_windows": int(refit_windows),
        "val_windows": int(0 if val_set is None else len(val_set)),
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "train_loss": result.history[-1].train_loss,
        "val_loss": result.best_val_loss,
        "train_seconds": round(seconds, 3),
        "filled_values": series.filled,
    }
    intervals, blend, linear_map = None, 1.0, None
    if val_set is not None and len(val_set):
        from rnncast.intervals import calibrate_levels
        from rnncast.model import predict

        # Intervals and scores from every validation window, or a fixed sample of
        # CALIBRATION_WINDOWS of them on a panel with more: memory stays bounded.
        val, val_pred = _validation_forecasts(val_set, calibration,
                                              lambda x, extra: predict(net, first_params, x, extra))
        if len(val_set) > CALIBRATION_WINDOWS:
            metrics["calibration_windows"] = CALIBRATION_WINDOWS
        _check_converged(val_pred, val["y"], train)
        if window.combine in theta.BLENDED:  # the classic and the network's weight beside it: the validation's choice
            forecasts = {kind: theta.blended(val_pred, 0.0, original.values[:, 0], starts, val["t"], val["series"],
                                             rows, stats, val["anchor"], window.transform, season, kind)
                         for kind in classics}  # weight 0: the classic's alone
            kind = theta.best_classic(val_pred, forecasts, val["y"], val["volatility"])
            window, classic = replace(window, combine=kind), forecasts[kind]
            blend = theta.best_weight(val_pred, classic, val["y"], val["volatility"], float(validated.mean()))
            val_pred = blend * val_pred + (1.0 - blend) * classic
            metrics["blend"], metrics["blend_with"] = blend, window.combine
        elif blends_linear:
            other = linear.forecast(partner.coefficients, val["history"] - val["anchor"][:, None])
            blend = theta.best_weight(val_pred, other, val["y"], val["volatility"], float(validated.mean()))
            val_pred = blend * val_pred + (1.0 - blend) * other
            metrics.update(blend=blend, blend_with="linear", linear_penalty=partner.penalty,
                           linear_fit="huber" if partner.robust else "least squares")
            coefficients = partner.coefficients
            if refit_windows:  # the final map, like the final network, has seen the validation rows too
                coefficients = linear.refit(partner, val_set.targets,
                                            _sample(len(val_set), linear.MAX_WINDOWS, [train.seed, 4]), val_set.series)
            linear_map = coefficients if blend < 1.0 else None  # weight 1: the network alone, nothing to store
        # Each series counts alike: it gets one forecast, however many validation windows it has.
        intervals = calibrate_levels((val["y"] - val_pred) / val["volatility"][:, None], val["series"])
        metrics.update(validation_scores(val_pred, val["y"], val["anchor"], val["history"], stats, val["series"],
                                         season, window.transform))
    last = series.times[series.offsets[1:] - 1]
    return Model(
        net=net, window=window, train=train, params=params, scaler=stats, ids=series.ids,
        target=series.target, features=series.features, time_col=series.time_col,
        id_col=series.id_col, freq=series.freq, tz=series.tz,
        history=last_windows(original.values, series.offsets, rows, ids=series.ids, dtype=np.float64, pad=True),
        last_times=last, future_times=future_times(last, series.freq, K),
        calendar=cycles, intervals=intervals, metrics=metrics, data_fingerprint=original.fingerprint(),
        known=given_known, static=static, static_values=static_values if static else None,
        lineage=({"event": "fit", "rows": int(len(series.values)), "series": len(series.ids),
                  "until": iso_times(np.array([last.max()]), series.tz)[0]},),
        blend=blend,
        linear=linear_map,
    )


# Validation windows built and forecast at a time: their network inputs are the bulk.
_CALIBRATION_CHUNK = 16_384


def _validation_forecasts(val_set: Any, idx: np.ndarray, forecast: Callable[[np.ndarray, np.ndarray], np.ndarray]
                          ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """val_set.detailed(idx) without its network inputs, and the forecasts (W, K) float64, re-centred.

    In chunks: the inputs of 200,000 windows would otherwise be hundreds of MB at once.
    """
    parts: list[dict[str, np.ndarray]] = []
    preds = []
    for start in range(0, len(idx), _CALIBRATION_CHUNK):
        part = val_set.detailed(idx[start : start + _CALIBRATION_CHUNK])
        preds.append(forecast(part.pop("x"), part.pop("extra")).astype(np.float64))
        parts.append(part)
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}, np.concatenate(preds)


def _check_converged(val_pred: np.ndarray, y_val: np.ndarray, train: TrainSpec) -> None:
    """TrainingError when the validation forecasts are finite but absurd.

    Weights blown up to 1e10 by a huge --lr forecast 1e10 for data near 10. In scaled
    units targets move by about 1 (by their own size with --scaler none): errors
    DIVERGED_RATIO times that are never a model worth writing.
    """
    error, moves = float(np.mean(np.abs(val_pred - y_val))), float(np.mean(np.abs(y_val)))
    if not error <= DIVERGED_RATIO * (moves + 1.0):
        raise TrainingError(
            f"training diverged: on the validation windows the forecasts are off by {error:.3g} on average "
            f"(scaled units), where the values move by {moves:.3g}; try a smaller --lr (now {train.lr:g})"
            + (" or --clip 1" if not train.clip else ""))


def validation_scores(pred: np.ndarray, y_val: np.ndarray, anchor: np.ndarray, history: np.ndarray,
                      stats: ScalerStats, series_index: np.ndarray, season: int = 1,
                      transform: str = "none") -> dict[str, Any]:
    """MAE and RMSE on the validation windows in original units, beside the naive and seasonal-naive forecasts'.

    pred and y_val are re-centred on `anchor` (each window's level, see rnncast.features);
    `history` (W, T) is each window's target inputs in scaled units: its last value is the
    naive forecast, its last `season` values repeated the seasonal-naive one (when the
    frequency has a season that fits in the lookback).
    """
    from rnncast.metrics import mae, rmse
    from rnncast.transform import from_model
    from rnncast.windows import unscale_target

    def unscaled(values: np.ndarray) -> np.ndarray:  # in the data's units, whatever the model's space
        return from_model(transform, unscale_target(values, series_index, stats))

    level = anchor[:, None].astype(np.float64)
    actual = unscaled(y_val + level)
    pred = unscaled(pred + level)
    T, K = history.shape[1], actual.shape[1]
    naive = unscaled(np.repeat(history[:, -1:].astype(np.float64), K, axis=1))
    scores: dict[str, Any] = {
        "val_mae": float(mae(actual, pred)),
        "val_rmse": float(rmse(actual, pred)),
        "naive_val_mae": float(mae(actual, naive)),
        "naive_val_rmse": float(rmse(actual, naive)),
    }
    if 1 < season <= T:
        lagged = history[:, T - season + np.arange(K) % season].astype(np.float64)  # (W, K)
        seasonal = unscaled(lagged)
        scores.update(season=season, seasonal_naive_val_mae=float(mae(actual, seasonal)),
                      seasonal_naive_val_rmse=float(rmse(actual, seasonal)))
    return scores
