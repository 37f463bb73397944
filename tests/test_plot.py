"""rnncast plot: PNG, SVG and HTML files of history, forecast and band; text on a terminal; one line otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TINY, daily_csv, env, long_csv, run
from rnncast import api


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("plot")
    one, two = work / "one.rnncast", work / "two.rnncast"
    assert run("fit", daily_csv(work / "d.csv", n=200), *TINY, "-q", "-o", one).exit_code == 0
    assert run("fit", long_csv(work / "l.csv", ids=("north", "south"), n=200), "--id-col", "store", *TINY,
               "-q", "-o", two).exit_code == 0
    return {"one": one, "two": two, "work": work}


SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "html": b"<!DOCTYPE html>"}


@pytest.mark.parametrize("which", ["one", "two"])
@pytest.mark.parametrize("fmt", ["png", "svg", "html"])
def test_plot_writes_a_picture_file(models: dict[str, Path], which: str, fmt: str) -> None:
    out = models["work"] / f"{which}.{fmt}"
    result = run("plot", models[which], "-o", out)
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(SIGNATURES[fmt]) and len(data) > 10_000
    if fmt in ("svg", "html"):
        text = data.decode()
        for name in (("north", "south") if which == "two" else ("value",)):
            assert name in text
        assert 'id="band-' in text  # the interval band is drawn (gid of fill_between)
        assert "validation MAE" in text


def test_plot_picks_series_and_refuses_unknown_ones(models: dict[str, Path]) -> None:
    out = models["work"] / "south.svg"
    assert run("plot", models["two"], "--series", "south", "-o", out).exit_code == 0
    text = out.read_text()
    assert "south" in text and "north" not in text
    result = run("plot", models["two"], "--series", "east", "-o", out)
    assert result.exit_code == 2 and "no series 'east'" in result.stderr


def test_plot_refuses_other_formats_and_a_pipe_without_output(models: dict[str, Path]) -> None:
    bad = run("plot", models["one"], "-o", models["work"] / "x.jpg")
    assert bad.exit_code == 2 and ".png, .svg or .html" in bad.stderr
    level = run("plot", models["one"], "--level", "150", "-o", models["work"] / "x.png")
    assert level.exit_code == 2 and "--level must be a whole percent from 1 to 99" in level.stderr
    piped = run("plot", models["one"])  # the test runner's stdout is not a terminal
    assert piped.exit_code == 2 and piped.stderr.count("\n") == 1 and "-o FILE" in piped.stderr


def test_plot_draws_in_a_terminal(models: dict[str, Path]) -> None:
    leader, follower = pty.openpty()
    with subprocess.Popen([sys.executable, "-m", "rnncast", "plot", str(models["two"])], stdout=follower,
                          stderr=subprocess.PIPE, env=env(), cwd=models["work"]) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        err = proc.stderr.read().decode() if proc.stderr else ""
        proc.wait(timeout=60)
    os.close(leader)
    text = b"".join(chunks).decode()
    assert proc.returncode == 0, err
    assert "north" in text and "south" in text and "*" in text and "forecast *" in text


def test_a_missing_band_is_said(models: dict[str, Path]) -> None:
    notes: list[str] = []
    model = api.load(models["one"])  # few validation windows: 99 % is not calibrated
    api.plot(model, models["work"] / "n.png", level=99, notes=notes)
    assert notes == ["no 99 % band: the model has no calibrated 99 % interval"]


def test_plot_backtest_draws_the_folds_against_the_actuals(models: dict[str, Path]) -> None:
    out = models["work"] / "folds.svg"
    data = models["work"] / "l.csv"  # the two-series model's own data
    result = run("plot", models["two"], "--data", data, "--backtest", "2", "-o", out)
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    for name in ("north", "south"):
        assert f'id="fold-{name}-0"' in text and f'id="fold-{name}-1"' in text
    assert "backtest folds" in text
    alone = run("plot", models["two"], "--backtest", "2", "-o", out)
    assert alone.exit_code == 2 and "give the data with --data" in alone.stderr
