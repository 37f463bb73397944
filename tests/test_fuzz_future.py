"""Fuzzed future values and damaged covariate models: predict with --known/--static never crashes.

As tests/test_fuzz.py promises for plain models: every `predict` of a model fitted with
known and static columns either writes finite forecasts or exits 2 with one
`rnncast: error: ...` line, whatever its --data or --future file holds (rows dropped,
duplicated or shuffled, cells emptied or garbled, timestamps moved off the grid); and a
damaged model file with static arrays is refused, never used.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import promo_panel, run, split
from test_fuzz import FUZZ, assert_refused_as_damaged, damaged_variants

OUTCOMES: Counter[str] = Counter()
GARBAGE = ["", "x", "NaN", "inf", "-inf", "1e400", "1,5", "2024-01-01", " ", "null", "0x10", "99999999999999999999"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    folder = tmp_path_factory.mktemp("fuzzfuture")
    _, with_future, _ = split(promo_panel(series=3, rows=40), folder)
    result = run("fit", with_future, "--id-col", "store", "--target", "sales", "--known", "promo",
                 "--static", "store_type", "--lookback", "8", "--horizon", "7", "--hidden", "4", "--epochs", "1",
                 "--quiet", "-o", folder / "m.rnncast")
    assert result.exit_code == 0, result.stderr
    return folder, folder / "m.rnncast", with_future.read_text().splitlines()


@st.composite
def mutations(draw: st.DrawFn, lines: list[str]) -> str:
    header, rows = lines[0], lines[1:]
    rows = list(rows)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["drop", "duplicate", "cell", "shift", "shuffle", "truncate"]))
        if not rows:
            break
        i = draw(st.integers(0, len(rows) - 1))
        if kind == "drop":
            del rows[i]
        elif kind == "duplicate":
            rows.insert(i, rows[i])
        elif kind == "cell":
            cells = rows[i].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(GARBAGE))
            rows[i] = ",".join(cells)
        elif kind == "shift":
            cells = rows[i].split(",")
            cells[0] = f"{cells[0]} {draw(st.integers(0, 23)):02d}:{draw(st.sampled_from(['00', '30']))}"
            rows[i] = ",".join(cells)
        elif kind == "shuffle":
            order = draw(st.permutations(range(len(rows))))
            rows = [rows[j] for j in order]
        else:
            rows = rows[: draw(st.integers(0, len(rows)))]
    return "\n".join([header, *rows]) + "\n"


def check(result) -> str:
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rnncast: error: "), result.stderr
        assert result.stdout == ""
        return "refused"
    table = pd.read_csv(io.StringIO(result.stdout))
    assert len(table) and np.isfinite(table["forecast"]).all()
    return "forecast"


@given(data=st.data())
@FUZZ
def test_fuzzed_future_values_are_forecast_or_refused_in_one_line(fitted, data: st.DataObject) -> None:
    folder, model, lines = fitted
    text = data.draw(mutations(lines))
    path = folder / "fuzzed.csv"
    path.write_text(text)
    OUTCOMES["--data " + check(run("predict", model, "--data", path))] += 1
    sales = lines[0].split(",").index("sales")
    future = [lines[0]] + [line for line in text.splitlines()[1:] if line.split(",")[sales:sales + 1] == [""]]
    path.write_text("\n".join(future) + "\n")
    OUTCOMES["--future " + check(run("predict", model, "--future", path))] += 1


def test_damaged_covariate_models_are_refused(fitted, tmp_path: Path) -> None:
    _, model, _ = fitted
    count = 0
    for i, (kind, content) in enumerate(damaged_variants(model.read_bytes(), seed=7)):
        path = tmp_path / f"model{i}.rnncast"
        path.write_bytes(content)
        assert_refused_as_damaged(path, kind)
        os.remove(path)
        count += 1
    assert count >= 200


def test_the_fuzz_reached_both_outcomes() -> None:
    # Runs after the fuzz (file order): mutations that all fail, or all pass, test little.
    if not OUTCOMES:
        pytest.skip("run with the fuzz test")
    print("fuzzed future outcomes:", dict(OUTCOMES))
    assert all(OUTCOMES[f"{option} {kind}"] > 10 for option in ("--data", "--future")
               for kind in ("forecast", "refused")), OUTCOMES
