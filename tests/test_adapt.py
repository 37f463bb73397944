"""Adaptive intervals: the scale recursion by hand, long-run coverage under a shift, no
look-ahead, and the model-level path `predict --data` takes."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import run

from rnncast import api
from rnncast.adapt import RATE, track_scale
from rnncast.config import TrainSpec
from rnncast.io import read_series

# --------------------------------------------------------------------- the recursion


def test_every_hit_narrows_by_rate_times_the_allowed_miss_share() -> None:
    errors = np.zeros((5, 1))  # every outcome at the centre: all hits
    scales = track_scale(errors, centre=np.zeros(1), half=np.ones(1), level=80)
    assert scales == pytest.approx(np.exp(-RATE * 0.2 * np.arange(6)), rel=1e-12)


def test_every_miss_widens_by_rate_times_the_covered_share() -> None:
    errors = np.full((4, 1), 1e6)
    scales = track_scale(errors, centre=np.zeros(1), half=np.ones(1), level=95)
    assert scales == pytest.approx(np.exp(RATE * 0.95 * np.arange(5)), rel=1e-12)


def test_a_row_pools_its_steps_and_judges_each_by_the_interval_its_origin_issued() -> None:
    # K = 2. Row 0 reveals (origin 0, step 0); row 1 reveals (1, 0) and (0, 1).
    errors = np.array([[0.0, 1.5],
                       [1.5, np.nan]])
    centre, half = np.zeros(2), np.array([1.0, 1.0])
    scales = track_scale(errors, centre, half, level=50, rate=0.1)
    s1 = math.exp(0.1 * (0.0 - 0.5))  # row 0: one hit
    # Row 1: origin 1 issued its interval at s1 < 1 and 1.5 misses it; origin 0's step 1
    # was issued at scale 1 and 1.5 misses that too: two of two missed.
    s2 = s1 * math.exp(0.1 * (1.0 - 0.5))
    assert scales == pytest.approx([1.0, s1, s2], rel=1e-12)


def test_a_miss_that_the_issued_scale_covers_counts_as_a_hit() -> None:
    # Widened to e^0.5 by two misses, the interval then holds an error of 1.5.
    errors = np.array([[9.0], [9.0], [1.5]])
    scales = track_scale(errors, np.zeros(1), np.ones(1), level=50, rate=0.5)
    assert scales[2] == pytest.approx(math.exp(0.5), rel=1e-12)
    assert scales[3] == pytest.approx(math.exp(0.5 - 0.25), rel=1e-12)


def test_unknown_outcomes_leave_the_scale_alone() -> None:
    errors = np.full((6, 3), np.nan)
    errors[4:, 0] = 0.0
    scales = track_scale(errors, np.zeros(3), np.ones(3), level=80)
    assert (scales[:5] == 1.0).all() and scales[5] < 1.0 and scales[6] < scales[5]


def _coverage(errors: np.ndarray, centre: np.ndarray, half: np.ndarray, scales: np.ndarray) -> float:
    """Share of all (origin, step) outcomes inside the interval each origin issued."""
    return float((np.abs(errors - centre) <= scales[:-1, None] * half).mean())


@pytest.mark.parametrize("level", [80, 95])
@pytest.mark.parametrize("shift", [0.4, 2.5])
def test_long_run_coverage_reaches_the_level_after_a_shift(level: int, shift: float) -> None:
    """Calibrated on N(0, 1) errors; then the errors shrink or grow and drift slowly."""
    rng = np.random.default_rng(level + int(10 * shift))
    steps, rows = 12, 4000
    growth = np.sqrt(np.arange(1, steps + 1))  # later steps err more, as in forecasts
    calibration = rng.standard_normal((2000, steps)) * growth
    half = np.quantile(np.abs(calibration), level / 100, axis=0)
    spread = shift * (1 + 0.5 * np.sin(np.arange(rows) / 300))[:, None]  # a slow cycle after the shift
    errors = rng.standard_normal((rows, steps)) * growth * spread
    static = _coverage(errors, 0.0, half, np.ones(rows + 1))
    adaptive = _coverage(errors, 0.0, half, track_scale(errors, np.zeros(steps), half, level))
    assert abs(static - level / 100) > 0.04  # the shift breaks the calibrated intervals
    assert abs(adaptive - level / 100) <= 0.03


# ----------------------------------------------------------------- through the model

LOOKBACK, HORIZON = 12, 4


def _csv(path: Path, noise: np.ndarray, seed: int = 0) -> Path:
    """A daily sine with Gaussian noise of the given per-row standard deviation."""
    n = len(noise)
    rng = np.random.default_rng(seed)
    values = 10 + np.sin(np.arange(n) * 2 * np.pi / 7) + noise * rng.standard_normal(n)
    dates = np.datetime64("2023-01-01") + np.arange(n)
    path.write_text("date,value\n" + "".join(f"{d},{v:.6f}\n" for d, v in zip(dates, values)))
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory):
    """A model fitted on 300 rows of noise 1, and the same series with 300 rows more."""
    work = tmp_path_factory.mktemp("adapt")
    fitted_noise = np.full(300, 1.0)
    train = _csv(work / "train.csv", fitted_noise)
    model = api.fit(train, lookback=LOOKBACK, horizon=HORIZON, hidden=8,
                    train=TrainSpec(epochs=10, seed=0))
    wild = _csv(work / "wild.csv", np.concatenate([fitted_noise, np.full(300, 4.0)]))
    quiet = _csv(work / "quiet.csv", np.concatenate([fitted_noise, np.full(300, 0.05)]))
    return model, train, wild, quiet


def _width(table: dict, level: int) -> np.ndarray:
    return table[f"upper_{level}"] - table[f"lower_{level}"]


def test_new_rows_that_err_more_widen_the_intervals_and_say_so(fitted) -> None:
    model, _, wild, _ = fitted
    notes: list[str] = []
    adapted = api.forecast(model, wild, levels=[80], notes=notes)
    static = api.forecast(model, wild, levels=[80], adapt=False)
    assert (adapted["forecast"] == static["forecast"]).all()
    assert (_width(adapted, 80) > 1.5 * _width(static, 80)).all()
    assert len(notes) == 1 and "300 rows after the fit" in notes[0] and "--no-adapt" in notes[0]


def test_calmer_new_rows_narrow_them(fitted) -> None:
    model, _, _, quiet = fitted
    adapted = api.forecast(model, quiet, levels=[80])
    static = api.forecast(model, quiet, levels=[80], adapt=False)
    assert (_width(adapted, 80) < 0.8 * _width(static, 80)).all()
    # Narrowed about the calibrated interval's centre: the midpoints do not move.
    middle = lambda t: (t["upper_80"] + t["lower_80"]) / 2  # noqa: E731
    assert middle(adapted) == pytest.approx(middle(static), rel=1e-9)


def test_the_fit_data_itself_has_no_new_rows_and_changes_nothing(fitted) -> None:
    model, train, _, _ = fitted
    notes: list[str] = []
    again = api.forecast(model, train, levels=[80, 95], notes=notes)
    stored = api.forecast(model, levels=[80, 95])
    for name in ("lower_80", "upper_80", "lower_95", "upper_95"):
        assert again[name] == pytest.approx(stored[name], rel=1e-9)
    assert notes == []


def test_the_scale_at_an_origin_never_sees_rows_at_or_after_it(fitted, tmp_path: Path) -> None:
    model, _, wild, _ = fitted
    series = read_series(wild)
    origin = 450
    before = api.interval_scales(model, series, [80])[80][0]
    changed = read_series(wild)
    changed.values[origin:, 0] += 50.0 * np.random.default_rng(1).standard_normal(len(changed.values) - origin)
    after = api.interval_scales(model, changed, [80])[80][0]
    assert (before[: origin + 1] == after[: origin + 1]).all()
    assert (before[:301] == 1.0).all()  # nothing new before row 300
    assert after[-1] > before[-1]  # the wild tail does move it


def test_predict_cli_adapts_by_default_and_not_with_no_adapt(fitted, tmp_path: Path) -> None:
    model, _, wild, _ = fitted
    path = tmp_path / "m.rnncast"
    api.save(model, path)
    adapted = run("predict", path, "--data", wild, "--level", "80")
    static = run("predict", path, "--data", wild, "--level", "80", "--no-adapt")
    assert adapted.exit_code == 0 and static.exit_code == 0, adapted.stderr + static.stderr
    assert "intervals follow their misses on 300 rows after the fit" in adapted.stderr
    assert "intervals follow" not in static.stderr
    wide, narrow = (pd.read_csv(io.StringIO(r.stdout)) for r in (adapted, static))
    assert ((wide.upper_80 - wide.lower_80) > (narrow.upper_80 - narrow.lower_80)).all()
