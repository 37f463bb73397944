"""Helpers the test modules share: the CLI run in-process, a subprocess environment, small synthetic CSV files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
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
