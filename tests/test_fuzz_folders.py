"""Fuzzed partitions: predict and backtest file by file never crash and never leave a half-written output.

One file of a folder of three is mutated (rows dropped, duplicated, shuffled or cut, cells
garbled, timestamps moved off the grid; for Parquet, bytes cut or flipped). Every run either
writes every output whole, or exits 2 with one `rnncast: error: ...` line naming the
mutated file, and no temporary file is left behind.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import PANEL_FIT, partitioned_panel, run
from test_fuzz import FUZZ
from test_fuzz_future import mutations

OUTCOMES: Counter[str] = Counter()
FOLDER_FUZZ = settings(FUZZ, max_examples=max(20, FUZZ.max_examples // 3))  # three reads a case


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[str]]]:
    folder = tmp_path_factory.mktemp("fuzzfolders")
    frame = partitioned_panel(folder / "parquet", parts=3, stores=2, rows=40)
    (folder / "csv").mkdir()
    texts = {}
    for p, part in frame.groupby(frame["store"].str[:2]):
        path = folder / "csv" / f"{p}.csv"
        part.drop(columns="region").to_csv(path, index=False)
        texts[path.name] = path.read_text().splitlines()
    assert run("fit", folder / "csv", *PANEL_FIT, "-o", folder / "m.rnncast").exit_code == 0
    return folder, folder / "m.rnncast", texts


def check(result, out: Path, mutated: str) -> str:
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    for path in out.rglob("*") if out.exists() else []:
        assert not path.name.startswith("."), f"temporary file left: {path}"
        if path.is_file() and path.suffix == ".parquet":
            assert len(pd.read_parquet(path)), path  # whole and readable
    if result.exit_code == 2:
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("rnncast: error: ") and mutated in last, result.stderr
        return "refused"
    return "written"


@given(data=st.data())
@FOLDER_FUZZ
def test_a_fuzzed_csv_partition_is_forecast_or_refused_naming_it(fitted, data: st.DataObject) -> None:
    folder, model, texts = fitted
    name = data.draw(st.sampled_from(sorted(texts)))
    for other, lines in texts.items():
        (folder / "csv" / other).write_text("\n".join(lines) + "\n")
    (folder / "csv" / name).write_text(data.draw(mutations(texts[name])))
    out = folder / f"out{data.draw(st.integers(0, 3))}"  # sometimes a rerun over an earlier output
    OUTCOMES["csv " + check(run("predict", model, "--data", folder / "csv", "-o", out), out, name)] += 1


@pytest.mark.parametrize("seed", range(12))
def test_a_damaged_parquet_partition_is_refused_naming_it(fitted, tmp_path: Path, seed: int) -> None:
    folder, model, _ = fitted
    data = tmp_path / "parquet"
    for path in (folder / "parquet").rglob("*.parquet"):
        target = data / path.relative_to(folder / "parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    victim = sorted(data.rglob("*.parquet"))[seed % 3]
    raw = bytearray(victim.read_bytes())
    rng = random.Random(seed)
    if seed % 2:
        raw = raw[: rng.randrange(len(raw))]  # cut short
    else:
        for _ in range(8):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    victim.write_bytes(bytes(raw))
    result = run("predict", model, "--data", data, "-o", tmp_path / "out")
    OUTCOMES["parquet " + check(result, tmp_path / "out", victim.name)] += 1


def test_the_fuzz_reached_both_outcomes() -> None:
    if not OUTCOMES:
        pytest.skip("run with the fuzz tests")
    print("fuzzed partition outcomes:", dict(OUTCOMES))
    assert OUTCOMES["csv written"] > 3 and OUTCOMES["csv refused"] > 3, OUTCOMES
