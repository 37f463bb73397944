"""One model per group (`fit --by`): each group fitted as its rows alone would be, one file, predict and info.

Wiring and invariants on tiny networks: a group's weights equal a plain fit of its rows,
a group file's forecasts equal those of the groups' own models, and every user error is
one line with exit code 2.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import TINY, fit_tiny, long_csv, promo_panel, run, split
from rnncast import api
from rnncast.config import NetSpec, ReadSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, ModelFileError
from rnncast.groupfile import group_bytes, group_from_bytes, group_parts
from rnncast.groups import ModelGroup

REGIONS = {"a": "north", "b": "south", "c": "north", "d": "south"}
K = 4
SPECS = dict(window=WindowSpec(lookback=12, horizon=K), net=NetSpec(hidden=8), train=TrainSpec(epochs=2))


def assert_user_error(result, *words: str) -> None:
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("rnncast: error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def models_of(loaded: object) -> ModelGroup:
    assert isinstance(loaded, ModelGroup)
    return loaded


@pytest.fixture(scope="module")
def regional(work: Path) -> pd.DataFrame:
    frame = pd.read_csv(long_csv(work / "long.csv", ids=tuple(REGIONS)))
    return frame.assign(region=frame["store"].map(REGIONS), zone=frame["store"].map({"a": 1, "b": 2, "c": 1, "d": 2}))


@pytest.fixture(scope="module")
def regional_csv(work: Path, regional: pd.DataFrame) -> Path:
    regional.to_csv(work / "regional.csv", index=False)
    return work / "regional.csv"


@pytest.fixture(scope="module")
def group_model(work: Path, regional_csv: Path) -> Path:
    return fit_tiny(regional_csv, work / "regions.rnncast", "--id-col", "store", "--target", "sales",
                    "--by", "region", "-q")


@pytest.fixture(scope="module")
def alone_models(work: Path, regional: pd.DataFrame) -> dict[str, Path]:
    """Each region's rows alone in a file, fitted without --by."""
    out = {}
    for region in ("north", "south"):
        regional[regional["region"] == region].to_csv(work / f"{region}.csv", index=False)
        out[region] = fit_tiny(work / f"{region}.csv", work / f"{region}.rnncast", "--id-col", "store",
                               "--target", "sales", "-q")
    return out


# --------------------------------------------------------------------------- fitting


def test_each_group_is_a_plain_fit_of_its_rows(group_model: Path, alone_models: dict[str, Path]) -> None:
    group = models_of(api.load(group_model))
    assert (group.by, group.values) == ("region", ("north", "south"))
    for value, member in zip(group.values, group.models):
        alone = api.load(alone_models[value])
        assert isinstance(alone, api.Model)
        assert member.ids == alone.ids == tuple(s for s, r in REGIONS.items() if r == value)
        assert member.params.keys() == alone.params.keys()
        for name in alone.params:
            np.testing.assert_array_equal(member.params[name], alone.params[name])
        assert member.data_fingerprint == alone.data_fingerprint and member.lineage == alone.lineage
        np.testing.assert_array_equal(member.intervals, alone.intervals)
        timeless = {k: v for k, v in alone.metrics.items() if k != "train_seconds"}
        assert {k: member.metrics[k] for k in timeless} == timeless


def test_fit_says_each_group_and_summarises_them(work: Path, regional_csv: Path) -> None:
    result = run("fit", regional_csv, *TINY, "--id-col", "store", "--target", "sales", "--by", "region",
                 "-o", work / "said.rnncast")
    assert result.exit_code == 0, result.stderr
    assert "group 1/2: region 'north' (2 series)" in result.stderr
    assert "group 2/2: region 'south' (2 series)" in result.stderr
    assert "groups          2 by 'region'" in result.stderr


def test_any_mapper_gives_the_same_models(regional_csv: Path) -> None:
    spec = ReadSpec(id_col="store", target="sales")
    seen: list[str] = []

    def backwards(fit_one, values, parts):  # noqa: ANN001, ANN202  (fits the last group first, as a pool may)
        done = {value: fit_one(value, part) for value, part in reversed(list(zip(values, parts)))}
        seen.extend(done)
        return [done[value] for value in values]

    in_order = api.fit_groups(regional_csv, by="region", read_spec=spec, **SPECS)
    shuffled = api.fit_groups(regional_csv, by="region", read_spec=spec, mapper=backwards, **SPECS)
    assert seen == ["south", "north"] and shuffled.values == in_order.values
    for first, second in zip(in_order.models, shuffled.models):
        for name in first.params:
            np.testing.assert_array_equal(first.params[name], second.params[name])


