"""Helpers the test modules share: the CLI run in-process, a subprocess environment, small synthetic CSV files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from rnncast.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--epochs", "2", "--hidden", "8", "--lookback", "12", "--horizon", "4"]

runner = CliRunner()


def run(*args: str | os.PathLike[str], input: bytes | str | None = None):
    result = runner.invoke(app, [os.fspath(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


# ------------------------------------------------------------------------------ data


def series_values(n: int, phase: float = 0.0) -> np.ndarray:
    t = np.arange(n)
    return 10 + 2 * np.sin(2 * np.pi * t / 7 + phase) + 0.02 * t


def daily_csv(path: Path, n: int = 90, start: str = "2024-01-01") -> Path:
    dates = np.datetime64(start) + np.arange(n)
    lines = ["date,value"] + [f"{d},{v:.4f}" for d, v in zip(dates, series_values(n))]
    path.write_text("\n".join(lines) + "\n")
    return path


def long_csv(path: Path, ids: tuple[str, ...] = ("a", "b"), n: int = 80, start: str = "2024-01-01") -> Path:
    lines = ["date,store,sales"]
    for k, name in enumerate(ids):
        dates = np.datetime64(start) + np.arange(n)
        lines += [f"{d},{name},{v:.4f}" for d, v in zip(dates, series_values(n, phase=k))]
    path.write_text("\n".join(lines) + "\n")
    return path


def covariate_csv(path: Path, n: int = 90) -> Path:
    dates = np.datetime64("2024-01-01") + np.arange(n)
    y = series_values(n)
    lines = ["date,value,temp,promo"] + [
        f"{d},{v:.4f},{20 + np.cos(i / 5):.3f},{i % 3 == 0:d}" for i, (d, v) in enumerate(zip(dates, y))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def fit_tiny(data: Path | str, out: Path, *extra: str, input: bytes | None = None) -> Path:
    result = run("fit", data, *TINY, "-o", out, *extra, input=input)
    assert result.exit_code == 0, result.stderr
    return out


# ------------------------------------------------------------------ covariates

HORIZON = 7  # of the promotion panel's tests
TREND = {"growing": 0.2, "flat": 0.0, "shrinking": -0.2}


def fit_on_head(data: Path, rows: int, out: Path, *options: str) -> Path:
    """Fit `out` on the first `rows` rows of each series of the long-format `data` (the rest: new rows to come)."""
    head = data.with_name(f"head-{data.name}")
    pd.read_csv(data).groupby("series").head(rows).to_csv(head, index=False)
    result = run("fit", head, "--id-col", "series", *options, "-o", out)
    assert result.exit_code == 0, result.stderr
    return out


def promo_panel(series: int = 12, rows: int = 160, seed: int = 3) -> pd.DataFrame:
    """A daily panel driven by a planned promotion (+12, known ahead) and a store type (its trend)."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(series):
        kind = list(TREND)[s % 3]
        t = np.arange(rows)
        promo = (rng.random(rows) < 0.25).astype(int)
        sales = 50 + TREND[kind] * t + 12 * promo + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1.0, rows)
        frames.append(pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
                                    "store": f"s{s:02d}", "sales": sales.round(4), "promo": promo,
                                    "store_type": kind}))
    return pd.concat(frames, ignore_index=True)


def split(panel: pd.DataFrame, tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    """(history file, history + future rows file, actuals of the last HORIZON rows of each store)."""
    last = panel.groupby("store").cumcount(ascending=False) < HORIZON
    history, actual = panel[~last], panel[last]
    history.to_csv(tmp_path / "history.csv", index=False)
    with_future = pd.concat([history, actual.assign(sales=np.nan)]).sort_values(["store", "date"])
    with_future.to_csv(tmp_path / "with_future.csv", index=False)
    return tmp_path / "history.csv", tmp_path / "with_future.csv", actual


# ------------------------------------------------------------------ partitioned folders

PANEL_FIT = ["--id-col", "store", "--target", "sales", *TINY, "--quiet"]


def partitioned_panel(folder: Path, parts: int = 4, stores: int = 3, rows: int = 60) -> pd.DataFrame:
    """A hive-partitioned Parquet folder (region=r0/part-0.parquet, ...) of whole stores; returns all rows."""
    rng = np.random.default_rng(parts)
    frames = []
    for p in range(parts):
        t = np.arange(rows)
        part = pd.concat([pd.DataFrame({
            "date": pd.date_range("2024-01-01", periods=rows, freq="D"), "store": f"p{p}s{s}",
            "sales": 50 + 10 * np.sin(2 * np.pi * t / 7 + s) + rng.normal(0, 1, rows) + 5 * p}) for s in range(stores)])
        target = folder / f"region=r{p % 2}" / f"part-{p}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        part.to_parquet(target, index=False)
        frames.append(part.assign(region=f"r{p % 2}"))
    return pd.concat(frames, ignore_index=True)


def read_folder(folder: Path) -> pd.DataFrame:
    """Every Parquet file under `folder`, rows sorted by every column but the numbers."""
    frame = pd.concat([pd.read_parquet(f) for f in sorted(folder.rglob("*.parquet"))], ignore_index=True)
    keys = [c for c in ("store", "series", "fold", "method", "timestamp") if c in frame]
    return frame.sort_values(keys).reset_index(drop=True)
