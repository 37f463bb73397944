"""Rolling-origin evaluation: rnncast against naive, seasonal naive and drift on the same folds.

For fold f the origin of each series sits `(folds - 1 - f) * step + horizon` rows before
its end; the model and the baselines see only rows before the origin and forecast the
`horizon` rows after it. With refit, the model is fitted again for every fold on the
rows before that fold's origin; without, once on the rows before the earliest origin
(later folds then see rows the fit did not, as `predict --data` would).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnncast.config import BacktestSpec, NetSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, DataError
from rnncast.forecaster import Model
from rnncast.io import SeriesSet
from rnncast.windows import rows_before

METHODS = ("rnncast", "naive", "seasonal_naive", "drift")


@dataclass
class BacktestResult:
    """Per-fold, per-series rows and the overall summary per method."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, float | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The whole result as JSON-able data: settings, summary, notes, rows."""
        return {"settings": self.settings, "summary": self.summary, "notes": self.notes, "rows": self.rows}


def cut(series: SeriesSet, ends: np.ndarray) -> SeriesSet:
    """The same series with series s cut to rows before ends[s] (absolute row indices)."""
    starts = series.offsets[:-1]
    keep = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
    offsets = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    made_up = None if series.made_up is None else series.made_up[keep]
    return dataclasses.replace(series, values=series.values[keep], times=series.times[keep], offsets=offsets,
                               made_up=made_up, future=None)


def known_ahead(model: Model, series: SeriesSet, rows: np.ndarray) -> np.ndarray | None:
    """(S, K, Kn) the known columns' actual values at rows (S, K) of `series`: what the user had then."""
    if not model.known_columns:
        return None
    return series.values[rows, 1 + len(model.features):]


def origins(series: SeriesSet, folds: int, step: int, horizon: int) -> np.ndarray:
    """(folds, S) absolute row index of each fold's origin (first forecast row) per series."""
    if folds < 1:
        raise ConfigError(f"--folds must be at least 1, got {folds}")
    if step < 1:
        raise ConfigError(f"--step must be at least 1, got {step}")
    ends = series.offsets[1:]
    back = (folds - 1 - np.arange(folds))[:, None] * step + horizon  # (folds, 1)
    return ends[None, :] - back


