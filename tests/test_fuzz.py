"""Fuzzed input through the real command line: bad data and damaged models never crash it.

The promise for unattended use: every `fit` and `predict` either succeeds with finite
forecasts or exits 2 with one `rnncast: error: ...` line; never exit 1, never a
traceback, never a file left in the output folder after a failure.

Hypothesis writes CSV and Parquet files with random columns, names, types, encodings,
separators, quoting, empty cells, NaN/inf/huge values, mixed date formats, duplicate and
unsorted timestamps, and short or constant series. Runs are in-process (CliRunner) for
speed; pytest turns warnings into errors, so a NumPy overflow warning that would print a
stray line on stderr in production fails here too.

Examples: RNNCAST_FUZZ_EXAMPLES per test (default 300 CSV files and 300 Parquet files),
derandomized so CI repeats itself; RNNCAST_FUZZ_SEED=N draws other cases (local runs).
The outcomes, counted by kind, are printed in pytest's terminal summary and written to
RNNCAST_FUZZ_REPORT (default: fuzz_outcomes.json in pytest's base temporary folder).

Also here: damaged model files (cut short, bytes flipped) and files of other kinds
(CSV, pickle, .npz, zip) given to `predict` and `info`; none is ever executed.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import pickle
import random
import re
import struct
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import hypothesis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer.main
import typer.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rnncast.cli import app
from rnncast.io.sources import _clean_names

EXAMPLES = int(os.environ.get("RNNCAST_FUZZ_EXAMPLES", "300"))
SEED = os.environ.get("RNNCAST_FUZZ_SEED")  # other cases than CI's, for local runs
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,  # by default the same cases on every run: CI failures reproduce
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.filter_too_much],
)
TINY = ["--epochs", "1", "--hidden", "4", "--lookback", "4", "--horizon", "2", "--quiet"]
K = 2

runner = CliRunner()

# ---------------------------------------------------------------------- bookkeeping

OUTCOMES: Counter[str] = Counter()

# Error lines are grouped by the phrase that says what was wrong (first match wins).
_KINDS = [
    ("unreadable file", r"cannot read it as CSV|unknown or unreadable|not a readable|the file is empty|no data rows|"
                        r"UTF-16|not a Parquet file|no header line"),
    ("not a date", r"not a date|outside the years|values, not dates|no timestamp|"
                   r"mixes timestamps|found no column of dates"),
    ("not a number", r"not a number|holds .* values, not numbers"),
    ("infinite value", r"is -?inf; replace"),
    ("duplicate timestamps", r"duplicate timestamps"),
    ("frequency", r"frequency|does not fit|single timestamp|twice as many"),
    ("too short", r"needs at least|too short|no training windows|remain, but"),
    ("empty cells", r"is empty|has no values in column|no row for"),
    ("column roles", r"numeric column|not found; the columns|more than one role|single column|looks like data"),
    ("diverged", r"diverged"),
    ("non-finite forecast", r"non-finite"),
    ("values too large", r"beyond the \+-"),
]


def _kind(line: str) -> str:
    for kind, pattern in _KINDS:
        if re.search(pattern, line):
            return kind
    return "other: " + re.sub(r"\S*/\S*", "FILE", line)[16:70]


class _Summary:
    """Prints the outcome counts in pytest's terminal summary (with -v), after the progress dots."""

    def pytest_terminal_summary(self, terminalreporter) -> None:  # noqa: ANN001
        # Only when asked (-v): a quiet run stays a few lines; the counts also go to a JSON file.
        if OUTCOMES and terminalreporter.config.getoption("verbose") > 0:
            terminalreporter.section("rnncast fuzz outcomes")
            for kind, count in sorted(OUTCOMES.items()):
                terminalreporter.write_line(f"{count:6d}  {kind}")
            terminalreporter.write_line(f"{sum(OUTCOMES.values()):6d}  in all")


