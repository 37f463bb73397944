"""What a forecast reads, from the stored history or new data: windows, scaler, forecast steps, covariates."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO

import numpy as np

from rnncast.config import ReadSpec
from rnncast.forecaster import Model, known_series
from rnncast.io import SeriesSet
from rnncast.windows import ScalerStats


@dataclass(frozen=True, eq=False)
class ForecastInputs:
    """Everything `forecast_windows` needs for one forecast of each of S series."""

    ids: tuple[str, ...]
    history: np.ndarray  # (S, T, F) original units
    stats: ScalerStats  # (S, F): series s scaled by row s
    future: np.ndarray  # (S, K) datetime64[ns]: the forecast steps
    known_future: np.ndarray | None  # (S, K, Kn) known columns at the forecast steps, original units
    static: np.ndarray | None  # (S, D) encoded attributes


def model_columns(model: Model) -> ReadSpec:
    """How to read new data for this model: its columns, at its frequency."""
    return ReadSpec(target=model.target, time_col=model.time_col, id_col=model.id_col,
                    features=model.features, freq=model.freq, known=model.known,
                    static=tuple(column.name for column in model.static))


def stored_inputs(model: Model, steps: int, future_file: str | os.PathLike[str] | None = None,
                  notes: list[str] | None = None, stdin: IO[bytes] | None = None) -> ForecastInputs:
    """From the history stored in the model (known values, if any, from `future_file`)."""
    _note_unused_future(model, future_file, notes)
    future = None
    if future_file is not None and model.known:
        future = _read_future(model, future_file, model.ids, stdin)
    known = _known_future(model, future, model.ids, model.future_times, steps, notes)
    return ForecastInputs(model.ids, model.history, model.scaler, model.future_times, known, model.static_values)


def data_inputs(model: Model, series: SeriesSet, steps: int, future_file: str | os.PathLike[str] | None = None,
                notes: list[str] | None = None, stdin: IO[bytes] | None = None) -> ForecastInputs:
    """From the end of new data in the model's zone; series unknown to the model are scaled by their own history."""
    from rnncast.frequency import future_times
    from rnncast.holiday_flags import with_holidays
    from rnncast.statics import encode
    from rnncast.transform import to_model
    from rnncast.windows import fit_scaler, last_windows

    _note_unused_future(model, future_file, notes)
    series = with_holidays(series, model.window.holidays)
    # float64, as the stored history: float32 would turn values beyond 3.4e38 into inf.
    history = last_windows(series.values, series.offsets, model.history_rows, ids=series.ids, dtype=np.float64,
                           pad=True)
    # A series the model never saw is scaled by its own history, in the model's space.
    own = fit_scaler(model.window.scaler, to_model(model.window.transform, series.values, series.ids, series.offsets),
                     series.offsets, series.offsets[1:], ids=series.ids, columns=series.columns)
    loc, scale = own.loc.copy(), own.scale.copy()
    for s, index in enumerate(known_series(model, series.ids)):
        if index is not None:
            loc[s], scale[s] = model.scaler.loc[index], model.scaler.scale[index]
    stats = ScalerStats(model.window.scaler, loc, scale)
    last = series.times[series.offsets[1:] - 1]
    future = future_times(last, model.freq, model.net.horizon)
    given = series.future
    if future_file is not None and model.known:
        given = _read_future(model, future_file, series.ids, stdin)
        if series.future is not None and len(series.future.times) and notes is not None:
            notes.append(f"future rows of {series.source} ignored: --future gives them")
    if not model.known and series.future is not None and notes is not None:
        count = len(series.future.times)
        notes.append(f"{count:,} row{'s' if count != 1 else ''} after the last observed {model.target!r} ignored: "
                     "the model reads no known columns")
    known = _known_future(model, given, series.ids, future, steps, notes)
    static = encode(model.static, series.statics, series.ids, notes) if model.static else None
    return ForecastInputs(series.ids, history, stats, future, known, static)


def _note_unused_future(model: Model, future_file: str | os.PathLike[str] | None, notes: list[str] | None) -> None:
    if future_file is not None and not model.known and notes is not None:
        notes.append(f"{future_file} ignored: the model reads no known columns")


def _read_future(model: Model, path: str | os.PathLike[str], ids: tuple[str, ...], stdin: IO[bytes] | None):
    from rnncast.io.covariates import read_future

    return read_future(path, time_col=model.time_col, id_col=model.id_col, known=model.known, ids=ids,
                       target=model.target, stdin=stdin)


def _known_future(model: Model, future, ids: tuple[str, ...], expected: np.ndarray, steps: int,
                  notes: list[str] | None) -> np.ndarray | None:
    """(S, K, Kn) the known columns at the forecast steps: the user's, then the holiday flag."""
    if not model.known_columns:
        return None
    from rnncast.io.covariates import align_future

    parts = []
    if model.known:
        if future is not None and future.tz is not None and model.tz is not None and future.tz != model.tz:
            future = _in_zone(future, model.tz)
        parts.append(align_future(future, ids, expected, model.known, steps, notes))
    if model.window.holidays:
        from rnncast.holiday_flags import flags

        parts.append(flags(expected, model.window.holidays)[:, :, None])
    return np.concatenate(parts, axis=2)


def _in_zone(future, tz: str):
    """FutureRows with their wall-clock times moved to zone `tz`."""
    from dataclasses import replace

    import pandas as pd

    moved = pd.DatetimeIndex(future.times).tz_localize(future.tz).tz_convert(tz).tz_localize(None)
    return replace(future, times=np.asarray(moved.as_unit("ns").values), tz=tz)
