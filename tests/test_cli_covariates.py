"""--known, --static, --holidays and predict --future through the command line: results, and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import HORIZON, promo_panel, run, split

FIT = ["--id-col", "store", "--target", "sales", "--lookback", "14", "--horizon", str(HORIZON), "--hidden", "8",
       "--epochs", "2"]
DRIVERS = ["--known", "promo", "--static", "store_type", "--holidays", "US"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, pd.DataFrame]:
    """(folder, model, history + future file, actuals) of a model fitted with all three kinds of driver."""
    folder = tmp_path_factory.mktemp("cov")
    history, with_future, actual = split(promo_panel(series=3, rows=70), folder)
    actual.drop(columns=["sales", "store_type"]).to_csv(folder / "future.csv", index=False)
    result = run("fit", history, *FIT, *DRIVERS, "-o", folder / "m.rnncast", "--quiet")
    assert result.exit_code == 0, result.stderr
    return folder, folder / "m.rnncast", with_future, actual


def forecast(result) -> pd.DataFrame:
    assert result.exit_code == 0, result.stderr
    from io import StringIO

    return pd.read_csv(StringIO(result.stdout))


def test_predict_reads_future_rows_from_file_stdin_or_future(fitted) -> None:
    folder, model, with_future, actual = fitted
    from_file = forecast(run("predict", model, "--data", with_future))
    from_stdin = forecast(run("predict", model, "--data", "-", input=with_future.read_bytes()))
    from_future = forecast(run("predict", model, "--data", folder / "history.csv", "--future", folder / "future.csv"))
    stored = forecast(run("predict", model, "--future", folder / "future.csv"))
    future_stdin = forecast(run("predict", model, "--future", "-", input=(folder / "future.csv").read_bytes()))
    assert len(from_file) == 3 * HORIZON
    assert list(from_file["timestamp"][:HORIZON]) == list(actual["date"][:HORIZON])
    pd.testing.assert_frame_equal(from_file, from_stdin)
    pd.testing.assert_frame_equal(from_file, from_future)
    np.testing.assert_allclose(stored["forecast"], from_file["forecast"], rtol=1e-6)
    pd.testing.assert_frame_equal(stored, future_stdin)


def test_info_lists_known_static_and_holidays(fitted) -> None:
    _, model, _, _ = fitted
    described = json.loads(run("info", model, "--json").stdout)
    assert described["columns"]["known"] == ["promo"]
    assert described["columns"]["static"] == ["store_type"]
    assert described["window"]["holidays"] == "US"
    text = run("info", model).stdout
    assert "known: promo" in text and "static: store_type" in text and "holidays: US" in text


def test_backtest_takes_the_drivers(fitted) -> None:
    folder, _, _, _ = fitted
    promo_panel(series=3, rows=70).to_csv(folder / "all.csv", index=False)
    result = run("backtest", folder / "all.csv", *FIT, *DRIVERS, "--folds", "2", "--json")
    assert result.exit_code == 0, result.stderr
    assert {row["series"] for row in json.loads(result.stdout)["rows"]} == {"s00", "s01", "s02"}


def edit(folder: Path, name: str, change) -> Path:
    frame = pd.read_csv(folder / "with_future.csv", dtype={"promo": object})
    path = folder / name
    change(frame, frame.index[frame["sales"].isna()]).to_csv(path, index=False)
    return path


def set_cell(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame.loc[row, column] = value
    return frame


BAD_FUTURE = {
    "missing": (lambda f, fut: f.drop(fut[HORIZON : HORIZON + 3]),
                r"missing.csv: series 's01' has no value of known column 'promo' for 2024-03-04, 2024-03-05, "
                r"2024-03-06 \(of the 7 forecast steps"),
    "empty": (lambda f, fut: set_cell(f, fut[2], "promo", np.nan),
              r"empty.csv: series 's00' has no value of known column 'promo' for 2024-03-06 \("),
    "duplicated": (lambda f, fut: pd.concat([f, f.loc[fut[4:5]]]),
                   r"duplicate timestamps: 2024-03-08 in series 's00' \(rows \d+ and \d+\)"),
    "not a number": (lambda f, fut: set_cell(f, fut[1], "promo", "yes"),
                     r"row \d+: column 'promo' has 'yes', which is not a number"),
    "no known column": (lambda f, fut: f.drop(columns="promo"),
                        r"the model's known column 'promo' is not in the file"),
    "static varies": (lambda f, fut: set_cell(f, fut[0], "store_type", "flat"),
                      r"static column 'store_type' \(--static\) varies within series 's00'"),
}


@pytest.mark.parametrize("case", list(BAD_FUTURE))
def test_bad_future_values_get_one_line_and_exit_2(fitted, case: str) -> None:
    folder, model, _, _ = fitted
    change, message = BAD_FUTURE[case]
    path = edit(folder, f"{case.replace(' ', '_')}.csv", change)
    result = run("predict", model, "--data", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert re.search(message, lines[0]), lines[0]


def test_off_grid_future_timestamp_is_named(fitted) -> None:
    folder, model, _, _ = fitted
    future = pd.read_csv(folder / "future.csv")
    future.loc[3, "date"] = future.loc[3, "date"] + " 12:00"
    future.to_csv(folder / "offgrid.csv", index=False)
    result = run("predict", model, "--future", folder / "offgrid.csv")
    assert result.exit_code == 2
    assert "row 5: future timestamp 2024-03-07T12:00:00 of series 's00' is not one of its forecast steps" in \
        result.stderr


def test_no_future_values_and_rows_past_the_horizon(fitted) -> None:
    folder, model, _, _ = fitted
    bare = run("predict", model)
    assert bare.exit_code == 2 and "or give them with --future FILE" in bare.stderr
    future = pd.read_csv(folder / "future.csv")
    later = future.assign(date=pd.to_datetime(future["date"]) + pd.Timedelta(days=HORIZON))
    pd.concat([future, later.assign(date=later["date"].dt.strftime("%Y-%m-%d"))]).to_csv(
        folder / "longer.csv", index=False)
    longer = run("predict", model, "--future", folder / "longer.csv")
    assert longer.exit_code == 0
    assert "rnncast: note: 21 future rows past the horizon ignored" in longer.stderr


def test_bad_options_get_one_line_and_exit_2(fitted) -> None:
    folder, _, _, _ = fitted
    cases = {
        ("--holidays", "XX"): "unknown country code 'XX'",
        ("--known", "nope"): "column 'nope' (--known) not found",
        ("--static", "promo"): "static column 'promo' (--static) varies within series 's00'",
        ("--known", "promo", "--static", "promo"): "column 'promo' is given more than one role",
    }
    for options, message in cases.items():
        result = run("fit", folder / "history.csv", *FIT, *options, "-o", folder / "bad.rnncast")
        assert result.exit_code == 2, options
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (folder / "bad.rnncast").exists()


def test_plot_takes_the_future_too(fitted) -> None:
    folder, model, with_future, _ = fitted
    for extra in (["--data", with_future], ["--future", folder / "future.csv"]):
        out = folder / "plot.svg"
        out.unlink(missing_ok=True)
        result = run("plot", model, *extra, "-o", out)
        assert result.exit_code == 0, result.stderr
        assert out.read_bytes().startswith(b"<?xml")
    bare = run("plot", model, "-o", folder / "bare.svg")
    assert bare.exit_code == 2 and "no value of known column 'promo'" in bare.stderr
    assert not (folder / "bare.svg").exists()


def test_future_given_to_a_model_without_known_columns_is_noted(fitted, tmp_path: Path) -> None:
    folder, _, _, _ = fitted
    history = folder / "history.csv"
    plain = run("fit", history, *FIT, "-o", tmp_path / "plain.rnncast", "--quiet")
    assert plain.exit_code == 0, plain.stderr
    result = run("predict", tmp_path / "plain.rnncast", "--future", folder / "future.csv")
    assert result.exit_code == 0
    assert "future.csv ignored: the model reads no known columns" in result.stderr