@pytest.fixture(scope="module", autouse=True)
def outcome_report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    manager = request.config.pluginmanager
    if not manager.has_plugin("rnncast-fuzz-summary"):
        manager.register(_Summary(), "rnncast-fuzz-summary")
    yield
    if OUTCOMES:
        path = Path(os.environ.get("RNNCAST_FUZZ_REPORT") or tmp_path_factory.getbasetemp() / "fuzz_outcomes.json")
        path.write_text(json.dumps(dict(sorted(OUTCOMES.items())), indent=2) + "\n")


# --------------------------------------------------------------------- the invariant


_COMMAND: list[object] = []


def invoke(*args: str, input: bytes | None = None):
    """runner.invoke(app, args), with the command built once.

    Typer builds the command from the app's signatures on every invoke (about 45 ms,
    most of a small fit); these tests invoke thousands of times.
    """
    if not hasattr(typer.testing, "_get_command"):  # another Typer: build it every time
        return runner.invoke(app, list(args), input=input)
    if not _COMMAND:
        _COMMAND.append(typer.main.get_command(app))
    with mock.patch.object(typer.testing, "_get_command", lambda _app: _COMMAND[0]):
        return runner.invoke(app, list(args), input=input)


def check_refusal(result, label: str) -> str:
    """Exit 2, one `rnncast: error:` line, no traceback; returns the kind of refusal."""
    err = result.stderr
    assert result.exit_code == 2, (label, result.exit_code, err, result.exception)
    assert "Traceback" not in err and "Traceback" not in result.stdout, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnncast: error: "), (label, err)
    return _kind(lines[0])


def check_forecast(result, rows: int, label: str) -> None:
    """Exit 0 and a CSV of `rows` rows with finite forecasts."""
    assert result.exit_code == 0, (label, result.exit_code, result.stderr, result.exception)
    assert result.stderr == ""
    table = list(csv.reader(io.StringIO(result.stdout)))
    header, body = table[0], table[1:]
    assert header[-2:] == ["timestamp", "forecast"], header
    assert len(body) == rows, (rows, result.stdout)
    values = np.array([float(row[-1]) for row in body])
    assert np.isfinite(values).all(), result.stdout
    assert all(row[-2] for row in body), result.stdout  # every step has a timestamp


def fit_then_predict(data: Path | str, options: list[str], out: Path, label: str, stdin: bytes | None = None) -> str:
    """Run fit, then predict from the model and from the data; the outcome's kind."""
    model = out / "m.rnncast"
    fitted = invoke("fit", os.fspath(data), *TINY, *options, "-o", os.fspath(model), input=stdin)
    if fitted.exit_code != 0:
        kind = "fit refused: " + check_refusal(fitted, label)
        assert sorted(p.name for p in out.iterdir()) == [], "a failed fit left files behind"
        return kind
    assert fitted.stdout == "" and fitted.stderr == "", fitted.stderr  # --quiet
    assert sorted(p.name for p in out.iterdir()) == ["m.rnncast"], "stray files next to the model"
    series = json.loads(invoke("info", os.fspath(model), "--json").stdout)["series"]
    stored = invoke("predict", os.fspath(model))
    if stored.exit_code != 0:
        # Allowed (a refusal is not a wrong forecast) but counted: fit should not have
        # written a model that cannot forecast.
        return "predict refused: " + check_refusal(stored, label)
    check_forecast(stored, series * K, label)
    again = invoke("predict", os.fspath(model), "--data", os.fspath(data), input=stdin)
    if again.exit_code != 0:
        return "ok, predict --data refused: " + check_refusal(again, label)
    check_forecast(again, series * K, label)
    assert sorted(p.name for p in out.iterdir()) == ["m.rnncast"]
    return "ok"


@dataclass
class Case:
    """One generated input file and the options to fit it with."""

    source: str  # "CSV" or "Parquet": which generator made it
    payload: bytes
    suffix: str
    options: list[str] = field(default_factory=list)
    via_stdin: bool = False
    notes: str = ""


