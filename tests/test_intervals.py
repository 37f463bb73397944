"""Split-conformal intervals: ranks by hand, coverage on skewed noise, the finite-sample guarantee."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncast.errors import ConfigError, DataError
from rnncast.intervals import (
    apply,
    calibrate,
    calibrate_quantiles,
    min_windows,
    min_windows_two_sided,
)

# One step, N = 9: signed residuals whose sorted values are -9 -7 -5 -3 -1 2 4 6 8 and
# whose magnitudes are 1 .. 9.
SIGNED = np.array([[-1.0], [2.0], [-3.0], [4.0], [-5.0], [6.0], [-7.0], [8.0], [-9.0]])


def test_symmetric_half_width_is_the_corrected_rank_of_abs() -> None:
    widths = calibrate(SIGNED, [50, 80, 95])
    # rank ceil(10 * 0.5) = 5 -> 5; ceil(10 * 0.8) = 8 -> 8; ceil(10 * 0.95) = 10 > 9 -> inf
    np.testing.assert_array_equal(widths[50], [5.0])
    np.testing.assert_array_equal(widths[80], [8.0])
    np.testing.assert_array_equal(widths[95], [np.inf])
    assert list(widths) == [50, 80, 95]


def test_quantile_bounds_are_the_corrected_ranks_of_signed_residuals() -> None:
    bounds = calibrate_quantiles(SIGNED, [50, 60, 80, 90])
    # 50: upper rank ceil(10 * 0.75) = 8 -> 6, lower rank 10 - 8 = 2 -> -7
    # 60: upper ceil(10 * 0.80) = 8 -> 6, lower 2 -> -7
    # 80: upper ceil(10 * 0.90) = 9 -> 8, lower 1 -> -9
    # 90: upper ceil(10 * 0.95) = 10 > 9 -> +inf, lower 0 -> -inf
    expected = {50: (-7.0, 6.0), 60: (-7.0, 6.0), 80: (-9.0, 8.0), 90: (-np.inf, np.inf)}
    for level, (low, high) in expected.items():
        np.testing.assert_array_equal(bounds[level][0], [low])
        np.testing.assert_array_equal(bounds[level][1], [high])


def test_ranks_are_exact_where_float_arithmetic_is_not() -> None:
    # (74 + 1) * 0.68 is 51.00000000000001 in floats, whose ceiling would be 52.
    magnitudes = np.arange(1.0, 75.0)[:, None]
    np.testing.assert_array_equal(calibrate(magnitudes, [68])[68], [51.0])
    # The float 99.9 is 99.900000000000005684...: read as a binary fraction, rank
    # (999 + 1) * 0.999 would round up to 1000 > N and give an infinite width.
    magnitudes = np.arange(1.0, 1000.0)[:, None]
    np.testing.assert_array_equal(calibrate(magnitudes, [99.9])[99.9], [999.0])


@pytest.mark.parametrize("level", [50, 80, 90, 95, 99, 99.5])
def test_min_windows_is_where_bounds_turn_finite(level: float) -> None:
    rng = np.random.default_rng(1)
    n = min_windows(level)
    assert np.isfinite(calibrate(rng.normal(size=(n, 2)), [level])[level]).all()
    if n > 1:  # at 50% one window is enough, and there are no zero-window sets
        assert np.isinf(calibrate(rng.normal(size=(n - 1, 2)), [level])[level]).all()
    n = min_windows_two_sided(level)
    assert np.isfinite(np.concatenate(calibrate_quantiles(rng.normal(size=(n, 2)), [level])[level])).all()
    assert np.isinf(np.concatenate(calibrate_quantiles(rng.normal(size=(n - 1, 2)), [level])[level])).all()


def test_min_windows_by_hand() -> None:
    assert (min_windows(95), min_windows(80)) == (19, 4)  # 0.95 / 0.05, 0.8 / 0.2
    assert (min_windows_two_sided(95), min_windows_two_sided(80)) == (39, 9)  # 0.975 / 0.025, 0.9 / 0.1


def skewed_noise(rng: np.random.Generator, n: int, scales: np.ndarray) -> np.ndarray:
    """(n, K) right-skewed, zero-mean noise: (Gamma(2, 1) - 2) * scale of each step."""
    return (rng.gamma(2.0, 1.0, size=(n, len(scales))) - 2.0) * scales


# Later steps are noisier, as a forecast's are.
SCALES = 1.0 + 0.5 * np.arange(6)
# One calibration set of N = 500 fixes the coverage of its interval at a Beta-distributed
# value: about 80 +- 2 points (95 +- 1) per step, so "80 +- 3 at all six steps" holds for
# fewer than half the seeds. Conformal coverage is a promise on average over calibration
# sets, so each check averages RUNS independent sets (80 +- 0.45, 95 +- 0.24 points).
RUNS = 20


def test_conformal_intervals_cover_at_their_level_on_skewed_noise() -> None:
    rng = np.random.default_rng(20240611)
    hits = {80: np.zeros(6), 95: np.zeros(6)}
    widths = {80: np.zeros(6), 95: np.zeros(6)}
    skew = {80: np.zeros(6), 95: np.zeros(6)}  # room above the forecast minus room below
    for _ in range(RUNS):
        forecast = rng.normal(size=(2000, 6)) * 10  # anything: residuals are what matter
        actual = forecast + skewed_noise(rng, 2000, SCALES)  # 2,000 fresh points per step
        bounds = calibrate_quantiles(skewed_noise(rng, 500, SCALES), [80, 95])  # (N, K) = (500, 6)
        for level in (80, 95):
            lower, upper = apply(forecast, bounds, level)
            hits[level] += ((lower <= actual) & (actual <= upper)).mean(axis=0) / RUNS  # (K,)
            widths[level] += (upper - lower)[0] / RUNS
            low, high = bounds[level]
            skew[level] += (high + low) / RUNS
    for level, share in hits.items():
        assert np.all(np.abs(share * 100 - level) <= 3), (level, share)
        # Steps 1.2x as noisy as the one before: one set's 95% bounds rest on ~12 tail
        # residuals and can cross, the average widths must not.
        assert np.all(np.diff(widths[level]) > 0), widths[level]
        # Right-skewed noise, skewed interval: more room above the forecast than below.
        assert np.all(skew[level] > 0), skew[level]


def test_symmetric_intervals_also_cover_and_widen() -> None:
    rng = np.random.default_rng(7)
    hits = {80: np.zeros(6), 95: np.zeros(6)}
    widths = {80: np.zeros(6), 95: np.zeros(6)}
    for _ in range(RUNS):
        fresh = skewed_noise(rng, 2000, SCALES)
        halves = calibrate(skewed_noise(rng, 500, SCALES), [80, 95])
        for level in (80, 95):
            lower, upper = apply(np.zeros((2000, 6)), halves, level)
            hits[level] += ((lower <= fresh) & (fresh <= upper)).mean(axis=0) / RUNS
            widths[level] += halves[level] / RUNS
    for level, share in hits.items():
        assert np.all(np.abs(share * 100 - level) <= 3), (level, share)
        assert np.all(np.diff(widths[level]) > 0), widths[level]


@pytest.mark.parametrize("level", [50, 70, 80])
def test_the_finite_sample_guarantee_holds_on_average(level: float) -> None:
    # Uniform(0, 1) residuals: an interval [lo, hi] covers a fresh one with probability
    # hi - lo exactly, so averaging over many calibration sets gives the expected coverage
    # without test points. Each of the 20,000 columns is an independent set of N = 10.
    # Uncorrected quantiles (np.quantile at 10% / 90%) average 0.65 here for level 80.
    rng = np.random.default_rng(3)
    residuals = rng.uniform(size=(10, 20_000))
    low, high = calibrate_quantiles(residuals, [level])[level]
    covered = np.clip(high, 0, 1) - np.clip(low, 0, 1)
    upper_rank = math.ceil(11 * (1 + level / 100) / 2)
    expected = (2 * upper_rank - 11) / 11  # E[U(r)] = r / (N + 1), lower rank 11 - r
    assert covered.mean() >= level / 100
    assert covered.mean() == pytest.approx(expected, abs=0.005)
    half = calibrate(rng.uniform(-1, 1, size=(10, 20_000)), [level])[level]
    assert np.clip(half, 0, 1).mean() >= level / 100  # |U(-1, 1)| is U(0, 1)
    assert np.clip(half, 0, 1).mean() == pytest.approx(math.ceil(11 * level / 100) / 11, abs=0.005)


def test_apply_by_hand() -> None:
    forecast = np.array([[10.0, 20.0], [0.0, 0.0]])
    lower, upper = apply(forecast, {80: np.array([1.0, 2.0])}, 80)
    np.testing.assert_array_equal(lower, [[9.0, 18.0], [-1.0, -2.0]])
    np.testing.assert_array_equal(upper, [[11.0, 22.0], [1.0, 2.0]])
    bounds = {95.0: (np.array([-1.0, -3.0]), np.array([2.0, 4.0]))}
    lower, upper = apply(forecast, bounds, 95)  # 95 finds the key 95.0
    np.testing.assert_array_equal(lower, [[9.0, 17.0], [-1.0, -3.0]])
    np.testing.assert_array_equal(upper, [[12.0, 24.0], [2.0, 4.0]])


def test_apply_rejects_an_uncalibrated_level_and_a_wrong_horizon() -> None:
    bounds = calibrate_quantiles(SIGNED, [50, 80])
    with pytest.raises(ConfigError, match="level 90; calibrated levels: 50, 80"):
        apply(np.zeros((2, 1)), bounds, 90)
    with pytest.raises(ValueError, match="disagree"):
        apply(np.zeros((2, 3)), bounds, 80)


@pytest.mark.parametrize("level", [0, 100, -5, 150, math.nan, math.inf, True, "95"])
def test_bad_levels_are_config_errors_on_one_line(level: object) -> None:
    for calibrator in (calibrate, calibrate_quantiles):
        with pytest.raises(ConfigError, match="strictly between 0 and 100") as caught:
            calibrator(SIGNED, [80, level])  # type: ignore[list-item]
        assert "\n" not in str(caught.value)


def test_bad_residuals_are_rejected() -> None:
    for shape in [(9,), (0, 3), (4, 0), (2, 2, 2)]:
        with pytest.raises(ValueError, match=r"\(N, K\)"):
            calibrate(np.zeros(shape), [80])
    with pytest.raises(DataError, match="NaN or infinity"):
        calibrate_quantiles(np.array([[1.0], [np.inf]]), [80])


residual_arrays = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 60), st.integers(1, 4)),
    elements=st.floats(-1e6, 1e6, allow_nan=False),
)
level_lists = st.lists(st.floats(1, 99), min_size=1, max_size=4)


@given(residual_arrays, level_lists)
def test_bounds_are_ordered_and_nested_across_levels(residuals: np.ndarray, levels: list[float]) -> None:
    levels = sorted(levels)
    halves = calibrate(residuals, levels)
    quantiles = calibrate_quantiles(residuals, levels)
    for level in levels:
        assert np.all(halves[level] >= 0)
        assert np.all(quantiles[level][0] <= quantiles[level][1])
    for narrow, wide in zip(levels, levels[1:], strict=False):
        assert np.all(halves[narrow] <= halves[wide])
        assert np.all(quantiles[wide][0] <= quantiles[narrow][0])
        assert np.all(quantiles[narrow][1] <= quantiles[wide][1])


@given(residual_arrays, level_lists, st.integers(-1000, 1000))
def test_shifting_residuals_shifts_quantile_bounds(
    residuals: np.ndarray, levels: list[float], shift: int
) -> None:
    base = calibrate_quantiles(residuals, levels)
    moved = calibrate_quantiles(residuals + shift, levels)
    for level in levels:
        for before, after in zip(base[level], moved[level], strict=True):
            np.testing.assert_array_equal(after, before + shift)


@given(residual_arrays, st.floats(1, 99))
def test_calibration_bounds_cover_the_calibration_residuals_at_their_level(
    residuals: np.ndarray, level: float
) -> None:
    # In-sample, ranks N + 1 - r .. r hold 2r - N >= 1 + level/100 * (N + 1) - ... > the
    # level's share of the N residuals (r = ceil((N + 1)(1 + level/100) / 2)), per step.
    low, high = calibrate_quantiles(residuals, [level])[level]
    inside = ((low <= residuals) & (residuals <= high)).mean(axis=0)
    assert np.all(inside >= level / 100 - 1e-12)
    half = calibrate(residuals, [level])[level]
    assert np.all((np.abs(residuals) <= half).mean(axis=0) >= level / 100 - 1e-12)


# ------------------------------------------------------------- every series counts alike

group_sizes = st.lists(st.integers(1, 12), min_size=1, max_size=8)


@given(group_sizes, st.floats(1, 99), st.integers(0, 2**32 - 1))
def test_series_weighted_bounds_cover_each_series_share_at_their_level(
    sizes: list[int], level: float, seed: int
) -> None:
    # In-sample, as above, but counted in weight: the windows inside the bounds hold at
    # least the level's share of the series' total weight (each series weighing alike).
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    residuals = rng.standard_normal((len(groups), 3)) * rng.uniform(0.1, 10, len(sizes))[groups, None]
    low, high = calibrate_quantiles(residuals, [level], groups)[level]
    inside = (low <= residuals) & (residuals <= high)
    per_series = np.stack([inside[groups == g].mean(axis=0) for g in range(len(sizes))])
    finite = np.isfinite(low) & np.isfinite(high)
    assert np.all(per_series.mean(axis=0)[finite] >= level / 100 - 1e-9)
    assert np.all(low <= high)


def test_series_with_as_many_windows_each_give_the_unweighted_bounds() -> None:
    residuals = np.random.default_rng(3).standard_normal((120, 4))
    groups = np.repeat(np.arange(12), 10)
    plain = calibrate_quantiles(residuals, [50, 80, 95])
    weighted = calibrate_quantiles(residuals, [50, 80, 95], groups)
    for level in plain:
        for a, b in zip(plain[level], weighted[level], strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_long_calm_series_does_not_narrow_the_bounds_of_many_short_wild_ones() -> None:
    # 490 windows of one calm series and one window each of ten wild ones: by windows the
    # 80 % bounds are the calm series' own; with every series counting alike they must
    # cover most of the wild ones too.
    rng = np.random.default_rng(0)
    residuals = np.r_[rng.normal(0, 0.1, (490, 1)), rng.normal(0, 10, (10, 1))]
    groups = np.r_[np.zeros(490, np.int64), np.arange(1, 11)]
    by_window = calibrate_quantiles(residuals, [80])[80]
    by_series = calibrate_quantiles(residuals, [80], groups)[80]
    wild = residuals[490:, 0]
    assert ((by_window[0] <= wild) & (wild <= by_window[1])).mean() < 0.5
    assert ((by_series[0] <= wild) & (wild <= by_series[1])).mean() >= 0.7


def test_groups_must_match_the_residuals() -> None:
    with pytest.raises(ValueError, match="one entry per residual"):
        calibrate_quantiles(np.zeros((5, 2)), [80], np.arange(4))
