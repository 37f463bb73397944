"""Known-in-advance columns (--known), per-series attributes (--static) and holidays, through the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast
from helpers import HORIZON, promo_panel, split
from rnncast.config import NetSpec, ReadSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, DataError

FAST_NET = NetSpec(hidden=16)
FAST_TRAIN = TrainSpec(epochs=30, patience=0, seed=0)
WINDOW = WindowSpec(lookback=28, horizon=HORIZON)
def mse(table: dict[str, np.ndarray], actual: pd.DataFrame) -> float:
    got = pd.DataFrame({"store": table["store"], "date": [str(t)[:10] for t in table["timestamp"]],
                        "forecast": table["forecast"]})
    merged = actual.merge(got, on=["store", "date"])
    assert len(merged) == len(actual)
    return float(((merged["sales"] - merged["forecast"]) ** 2).mean())


def test_known_and_static_columns_at_least_halve_the_error(tmp_path: Path) -> None:
    history, with_future, actual = split(promo_panel(), tmp_path)
    plain = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales"), window=WINDOW, net=FAST_NET,
                        train=FAST_TRAIN)
    informed = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales", known=("promo",),
                                                        static=("store_type",)),
                           window=WINDOW, net=FAST_NET, train=FAST_TRAIN)
    without = mse(rnncast.forecast(plain), actual)
    with_drivers = mse(rnncast.forecast(informed, with_future), actual)
    assert with_drivers <= 0.5 * without, (with_drivers, without)


def test_future_values_from_data_rows_or_a_future_file_agree(tmp_path: Path) -> None:
    history, with_future, actual = split(promo_panel(series=3, rows=80), tmp_path)
    actual.drop(columns=["sales", "store_type"]).to_csv(tmp_path / "future.csv", index=False)
    model = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales", known=("promo",)),
                        window=WINDOW, net=FAST_NET, train=TrainSpec(epochs=2))
    path = tmp_path / "m.rnncast"
    rnncast.save(model, path)
    loaded = rnncast.load(path)
    assert loaded.known == ("promo",)
    assert rnncast.describe(loaded)["columns"]["known"] == ["promo"]
    from_rows = rnncast.forecast(loaded, with_future)
    from_file = rnncast.forecast(loaded, history, future=tmp_path / "future.csv")
    stored = rnncast.forecast(loaded, future=tmp_path / "future.csv")  # the model's own history
    np.testing.assert_array_equal(from_rows["forecast"], from_file["forecast"])
    np.testing.assert_allclose(stored["forecast"], from_file["forecast"], rtol=1e-6)
    # The promotion flag moves the forecast: flipping the future flags changes it.
    flipped = actual.drop(columns=["sales", "store_type"]).assign(promo=lambda d: 1 - d["promo"])
    flipped.to_csv(tmp_path / "flipped.csv", index=False)
    assert not np.allclose(rnncast.forecast(loaded, history, future=tmp_path / "flipped.csv")["forecast"],
                           from_file["forecast"])


def test_without_future_values_the_error_names_series_column_and_timestamps(tmp_path: Path) -> None:
    history, _, _ = split(promo_panel(series=2, rows=60), tmp_path)
    model = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales", known=("promo",)),
                        window=WINDOW, net=FAST_NET, train=TrainSpec(epochs=1))
    with pytest.raises(DataError, match=r"series 's00' has no value of known column 'promo' for 2024-02-23, "
                                        r"2024-02-24, 2024-02-25 and 4 more"):
        rnncast.forecast(model)
    with pytest.raises(DataError, match="--future FILE"):
        rnncast.forecast(model, history)


def test_a_shorter_horizon_needs_only_its_steps(tmp_path: Path) -> None:
    history, with_future, actual = split(promo_panel(series=2, rows=60), tmp_path)
    model = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales", known=("promo",)),
                        window=WINDOW, net=FAST_NET, train=TrainSpec(epochs=1))
    keep = actual.groupby("store").cumcount() < 3
    actual[keep].drop(columns=["sales"]).to_csv(tmp_path / "three.csv", index=False)
    table = rnncast.forecast(model, history, future=tmp_path / "three.csv", horizon=3)
    assert len(table["forecast"]) == 2 * 3
    with pytest.raises(DataError, match="and 1 more"):
        rnncast.forecast(model, history, future=tmp_path / "three.csv", horizon=7)


def test_static_column_that_varies_within_a_series_is_refused(tmp_path: Path) -> None:
    panel = promo_panel(series=2, rows=40)
    panel.loc[5, "store_type"] = "flat"  # s00 is "growing" elsewhere
    panel.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(DataError, match=r"static column 'store_type' \(--static\) varies within series 's00': "
                                        r"'growing' in row 2, 'flat' in row 7"):
        rnncast.read(tmp_path / "p.csv", ReadSpec(id_col="store", target="sales", static=("store_type",)))


def test_unseen_category_is_forecast_and_noted(tmp_path: Path) -> None:
    history, with_future, _ = split(promo_panel(series=3, rows=60), tmp_path)
    model = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales", static=("store_type",)),
                        window=WINDOW, net=FAST_NET, train=TrainSpec(epochs=1))
    assert [c.categories for c in model.static] == [("flat", "growing", "shrinking")]
    assert rnncast.describe(model)["columns"]["static"] == ["store_type"]
    frame = pd.read_csv(history)
    extra = frame[frame["store"] == "s00"].assign(store="new", store_type="outlet")
    pd.concat([frame, extra]).to_csv(tmp_path / "new.csv", index=False)
    notes: list[str] = []
    table = rnncast.forecast(model, tmp_path / "new.csv", notes=notes)
    assert "new" in set(table["store"])
    assert any("'outlet' of series 'new' was not seen in the fit" in note for note in notes)


def test_numeric_static_is_scaled_and_stored(tmp_path: Path) -> None:
    panel = promo_panel(series=3, rows=60).assign(size=lambda d: d["store"].str[-1].astype(int) * 100)
    panel.to_csv(tmp_path / "p.csv", index=False)
    model = rnncast.fit(tmp_path / "p.csv", read_spec=ReadSpec(id_col="store", target="sales", static=("size",)),
                        window=WINDOW, net=FAST_NET, train=TrainSpec(epochs=1))
    assert model.static_values is not None
    np.testing.assert_allclose(model.static_values[:, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    rnncast.save(model, tmp_path / "m.rnncast")
    again = rnncast.load(tmp_path / "m.rnncast")
    np.testing.assert_array_equal(again.static_values, model.static_values)
    np.testing.assert_array_equal(rnncast.forecast(again)["forecast"], rnncast.forecast(model)["forecast"])


def test_holidays_are_a_known_input_computed_for_every_step() -> None:
    from rnncast.holiday_flags import check_code, flags

    days = np.array(["2024-07-03", "2024-07-04", "2024-12-25", "2024-12-26"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(flags(days, "US"), [0, 1, 1, 0])
    hourly = np.array(["2024-07-04T13:00", "2024-07-05T01:00"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(flags(hourly, "US"), [1, 0])
    assert check_code("de-by") == "DE-BY"
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    assert flags(np.array(["2025-01-06"], dtype="datetime64[ns]"), "DE-BY")[0] == 1
    assert flags(np.array(["2025-01-06"], dtype="datetime64[ns]"), "DE-BE")[0] == 0
    with pytest.raises(ConfigError, match="unknown country code 'XX'"):
        check_code("XX")
    with pytest.raises(ConfigError, match="DE has no region 'ZZ'; its regions are: BB, BE"):
        check_code("DE-ZZ")


def test_holiday_model_forecasts_from_its_history_alone(tmp_path: Path) -> None:
    history, _, _ = split(promo_panel(series=2, rows=60), tmp_path)
    model = rnncast.fit(history, read_spec=ReadSpec(id_col="store", target="sales"),
                        window=WindowSpec(lookback=28, horizon=HORIZON, holidays="us"), net=FAST_NET,
                        train=TrainSpec(epochs=1))
    assert model.window.holidays == "US" and model.known_columns == ("holiday[US]",)
    assert model.net.inputs == 2  # the target and the flag over the lookback
    rnncast.save(model, tmp_path / "h.rnncast")
    loaded = rnncast.load(tmp_path / "h.rnncast")
    np.testing.assert_array_equal(rnncast.forecast(loaded)["forecast"], rnncast.forecast(model)["forecast"])
    assert len(rnncast.forecast(loaded, history)["forecast"]) == 2 * HORIZON
    assert rnncast.describe(loaded)["window"]["holidays"] == "US"


def test_backtest_reads_each_folds_actual_known_values(tmp_path: Path) -> None:
    panel = promo_panel(series=12, rows=120)
    panel.to_csv(tmp_path / "p.csv", index=False)
    spec = ReadSpec(id_col="store", target="sales", known=("promo",), static=("store_type",))
    from rnncast import api
    from rnncast.config import BacktestSpec

    train = TrainSpec(epochs=40, patience=0)
    result = api.backtest(tmp_path / "p.csv", read_spec=spec, window=WINDOW, net=FAST_NET, train=train,
                          spec=BacktestSpec(folds=2))
    plain = api.backtest(tmp_path / "p.csv", read_spec=ReadSpec(id_col="store", target="sales"),
                         window=WINDOW, net=FAST_NET, train=train, spec=BacktestSpec(folds=2))
    assert result.summary["rnncast"]["mae"] < 0.8 * plain.summary["rnncast"]["mae"]


def test_update_keeps_the_covariates(tmp_path: Path) -> None:
    panel = promo_panel(series=3, rows=90)
    panel.groupby("store").head(70).to_csv(tmp_path / "old.csv", index=False)
    panel.to_csv(tmp_path / "all.csv", index=False)
    spec = ReadSpec(id_col="store", target="sales", known=("promo",), static=("store_type",))
    model = rnncast.fit(tmp_path / "old.csv", read_spec=spec, window=WINDOW, net=FAST_NET, train=TrainSpec(epochs=2))
    from rnncast import api

    updated = api.update(model, tmp_path / "all.csv", epochs=1)
    assert updated.known == ("promo",) and updated.static == model.static
    assert str(updated.last_times.max())[:10] == "2024-03-30"


def test_models_written_before_covariates_still_load_and_forecast_the_same() -> None:
    data = Path(__file__).parent / "data"
    model = rnncast.load(data / "model_0.1.0_before_covariates.rnncast")
    assert model.known == () and model.static == () and model.window.holidays is None
    table = rnncast.forecast(model, levels=(80,))
    expected = pd.read_csv(data / "model_0.1.0_before_covariates.forecast.csv")
    np.testing.assert_allclose(table["forecast"], expected["forecast"], rtol=1e-8)
    np.testing.assert_allclose(table["lower_80"], expected["lower_80"], rtol=1e-8)
