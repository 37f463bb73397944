"""The linear partner: ridge over re-centred lookbacks, its penalty and weight chosen on validation, every path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast
from helpers import run
from rnncast import linear
from rnncast.config import ReadSpec, TrainSpec, WindowSpec
from rnncast.modelfile import model_from_parts, model_parts

LOOKBACK, HORIZON = 48, 12


def reader(x: np.ndarray, y: np.ndarray):
    return lambda idx: (x[idx], y[idx])


def fit_split(x: np.ndarray, y: np.ndarray, train: int) -> linear.Fitted:
    """The map fitted on the first `train` windows, chosen on the rest."""
    read = reader(x, y)
    return linear.fit(read, np.arange(train), read, np.arange(train, len(x)))


def test_ridge_recovers_the_map_that_made_the_targets() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (3000, 10))
    true = rng.normal(0, 1, (10, 4))
    y = x @ true + 0.5 + rng.normal(0, 0.01, (3000, 4))
    fitted = fit_split(x, y, 2500)
    assert fitted.penalty == linear.PENALTIES[0]  # nothing to shrink: the smallest penalty wins
    np.testing.assert_allclose(fitted.coefficients[:-1], true, atol=2e-3)
    np.testing.assert_allclose(fitted.coefficients[-1], 0.5, atol=2e-3)


def test_pure_noise_is_shrunk_to_its_mean() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 1, (80, 40)), rng.normal(2.0, 1, (80, 3))  # few windows, many inputs, no relation
    fitted = fit_split(x, y, 40)
    assert fitted.penalty == linear.PENALTIES[-1]
    assert np.abs(fitted.coefficients[:-1]).max() < 0.05


def test_spikes_in_the_training_targets_are_weighed_down_when_validation_favours_it() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (4000, 8))
    true = rng.normal(0, 1, (8, 3))
    y = x @ true + rng.normal(0, 0.1, (4000, 3))
    spiked = y.copy()
    spiked[rng.choice(3000, 150, replace=False)] += rng.choice([-30.0, 30.0], (150, 1))  # 5 % of windows jump
    fitted = fit_split(x, spiked, 3000)  # the validation windows (the last 1000) are clean
    squares = linear.best_penalty(linear.normal_equations(reader(x, spiked), np.arange(3000)), None,
                                  reader(x, y), np.arange(3000, 4000))
    assert fitted.robust and fitted.val_mse < squares.val_mse
    robust_miss = np.abs(fitted.coefficients[:-1] - true).max()
    assert robust_miss < 0.02 < np.abs(squares.coefficients[:-1] - true).max()


def test_huber_weights_are_one_inside_the_threshold_and_shrink_beyond_it() -> None:
    spread = 2.0
    edge = linear.HUBER_C * spread
    residuals = np.array([[0.0, 0.5 * edge], [edge, -edge], [2 * edge, -4 * edge]])
    np.testing.assert_allclose(linear.huber_weights(residuals, spread), [1.0, 1.0, (0.5 + 0.25) / 2])


def test_a_refit_with_more_windows_solves_the_equations_of_all_of_them_weighted_alike() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (900, 6))
    y = x @ rng.normal(0, 1, (6, 2)) + rng.standard_t(1.5, (900, 2))  # heavy tails: Huber is chosen
    fitted = fit_split(x, y, 600)
    assert fitted.robust
    more = linear.refit(fitted, reader(x, y), np.arange(600, 900))
    whole = linear.normal_equations(reader(x, y), np.arange(900), fitted.weighting)
    np.testing.assert_allclose(more, linear.solve(*whole, fitted.penalty), rtol=1e-9, atol=1e-12)


def test_the_equations_summed_in_chunks_are_those_of_one_product(monkeypatch) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 1, (1000, 6)), rng.normal(0, 1, (1000, 2))
    weighting = (rng.normal(0, 1, (7, 2)), np.array([0.5, 2.0, 1.0]))  # two series' spreads and the pooled
    series = np.arange(1000) % 2
    whole = [linear.normal_equations(reader(x, y), np.arange(1000), w, series) for w in (None, weighting)]
    monkeypatch.setattr(linear, "CHUNK", 64)
    chunked = [linear.normal_equations(reader(x, y), np.arange(1000), w, series) for w in (None, weighting)]
    for one, parts in zip(whole, chunked):
        for a, b in zip(one, parts):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert whole[0][2] == chunked[0][2] == 1000 and 0 < whole[1][2] < 1000


def test_constant_inputs_still_give_finite_coefficients() -> None:
    x, y = np.zeros((50, 5)), np.ones((50, 2))
    fitted = fit_split(x, y, 50 - 10)
    assert np.isfinite(fitted.coefficients).all() and not fitted.robust  # an exact fit: no spread to weigh by
    np.testing.assert_allclose(linear.forecast(fitted.coefficients, x), 1.0, atol=1e-9)


def hourly(path: Path, rows: int = 600, series: int = 1) -> Path:
    """Hourly series made of two daily waves: each future value is a linear function of the last day's."""
    t = np.arange(rows)
    frames = [pd.DataFrame({"time": pd.date_range("2024-01-01", periods=rows, freq="h"), "id": f"s{s}",
                            "value": 10 + s + 3 * np.sin(2 * np.pi * t / 24 + s) + np.cos(2 * np.pi * t / 12)})
              for s in range(series)]
    pd.concat(frames).to_csv(path, index=False)
    return path


