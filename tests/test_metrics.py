"""Forecast scores: hand-worked values, edge cases, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncast.errors import ConfigError
from rnncast.metrics import (
    coverage,
    mae,
    mape,
    mape_defined,
    mase,
    mase_scale,
    rmse,
    smape,
    width,
)

# y = [1, 2, 4], f = [2, 2, 1]: errors f - y = [1, 0, -3], |e| = [1, 0, 3].
Y = np.array([1.0, 2.0, 4.0])
F = np.array([2.0, 2.0, 1.0])


def test_mae_rmse_by_hand() -> None:
    assert mae(Y, F) == pytest.approx(4 / 3)  # (1 + 0 + 3) / 3
    assert rmse(Y, F) == pytest.approx(math.sqrt(10 / 3))  # sqrt((1 + 0 + 9) / 3)
    assert isinstance(mae(Y, F), float) and isinstance(rmse(Y, F), float)


def test_mape_by_hand() -> None:
    # 100 * mean(1/1, 0/2, 3/4) = 100 * 1.75 / 3
    assert mape(Y, F) == pytest.approx(175 / 3)
    assert mape_defined(Y)


def test_mape_is_nan_when_actuals_touch_zero() -> None:
    y = np.array([[1.0, 2.0], [0.0, 4.0]])
    f = np.array([[2.0, 2.0], [1.0, 4.0]])
    assert not mape_defined(y)
    assert math.isnan(mape(y, f))
    # Per row: row 0 is 100 * mean(1/1, 0/2) = 50; row 1 holds the zero.
    np.testing.assert_array_equal(mape(y, f, axis=1), [50.0, np.nan])
    assert not mape_defined(np.array([1.0, 1e-310]))  # subnormal: zero for our purposes


def test_smape_by_hand() -> None:
    # mean(200 * 1/3, 200 * 0/4, 200 * 3/5) = (200/3 + 0 + 120) / 3 = 560 / 9
    assert smape(Y, F) == pytest.approx(560 / 9)
    # Both zero counts as a perfect 0; one zero against a non-zero is the maximum 200.
    assert smape(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    assert smape(np.array([0.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(100.0)


def test_smape_survives_values_near_the_float_limit() -> None:
    # |f - y| and |y| + |f| would both overflow to inf, and inf / inf is NaN.
    assert smape(np.array([1e308]), np.array([-1e308])) == pytest.approx(200.0)
    assert smape(np.array([1e308]), np.array([1e308])) == 0.0


def test_mase_by_hand() -> None:
    insample = np.array([1.0, 3.0, 2.0, 6.0])
    # season 1: |3-1|, |2-3|, |6-2| = 2, 1, 4 -> scale 7/3; MAE 4/3 -> 4/7
    assert mase_scale(insample, 1) == pytest.approx(7 / 3)
    assert mase(Y, F, insample, 1) == pytest.approx(4 / 7)
    # season 2: |2-1|, |6-3| = 1, 3 -> scale 2; (4/3) / 2 = 2/3
    assert mase(Y, F, insample, 2) == pytest.approx(2 / 3)


def test_mase_with_zero_scale_is_inf_or_nan_without_warning() -> None:
    flat = np.array([5.0, 5.0, 5.0])
    assert mase(Y, F, flat, 1) == math.inf
    assert math.isnan(mase(Y, Y, flat, 1))
    # A period-2 series has zero scale at season 2 but not at season 1.
    assert mase(Y, F, np.array([1.0, 2.0, 1.0, 2.0]), 2) == math.inf
    assert mase(Y, F, np.array([1.0, 2.0, 1.0, 2.0]), 1) == pytest.approx(4 / 3)


def test_mase_rejects_a_short_insample_and_a_bad_season() -> None:
    with pytest.raises(ValueError, match="at least 4 in-sample values, got 3"):
        mase(Y, F, np.array([1.0, 2.0, 3.0]), 3)
    mase(Y, F, np.array([1.0, 2.0, 3.0, 5.0]), 3)  # season + 1 values is enough
    for season in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="season"):
            mase(Y, F, np.arange(10.0), season)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1-D"):
        mase(Y, F, np.ones((4, 2)), 1)


def test_axis_reduces_one_axis() -> None:
    y = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 0.0]])
    f = np.array([[2.0, 2.0, 1.0], [1.0, -1.0, 2.0]])
    np.testing.assert_allclose(mae(y, f, axis=1), [4 / 3, 4 / 3])
    np.testing.assert_allclose(mae(y, f, axis=0), [1.0, 0.5, 2.5])
    np.testing.assert_allclose(rmse(y, f, axis=1), [math.sqrt(10 / 3), math.sqrt(2)])
    np.testing.assert_allclose(smape(y, f, axis=1), [560 / 9, 200.0])
    np.testing.assert_allclose(mase(y, f, np.array([1.0, 3.0, 2.0, 6.0]), 1, axis=1), [4 / 7, 4 / 7])


def test_shapes_are_checked() -> None:
    for score in (mae, rmse, mape, smape):
        with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(2,\)"):
            score(Y, F[:2])
        with pytest.raises(ValueError, match="empty"):
            score(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="y and upper"):
        coverage(Y, F, F[:2])
    with pytest.raises(ValueError, match="lower and upper"):
        width(F, F[:2])


def test_coverage_and_width_by_hand() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    lower = np.array([0.0, 2.0, 3.5, 0.0])
    upper = np.array([1.0, 5.0, 4.0, 3.9])
    # 1 in [0, 1] and 2 in [2, 5] (closed ends count); 3 below [3.5, 4]; 4 above [0, 3.9].
    assert coverage(y, lower, upper) == 0.5
    assert width(lower, upper) == pytest.approx(2.1)  # (1 + 3 + 0.5 + 3.9) / 4
    assert coverage(y, np.full(4, -np.inf), np.full(4, np.inf)) == 1.0
    assert width(np.zeros(4), np.array([0, 0, 0, np.inf])) == math.inf


def test_crossed_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="lower bound must be <= its upper"):
        coverage(np.zeros(2), np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="lower bound must be <= its upper"):
        width(np.array([0.0, 1.0]), np.array([1.0, 0.0]))


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 20), st.just(2)), elements=finite))
def test_smape_is_bounded_and_symmetric(pairs: np.ndarray) -> None:
    y, f = pairs[:, 0], pairs[:, 1]
    value = smape(y, f)
    assert 0.0 <= value <= 200.0
    assert value == pytest.approx(smape(f, y))


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=finite),
    st.floats(0, 10),
)
def test_coverage_is_a_share_that_grows_with_the_interval(columns: np.ndarray, widen: float) -> None:
    y = columns[:, 0]
    lower = np.minimum(columns[:, 1], columns[:, 2])
    upper = np.maximum(columns[:, 1], columns[:, 2])
    share = coverage(y, lower, upper)
    assert 0.0 <= share <= 1.0
    assert share * len(y) == pytest.approx(round(share * len(y)))  # a count over n
    assert coverage(y, lower - widen, upper + widen) >= share
    assert coverage(y, y, y) == 1.0


@given(hnp.arrays(np.float64, st.integers(2, 30), elements=finite), st.integers(1, 5))
def test_mase_of_the_insample_seasonal_naive_forecast_is_one(insample: np.ndarray, season: int) -> None:
    # Scored on the in-sample series itself, the seasonal-naive forecast *is* the scale.
    if len(insample) < season + 1:
        with pytest.raises(ValueError):
            mase(insample[season:], insample[:-season], insample, season)
        return
    value = mase(insample[season:], insample[:-season], insample, season)
    if mase_scale(insample, season) == 0:
        assert math.isnan(value)  # 0 / 0: the series repeats itself exactly
    else:
        assert value == pytest.approx(1.0, rel=1e-12)


# Whole numbers keep a * x + b exact, so the check is of the maths, not of rounding.
whole = st.integers(-1000, 1000).map(float)


@given(
    hnp.arrays(np.float64, st.integers(2, 30), elements=whole),
    st.integers(-50, 50).filter(lambda a: a != 0),
    st.integers(-1000, 1000),
)
def test_mase_ignores_units_and_offset(series: np.ndarray, a: int, b: int) -> None:
    insample, y, f = series, series[::-1], np.roll(series, 1)
    if mase_scale(insample, 1) == 0:
        return
    before = mase(y, f, insample, 1)
    assert mase(a * y + b, a * f + b, a * insample + b, 1) == pytest.approx(before, rel=1e-12)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(1, 10), st.just(2)), elements=finite))
def test_mae_never_exceeds_rmse_and_rows_average_to_the_whole(pairs: np.ndarray) -> None:
    y, f = pairs[..., 0], pairs[..., 1]
    assert mae(y, f) <= rmse(y, f) * (1 + 1e-12)
    assert np.mean(mae(y, f, axis=1)) == pytest.approx(mae(y, f), rel=1e-9, abs=1e-9)
