"""Unattended runs, as from cron: no terminal, no stdin, a read-only home and package folder.

`fit` and `predict` must still work, print no control characters (no colours, no cursor
movement) to stdout or stderr, and fail with exit 2 and one line where what they were
asked cannot be done (reading '-' from a closed stdin, writing to a closed stdout).

The package runs from a copy made read-only. Tests run as root, for whom chmod stops
nothing, so the copy's `__pycache__` folders are also replaced by plain files: Python
cannot write bytecode there and rnncast.kernels.jit's probe cannot create its cache
folder, exactly as on a read-only installation. HOME is made unusable the same way (its
`.cache` is a file). The Numba cache then falls back to the temporary folder (TMPDIR), or
to ~/.cache/rnncast/numba when HOME is writable. Compiling every kernel from nothing
takes most of a minute, so the fallback folder is seeded with the compiled kernels of
the working tree (same sources, same timestamps); if Numba does not take them it
compiles, which is slower but tests the same thing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, TINY, daily_csv

# Bytes that move a terminal's cursor, change colours or ring bells: everything below
# space but newline and tab, and DEL. An ESC (0x1b) starts every colour code.
CONTROL = set(range(32)) - {ord("\n"), ord("\t")} | {0x7F}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file descriptors and permissions")


def control_bytes(data: bytes) -> list[str]:
    return sorted({f"0x{b:02x}" for b in data if b in CONTROL})


def block(folder: Path) -> None:
    """Make `folder` impossible to create or write into, even for root: a file in its place."""
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.write_bytes(b"")


def make_read_only(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)


def make_writable(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def seed_numba_cache(package: Path, cache_root: Path) -> Path:
    """Copy the working tree's compiled kernels to where Numba looks for the copy's; the folder."""
    kernels = package / "rnncast" / "kernels"
    try:
        from numba.core.caching import _CacheLocator

        folder = cache_root / _CacheLocator.get_suitable_cache_subpath(str(kernels / "lstm.py"))
    except (ImportError, AttributeError):  # another Numba: it compiles, slower but the same test
        folder = cache_root
    folder.mkdir(parents=True, exist_ok=True)
    compiled = ROOT / "rnncast" / "kernels" / "__pycache__"
    for path in compiled.glob("*.nb[ic]") if compiled.is_dir() else []:
        shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A read-only copy of the package, an unusable HOME, a private TMPDIR, data."""
    top = tmp_path_factory.mktemp("unattended")
    package = top / "site"
    shutil.copytree(ROOT / "rnncast", package / "rnncast", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [package / "rnncast", *[p for p in (package / "rnncast").rglob("*") if p.is_dir()]]:
        block(folder / "__pycache__")
    home = top / "home"
    home.mkdir()
    block(home / ".cache")
    tmp = top / "tmp"
    tmp.mkdir()
    seed_numba_cache(package, tmp / "rnncast" / "numba")
    work = top / "work"
    work.mkdir()
    daily_csv(work / "daily.csv")
    make_read_only(package)
    make_read_only(home)
    yield {"package": package, "home": home, "tmp": tmp, "work": work}
    make_writable(top)  # so pytest can clean up


def unattended_env(site: dict[str, Path], **extra: str) -> dict[str, str]:
    """A cron-like environment: a terminal type but no terminal, no colour settings."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    return {**keep, "PYTHONPATH": str(site["package"]), "HOME": str(site["home"]), "TMPDIR": str(site["tmp"]),
            "TERM": "xterm-256color", "SHELL": "/bin/sh", "LOGNAME": "cron", **extra}


def close_stdin() -> None:
    os.close(0)


def rnncast(site: dict[str, Path], *args: str, stdin: str = "devnull", env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m rnncast ARGS` in the work folder with stdin /dev/null or closed, no terminal."""
    options: dict[str, object] = {"stdin": subprocess.DEVNULL}
    if stdin == "closed":
        options = {"stdin": None, "preexec_fn": close_stdin}
    result = subprocess.run([sys.executable, "-m", "rnncast", *args], cwd=site["work"],
                            env=env or unattended_env(site), capture_output=True, timeout=timeout,
                            start_new_session=True, **options)  # no controlling terminal
    for name, data in (("stdout", result.stdout), ("stderr", result.stderr)):
        assert not control_bytes(data), (name, control_bytes(data), data.decode(errors="replace"))
    return result


def test_the_copy_is_what_runs_and_numba_falls_back_to_the_temporary_folder(site: dict[str, Path]) -> None:
    # rnncast.model imports numba before rnncast.kernels.jit chooses the folder: the
    # order `rnncast fit` imports them in.
    code = ("import rnncast, rnncast.model, numba\n"
            "print(rnncast.__file__)\n"
            "print(numba.config.CACHE_DIR)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=site["work"], env=unattended_env(site),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    where, cache = result.stdout.splitlines()
    assert Path(where).is_relative_to(site["package"])
    assert Path(cache) == site["tmp"] / "rnncast" / "numba"


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_fit_predict_info_without_terminal_stdin_or_writable_folders(site: dict[str, Path], stdin: str) -> None:
    model = f"daily-{stdin}.rnncast"
    fitted = rnncast(site, "fit", "daily.csv", *TINY, "-o", model, stdin=stdin)
    assert fitted.returncode == 0, fitted.stderr.decode()
    err = fitted.stderr.decode()
    assert "epoch 2/2" in err and "validation MAE" in err and fitted.stdout == b""
    for fmt in ("csv", "json"):
        predicted = rnncast(site, "predict", model, "-f", fmt, stdin=stdin)
        assert predicted.returncode == 0, predicted.stderr.decode()
        assert predicted.stderr == b"" and len(predicted.stdout.splitlines()) >= 4
    to_file = rnncast(site, "predict", model, "-f", "parquet", "-o", f"forecast-{stdin}.parquet", stdin=stdin)
    assert to_file.returncode == 0 and (site["work"] / f"forecast-{stdin}.parquet").stat().st_size > 0
    described = rnncast(site, "info", model, stdin=stdin)
    assert described.returncode == 0 and b"lookback: 12" in described.stdout
    refused = rnncast(site, "predict", "no-such.rnncast", stdin=stdin)
    assert refused.returncode == 2 and refused.stderr.decode().startswith("rnncast: error: ")
    assert len(refused.stderr.splitlines()) == 1
    # Nothing was written into the read-only package copy or the home folder.
    assert not [p for p in site["package"].rglob("*") if p.suffix in (".pyc", ".nbi", ".nbc")]
    assert (site["home"] / ".cache").is_file()


def test_help_and_usage_errors_have_no_control_characters(site: dict[str, Path]) -> None:
    for args in (["--help"], ["fit", "--help"], ["predict", "--help"]):
        result = rnncast(site, *args)
        assert result.returncode == 0 and b"Example:" in result.stdout
    usage = rnncast(site, "fit")
    assert usage.returncode == 2


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_reading_dash_from_an_empty_or_closed_stdin_is_a_one_line_error(site: dict[str, Path], stdin: str) -> None:
    fitted = rnncast(site, "fit", "-", *TINY, "-o", "from-stdin.rnncast", stdin=stdin)
    assert fitted.returncode == 2, fitted.stderr.decode()
    line = fitted.stderr.decode()
    assert line.count("\n") == 1 and line.startswith("rnncast: error: ")
    assert ("closed" if stdin == "closed" else "empty") in line
    assert not (site["work"] / "from-stdin.rnncast").exists()


def test_closed_stdout_and_stderr(site: dict[str, Path]) -> None:
    env = unattended_env(site)
    base = [sys.executable, "-m", "rnncast"]

    def run(args: list[str], *closed: int) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(base + args, cwd=site["work"], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=300, start_new_session=True,
                              preexec_fn=lambda: [os.close(fd) for fd in closed])

    # fit writes nothing to stdout: a closed one changes nothing, nor a closed stderr.
    assert run(["fit", "daily.csv", *TINY, "-o", "closed.rnncast"], 1).returncode == 0
    assert run(["fit", "daily.csv", *TINY, "-o", "closed.rnncast"], 2).returncode == 0
    assert run(["predict", "closed.rnncast", "-o", "closed.csv"], 1, 2).returncode == 0
    assert (site["work"] / "closed.csv").read_text().startswith("timestamp,forecast\n")
    # A forecast with nowhere to go is an error, not a silent success.
    refused = run(["predict", "closed.rnncast"], 1)
    assert refused.returncode == 2
    assert refused.stderr.decode().splitlines() == [
        "rnncast: error: stdout is closed; redirect it to a file or a pipe (predict also takes --output FILE)"]
    assert run(["predict", "closed.rnncast"], 1, 2).returncode == 2
    assert run(["fit", "missing.csv"], 2).returncode == 2


def test_numba_falls_back_to_home_cache_when_home_is_writable(site: dict[str, Path], tmp_path: Path) -> None:
    home = tmp_path / "home"
    seeded = seed_numba_cache(site["package"], home / ".cache" / "rnncast" / "numba")
    env = unattended_env(site, HOME=str(home))
    code = "import rnncast.model, numba\nprint(numba.config.CACHE_DIR)\n"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == home / ".cache" / "rnncast" / "numba"
    daily_csv(tmp_path / "d.csv")
    fitted = subprocess.run([sys.executable, "-m", "rnncast", "fit", "d.csv", *TINY, "-q", "-o", "d.rnncast"],
                            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    assert fitted.returncode == 0, fitted.stderr.decode()
    assert fitted.stdout == b"" and fitted.stderr == b""
    assert any(seeded.iterdir())
    assert sorted(p.name for p in (home / ".cache").iterdir()) == ["rnncast"]  # not Numba's own ~/.cache/numba


def test_the_library_reading_dash_with_no_stdin_at_all_is_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnncast.errors import DataError
    from rnncast.io import read_series

    monkeypatch.setattr(sys, "stdin", None)  # what Python makes of a closed fd 0
    with pytest.raises(DataError, match="stdin is closed"):
        read_series("-")


def test_really_read_only_package_and_home(site: dict[str, Path], tmp_path: Path) -> None:
    """The same run from read-only bind mounts, where the system allows mounting (root)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the emulated read-only folders cover it")
    source, package, home = tmp_path / "source", tmp_path / "site", tmp_path / "home"
    shutil.copytree(ROOT / "rnncast", source / "site" / "rnncast", ignore=shutil.ignore_patterns("__pycache__"))
    (source / "home").mkdir()
    package.mkdir()
    home.mkdir()
    tmp = tmp_path / "tmp"
    seed_numba_cache(package, tmp / "rnncast" / "numba")
    mounts: list[Path] = []
    try:
        for src, target in ((source / "site", package), (source / "home", home)):
            for command in (["--bind", str(src)], ["-o", "remount,bind,ro"]):
                done = subprocess.run(["mount", *command, str(target)], capture_output=True, text=True)
                if done.returncode != 0:
                    pytest.skip(f"cannot mount here ({done.stderr.strip()}): the emulated folders cover it")
                if target not in mounts:
                    mounts.append(target)
        probe = package / "rnncast" / "probe"
        with pytest.raises(OSError):
            probe.write_bytes(b"")  # read-only, even for root
        env = unattended_env({"package": package, "home": home, "tmp": tmp})
        work = tmp_path / "work"
        work.mkdir()
        daily_csv(work / "d.csv")
        for args in (["fit", "d.csv", *TINY, "-o", "d.rnncast"], ["predict", "d.rnncast"], ["info", "d.rnncast"]):
            result = subprocess.run([sys.executable, "-m", "rnncast", *args], cwd=work, env=env,
                                    stdin=subprocess.DEVNULL, capture_output=True, timeout=300,
                                    start_new_session=True)
            assert result.returncode == 0, result.stderr.decode()
            assert not control_bytes(result.stdout + result.stderr)
        assert (tmp / "rnncast" / "numba").is_dir()
    finally:
        for target in reversed(mounts):
            subprocess.run(["umount", str(target)], capture_output=True)
