"""DATA as a folder (flat or hive-partitioned) or a glob of Parquet or CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast
from helpers import promo_panel, run
from rnncast.config import ReadSpec
from rnncast.errors import DataError

SPEC = ReadSpec(id_col="store", target="sales", known=("promo",), static=("store_type",))


@pytest.fixture()
def panel(tmp_path: Path) -> pd.DataFrame:
    frame = promo_panel(series=4, rows=60)
    frame.to_csv(tmp_path / "one.csv", index=False)
    return frame


def same(a, b) -> None:
    for name in ("values", "offsets", "times"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.ids == b.ids and dict(a.statics).keys() == dict(b.statics).keys()


def test_hive_partitioned_parquet_with_series_split_across_files_reads_as_one_file(tmp_path: Path, panel) -> None:
    panel = panel.assign(region=np.where(panel["store"].isin(["s00", "s01"]), "eu", "us"))
    for region, rows in panel.groupby("region"):
        folder = tmp_path / "hive" / f"region={region}"
        folder.mkdir(parents=True)
        half = len(rows) // 2 + 7  # each region's second store straddles the two files
        rows.drop(columns="region").iloc[:half].to_parquet(folder / "part-0.parquet", index=False)
        rows.drop(columns="region").iloc[half:].to_parquet(folder / "part-1.parquet", index=False)
    (tmp_path / "hive" / "_SUCCESS").write_text("")  # Spark's marker files are not data
    read = rnncast.read(tmp_path / "hive", SPEC)
    same(read, rnncast.read(tmp_path / "one.csv", SPEC))
    with_region = rnncast.read(tmp_path / "hive", ReadSpec(id_col="store", target="sales", static=("region",)))
    assert list(with_region.statics["region"]) == ["eu", "eu", "us", "us"]


def test_a_glob_of_csv_files_and_the_cli(tmp_path: Path, panel) -> None:
    (tmp_path / "flat").mkdir()
    for i, rows in enumerate((panel.iloc[:100], panel.iloc[100:170], panel.iloc[170:])):
        rows.to_csv(tmp_path / "flat" / f"part-{i}.csv", index=False)
    same(rnncast.read(str(tmp_path / "flat" / "*.csv"), SPEC), rnncast.read(tmp_path / "one.csv", SPEC))
    options = ["--id-col", "store", "--target", "sales", "--lookback", "14", "--horizon", "7", "--hidden", "4",
               "--epochs", "1", "--quiet"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert run("fit", "flat/*.csv", *options).exit_code == 0
        assert (tmp_path / "flat.rnncast").exists()  # named after the folder the glob looks in
        folder = run("predict", "flat.rnncast", "--data", "flat")
        single = run("predict", "flat.rnncast", "--data", "one.csv")
    assert folder.exit_code == 0 and folder.stdout == single.stdout


def test_folder_errors_name_the_file(tmp_path: Path, panel) -> None:
    (tmp_path / "bad").mkdir()
    panel.iloc[:100].to_csv(tmp_path / "bad" / "a.csv", index=False)
    broken = panel.iloc[100:].astype({"sales": object})
    broken.iloc[3, broken.columns.get_loc("sales")] = "oops"
    broken.to_csv(tmp_path / "bad" / "b.csv", index=False)
    with pytest.raises(DataError, match=r"b\.csv: row 5: column 'sales' has 'oops', which is not a number"):
        rnncast.read(tmp_path / "bad", SPEC)
    panel.iloc[100:].drop(columns="promo").to_csv(tmp_path / "bad" / "b.csv", index=False)
    with pytest.raises(DataError, match=r"b\.csv: has not the columns of .*a\.csv \(column 'promo'\)"):
        rnncast.read(tmp_path / "bad", SPEC)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no Parquet or CSV files there"):
        rnncast.read(tmp_path / "empty", SPEC)
    result = run("fit", tmp_path / "empty", "--quiet")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
