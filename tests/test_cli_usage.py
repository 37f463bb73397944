"""Every usage error is one `rnncast: error:` line naming the option, what was given and what is allowed; exit 2."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import types
import typing
from pathlib import Path

import pytest
import typer.main

from helpers import TINY, daily_csv, env, run
from rnncast.cli import app

LEAKS = ("Value error", "Input should be", "Try '", "Usage:", "Traceback")


def _bad_values() -> list[tuple[str, str, str]]:
    """(command, option, a wrong value) for every typed option of every command."""
    cases = []
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            if param.param_type_name != "option" or param.is_flag:
                continue
            annotation = param.type_descriptor.annotation
            while typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
                annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
            if typing.get_origin(annotation) is typing.Literal:
                cases.append((name, max(param.opts, key=len), "bogus"))
            elif annotation in (int, float):
                cases.append((name, max(param.opts, key=len), "abc"))
    return cases


BAD_VALUES = _bad_values()


def test_the_table_covers_every_typed_option() -> None:
    options = {(c, o) for c, o, _ in BAD_VALUES}
    for expected in [("fit", "--cell"), ("fit", "--lookback"), ("fit", "--lr"), ("predict", "--format"),
                     ("predict", "--level"), ("backtest", "--folds"), ("backtest", "--windows-per-epoch")]:
        assert expected in options


def _one_line(result) -> str:
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rnncast: error: "), lines[0]
    for leak in LEAKS:
        assert leak not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("command, option, value", BAD_VALUES, ids=[f"{c} {o}" for c, o, _ in BAD_VALUES])
def test_a_wrong_value_is_one_line_naming_the_option_and_the_value(command: str, option: str, value: str) -> None:
    target = "m.rnncast" if command in ("predict", "info") else "data.csv"
    line = _one_line(run(command, target, option, value))
    assert option in line and repr(value) in line


def test_a_wrong_choice_says_what_is_allowed() -> None:
    line = _one_line(run("predict", "m.rnncast", "--format", "xml"))
    assert line == "rnncast: error: --format 'xml' is not allowed; use one of csv, json, parquet"


@pytest.mark.parametrize("args, words", [
    (["fit", "x.csv", "--bogus"], ["rnncast fit has no option --bogus", "rnncast fit --help"]),
    (["fit"], ["rnncast fit needs DATA"]),
    (["fit", "x.csv", "--lookback"], ["--lookback needs a value"]),
    (["nosuch"], ["no such command 'nosuch'", "the commands are fit, predict, backtest, update, plot and info"]),
])
def test_other_usage_errors_are_one_line(args: list[str], words: list[str]) -> None:
    line = _one_line(run(*args))
    for word in words:
        assert word in line, line


def test_a_horizon_below_one_says_what_is_allowed(tmp_path: Path) -> None:
    data = daily_csv(tmp_path / "d.csv")
    assert run("fit", data, *TINY, "-q", "-o", str(tmp_path / "m.rnncast")).exit_code == 0
    for horizon in ("0", "-1"):
        line = _one_line(run("predict", str(tmp_path / "m.rnncast"), "--horizon", horizon))
        assert "--horizon must be from 1 to 4" in line and f"got {horizon}" in line and "fit again" not in line


def test_info_uses_the_only_model_here_as_predict_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = daily_csv(tmp_path / "d.csv")
    assert run("fit", data, *TINY, "-q", "-o", str(tmp_path / "only.rnncast")).exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = run("info")
    assert result.exit_code == 0, result.stderr
    assert "using model only.rnncast" in result.stderr and "rnncast_version" in result.stdout


def test_sigterm_ends_a_fit_with_one_line_143_and_the_old_model_intact(tmp_path: Path) -> None:
    data = daily_csv(tmp_path / "d.csv", n=3000)
    model = tmp_path / "m.rnncast"
    assert run("fit", data, *TINY, "-q", "-o", str(model)).exit_code == 0
    before = model.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "rnncast", "fit", str(data), "--epochs", "500", "--patience", "0",
                             "-q", "-o", str(model)], cwd=tmp_path, env=env(), stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # well into training (imports and cached kernels take a few seconds)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["rnncast: terminated"]
    assert model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "m.rnncast"]  # no temporary file left


@pytest.mark.parametrize("command", ["fit", "predict", "backtest", "info"])
def test_help_ends_with_examples_and_names_arguments_plainly(command: str) -> None:
    text = run(command, "--help").stdout
    assert text.index("Options:") < text.index("Example:"), text
    usage = text.splitlines()[0]
    assert "{" not in usage and "<str>" not in text and "<path>" not in text.split("Options:")[0], usage


def test_top_level_help_lists_whole_descriptions_every_exit_code_and_completion() -> None:
    text = run("--help").stdout
    commands = text.split("Commands:")[1].split("Example:")[0]
    assert "..." not in commands and "(or --output)" in " ".join(commands.split())
    flat = " ".join(text.split())
    for code in ("0 done", "2 bad input", "1 internal error", "130 interrupted", "141 stdout closed", "143 terminated"):
        assert code in flat
    assert "--install-completion" in text and "--show-completion" in text
    assert run("-V").stdout.strip().startswith("rnncast ")


def test_the_first_fit_on_a_machine_says_it_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rnncast.kernels.cache as cache
    from rnncast.cli.commands import FIRST_COMPILE

    data = daily_csv(tmp_path / "d.csv")
    monkeypatch.setattr(cache, "compiled", lambda cell="lstm": False)
    first = run("fit", data, *TINY, "-o", str(tmp_path / "m.rnncast"))
    assert first.exit_code == 0 and first.stderr.splitlines()[0] == FIRST_COMPILE
    monkeypatch.setattr(cache, "compiled", lambda cell="lstm": True)
    later = run("fit", data, *TINY, "-o", str(tmp_path / "m.rnncast"))
    assert later.exit_code == 0 and FIRST_COMPILE not in later.stderr
    assert FIRST_COMPILE not in run("fit", data, *TINY, "-q", "-o", str(tmp_path / "m.rnncast")).stderr


def test_the_compile_check_looks_in_the_chosen_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rnncast.kernels.cache as cache

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not cache.compiled()
    (tmp_path / "some" / "folder").mkdir(parents=True)
    (tmp_path / "some" / "folder" / "gru.gru_forward-40.py311.nbi").write_bytes(b"")
    assert cache.compiled("gru") and not cache.compiled("lstm")


def _readme_error_examples() -> list[tuple[str, str]]:
    """($ command, its one stderr line) from README's error table that need no model or made-up file."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("## Errors and exit codes", 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    pairs = [(lines[i][2:], lines[i + 1]) for i in range(0, len(lines) - 1, 2) if lines[i].startswith("$ ")]
    return [(cmd, out) for cmd, out in pairs if "sample_data/" in cmd or cmd == "rnncast fit prices.csv"]


README_ERRORS = _readme_error_examples()


def test_readme_error_examples_are_found() -> None:
    assert len(README_ERRORS) >= 4


@pytest.mark.parametrize("command, expected", README_ERRORS, ids=[c for c, _ in README_ERRORS])
def test_readme_error_examples_print_what_readme_shows(command: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "sample_data").symlink_to(Path(__file__).resolve().parents[1] / "sample_data")
    result = subprocess.run([sys.executable, "-m", "rnncast", *command.split()[1:]], cwd=tmp_path, env=env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.splitlines() == [expected], result.stderr
