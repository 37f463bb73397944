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
