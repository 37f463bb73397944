"""What the network sees: window re-centring, patches, head extras, calendar features."""

from __future__ import annotations

import numpy as np
import pytest

from rnncast.config import WindowSpec
from rnncast.errors import ConfigError
from rnncast.features import anchors, calendar_features, extra_width, model_inputs
from rnncast.windows import make_windows, window_rows


def test_window_rows_match_make_windows() -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((50, 2))
    offsets = np.array([0, 20, 50])
    starts, ends = np.array([2, 25]), np.array([20, 48])
    x, y, series = make_windows(values, offsets, 5, 3, starts=starts, ends=ends)
    first, series2 = window_rows(offsets, 5, 3, starts=starts, ends=ends)
    np.testing.assert_array_equal(series, series2)
    for w, r in enumerate(first):
        np.testing.assert_allclose(x[w], values[r : r + 5], rtol=1e-6)
        np.testing.assert_allclose(y[w], values[r + 5 : r + 8, 0], rtol=1e-6)


def test_recentring_on_last_value_and_patches() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 6, 2)).astype(np.float32)
    spec = WindowSpec(lookback=6, horizon=2, norm="last", patch=3, highway=True)
    net_in, extra, anchor = model_inputs(X, None, spec, ())
    np.testing.assert_array_equal(anchor, X[:, -1, 0])
    assert net_in.shape == (4, 2, 6)  # 6 steps as 2 patches of 3 steps x 2 columns
    # The target column is re-centred, the feature column is not.
    centred = X.copy()
    centred[:, :, 0] -= anchor[:, None]
    np.testing.assert_allclose(net_in.reshape(4, 6, 2), centred)
    np.testing.assert_allclose(extra, centred[:, :, 0])  # the highway sees the window
    assert extra.shape[1] == extra_width(spec, ())
    assert np.all(net_in.reshape(4, 6, 2)[:, -1, 0] == 0)
    np.testing.assert_allclose(anchors(X, "mean"), X[:, :, 0].mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(anchors(X, "none"), 0)


def test_patch_must_divide_lookback() -> None:
    with pytest.raises(ConfigError, match="--patch"):
        WindowSpec(lookback=10, horizon=2, patch=3)


def test_calendar_features_encode_the_cycles() -> None:
    times = np.array(["2024-01-01T00", "2024-01-01T06", "2024-01-03T12", "2024-07-01T00"], dtype="datetime64[ns]")
    f = calendar_features(times, ("hour", "weekday", "month"))
    assert f.shape == (4, 6)
    # 06:00 is a quarter of the day: sin 1, cos 0.
    np.testing.assert_allclose(f[1, :2], [1, 0], atol=1e-6)
    # 2024-01-01 is a Monday (phase 0), 2024-01-03 a Wednesday (phase 2/7).
    np.testing.assert_allclose(f[0, 2:4], [0, 1], atol=1e-6)
    np.testing.assert_allclose(f[2, 2:4], [np.sin(4 * np.pi / 7), np.cos(4 * np.pi / 7)], atol=1e-6)
    # July is month 6: half a year from January.
    np.testing.assert_allclose(f[3, 4:6], [0, -1], atol=1e-6)
    # sin^2 + cos^2 = 1 for every pair.
    np.testing.assert_allclose(f[:, 0::2] ** 2 + f[:, 1::2] ** 2, 1, atol=1e-6)


def test_known_columns_are_re_centred_on_the_windows_last_values_over_lookback_and_horizon() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 6, 3)).astype(np.float32)  # target, a feature, a known column
    ahead = rng.standard_normal((5, 2, 1)).astype(np.float32)
    spec = WindowSpec(lookback=6, horizon=2, patch=1, highway=False)
    net_in, extra, _ = model_inputs(X, None, spec, (), known_future=ahead)
    np.testing.assert_allclose(net_in[:, :, 2], X[:, :, 2] - X[:, -1:, 2], rtol=1e-6)
    np.testing.assert_allclose(net_in[:, :, 1], X[:, :, 1])  # past-only features keep their level
    np.testing.assert_allclose(extra, ahead[:, :, 0] - X[:, -1:, 2], rtol=1e-6)
    assert extra.shape[1] == extra_width(spec, (), known=1)
