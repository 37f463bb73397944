"""One global model over many series: per-series scaling, windows from all, forecasts for all."""

from __future__ import annotations

import numpy as np

from rnncast import api
from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.io import SeriesSet

N_SERIES = 1_000
LENGTH = 40


def _many_series(seed: int = 0) -> SeriesSet:
    rng = np.random.default_rng(seed)
    levels = rng.uniform(-500, 5_000, N_SERIES)  # wildly different scales and levels
    amplitudes = rng.uniform(0.5, 50, N_SERIES)
    t = np.arange(LENGTH)
    phase = rng.uniform(0, 2 * np.pi, N_SERIES)[:, None]
    values = levels[:, None] + amplitudes[:, None] * np.sin(2 * np.pi * t / 7 + phase)  # (S, n)
    times = np.datetime64("2024-01-01", "ns") + (t * 86_400_000_000_000).astype("timedelta64[ns]")
    return SeriesSet(values=values.reshape(-1, 1), offsets=np.arange(N_SERIES + 1) * LENGTH,
                     ids=tuple(f"s{i:04d}" for i in range(N_SERIES)), times=np.tile(times, N_SERIES),
                     freq="D", tz=None, target="y", features=(), time_col="date", id_col="id",
                     filled=0, source="generated")


def test_global_model_over_a_thousand_series() -> None:
    series = _many_series()
    model = api.fit(series, window=WindowSpec(lookback=14, horizon=7, val_fraction=0.2), net=NetSpec(hidden=16),
                    train=TrainSpec(epochs=3, lr=3e-3, seed=0, batch_size=256))
    assert model.scaler.loc.shape == (N_SERIES, 1)  # each series scaled on its own
    # Training windows came from every series: (40 - 8 validation rows) - 14 - 7 + 1 each.
    assert model.metrics["train_windows"] == N_SERIES * (LENGTH - 8 - 14 - 7 + 1)
    table = api.forecast(model)
    assert len(table["forecast"]) == N_SERIES * 7
    assert list(np.unique(table["id"])) == list(series.ids)
    forecast = table["forecast"].reshape(N_SERIES, 7)
    actual_level = series.values[:, 0].reshape(N_SERIES, LENGTH)
    # Each forecast stays on its own series' scale: within the series' range, widened a bit.
    low = actual_level.min(axis=1, keepdims=True)
    high = actual_level.max(axis=1, keepdims=True)
    span = high - low
    inside = (forecast > low - span) & (forecast < high + span)
    assert inside.mean() > 0.99
    # And the model learned something global: it beats repeating the last value.
    assert model.metrics["val_mae"] < model.metrics["naive_val_mae"]


def _hourly(rows: int = 400) -> SeriesSet:
    t = np.arange(rows)
    values = 10 + 3 * np.sin(2 * np.pi * t / 24) + 0.01 * t
    times = np.datetime64("2024-01-01T00", "ns") + t * np.timedelta64(1, "h")
    return SeriesSet(values=values[:, None], offsets=np.array([0, rows]), ids=("y",), times=times, freq="h",
                     tz=None, target="y", features=(), time_col="time", id_col=None, filled=0, source="generated")


def test_hourly_data_is_fed_a_day_a_step_by_default_and_the_file_keeps_it(tmp_path) -> None:
    series, train = _hourly(), TrainSpec(epochs=1)
    model = api.fit(series, train=train, net=NetSpec(hidden=8))
    assert (model.window.lookback, model.window.patch) == (168, 24)
    assert model.net.inputs == 24  # one step of the recurrence reads a day of values
    api.save(model, tmp_path / "m.rnncast")
    loaded = api.load(tmp_path / "m.rnncast")
    assert loaded.window.patch == 24
    np.testing.assert_array_equal(api.forecast(loaded)["forecast"], api.forecast(model)["forecast"])
    single = api.fit(series, window=WindowSpec(patch=1), train=train, net=NetSpec(hidden=8))
    assert (single.window.patch, single.net.inputs) == (1, 1)
