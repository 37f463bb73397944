"""The public Python API: fit, forecast, save, load, describe and backtest, each taking specs.

    import rnncast
    from rnncast.config import NetSpec, TrainSpec, WindowSpec

    model = rnncast.fit("prices.csv", window=WindowSpec(lookback=60, horizon=10), net=NetSpec(hidden=32))
    rnncast.save(model, "prices.rnncast")
    table = rnncast.forecast(rnncast.load("prices.rnncast"))   # {"timestamp": ..., "forecast": ...}

`forecast` needs no training code and, without new data, no pandas: the model file
holds each series' last `lookback` values and the timestamps of its next `horizon` steps.
Every error caused by the input is an RnncastError with a one-line message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from functools import partial
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from rnncast import groups  # light: its training and reading happen inside its functions
from rnncast.config import BacktestSpec, NetSpec, ReadSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError
from rnncast.forecaster import Model, forecast_windows
from rnncast.groups import Mapper, ModelGroup, single_model
from rnncast.io import SeriesSet

if TYPE_CHECKING:
    from rnncast.backtesting import BacktestResult
    from rnncast.train import EpochReport  # noqa: F401  (what `fit` hands `on_epoch`)

Data = SeriesSet | str | os.PathLike[str]

__all__ = ["Model", "ModelGroup", "backtest", "describe", "fit", "fit_groups", "forecast", "forecast_windows",
           "interval_scales", "load", "plot", "read", "save", "save_report", "update", "write_forecast"]


def read(data: Data, spec: ReadSpec = ReadSpec(), stdin: IO[bytes] | None = None, *,
         for_model: bool = False, files: Sequence[str | os.PathLike[str]] | None = None) -> SeriesSet:
    """`data` as a SeriesSet: a path ("-" for stdin) is read with `spec`; a SeriesSet is returned as it is.

    `for_model`: `spec` holds a fitted model's columns (new data for `forecast`), and errors say so.
    `files`: of a folder or glob `data`, only these (one partition), with their hive keys."""
    if isinstance(data, SeriesSet):
        return data
    from rnncast.io import read_series

    return read_series(data, target=spec.target, time_col=spec.time_col, id_col=spec.id_col,
                       features=spec.features, freq=spec.freq, fill=spec.fill, stdin=stdin, for_model=for_model,
                       known=spec.known, static=spec.static, by=spec.by, files=files)


def fit(data: Data, *, read_spec: ReadSpec = ReadSpec(), window: WindowSpec = WindowSpec(),
        net: NetSpec = NetSpec(), train: TrainSpec = TrainSpec(), stdin: IO[bytes] | None = None,
        on_epoch: Callable[..., None] | None = None) -> Model:
    """Read `data` (a path, "-" for stdin, or a SeriesSet), train, and return the Model.

    The window's lookback and horizon default by frequency (rnncast.frequency); its norm,
    patch, highway and calendar shape what the network sees (rnncast.features). With
    validation data, prediction intervals are calibrated on its residuals.
    """
    from rnncast.fitting import fit_series

    return fit_series(read(data, read_spec, stdin), window, net, train, on_epoch=on_epoch)


def fit_groups(data: Data, *, by: str, read_spec: ReadSpec = ReadSpec(), window: WindowSpec = WindowSpec(),
               net: NetSpec = NetSpec(), train: TrainSpec = TrainSpec(), mapper: Mapper | None = None,
               stdin: IO[bytes] | None = None, on_epoch: Callable[..., None] | None = None) -> ModelGroup:
    """One model per value of column `by`, each fitted as `fit` fits a file of only that group's series, run
    as `mapper(fit_one, values, series_sets)` (default: map, in order). A SeriesSet must be read with `by`."""
    series = read(data, replace(read_spec, by=by), stdin)
    return groups.fit_groups(series, by, window, net, train, mapper=mapper, on_epoch=on_epoch)


def compile_ahead(cell: str = "lstm") -> bool:
    """Whether `cell`'s kernels are compiled here; if not, start the backward one compiling in a second process."""
    from rnncast.kernels import cache, warm

    warm.start(cell, np.dtype(np.float32))
    return cache.compiled(cell)


