"""Adaptive intervals: the scale recursion by hand, long-run coverage under a shift, no
look-ahead, and the model-level path `predict --data` takes."""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import long_csv, run
from rnncast import api
from rnncast.adapt import MAX_SCALE, RATE, track_scale, track_scales
from rnncast.config import NetSpec, ReadSpec, TrainSpec, WindowSpec
from rnncast.io import read_series

# --------------------------------------------------------------------- the recursion


def test_every_hit_narrows_by_rate_times_the_allowed_miss_share() -> None:
    errors = np.zeros((5, 1))  # every outcome at the centre: all hits
    scales = track_scale(errors, lower=-np.ones(1), upper=np.ones(1), level=80)
    assert scales == pytest.approx(np.exp(-RATE * 0.2 * np.arange(6)), rel=1e-12)


def test_every_miss_widens_by_rate_times_the_covered_share() -> None:
    errors = np.full((4, 1), 1e6)
    scales = track_scale(errors, lower=-np.ones(1), upper=np.ones(1), level=95)
    assert scales == pytest.approx(np.exp(RATE * 0.95 * np.arange(5)), rel=1e-12)


def test_a_row_pools_its_steps_and_judges_each_by_the_interval_its_origin_issued() -> None:
    # K = 2. Row 0 reveals (origin 0, step 0); row 1 reveals (1, 0) and (0, 1).
    errors = np.array([[0.0, 1.5],
                       [1.5, np.nan]])
    scales = track_scale(errors, -np.ones(2), np.ones(2), level=50, rate=0.1)
    s1 = math.exp(0.1 * (0.0 - 0.5))  # row 0: one hit
    # Row 1: origin 1 issued its interval at s1 < 1 and 1.5 misses it; origin 0's step 1
    # was issued at scale 1 and 1.5 misses that too: two of two missed.
    s2 = s1 * math.exp(0.1 * (1.0 - 0.5))
    assert scales == pytest.approx([1.0, s1, s2], rel=1e-12)


def test_a_miss_that_the_issued_scale_covers_counts_as_a_hit() -> None:
    # Widened to e^0.5 by two misses, the interval then holds an error of 1.5.
    errors = np.array([[9.0], [9.0], [1.5]])
    scales = track_scale(errors, -np.ones(1), np.ones(1), level=50, rate=0.5)
    assert scales[2] == pytest.approx(math.exp(0.5), rel=1e-12)
    assert scales[3] == pytest.approx(math.exp(0.5 - 0.25), rel=1e-12)


def test_unknown_outcomes_leave_the_scale_alone() -> None:
    errors = np.full((6, 3), np.nan)
    errors[4:, 0] = 0.0
    scales = track_scale(errors, -np.ones(3), np.ones(3), level=80)
    assert (scales[:5] == 1.0).all() and scales[5] < 1.0 and scales[6] < scales[5]


def test_the_scale_stays_within_its_bounds() -> None:
    # An interval above its forecast misses an error of 0 however wide it grows.
    errors = np.zeros((2000, 1))
    scales = track_scale(errors, np.ones(1), 2 * np.ones(1), level=80, rate=0.5)
    assert scales.max() == pytest.approx(MAX_SCALE) and np.isfinite(scales).all()


