"""The trained `Model` record and batch forecasting from it: windows in, forecasts and intervals out.

`forecast_windows` is the one place a forecast is made, for `predict`, backtests, the
adaptive intervals' replay and benchmarks alike. Small batches run the plain-NumPy
forward pass (no Numba import: a fast `rnncast predict`), large ones the Numba kernels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.errors import ModelFileError
from rnncast.statics import StaticColumn
from rnncast.version import __version__
from rnncast.windows import ScalerStats


@dataclass(frozen=True, eq=False)
class Model:
    """A trained forecaster and everything needed to forecast with it, nothing else."""

    net: NetSpec
    window: WindowSpec  # resolved: lookback and horizon set
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
    history: np.ndarray  # (S, R, F) float64: each series' last history_rows rows, original units
    last_times: np.ndarray  # (S,) datetime64[ns]
    future_times: np.ndarray  # (S, K) datetime64[ns]: the next horizon steps of each series
    calendar: tuple[str, ...] = ()  # calendar cycles the head reads (rnncast.features)
    # Split-conformal offsets per unit of window volatility (rnncast.features.volatility),
    # scaled units: (2, 99, K) = lower/upper for levels 1..99 %. Never changed after the
    # fit: forecasts from newer data multiply them by a factor (rnncast.adapt).
    intervals: np.ndarray | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str = ""
    # What the model learned from, oldest first: {"event": "fit" | "update", "rows": ..., "until": ...}.
    lineage: tuple[dict[str, Any], ...] = ()
    version: str = __version__
    known: tuple[str, ...] = ()  # columns known in advance, after the features (the holiday flag follows)
    static: tuple[StaticColumn, ...] = ()  # how per-series attributes are encoded (rnncast.statics)
    static_values: np.ndarray | None = None  # (S, D) float32: each fitted series' encoded attributes
    # The network's weight in the forecast; the rest is the classic's (window.combine). 1: the network alone.
    blend: float = 1.0
    # With combine "linear": (T + 1, K) float64 ridge coefficients over the re-centred target
    # lookback, the last row the intercept (rnncast.linear).
    linear: np.ndarray | None = None

    @property
    def known_columns(self) -> tuple[str, ...]:
        """The columns of the values read over the forecast steps: --known, then the holiday flag."""
        from rnncast.holiday_flags import column_name

        holidays = self.window.holidays
        return self.known + ((column_name(holidays),) if holidays else ())

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of each history row: target, features, known columns."""
        return (self.target, *self.features, *self.known_columns)

    @property
    def static_width(self) -> int:
        return sum(column.width for column in self.static)

    @property
    def lookback(self) -> int:
        """T: the rows of history the network reads."""
        return self.window.steps[0]

    @property
    def history_rows(self) -> int:
        """R: the rows of history a forecast reads: the lookback, or Theta's longer history when blended."""
        from rnncast.frequency import season_length
        from rnncast.theta import BLENDED, history_rows

        if self.window.combine not in BLENDED:
            return self.lookback
        return history_rows(self.lookback, season_length(self.freq))

    def history_times(self, s: int) -> np.ndarray:
        """(R,) the timestamps of series s's stored history, counted back from its last time."""
        import pandas as pd

        times = pd.date_range(end=pd.Timestamp(self.last_times[s]), periods=len(self.history[s]), freq=self.freq)
        return np.asarray(times.values, dtype="datetime64[ns]")

    def stored_history(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Series s's stored timestamps and target values, without the padding a short series has in front."""
        from rnncast.windows import real_lengths

        rows = int(real_lengths(self.history[s : s + 1, :, 0])[0])
        return self.history_times(s)[-rows:], self.history[s, -rows:, 0]


def known_series(model: Model, ids: Sequence[str]) -> list[int | None]:
    """For each id, the model's index of that series (None: a series the model never saw)."""
    if model.id_col is None:
        return [0 for _ in ids]  # a single-series model: new data is the same series
    index = {name: s for s, name in enumerate(model.ids)}
    return [index.get(name) for name in ids]


def predict(net: NetSpec, params: dict[str, np.ndarray], net_in: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Small batches in NumPy (no Numba import: a fast `rnncast predict`), large ones in the kernels."""
    from rnncast import inference

    if net_in.shape[0] * net_in.shape[1] <= inference.SMALL_BATCH:
        return inference.predict(net, params, net_in, extra)
    from rnncast.model import predict as kernel_predict

    return kernel_predict(net, params, net_in, extra)


# Damaged weights (or data beyond float32) overflow in here; `forecast` checks the result
# for NaN and inf and says so in one line, to which NumPy's warnings would add noise.
@np.errstate(over="ignore", invalid="ignore")
def forecast_windows(model: Model, history: np.ndarray, future: np.ndarray, stats: ScalerStats | None = None,
                     series_index: np.ndarray | None = None, *, levels: Sequence[int] = (),
                     scales: Mapping[int, np.ndarray] | None = None, known_future: np.ndarray | None = None,
                     static: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Forecast many windows at once: the batch form of `rnncast.api.forecast`.

    history (N, R, F) input windows in original units, R >= T (the network reads the last T,
    Theta all R: model.history_rows); future (N, K) the timestamps of
    each window's forecast steps; each window is scaled with series `series_index[n]` of
    `stats` (default: the model's scaler, window n = series n). Returns {"forecast": (N, K),
    "lower_L": ..., "upper_L": ...} in original units, for levels the model calibrated
    (checked by rnncast.intervals.usable_levels). scales {L: (N,)} widens (> 1) or narrows
    (< 1) each window's level-L interval about its forecast (rnncast.adapt); default 1,
    the intervals as calibrated. A model with known columns needs known_future (N, K, Kn),
    their values at the forecast steps in original units; one with static attributes reads
    `static` (N, D) encoded (default: the model's own series `series_index`).
    """
    from rnncast.features import model_inputs, volatility
    from rnncast.transform import from_model, to_model

    stats = model.scaler if stats is None else stats
    index = np.arange(len(history)) if series_index is None else np.asarray(series_index)
    given = history  # all R rows, in the data's units: what Theta reads
    history = to_model(model.window.transform, history[:, -model.lookback :])  # the model's space (log, or as is)
    windows = stats.windows(history, index).astype(np.float32)  # (N, T, F)
    ahead = None
    if model.known_columns:
        if known_future is None:
            raise ValueError("the model reads known columns at the forecast steps: give known_future")
        at = slice(1 + len(model.features), None)
        loc, spread = stats.loc[index, None, at], stats.scale[index, None, at]  # (N, 1, Kn)
        ahead = ((known_future - loc) / spread).astype(np.float32)
    if static is None and model.static_values is not None:
        static = model.static_values[index]
    net_in, extra, anchor = model_inputs(windows, future, model.window, model.calendar, ahead, static)
    centred = predict(model.net, model.params, net_in, extra).astype(np.float64)  # (N, K)
    level = anchor[:, None].astype(np.float64)
    loc, scale = stats.loc[index, :1], stats.scale[index, :1]  # (N, 1)
    if model.linear is not None:
        from rnncast.linear import forecast as linear_forecast

        other = linear_forecast(model.linear, windows[:, :, 0] - anchor[:, None])
        centred = model.blend * centred + (1.0 - model.blend) * other
    elif model.blend < 1.0:
        from rnncast import frequency, theta

        centred = theta.mix(centred, model.blend, given[:, :, 0], loc, scale, level, model.window.transform,
                            frequency.season_length(model.freq), model.window.combine)

    def original(scaled: np.ndarray) -> np.ndarray:
        return from_model(model.window.transform, (scaled + level) * scale + loc)

    out = {"forecast": original(centred)}
    if not levels:
        return out
    assert model.intervals is not None, "levels must come from rnncast.intervals.usable_levels"
    vol = volatility(windows)[:, None]  # (N, 1)
    for lv in levels:
        # Offsets from the forecast, per unit of the window's spread, times the adaptive scale.
        width = vol if scales is None else vol * np.asarray(scales[lv], dtype=np.float64)[:, None]
        out[f"lower_{lv}"] = original(centred + width * model.intervals[0, lv - 1])
        out[f"upper_{lv}"] = original(centred + width * model.intervals[1, lv - 1])
    return out


# A forecast this many times farther from zero than its series' history (plus one
# standard deviation) ever went comes from damaged or diverged weights.
IMPLAUSIBLE_RATIO = 1e6


def check_plausible(ids: Sequence[str], history: np.ndarray, scale: np.ndarray, forecast: np.ndarray) -> None:
    """ModelFileError naming the first forecast (S, K) far beyond its history (S, T) and scale (S,)."""
    reach = np.abs(history).max(axis=1) + scale  # (S,)
    beyond = np.abs(forecast) > IMPLAUSIBLE_RATIO * reach[:, None]
    if beyond.any():
        s, k = (int(v) for v in np.argwhere(beyond)[0])
        raise ModelFileError(
            f"the model forecast {forecast[s, k]:.4g} for series {ids[s]!r}, whose recent values stay within "
            f"+-{np.abs(history[s]).max():.4g}: the weights are damaged or training diverged; fit it again")


def check_finite(table: Mapping[str, np.ndarray]) -> None:
    """ModelFileError naming the first float column of a forecast table holding NaN or inf."""
    for name, column in table.items():
        if column.dtype.kind == "f" and not np.isfinite(column).all():
            raise ModelFileError(f"the model produced non-finite values in {name!r}; "
                                 "fit it again (the weights may be damaged)")