def forecast(model: Model | ModelGroup, data: Data | None = None, *, horizon: int | None = None,
             stdin: IO[bytes] | None = None, levels: Sequence[int] = (), adapt: bool = True,
             notes: list[str] | None = None, future: str | os.PathLike[str] | None = None) -> dict[str, np.ndarray]:
    """Forecast the next `horizon` steps (default: the trained horizon) of every series.

    Without `data`, from the history stored in the model. With `data` (a path, "-" for
    stdin, or a SeriesSet with the model's columns), from the end of that history; series
    unknown to the model are scaled by their own history. Returns columns: the id column
    (only when the model has one), `timestamp`, `forecast`, and `lower_L`, `upper_L` for
    each interval level L in `levels` (integer percent), in original units.

    A model with known columns reads their values at the forecast steps from the rows
    of `data` after each series' last observed target, or from the file `future`.
    With `adapt`, the intervals of a known series whose `data` goes past the fit are
    widened or narrowed by how they fared on the new rows (rnncast.adapt); a line saying
    so is appended to `notes` when given. A ModelGroup: rnncast.groups.forecast_groups.
    """
    from rnncast.forecast_inputs import data_inputs, model_columns, stored_inputs
    from rnncast.forecaster import check_finite, check_plausible
    from rnncast.intervals import usable_levels

    if isinstance(model, ModelGroup):  # each series by its group's model, the `by` column first
        seen = None if data is None else read(data, groups.columns_of(model), stdin, for_model=True)
        each = partial(forecast, horizon=horizon, levels=levels, adapt=adapt, notes=notes, future=future)
        return groups.forecast_groups(model, seen, each, future=future, stdin=stdin, notes=notes)

    K = model.net.horizon
    steps = K if horizon is None else horizon
    if steps < 1:
        raise ConfigError(f"--horizon must be from 1 to {K} (the horizon the model was trained for), got {steps}")
    if steps > K:
        raise ConfigError(f"--horizon {steps} is beyond what the model was trained for ({K}); "
                          f"use --horizon 1..{K} or fit again with --horizon {steps}")
    levels = usable_levels(model.intervals, levels)
    scales = None
    if data is None:
        given = stored_inputs(model, steps, future, notes, stdin)
    else:
        series = read(data, model_columns(model), stdin, for_model=True).in_zone(model.tz)
        given = data_inputs(model, series, steps, future, notes)
        if adapt and levels:
            from rnncast.adapt import latest_scales

            scales = latest_scales(model, series, levels, notes)
    columns = forecast_windows(model, given.history, given.future, given.stats, levels=levels, scales=scales,
                               known_future=given.known_future, static=given.static)
    table: dict[str, np.ndarray] = {}
    if model.id_col is not None:
        table[model.id_col] = np.repeat(np.asarray(given.ids, dtype=object), steps)
    table["timestamp"] = given.future[:, :steps].reshape(-1)
    for name, values in columns.items():
        table[name] = values[:, :steps].reshape(-1)
    check_finite(table)
    check_plausible(given.ids, given.history[:, :, 0], given.stats.scale[:, 0], columns["forecast"][:, :steps])
    return table


def update(model: Model | ModelGroup, data: Data, *, epochs: int | None = None, stdin: IO[bytes] | None = None,
           notes: list[str] | None = None, on_epoch: Callable[..., None] | None = None) -> Model:
    """The model trained a little further on `data`'s rows newer than its fit (rnncast.updating)."""
    from rnncast.forecast_inputs import model_columns
    from rnncast.updating import UPDATE_EPOCHS, update_model

    model = single_model(model, "update")
    series = read(data, model_columns(model), stdin, for_model=True).in_zone(model.tz)
    return update_model(model, series, epochs=UPDATE_EPOCHS if epochs is None else epochs, notes=notes,
                        on_epoch=on_epoch)


