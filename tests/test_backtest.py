"""Backtest: folds see nothing after their origin; baselines and metrics line up."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnncast import api
from rnncast.backtesting import cut, origins
from rnncast.config import BacktestSpec, NetSpec, TrainSpec, WindowSpec
from rnncast.errors import DataError
from rnncast.io import SeriesSet

FAST = dict(window=WindowSpec(lookback=12, horizon=4, val_fraction=0.3), net=NetSpec(hidden=8),
            train=TrainSpec(epochs=2, seed=1))


def _series(n: int = 200, ids: tuple[str, ...] = ("a", "b"), seed: int = 0) -> SeriesSet:
    rng = np.random.default_rng(seed)
    values, times = [], []
    for s in range(len(ids)):
        t = np.arange(n)
        values.append(10 + s + np.sin(t / 3) + 0.1 * rng.standard_normal(n))
        times.append(np.datetime64("2024-01-01") + t.astype("timedelta64[D]"))
    offsets = np.arange(len(ids) + 1) * n
    return SeriesSet(values=np.concatenate(values)[:, None], offsets=offsets, ids=ids,
                     times=np.concatenate(times).astype("datetime64[ns]"), freq="D", tz=None, target="y",
                     features=(), time_col="t", id_col="id", filled=0, source="test")


def test_origins_and_cut() -> None:
    series = _series(50, ("a",))
    at = origins(series, folds=3, step=5, horizon=4)
    np.testing.assert_array_equal(at[:, 0], [36, 41, 46])  # the last fold forecasts the last 4 rows
    part = cut(series, at[0])
    assert part.offsets.tolist() == [0, 36]
    np.testing.assert_array_equal(part.values, series.values[:36])


@pytest.mark.parametrize("refit", [True, False])
def test_no_fold_sees_data_after_its_origin(refit: bool) -> None:
    series = _series()
    base = api.backtest(series, spec=BacktestSpec(folds=2, step=4, refit=refit), **FAST)
    # Overwrite every row after fold 0's targets: if the model or a baseline of fold 0
    # had seen any of them, fold 0's scores would change.
    at = origins(series, 2, 4, 4)
    values_future = series.values.copy()
    for s in range(len(series.ids)):
        values_future[at[0, s] + 4 : series.offsets[s + 1]] = -1e6
    first_fold_only = [r for r in base.rows if r["fold"] == 0]
    changed = api.backtest(dataclasses.replace(series, values=values_future),
                           spec=BacktestSpec(folds=2, step=4, refit=refit), **FAST)
    assert [r for r in changed.rows if r["fold"] == 0] == first_fold_only


def test_baselines_and_summary() -> None:
    series = _series()
    result = api.backtest(series, spec=BacktestSpec(folds=3, season=7), **FAST)
    methods = {r["method"] for r in result.rows}
    assert methods == {"rnncast", "naive", "seasonal_naive", "drift"}
    assert len(result.rows) == 3 * 2 * 4  # folds x series x methods
    naive = [r for r in result.rows if r["method"] == "naive"]
    # MASE of the naive forecast scaled by the in-sample naive error is its MAE over that scale.
    for row in naive:
        assert row["mase"] > 0 and np.isfinite(row["mae"])
    assert result.summary["rnncast"]["coverage_80"] is not None
    assert 0 <= result.summary["rnncast"]["coverage_95"] <= 1


def test_too_short_for_the_folds() -> None:
    with pytest.raises(DataError, match="folds"):
        api.backtest(_series(24), spec=BacktestSpec(folds=5, step=4), **FAST)


def test_without_refit_later_folds_widen_intervals_on_wilder_new_rows() -> None:
    # Calm up to the single fit (before fold 0's origin, row 216), then 20 times wilder.
    series = _series(300, ("a",))
    wild = series.values.copy()
    wild[216:, 0] += 2.0 * np.random.default_rng(3).standard_normal(300 - 216)
    result = api.backtest(dataclasses.replace(series, values=wild),
                          spec=BacktestSpec(folds=3, step=40, refit=False, levels=(80,)), **FAST)
    width = {r["fold"]: r["width_80"] for r in result.rows if r["method"] == "rnncast"}
    # Fold 0 forecasts from the fit's end: nothing new yet. Fold 2 has 80 wild rows behind it.
    assert width[2] > 1.5 * width[0]


def test_the_package_level_backtest_stays_the_function_after_a_call(tmp_path) -> None:
    # A submodule named like an API function would replace it on the package once imported.
    import rnncast
    from helpers import daily_csv

    path = daily_csv(tmp_path / "d.csv", n=80)
    spec = rnncast.BacktestSpec(folds=1)
    window, train = rnncast.WindowSpec(lookback=12, horizon=4), rnncast.TrainSpec(epochs=1)
    first = rnncast.backtest(path, window=window, train=train, spec=spec)
    again = rnncast.backtest(path, window=window, train=train, spec=spec)
    assert callable(rnncast.backtest) and first.summary.keys() == again.summary.keys()
