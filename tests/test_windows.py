"""Scalers and sliding windows: counts, contents, split boundaries and round trips."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncast.errors import ConfigError, DataError
from rnncast.windows import (
    ScalerStats,
    choose_scaler,
    fit_scaler,
    last_windows,
    make_windows,
    scale,
    train_val_split,
    unscale_target,
)


def stacked(lengths: list[int], n_cols: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return rng.normal(size=(offsets[-1], n_cols)) * 10 + 3, offsets


@pytest.mark.parametrize(("lookback", "horizon"), [(1, 1), (3, 2), (5, 4)])
def test_window_count_and_content(lookback: int, horizon: int) -> None:
    lengths = [lookback + horizon, 12, 20, lookback + horizon + 1]
    values, offsets = stacked(lengths, n_cols=3)
    x, y, series = make_windows(values, offsets, lookback, horizon)
    assert x.shape == (len(series), lookback, 3) and y.shape == (len(series), horizon)
    assert x.dtype == np.float32 and y.dtype == np.float32 and series.dtype == np.int64
    counts = np.bincount(series, minlength=len(lengths))
    np.testing.assert_array_equal(counts, [n - lookback - horizon + 1 for n in lengths])
    # Each window, read back from the source rows by a plain loop.
    w = 0
    for s, n in enumerate(lengths):
        for r in range(offsets[s], offsets[s] + n - lookback - horizon + 1):
            np.testing.assert_array_equal(x[w], values[r : r + lookback].astype(np.float32))
            np.testing.assert_array_equal(y[w], values[r + lookback : r + lookback + horizon, 0].astype(np.float32))
            assert series[w] == s
            w += 1
    assert w == len(series)


def test_windows_never_cross_series() -> None:
    # Series values are their own index: a window mixing two series would mix numbers.
    lengths = [7, 9, 8]
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    values = np.repeat(np.arange(3.0), lengths)[:, None]
    x, y, series = make_windows(values, offsets, 3, 2)
    assert (x[:, :, 0] == series[:, None]).all() and (y == series[:, None]).all()


def test_short_series_error_names_series_and_counts() -> None:
    values, offsets = stacked([30, 5, 30])
    with pytest.raises(DataError, match=r"series 'b' has 5 rows but lookback 4 \+ horizon 3 needs at least 7"):
        make_windows(values, offsets, 4, 3, ids=("a", "b", "c"))
    with pytest.raises(DataError, match="series 'b'"):
        train_val_split(offsets, 0.2, 4, 3, ids=("a", "b", "c"))


def test_many_series_is_quick() -> None:
    values, offsets = stacked([2000] * 1000, n_cols=1)
    start = time.perf_counter()
    x, y, series = make_windows(values, offsets, 24, 12)
    elapsed = time.perf_counter() - start
    assert len(series) == 1000 * (2000 - 24 - 12 + 1)
    assert elapsed < 5.0, f"make_windows took {elapsed:.2f}s for 1,000 series"
    del x, y


@pytest.mark.parametrize("val_fraction", [0.1, 0.2, 0.5])
def test_split_keeps_validation_targets_out_of_training(val_fraction: float) -> None:
    lookback, horizon = 6, 3
    lengths = [40, 25, 100]
    values, offsets = stacked(lengths, n_cols=1)
    train_ends, val_starts = train_val_split(offsets, val_fraction, lookback, horizon)
    np.testing.assert_array_equal(val_starts, train_ends - lookback)
    # Mark each row with its own index to see which rows each window touches.
    rows = np.arange(offsets[-1], dtype=np.float64)[:, None]
    _, y_train, s_train = make_windows(rows, offsets, lookback, horizon, ends=train_ends)
    x_val, y_val, s_val = make_windows(rows, offsets, lookback, horizon, starts=val_starts)
    assert (y_train < train_ends[s_train][:, None]).all()  # no training target is a validation row
    assert (y_val >= train_ends[s_val][:, None]).all()  # validation targets are validation rows only
    for s, n in enumerate(lengths):
        n_val = offsets[s + 1] - train_ends[s]
        assert n_val == max(horizon, round(val_fraction * n))
        # Every validation row is some window's target; inputs reach back into training.
        assert set(np.unique(y_val[s_val == s])) == set(range(train_ends[s], offsets[s + 1]))
        assert x_val[s_val == s].min() == train_ends[s] - lookback
        assert (s_train == s).sum() == (train_ends[s] - offsets[s]) - lookback - horizon + 1


def test_zero_validation_fraction_gives_no_validation_windows() -> None:
    values, offsets = stacked([20, 30])
    train_ends, val_starts = train_val_split(offsets, 0.0, 4, 2)
    np.testing.assert_array_equal(train_ends, offsets[1:])
    x, _, _ = make_windows(values, offsets, 4, 2, starts=val_starts)
    assert len(x) == 0


def test_split_too_short_for_validation_says_what_remains() -> None:
    _, offsets = stacked([12])
    with pytest.raises(DataError, match=r"has 12 rows: after its last 3 .* 9 remain, .* needs 10"):
        train_val_split(offsets, 0.2, 7, 3, ids=("x",))


def test_bad_val_fraction_is_config_error() -> None:
    _, offsets = stacked([50])
    with pytest.raises(ConfigError, match="--val-fraction"):
        train_val_split(offsets, 1.0, 2, 2)


@pytest.mark.parametrize("kind", ["standard", "diff", "minmax"])
def test_scaler_uses_training_rows_only(kind: str) -> None:
    values, offsets = stacked([50, 60], n_cols=2)
    train_ends, _ = train_val_split(offsets, 0.3, 5, 2)
    stats = fit_scaler(kind, values, offsets, train_ends)
    changed = values.copy()
    for s in range(2):
        changed[train_ends[s] : offsets[s + 1]] = 1e6  # wild validation values
    again = fit_scaler(kind, changed, offsets, train_ends)
    np.testing.assert_array_equal(stats.loc, again.loc)
    np.testing.assert_array_equal(stats.scale, again.scale)
    # And training values do matter.
    changed[offsets[0]] = -1e3  # a new minimum and a new mean
    moved = fit_scaler(kind, changed, offsets, train_ends)
    assert not np.array_equal(moved.loc, stats.loc)


def test_standard_scaler_gives_zero_mean_unit_std_on_training_rows() -> None:
    values, offsets = stacked([40, 70], n_cols=3)
    train_ends, _ = train_val_split(offsets, 0.25, 4, 2)
    scaled = scale(values, offsets, fit_scaler("standard", values, offsets, train_ends))
    for s in range(2):
        part = scaled[offsets[s] : train_ends[s]]
        np.testing.assert_allclose(part.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(part.std(axis=0), 1.0, rtol=1e-12)


def test_diff_scales_the_target_by_its_mean_step_and_the_other_columns_by_their_std() -> None:
    trend = np.arange(40.0) * 5.0 + np.sin(np.arange(40.0))  # a std of about 58, steps of about 5
    flags = (np.arange(40) % 17 == 0).astype(float)  # rare changes: a 0/1 column keeps its std
    values, offsets = np.column_stack([trend, flags]), np.array([0, 40])
    train_ends = np.array([30])
    stats = fit_scaler("diff", values, offsets, train_ends)
    np.testing.assert_allclose(stats.scale[0, 0], np.abs(np.diff(trend[:30])).mean(), rtol=1e-12)
    np.testing.assert_allclose(stats.scale[0, 1], flags[:30].std(), rtol=1e-12)
    np.testing.assert_allclose(stats.loc[0], values[:30].mean(axis=0), rtol=1e-12)
    standard = fit_scaler("standard", values, offsets, train_ends)
    assert stats.scale[0, 0] < standard.scale[0, 0] / 5  # the trend no longer sets the scale


def test_diff_scaler_of_one_row_or_a_constant_series_gets_scale_one() -> None:
    values, offsets = np.array([[4.0], [7.0], [7.0], [7.0]]), np.array([0, 1, 4])
    stats = fit_scaler("diff", values, offsets, offsets[1:])
    np.testing.assert_array_equal(stats.scale[:, 0], [1.0, 1.0])


@pytest.mark.parametrize(("kind", "freq", "chosen"), [
    ("auto", "YS-JAN", "diff"), ("auto", "YE-DEC", "diff"), ("auto", "Y", "diff"), ("auto", "MS", "standard"),
    ("auto", "QS-OCT", "standard"), ("auto", "D", "standard"), ("auto", "h", "standard"),
    ("standard", "YS", "standard"), ("minmax", "YS", "minmax"), ("diff", "D", "diff"),
])
def test_auto_scaler_takes_diff_for_yearly_data_only(kind, freq, chosen) -> None:
    assert choose_scaler(kind, freq) == chosen


def test_auto_must_be_resolved_before_a_scaler_is_fitted() -> None:
    with pytest.raises(ConfigError, match="--scaler must be one of standard, diff, minmax, none"):
        fit_scaler("auto", *stacked([10]), np.array([10]))


def test_minmax_maps_training_rows_to_unit_interval() -> None:
    values, offsets = stacked([40, 70], n_cols=2)
    ends = offsets[1:]
    scaled = scale(values, offsets, fit_scaler("minmax", values, offsets, ends))
    for s in range(2):
        part = scaled[offsets[s] : offsets[s + 1]]
        np.testing.assert_allclose(part.min(axis=0), 0.0, atol=1e-15)
        np.testing.assert_allclose(part.max(axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("kind", ["standard", "diff", "minmax"])
@pytest.mark.parametrize("constant", [0.0, 0.1, -123456.789])
def test_constant_series_gets_scale_one(kind: str, constant: float) -> None:
    values = np.full((30, 1), constant)
    offsets = np.array([0, 30])
    stats = fit_scaler(kind, values, offsets, offsets[1:])
    assert stats.scale[0, 0] == 1.0
    scaled = scale(values, offsets, stats)
    assert np.isfinite(scaled).all() and np.abs(scaled).max() < 1e-9


def test_none_scaler_is_identity() -> None:
    values, offsets = stacked([10, 12])
    stats = fit_scaler("none", values, offsets, offsets[1:])
    np.testing.assert_array_equal(scale(values, offsets, stats), values)


def test_stats_are_immutable_and_validated() -> None:
    stats = fit_scaler("standard", *stacked([10]), np.array([10]))
    with pytest.raises(ValueError):
        stats.loc[0, 0] = 1.0
    with pytest.raises(ValueError, match="positive scale"):
        ScalerStats("standard", np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ConfigError, match="--scaler"):
        fit_scaler("robust", *stacked([10]), np.array([10]))


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(["standard", "diff", "minmax", "none"]),
    lengths=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=4),
    data=st.data(),
)
def test_scale_then_unscale_round_trip(kind: str, lengths: list[int], data: st.DataObject) -> None:
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    values = data.draw(hnp.arrays(np.float64, (int(offsets[-1]), 2), elements=finite))
    stats = fit_scaler(kind, values, offsets, offsets[1:])
    scaled = scale(values, offsets, stats)
    series = np.repeat(np.arange(len(lengths)), lengths)
    back = unscale_target(scaled[:, 0], series, stats)
    np.testing.assert_allclose(back, values[:, 0], rtol=1e-9, atol=1e-6)
    # The (W, K) shape the network produces unscales the same way, row by row.
    block = np.repeat(scaled[:, :1], 3, axis=1)
    expected = np.repeat(values[:, :1], 3, axis=1)
    np.testing.assert_allclose(unscale_target(block, series, stats), expected, rtol=1e-9, atol=1e-6)


def test_last_windows_are_each_series_tail() -> None:
    values, offsets = stacked([10, 6, 8], n_cols=2)
    tails = last_windows(values, offsets, 4)
    assert tails.shape == (3, 4, 2) and tails.dtype == np.float32
    for s in range(3):
        np.testing.assert_array_equal(tails[s], values[offsets[s + 1] - 4 : offsets[s + 1]].astype(np.float32))
    with pytest.raises(DataError, match="series 'b' has 6 rows"):
        last_windows(values, offsets, 7, ids=("a", "b", "c"))


@pytest.mark.parametrize("rows", [1, 7, 100, 1 << 20])
def test_scale32_in_blocks_is_scale_in_float32(rows: int) -> None:
    from rnncast.windows import scale32

    rng = np.random.default_rng(0)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(1, 50, 300))])
    values = rng.normal(size=(offsets[-1], 2)) * 100
    stats = fit_scaler("standard", values, offsets, offsets[1:])
    expected = scale(values, offsets, stats).astype(np.float32)
    np.testing.assert_array_equal(scale32(values, offsets, stats, rows), expected)