def fit_linear(path: Path, **window) -> rnncast.Model:
    spec = WindowSpec(lookback=LOOKBACK, horizon=HORIZON, combine="linear", **window)
    return rnncast.fit(rnncast.read(path, ReadSpec(id_col="id")), window=spec, train=TrainSpec(epochs=2))


def test_a_linear_blend_forecasts_the_weighted_mean_and_the_map_alone_forecasts_the_waves(tmp_path: Path) -> None:
    model = fit_linear(hourly(tmp_path / "h.csv", series=2))
    assert model.linear is not None and model.linear.shape == (LOOKBACK + 1, HORIZON)
    assert model.metrics["blend_with"] == "linear" and model.blend < 0.5  # two epochs of a network lose to it
    network = rnncast.forecast(replace(model, blend=1.0, linear=None))["forecast"]
    alone = rnncast.forecast(replace(model, blend=0.0))["forecast"]
    np.testing.assert_allclose(rnncast.forecast(model)["forecast"],
                               model.blend * network + (1 - model.blend) * alone, rtol=1e-9)
    t = 600 + np.arange(HORIZON)
    truth = [10 + s + 3 * np.sin(2 * np.pi * t / 24 + s) + np.cos(2 * np.pi * t / 12) for s in range(2)]
    np.testing.assert_allclose(alone, np.concatenate(truth), atol=0.05)


def test_without_validation_windows_the_network_forecasts_alone(tmp_path: Path) -> None:
    model = fit_linear(hourly(tmp_path / "h.csv"), val_fraction=0.0)
    assert model.blend == 1.0 and model.linear is None and "blend" not in model.metrics


def test_the_map_survives_the_file_and_a_damaged_or_missing_one_is_refused(tmp_path: Path) -> None:
    model = fit_linear(hourly(tmp_path / "h.csv"))
    rnncast.save(model, tmp_path / "h.rnncast")
    loaded = rnncast.load(tmp_path / "h.rnncast")
    assert loaded.linear is not None
    np.testing.assert_array_equal(loaded.linear, model.linear)
    np.testing.assert_allclose(rnncast.forecast(loaded)["forecast"], rnncast.forecast(model)["forecast"])
    header, arrays = model_parts(model)
    for damage, message in [(lambda a: a.pop("linear/coefficients"), "needs its coefficients"),
                            (lambda a: a.update({"linear/coefficients": a["linear/coefficients"][:-1]}), "shape"),
                            (lambda a: a["linear/coefficients"].__setitem__((0, 0), np.nan), "NaN")]:
        broken = {name: value.copy() for name, value in arrays.items()}
        damage(broken)
        with pytest.raises(rnncast.ModelFileError, match=message):
            model_from_parts(header, broken, "bad.rnncast")