def test_numbers_as_groups_are_stored_as_text(work: Path, regional_csv: Path) -> None:
    group = api.fit_groups(regional_csv, by="zone", read_spec=ReadSpec(id_col="store", target="sales"), **SPECS)
    assert group.values == ("1", "2") and group.models[0].ids == ("a", "c")
    api.save(group, work / "zones.rnncast")
    table = api.forecast(api.load(work / "zones.rnncast"))
    assert list(table)[:2] == ["zone", "store"] and set(table["zone"]) == {"1", "2"}


# ---------------------------------------------------------------------------- predict


def read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype={"region": str, "timestamp": str})


def test_predict_is_each_groups_own_predict(group_model: Path, alone_models: dict[str, Path]) -> None:
    for extra in ([], ["--horizon", "2", "--level", "80"]):
        result = run("predict", group_model, *extra)
        assert result.exit_code == 0, result.stderr
        got = read_csv(result.stdout)
        assert list(got.columns)[:2] == ["region", "store"]
        parts = [read_csv(run("predict", alone_models[r], *extra).stdout).assign(region=r) for r in ("north", "south")]
        expected = pd.concat(parts, ignore_index=True)[list(got.columns)]
        pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_predict_formats(group_model: Path, work: Path, fmt: str) -> None:
    out = work / f"regions.{fmt}"
    result = run("predict", group_model, "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.stderr
    frame = pd.DataFrame(json.loads(out.read_text())) if fmt == "json" else pd.read_parquet(out)
    assert list(frame.columns)[:2] == ["region", "store"] and len(frame) == len(REGIONS) * K
    assert list(dict.fromkeys(frame["region"])) == ["north", "south"]


def test_predict_data_routes_series_and_leaves_out_unknown_groups(group_model: Path, alone_models: dict[str, Path],
                                                                  regional: pd.DataFrame, work: Path) -> None:
    moved = regional.assign(region=regional["region"].where(regional["store"] != "d", "west"))
    moved.to_csv(work / "moved.csv", index=False)
    result = run("predict", group_model, "--data", work / "moved.csv")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "note" in line]
    assert notes == ["rnncast: note: series 'd' left out: no model for region 'west' "
                     "(the models are for 'north', 'south')"]
    got = read_csv(result.stdout)
    assert list(dict.fromkeys(got["store"])) == ["a", "c", "b"]
    south = read_csv(run("predict", alone_models["south"], "--data", work / "moved.csv").stdout)
    np.testing.assert_allclose(got[got["store"] == "b"]["forecast"], south[south["store"] == "b"]["forecast"])


def test_predict_data_errors(group_model: Path, regional: pd.DataFrame, work: Path) -> None:
    regional.drop(columns="region").to_csv(work / "no_region.csv", index=False)
    assert_user_error(run("predict", group_model, "--data", work / "no_region.csv"),
                      "the model's --by column 'region' is not in the file")
    changing = regional.copy()
    changing.loc[changing.index[-1], "region"] = "north"  # store d's last row
    changing.to_csv(work / "changing.csv", index=False)
    assert_user_error(run("predict", group_model, "--data", work / "changing.csv"),
                      "column 'region' (--by) varies within series 'd'", "'south' in row", "'north' in row")
    regional.assign(region="east").to_csv(work / "east.csv", index=False)
    assert_user_error(run("predict", group_model, "--data", work / "east.csv"), "no series belongs to a group")


def test_predict_future_goes_to_each_groups_series(tmp_path: Path) -> None:
    history, with_future, actual = split(promo_panel(series=6, rows=80), tmp_path)
    by_type = fit_tiny(history, tmp_path / "types.rnncast", "--id-col", "store", "--target", "sales",
                       "--known", "promo", "--by", "store_type", "--horizon", "7", "-q")
    actual.drop(columns="sales").to_csv(tmp_path / "plan.csv", index=False)
    from_file = run("predict", by_type, "--future", tmp_path / "plan.csv")
    assert from_file.exit_code == 0, from_file.stderr
    from_stdin = run("predict", by_type, "--future", "-", input=(tmp_path / "plan.csv").read_bytes())
    from_data = run("predict", by_type, "--data", with_future)
    assert from_file.stdout == from_stdin.stdout == from_data.stdout
    got = read_csv(from_file.stdout)
    assert list(dict.fromkeys(got["store_type"])) == ["growing", "flat", "shrinking"] and len(got) == 6 * 7


# ------------------------------------------------------------------------------ info


