"""Intervals through a fitted model on series with known noise: 2,000 fresh windows each.

tests/test_intervals.py checks the conformal arithmetic on residuals; this checks the
whole path (validation residuals at fit, the stored offsets, forecast_windows applying
them, and the adaptive scale) on an hourly sine with AR(1) noise continued past the fit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnncast import api
from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.io import SeriesSet

LOOKBACK, HORIZON, FIT_ROWS, FRESH = 24, 6, 2000, 2000
LEVELS = (80, 95)
SEEDS = (0, 1, 2, 3)


def _hourly_series(n: int, seed: int) -> SeriesSet:
    """10 + a daily sine + AR(1) noise (phi 0.6): the same process before and after the fit."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal(n)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.6 * noise[t - 1] + shocks[t]
    t = np.arange(n)
    values = 10 + 2 * np.sin(2 * np.pi * t / 24) + 0.5 * noise
    times = (np.datetime64("2024-01-01T00") + t.astype("timedelta64[h]")).astype("datetime64[ns]")
    return SeriesSet(values=values[:, None], offsets=np.array([0, n]), ids=("y",), times=times, freq="h",
                     tz=None, target="y", features=(), time_col="t", id_col=None, filled=0, source="test")


def _coverage(seed: int) -> dict[str, dict[int, float]]:
    """Mean coverage (%) over the fresh windows and steps, as calibrated and adaptive."""
    full = _hourly_series(FIT_ROWS + FRESH + HORIZON, seed)
    head = dataclasses.replace(full, values=full.values[:FIT_ROWS], times=full.times[:FIT_ROWS],
                               offsets=np.array([0, FIT_ROWS]))
    model = api.fit(head, window=WindowSpec(lookback=LOOKBACK, horizon=HORIZON, val_fraction=0.3),
                    net=NetSpec(hidden=8), train=TrainSpec(epochs=4, seed=seed))
    origins = FIT_ROWS + np.arange(FRESH)  # first forecast row of each fresh window
    history = full.values[origins[:, None] - LOOKBACK + np.arange(LOOKBACK)]
    targets = origins[:, None] + np.arange(HORIZON)
    actual, future, index = full.values[targets, 0], full.times[targets], np.zeros(FRESH, dtype=np.int64)
    per_row = api.interval_scales(model, full, LEVELS)
    runs = {
        "calibrated": api.forecast_windows(model, history, future, series_index=index, levels=LEVELS),
        "adaptive": api.forecast_windows(model, history, future, series_index=index, levels=LEVELS,
                                         scales={lv: per_row[lv][0][origins] for lv in LEVELS}),
    }
    return {kind: {lv: 100 * float(((actual >= out[f"lower_{lv}"]) & (actual <= out[f"upper_{lv}"])).mean())
                   for lv in LEVELS} for kind, out in runs.items()}


@pytest.fixture(scope="module")
def coverage() -> list[dict[str, dict[int, float]]]:
    return [_coverage(seed) for seed in SEEDS]


@pytest.mark.parametrize("level", LEVELS)
def test_calibrated_intervals_cover_at_their_level_on_average(coverage, level: int) -> None:
    # One validation set of ~600 overlapping windows fixes a fit's coverage within a few
    # points either way (measured 77-83 % at 80 %); the promise is on average over fits.
    mean = float(np.mean([run["calibrated"][level] for run in coverage]))
    assert abs(mean - level) <= 3, (level, coverage)


@pytest.mark.parametrize("level", LEVELS)
def test_adaptive_intervals_cover_at_their_level_in_every_fit(coverage, level: int) -> None:
    # On the fresh rows the scale corrects each fit's own calibration error.
    for run in coverage:
        assert abs(run["adaptive"][level] - level) <= 3, (level, coverage)
