"""--transform: the network learns log(target) for positive monthly and quarterly series, and says so."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast
from helpers import fit_on_head, run
from rnncast.config import ReadSpec, TrainSpec, WindowSpec
from rnncast.errors import DataError
from rnncast.transform import choose, from_model, to_model

OPTIONS = ["--epochs", "2", "--hidden", "8", "--lookback", "12"]
SMALL = [*OPTIONS, "--quiet"]


def monthly_panel(path: Path, series: int = 4, rows: int = 60, low: float = 10.0) -> Path:
    """Positive monthly series whose season grows with the level (multiplicative), in long format."""
    rng = np.random.default_rng(5)
    t = np.arange(rows)
    frames = [pd.DataFrame({"date": pd.date_range("2015-01-01", periods=rows, freq="MS"), "series": f"m{s}",
                            "value": low * (1 + 0.03 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + s))
                            * np.exp(rng.normal(0, 0.02, rows))}) for s in range(series)]
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("transform", "freq", "positive", "chosen"), [
    ("auto", "MS", True, "log"), ("auto", "QS", True, "log"), ("auto", "ME", True, "log"),
    ("auto", "MS", False, "none"), ("auto", "D", True, "none"), ("auto", "h", True, "none"),
    ("auto", "YS", True, "none"), ("log", "D", True, "log"), ("none", "MS", True, "none"),
])
def test_auto_takes_log_for_positive_monthly_and_quarterly_data_only(transform, freq, positive, chosen) -> None:
    target = np.array([3.0, 1.0, 2.0]) if positive else np.array([3.0, 0.0, 2.0])
    assert choose(transform, target, freq) == chosen


def test_to_and_from_the_model_space_and_a_non_positive_value_named() -> None:
    values = np.array([[1.0, -5.0], [np.e, 7.0]])
    logged = to_model("log", values)
    np.testing.assert_allclose(logged, [[0.0, -5.0], [1.0, 7.0]])  # only the target, column 0
    assert values[1, 0] == np.e  # a copy: the caller's data is left alone
    np.testing.assert_allclose(from_model("log", logged[:, 0]), values[:, 0])
    assert to_model("none", values) is values
    with pytest.raises(DataError, match="<= 0 in series 'b'.*--transform none"):
        to_model("log", np.array([[1.0], [2.0], [0.0]]), ("a", "b"), np.array([0, 2, 3]))


def test_a_log_fit_equals_a_plain_fit_of_the_logged_data_and_forecasts_exp_of_it(tmp_path: Path) -> None:
    series = rnncast.read(monthly_panel(tmp_path / "m.csv"), ReadSpec(id_col="series"))
    logged = rnncast.read(tmp_path / "m.csv", ReadSpec(id_col="series"))
    object.__setattr__(logged, "values", np.log(logged.values))
    window, train = WindowSpec(lookback=12, horizon=6, combine="none"), TrainSpec(epochs=3)  # the network alone
    a = rnncast.fit(series, window=window, train=train)  # auto: monthly and positive
    b = rnncast.fit(logged, window=replace(window, transform="none"), train=train)
    assert a.window.transform == "log" and b.window.transform == "none"
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    np.testing.assert_allclose(a.history, np.exp(b.history), rtol=1e-12)  # stored in the data's units
    fa, fb = rnncast.forecast(a, levels=[80]), rnncast.forecast(b, levels=[80])
    for column in ("forecast", "lower_80", "upper_80"):
        np.testing.assert_allclose(fa[column], np.exp(fb[column]), rtol=1e-9)
    assert (fa["lower_80"] > 0).all()  # bounds of a log model stay positive
    # Validation scores in the data's units (values 10..40, moving by units a month), not in logs (~0.1).
    assert a.metrics["naive_val_mae"] > 1.0 > b.metrics["naive_val_mae"]


def test_the_cli_fits_predicts_updates_backtests_and_describes_a_log_model(tmp_path: Path) -> None:
    data = monthly_panel(tmp_path / "m.csv", rows=72)
    fit_on_head(data, 66, tmp_path / "m.rnncast", "--horizon", "6", *SMALL)
    info = json.loads(run("info", tmp_path / "m.rnncast", "--json").stdout)
    assert info["window"]["transform"] == "log"
    assert info["intervals"] is None or "offsets" in info["intervals"]
    predicted = run("predict", tmp_path / "m.rnncast", "--data", data)
    assert predicted.exit_code == 0, predicted.stderr
    table = pd.read_csv(pd.io.common.StringIO(predicted.stdout))
    assert len(table) == 4 * 6 and (table["forecast"] > 0).all()
    assert run("update", tmp_path / "m.rnncast", data, "--quiet").exit_code == 0
    back = run("backtest", data, "--id-col", "series", "--horizon", "6", "--folds", "2", *OPTIONS, "--json")
    assert back.exit_code == 0, back.stderr
    assert json.loads(back.stdout)["summary"]["rnncast"]["mase"] is not None
    plain = run("backtest", data, "--id-col", "series", "--horizon", "6", "--folds", "2", *OPTIONS, "--json",
                "--transform", "none")
    assert plain.exit_code == 0 and plain.stdout != back.stdout  # the option reaches the fits


def test_new_data_that_is_not_positive_is_refused_in_one_line(tmp_path: Path) -> None:
    data = monthly_panel(tmp_path / "m.csv")
    assert run("fit", data, "--id-col", "series", "--horizon", "6", *SMALL, "-o", tmp_path / "m.rnncast").exit_code == 0
    rows = pd.read_csv(data)
    rows.loc[rows.index[-1], "value"] = 0.0  # the last row of series m3
    rows.to_csv(tmp_path / "zero.csv", index=False)
    result = run("predict", tmp_path / "m.rnncast", "--data", tmp_path / "zero.csv")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "'m3'" in result.stderr and "--transform none" in result.stderr
    result = run("fit", tmp_path / "zero.csv", "--id-col", "series", "--horizon", "6", *SMALL, "--transform", "log",
                 "-o", tmp_path / "z.rnncast")
    assert result.exit_code == 2 and "<= 0" in result.stderr
    assert run("fit", tmp_path / "zero.csv", "--id-col", "series", "--horizon", "6", *SMALL,
               "-o", tmp_path / "auto.rnncast").exit_code == 0  # auto: a zero means none
    assert json.loads(run("info", tmp_path / "auto.rnncast", "--json").stdout)["window"]["transform"] == "none"