def test_info_text_and_json(group_model: Path) -> None:
    text = run("info", group_model)
    assert text.exit_code == 0, text.stderr
    for expected in ("by: region", "groups: north, south", "lookback: 12", "hidden: 8", "per_group:", "  north:",
                     "    series: 2", "val_mae:"):
        assert expected in text.stdout, expected
    assert text.stdout.count("lookback: 12") == 1  # the shared blocks once
    described = json.loads(run("info", group_model, "--json").stdout)
    assert described["by"] == "region" and described["groups"] == ["north", "south"] and described["series"] == 4
    assert described["network"]["hidden"] == 8 and described["window"]["lookback"] == 12
    for region in ("north", "south"):
        own = described["per_group"][region]
        assert own["series"] == 2 and "val_mae" in own["metrics"] and "network" not in own


# ---------------------------------------------------------------------------- errors


def test_varying_group_within_a_series_is_refused(regional: pd.DataFrame, work: Path) -> None:
    changing = regional.copy()
    changing.loc[3, "region"] = "south"  # a row of store a
    changing.to_csv(work / "varying.csv", index=False)
    result = run("fit", work / "varying.csv", *TINY, "--id-col", "store", "--target", "sales", "--by", "region")
    assert_user_error(result, "varying.csv", "column 'region' (--by) varies within series 'a'", "'north' in row 2",
                      "'south' in row 5")


@pytest.mark.parametrize(("extra", "words"), [
    (("--by", "region"), ["--by region", "--id-col"]),
    (("--id-col", "store", "--by", "sales"), ["'sales' is given more than one role"]),
    (("--id-col", "store", "--by", "store"), ["'store' is given more than one role"]),
    (("--id-col", "store", "--static", "region", "--by", "region"), ["'region' is given more than one role"]),
    (("--id-col", "store", "--by", "place"), ["column 'place' (--by) not found"]),
])
def test_fit_by_errors(regional_csv: Path, extra: tuple[str, ...], words: list[str]) -> None:
    assert_user_error(run("fit", regional_csv, *TINY, "--target", "sales", *extra), *words)


def test_plot_and_update_refuse_group_files(group_model: Path, regional_csv: Path, work: Path) -> None:
    assert_user_error(run("plot", group_model, "-o", work / "p.png"), "plot does not support models fitted with --by",
                      "fit its rows alone")
    assert_user_error(run("update", group_model, regional_csv), "update does not support models fitted with --by")
    with pytest.raises(ConfigError, match="update does not support"):
        api.update(api.load(group_model), regional_csv)


def test_damaged_group_file_is_refused(group_model: Path, tmp_path: Path) -> None:
    raw = bytearray(group_model.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    damaged = tmp_path / "damaged.rnncast"
    damaged.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="corrupt"):
        api.load(damaged)
    for command in ("predict", "info"):
        assert_user_error(run(command, damaged), str(damaged), "corrupt")


def test_every_member_is_checked_as_a_model(group_model: Path, tmp_path: Path) -> None:
    from rnncast import format

    header, arrays = group_parts(models_of(api.load(group_model)))
    arrays["group1/history/values"] = arrays["group1/history/values"][:1]
    format.save_model(tmp_path / "bad.rnncast", header, arrays)
    with pytest.raises(ModelFileError, match=r"bad.rnncast \(group 'south'\) is not a usable rnncast model"):
        api.load(tmp_path / "bad.rnncast")
    header, arrays = group_parts(models_of(api.load(group_model)))
    format.save_model(tmp_path / "short.rnncast", {**header, "groups": ["north"]}, arrays)
    with pytest.raises(ModelFileError, match="not a usable rnncast model group"):
        api.load(tmp_path / "short.rnncast")


def test_a_series_set_without_its_by_column_is_refused(regional_csv: Path) -> None:
    series = api.read(regional_csv, ReadSpec(id_col="store", target="sales"))
    with pytest.raises(ConfigError, match="read it with ReadSpec"):
        api.fit_groups(series, by="region", **SPECS)
    with pytest.raises(ConfigError, match="--id-col"):
        api.fit_groups(regional_csv, by="region", read_spec=ReadSpec(target="sales"), **SPECS)


# ------------------------------------------------------------------------ round trip


def test_save_load_round_trip(group_model: Path, tmp_path: Path) -> None:
    group = models_of(api.load(group_model))
    api.save(group, tmp_path / "again.rnncast")
    again = models_of(api.load(tmp_path / "again.rnncast"))
    sent = group_from_bytes(group_bytes(group))
    for other in (again, sent):
        assert (other.by, other.values) == (group.by, group.values)
        for first, second in zip(group.models, other.models):
            for name in first.params:
                np.testing.assert_array_equal(first.params[name], second.params[name])
        first_table, second_table = api.forecast(group, levels=[80]), api.forecast(other, levels=[80])
        for name in first_table:
            np.testing.assert_array_equal(first_table[name], second_table[name])
    single = api.load(fit_tiny(long_csv(tmp_path / "plain.csv"), tmp_path / "plain.rnncast", "--id-col", "store"))
    assert isinstance(single, api.Model)  # a file of one model loads as before
