"""Any panel fits with defaults: series shorter than lookback + horizon are padded, never refused."""

from __future__ import annotations

import numpy as np
import pytest

from rnncast import api
from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.errors import DataError
from rnncast.io import SeriesSet
from rnncast.windows import padded_windows, spare_split


def _panel(lengths: tuple[int, ...], seed: int = 0) -> SeriesSet:
    """Monthly series of the given lengths: a level, a yearly season and noise each."""
    rng = np.random.default_rng(seed)
    values, times = [], []
    for s, n in enumerate(lengths):
        month = np.arange(n)
        values.append(10 + s + 3 * np.sin(2 * np.pi * month / 12) + 0.3 * rng.standard_normal(n))
        times.append(np.datetime64("2000-01", "M") + month)
    return SeriesSet(values=np.concatenate(values)[:, None], offsets=np.concatenate([[0], np.cumsum(lengths)]),
                     ids=tuple(f"s{n}" for n in lengths), times=np.concatenate(times).astype("datetime64[ns]"),
                     freq="MS", tz=None, target="y", features=(), time_col="month", id_col="series",
                     filled=0, source="panel")


def test_a_panel_of_10_30_50_and_500_rows_fits_with_defaults_and_forecasts_every_series() -> None:
    panel = _panel((10, 30, 50, 500))
    model = api.fit(panel, train=TrainSpec(epochs=3, seed=0))  # lookback 36 + horizon 12 by frequency
    assert model.window.steps == (36, 12)
    # 30 rows < 36 + 12: trained on padded windows; 10 rows: too few to train on, still forecast.
    assert model.metrics["padded_series"] == 1
    assert model.metrics["unvalidated_series"] == 3  # only the 500-row series can spare validation rows
    table = api.forecast(model, levels=[80])
    assert len(table["forecast"]) == 4 * 12
    forecasts = table["forecast"].reshape(4, 12)
    assert np.isfinite(forecasts).all()
    for s, n in enumerate((10, 30, 50, 500)):
        level = panel.values[panel.offsets[s]:panel.offsets[s + 1], 0].mean()
        assert abs(forecasts[s].mean() - level) < 5, (n, forecasts[s])  # near its own level, not another's
    # New data for the short series works too (padded history), as predict --data would give it.
    again = api.forecast(model, _panel((12, 30, 50, 500), seed=1))
    assert len(again["forecast"]) == 4 * 12


def test_a_panel_where_nothing_can_train_is_one_clear_error() -> None:
    with pytest.raises(DataError, match="no series has the 13 rows"):
        api.fit(_panel((5, 12)), window=WindowSpec(lookback=24, horizon=12), net=NetSpec(hidden=4),
                train=TrainSpec(epochs=1))


def test_validation_takes_only_what_a_series_can_spare() -> None:
    offsets = np.array([0, 100, 130, 400])  # 100, 30 and 270 rows
    train_ends, validated = spare_split(offsets, 0.2, lookback=24, horizon=12)
    # 100 rows: 20 to validation, 80 >= 36 left; 30 rows: 12 would leave 18 < 36, so none; 270: 54.
    np.testing.assert_array_equal(validated, [True, False, True])
    np.testing.assert_array_equal(train_ends, [80, 130, 346])
    assert (spare_split(offsets, 0.0, 24, 12)[0] == offsets[1:]).all()


def test_padded_windows_repeat_the_first_row_and_keep_real_targets() -> None:
    values = np.arange(10.0)[:, None]  # one series of 10 rows
    x, y, series, t = padded_windows(values, np.array([0, 10]), 4, 3, np.array([1]), np.array([7]))
    assert list(t) == [1, 2, 3, 4, 5, 6, 7] and (series == 0).all()
    np.testing.assert_array_equal(x[0, :, 0], [0, 0, 0, 0])  # target row 1: history is row 0, padded
    np.testing.assert_array_equal(x[2, :, 0], [0, 0, 1, 2])
    np.testing.assert_array_equal(x[-1, :, 0], [3, 4, 5, 6])  # full history: no padding
    np.testing.assert_array_equal(y[-1], [7, 8, 9])


def test_long_series_windows_are_those_of_make_windows() -> None:
    """Padding changes nothing for series long enough: the same windows, in the same order."""
    from rnncast.windows import make_windows

    rng = np.random.default_rng(0)
    values, offsets = rng.standard_normal((90, 2)), np.array([0, 40, 90])
    x_old, y_old, s_old = make_windows(values, offsets, 6, 3)
    x, y, s, _ = padded_windows(values, offsets, 6, 3, offsets[:-1] + 6, offsets[1:] - 3)
    np.testing.assert_array_equal(x, x_old)
    np.testing.assert_array_equal(y, y_old)
    np.testing.assert_array_equal(s, s_old)


def test_the_final_model_trains_on_every_row_and_keeps_honest_scores() -> None:
    """--refit-all: the validation rows train the forecasting model; scores and intervals stay the first fit's."""
    panel = _panel((200, 300))
    window, net = WindowSpec(lookback=24, horizon=6), NetSpec(hidden=8)
    reports: list = []
    both = api.fit(panel, window=window, net=net, train=TrainSpec(epochs=4, seed=0, patience=0),
                   on_epoch=reports.append)
    first_only = api.fit(panel, window=window, net=net, train=TrainSpec(epochs=4, seed=0, patience=0,
                                                                         refit_all=False))
    # Every window of the whole series, validation rows included: (n - 24 - 6 + 1) per series.
    assert both.metrics["refit_windows"] == (200 - 29) + (300 - 29)
    assert first_only.metrics["refit_windows"] == 0
    final = [r for r in reports if r.final]
    assert len(final) == both.metrics["best_epoch"] and len(reports) == 4 + len(final)
    # Scored and calibrated by the first model, on rows it did not train on: the same as without the refit.
    assert both.metrics["val_mae"] == first_only.metrics["val_mae"]
    np.testing.assert_array_equal(both.intervals, first_only.intervals)
    # The forecasting weights are the refit's.
    assert not np.array_equal(both.params["head.weight"], first_only.params["head.weight"])
