"""The command line end to end: fit -> info -> predict, progress, exit codes, error lines.

Wiring, not maths: tiny networks on small synthetic files, the sample data sparingly.
Subprocesses only where the process itself is the point (imports, signals, pipes).
"""

from __future__ import annotations

import io
import json
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT, TINY, covariate_csv, daily_csv, env, fit_tiny, long_csv, run, series_values
from rnncast import __version__, api, config

SAMPLES = ROOT / "sample_data"
BRENT = SAMPLES / "brent_crude_daily.csv"
OIL_LONG = SAMPLES / "oil_prices_long.csv"
K = 4


def python(code: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------------------------------ data


def days_after(last: str, count: int, freq: str = "D") -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(last, periods=count + 1, freq=freq)[1:]]


@pytest.fixture(scope="module")
def daily(work: Path) -> Path:
    return daily_csv(work / "daily.csv")


@pytest.fixture(scope="module")
def daily_model(work: Path, daily: Path) -> Path:
    return fit_tiny(daily, work / "daily.rnncast")


@pytest.fixture(scope="module")
def long_model(work: Path) -> Path:
    return fit_tiny(long_csv(work / "long.csv"), work / "long.rnncast", "--id-col", "store")


@pytest.fixture(scope="module")
def covariate_model(work: Path) -> Path:
    return fit_tiny(covariate_csv(work / "cov.csv"), work / "cov.rnncast", "--features", "temp", "--features",
                    "promo")


def assert_user_error(result, *words: str) -> None:
    """Exit 2, exactly one stderr line, `rnncast: error: ...` naming the problem, no traceback."""
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rnncast: error: "), lines[0]
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])


# ------------------------------------------------------------------------- basics