def interval_scales(model: Model, series: SeriesSet, levels: Sequence[int]) -> dict[int, list[np.ndarray]]:
    """{L: [(rows_s + 1,) per series]}: the level-L interval scale for a forecast from each row (rnncast.adapt)."""
    from rnncast.adapt import interval_scales as scales_per_row

    return scales_per_row(model, series, levels)


def write_forecast(table: dict[str, np.ndarray], fmt: str, destination: str | os.PathLike[str] | IO[bytes],
                   tz: str | None = None) -> None:
    """Write a `forecast` table as CSV, JSON or Parquet to a path (atomically) or a binary stream."""
    from rnncast.io import write_forecast as write

    write(table, fmt, destination, tz=tz)


def plot(model: Model | ModelGroup, output: str | os.PathLike[str] | None = None, *, data: Data | None = None,
         series: Sequence[str] = (), level: int | None = 80, folds: int = 0,
         notes: list[str] | None = None, future: str | os.PathLike[str] | None = None) -> str | None:
    """Draw each series' recent history, forecast and level-% band: to `output` (.png, .svg or .html,
    written atomically), or, without `output`, as text for a terminal (returned). With `folds`
    (and `data`), also the model's forecasts from that many earlier origins against the actuals."""
    from rnncast import plotting
    from rnncast.atomic import atomic_write
    from rnncast.intervals import calibrated, whole_percent

    model = single_model(model, "plot")
    fmt = None if output is None else plotting.format_of(output)
    if output is not None and fmt is None:
        raise ConfigError(f"cannot draw {output}: give a file ending in .png, .svg or .html")
    ids = list(model.ids) if not series else list(dict.fromkeys(series))
    unknown = [name for name in ids if name not in model.ids]
    if unknown:
        raise ConfigError(f"the model has no series {unknown[0]!r}; it has {', '.join(model.ids[:10])}"
                          + (" ..." if len(model.ids) > 10 else ""))
    if len(ids) > plotting.MAX_PANELS and notes is not None:
        notes.append(f"drawing the first {plotting.MAX_PANELS} of {len(ids)} series (--series picks others)")
    ids = ids[: plotting.MAX_PANELS]
    levels = calibrated(model.intervals, [whole_percent(level)]) if level is not None else []
    if level is not None and not levels and notes is not None:
        notes.append(f"no {level} % band: the model has no calibrated {level} % interval")
    if folds and data is None:
        raise ConfigError("--backtest draws forecasts against actuals: give the data with --data")
    from rnncast.forecast_inputs import model_columns

    seen = None if data is None else read(data, model_columns(model), for_model=True).in_zone(model.tz)
    table = forecast(model, seen, levels=levels, future=future)  # read once: forecast takes the SeriesSet as it is
    backtested: dict[str, tuple[tuple[np.ndarray, np.ndarray], ...]] = {}
    if seen is None:
        history = {name: model.stored_history(s) for s, name in enumerate(model.ids) if name in ids}
    else:
        from rnncast.backtesting import fold_forecasts

        back = model.lookback + folds * model.net.horizon  # the actuals the folds are drawn against
        history = {name: (seen.times[a:b][-back:], seen.values[a:b, 0][-back:])
                   for name, a, b in zip(seen.ids, seen.offsets[:-1], seen.offsets[1:]) if name in ids}
        if folds:
            mine = seen if all(name in model.ids for name in seen.ids) else None
            if mine is None:
                raise ConfigError("--backtest needs data of the model's series only")
            runs = fold_forecasts(model, mine, folds)
            backtested = {name: tuple((t[s], f[s]) for t, f in runs) for s, name in enumerate(mine.ids)}
    title = f"rnncast: {model.target}" + (f", validation MAE {model.metrics['val_mae']:.4g}"
                                          if "val_mae" in model.metrics else "")
    panels = [replace(p, folds=backtested.get(p.name, ()))
              for p in plotting.panels(table, model.id_col, tuple(ids), history, levels[0] if levels else None)]
    if output is None or fmt is None:
        return plotting.text_picture(panels, title)
    atomic_write(output, [plotting.figure_bytes(panels, fmt, title, levels[0] if levels else None)],
                 error=ConfigError, what="picture")
    return None