def run_case(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="rnncast-fuzz-") as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        (folder / "out").mkdir()
        data = folder / "in" / f"data{case.suffix}"
        data.write_bytes(case.payload)
        label = f"{case.notes} options={case.options}"
        if case.via_stdin:
            kind = fit_then_predict("-", case.options, folder / "out", label, stdin=case.payload)
        else:
            kind = fit_then_predict(data, case.options, folder / "out", label)
    OUTCOMES[f"{case.source}: {kind}"] += 1


# ------------------------------------------------------------------ generated series

FREQS = {  # alias -> numpy step
    "D": np.timedelta64(1, "D"),
    "h": np.timedelta64(1, "h"),
    "15min": np.timedelta64(15, "m"),
    "W": np.timedelta64(7, "D"),
}
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y %H:%M",
                "%Y/%m/%d", "%Y%m%d", "%b %d %Y", "%d %B %Y", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S+01:00",
                "%m/%d/%Y %I:%M %p"]
# Formats that say everything about a timestamp at each frequency: what clean files use.
CLEAN_FORMATS = {
    "D": ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%b %d %Y", "%d %B %Y", "%d.%m.%Y %H:%M",
          "%Y-%m-%dT%H:%M:%SZ"],
    "W": ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S"],
    "h": ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%SZ",
          "%Y-%m-%d %H:%M:%S+01:00", "%m/%d/%Y %I:%M %p"],
    "15min": ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S+01:00"],
}
ODD_CELLS = ["", " ", "NaN", "nan", "NA", "null", "inf", "-inf", "Infinity", "1e999", "-1e400", "abc", "1,5",
             "1.2.3", "0x1F", "--3", "  7  ", "1e308", "-1e308", "5e-324", "TRUE", "€12", "12%", "\u00a0"]
NAMES = ["date", "Date", "time", "ds", "timestamp", "DATUM", "période", "when", "", "value", "y", "sales",
         "température", "a,b", 'q"uote', " padded ", "Unnamed: 0", "id", "series", "1", "2024-01-01", "日付"]


