"""Damped-trend smoothing: the matrix form against the recursion, its forecasts' shape, and the blends that use it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast
from rnncast import damped, theta
from rnncast.config import ReadSpec, TrainSpec, WindowSpec


def recursion(y: np.ndarray, alpha: float, beta: float, phi: float, level: float, trend: float,
              K: int) -> tuple[float, np.ndarray]:
    """Damped Holt step by step in error-correction form: squared one-step error and K forecasts."""
    sse = 0.0
    for value in y:
        error = value - (level + phi * trend)
        sse += error**2
        level, trend = level + phi * trend + alpha * error, phi * trend + beta * error
    return sse, np.array([level + sum(phi**j for j in range(1, h + 1)) * trend for h in range(1, K + 1)])


def test_every_grid_point_matches_the_step_by_step_recursion() -> None:
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(0.5, 1.0, 18)) + 20
    n, K = len(y), 5
    slope = np.array([1.3])
    grid = [(a, b, p) for a in damped._ALPHAS for b in a * damped._BETA_SHARES for p in damped._PHIS]
    maps = damped._grid(n, K)
    errors, aheads = damped._fit(y[None, :], slope, *maps)
    assert errors.shape == (len(grid), 1) and aheads.shape == (len(grid), 1, K)
    for i in (0, 7, 101, len(grid) - 1):
        alpha, beta, phi = grid[i]
        # The level the least-squares fit chose, checked by the recursion: its error is the smallest.
        residual, start = maps[0][i], maps[1][i]
        r = y @ residual.T - slope[0] * start[:, 1]
        level = float(r @ start[:, 0] / (start[:, 0] @ start[:, 0]))
        sse, want = recursion(y, alpha, beta, phi, level, slope[0], K)
        np.testing.assert_allclose(errors[i], [sse], rtol=1e-9)
        np.testing.assert_allclose(aheads[i, 0], want, rtol=1e-9)
        for nudge in (-0.1, 0.1):
            assert recursion(y, alpha, beta, phi, level + nudge, slope[0], K)[0] > sse


def test_a_straight_line_is_continued_as_a_line_and_a_fading_trend_is_damped() -> None:
    y = 10 + 2.0 * np.arange(30)
    out = damped.forecast(y[None, :], 8, 1)[0]
    # Holt's undamped trend (phi 1) fits a line exactly: the likelihood gives it the forecast.
    np.testing.assert_allclose(out, 10 + 2.0 * np.arange(30, 38), rtol=1e-6)
    rng = np.random.default_rng(3)
    fading = 10 + 40 * (1 - np.exp(-np.arange(30) / 12)) + rng.normal(0, 0.2, 30)
    ahead = damped.forecast(fading[None, :], 8, 1)[0]
    step = (fading[-1] - fading[-6]) / 5  # the last few steps' rise
    assert np.all(ahead[1:] - fading[-1] < step * np.arange(2, 9))  # rises by less than that each step


def test_too_short_a_history_forecasts_nothing_as_theta_does() -> None:
    # A constant window reads as padding (one real row): the blend falls back to the network there.
    assert np.isnan(damped.forecast(np.full((2, 20), 4.5), 3, 1)).all()
    short = np.r_[np.full(33, 1.0), np.arange(1.0, 8.0)]  # 7 real rows after the padding
    assert np.isnan(damped.forecast(short[None, :], 3, 1)).all()


def test_front_padding_changes_nothing_and_lengths_mix_in_one_batch() -> None:
    rng = np.random.default_rng(3)
    y = 50 + np.cumsum(rng.normal(0.3, 1.0, 25))
    padded = np.r_[np.full(15, y[0]), y][None, :]
    alone = damped.forecast(y[None, :], 6, 1)
    np.testing.assert_allclose(damped.forecast(padded, 6, 1), alone, rtol=1e-12)
    mixed = np.stack([padded[0], 30 + np.cumsum(rng.normal(0, 1, 40))])
    np.testing.assert_allclose(damped.forecast(mixed, 6, 1)[0], alone[0], rtol=1e-12)


def test_a_multiplicative_season_is_carried_into_the_forecast() -> None:
    t = np.arange(120)
    y = (100 + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    out = damped.forecast(y[None, :], 12, 12)[0]
    season = np.sin(2 * np.pi * np.arange(120, 132) / 12)
    assert np.corrcoef(out, season)[0, 1] > 0.99 and np.all(out > 0)


@pytest.mark.parametrize("size", [1e-300, 1e299])
def test_values_near_floats_limits_give_finite_forecasts_or_nan_never_an_error(size: float) -> None:
    y = size * (1 + 0.01 * np.arange(20))
    out = damped.forecast(y[None, :], 4, 1)
    assert np.isfinite(out).all() or np.isnan(out).all()


def test_comb_is_the_mean_of_theta_and_damped_trend() -> None:
    rng = np.random.default_rng(4)
    history = 40 + np.cumsum(rng.normal(0.2, 1.0, (5, 40)), axis=1)
    want = (theta.forecast(history, 6, 1) + damped.forecast(history, 6, 1)) / 2
    np.testing.assert_allclose(theta.classic("comb", history, 6, 1), want, rtol=1e-12)
    np.testing.assert_allclose(theta.classic("damped", history, 6, 1), damped.forecast(history, 6, 1))


def yearly_panel(path: Path) -> Path:
    rng = np.random.default_rng(8)
    frames = [pd.DataFrame({"date": pd.date_range("1970-01-01", periods=n, freq="YS"), "series": f"s{s}",
                            "value": 100 + np.cumsum(rng.normal(2 + s, 3, n))})
              for s, n in enumerate((14, 20, 30, 41, 25, 18))]
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_a_yearly_fit_blends_with_the_classic_validation_chose_and_forecasts_the_weighted_mean(tmp_path: Path) -> None:
    series = rnncast.read(yearly_panel(tmp_path / "y.csv"), ReadSpec(id_col="series"))
    model = rnncast.fit(series, window=WindowSpec(lookback=6, horizon=4), train=TrainSpec(epochs=2))
    kind = model.window.combine
    assert kind in theta.candidates("auto", "YS") and model.metrics["blend_with"] == kind
    assert model.history_rows == 40 and model.blend < 1.0
    network = rnncast.forecast(replace(model, blend=1.0))["forecast"].reshape(6, 4)
    classic = theta.classic(kind, model.history[:, :, 0], 4, 1)
    want = model.blend * network + (1 - model.blend) * classic
    np.testing.assert_allclose(rnncast.forecast(model)["forecast"].reshape(6, 4), want, rtol=1e-9)
    rnncast.save(model, tmp_path / "y.rnncast")
    loaded = rnncast.load(tmp_path / "y.rnncast")
    assert loaded.window.combine == kind
    np.testing.assert_allclose(rnncast.forecast(loaded)["forecast"], rnncast.forecast(model)["forecast"])