def fold_forecasts(model: Model, series: SeriesSet, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Without refitting: the model's forecast (S, K) and its timestamps (S, K) from each of `folds`
    origins a horizon apart at the end of `series` (its series must be the model's), oldest first."""
    from rnncast.forecaster import forecast_windows, known_series
    from rnncast.holiday_flags import with_holidays

    series = with_holidays(series, model.window.holidays)
    T, K = model.window.steps
    index = np.array([m for m in known_series(model, series.ids)])
    at = origins(series, folds, K, K)
    short = np.flatnonzero(at[0] - series.offsets[:-1] < T)
    if short.size:
        raise DataError(f"series {series.ids[int(short[0])]!r} is too short for {folds} folds of {K} rows after a "
                        f"lookback of {T}; use fewer --folds")
    out = []
    R = model.history_rows
    for origin in at:
        history = series.values[rows_before(origin, series.offsets[:-1], R)]
        rows = np.minimum(origin[:, None] + np.arange(K), series.offsets[1:, None] - 1)
        future = series.times[rows]
        out.append((future, forecast_windows(model, history, future, model.scaler, index,
                                             known_future=known_ahead(model, series, rows))["forecast"]))
    return out


@dataclass(frozen=True)
class Plan:
    """A backtest's settings, resolved against the data: what fitting and scoring share."""

    window: WindowSpec
    net: NetSpec
    train: TrainSpec
    folds: int
    step: int
    refit: bool
    season: int
    levels: tuple[int, ...]
    adapting: bool

    def settings(self) -> dict[str, Any]:
        lookback, horizon = self.window.steps
        return {"folds": self.folds, "step": self.step, "horizon": horizon, "lookback": lookback,
                "refit": self.refit, "season": self.season, "levels": list(self.levels),
                "adaptive_intervals": self.adapting}

    def origins(self, series: SeriesSet) -> np.ndarray:
        """(folds, S) each fold's origin per series, or a DataError naming a series too short for them."""
        lookback, horizon = self.window.steps
        at = origins(series, self.folds, self.step, horizon)
        starts = series.offsets[:-1]
        short = np.flatnonzero(at[0] < starts + lookback + horizon + 1)
        if short.size:
            s = int(short[0])
            raise DataError(f"series {series.ids[s]!r} has {series.offsets[s + 1] - starts[s]} rows, too few for "
                            f"{self.folds} folds {self.step} apart with lookback {lookback} and horizon {horizon}; "
                            "use fewer --folds, a smaller --step or a shorter --lookback")
        return at


def plan(series: SeriesSet, window: WindowSpec, net: NetSpec, train: TrainSpec,
         spec: BacktestSpec = BacktestSpec()) -> tuple[Plan, SeriesSet]:
    """The plan, and the series with the holiday flag when the window asks for one (the folds read it)."""
    from rnncast.frequency import season_length
    from rnncast.holiday_flags import check_code, with_holidays
    from rnncast.intervals import whole_percent

    # Checked before any fit: a level out of range would otherwise surface after minutes.
    levels = tuple(dict.fromkeys(whole_percent(level) for level in spec.levels))
    window = window.resolved(series.freq)
    if window.holidays:  # the flag is a column of the data, like the known columns: the folds read it
        window = dataclasses.replace(window, holidays=check_code(window.holidays))
        series = with_holidays(series, window.holidays)
    horizon = window.steps[1]
    folds = spec.folds
    if spec.test_size is not None:
        if spec.test_size < horizon:
            raise ConfigError(f"--test-size {spec.test_size} is shorter than the horizon ({horizon})")
        folds = (spec.test_size - horizon) // (spec.step or horizon) + 1
    if folds < 1:
        raise ConfigError(f"--folds must be at least 1, got {folds}")
    return Plan(window, net, train, folds, spec.step or horizon, spec.refit, spec.season or season_length(series.freq),
                levels, spec.adapt and not spec.refit), series


def fold_models(series: SeriesSet, plan: Plan,
                on_fit: Callable[[int, int, float], None] | None = None) -> list[Model]:
    """The model of every fold, each fitted on the rows before its origins (one for all without refit).

    `on_fit(done, count, seconds)` hears of each fit as it ends.
    """
    from rnncast.fitting import fit_series

    at = plan.origins(series)
    cuts = at if plan.refit else at[:1]
    started = time.perf_counter()
    models = []
    for origin in cuts:
        models.append(fit_series(cut(series, origin), plan.window, plan.net, plan.train))
        if on_fit is not None:
            on_fit(len(models), len(cuts), time.perf_counter() - started)
    return models


def backtest(series: SeriesSet, window: WindowSpec, net: NetSpec, train: TrainSpec,
             spec: BacktestSpec = BacktestSpec(),
             on_fold: Callable[[int, int, float], None] | None = None) -> BacktestResult:
    """Rolling-origin evaluation of a model fitted with these specs beside the baselines.

    The folds' origins sit `spec.step` rows apart (default: the horizon) at the end of each
    series; `spec.test_size` instead places as many origins as fit in the last rows.
    Without `spec.refit`, later folds' intervals follow their misses on the rows since the
    fit when `spec.adapt` (as `predict --data` does).
    """
    settled, series = plan(series, window, net, train, spec)
    # With refit, the fits are the folds' work: each reports as it ends; without, the scoring does.
    models = fold_models(series, settled, on_fit=on_fold if settled.refit else None)
    return score(series, settled, models, on_fold=None if settled.refit else on_fold)


def score(series: SeriesSet, plan: Plan, models: Sequence[Model],
          on_fold: Callable[[int, int, float], None] | None = None) -> BacktestResult:
    """Every fold's forecasts of `series` by `models` (fold_models' list) and the baselines, scored.

    Series are scored independently: a part of the data scored alone gives its rows of the
    whole (rnncast.folders scores a folder file by file).
    """
    from rnncast.adapt import interval_scales
    from rnncast.forecaster import forecast_windows, known_series
    from rnncast.intervals import calibrated

    fitted = set(models[0].ids)
    unknown = [name for name in series.ids if name not in fitted] if models[0].id_col else []
    if unknown:
        raise DataError(f"series {unknown[0]!r} is not in the data the backtest was fitted on")
    replayed: dict[int, list[np.ndarray]] = {}  # without refit: the one model's interval scales on all rows

    def forecast_fold(model: Model, history: np.ndarray, future: np.ndarray, lv: Sequence[int],
                      seen: SeriesSet, ahead: np.ndarray) -> dict[str, np.ndarray]:
        # A level the fold's validation data cannot calibrate is left out of its scores.
        usable = calibrated(model.intervals, lv)
        # Known columns at the fold's forecast steps: their actual values, as the user had them.
        known = ahead[:, :, 1 + len(model.features):] if model.known_columns else None
        # The model's own index of each series: `series` may be a part of the data it was fitted on.
        index = np.array(known_series(model, series.ids))
        if not plan.adapting:  # refitted at the origin (or told not to adapt): nothing is new to the model
            return forecast_windows(model, history, future, series_index=index, levels=usable, known_future=known)
        # Without refit, rows between the fit and this origin are new: intervals follow
        # their misses on them, as in `predict --data`. Entry r of interval_scales uses
        # only rows before r, so one replay over all rows serves every fold.
        if not replayed:
            replayed.update(interval_scales(model, series, usable))
        origin = np.diff(seen.offsets)  # each series' origin, counted from its first row
        scales = {level: np.array([rows[r] for rows, r in zip(replayed[level], origin)]) for level in usable}
        return forecast_windows(model, history, future, series_index=index, levels=usable, scales=scales,
                                known_future=known)

    return run_folds(series, models, forecast_fold, plan, on_fold=on_fold)


def run_folds(series: SeriesSet, models: Sequence[Any], forecast: Callable[..., dict], plan: Plan,
              on_fold: Callable[[int, int, float], None] | None = None) -> BacktestResult:
    """Score `forecast` (model, history, future, levels, seen, ahead) of each fold's model beside the baselines.

    `on_fold(done, folds, seconds)` hears of each fold as it ends (seconds since the start).

    `forecast` gets each series' last lookback rows before the origin, the timestamps to
    forecast, the levels, `seen`: every row before the origin, and the rows (S, K, F) of
    the forecast steps, of which it may read only the columns known in advance.
    """
    from rnncast import baselines, metrics
    from rnncast.io.writing import iso_times

    lookback, horizon = plan.window.steps
    folds, season, levels = plan.folds, plan.season, plan.levels
    at = plan.origins(series)
    starts = series.offsets[:-1]
    result = BacktestResult(settings=plan.settings())
    target = series.values[:, 0]
    started = time.perf_counter()
    for f in range(folds):
        origin = at[f]
        model = models[f if plan.refit else 0]
        R = model.history_rows  # Theta of a blended model reads more than the lookback
        ahead = origin[:, None] + np.arange(horizon)  # (S, K)
        history = series.values[rows_before(origin, starts, R)]  # (S, R, F): nothing at or after the origin
        stamps = iso_times(series.times[origin], series.tz)  # as forecasts write them
        out = forecast(model, history, series.times[ahead], levels, cut(series, origin), series.values[ahead])
        actual = target[ahead]
        for s, name in enumerate(series.ids):
            past = target[starts[s] : origin[s]]
            preds = {"rnncast": out["forecast"][s]}
            for method in METHODS[1:]:
                preds[method] = baselines.BASELINES[method](past, horizon, season)
            for method, pred in preds.items():
                row = {"fold": f, "series": name, "method": method, "origin": stamps[s]}
                row.update(_scores(actual[s], pred, past, season, metrics))
                if method == "rnncast":
                    for lv in levels:
                        if f"lower_{lv}" not in out:  # too few validation windows for this level
                            row[f"coverage_{lv}"] = row[f"width_{lv}"] = None
                            continue
                        lo, hi = out[f"lower_{lv}"][s], out[f"upper_{lv}"][s]
                        row[f"coverage_{lv}"] = float(metrics.coverage(actual[s], lo, hi))
                        row[f"width_{lv}"] = float(metrics.width(lo, hi))
                result.rows.append(row)
        if on_fold is not None:
            on_fold(f + 1, folds, time.perf_counter() - started)
    if not metrics.mape_defined(target):
        result.notes.append("MAPE skipped: the actuals touch zero")
    uncalibrated = sorted({lv for r in result.rows for lv in levels if r.get(f"coverage_{lv}", 0) is None
                           and r["method"] == "rnncast"})
    if uncalibrated:
        result.notes.append(f"no coverage for {', '.join(f'{lv}%' for lv in uncalibrated)}: too few "
                            "validation windows to calibrate (more data or a larger validation share gives them)")
    result.summary = summarize(result.rows)
    return result


def _scores(actual: np.ndarray, pred: np.ndarray, past: np.ndarray, season: int, metrics) -> dict[str, float | None]:
    scale_season = season if len(past) > season else 1
    return {
        "mae": float(metrics.mae(actual, pred)),
        "rmse": float(metrics.rmse(actual, pred)),
        "mape": float(metrics.mape(actual, pred)) if metrics.mape_defined(actual) else None,
        "smape": float(metrics.smape(actual, pred)),
        "mase": float(metrics.mase(actual, pred, past, scale_season)),
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Mean of every metric over folds and series, per method (None where never defined)."""
    summary: dict[str, dict[str, float | None]] = {}
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        keys = [k for k in mine[0] if k not in ("fold", "series", "method", "origin")] if mine else []
        summary[method] = {}
        for key in keys:
            values = [r[key] for r in mine if r.get(key) is not None and np.isfinite(r[key])]
            summary[method][key] = float(np.mean(values)) if values else None
    return summary
