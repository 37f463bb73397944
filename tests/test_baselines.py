"""Benchmark forecasts against hand-built series they should continue exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncast.baselines import BASELINES, drift, naive, seasonal_naive
from rnncast.errors import ConfigError, DataError


def test_naive_repeats_the_last_value() -> None:
    out = naive(np.array([3.0, 1.0, 4.0]), 3)
    np.testing.assert_array_equal(out, [4.0, 4.0, 4.0])
    assert out.shape == (3,) and out.dtype == np.float64


def test_drift_continues_a_ramp_exactly() -> None:
    t = np.arange(15.0)
    ramp = 3.0 + 2.0 * t  # slope (21 - 3) / 9 = 2 from the first ten points
    np.testing.assert_array_equal(drift(ramp[:10], 5), ramp[10:])


def test_drift_by_hand_on_a_bent_series() -> None:
    # First 1, last 7 over n - 1 = 3 steps: slope 2, whatever happens in between.
    np.testing.assert_array_equal(drift(np.array([1.0, 9.0, -4.0, 7.0]), 3), [9.0, 11.0, 13.0])


def test_seasonal_naive_continues_a_period_three_pattern() -> None:
    series = np.tile([5.0, 1.0, 7.0], 5)  # 5 1 7 5 1 7 ...
    # History ends 5, 1, 7, 5 (index 6); the last season is x[4:7] = 1, 7, 5.
    np.testing.assert_array_equal(seasonal_naive(series[:7], 4, 3), [1.0, 7.0, 5.0, 1.0])
    np.testing.assert_array_equal(seasonal_naive(series[:7], 8, 3), series[7:15])


def test_short_histories_fall_back_to_naive() -> None:
    np.testing.assert_array_equal(seasonal_naive(np.array([2.0, 6.0]), 4, 3), [6.0] * 4)
    np.testing.assert_array_equal(seasonal_naive(np.array([2.0, 6.0, 1.0]), 4, 3), [2.0, 6.0, 1.0, 2.0])
    np.testing.assert_array_equal(drift(np.array([5.0]), 2), [5.0, 5.0])


def test_the_registry_has_one_signature() -> None:
    history = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 6.0])
    assert set(BASELINES) == {"naive", "seasonal_naive", "drift"}
    for name, baseline in BASELINES.items():
        assert baseline(history, 5, 2).shape == (5,), name
    np.testing.assert_array_equal(BASELINES["naive"](history, 3, 2), naive(history, 3))
    np.testing.assert_array_equal(BASELINES["drift"](history, 3, 2), drift(history, 3))
    np.testing.assert_array_equal(BASELINES["seasonal_naive"](history, 3, 2), [5.0, 6.0, 5.0])
    with pytest.raises(TypeError):
        BASELINES["naive"] = BASELINES["drift"]  # type: ignore[index]


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="1-D"):
        naive(np.ones((3, 2)), 2)
    with pytest.raises(DataError, match="no history"):
        drift(np.array([]), 2)
    with pytest.raises(DataError, match="NaN or infinity"):
        seasonal_naive(np.array([1.0, np.nan, 2.0]), 2, 1)
    for horizon in (0, -1, 2.5):
        with pytest.raises(ValueError, match="horizon K"):
            naive(np.ones(3), horizon)  # type: ignore[arg-type]
    for season in (0, -2, 1.5):
        with pytest.raises(ConfigError, match="season"):
            seasonal_naive(np.ones(3), 2, season)  # type: ignore[arg-type]


values = st.floats(-1e6, 1e6, allow_nan=False)


@given(hnp.arrays(np.float64, st.integers(1, 40), elements=values), st.integers(1, 30), st.integers(1, 12))
def test_seasonal_naive_repeats_the_last_season(history: np.ndarray, K: int, season: int) -> None:
    out = seasonal_naive(history, K, season)
    assert out.shape == (K,)
    if len(history) < season:
        np.testing.assert_array_equal(out, naive(history, K))
        return
    np.testing.assert_array_equal(out[:season], history[len(history) - season :][:K])
    np.testing.assert_array_equal(out[season:], out[:-season])  # periodic with period season
    np.testing.assert_array_equal(seasonal_naive(history, K, 1), naive(history, K))


@given(
    st.floats(-1e3, 1e3),
    st.floats(-1e3, 1e3),
    st.integers(2, 50),
    st.integers(1, 20),
)
def test_drift_extends_any_line(intercept: float, slope: float, n: int, K: int) -> None:
    t = np.arange(n + K, dtype=np.float64)
    line = intercept + slope * t
    np.testing.assert_allclose(drift(line[:n], K), line[n:], rtol=1e-9, atol=1e-6)


@given(hnp.arrays(np.float64, st.integers(1, 40), elements=values), st.integers(1, 30))
def test_drift_steps_are_even_and_start_from_the_last_value(history: np.ndarray, K: int) -> None:
    out = drift(history, K)
    slope = 0.0 if len(history) == 1 else (history[-1] - history[0]) / (len(history) - 1)
    np.testing.assert_allclose(np.diff(np.concatenate(([history[-1]], out))), slope, atol=1e-6)