def save(model: Model | ModelGroup, path: str | os.PathLike[str]) -> None:
    """Write the model (or group) to one file, atomically: a reader never sees half a model."""
    from rnncast.groupfile import save_model_or_group

    save_model_or_group(model, path)


def load(path: str | os.PathLike[str]) -> Model | ModelGroup:
    """Read a model file written by `save`: a Model, or a ModelGroup from `fit_groups`. Never runs code from it."""
    from rnncast.groupfile import load_model_or_group

    return load_model_or_group(path)


def describe(model: Model | ModelGroup) -> dict[str, Any]:
    """Everything `rnncast info` shows, as plain JSON-able data (a group's: rnncast.groups.describe_group)."""
    from rnncast.modelfile import describe_intervals
    from rnncast.params import ParamLayout

    if isinstance(model, ModelGroup):
        return groups.describe_group(model, describe)

    return {
        "rnncast_version": model.version,
        "network": asdict(model.net) | {"parameters": ParamLayout.for_spec(model.net).size},
        "window": asdict(model.window),
        "training": asdict(model.train),
        "columns": {"time": model.time_col, "target": model.target, "features": list(model.features),
                    "known": list(model.known), "static": [c.name for c in model.static], "id": model.id_col},
        "frequency": model.freq,
        "time_zone": model.tz,
        "series": len(model.ids),
        "series_ids": list(model.ids[:20]) + (["..."] if len(model.ids) > 20 else []),
        "last_timestamp": _iso(model.last_times.max(), model.tz) if len(model.last_times) else None,
        "metrics": model.metrics,
        "intervals": describe_intervals(model),
        "data_fingerprint": model.data_fingerprint,
        "lineage": [f"{e['event']}: {e['rows']:,} rows of {e['series']} series, until {e['until']}"
                    for e in model.lineage],
    }


def _iso(stamp: np.datetime64, tz: str | None) -> str:
    """One timestamp in the form forecasts are written in (dates as dates, no needless nanoseconds)."""
    from rnncast.io.writing import iso_times

    return str(iso_times(np.array([stamp]), tz)[0])


def backtest(data: Data, *, read_spec: ReadSpec = ReadSpec(), window: WindowSpec = WindowSpec(),
             net: NetSpec = NetSpec(), train: TrainSpec = TrainSpec(), spec: BacktestSpec = BacktestSpec(),
             stdin: IO[bytes] | None = None,
             on_fold: Callable[[int, int, float], None] | None = None) -> BacktestResult:
    """Rolling-origin evaluation of rnncast beside naive, seasonal-naive and drift forecasts.

    The model is fitted with `window`, `net` and `train` as `fit` would; `spec` places the
    folds (rnncast.backtesting). Returns a BacktestResult with per-fold, per-series rows and
    a summary. `on_fold(done, folds, seconds)` hears of each fold as it ends.
    """
    from rnncast.backtesting import backtest as run_backtest

    return run_backtest(read(data, read_spec, stdin), window, net, train, spec, on_fold=on_fold)


def save_report(result: BacktestResult, path: str | os.PathLike[str]) -> None:
    """Write a backtest's settings, summary, notes and rows as JSON, atomically."""
    import json

    from rnncast.atomic import atomic_write

    atomic_write(path, [json.dumps(result.document(), indent=2).encode() + b"\n"], error=ConfigError,
                 what="backtest report")