@st.composite
def value_columns(draw, n: int) -> np.ndarray:
    """(n,) float values: a walk, a sine, a constant, or noise, at some scale."""
    shape = draw(st.sampled_from(["walk", "sine", "constant", "noise", "steps"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    t = np.arange(n, dtype=np.float64)
    if shape == "walk":
        y = np.cumsum(rng.normal(size=n))
    elif shape == "sine":
        y = np.sin(2 * np.pi * t / draw(st.integers(2, 12)))
    elif shape == "constant":
        y = np.zeros(n)
    elif shape == "noise":
        y = rng.normal(size=n)
    else:
        y = np.floor(t / 5)
    scale = draw(st.sampled_from([1.0, 1.0, 1.0, 1e-300, 1e-12, 1e6, 1e15, 1e150, 1e300, 1.7e308]))
    offset = draw(st.sampled_from([0.0, 0.0, 100.0, -1e9, 1e300, 5e-324]))
    with np.errstate(over="ignore", invalid="ignore"):
        return y * scale + offset


def format_stamp(stamp: np.datetime64, fmt: str) -> str:
    return stamp.astype("datetime64[s]").item().strftime(fmt)


def sometimes(draw, chaos: int, one_in: int) -> bool:
    """A damage that never happens at chaos 0 and more often the higher it is (1..3)."""
    return chaos > 0 and draw(st.integers(0, max(one_in // chaos, 1))) == 0


@st.composite
def csv_cases(draw) -> Case:
    # chaos 0: a clean file, default options; 1..3: ever more damage and odd options.
    chaos = draw(st.sampled_from([0, 0, 1, 1, 2, 3]))
    n_series = draw(st.sampled_from([1, 1, 1, 2, 3]))
    freq = draw(st.sampled_from(list(FREQS)))
    step = FREQS[freq]
    use_id = n_series > 1 or draw(st.booleans())
    if chaos == 0 or draw(st.integers(0, chaos)) != chaos:
        time_name = draw(st.sampled_from(["date", "Date", "time", "ds", "timestamp", "période", "日付"]))
        value_name = draw(st.sampled_from(["value", "y", "sales", "température", "q\"uote", "a,b", " padded "]))
        id_name = draw(st.sampled_from(["id", "series", "store", "Zone"]))
        extra_names = draw(st.lists(st.sampled_from(["price", "promo", "temp"]), max_size=2, unique=True))
    else:
        time_name, value_name, id_name = (draw(st.sampled_from(NAMES)) for _ in range(3))
        extra_names = draw(st.lists(st.sampled_from(NAMES), max_size=2))
    extra_kinds = [draw(st.sampled_from(["number", "number", "text", "empty", "bool"])) for _ in extra_names]
    base_format = draw(st.sampled_from(DATE_FORMATS if chaos > 1 else CLEAN_FORMATS[freq]))
    mixed_formats = sometimes(draw, chaos, 6)
    start = np.datetime64("2020-01-01") + np.timedelta64(draw(st.integers(-40_000, 40_000)), "D")
    notes = [f"chaos={chaos} freq={freq} fmt={base_format!r} mixed={mixed_formats}"]

    header = [time_name] + ([id_name] if use_id else []) + [value_name] + extra_names
    rows: list[list[str]] = []
    lengths = [0, 1, 2, 5, 9, 12, 16, 20, 25, 30, 40] if chaos else [12, 16, 20, 25, 30, 40]
    for s in range(n_series):
        n = draw(st.sampled_from(lengths))
        values = draw(value_columns(n))
        id_choices = ["a", "b", "007", "Zürich", "", " a", str(s)] if chaos else [f"s{s}", f"Zürich {s}"]
        sid = draw(st.sampled_from(id_choices))
        for i in range(n):
            fmt = draw(st.sampled_from(DATE_FORMATS)) if mixed_formats and draw(st.integers(0, 4)) == 0 else base_format
            row = [format_stamp(start + i * step, fmt)] + ([sid] if use_id else [])
            row.append(repr(float(values[i])) if draw(st.integers(0, 3)) else f"{values[i]:.6g}")
            for kind in extra_kinds:
                row.append({"number": f"{i * 0.5:g}", "text": f"t{i % 3}", "empty": "",
                            "bool": "true" if i % 2 else "false"}[kind])
            rows.append(row)
    # Damage: odd cells, duplicates, shuffling, missing rows, ragged rows.
    for _ in range(draw(st.integers(0, chaos)) if rows else 0):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(header) - 1))
        rows[r][c] = draw(st.sampled_from(ODD_CELLS))
    if rows and sometimes(draw, chaos, 6):
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
        notes.append("duplicate")
    if rows and draw(st.integers(0, 4)) == 0:
        del rows[draw(st.integers(0, len(rows) - 1))]  # a gap: filled (unless --fill error)
        notes.append("gap")
    if draw(st.integers(0, 3)) == 0:
        random.Random(draw(st.integers(0, 999))).shuffle(rows)  # unsorted: sorted on reading
        notes.append("shuffled")
    if rows and sometimes(draw, chaos, 12):
        rows[draw(st.integers(0, len(rows) - 1))].append("surplus")  # a ragged row
    if rows and sometimes(draw, chaos, 12):
        rows[draw(st.integers(0, len(rows) - 1))].pop()  # a short row

    sep = draw(st.sampled_from([",", ",", ";", "\t"] + (["|"] if chaos else [])))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]
                                   + ([csv.QUOTE_NONE] if chaos else [])))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, quoting=quoting, lineterminator=newline, escapechar="\\")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    text = buffer.getvalue()
    if draw(st.integers(0, 6)) == 0:
        text = newline * draw(st.integers(1, 2)) + text + newline * draw(st.integers(1, 3))  # blank lines
    if sometimes(draw, chaos, 15):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]  # a file cut short, perhaps mid-row
        notes.append(f"cut at {cut}")
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]))
    payload = text.encode(encoding, errors="replace")
    suffix = draw(st.sampled_from([".csv", ".csv", ".txt", ".tsv", ""]))
    if draw(st.integers(0, 8)) == 0:
        payload = gzip.compress(payload)
        suffix = ".csv.gz"
    notes.append(f"sep={sep!r} quoting={quoting} encoding={encoding}")

    options: list[str] = []
    names = list(dict.fromkeys(n.strip() or f"Unnamed: {i}" for i, n in enumerate(header)))
    if use_id and (chaos == 0 or draw(st.integers(0, 5))):
        options += ["--id-col", _clean_name(header, 1)]
    if extra_names or value_name.strip() in ("", "1", "2024-01-01"):
        options += ["--target", _clean_name(header, 2 if use_id else 1)]
    if chaos and draw(st.integers(0, 2)) == 0:
        options += ["--target", draw(st.sampled_from(names))]  # the last --target wins
    if sometimes(draw, chaos, 4):
        options += ["--time-col", draw(st.sampled_from(names))]
    numeric_extras = [n for n, k in zip(extra_names, extra_kinds) if k == "number"]
    if numeric_extras and draw(st.booleans()):
        options += ["--features", ",".join(numeric_extras)]
    elif extra_names and sometimes(draw, chaos, 3):
        options += ["--features", ",".join(draw(st.lists(st.sampled_from(names), min_size=1, max_size=2)))]
    if draw(st.integers(0, 3)) == 0:
        given_freq = {"W": "7D"}.get(freq, freq)  # plain W means W-SUN
        options += ["--freq", draw(st.sampled_from([given_freq, "W", "D", "h", "B", "MS", "nonsense"] if chaos
                                                   else [given_freq]))]
    options += draw(st.sampled_from([[], [], ["--fill", "ffill"], ["--fill", "error"]] if chaos or "gap" not in notes
                                    else [[], ["--fill", "ffill"]]))
    options += draw(st.sampled_from([[], [], ["--scaler", "minmax"], ["--scaler", "none"]]))
    options += draw(st.sampled_from([[], [], ["--cell", "gru"], ["--cell", "rnn"]]))
    options += draw(st.sampled_from([[], [], ["--val-fraction", "0"], ["--val-fraction", "0.5"]]))
    via_stdin = suffix == ".csv" and draw(st.integers(0, 9)) == 0
    return Case("CSV", payload, suffix, options, via_stdin, "; ".join(notes))


