"""What the commands say besides the forecast: summaries that warn, available levels, one time format, plain styles."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from helpers import TINY, daily_csv, run
from rnncast import api
from rnncast.cli import render
from rnncast.config import BacktestSpec, NetSpec, TrainSpec, WindowSpec


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("summaries")
    path = work / "m.rnncast"
    assert run("fit", daily_csv(work / "d.csv"), *TINY, "-q", "-o", path).exit_code == 0
    return path


def test_the_summary_shows_the_seasonal_naive_forecast_where_there_is_a_season(tmp_path: Path) -> None:
    result = run("fit", daily_csv(tmp_path / "d.csv"), *TINY, "-o", tmp_path / "m.rnncast")  # daily: season 7
    line = next(x for x in result.stderr.splitlines() if x.startswith("validation MAE"))
    assert "naive forecast" in line and "seasonal naive" in line
    metrics = api.load(tmp_path / "m.rnncast").metrics
    assert metrics["season"] == 7 and metrics["seasonal_naive_val_mae"] > 0


def _with(model, **metrics):
    return dataclasses.replace(model, metrics={**model.metrics, **metrics})


def test_the_summary_says_plainly_when_a_baseline_is_better(tiny_model: Path) -> None:
    model = api.load(tiny_model)
    losing = _with(model, val_mae=2.0, naive_val_mae=3.0, seasonal_naive_val_mae=1.5, season=7)
    notes = render.fit_warnings(losing)
    assert any("does not beat the seasonal naive forecast (season 7)" in n and "2.000 vs 1.500" in n for n in notes)
    winning = _with(model, val_mae=1.0, naive_val_mae=3.0, seasonal_naive_val_mae=1.5, season=7)
    assert not any("does not beat" in n for n in render.fit_warnings(winning))


def test_the_summary_warns_of_too_few_windows_and_of_stopping_too_soon(tiny_model: Path) -> None:
    model = api.load(tiny_model)
    assert any("only 1 training window:" in n for n in render.fit_warnings(_with(model, train_windows=1)))
    plenty = _with(model, train_windows=500, val_mae=1.0, naive_val_mae=3.0)
    still_falling = _with(plenty, best_epoch=model.train.epochs, stopped_early=False)
    assert any("more --epochs may help" in n for n in render.fit_warnings(still_falling))
    settled = _with(plenty, best_epoch=1, stopped_early=False)
    assert not any("more --epochs" in n for n in render.fit_warnings(settled))


def test_the_warnings_reach_stderr_after_the_summary(tmp_path: Path) -> None:
    # 28 rows: 6 for validation, 22 - 12 - 4 + 1 = 7 training windows, fewer than render.FEW_WINDOWS.
    result = run("fit", daily_csv(tmp_path / "d.csv", n=28), "--epochs", "2", "--hidden", "8", "--lookback", "12",
                 "--horizon", "4", "-o", tmp_path / "m.rnncast")
    lines = result.stderr.splitlines()
    notes = [x for x in lines if x.startswith("rnncast: note: ")]
    assert any("only 7 training windows" in n for n in notes)
    assert lines.index(notes[0]) > max(i for i, x in enumerate(lines) if x.startswith("training time"))


def test_info_says_which_levels_are_available(tiny_model: Path) -> None:
    described = api.describe(api.load(tiny_model))  # 15 validation windows: 95 % needs 39
    levels = described["intervals"]["levels"]
    assert levels.startswith("1..") and levels.endswith(" %") and levels != "1..99 %"
    assert described["intervals"]["95%"]["lower"][0] is None


def test_timestamps_are_one_iso_form_everywhere(tiny_model: Path, tmp_path: Path) -> None:
    info = json.loads(run("info", tiny_model, "--json").stdout)
    assert info["last_timestamp"] == "2024-03-30"  # a date, as predict writes it
    report = json.loads(run("backtest", daily_csv(tmp_path / "d.csv", n=120), *TINY, "--folds", "2",
                            "--json").stdout)
    assert all("T" not in row["origin"] for row in report["rows"])


def test_no_color_means_no_styling_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    def styled() -> str:
        out = io.StringIO()
        render.console(file=out, force_terminal=True, width=80).print("[bold]x[/bold] [italic]y[/italic]")
        return out.getvalue()

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in styled()
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in styled()


def test_an_80_column_terminal_keeps_the_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = [str(getattr(c, "text_format", "")) for c in render.RichProgress(10).progress.columns]
    monkeypatch.setenv("COLUMNS", "140")
    wide = [str(getattr(c, "text_format", "")) for c in render.RichProgress(10).progress.columns]
    assert "ETA" in narrow and not any("windows/s" in c for c in narrow)
    assert any("windows/s" in c for c in wide)


def test_backtest_says_each_fold_as_it_ends(tmp_path: Path) -> None:
    result = run("backtest", daily_csv(tmp_path / "d.csv", n=120), *TINY, "--folds", "3")
    folds = [x for x in result.stderr.splitlines() if x.startswith("backtest: fold ")]
    assert [f.split()[2] for f in folds] == ["1/3", "2/3", "3/3"]
    heard: list[tuple[int, int]] = []
    api.backtest(str(tmp_path / "d.csv"), window=WindowSpec(lookback=12, horizon=4),
                 net=NetSpec(hidden=8), train=TrainSpec(epochs=1), spec=BacktestSpec(folds=2),
                 on_fold=lambda done, total, seconds: heard.append((done, total)))
    assert heard == [(1, 2), (2, 2)]