def _reference_scales(errors: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> list[float]:
    """The recursion spelled out with plain loops, as the module docstring states it."""
    n, k_steps = errors.shape
    scales, log_scale = [1.0], 0.0
    for row in range(n):
        judged = []
        for k in range(k_steps):
            origin = row - k
            if origin >= 0 and not math.isnan(errors[origin, k]):
                issued = scales[origin]
                judged.append(not issued * lower[k] <= errors[origin, k] <= issued * upper[k])
        if judged:
            log_scale += RATE * (sum(judged) / len(judged) - (1 - level / 100))
            log_scale = min(max(log_scale, -math.log(MAX_SCALE)), math.log(MAX_SCALE))
        scales.append(math.exp(log_scale))
    return scales


def test_many_series_at_once_give_what_each_gives_alone() -> None:
    rng = np.random.default_rng(5)
    errors = [rng.standard_normal((n, 3)) * (1 + s) for s, n in enumerate((40, 33, 7, 120, 0, 64))]
    for e in errors[:3]:
        e[rng.random(e.shape) < 0.2] = np.nan  # unknown outcomes here and there
    lower, upper = -np.array([1.0, 1.5, 2.0]), np.array([1.2, 1.4, 2.2])
    together = track_scales(errors, lower, upper, level=80)
    for e, scales in zip(errors, together):
        expected = _reference_scales(e, lower, upper, level=80)
        assert scales == pytest.approx(expected, rel=1e-12)
        assert track_scale(e, lower, upper, level=80) == pytest.approx(expected, rel=1e-12)


def _coverage(errors: np.ndarray, half: np.ndarray, scales: np.ndarray) -> float:
    """Share of all (origin, step) outcomes inside the interval each origin issued."""
    return float((np.abs(errors) <= scales[:-1, None] * half).mean())


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
    static = _coverage(errors, half, np.ones(rows + 1))
    adaptive = _coverage(errors, half, track_scale(errors, -half, half, level))
    assert abs(static - level / 100) > 0.04  # the shift breaks the calibrated intervals
    assert abs(adaptive - level / 100) <= 0.03


# ----------------------------------------------------------------- through the model

LOOKBACK, HORIZON = 12, 4


def _csv(path: Path, values: np.ndarray) -> Path:
    dates = np.datetime64("2023-01-01") + np.arange(len(values))
    path.write_text("date,value\n" + "".join(f"{d},{v:.6f}\n" for d, v in zip(dates, values)))
    return path


# A weekly sine, with little noise or much. The window's spread barely tells them apart
# (1.0 vs 1.2), the forecast errors do (0.05 vs 0.7): what is left is for the scale.
_rng = np.random.default_rng(0)
_SINE = 10 + np.sin(np.arange(600) * 2 * np.pi / 7)
CALM, ROUGH = 0.05 * _rng.standard_normal(600), 0.7 * _rng.standard_normal(600)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory):
    """Models fitted on 300 calm and 300 rough rows, and each series with 300 rows of the other after it."""
    work = tmp_path_factory.mktemp("adapt")
    spec = dict(window=WindowSpec(lookback=LOOKBACK, horizon=HORIZON), net=NetSpec(hidden=8),
                train=TrainSpec(epochs=40, lr=0.01, seed=0))
    calm = _csv(work / "calm.csv", (_SINE + CALM)[:300])
    calm_model = api.fit(calm, **spec)
    rough_model = api.fit(_csv(work / "rough.csv", (_SINE + ROUGH)[:300]), **spec)
    wild = _csv(work / "wild.csv", _SINE + np.concatenate([CALM[:300], ROUGH[300:]]))
    quiet = _csv(work / "quiet.csv", _SINE + np.concatenate([ROUGH[:300], CALM[300:]]))
    return calm_model, calm, wild, rough_model, quiet


def _width(table: dict, level: int) -> np.ndarray:
    return table[f"upper_{level}"] - table[f"lower_{level}"]


def test_new_rows_that_err_more_widen_the_intervals_and_say_so(fitted) -> None:
    model, _, wild, _, _ = fitted
    notes: list[str] = []
    adapted = api.forecast(model, wild, levels=[80], notes=notes)
    static = api.forecast(model, wild, levels=[80], adapt=False)
    assert (adapted["forecast"] == static["forecast"]).all()
    assert (_width(adapted, 80) > 1.5 * _width(static, 80)).all()
    assert len(notes) == 1 and "300 rows after the fit" in notes[0] and "--" not in notes[0]  # no CLI flags in the API


def test_calmer_new_rows_narrow_them(fitted) -> None:
    _, _, _, model, quiet = fitted
    adapted = api.forecast(model, quiet, levels=[80])
    static = api.forecast(model, quiet, levels=[80], adapt=False)
    assert (_width(adapted, 80) < 0.8 * _width(static, 80)).all()
    # Narrowed about the forecast: room above and below shrink alike.
    balance = lambda t: (t["upper_80"] - t["forecast"]) / (t["forecast"] - t["lower_80"])  # noqa: E731
    assert balance(adapted) == pytest.approx(balance(static), rel=1e-9)


def test_the_fit_data_itself_has_no_new_rows_and_changes_nothing(fitted) -> None:
    model, train, _, _, _ = fitted
    notes: list[str] = []
    again = api.forecast(model, train, levels=[80, 95], notes=notes)
    stored = api.forecast(model, levels=[80, 95])
    for name in ("lower_80", "upper_80", "lower_95", "upper_95"):
        assert again[name] == pytest.approx(stored[name], rel=1e-9)
    assert notes == []