@st.composite
def parquet_cases(draw) -> Case:
    chaos = draw(st.sampled_from([0, 0, 1, 1, 2, 3]))
    n_series = draw(st.sampled_from([1, 1, 2, 3]))
    freq = draw(st.sampled_from(list(FREQS)))
    step = FREQS[freq]
    start = np.datetime64("2020-01-01") + np.timedelta64(draw(st.integers(-40_000, 40_000)), "D")
    use_id = n_series > 1 or draw(st.booleans())
    stamps, ids, values = [], [], []
    for s in range(n_series):
        n = draw(st.sampled_from([0, 1, 3, 9, 16, 20, 30, 40] if chaos else [12, 16, 20, 30, 40]))
        stamps += [start + i * step for i in range(n)]
        ids += [draw(st.sampled_from(["a", "b", "c", "ß"])) if sometimes(draw, chaos, 10) else f"s{s}"] * n
        values += list(draw(value_columns(n)))
    n_rows = len(stamps)
    order = np.arange(n_rows)
    if n_rows and draw(st.booleans()):
        order = np.random.default_rng(draw(st.integers(0, 99))).permutation(n_rows)  # unsorted
    stamps_arr = np.array(stamps, dtype="datetime64[ns]")[order] if n_rows else np.array([], "datetime64[ns]")
    values_arr = np.array(values, dtype=np.float64)[order] if n_rows else np.array([], np.float64)
    ids_arr = [ids[i] for i in order]
    if n_rows and sometimes(draw, chaos, 4):  # damage: NaN, inf, huge
        i = draw(st.integers(0, n_rows - 1))
        values_arr[i] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1.7e308, -1.7e308]))
    if n_rows and sometimes(draw, chaos, 6):  # a duplicate timestamp
        stamps_arr[draw(st.integers(0, n_rows - 1))] = stamps_arr[draw(st.integers(0, n_rows - 1))]

    time_kinds = ["ns", "us", "s", "ms", "utc", "paris", "text"] + (["date"] if freq in ("D", "W") else [])
    time_kind = draw(st.sampled_from(time_kinds + (["int", "float"] if chaos else [])))
    if time_kind in ("ns", "us", "s", "ms"):
        time_col = pa.array(stamps_arr.astype(f"datetime64[{time_kind}]"))
    elif time_kind in ("utc", "paris"):
        zone = "UTC" if time_kind == "utc" else "Europe/Paris"
        time_col = pa.array(stamps_arr, type=pa.timestamp("ns", tz=zone))
    elif time_kind == "date":
        time_col = pa.array(stamps_arr.astype("datetime64[D]"))
    elif time_kind == "text":
        time_col = pa.array(np.datetime_as_string(stamps_arr, unit="m").tolist(), type=pa.string())
    elif time_kind == "int":
        time_col = pa.array(stamps_arr.view(np.int64))
    else:
        time_col = pa.array(stamps_arr.view(np.int64).astype(np.float64))
    value_kinds = ["f64", "f64", "f32", "i64", "decimal"]
    value_kind = draw(st.sampled_from(value_kinds + (["i8", "bool", "text", "null", "dict"] if chaos else [])))
    nulls = np.zeros(n_rows, dtype=bool)
    if n_rows and draw(st.integers(0, 2)) == 0:
        nulls[draw(st.lists(st.integers(0, n_rows - 1), max_size=5 if chaos else 2))] = True
    with np.errstate(all="ignore"):
        if value_kind == "f64":
            value_col = pa.array(values_arr, mask=nulls)
        elif value_kind == "f32":
            value_col = pa.array(values_arr.astype(np.float32), mask=nulls)
        elif value_kind in ("i64", "i8"):
            finite = np.nan_to_num(values_arr, nan=0, posinf=0, neginf=0)
            clipped = np.clip(finite, -100, 100) if value_kind == "i8" else np.clip(finite, -2**62, 2**62)
            value_col = pa.array(clipped.astype("int8" if value_kind == "i8" else "int64"), mask=nulls)
        elif value_kind == "decimal":
            import decimal

            cells = [None if m or not np.isfinite(v) else decimal.Decimal(f"{v:.4f}") if abs(v) < 1e20
                     else decimal.Decimal(1) for v, m in zip(values_arr, nulls)]
            value_col = pa.array(cells, type=pa.decimal128(30, 4))
        elif value_kind == "bool":
            value_col = pa.array(values_arr > 0, mask=nulls)
        elif value_kind == "text":
            value_col = pa.array([None if m else repr(float(v)) for v, m in zip(values_arr, nulls)], type=pa.string())
        elif value_kind == "null":
            value_col = pa.nulls(n_rows)
        else:
            value_col = pa.array([None if m else f"{v:.3g}" for v, m in zip(values_arr, nulls)],
                                 type=pa.string()).dictionary_encode()
    if chaos:
        names = [draw(st.sampled_from(NAMES)) for _ in range(3)]
    else:
        names = [draw(st.sampled_from(["date", "ds", "when", "période"])), draw(st.sampled_from(["y", "value", "€"])),
                 draw(st.sampled_from(["id", "store", "Série"]))]
    arrays = [time_col, value_col]
    column_names = [names[0], names[1]]
    if use_id:
        id_kind = draw(st.sampled_from(["text", "int", "dict", "large"]))
        if id_kind == "int":
            id_col = pa.array([sum(map(ord, i)) for i in ids_arr], type=pa.int64())
        elif id_kind == "dict":
            id_col = pa.array(ids_arr, type=pa.string()).dictionary_encode()
        else:
            id_col = pa.array(ids_arr, type=pa.large_string() if id_kind == "large" else pa.string())
        at = draw(st.integers(0, 2))
        arrays.insert(at, id_col)
        column_names.insert(at, names[2])
    table = pa.Table.from_arrays(arrays, names=column_names)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=draw(st.sampled_from([None, 7])))
    payload = sink.getvalue().to_pybytes()
    if sometimes(draw, chaos, 10):
        payload = payload[: draw(st.integers(0, len(payload)))]  # cut short
    options: list[str] = []
    clean = list(dict.fromkeys(n.strip() or f"Unnamed: {i}" for i, n in enumerate(column_names)))
    if use_id and (chaos == 0 or draw(st.integers(0, 5))):
        at = column_names.index(names[2])
        options += ["--id-col", _clean_name(column_names, at)]
    if not chaos and value_kind == "decimal":
        options += ["--target", _clean_name(column_names, column_names.index(names[1]))]
    if sometimes(draw, chaos, 2):
        options += ["--target", draw(st.sampled_from(clean))]
    if sometimes(draw, chaos, 3):
        options += ["--time-col", draw(st.sampled_from(clean))]
    options += draw(st.sampled_from([[], [], ["--fill", "ffill"], ["--fill", "error"], ["--freq", "D"]] if chaos
                                    else [[], ["--fill", "ffill"]]))
    suffix = draw(st.sampled_from([".parquet", ".pq"] + ([".csv", ""] if chaos else [])))
    return Case("Parquet", payload, suffix, options, False, f"chaos={chaos} time={time_kind} value={value_kind} "
                f"names={column_names}")


