"""rnncast update: warm-started training on rows newer than the fit; refusals leave the model as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import TINY, daily_csv, env, long_csv, run
from rnncast import api


def _head(path: Path, rows: int, out: Path) -> Path:
    lines = path.read_text().splitlines()
    out.write_text("\n".join(lines[: rows + 1]) + "\n")
    return out


@pytest.fixture()
def fitted(tmp_path: Path) -> tuple[Path, Path]:
    full = daily_csv(tmp_path / "full.csv", n=260)
    model = tmp_path / "m.rnncast"
    assert run("fit", _head(full, 200, tmp_path / "head.csv"), *TINY, "-q", "-o", model).exit_code == 0
    return model, full


def test_update_learns_the_new_rows_moves_the_history_and_records_its_lineage(fitted) -> None:
    model, full = fitted
    before = api.load(model)
    result = run("update", model, _head(full, 230, full.with_name("230.csv")))
    assert result.exit_code == 0, result.stderr
    assert "new rows                 30" in result.stderr and "before, on the new rows" in result.stderr
    after = api.load(model)
    assert after.last_times[0] - before.last_times[0] == np.timedelta64(30, "D")
    assert not np.array_equal(after.params["head.weight"], before.params["head.weight"])
    assert str(after.future_times[0, 0])[:10] == "2024-08-18"  # the day after row 230 (2024-01-01 + 229)
    assert [e["event"] for e in after.lineage] == ["fit", "update"] and after.lineage[1]["rows"] == 30
    # A second and a third update in a row keep working, from the data holding only the new rows too.
    lines = full.read_text().splitlines()
    only_new = full.with_name("new.csv")
    only_new.write_text("\n".join([lines[0], *lines[231:246]]) + "\n")
    assert run("update", model, only_new, "-q").exit_code == 0
    assert run("update", model, full, "-q").exit_code == 0
    final = api.load(model)
    assert [e["rows"] for e in final.lineage] == [200, 30, 15, 15]
    assert "update: 15 rows of 1 series, until 2024-09-16" in run("info", model).stdout  # row 260: day 259


@pytest.mark.parametrize("case, words", [
    ("nothing new", "no rows newer than the model's last"),
    ("back in time", "goes back in time"),
    ("a gap", "without a gap"),
    ("other columns", "the model's target column 'value' is not in the file"),
])
def test_refusals_are_one_line_and_leave_the_model_as_it_was(fitted, case: str, words: str) -> None:
    model, full = fitted
    lines = full.read_text().splitlines()
    data = full.with_name(f"{case}.csv")
    if case == "nothing new":
        data.write_text("\n".join(lines[:201]) + "\n")
    elif case == "back in time":
        data.write_text("\n".join(lines[:150]) + "\n")
    elif case == "a gap":
        data.write_text("\n".join([lines[0], *lines[205:230]]) + "\n")  # rows 204.. only: 3 days missing
    else:
        data.write_text("date,price\n" + "\n".join(lines[201:230]) + "\n")
    before = model.read_bytes()
    result = run("update", model, data)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert model.read_bytes() == before


def test_series_the_model_does_not_know_are_left_out_with_a_note(tmp_path: Path) -> None:
    model = tmp_path / "m.rnncast"
    assert run("fit", long_csv(tmp_path / "two.csv", ids=("a", "b"), n=150), "--id-col", "store", *TINY,
               "-q", "-o", model).exit_code == 0
    result = run("update", model, long_csv(tmp_path / "three.csv", ids=("a", "b", "c"), n=180))
    assert result.exit_code == 0, result.stderr
    assert "1 series the model was not fitted on left out ('c')" in result.stderr
    assert api.load(model).ids == ("a", "b")


def test_update_writes_output_and_keeps_model(fitted) -> None:
    model, full = fitted
    before = model.read_bytes()
    out = model.with_name("new.rnncast")
    assert run("update", model, full, "-o", out, "-q").exit_code == 0
    assert model.read_bytes() == before and api.load(out).lineage[-1]["rows"] == 60


def test_a_killed_update_leaves_the_old_model_or_the_whole_new_one(tmp_path: Path) -> None:
    full = daily_csv(tmp_path / "full.csv", n=3000)
    model = tmp_path / "m.rnncast"
    assert run("fit", _head(full, 2000, tmp_path / "head.csv"), *TINY, "-q", "-o", model).exit_code == 0
    old = model.read_bytes()
    outcomes = set()
    for moment in (0.3, 1.0, 2.0, 3.5):
        proc = subprocess.Popen([sys.executable, "-m", "rnncast", "update", str(model), str(full), "--epochs", "40",
                                 "-q"], cwd=tmp_path, env=env(), stderr=subprocess.DEVNULL)
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        loaded = api.load(model)  # never half a model
        outcomes.add("old" if model.read_bytes() == old else "new")
        assert loaded.lineage[-1]["event"] in ("fit", "update")
        model.write_bytes(old)
    assert "old" in outcomes


def test_the_cron_recipe_never_interleaves_two_runs(tmp_path: Path) -> None:
    """README's nightly line, started twice at once: flock serialises them; one updates and forecasts,
    the other then finds nothing new and says so in one line (exit 2); the files are whole."""
    full = daily_csv(tmp_path / "prices.csv", n=3000)
    model = tmp_path / "prices.rnncast"
    assert run("fit", _head(full, 2980, tmp_path / "head.csv"), *TINY, "-q", "-o", model).exit_code == 0
    (tmp_path / "forecasts").mkdir()
    python = f"{sys.executable} -m rnncast"
    job = (f"flock -w 600 prices.lock sh -c '{python} update prices.rnncast prices.csv --epochs 30 --quiet "
           f"&& {python} predict prices.rnncast -o forecasts/today.csv'")
    procs = [subprocess.Popen(["sh", "-c", job], cwd=tmp_path, env=env(), stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        if p.stderr:
            p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert refused.strip().splitlines() == [refused.strip()] and "nothing to update" in refused
    assert [e["event"] for e in api.load(model).lineage] == ["fit", "update"]
    assert len((tmp_path / "forecasts" / "today.csv").read_text().splitlines()) == 1 + 4


def test_intervals_are_recalibrated_only_on_rows_the_calibrating_update_did_not_see(tmp_path: Path) -> None:
    full = daily_csv(tmp_path / "full.csv", n=700)
    model = tmp_path / "m.rnncast"
    assert run("fit", _head(full, 400, tmp_path / "head.csv"), *TINY, "-q", "-o", model).exit_code == 0
    before = api.load(model)
    few = run("update", model, _head(full, 430, tmp_path / "430.csv"), "-o", tmp_path / "few.rnncast")
    assert "intervals kept as they were" in few.stderr  # 30 new rows: 6 held out, 3 windows < 39
    np.testing.assert_array_equal(api.load(tmp_path / "few.rnncast").intervals, before.intervals)
    # 300 new rows: the newest 60 held out, 57 windows there calibrate the new intervals.
    many = run("update", model, full, "-o", tmp_path / "many.rnncast")
    assert many.exit_code == 0 and "intervals kept" not in many.stderr
    assert not np.array_equal(api.load(tmp_path / "many.rnncast").intervals, before.intervals)