def test_help_has_an_example_everywhere_and_version() -> None:
    for command in ([], ["fit"], ["predict"], ["info"]):
        result = run(*command, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.stdout, command
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"rnncast {__version__}"


def test_help_imports_no_numerics(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.argv = ['rnncast', 'fit', '--help']\n"
        "import rnncast.cli\n"
        "try:\n"
        "    rnncast.cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "heavy = sorted(m for m in ('numpy', 'numba', 'pandas', 'pyarrow', 'rich', 'rnncast.api', 'matplotlib')\n"
        "               if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Example:" in result.stdout


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "rnncast", "--version"], cwd=tmp_path, env=env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"rnncast {__version__}"


@pytest.mark.parametrize("command, option, choices", [
    ("fit", "--cell", config.CELLS), ("fit", "--loss", config.LOSSES), ("fit", "--scaler", config.SCALERS),
    ("fit", "--norm", config.NORMS), ("fit", "--calendar", config.CALENDARS), ("fit", "--fill", config.FILLS),
    ("backtest", "--cell", config.CELLS), ("predict", "--format", config.OUTPUT_FORMATS),
])
def test_choices_are_the_librarys(command: str, option: str, choices: tuple[str, ...]) -> None:
    """Each choice option offers exactly the library's values, and refuses others before any work."""
    help_text = " ".join(run(command, "--help").stdout.split())
    assert f"{option} <{'|'.join(choices)}>" in help_text
    refused = run(command, "data.csv" if command != "predict" else "m.rnncast", option, "bogus")
    assert refused.exit_code == 2


def test_usage_errors_exit_2() -> None:
    assert run("fit").exit_code == 2
    assert run("fit", "x.csv", "--cell", "transformer").exit_code == 2
    assert run("predict", "--nope").exit_code == 2


# ------------------------------------------------------------------ fit and info


def test_fit_plain_progress_and_summary(work: Path, daily: Path) -> None:
    out = work / "progress.rnncast"
    result = run("fit", daily, *TINY, "-o", out)
    assert result.exit_code == 0, result.stderr
    err = result.stderr
    assert "\x1b" not in err and "\r" not in err
    epochs = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"]
    for line in epochs:
        assert "train_loss " in line and "val_loss " in line and "windows/s" in line and line.endswith(" s")
    assert ["model", str(out)] in [line.split() for line in err.splitlines()]
    assert "validation MAE" in err and "naive forecast" in err and "training time" in err
    assert result.stdout == ""
    assert api.load(out).window.lookback == 12


def test_fit_quiet_prints_nothing(work: Path) -> None:
    data = daily_csv(work / "gappy.csv")
    lines = data.read_text().splitlines()
    del lines[30]  # a gap: would be reported as filled
    data.write_text("\n".join(lines) + "\n")
    loud = run("fit", data, *TINY, "-o", work / "gappy.rnncast")
    assert loud.exit_code == 0
    assert "rnncast: filled 1 missing value (interpolate)" in loud.stderr.splitlines()  # one value, singular
    quiet = run("fit", data, *TINY, "-o", work / "gappy.rnncast", "--quiet")
    assert quiet.exit_code == 0
    assert quiet.stderr == "" and quiet.stdout == ""


def test_fit_rich_progress_on_a_terminal(work: Path, daily: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rnncast.cli.streams.stderr_is_terminal", lambda: True)
    result = run("fit", daily, *TINY, "-o", work / "rich.rnncast")
    assert result.exit_code == 0, result.stderr
    assert "validation MAE" in result.stderr and "best epoch" in result.stderr
    assert (work / "rich.rnncast").exists()


def test_default_output_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    daily_csv(tmp_path / "prices.csv")
    assert run("fit", "prices.csv", *TINY, "-q").exit_code == 0
    assert (tmp_path / "prices.rnncast").is_file()
    assert run("fit", "-", *TINY, "-q", input=(tmp_path / "prices.csv").read_bytes()).exit_code == 0
    assert (tmp_path / "model.rnncast").is_file()
    import gzip

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "brent.csv.gz").write_bytes(gzip.compress((tmp_path / "prices.csv").read_bytes()))
    assert run("fit", "sub/brent.csv.gz", *TINY, "-q").exit_code == 0
    assert (tmp_path / "brent.rnncast").is_file()  # in the current folder, not next to the data


def test_info_text_and_json(daily_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = run("info", daily_model)
    assert text.exit_code == 0, text.stderr
    assert "\x1b" not in text.stdout
    for expected in ("lookback: 12", "horizon: 4", "cell: lstm", "hidden: 8", "frequency: D", "val_mae:"):
        assert expected in text.stdout
    as_json = run("info", daily_model, "--json")
    assert as_json.exit_code == 0
    described = json.loads(as_json.stdout)
    assert described["window"]["lookback"] == 12 and described["network"]["hidden"] == 8
    assert described["columns"]["target"] == "value" and described["series"] == 1
    assert described["metrics"]["epochs_run"] == 2
    monkeypatch.setattr("rnncast.cli.streams.stdout_is_terminal", lambda: True)
    table = run("info", daily_model)
    assert table.exit_code == 0 and "lookback" in table.stdout and "val_mae" in table.stdout


def test_seed_gives_identical_weights(work: Path, daily: Path) -> None:
    first = fit_tiny(daily, work / "seed1.rnncast", "--seed", "7", "-q")
    second = fit_tiny(daily, work / "seed2.rnncast", "--seed", "7", "-q")
    other = fit_tiny(daily, work / "seed3.rnncast", "--seed", "8", "-q")
    a, b, c = (api.load(p).params for p in (first, second, other))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert any(not np.array_equal(a[name], c[name]) for name in a)


def test_options_reach_the_model(work: Path, daily: Path) -> None:
    out = work / "options.rnncast"
    fit_tiny(daily, out, "--cell", "gru", "--layers", "2", "--dropout", "0.1", "--loss", "huber", "--lr", "0.01",
             "--batch-size", "16", "--weight-decay", "0.001", "--clip", "0.5", "--patience", "3",
             "--scaler", "minmax", "--val-fraction", "0.25", "--freq", "D", "--fill", "ffill", "-q")
    model = api.load(out)
    assert (model.net.cell, model.net.layers, model.net.dropout) == ("gru", 2, 0.1)
    assert (model.train.loss, model.train.lr, model.train.batch_size) == ("huber", 0.01, 16)
    assert (model.train.weight_decay, model.train.clip, model.train.patience) == (0.001, 0.5, 3)
    assert (model.window.scaler, model.window.val_fraction, model.freq) == ("minmax", 0.25, "D")


# ---------------------------------------------------------------------- predict


def read_output(raw: bytes, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(raw), dtype={"timestamp": str})
    if fmt == "json":
        return pd.DataFrame(json.loads(raw))
    frame = pd.read_parquet(io.BytesIO(raw))
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d")
    return frame


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_predict_from_stored_history_in_every_format(daily_model: Path, daily: Path, fmt: str) -> None:
    result = run("predict", daily_model, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    frame = read_output(result.stdout_bytes, fmt)
    assert list(frame.columns) == ["timestamp", "forecast"]
    assert len(frame) == K
    last = daily.read_text().splitlines()[-1].split(",")[0]
    assert frame["timestamp"].tolist() == days_after(last, K)
    assert np.isfinite(frame["forecast"].to_numpy(dtype=float)).all()


def test_predict_output_file_and_horizon(daily_model: Path, work: Path) -> None:
    out = work / "forecast.parquet"
    result = run("predict", daily_model, "--horizon", "2", "-f", "parquet", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert len(read_output(out.read_bytes(), "parquet")) == 2


def test_predict_with_new_data_file_and_stdin(daily_model: Path, work: Path) -> None:
    newer = daily_csv(work / "newer.csv", n=40, start="2024-06-01")
    from_file = run("predict", daily_model, "--data", newer)
    assert from_file.exit_code == 0, from_file.stderr
    frame = read_output(from_file.stdout_bytes, "csv")
    assert frame["timestamp"].tolist() == days_after("2024-07-10", K)
    from_stdin = run("predict", daily_model, "--data", "-", input=newer.read_bytes())
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout


def test_multi_series_and_a_new_id(long_model: Path, work: Path) -> None:
    result = run("predict", long_model, "--format", "json")
    assert result.exit_code == 0, result.stderr
    frame = read_output(result.stdout_bytes, "json")
    assert list(frame.columns) == ["store", "timestamp", "forecast"]
    assert len(frame) == 2 * K
    assert frame["store"].tolist() == ["a"] * K + ["b"] * K
    assert frame["timestamp"].tolist() == days_after("2024-03-20", K) * 2
    assert np.isfinite(frame["forecast"]).all()
    newer = long_csv(work / "long_new.csv", ids=("b", "c"), n=30, start="2024-03-01")
    with_new = run("predict", long_model, "--data", newer)
    assert with_new.exit_code == 0, with_new.stderr
    frame = read_output(with_new.stdout_bytes, "csv")
    assert frame["store"].tolist() == ["b"] * K + ["c"] * K
    assert frame["timestamp"].tolist() == days_after("2024-03-30", K) * 2
    assert np.isfinite(frame["forecast"]).all()


def test_covariates(covariate_model: Path, work: Path) -> None:
    model = api.load(covariate_model)
    assert model.features == ("temp", "promo") and model.net.inputs >= 3
    assert "features: temp, promo" in run("info", covariate_model).stdout
    result = run("predict", covariate_model)
    assert result.exit_code == 0 and len(read_output(result.stdout_bytes, "csv")) == K
    comma = fit_tiny(covariate_csv(work / "cov2.csv"), work / "cov2.rnncast", "--features", "temp,promo", "-q")
    assert api.load(comma).features == ("temp", "promo")
    newer = run("predict", covariate_model, "--data", work / "cov2.csv")
    assert newer.exit_code == 0, newer.stderr


def test_time_zone_is_kept_in_the_output(work: Path) -> None:
    start = np.datetime64("2024-03-01T00:00")
    rows = [f"{start + np.timedelta64(h, 'h')}+01:00,{v:.3f}" for h, v in enumerate(series_values(60))]
    data = work / "zoned.csv"
    data.write_text("time,load\n" + "\n".join(rows) + "\n")
    model = fit_tiny(data, work / "zoned.rnncast", "-q")
    result = run("predict", model)
    assert result.exit_code == 0, result.stderr
    stamps = read_output(result.stdout_bytes, "csv")["timestamp"].tolist()
    assert stamps[0] == "2024-03-03T12:00:00+01:00" and len(stamps) == K


def test_bare_predict_finds_the_only_model(tmp_path: Path, daily_model: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    none = run("predict")
    assert_user_error(none, "no *.rnncast file", "rnncast fit")
    (tmp_path / "brent.rnncast").write_bytes(daily_model.read_bytes())
    one = run("predict")
    assert one.exit_code == 0, one.stderr
    assert one.stderr.splitlines() == ["using model brent.rnncast"]
    assert len(read_output(one.stdout_bytes, "csv")) == K
    (tmp_path / "wti.rnncast").write_bytes(daily_model.read_bytes())
    several = run("predict")
    assert_user_error(several, "brent.rnncast", "wti.rnncast", "MODEL")


def test_parquet_refuses_a_terminal(daily_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rnncast.cli.streams.stdout_is_terminal", lambda: True)
    assert_user_error(run("predict", daily_model, "-f", "parquet"), "use --output")


def test_sample_data_single_and_multi_series(work: Path) -> None:
    brent = fit_tiny(BRENT, work / "brent.rnncast", "--epochs", "1", "-q")
    result = run("predict", brent)
    assert result.exit_code == 0, result.stderr
    frame = read_output(result.stdout_bytes, "csv")
    last = BRENT.read_text().splitlines()[-1].split(",")[0]
    assert frame["timestamp"].tolist() == days_after(last, K, freq="B")
    oil = fit_tiny(OIL_LONG, work / "oil.rnncast", "--id-col", "series", "--epochs", "1", "-q")
    result = run("predict", oil, "-f", "json")
    assert result.exit_code == 0, result.stderr
    frame = read_output(result.stdout_bytes, "json")
    assert sorted(set(frame["series"])) == ["brent", "wti"] and len(frame) == 2 * K
    assert np.isfinite(frame["forecast"]).all()


# ------------------------------------------------------------------------ errors


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


DAILY_HEAD = "date,value\n" + "".join(f"2024-01-{d:02d},{d}.5\n" for d in range(1, 29))

DATA_ERRORS = {
    "missing file": (None, [], ["no_such.csv", "file not found"]),
    "empty file": ("", [], ["empty"]),
    "header only": ("date,value\n", [], ["no data rows"]),
    "unknown format": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), [], ["unknown or unreadable format"]),
    "no numeric column": ("date,name,city\n2024-01-01,a,x\n2024-01-02,b,y\n", [], ["no numeric column"]),
    "target not found": (DAILY_HEAD, ["--target", "price"], ["'price'", "--target", "not found"]),
    "id not found": (DAILY_HEAD, ["--id-col", "store"], ["'store'", "--id-col", "not found"]),
    "non-numeric target": (DAILY_HEAD.replace("2024-01-05,5.5", "2024-01-05,abc"), [], ["row 6", "'abc'",
                                                                                        "not a number"]),
    # 4 rows: a series shorter than lookback + horizon is padded, but horizon 4 needs 5 rows to train on.
    "too short": ("date,value\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 5)), [],
                  ["no series has the 5 rows", "--horizon"]),
    "duplicate timestamps": (DAILY_HEAD.replace("2024-01-03,", "2024-01-02,"), [], ["duplicate timestamps",
                                                                                   "2024-01-02"]),
    "unparseable date": (DAILY_HEAD.replace("2024-01-07", "2024-13-45"), [], ["row 8", "'2024-13-45'",
                                                                               "not a date"]),
    "bad option": (DAILY_HEAD, ["--hidden", "0"], ["--hidden must be at least 1"]),
    "bad lookback": (DAILY_HEAD, ["--lookback", "0"], ["--lookback must be at least 1"]),
    "missing output folder": (DAILY_HEAD, ["-o", "nowhere/m.rnncast"], ["nowhere", "does not exist"]),
}


@pytest.mark.parametrize("case", list(DATA_ERRORS))
def test_fit_errors_are_one_line(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    content, options, words = DATA_ERRORS[case]
    data = "no_such.csv" if content is None else write(tmp_path / "data.csv", content)
    result = run("fit", data, *TINY, *options)
    assert_user_error(result, *words)
    assert not list(tmp_path.glob("*.rnncast"))


def damaged_models(model: Path, tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    raw = model.read_bytes()
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0xFF
    newer = bytearray(raw)
    struct.pack_into("<I", newer, 8, 99)
    return {
        "missing": (tmp_path / "gone.rnncast", ["not found"]),
        "a csv": (write(tmp_path / "prices.rnncast", DAILY_HEAD), ["not an rnncast model", "CSV"]),
        "truncated": (write(tmp_path / "cut.rnncast", raw[:200]), ["truncated"]),
        "corrupted": (write(tmp_path / "flipped.rnncast", bytes(flipped)), ["corrupt"]),
        "newer version": (write(tmp_path / "newer.rnncast", bytes(newer)), ["newer rnncast", "upgrade"]),
    }


@pytest.mark.parametrize("case", ["missing", "a csv", "truncated", "corrupted", "newer version"])
@pytest.mark.parametrize("command", ["predict", "info"])
def test_bad_model_files(case: str, command: str, daily_model: Path, tmp_path: Path) -> None:
    path, words = damaged_models(daily_model, tmp_path)[case]
    assert_user_error(run(command, path), str(path), *words)


def test_predict_data_missing_a_column(covariate_model: Path, daily: Path) -> None:
    """predict has no --features: the message names the model's column and the file's columns."""
    result = run("predict", covariate_model, "--data", daily)
    assert_user_error(result, "the model's feature column 'temp'", "'date', 'value'", "rnncast info")
    assert "--features" not in result.stderr


def test_predict_horizon_beyond_training(daily_model: Path) -> None:
    assert_user_error(run("predict", daily_model, "--horizon", "9"), "--horizon 9", "trained", "4")


def test_internal_error_exit_1_and_debug_traceback(daily_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom [x]")

    monkeypatch.setattr(api, "forecast", broken)
    result = run("predict", daily_model)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "rnncast: internal error: RuntimeError: boom [x] (run with --debug for the traceback)"]
    debug = run("--debug", "predict", daily_model)
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr and "boom [x]" in debug.stderr
    assert debug.stderr.splitlines()[-1] == "rnncast: internal error: RuntimeError: boom [x]"


def test_debug_shows_the_traceback_of_user_errors(tmp_path: Path) -> None:
    result = run("--debug", "fit", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and result.stderr.splitlines()[-1].startswith("rnncast: error: ")


# ------------------------------------------------------- processes: imports, signals


def test_predict_imports_no_training_code_nor_pandas(daily_model: Path, daily: Path, tmp_path: Path) -> None:
    template = (
        "import sys\n"
        "sys.argv = {argv!r}\n"
        "import rnncast.cli\n"
        "try:\n"
        "    rnncast.cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "assert 'rnncast.train' not in sys.modules\n"
        "assert 'matplotlib' not in sys.modules and 'rnncast.plotting' not in sys.modules\n"  # plot's alone
        "{more}"
    )
    # Nor Numba: a forecast of a few series runs in NumPy (rnncast.inference) to start fast.
    no_pandas = ("assert 'pandas' not in sys.modules and 'pyarrow' not in sys.modules\n"
                 "assert 'numba' not in sys.modules\n"
                 "assert 'rnncast.folders' not in sys.modules and 'rnncast.cluster' not in sys.modules\n")
    for argv, more in [
        (["rnncast", "predict", str(daily_model)], no_pandas),
        (["rnncast", "predict", str(daily_model), "-f", "json", "-o", str(tmp_path / "f.json")], no_pandas),
        (["rnncast", "predict", str(daily_model), "--data", str(daily)], ""),
    ]:
        result = python(template.format(argv=argv, more=more), tmp_path)
        assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "f.json").read_text())[0].keys() == {"timestamp", "forecast"}


def test_the_process_ends_with_every_line_written_and_the_commands_exit_code(daily_model: Path, tmp_path: Path) -> None:
    # The console script ends with os._exit, skipping the interpreter's teardown: what the
    # command wrote must still reach a file (fully buffered, unlike a terminal), and its code stand.
    with (tmp_path / "out.csv").open("w") as out:
        done = subprocess.run([sys.executable, "-m", "rnncast", "predict", str(daily_model), "--horizon", "4",
                               "--level", "80"], cwd=tmp_path, env=env(), stdout=out, stderr=subprocess.PIPE,
                              text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.csv").read_text() == run("predict", daily_model, "--horizon", "4", "--level", "80").stdout
    bad = subprocess.run([sys.executable, "-m", "rnncast", "predict", str(tmp_path / "none.rnncast")], cwd=tmp_path,
                         env=env(), capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("rnncast: error: model file") and bad.stdout == ""


@pytest.mark.parametrize(("code", "status", "stderr"), [(3, 3, ""), (None, 0, ""), ("stopped", 1, "stopped\n")])
def test_the_fast_exit_flushes_what_is_still_buffered(tmp_path: Path, code, status, stderr) -> None:
    script = f"import sys\nfrom rnncast.cli import _exit_now\nsys.stdout.write('unflushed')\n_exit_now({code!r})\n"
    buffered = {name: value for name, value in env().items() if name != "PYTHONUNBUFFERED"}
    with (tmp_path / "out.txt").open("w") as out:
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=buffered, stdout=out,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (status, stderr)
    assert (tmp_path / "out.txt").read_text() == "unflushed"


def test_closed_stdout_exits_quietly(daily_model: Path, tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-m", "rnncast", "predict", str(daily_model)], cwd=tmp_path, env=env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first byte, as with `| head -0`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=300) in (0, 141)
    assert err == ""


def start_long_fit(out: Path, cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "rnncast", "fit", str(BRENT), "-o", str(out), "--hidden", "48",
               "--epochs", "500", "--patience", "0", "--lookback", "60", "--horizon", "10"]
    return subprocess.Popen(command, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_training(proc: subprocess.Popen[str]) -> None:
    """Until the first epoch ends (the kernels may be compiling), then a moment more."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("epoch "):
            time.sleep(1.0)
            return
    pytest.fail(f"the fit ended before training: {proc.wait()}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_killed_fit_leaves_the_previous_model(daily_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.rnncast"
    out.write_bytes(daily_model.read_bytes())
    before = out.read_bytes()
    with start_long_fit(out, tmp_path) as proc:
        try:
            wait_for_training(proc)
            assert proc.poll() is None, "training finished before the kill"
        finally:
            proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == before
    assert api.load(out).window.lookback == 12


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_interrupted_fit_exits_130_with_one_line(daily_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.rnncast"
    out.write_bytes(daily_model.read_bytes())
    before = out.read_bytes()
    with start_long_fit(out, tmp_path) as proc:
        try:
            wait_for_training(proc)
            proc.send_signal(signal.SIGINT)
            _, rest = proc.communicate(timeout=120)
        finally:
            proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == 130
    assert rest.splitlines()[-1] == "rnncast: interrupted" and "Traceback" not in rest
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.rnncast"]