def _clean_name(names: list[str], at: int) -> str:
    """The name rnncast gives column `at` (blank and repeated header names are renamed)."""
    return _clean_names(names)[at]


def seeded(test):  # noqa: ANN001, ANN201
    return hypothesis.seed(int(SEED))(test) if SEED is not None else test


@seeded
@FUZZ
@given(case=csv_cases())
def test_fuzzed_csv_fit_and_predict(case: Case) -> None:
    run_case(case)


@seeded
@FUZZ
@given(case=parquet_cases())
def test_fuzzed_parquet_fit_and_predict(case: Case) -> None:
    run_case(case)


# ------------------------------------------------------------------- damaged models


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("model")
    dates = np.datetime64("2024-01-01") + np.arange(60)
    data = folder / "daily.csv"
    data.write_text("date,value\n" + "".join(f"{d},{10 + np.sin(i / 3):.4f}\n" for i, d in enumerate(dates)))
    model = folder / "daily.rnncast"
    result = invoke("fit", os.fspath(data), *TINY, "-o", os.fspath(model))
    assert result.exit_code == 0, result.stderr
    return model.read_bytes()


DAMAGE_WORDS = re.compile(r"corrupt|truncated|not an rnncast model|damaged|malformed|not a valid rnncast model|"
                          r"not a usable rnncast model")


