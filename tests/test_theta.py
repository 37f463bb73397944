"""The Theta method and the blend: the classic's forecasts, the weight chosen on validation, every path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast
from helpers import fit_on_head, run
from rnncast import api, theta
from rnncast.config import ReadSpec, TrainSpec, WindowSpec
from rnncast.modelfile import model_from_parts, model_parts
from rnncast.windows import real_lengths

SMALL = ["--epochs", "2", "--hidden", "8", "--lookback", "12", "--quiet"]


def reference_theta(y: np.ndarray, K: int) -> np.ndarray:
    """Theta without a season, step by step: SES from the first value over the alpha grid, drift half the slope."""
    n = len(y)
    best = (np.inf, 0.0, 0.0)
    for a in theta.ALPHAS:
        level, error = y[0], 0.0
        for t in range(1, n):
            error += (y[t] - level) ** 2
            level = a * y[t] + (1 - a) * level
        if error < best[0]:
            best = (error, level, a)
    _, level, a = best
    slope = np.polyfit(np.arange(n), y, 1)[0]
    return np.array([level + slope / 2 * (h + (1 - (1 - a) ** n) / a) for h in range(K)])


def monthly_panel(path: Path, series: int = 6, rows: int = 96) -> Path:
    """Positive monthly series with a multiplicative season, a trend and noise, in long format."""
    rng = np.random.default_rng(11)
    t = np.arange(rows)
    frames = [pd.DataFrame({"date": pd.date_range("2012-01-01", periods=rows, freq="MS"), "series": f"s{s}",
                            "value": (50 + s + 0.2 * t) * (1 + 0.25 * np.sin(2 * np.pi * t / 12 + s))
                            * np.exp(rng.normal(0, 0.05, rows))}) for s in range(series)]
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_theta_matches_a_step_by_step_reference_without_a_season() -> None:
    rng = np.random.default_rng(0)
    histories = np.cumsum(rng.normal(0.3, 1.0, (5, 30)), axis=1) + 20
    got = theta.forecast(histories, 7, 1)
    for row, want in zip(got, (reference_theta(h, 7) for h in histories)):
        np.testing.assert_allclose(row, want, rtol=1e-10)


def test_a_straight_line_is_followed_from_its_last_value_at_half_its_slope() -> None:
    line = 3.0 + 2.0 * np.arange(24.0)
    got = theta.forecast(line[None, :], 4, 1)[0]
    # alpha 1 (no one-step error): level = last value, drift = half the slope per step, from one step.
    np.testing.assert_allclose(got, line[-1] + 1.0 * (np.arange(4) + 1), rtol=1e-12)


def test_a_pure_multiplicative_season_is_found_and_forecast_exactly() -> None:
    pattern = np.array([0.8, 0.9, 1.3, 1.0])
    pattern = pattern / pattern.mean()
    y = 40.0 * np.tile(pattern, 10)  # 40 quarters, constant level
    got = theta.forecast(y[None, :], 6, 4)[0]
    np.testing.assert_allclose(got, 40.0 * np.tile(pattern, 2)[:6], rtol=1e-9)


def test_no_season_is_taken_from_data_that_can_be_zero_or_from_noise() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(10, 1, (1, 48))
    flat = theta.forecast(noise, 12, 12)[0]
    assert np.ptp(flat) < 0.2 * np.ptp(noise)  # level and drift only: no seasonal swing
    signed = np.tile([-1.0, 2.0, 5.0, 2.0], 12)[None, :]
    assert np.isfinite(theta.forecast(signed, 8, 4)).all()


def test_too_short_a_history_gets_no_theta_forecast() -> None:
    rng = np.random.default_rng(6)
    short = np.r_[np.full(30, 5.0), 5 + rng.normal(0, 1, 23)][None, :]  # 24 real monthly rows: two seasons
    assert np.isnan(theta.forecast(short, 6, 12)).all()
    assert np.isfinite(theta.forecast(short[:, -25:] + np.arange(25), 6, 12)).all()
    assert np.isnan(theta.forecast(short[:, -7:], 3, 1)).all()
    assert np.isfinite(theta.forecast(short[:, -8:], 3, 1)).all()


def test_padding_in_front_is_not_read_as_history() -> None:
    rng = np.random.default_rng(4)
    y = 30 + np.cumsum(rng.normal(0, 1, 25))
    padded = np.r_[np.full(15, y[0]), y][None, :]
    assert real_lengths(padded)[0] == 25
    np.testing.assert_allclose(theta.forecast(padded, 5, 1), theta.forecast(y[None, :], 5, 1), rtol=1e-12)
    mixed = np.stack([padded[0], 30 + np.cumsum(rng.normal(0, 1, 40))])  # two lengths in one batch
    np.testing.assert_allclose(theta.forecast(mixed, 5, 1)[0], theta.forecast(y[None, :], 5, 1)[0], rtol=1e-12)


@pytest.mark.parametrize(("combine", "freq", "chosen"), [
    ("auto", "MS", "theta"), ("auto", "QS", "theta"), ("auto", "YS", "damped"), ("auto", "D", "none"),
    ("auto", "h", "linear"), ("auto", "2h", "linear"), ("auto", "min", "none"), ("auto", "W", "none"),
    ("none", "MS", "none"), ("theta", "D", "theta"),
    ("damped", "YS", "damped"),
])
def test_auto_blends_monthly_quarterly_yearly_and_hourly_data_only(combine, freq, chosen) -> None:
    assert theta.choose(combine, freq) == chosen


def test_the_weight_follows_whichever_forecast_the_validation_targets_agree_with() -> None:
    rng = np.random.default_rng(5)
    actual = rng.normal(0, 1, (50, 4))
    other = rng.normal(0, 1, (50, 4))
    spread = np.ones(50)
    assert theta.best_weight(actual, other, actual, spread) == 1.0
    assert theta.best_weight(other, actual, actual, spread) == 0.0
    halfway = theta.best_weight(actual + 1.0, actual - 1.0, actual, spread)
    assert 0.0 < halfway < 1.0


def test_the_classic_chosen_is_the_one_whose_blend_misses_the_validation_targets_least() -> None:
    rng = np.random.default_rng(7)
    actual = rng.normal(0, 1, (60, 4))
    network = actual + rng.normal(0, 1, (60, 4))
    near, far = actual + rng.normal(0, 0.3, (60, 4)), actual + rng.normal(0, 2, (60, 4))
    spread = np.ones(60)
    assert theta.best_classic(network, {"theta": far, "damped": near}, actual, spread) == "damped"
    assert theta.best_classic(network, {"theta": near, "damped": far}, actual, spread) == "theta"
    assert theta.best_classic(network, {"comb": near, "theta": near}, actual, spread) == "comb"  # a tie: the first
    # Less than CLASSIC_MARGIN better than the default (the first) is not enough to leave it.
    barely = near + 0.002 * np.sign(actual - near)
    assert theta.best_classic(network, {"damped": near, "comb": barely}, actual, spread) == "damped"


@pytest.mark.parametrize(("combine", "freq", "tried"), [
    ("auto", "YS", ("damped", "ocomb", "otheta")), ("auto", "Y", ("damped", "ocomb", "otheta")),
    ("auto", "MS", ("theta",)), ("comb", "YS", ("comb",)), ("theta", "YS", ("theta",)), ("auto", "h", ("linear",)),
    ("otheta", "MS", ("otheta",)),
])
def test_auto_tries_every_classic_on_yearly_data_and_a_named_one_alone(combine, freq, tried) -> None:
    assert theta.candidates(combine, freq) == tried


@pytest.mark.parametrize(("share", "weight"), [(1.0, 0.0), (0.3, 0.35), (0.0, 0.5)])
def test_series_that_could_not_be_validated_pull_the_weight_to_the_even_split(share, weight) -> None:
    rng = np.random.default_rng(6)
    actual, other = rng.normal(0, 1, (50, 4)), rng.normal(0, 1, (50, 4))
    # The validated series favour Theta alone; the rest are not heard and get half each.
    assert theta.best_weight(other, actual, actual, np.ones(50), share) == pytest.approx(weight)


def test_theta_in_the_networks_units_falls_back_where_the_log_has_none() -> None:
    classic = np.array([[np.e, -1.0]])
    out = theta.centred(classic, "log", np.array([[0.5]]), np.array([[2.0]]), np.array([[0.1]]),
                        np.array([[7.0, 9.0]]))
    np.testing.assert_allclose(out, [[(1.0 - 0.5) / 2.0 - 0.1, 9.0]])


def test_a_blended_forecast_is_the_weighted_mean_of_the_network_and_theta(tmp_path: Path) -> None:
    series = rnncast.read(monthly_panel(tmp_path / "m.csv"), ReadSpec(id_col="series"))
    window = WindowSpec(lookback=12, horizon=6, transform="none")
    model = rnncast.fit(series, window=window, train=TrainSpec(epochs=3))
    assert model.window.combine == "theta" and model.history.shape[1] == model.history_rows == 120
    assert 0.0 <= model.blend <= 1.0 and model.metrics["blend"] == model.blend
    network = rnncast.forecast(replace(model, blend=1.0))["forecast"].reshape(6, 6)  # series by series
    classic = theta.forecast(model.history[:, :, 0], 6, 12)
    want = model.blend * network + (1 - model.blend) * classic
    np.testing.assert_allclose(rnncast.forecast(model)["forecast"].reshape(6, 6), want, rtol=1e-9)
    alone = rnncast.fit(series, window=replace(window, combine="none"), train=TrainSpec(epochs=3))
    assert alone.blend == 1.0 and alone.history.shape[1] == 12 and "blend" not in alone.metrics


def test_the_blend_and_its_history_survive_the_file_and_old_files_forecast_with_the_network(tmp_path: Path) -> None:
    series = rnncast.read(monthly_panel(tmp_path / "m.csv"), ReadSpec(id_col="series"))
    model = replace(rnncast.fit(series, window=WindowSpec(lookback=12, horizon=6), train=TrainSpec(epochs=2)),
                    blend=0.4)
    rnncast.save(model, tmp_path / "m.rnncast")
    loaded = rnncast.load(tmp_path / "m.rnncast")
    assert loaded.blend == 0.4 and loaded.window.combine == "theta"
    np.testing.assert_array_equal(loaded.history, model.history)
    np.testing.assert_allclose(rnncast.forecast(loaded)["forecast"], rnncast.forecast(model)["forecast"])
    # A file written before blends: no weight in its header, no combine in its window, a lookback of history.
    header, arrays = model_parts(model)
    del header["blend"], header["window"]["combine"]
    arrays["history/values"] = arrays["history/values"][:, -12:]
    old = model_from_parts(header, arrays, "old.rnncast")
    assert old.blend == 1.0 and old.window.combine == "none"
    network = rnncast.forecast(replace(model, blend=1.0))["forecast"]
    np.testing.assert_allclose(rnncast.forecast(old)["forecast"], network)
    header, arrays = model_parts(model)
    header["blend"] = 1.5
    with pytest.raises(rnncast.ModelFileError, match="blend"):
        model_from_parts(header, arrays, "bad.rnncast")


def test_the_history_drawn_is_the_series_own_not_its_padding(tmp_path: Path) -> None:
    data = monthly_panel(tmp_path / "m.csv", rows=90)  # 90 rows: Theta's 120 are padded with 30 in front
    model = rnncast.fit(rnncast.read(data, ReadSpec(id_col="series")), window=WindowSpec(lookback=12, horizon=6),
                        train=TrainSpec(epochs=1))
    times, values = model.stored_history(0)
    frame = pd.read_csv(data).query("series == 's0'")
    assert len(values) == 90 and str(times[0])[:10] == frame["date"].iloc[0]
    np.testing.assert_allclose(values, frame["value"])
    drawn = api.plot(model)  # no output file: the picture in characters, each title with its dates
    assert drawn is not None and "s0  (2012-01" in drawn, drawn[:300]


def test_predict_from_the_data_reads_the_same_history_as_the_stored_one(tmp_path: Path) -> None:
    data = monthly_panel(tmp_path / "m.csv", rows=90)
    assert run("fit", data, "--id-col", "series", "--horizon", "6", *SMALL, "-o", tmp_path / "m.rnncast").exit_code == 0
    stored = run("predict", tmp_path / "m.rnncast")
    given = run("predict", tmp_path / "m.rnncast", "--data", data)
    assert stored.exit_code == given.exit_code == 0 and stored.stdout == given.stdout
    pd.read_csv(data).query("series == 's1'").to_csv(tmp_path / "s1.csv", index=False)
    alone = run("predict", tmp_path / "m.rnncast", "--data", tmp_path / "s1.csv")
    assert alone.exit_code == 0 and alone.stdout.splitlines()[1:] == [
        line for line in stored.stdout.splitlines() if line.startswith("s1,")]


def test_backtest_update_and_info_work_on_a_blended_model(tmp_path: Path) -> None:
    data = monthly_panel(tmp_path / "m.csv", rows=96)
    fit_on_head(data, 90, tmp_path / "m.rnncast", "--horizon", "6", *SMALL)
    info = run("info", tmp_path / "m.rnncast")
    assert info.exit_code == 0 and "combine: theta" in info.stdout and "blend:" in info.stdout
    updated = run("update", tmp_path / "m.rnncast", data, "--quiet", "-o", tmp_path / "u.rnncast")
    assert updated.exit_code == 0, updated.stderr
    model = rnncast.load(tmp_path / "u.rnncast")
    assert model.history.shape[1] == model.history_rows  # the newest rows of Theta's history, kept
    np.testing.assert_allclose(model.history[0, -6:, 0], pd.read_csv(data).query("series == 's0'")["value"][-6:])
    backtest = run("backtest", data, "--id-col", "series", "--horizon", "6", "--folds", "2", *SMALL[:-1], "--json")
    assert backtest.exit_code == 0, backtest.stderr
    assert "rnncast" in backtest.stdout and "NaN" not in backtest.stdout


def test_update_scores_and_recalibrates_the_blended_forecast_not_the_network_alone(tmp_path: Path) -> None:
    data = monthly_panel(tmp_path / "m.csv", series=8, rows=180)
    head = pd.read_csv(data).groupby("series").head(96)
    head.to_csv(tmp_path / "head.csv", index=False)
    model = rnncast.fit(rnncast.read(tmp_path / "head.csv", ReadSpec(id_col="series")),
                        window=WindowSpec(lookback=12, horizon=6), train=TrainSpec(epochs=2))
    damaged = {name: value * 3.0 for name, value in model.params.items()}  # another network, same Theta

    def updated(blend: float, params: dict[str, np.ndarray]) -> rnncast.Model:
        notes: list[str] = []
        out = api.update(replace(model, blend=blend, params=params), data, epochs=1, notes=notes)
        assert not any("intervals kept" in note for note in notes)  # 84 new rows a series: recalibrated
        return out

    # Theta alone (weight 0): what the network's weights are cannot change the update's scores or intervals.
    a, b = updated(0.0, model.params), updated(0.0, damaged)
    assert a.metrics["update_val_mae"] == b.metrics["update_val_mae"]
    assert a.intervals is not None and b.intervals is not None
    np.testing.assert_array_equal(a.intervals, b.intervals)
    c, d = updated(1.0, model.params), updated(1.0, damaged)  # the network alone: they do
    assert c.metrics["update_val_mae"] != d.metrics["update_val_mae"]


def yearly_panel(path: Path, lengths: tuple[int, ...]) -> Path:
    """Trending yearly series (a level that travels far, steps of about 3), in long format."""
    rng = np.random.default_rng(12)
    frames = [pd.DataFrame({"date": pd.date_range("1980-01-01", periods=n, freq="YS"), "series": f"s{s}",
                            "value": 100 + 3.0 * np.arange(n) * (1 + s % 3) + rng.normal(0, 1, n)})
              for s, n in enumerate(lengths)]
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_yearly_data_is_scaled_by_its_yearly_change_and_other_data_as_before(tmp_path: Path) -> None:
    series = rnncast.read(yearly_panel(tmp_path / "y.csv", (30,) * 4), ReadSpec(id_col="series"))
    window, train = WindowSpec(lookback=6, horizon=3), TrainSpec(epochs=1)
    model = rnncast.fit(series, window=window, train=train)
    assert model.window.scaler == "diff"
    steps = [np.abs(np.diff(series.values[a:b, 0])).mean() for a, b in zip(series.offsets, series.offsets[1:])]
    spreads = [series.values[a:b, 0].std() for a, b in zip(series.offsets, series.offsets[1:])]
    # Fitted on the training rows only, so near each series' whole-series step, far below its std.
    np.testing.assert_allclose(model.scaler.scale[:, 0], steps, rtol=0.25)
    assert (model.scaler.scale[:, 0] < np.array(spreads) / 4).all()
    assert rnncast.fit(series, window=replace(window, scaler="standard"), train=train).window.scaler == "standard"
    daily = replace(series, freq="D", times=series.times.astype("datetime64[D]").astype("datetime64[ns]"))
    assert rnncast.fit(daily, window=window, train=train).window.scaler == "standard"


def test_series_too_short_to_validate_pull_the_blend_to_the_even_split(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(theta, "WEIGHTS", np.array([0.0]))  # the validated series can only choose Theta alone
    series = rnncast.read(yearly_panel(tmp_path / "y.csv", (40, 40, 40, 10, 10)), ReadSpec(id_col="series"))
    model = rnncast.fit(series, window=WindowSpec(lookback=6, horizon=3), train=TrainSpec(epochs=1))
    unvalidated = model.metrics["unvalidated_series"]
    assert unvalidated == 2
    assert model.blend == pytest.approx(0.5 * unvalidated / 5)


def reference_ses_level(y: np.ndarray, first_scored: int) -> float:
    """The last level of SES from the first value, for the alpha of least one-step squared error over the
    values from index `first_scored` on, step by step."""
    best = (np.inf, 0.0)
    for a in theta.ALPHAS:
        level, error = y[0], 0.0
        for t in range(1, len(y)):
            if t >= first_scored:
                error += (y[t] - level) ** 2
            level = a * y[t] + (1 - a) * level
        if error < best[0]:
            best = (error, level)
    return best[1]


def test_optimised_theta_with_theta_one_alone_is_simple_exponential_smoothing(monkeypatch) -> None:
    rng = np.random.default_rng(11)
    history = 50 + np.cumsum(rng.normal(0.0, 1.0, (4, 30)), axis=1)
    monkeypatch.setattr(theta, "THETAS", np.array([1.0]))
    out = theta.optimised_forecast(history, 5, 1)
    want = np.array([reference_ses_level(row, theta.FIRST_SCORED) for row in history])
    np.testing.assert_allclose(out, np.repeat(want[:, None], 5, axis=1), rtol=1e-10)


def test_optimised_theta_follows_a_trend_that_simple_smoothing_would_flatten() -> None:
    rng = np.random.default_rng(12)
    t = np.arange(30)
    history = (100 + 5 * t + rng.normal(0, 1, (3, 30)))
    out = theta.optimised_forecast(history, 6, 1)
    truth = 100 + 5 * np.arange(30, 36)
    assert (np.diff(out, axis=1) > 3).all()  # rising about 5 a step, not flat
    assert np.abs(out - truth).max() < np.abs(theta.forecast(history, 6, 1) - truth).max()


def test_optimised_kinds_are_the_optimised_theta_and_its_mean_with_damped_trend() -> None:
    from rnncast import damped

    rng = np.random.default_rng(13)
    history = 40 + np.cumsum(rng.normal(0.3, 1.0, (5, 40)), axis=1)
    otheta = theta.optimised_forecast(history, 6, 1)
    np.testing.assert_allclose(theta.classic("otheta", history, 6, 1), otheta)
    np.testing.assert_allclose(theta.classic("ocomb", history, 6, 1),
                               (otheta + damped.forecast(history, 6, 1)) / 2, rtol=1e-12)
    assert np.isnan(theta.optimised_forecast(history[:, :5], 6, 1)).all()  # below min_rows, as Theta


def reference_dotm(y: np.ndarray, K: int, alpha: float, th: float) -> tuple[float, np.ndarray]:
    """DOTM for one series, one alpha and theta, step by step: (in-sample squared error, forecasts)."""
    n, error, level = len(y), 0.0, y[0]
    for t in range(1, n + 1):  # 1-based: the state after the first t values
        if t > 1:
            level = alpha * y[t - 1] + (1 - alpha) * level
        ts = np.arange(1, t + 1)
        B = np.polyfit(ts, y[:t], 1)[0] if t > 1 else 0.0
        A = y[:t].mean() - (t + 1) / 2 * B
        trend = [(1 - alpha) ** t * A + ((1 - (1 - alpha) ** (t + 1)) / alpha + h) * B for h in range(K)]
        ahead = level + (1 - 1 / th) * np.array(trend)
        if theta.FIRST_SCORED <= t < n:
            error += (y[t] - ahead[0]) ** 2
    return error, ahead


def test_optimised_theta_matches_a_step_by_step_dynamic_theta(monkeypatch) -> None:
    rng = np.random.default_rng(14)
    y = 30 + np.cumsum(rng.normal(0.5, 1.0, 25))
    monkeypatch.setattr(theta, "ALPHAS", np.array([0.3, 0.7]))
    monkeypatch.setattr(theta, "THETAS", np.array([1.0, 2.0, 3.0]))
    runs = [reference_dotm(y, 4, a, th) for a in (0.3, 0.7) for th in (1.0, 2.0, 3.0)]
    want = min(runs, key=lambda run: run[0])[1]
    np.testing.assert_allclose(theta.optimised_forecast(y[None, :], 4, 1)[0], want, rtol=1e-9)


@pytest.mark.parametrize("size", [1e-300, 1e299])
def test_optimised_theta_near_floats_limits_gives_finite_forecasts_or_nan(size: float) -> None:
    out = theta.optimised_forecast(size * (1 + 0.01 * np.arange(20))[None, :], 4, 1)
    assert np.isfinite(out).all() or np.isnan(out).all()
