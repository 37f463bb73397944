"""predict and backtest file by file: a folder in, one Parquet output per input file; a rerun redoes what is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import PANEL_FIT, TINY, partitioned_panel, read_folder, run


@pytest.fixture()
def fitted(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    frame = partitioned_panel(tmp_path / "panel")
    assert run("fit", tmp_path / "panel", *PANEL_FIT, "-o", tmp_path / "m.rnncast").exit_code == 0
    return tmp_path / "panel", tmp_path / "m.rnncast", frame


def test_one_output_per_input_file_with_the_forecasts_of_the_whole_data(tmp_path: Path, fitted) -> None:
    panel, model, frame = fitted
    result = run("predict", model, "--data", panel, "-o", tmp_path / "out", "--level", "80")
    assert result.exit_code == 0, result.stderr
    assert "12 series in 4 files" in result.stderr
    outputs = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*"))
    assert sorted(str(p) for p in outputs if p.suffix) == sorted(f"region=r{p % 2}/part-{p}.parquet" for p in range(4))
    frame.drop(columns="region").to_csv(tmp_path / "all.csv", index=False)
    whole = run("predict", model, "--data", tmp_path / "all.csv", "--level", "80", "-f", "parquet",
                "-o", tmp_path / "whole.parquet")
    assert whole.exit_code == 0
    expected = pd.read_parquet(tmp_path / "whole.parquet").sort_values(["store", "timestamp"]).reset_index(drop=True)
    got = read_folder(tmp_path / "out")
    assert list(got["store"]) == list(expected["store"]) and len(got) == 12 * 4
    for column in ("forecast", "lower_80", "upper_80"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-5)
    assert set(pd.read_parquet(tmp_path / "out" / "region=r1" / "part-1.parquet")["store"]) == {"p1s0", "p1s1", "p1s2"}


def test_a_rerun_redoes_only_the_files_missing_or_out_of_date(tmp_path: Path, fitted) -> None:
    panel, model, _ = fitted
    out = tmp_path / "out"
    assert run("predict", model, "--data", panel, "-o", out).exit_code == 0
    files = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    lost = out / "region=r0" / "part-2.parquet"
    lost.unlink()  # as if the run had crashed before writing it
    changed = panel / "region=r1" / "part-1.parquet"
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    again = run("predict", model, "--data", panel, "-o", out)
    assert again.exit_code == 0 and "2 of them current already, kept" in again.stderr
    for path, stamp in files.items():
        redone = path.stat().st_mtime_ns != stamp if path.exists() else True
        assert redone == (path.name in ("part-1.parquet", "part-2.parquet")), path
    with_levels = run("predict", model, "--data", panel, "-o", out, "--level", "95")  # other options: all redone
    assert with_levels.exit_code == 0 and "current already" not in with_levels.stderr
    assert all("lower_95" in pd.read_parquet(p).columns for p in out.rglob("*.parquet"))


def test_a_series_in_two_files_is_refused_naming_both_and_their_outputs_removed(tmp_path: Path, fitted) -> None:
    panel, model, _ = fitted
    part = panel / "region=r0" / "part-0.parquet"
    rows = pd.read_parquet(part)
    moved = rows[(rows["store"] == "p0s1") & (rows["date"] >= "2024-02-01")]
    rows.drop(moved.index).to_parquet(part, index=False)
    other = panel / "region=r0" / "part-2.parquet"
    pd.concat([pd.read_parquet(other), moved]).to_parquet(other, index=False)
    result = run("predict", model, "--data", panel, "-o", tmp_path / "out")
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "'p0s1'" in line and "part-0.parquet" in line and "part-2.parquet" in line
    left = sorted(p.name for p in (tmp_path / "out").rglob("*.parquet"))
    assert left == ["part-1.parquet", "part-3.parquet"]


def test_a_bad_file_fails_in_one_line_naming_it_and_no_output_is_half_written(tmp_path: Path, fitted) -> None:
    panel, model, _ = fitted
    bad = panel / "region=r1" / "part-3.parquet"
    rows = pd.read_parquet(bad)
    rows["sales"] = rows["sales"].astype(str)
    rows.loc[5, "sales"] = "n/a?"
    rows.to_parquet(bad, index=False)
    result = run("predict", model, "--data", panel, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "part-3.parquet" in result.stderr.strip().splitlines()[-1]
    for path in (tmp_path / "out").rglob("*"):
        assert not path.name.startswith("."), f"temporary file left: {path}"
        if path.is_file():
            assert len(pd.read_parquet(path)) == 3 * 4  # whole, readable outputs only


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "{panel}/out"], "inside the data folder"),
    (["-o", "{tmp}/out", "--format", "json"], "Parquet files"),
    (["--scheduler", "local:2"], "--scheduler works file by file"),
    (["-o", "{tmp}/out", "--scheduler", "spark://x"], "local:N"),
    (["-o", "{tmp}/out", "--scheduler", "local:0"], "1 to 512 workers"),
])
def test_options_that_cannot_work_file_by_file_are_refused_in_one_line(tmp_path: Path, fitted, args, message) -> None:
    panel, model, _ = fitted
    args = [a.format(panel=panel, tmp=tmp_path) for a in args]
    result = run("predict", model, "--data", panel, *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert not (panel / "out").exists()


def test_without_dask_scheduler_says_how_to_install_it(tmp_path: Path, fitted, monkeypatch) -> None:
    panel, model, _ = fitted
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)  # import distributed raises ImportError
    result = run("predict", model, "--data", panel, "-o", tmp_path / "out", "--scheduler", "local:2")
    assert result.exit_code == 2 and "pip install 'rnncast[dask]'" in result.stderr


def test_a_model_without_id_column_cannot_map_over_files(tmp_path: Path) -> None:
    from helpers import daily_csv, fit_tiny

    model = fit_tiny(daily_csv(tmp_path / "d.csv"), tmp_path / "d.rnncast")
    (tmp_path / "folder").mkdir()
    daily_csv(tmp_path / "folder" / "a.csv")
    result = run("predict", model, "--data", tmp_path / "folder", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "no id column" in result.stderr


BACKTEST = ["--id-col", "store", "--target", "sales", *TINY, "--folds", "2", "--no-refit"]


def test_backtest_file_by_file_scores_every_series_as_the_whole_data_does(tmp_path: Path) -> None:
    frame = partitioned_panel(tmp_path / "panel")
    frame.drop(columns="region").to_csv(tmp_path / "all.csv", index=False)
    whole = run("backtest", tmp_path / "all.csv", *BACKTEST, "--json")
    by_file = run("backtest", tmp_path / "panel", *BACKTEST, "-o", tmp_path / "scores")
    assert whole.exit_code == 0 and by_file.exit_code == 0, by_file.stderr
    assert "12 series in 4 files" in by_file.stderr
    expected = pd.DataFrame(json.loads(whole.stdout)["rows"]).sort_values(["fold", "series", "method"])
    got = read_folder(tmp_path / "scores").sort_values(["fold", "series", "method"])
    assert len(got) == 2 * 12 * 4 and list(got["series"]) == list(expected["series"])
    for column in ("mae", "rmse", "smape", "mase"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-5)
    summary = json.loads((tmp_path / "scores" / "_summary.json").read_text())
    assert summary["summary"]["rnncast"]["mase"] == pytest.approx(
        json.loads(whole.stdout)["summary"]["rnncast"]["mase"], rel=1e-5)
    again = run("backtest", tmp_path / "panel", *BACKTEST, "-o", tmp_path / "scores")
    assert again.exit_code == 0 and "4 of them current already" in again.stderr  # same fits: nothing redone
    assert again.stdout == by_file.stdout


def test_the_model_and_forecasts_do_not_depend_on_how_the_data_is_partitioned(tmp_path: Path) -> None:
    import rnncast

    frame = partitioned_panel(tmp_path / "four", parts=4)
    (tmp_path / "two").mkdir()
    shuffled = frame.drop(columns="region").sample(frac=1.0, random_state=1)  # rows and series in another order
    stores = sorted(shuffled["store"].unique())
    shuffled[shuffled["store"].isin(stores[::2])].to_parquet(tmp_path / "two" / "b.parquet", index=False)
    shuffled[~shuffled["store"].isin(stores[::2])].to_parquet(tmp_path / "two" / "a.parquet", index=False)
    for name in ("four", "two"):
        assert run("fit", tmp_path / name, *PANEL_FIT, "-o", tmp_path / f"{name}.rnncast").exit_code == 0
        assert run("predict", tmp_path / f"{name}.rnncast", "--data", tmp_path / name,
                   "-o", tmp_path / f"{name}-out").exit_code == 0
    four, two = rnncast.load(tmp_path / "four.rnncast"), rnncast.load(tmp_path / "two.rnncast")
    assert four.ids == two.ids == tuple(stores)
    for weight in four.params:
        np.testing.assert_array_equal(four.params[weight], two.params[weight])
    a, b = read_folder(tmp_path / "four-out"), read_folder(tmp_path / "two-out")
    np.testing.assert_allclose(a["forecast"], b["forecast"], rtol=1e-6)


def test_without_scheduler_nothing_imports_dask(tmp_path: Path, fitted) -> None:
    import subprocess
    import sys

    from helpers import env

    panel, model, _ = fitted
    script = "\n".join([
        "import sys",
        "from rnncast.cli import main",
        "sys.argv = ['rnncast', 'predict', sys.argv[1], '--data', sys.argv[2], '-o', sys.argv[3]]",
        "try:",
        "    main()",
        "except SystemExit as stop:",
        "    assert not stop.code",
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules, 'Dask was imported'"])
    done = subprocess.run([sys.executable, "-c", script, str(model), str(panel), str(tmp_path / "out")], env=env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").rglob("*.parquet"))) == 4


def test_a_fit_by_model_forecasts_a_folder_file_by_file(tmp_path: Path) -> None:
    frame = partitioned_panel(tmp_path / "panel")
    model = tmp_path / "groups.rnncast"
    assert run("fit", tmp_path / "panel", *PANEL_FIT, "--by", "region", "-o", model).exit_code == 0
    by_file = run("predict", model, "--data", tmp_path / "panel", "-o", tmp_path / "out")
    assert by_file.exit_code == 0, by_file.stderr
    frame.to_csv(tmp_path / "all.csv", index=False)
    whole = run("predict", model, "--data", tmp_path / "all.csv", "-f", "parquet", "-o", tmp_path / "whole.parquet")
    assert whole.exit_code == 0, whole.stderr
    expected = pd.read_parquet(tmp_path / "whole.parquet").sort_values(["store", "timestamp"]).reset_index(drop=True)
    got = read_folder(tmp_path / "out")
    assert list(got.columns) == list(expected.columns) and list(got["region"]) == list(expected["region"])
    np.testing.assert_allclose(got["forecast"], expected["forecast"], rtol=1e-5)


def test_future_and_colliding_output_names_are_refused_in_one_line(tmp_path: Path, fitted) -> None:
    panel, model, _ = fitted
    future = run("predict", model, "--data", panel, "-o", tmp_path / "out", "--future", tmp_path / "f.csv")
    assert future.exit_code == 2 and "leave out --future" in future.stderr
    pd.read_parquet(panel / "region=r0" / "part-0.parquet").to_csv(panel / "region=r0" / "part-0.csv", index=False)
    clash = run("predict", model, "--data", panel, "-o", tmp_path / "out")
    assert clash.exit_code == 2 and "part-0.csv" in clash.stderr and "both be written" in clash.stderr
    assert not (tmp_path / "out").exists()