def assert_refused_as_damaged(path: Path, kind: str) -> None:
    for command in ("predict", "info"):
        result = invoke(command, os.fspath(path))
        check_refusal(result, f"{command} {kind}")
        line = result.stderr.strip()
        assert str(path) in line, line
        assert DAMAGE_WORDS.search(line), line
        assert result.stdout == "", result.stdout  # not a single forecast row
        OUTCOMES[f"damaged model ({command}): {kind}"] += 1


def damaged_variants(raw: bytes, seed: int = 20240601) -> Iterator[tuple[str, bytes]]:
    """At least 100 truncations spread over the file and 120 files with 1-4 flipped bytes."""
    rng = np.random.default_rng(seed)
    n = len(raw)
    cuts = set(np.linspace(0, n - 1, 90).astype(int).tolist()) | {0, 1, 7, 8, 12, 19, 20, n - 33, n - 32, n - 1}
    cuts |= set(rng.integers(0, n, 20).tolist())
    for cut in sorted(cuts):
        yield "truncated", raw[:cut]
    # Regions: preamble, header, data, digest; then anywhere.
    header_end = 20 + struct.unpack_from("<Q", raw, 12)[0]
    regions = [(0, 20), (20, header_end), (header_end, n - 32), (n - 32, n)] + [(0, n)] * 2
    for i in range(120):
        lo, hi = regions[i % len(regions)]
        flipped = bytearray(raw)
        for at in rng.integers(lo, hi, rng.integers(1, 5)):
            flipped[at] ^= int(rng.integers(1, 256))
        if bytes(flipped) != raw:
            yield "flipped bytes", bytes(flipped)