def test_fit_update_info_and_backtest_work_on_a_linear_blend(tmp_path: Path) -> None:
    data = hourly(tmp_path / "h.csv", rows=700)
    pd.read_csv(data).head(600).to_csv(tmp_path / "head.csv", index=False)
    small = ["--lookback", str(LOOKBACK), "--horizon", str(HORIZON), "--epochs", "2", "--hidden", "8",
             "--combine", "linear"]
    fitted = run("fit", tmp_path / "head.csv", *small, "-o", tmp_path / "h.rnncast")
    assert fitted.exit_code == 0 and "linear map" in fitted.stderr, fitted.stderr
    info = run("info", tmp_path / "h.rnncast")
    assert info.exit_code == 0 and "combine: linear" in info.stdout and "blend_with: linear" in info.stdout
    updated = run("update", tmp_path / "h.rnncast", data, "--quiet", "-o", tmp_path / "u.rnncast")
    assert updated.exit_code == 0, updated.stderr
    before, after = rnncast.load(tmp_path / "h.rnncast"), rnncast.load(tmp_path / "u.rnncast")
    assert after.linear is not None and before.linear is not None
    np.testing.assert_array_equal(after.linear, before.linear)  # kept as fitted; the network moved on
    assert after.metrics["update_new_rows"] == 100
    backtest = run("backtest", data, *small, "--folds", "2", "--json")
    assert backtest.exit_code == 0, backtest.stderr
    assert "rnncast" in backtest.stdout and "NaN" not in backtest.stdout


def test_each_series_windows_are_weighed_against_that_series_spread() -> None:
    """A calm series and a noisy one in one panel: pooled, the noisy one's ordinary misses would all
    count as outliers; per series, each keeps most windows at full weight."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, (4000, 5))
    noise = np.where(np.arange(4000) < 2000, 0.1, 2.0)[:, None]
    y = x[:, :2] + rng.normal(0, 1, (4000, 2)) * noise
    series = (np.arange(4000) >= 2000).astype(np.int64)
    exact = np.vstack([np.eye(5)[:, :2], np.zeros((1, 2))])
    spreads = linear.residual_spread(reader(x, y), np.arange(4000), exact, series)
    assert spreads.shape == (3,)
    np.testing.assert_allclose(spreads[:2], [0.1, 2.0], rtol=0.1)  # each series' own noise
    assert spreads[0] < spreads[2] < spreads[1]  # the last: pooled, for a series the sample lacks
    residuals = linear.forecast(exact, x) - y
    own = linear.huber_weights(residuals, spreads[series][:, None])
    pooled = linear.huber_weights(residuals, spreads[2])
    assert own[series == 1].mean() > 0.85 and pooled[series == 1].mean() < 0.6


def test_a_series_with_few_windows_in_the_sample_takes_the_pooled_spread() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.normal(0, 1, (500, 4)), rng.normal(0, 1, (500, 1))
    series = np.zeros(500, np.int64)
    series[:linear.OWN_SPREAD_WINDOWS - 1] = 1  # too few of series 1 to judge it by its own
    spreads = linear.residual_spread(reader(x, y), np.arange(500), np.zeros((5, 1)), series)
    assert spreads[1] == spreads[2] and spreads[0] != spreads[2]


def test_a_series_fitted_exactly_takes_the_pooled_spread() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(0, 1, (600, 4)), rng.normal(0, 1, (600, 1))
    series = (np.arange(600) >= 300).astype(np.int64)
    y[300:] = 0.0  # series 1: the zero map misses none of it
    spreads = linear.residual_spread(reader(x, y), np.arange(600), np.zeros((5, 1)), series)
    assert spreads[0] > 0 and spreads[1] == spreads[2] > 0
