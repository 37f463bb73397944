"""The public Python API: where reading, windowing, the network and training meet.

    model = rnncast.fit("prices.csv", lookback=60, horizon=10)
    rnncast.save(model, "prices.rnncast")
    table = rnncast.forecast(rnncast.load("prices.rnncast"))   # {"timestamp": ..., "forecast": ...}

`forecast` needs no training code and, without new data, no pandas: the model file
holds each series' last `lookback` values and the timestamps of its next `horizon` steps.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import IO, Any, Callable, Mapping, Sequence

import numpy as np

from rnncast import __version__
from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, DataError, ModelFileError, TrainingError
from rnncast.io import SeriesSet
from rnncast.windows import ScalerStats

MODEL_KIND = "rnncast-model"
# Validation forecasts off by this many times how much the values move (in scaled units:
# ten thousand standard deviations) come from a diverged fit, never a model to write.
DIVERGED_RATIO = 1e4


@dataclass(frozen=True, eq=False)
class Model:
    """A trained forecaster and everything needed to forecast with it, nothing else."""

    net: NetSpec
    window: WindowSpec
    train: TrainSpec
    params: dict[str, np.ndarray]  # PyTorch names + head.weight/head.bias, float32
    scaler: ScalerStats  # (S, F) per known series
    ids: tuple[str, ...]
    target: str
    features: tuple[str, ...]
    time_col: str
    id_col: str | None
    freq: str
    tz: str | None
    history: np.ndarray  # (S, T, F) float64: each series' last lookback rows, original units
    last_times: np.ndarray  # (S,) datetime64[ns]
    future_times: np.ndarray  # (S, K) datetime64[ns]: the next horizon steps of each series
    calendar: tuple[str, ...] = ()  # calendar cycles the head reads (rnncast.features)
    # Split-conformal offsets per unit of window volatility (rnncast.features.volatility),
    # scaled units: (2, 99, K) = lower/upper for levels 1..99 %. Never changed after the
    # fit: forecasts from newer data multiply them by a factor (rnncast.adapt).
    intervals: np.ndarray | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str = ""
    version: str = __version__


# ------------------------------------------------------------------------------- fit


def fit(data: SeriesSet | str | os.PathLike[str], *, target: str | None = None,
        time_col: str | None = None, id_col: str | None = None, features: Sequence[str] = (),
        freq: str | None = None, fill: str = "interpolate", lookback: int | None = None,
        horizon: int | None = None, val_fraction: float = 0.2, scaler: str = "standard",
        norm: str = "last", patch: int = 1, highway: bool = True, calendar: str = "none",
        cell: str = "lstm", hidden: int = 64, layers: int = 1, dropout: float = 0.0,
        train: TrainSpec | None = None, stdin: IO[bytes] | None = None,
        on_epoch: Callable[..., None] | None = None) -> Model:
    """Read `data` (a path, "-" for stdin, or a SeriesSet), train, and return the Model.

    lookback and horizon default by frequency (see rnncast.defaults). norm, patch,
    highway and calendar shape what the network sees (see rnncast.features). With
    validation data, prediction intervals are calibrated on its residuals. Raises
    DataError, ConfigError or TrainingError (all RnncastError) with a one-line message.
    """
    from rnncast.features import calendar_columns, model_inputs, volatility
    from rnncast.io import read_series
    from rnncast.params import ParamLayout, init_params
    from rnncast.train import train as run_training
    from rnncast.windows import fit_scaler, make_windows, scale, train_val_split, window_rows

    series = data if isinstance(data, SeriesSet) else read_series(
        data, target=target, time_col=time_col, id_col=id_col, features=features, freq=freq,
        fill=fill, stdin=stdin)
    default_lookback, default_horizon = _frequency_defaults(series.freq)
    window = WindowSpec(lookback=lookback or default_lookback, horizon=horizon or default_horizon,
                        val_fraction=val_fraction, scaler=scaler, norm=norm, patch=patch,
                        highway=highway, calendar=calendar)
    cycles = calendar_columns(series.freq) if window.calendar == "auto" else ()
    tspec = train or TrainSpec()
    T, K = window.lookback, window.horizon

    train_ends, val_starts = train_val_split(series.offsets, window.val_fraction, T, K, ids=series.ids)
    stats = fit_scaler(window.scaler, series.values, series.offsets, train_ends, ids=series.ids,
                       columns=(series.target, *series.features))
    scaled = scale(series.values, series.offsets, stats)

    def inputs(starts=None, ends=None, validation=True):
        x, y, index = make_windows(scaled, series.offsets, T, K, starts=starts, ends=ends, ids=series.ids)
        first, _ = window_rows(series.offsets, T, K, starts=starts, ends=ends)
        future = series.times[first[:, None] + T + np.arange(K)]  # (W, K)
        net_in, extra, anchor = model_inputs(x, future, window, cycles)
        if not validation:
            # Training windows need no volatility: its float64 temporaries were 1.4 GB of
            # fit's 3 GB peak on 1,000 series x 2,000 rows (benchmarks/scale.py).
            return net_in, y - anchor[:, None], extra
        return net_in, y - anchor[:, None], extra, anchor, index, x[:, -1, 0], volatility(x)

    x_train, y_train, e_train = inputs(ends=train_ends, validation=False)
    x_val = y_val = e_val = None
    if window.val_fraction > 0:
        x_val, y_val, e_val, val_anchor, val_series, val_last, val_vol = inputs(starts=val_starts)
    net = NetSpec(cell=cell, inputs=x_train.shape[2], hidden=hidden, layers=layers,
                  horizon=K, dropout=dropout, head_extra=e_train.shape[1])

    started = time.perf_counter()
    initial = init_params(net, np.random.default_rng(tspec.seed))
    result = run_training(net, tspec, initial, x_train, y_train, x_val, y_val, on_epoch=on_epoch,
                          extra_train=e_train, extra_val=e_val)
    seconds = time.perf_counter() - started

    layout = ParamLayout.for_spec(net)
    params = {name: view.copy() for name, view in layout.views(result.params).items()}
    metrics: dict[str, Any] = {
        "train_windows": int(len(x_train)),
        "val_windows": int(0 if x_val is None else len(x_val)),
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "train_loss": result.history[-1].train_loss,
        "val_loss": result.best_val_loss,
        "train_seconds": round(seconds, 3),
        "filled_values": series.filled,
    }
    intervals = None
    if x_val is not None and len(x_val):
        from rnncast.model import predict

        val_pred = predict(net, params, x_val, e_val).astype(np.float64)  # (W, K), re-centred
        # Finite but absurd: weights blown up to 1e10 by a huge --lr forecast 1e10 for
        # data near 10. In scaled units targets move by about 1 (by their own size with
        # --scaler none): errors DIVERGED_RATIO times that are never a model worth writing.
        error, moves = float(np.mean(np.abs(val_pred - y_val))), float(np.mean(np.abs(y_val)))
        if not error <= DIVERGED_RATIO * (moves + 1.0):
            raise TrainingError(
                f"training diverged: on the validation windows the forecasts are off by {error:.3g} on average "
                f"(scaled units), where the values move by {moves:.3g}; try a smaller --lr (now {tspec.lr:g})"
                + (" or --clip 1" if not tspec.clip else ""))
        intervals = _calibrate((y_val - val_pred) / val_vol[:, None])
        metrics.update(_validation_metrics(val_pred, y_val, val_anchor, val_last, stats, val_series))
    ends = series.offsets[1:]
    return Model(
        net=net, window=window, train=tspec, params=params, scaler=stats, ids=series.ids,
        target=series.target, features=series.features, time_col=series.time_col,
        id_col=series.id_col, freq=series.freq, tz=series.tz,
        history=_last_rows(series.values, series.offsets, T),
        last_times=series.times[ends - 1],
        future_times=_future_times(series.times[ends - 1], series.freq, K),
        calendar=cycles, intervals=intervals, metrics=metrics, data_fingerprint=_fingerprint(series),
    )


LEVELS = np.arange(1, 100)  # interval levels, in percent, calibrated at fit time


def _calibrate(residuals: np.ndarray) -> np.ndarray:
    """(2, 99, K) lower/upper offsets for levels 1..99 % (split conformal on volatility-scaled residuals)."""
    from rnncast.intervals import calibrate_quantiles

    bounds = calibrate_quantiles(residuals, [float(level) for level in LEVELS])
    lower = np.stack([bounds[float(level)][0] for level in LEVELS])
    upper = np.stack([bounds[float(level)][1] for level in LEVELS])
    return np.stack([lower, upper])


def _frequency_defaults(freq: str) -> tuple[int, int]:
    from rnncast.defaults import for_frequency

    return for_frequency(freq)


def _validation_metrics(pred: np.ndarray, y_val: np.ndarray, anchor: np.ndarray, last: np.ndarray,
                        stats: ScalerStats, series_index: np.ndarray) -> dict[str, float]:
    """MAE and RMSE on the validation windows in original units, and the naive forecast's.

    pred and y_val are re-centred on `anchor` (each window's level, see rnncast.features);
    `last` is each window's last input value, the naive forecast (scaled units).
    """
    from rnncast.windows import unscale_target

    level = anchor[:, None].astype(np.float64)
    actual = unscale_target(y_val + level, series_index, stats)
    pred = unscale_target(pred + level, series_index, stats)
    err = pred - actual
    naive = unscale_target(np.repeat(last[:, None].astype(np.float64), actual.shape[1], axis=1),
                           series_index, stats)
    naive_err = naive - actual
    return {
        "val_mae": float(np.mean(np.abs(err))),
        "val_rmse": _rms(err),
        "naive_val_mae": float(np.mean(np.abs(naive_err))),
        "naive_val_rmse": _rms(naive_err),
    }


def _rms(err: np.ndarray) -> float:
    """sqrt(mean(err**2)) without overflow: the squares of errors beyond 1e154 would be inf."""
    peak = float(np.max(np.abs(err))) if err.size else 0.0
    if not 0.0 < peak < np.inf:
        return peak
    return peak * float(np.sqrt(np.mean(np.square(err / peak))))


def _last_rows(values: np.ndarray, offsets: np.ndarray, lookback: int) -> np.ndarray:
    rows = offsets[1:, None] - lookback + np.arange(lookback)  # (S, T)
    return values[rows].astype(np.float64)


def _future_times(last: np.ndarray, freq: str, horizon: int) -> np.ndarray:
    """(S, K) timestamps of the `horizon` steps after each series' last one."""
    import pandas as pd

    offset = pd.tseries.frequencies.to_offset(freq)
    stamps = pd.DatetimeIndex(last)
    steps = [stamps + offset * k for k in range(1, horizon + 1)]
    return np.stack([s.values for s in steps], axis=1).astype("datetime64[ns]")


def _fingerprint(series: SeriesSet) -> str:
    digest = hashlib.sha256()
    for part in (series.values, series.offsets, series.times.view(np.int64)):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update("\x1f".join(series.ids).encode())
    return "sha256:" + digest.hexdigest()


# -------------------------------------------------------------------------- forecast


def forecast(model: Model, data: SeriesSet | str | os.PathLike[str] | None = None, *,
             horizon: int | None = None, stdin: IO[bytes] | None = None,
             levels: Sequence[int] = (), adapt: bool = True,
             notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Forecast the next `horizon` steps (default: the trained horizon) of every series.

    Without `data`, from the history stored in the model. With `data` (a path, "-" for
    stdin, or a SeriesSet with the model's columns), from the end of that history; series
    unknown to the model are scaled by their own history. Returns columns: the id column
    (only when the model has one), `timestamp`, `forecast`, and `lower_L`, `upper_L` for
    each interval level L in `levels` (integer percent), in original units.

    With `adapt`, the intervals of a known series whose `data` goes past the fit are
    widened or narrowed by how they fared on the new rows (rnncast.adapt); a line saying
    so is appended to `notes` when given.
    """
    K = model.net.horizon
    steps = K if horizon is None else horizon
    if not 1 <= steps <= K:
        raise ConfigError(f"--horizon {steps} is beyond what the model was trained for ({K}); "
                          f"use --horizon 1..{K} or fit again with --horizon {steps}")
    scales = None
    if data is None:
        ids, history, stats, future = model.ids, model.history, model.scaler, model.future_times
    else:
        series, ids, history, stats, future = _history_from(model, data, stdin)
        if adapt and levels:
            levels = list(dict.fromkeys(_check_level(model, level) for level in levels))
            scales = _latest_scales(model, series, levels, notes)
    columns = forecast_windows(model, history, future, stats, levels=levels, interval_scales=scales)
    table: dict[str, np.ndarray] = {}
    if model.id_col is not None:
        table[model.id_col] = np.repeat(np.asarray(ids, dtype=object), steps)
    table["timestamp"] = future[:, :steps].reshape(-1)
    for name, values in columns.items():
        table[name] = values[:, :steps].reshape(-1)
    for name, column in table.items():
        if column.dtype.kind == "f" and not np.isfinite(column).all():
            raise ModelFileError(f"the model produced non-finite values in {name!r}; "
                                 "fit it again (the weights may be damaged)")
    _check_plausible(ids, history[:, :, 0], stats.scale[:, 0], columns["forecast"][:, :steps])
    return table


# A forecast this many times farther from zero than its series' history (plus one
# standard deviation) ever went comes from damaged or diverged weights.
IMPLAUSIBLE_RATIO = 1e6


def _check_plausible(ids: Sequence[str], history: np.ndarray, scale: np.ndarray, forecast: np.ndarray) -> None:
    """ModelFileError naming the first forecast (S, K) far beyond its history (S, T) and scale (S,)."""
    reach = np.abs(history).max(axis=1) + scale  # (S,)
    beyond = np.abs(forecast) > IMPLAUSIBLE_RATIO * reach[:, None]
    if beyond.any():
        s, k = (int(v) for v in np.argwhere(beyond)[0])
        raise ModelFileError(
            f"the model forecast {forecast[s, k]:.4g} for series {ids[s]!r}, whose recent values stay within "
            f"+-{np.abs(history[s]).max():.4g}: the weights are damaged or training diverged; fit it again")


# Damaged weights (or data beyond float32) overflow in here; `forecast` checks the result
# for NaN and inf and says so in one line, to which NumPy's warnings would add noise.
@np.errstate(over="ignore", invalid="ignore")
def forecast_windows(model: Model, history: np.ndarray, future: np.ndarray, stats: ScalerStats | None = None,
                     series_index: np.ndarray | None = None, *, levels: Sequence[int] = (),
                     interval_scales: Mapping[int, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Forecast many windows at once: the batch form of `forecast`, for backtests and benchmarks.

    history (N, T, F) input windows in original units; future (N, K) the timestamps of
    each window's forecast steps; each window is scaled with series `series_index[n]` of
    `stats` (default: the model's scaler, window n = series n). Returns {"forecast": (N, K),
    "lower_L": ..., "upper_L": ...} in original units. interval_scales {L: (N,)} widens
    (> 1) or narrows (< 1) each window's level-L interval about its forecast (see
    `interval_scales` below); default 1, the intervals as calibrated.
    """
    from rnncast.features import model_inputs, volatility

    levels = [_check_level(model, level) for level in levels]
    stats = model.scaler if stats is None else stats
    index = np.arange(len(history)) if series_index is None else np.asarray(series_index)
    loc, scale = stats.loc[index], stats.scale[index]  # (N, F)
    windows = ((history - loc[:, None, :]) / scale[:, None, :]).astype(np.float32)  # (N, T, F)
    net_in, extra, anchor = model_inputs(windows, future, model.window, model.calendar)
    centred = _predict(model.net, model.params, net_in, extra).astype(np.float64)  # (N, K)
    level = anchor[:, None].astype(np.float64)

    def original(scaled: np.ndarray) -> np.ndarray:
        return (scaled + level) * scale[:, :1] + loc[:, :1]

    out = {"forecast": original(centred)}
    vol = volatility(windows)[:, None]  # (N, 1)
    for lv in levels:
        # Offsets from the forecast, per unit of the window's spread, times the adaptive scale.
        width = vol if interval_scales is None else vol * np.asarray(interval_scales[lv], dtype=np.float64)[:, None]
        out[f"lower_{lv}"] = original(centred + width * model.intervals[0, lv - 1])
        out[f"upper_{lv}"] = original(centred + width * model.intervals[1, lv - 1])
    return out


def interval_scales(model: Model, series: SeriesSet, levels: Sequence[int]) -> dict[int, list[np.ndarray]]:
    """{L: [(rows_s + 1,) per series]}: the level-L interval scale for a forecast from each row.

    Entry r of series s scales the interval of a forecast whose first step is row r of
    that series (entry rows_s: the forecast past its end), after the intervals' misses on
    the rows of s newer than the fit and before r (rnncast.adapt); 1 where no row is new,
    and for series the model does not know. `series` is in original units, like `fit`'s data.
    """
    from rnncast.adapt import series_scales

    levels = [_check_level(model, level) for level in levels]
    series = _in_zone(series, model.tz)  # rows count as new by the model's clock
    return series_scales(model, series, _known_series(model, series.ids), levels)


def _latest_scales(model: Model, series: SeriesSet, levels: Sequence[int], notes: list[str] | None) -> dict[int, np.ndarray]:
    """{L: (S,)} each series' interval scale at the end of `series`, noted in `notes`."""
    from rnncast.adapt import scored_rows

    per_row = interval_scales(model, series, levels)
    latest = {lv: np.array([scales[-1] for scales in per_row[lv]]) for lv in levels}
    new_rows = scored_rows(model, series, _known_series(model, series.ids))
    adapted = [s for s, rows in enumerate(new_rows) if rows > 0]
    if notes is not None and adapted:
        spans = ", ".join(f"{lv}% x{latest[lv][adapted].min():.2f}" + (
            f"..x{latest[lv][adapted].max():.2f}" if len(adapted) > 1 else "") for lv in levels)
        rows = sum(new_rows)
        where = f"{rows} row{'s' if rows != 1 else ''}" + (f" of {len(adapted)} series" if len(adapted) > 1 else "")
        notes.append(f"intervals follow their misses on {where} after the fit: width {spans} "
                     "(--no-adapt for the intervals as calibrated)")
    return latest


def _known_series(model: Model, ids: Sequence[str]) -> list[int | None]:
    """For each id, the model's index of that series (None: a series the model never saw)."""
    if model.id_col is None:
        return [0 for _ in ids]  # a single-series model: new data is the same series
    index = {name: s for s, name in enumerate(model.ids)}
    return [index.get(name) for name in ids]


def _predict(net: NetSpec, params: dict[str, np.ndarray], net_in: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Small batches in NumPy (no Numba import: a fast `rnncast predict`), large ones in the kernels."""
    from rnncast import inference

    if net_in.shape[0] * net_in.shape[1] <= inference.SMALL_BATCH:
        return inference.predict(net, params, net_in, extra)
    from rnncast.model import predict

    return predict(net, params, net_in, extra)


def _whole_percent(level: int) -> int:
    if not (isinstance(level, (int, np.integer)) and not isinstance(level, bool) and 1 <= level <= 99):
        raise ConfigError(f"--level must be a whole percent from 1 to 99, got {level!r}")
    return int(level)


def _check_level(model: Model, level: int) -> int:
    if model.intervals is None:
        raise ConfigError("this model has no calibrated intervals (it was fitted with --val-fraction 0); "
                          "fit it again with validation data to use --level")
    _whole_percent(level)
    if not np.isfinite(model.intervals[:, level - 1]).all():
        from rnncast.intervals import min_windows_two_sided

        raise ConfigError(f"too few validation windows to calibrate a {level}% interval (needs at least "
                          f"{min_windows_two_sided(level)}); use a lower --level or fit with more validation data")
    return int(level)


def _history_from(model: Model, data: SeriesSet | str | os.PathLike[str], stdin: IO[bytes] | None):
    """(series, ids, history (S, T, F), scaler, future times (S, K)) from new data."""
    from rnncast.io import read_series
    from rnncast.windows import fit_scaler, last_windows

    series = data if isinstance(data, SeriesSet) else read_series(
        data, target=model.target, time_col=model.time_col, id_col=model.id_col,
        features=model.features, freq=model.freq, stdin=stdin)
    series = _in_zone(series, model.tz)
    T = model.window.lookback
    # float64, as the stored history: float32 would turn values beyond 3.4e38 into inf.
    history = last_windows(series.values, series.offsets, T, ids=series.ids, dtype=np.float64)
    own = fit_scaler(model.window.scaler, series.values, series.offsets, series.offsets[1:], ids=series.ids,
                     columns=(series.target, *series.features))
    loc, scale = own.loc.copy(), own.scale.copy()
    for s, index in enumerate(_known_series(model, series.ids)):
        if index is not None:
            loc[s], scale[s] = model.scaler.loc[index], model.scaler.scale[index]
    stats = ScalerStats(model.window.scaler, loc, scale)
    last = series.times[series.offsets[1:] - 1]
    return series, series.ids, history, stats, _future_times(last, model.freq, model.net.horizon)


def _in_zone(series: SeriesSet, tz: str | None) -> SeriesSet:
    """`series` with its wall-clock times moved to zone `tz`, the model's.

    The model's timestamps (its last fitted row, its forecast times) are wall-clock times
    in its own zone; data written in another zone must be read in that one, or rows would
    count as new or old by the zones' difference and forecasts be labelled off by it.
    Unchanged when either zone is unknown (naive times).
    """
    if tz is None or series.tz is None or series.tz == tz:
        return series
    import pandas as pd

    try:
        moved = pd.DatetimeIndex(series.times).tz_localize(series.tz).tz_convert(tz).tz_localize(None)
    except Exception as error:  # ambiguous or missing wall-clock times at a DST change
        raise DataError(f"{series.source}: cannot move its times from zone {series.tz} to the model's zone "
                        f"{tz} ({error}); write the data in zone {tz}") from None
    return replace(series, times=np.asarray(moved.as_unit("ns").values), tz=tz)


# ---------------------------------------------------------------------- save and load


def save(model: Model, path: str | os.PathLike[str]) -> None:
    """Write the model to one file, atomically (see rnncast.format)."""
    from rnncast.format import save_model

    header = {
        "kind": MODEL_KIND,
        "rnncast_version": model.version,
        "net": asdict(model.net),
        "window": asdict(model.window),
        "train": asdict(model.train),
        "scaler": model.scaler.kind,
        "ids": list(model.ids),
        "columns": {"target": model.target, "features": list(model.features),
                    "time": model.time_col, "id": model.id_col},
        "freq": model.freq,
        "tz": model.tz,
        "calendar": list(model.calendar),
        "interval_levels": [int(LEVELS[0]), int(LEVELS[-1])] if model.intervals is not None else None,
        "metrics": model.metrics,
        "intervals": _describe_intervals(model),
        "data_fingerprint": model.data_fingerprint,
    }
    arrays = {f"weights/{name}": value for name, value in model.params.items()}
    arrays.update({
        "scaler/loc": model.scaler.loc,
        "scaler/scale": model.scaler.scale,
        "history/values": model.history,
        "history/last_times": model.last_times.view(np.int64),
        "history/future_times": model.future_times.view(np.int64),
    })
    if model.intervals is not None:
        arrays["intervals/offsets"] = model.intervals
    save_model(path, header, arrays)


def load(path: str | os.PathLike[str]) -> Model:
    """Read a model file written by `save`. Never runs code from the file."""
    from rnncast.format import load_model

    header, arrays = load_model(path)
    try:
        if header.get("kind") != MODEL_KIND:
            raise KeyError("kind")
        net = NetSpec(**header["net"])
        from rnncast.params import ParamLayout

        layout = ParamLayout.for_spec(net)
        params = {name: arrays[f"weights/{name}"].astype(np.float32) for name in layout.names}
        for name, shape in zip(layout.names, layout.shapes):
            if params[name].shape != shape:
                raise ValueError(f"weight {name} has shape {params[name].shape}, expected {shape}")
        columns = header["columns"]
        model = Model(
            net=net, window=WindowSpec(**header["window"]), train=TrainSpec(**header["train"]),
            params=params,
            scaler=ScalerStats(header["scaler"], arrays["scaler/loc"], arrays["scaler/scale"]),
            ids=tuple(header["ids"]), target=columns["target"], features=tuple(columns["features"]),
            time_col=columns["time"], id_col=columns["id"], freq=header["freq"], tz=header["tz"],
            history=arrays["history/values"],
            last_times=arrays["history/last_times"].view("datetime64[ns]"),
            future_times=arrays["history/future_times"].view("datetime64[ns]"),
            calendar=tuple(header.get("calendar", ())),
            intervals=arrays.get("intervals/offsets"),
            metrics=header.get("metrics", {}), data_fingerprint=header.get("data_fingerprint", ""),
            version=header.get("rnncast_version", "?"),
        )
        _check_loaded(model)
        return model
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelFileError(f"{path} is not a usable rnncast model ({exc}); fit it again") from exc


def _check_loaded(model: Model) -> None:
    """ValueError unless the arrays agree in shape and hold finite numbers and real times.

    The checksum proves the file is as written, not that what was written makes sense
    (a bug, or a file edited through the API): never forecast from such a model.
    """
    S, T, K, F = len(model.ids), model.window.lookback, model.net.horizon, 1 + len(model.features)
    for name, array, shape in [("history/values", model.history, (S, T, F)),
                               ("history/last_times", model.last_times, (S,)),
                               ("history/future_times", model.future_times, (S, K)),
                               ("scaler/loc", model.scaler.loc, (S, F))]:
        if array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}, expected {shape} for {S} series")
    if model.intervals is not None and model.intervals.shape != (2, len(LEVELS), K):
        raise ValueError(f"intervals/offsets has shape {model.intervals.shape}, expected {(2, len(LEVELS), K)}")
    for name, weights in model.params.items():
        if not np.isfinite(weights).all():
            raise ValueError(f"weight {name} holds NaN or infinity")
    if not np.isfinite(model.history).all():
        raise ValueError("the stored history holds NaN or infinity")
    if np.isnat(model.last_times).any() or np.isnat(model.future_times).any():
        raise ValueError("a stored timestamp is missing (NaT)")


def describe(model: Model) -> dict[str, Any]:
    """Everything `rnncast info` shows, as plain JSON-able data."""
    from rnncast.params import ParamLayout

    return {
        "rnncast_version": model.version,
        "network": asdict(model.net) | {"parameters": ParamLayout.for_spec(model.net).size},
        "window": asdict(model.window),
        "training": asdict(model.train),
        "columns": {"time": model.time_col, "target": model.target, "features": list(model.features),
                    "id": model.id_col},
        "frequency": model.freq,
        "time_zone": model.tz,
        "series": len(model.ids),
        "series_ids": list(model.ids[:20]) + (["..."] if len(model.ids) > 20 else []),
        "last_timestamp": str(model.last_times.max()) if len(model.last_times) else None,
        "metrics": model.metrics,
        "intervals": _describe_intervals(model),
        "data_fingerprint": model.data_fingerprint,
    }


def _describe_intervals(model: Model) -> dict[str, Any] | None:
    """Calibrated 80 % and 95 % interval offsets per horizon step for series 0's stored history."""
    from rnncast.features import volatility

    if model.intervals is None:
        return None
    history = (model.history[:1] - model.scaler.loc[:1, None, :]) / model.scaler.scale[:1, None, :]
    scale = float(model.scaler.scale[0, 0]) * float(volatility(history)[0])
    return {
        "method": "split conformal on validation residuals per horizon step, scaled by each window's volatility; "
                  "with newer data, also by their misses on it (adaptive conformal)",
        "levels": "1..99 %",
        **{f"{lv}%": {"lower": [_json_offset(v, scale) for v in model.intervals[0, lv - 1]],
                      "upper": [_json_offset(v, scale) for v in model.intervals[1, lv - 1]]}
           for lv in (80, 95)},
    }


def _json_offset(value: float, scale: float) -> float | None:
    # Too few validation windows leave a level unbounded (+-inf, see rnncast.intervals);
    # JSON has no infinity, so the header says null.
    return round(float(value) * scale, 6) if np.isfinite(value) else None


# --------------------------------------------------------------------------- backtest


def backtest(data: SeriesSet | str | os.PathLike[str], *, folds: int = 3, step: int | None = None,
             test_size: int | None = None, refit: bool = True, season: int | None = None,
             levels: Sequence[int] = (80, 95), adapt: bool = True,
             stdin: IO[bytes] | None = None, **fit_options: Any):
    """Rolling-origin evaluation of rnncast beside naive, seasonal-naive and drift forecasts.

    `fit_options` are `fit`'s (lookback, horizon, cell, train, ...); the folds' origins sit
    `step` rows apart (default: the horizon) at the end of each series; `test_size` instead
    places as many origins as fit in the last `test_size` rows. Without `refit`, later
    folds' intervals follow their misses on the rows since the fit when `adapt` (as
    `forecast` does). Returns a rnncast.backtest.BacktestResult with per-fold, per-series
    rows and a summary.
    """
    from rnncast.backtest import run_backtest
    from rnncast.io import read_series
    from rnncast.metrics import season_for_frequency

    # Checked before any fit: a level out of range would otherwise surface after minutes.
    levels = list(dict.fromkeys(_whole_percent(level) for level in levels))
    reading = {k: fit_options.pop(k) for k in ("target", "time_col", "id_col", "features", "freq", "fill")
               if k in fit_options}
    series = data if isinstance(data, SeriesSet) else read_series(data, stdin=stdin, **reading)
    default_lookback, default_horizon = _frequency_defaults(series.freq)
    lookback = fit_options.pop("lookback", None) or default_lookback
    horizon = fit_options.pop("horizon", None) or default_horizon
    season = season or season_for_frequency(series.freq)
    if test_size is not None:
        if test_size < horizon:
            raise ConfigError(f"--test-size {test_size} is shorter than the horizon ({horizon})")
        folds = (test_size - horizon) // (step or horizon) + 1

    def fit_fold(part: SeriesSet) -> Model:
        return fit(part, lookback=lookback, horizon=horizon, **fit_options)

    replayed: dict[int, list[np.ndarray]] = {}  # without refit: the one model's interval_scales on all rows

    def forecast_fold(model: Model, history: np.ndarray, future: np.ndarray, lv: Sequence[int], seen: SeriesSet):
        # A level the fold's validation data cannot calibrate is left out of its scores.
        usable = [level for level in lv if model.intervals is not None
                  and np.isfinite(model.intervals[:, level - 1]).all()]
        if refit or not adapt:  # refitted at the origin, nothing is new to the model
            return forecast_windows(model, history, future, levels=usable)
        # Without refit, rows between the fit and this origin are new: intervals follow
        # their misses on them, as in `predict --data`. Entry r of interval_scales uses
        # only rows before r, so one replay over all rows serves every fold.
        if not replayed:
            replayed.update(interval_scales(model, series, usable))
        origin = np.diff(seen.offsets)  # each series' origin, counted from its first row
        scales = {level: np.array([rows[r] for rows, r in zip(replayed[level], origin)]) for level in usable}
        return forecast_windows(model, history, future, levels=usable, interval_scales=scales)

    result = run_backtest(series, fit_fold, forecast_fold, horizon=horizon, lookback=lookback, folds=folds,
                          step=step, refit=refit, season=season, levels=levels)
    result.settings["adaptive_intervals"] = adapt and not refit
    return result