def test_damaged_model_files_are_refused(model_bytes: bytes, tmp_path: Path) -> None:
    count = 0
    for i, (kind, content) in enumerate(damaged_variants(model_bytes)):
        path = tmp_path / f"model{i}.rnncast"
        path.write_bytes(content)
        assert_refused_as_damaged(path, kind)
        count += 1
    assert count >= 200


class Marker:
    """Unpickling this creates the folder `path`: the proof that a file was executed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # noqa: ANN204
        return (os.mkdir, (os.fspath(self.path),))


def foreign_files(folder: Path, marker: Path, model: bytes) -> dict[str, bytes]:
    npz = io.BytesIO()
    np.savez(npz, weights=np.array([Marker(marker)], dtype=object))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("model.pkl", pickle.dumps(Marker(marker)))
    npy = io.BytesIO()
    np.save(npy, np.array([Marker(marker)], dtype=object))
    # A well-checksummed rnncast file whose one array claims the object dtype and holds a pickle.
    header_len = struct.unpack_from("<Q", model, 12)[0]
    meta = json.loads(model[20 : 20 + header_len])
    payload = pickle.dumps(Marker(marker))
    meta["arrays"] = [{"name": "weights/head.weight", "dtype": "|O", "shape": [1], "offset": 0,
                       "nbytes": len(payload)}]
    text = json.dumps(meta).encode()
    head = struct.pack("<8sIQ", b"RNNCAST\x00", 1, len(text)) + text
    body = head + bytes(-len(head) % 64) + payload
    import hashlib

    return {
        "a csv": b"date,value\n2024-01-01,1\n2024-01-02,2\n",
        "a pickle": pickle.dumps(Marker(marker)),
        "a pickle, protocol 0": pickle.dumps(Marker(marker), protocol=0),
        "an npz holding a pickle": npz.getvalue(),
        "an npy holding a pickle": npy.getvalue(),
        "a zip holding a pickle": zipped.getvalue(),
        "an rnncast file with a pickled array": body + hashlib.sha256(body).digest(),
        "an empty file": b"",
        "gzip": gzip.compress(model),
        "utf-16 text": codecs.BOM_UTF16_LE + "date,value\n".encode("utf-16-le"),
    }


def test_files_of_other_kinds_are_refused_without_running_them(model_bytes: bytes, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    # The marker works: unpickling one does create it.
    pickle.loads(pickle.dumps(Marker(tmp_path / "proof")))
    assert (tmp_path / "proof").is_dir()
    for kind, content in foreign_files(tmp_path, marker, model_bytes).items():
        for name in ("model.rnncast", "model.pkl", "model.npz"):
            path = tmp_path / f"{kind.replace(' ', '_')}-{name}"
            path.write_bytes(content)
            assert_refused_as_damaged(path, f"foreign: {kind}")
            assert not marker.exists(), f"{kind} was executed"