def test_the_scale_at_an_origin_never_sees_rows_at_or_after_it(fitted, tmp_path: Path) -> None:
    model, _, wild, _, _ = fitted
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
    model, _, wild, _, _ = fitted
    path = tmp_path / "m.rnncast"
    api.save(model, path)
    adapted = run("predict", path, "--data", wild, "--level", "80")
    static = run("predict", path, "--data", wild, "--level", "80", "--no-adapt")
    assert adapted.exit_code == 0 and static.exit_code == 0, adapted.stderr + static.stderr
    assert "intervals follow their misses on 300 rows after the fit" in adapted.stderr
    assert "(--no-adapt for the intervals as calibrated)" in adapted.stderr  # the CLI names its own option
    assert "intervals follow" not in static.stderr
    wide, narrow = (pd.read_csv(io.StringIO(r.stdout)) for r in (adapted, static))
    assert ((wide.upper_80 - wide.lower_80) > (narrow.upper_80 - narrow.lower_80)).all()


def test_rows_made_up_to_fill_a_gap_are_not_outcomes(fitted, tmp_path: Path) -> None:
    model, _, wild, _, _ = fitted
    lines = wild.read_text().splitlines(keepends=True)
    gappy = tmp_path / "gappy.csv"
    gappy.write_text("".join(lines[:401] + lines[501:]))  # rows 400..499 missing, filled by interpolation
    series = read_series(gappy)
    assert series.made_up is not None and np.flatnonzero(series.made_up).tolist() == list(range(400, 500))
    scales = api.interval_scales(model, series, [80])[80][0]
    # Nothing counted while only made-up rows arrive: the scale holds through the gap ...
    assert (scales[401:501] == scales[400]).all()
    # ... which counting the straight line of the fill as outcomes would have moved.
    counted = api.interval_scales(model, dataclasses.replace(series, made_up=None), [80])[80][0]
    assert abs(np.log(counted[500] / scales[500])) > 0.1
    notes: list[str] = []
    api.forecast(model, gappy, levels=[80], notes=notes)
    assert "on 200 rows after the fit" in notes[0]


def test_data_in_another_zone_is_read_in_the_models_zone(tmp_path: Path) -> None:
    hours = np.datetime64("2024-03-01T00:00") + np.arange(200).astype("timedelta64[h]")
    values = 10 + np.sin(np.arange(200) * 2 * np.pi / 24)

    def write(path: Path, shift: int, zone: str) -> Path:
        stamps = (hours + np.timedelta64(shift, "h")).astype(str)
        path.write_text("time,value\n" + "".join(f"{t}{zone},{v:.6f}\n" for t, v in zip(stamps, values)))
        return path

    model = api.fit(write(tmp_path / "east.csv", 0, "+02:00"), window=WindowSpec(lookback=LOOKBACK, horizon=HORIZON),
                    net=NetSpec(hidden=8), train=TrainSpec(epochs=2, seed=0))
    # The very same instants, written in UTC: nothing is new, and the forecast is the stored one.
    notes: list[str] = []
    again = api.forecast(model, write(tmp_path / "utc.csv", -2, "+00:00"), levels=[80], notes=notes)
    stored = api.forecast(model, levels=[80])
    assert notes == []
    assert (again["timestamp"] == stored["timestamp"]).all()
    assert again["upper_80"] == pytest.approx(stored["upper_80"], rel=1e-9)
    # The same instants written further east end later by their clock, but nothing is new.
    east = read_series(write(tmp_path / "far_east.csv", 3, "+05:00"))
    assert (api.interval_scales(model, east, [80])[80][0] == 1.0).all()


def test_each_series_of_many_scales_as_it_would_alone(tmp_path: Path) -> None:
    fitted_rows = long_csv(tmp_path / "fit.csv", ids=("a", "b"), n=150)
    model = api.fit(fitted_rows, read_spec=ReadSpec(id_col="store"),
                    window=WindowSpec(lookback=LOOKBACK, horizon=HORIZON), net=NetSpec(hidden=8),
                    train=TrainSpec(epochs=3, seed=0))
    later = read_series(long_csv(tmp_path / "later.csv", ids=("a", "b", "c"), n=230), id_col="store")
    together = api.interval_scales(model, later, [80])[80]
    for s, name in enumerate(later.ids):
        begin, end = later.offsets[s], later.offsets[s + 1]
        alone = dataclasses.replace(later, values=later.values[begin:end], times=later.times[begin:end],
                                    offsets=np.array([0, end - begin]), ids=(name,), made_up=later.made_up[begin:end])
        assert together[s] == pytest.approx(api.interval_scales(model, alone, [80])[80][0], rel=1e-6), name
    assert (together[2] == 1.0).all()  # "c" is new to the model: as calibrated
    assert together[0][-1] != 1.0  # "a" has 80 rows past the fit
