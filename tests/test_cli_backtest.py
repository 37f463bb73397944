"""The CLI's evaluation features: prediction intervals and backtests, end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import TINY, covariate_csv, daily_csv, fit_tiny, long_csv, run


def test_predict_levels_add_nested_interval_columns(work: Path) -> None:
    model = fit_tiny(daily_csv(work / "d.csv", n=260), work / "d.rnncast")  # 49 validation windows
    result = run("predict", model, "--level", "80", "--level", "95")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == ["timestamp", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert np.isfinite(table.drop(columns="timestamp").to_numpy()).all()
    # A wider level gives a wider interval, at every step.
    assert (table.lower_95 <= table.lower_80).all() and (table.upper_80 <= table.upper_95).all()
    assert (table.upper_80 - table.lower_80 > 0).all()


def test_predict_level_out_of_range_is_a_user_error(work: Path) -> None:
    model = fit_tiny(daily_csv(work / "e.csv", n=160), work / "e.rnncast")
    result = run("predict", model, "--level", "100")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("rnncast: error:") and "--level" in result.stderr


def test_backtest_json_has_every_fold_series_and_method(work: Path) -> None:
    data = long_csv(work / "long.csv", n=120)
    result = run("backtest", data, *TINY, "--id-col", "store", "--folds", "2", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    rows = document["rows"]
    assert {(r["fold"], r["series"], r["method"]) for r in rows} == {
        (f, s, m) for f in (0, 1) for s in ("a", "b") for m in ("rnncast", "naive", "seasonal_naive", "drift")}
    assert document["settings"]["season"] == 7  # daily data
    assert 0 <= document["summary"]["rnncast"]["coverage_80"] <= 1


def test_backtest_notes_levels_too_wide_for_the_validation_data(work: Path) -> None:
    result = run("backtest", daily_csv(work / "small.csv", n=100), *TINY, "--folds", "2", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    # 95% needs 39 validation windows; these folds have about 17, and say so instead of failing.
    assert document["summary"]["rnncast"]["coverage_95"] is None
    assert any("95%" in note for note in document["notes"])


def test_backtest_table_marks_the_best_method(work: Path) -> None:
    data = covariate_csv(work / "cov.csv", n=140)
    result = run("backtest", data, *TINY, "--target", "value", "--features", "temp", "--folds", "2",
                 "-o", work / "bt.json")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["method", "mae", "rmse"]
    assert len(lines) == 5 and sum("*" in line.split()[1] for line in lines[1:]) == 1  # one best MAE
    report = (work / "bt.json").read_text()
    assert json.loads(report)["settings"]["folds"] == 2
    assert report.endswith("}\n")  # a text file: its last line ends with a newline


def test_backtest_with_too_little_data_is_a_user_error(work: Path) -> None:
    result = run("backtest", daily_csv(work / "short.csv", n=40), *TINY, "--folds", "9")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_backtest_test_size_sets_the_folds(work: Path) -> None:
    result = run("backtest", daily_csv(work / "ts.csv", n=160), *TINY, "--test-size", "12", "--step", "4", "--json")
    assert result.exit_code == 0, result.stderr
    # Origins at 12, 8 and 4 rows before the end: (12 - 4) // 4 + 1 = 3 folds.
    assert json.loads(result.stdout)["settings"]["folds"] == 3


@pytest.mark.parametrize("level", ["0", "100"])
def test_backtest_level_out_of_range_is_a_user_error_before_any_fit(work: Path, level: str) -> None:
    result = run("backtest", daily_csv(work / "lv.csv", n=100), *TINY, "--folds", "2", "--level", level)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip().startswith("rnncast: error:") and "--level" in result.stderr
