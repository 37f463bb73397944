"""Faults while writing, and numerical faults: a model is never lost, a wrong forecast never printed.

Writing: `fit` killed with SIGKILL at moments spread over its run, killed in the middle of
writing the file, a read-only folder, a full disk, two fits writing one path at once.
Numbers: a diverging fit, and model files whose weights are huge or infinite but whose
checksum is valid (made through rnncast.api, as a bug or a careless script would).

Subprocesses where the process itself is the point (SIGKILL, concurrency); the CLI
in-process (CliRunner) for the rest.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from helpers import daily_csv, env, run
from rnncast import api, atomic
from rnncast.format import load_model, save_model

# About 1 s of training after about 1.5 s of start-up: kills land in every phase.
SLOW_FIT = ["--epochs", "20", "--hidden", "32", "--lookback", "28", "--horizon", "7", "--patience", "0", "-q"]
TINY = ["--epochs", "1", "--hidden", "4", "--lookback", "8", "--horizon", "3", "-q"]
KILLS = 22

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and file locks")


def assert_user_error(result, *words: str) -> None:
    """Exit 2, exactly one stderr line `rnncast: error: ...` with `words`, nothing on stdout."""
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("rnncast: error: "), result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def data(folder: Path) -> Path:
    return daily_csv(folder / "daily.csv", 1500)


@pytest.fixture(scope="module")
def small_data(folder: Path) -> Path:
    return daily_csv(folder / "small.csv", 80)


@pytest.fixture(scope="module")
def small_model(folder: Path, small_data: Path) -> bytes:
    path = folder / "small.rnncast"
    assert run("fit", small_data, *TINY, "-o", path).exit_code == 0
    return path.read_bytes()


def start_fit(data: Path, out: Path, seed: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "rnncast", "fit", str(data), *SLOW_FIT, "--seed", str(seed), "-o", str(out)]
    return subprocess.Popen(command, cwd=out.parent, env=env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def reference(folder: Path, data: Path) -> tuple[bytes, float]:
    """A model from a whole slow fit (seed 1) and how long that fit took, start-up included."""
    out = folder / "reference.rnncast"
    started = time.monotonic()
    with start_fit(data, out, seed=1) as proc:
        _, err = proc.communicate(timeout=300)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, err.decode()
    return out.read_bytes(), seconds


# ------------------------------------------------------------------------- SIGKILL


def test_sigkill_at_moments_spread_over_the_fit_keeps_the_previous_model(
        reference: tuple[bytes, float], data: Path, tmp_path: Path) -> None:
    previous, seconds = reference
    rng = np.random.default_rng(2024)
    # From the first instant to past the reference run's end, with jitter; two
    # lanes (folders) at a time to halve the wall time, which also slows each fit down.
    moments = np.linspace(0.0, 1.3 * seconds, KILLS) + rng.uniform(0.0, 0.1 * seconds / KILLS, KILLS)
    lanes = [tmp_path / "lane0", tmp_path / "lane1"]
    current = {}
    seen: dict[Path, set[str]] = {lane: set() for lane in lanes}
    for lane in lanes:
        lane.mkdir()
        (lane / "model.rnncast").write_bytes(previous)
        current[lane] = previous
    outcomes = {"killed": 0, "killed, temporary file left": 0, "finished first": 0}
    for pair in range(0, KILLS, 2):
        procs = []
        for lane, moment in zip(lanes, moments[pair : pair + 2]):
            procs.append((lane, moment, time.monotonic(), start_fit(data, lane / "model.rnncast", seed=2 + pair)))
        for _lane, moment, started, proc in sorted(procs, key=lambda item: item[1]):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            proc.kill()
        for lane, moment, _started, proc in procs:
            _, err = proc.communicate(timeout=300)
            model = lane / "model.rnncast"
            if proc.returncode == -signal.SIGKILL:
                left = set(temporaries(lane)) - seen[lane]
                seen[lane] |= left
                outcomes["killed, temporary file left" if left else "killed"] += 1
                if model.read_bytes() != current[lane]:
                    # Killed after the rename (syncing the folder, printing, exiting): then
                    # the file is the new model, whole. Anything else would be a lost model.
                    assert api.load(model).train.seed == 2 + pair, f"killed at {moment:.2f} s: model damaged"
                    outcomes["killed after the rename"] = outcomes.get("killed after the rename", 0) + 1
                    current[lane] = model.read_bytes()
            else:
                # It finished before the kill: then the new model is whole.
                assert proc.returncode == 0, err.decode()
                outcomes["finished first"] += 1
                current[lane] = model.read_bytes()
                assert api.load(model).train.seed == 2 + pair
            # The old model, and at most temporary files of the kill, nothing else.
            others = {p.name for p in lane.iterdir()} - {"model.rnncast"}
            assert all(name.startswith(".model.rnncast.") and name.endswith(".tmp") for name in others), others
    print(f"SIGKILL outcomes over {KILLS} moments in 0..{1.3 * seconds:.1f} s: {outcomes}")
    # Most moments fall before the end (how many depends on the machine's load).
    assert outcomes["killed"] + outcomes["killed, temporary file left"] >= KILLS // 2, outcomes
    for lane in lanes:
        # Later runs do not trip over anything a kill left: fit, predict, and predict
        # without naming the model (which looks for the only *.rnncast file).
        result = run("fit", data, *TINY, "-o", lane / "model.rnncast")
        assert result.exit_code == 0, result.stderr
        forecast = run("predict", lane / "model.rnncast")
        assert forecast.exit_code == 0 and len(forecast.stdout.splitlines()) == 1 + 3
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(lane)
            assert run("predict").exit_code == 0


# A fit that stops for good in the middle of writing the model file, so the test can
# kill it there: the one moment of a run that random kill times hardly ever hit.
PAUSED_WRITER = """
import sys, time
import rnncast.atomic as atomic

real = atomic._write_all
written = []

def paused(fd, chunk):
    real(fd, chunk)
    written.append(len(chunk))
    if len(written) == 2:
        sys.stderr.write("writing\\n")
        sys.stderr.flush()
        time.sleep(600)

atomic._write_all = paused
from rnncast.cli import main
sys.argv = ["rnncast", "fit", *sys.argv[1:]]
main()
"""


def start_paused_writer(data: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", PAUSED_WRITER, str(data), *TINY, "-o", str(out)]
    proc = subprocess.Popen(command, cwd=out.parent, env=env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line == b"writing\n", line + proc.stderr.read()
    return proc


def test_sigkill_while_writing_keeps_the_old_model_and_the_next_fit_cleans_up(
        small_data: Path, small_model: bytes, tmp_path: Path) -> None:
    model = tmp_path / "model.rnncast"
    model.write_bytes(small_model)
    with start_paused_writer(small_data, model) as proc:
        proc.kill()
    assert proc.wait() == -signal.SIGKILL
    assert model.read_bytes() == small_model
    (left,) = temporaries(tmp_path)
    assert 0 < (tmp_path / left).stat().st_size < len(small_model)  # a partial file
    assert api.load(model).params.keys()  # the old model still loads
    # A fresh leftover might be a live writer's on another machine: kept.
    result = run("fit", small_data, *TINY, "-o", model, "--seed", "5")
    assert result.exit_code == 0, result.stderr
    assert temporaries(tmp_path) == [left]
    # Once it is old and nobody holds its lock, the next write removes it.
    old = time.time() - 2 * atomic.STALE_SECONDS
    os.utime(tmp_path / left, (old, old))
    assert run("fit", small_data, *TINY, "-o", model, "--seed", "6").exit_code == 0
    assert temporaries(tmp_path) == []
    assert api.load(model).train.seed == 6
    assert run("predict", model).exit_code == 0


def test_a_live_writers_temporary_file_is_never_removed(small_data: Path, small_model: bytes,
                                                        tmp_path: Path) -> None:
    model = tmp_path / "model.rnncast"
    model.write_bytes(small_model)
    with start_paused_writer(small_data, model) as proc:
        try:
            (live,) = temporaries(tmp_path)
            old = time.time() - 2 * atomic.STALE_SECONDS
            os.utime(tmp_path / live, (old, old))  # old, but locked by a live process
            assert run("fit", small_data, *TINY, "-o", model).exit_code == 0
            assert temporaries(tmp_path) == [live]
        finally:
            proc.kill()
    proc.wait()


# --------------------------------------------------------- read-only folder, full disk


def fail_temporary_files(monkeypatch: pytest.MonkeyPatch, function: str, code: int) -> None:
    """Make os.<function> fail with `code` for atomic_write's temporary files only."""
    real = getattr(os, function)

    def failing(path, *args, **kwargs):  # noqa: ANN001, ANN202
        if str(path).endswith(".tmp"):
            raise OSError(code, os.strerror(code), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(atomic.os, function, failing)


@pytest.mark.parametrize(("function", "code", "words"), [
    ("open", errno.EACCES, "permission denied"),
    ("open", errno.EROFS, "read-only file system"),
    ("replace", errno.EROFS, "read-only file system"),
    ("replace", errno.EACCES, "permission denied"),
])
def test_unwritable_folder_exits_2_and_keeps_the_old_model(
        function: str, code: int, words: str, small_data: Path, small_model: bytes, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated: tests run as root, for whom neither chmod nor most mounts deny writes.
    model = tmp_path / "model.rnncast"
    model.write_bytes(small_model)
    fail_temporary_files(monkeypatch, function, code)
    assert_user_error(run("fit", small_data, *TINY, "-o", model), str(model), words)
    assert model.read_bytes() == small_model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.rnncast"]
    forecast = tmp_path / "forecast.csv"
    assert_user_error(run("predict", model, "-o", forecast), str(forecast), words)
    assert not forecast.exists()


def test_really_read_only_folder(small_data: Path, small_model: bytes, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    model = folder / "model.rnncast"
    model.write_bytes(small_model)
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not stop root from writing "
                        "(test_really_read_only_mount and the simulated cases cover it)")
        assert_user_error(run("fit", small_data, *TINY, "-o", model), "permission denied")
        assert model.read_bytes() == small_model
    finally:
        folder.chmod(0o755)


@contextmanager
def mounted(target: Path, *commands: list[str]) -> Iterator[None]:
    """Run mount `commands` on `target` (root with CAP_SYS_ADMIN only), unmount after; else skip."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the simulated cases cover it")
    for command in commands:
        done = subprocess.run(["mount", *command, str(target)], capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(target)], capture_output=True)
            pytest.skip(f"cannot mount here ({done.stderr.strip()}): the simulated cases cover it")
    try:
        yield
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


def test_really_read_only_mount(small_data: Path, small_model: bytes, tmp_path: Path) -> None:
    source, folder = tmp_path / "source", tmp_path / "ro"
    source.mkdir()
    folder.mkdir()
    (source / "model.rnncast").write_bytes(small_model)
    with mounted(folder, ["--bind", str(source)], ["-o", "remount,bind,ro"]):
        model = folder / "model.rnncast"
        assert_user_error(run("fit", small_data, *TINY, "-o", model), str(model), "read-only file system")
        assert model.read_bytes() == small_model
        forecast = folder / "forecast.csv"
        assert_user_error(run("predict", model, "-o", forecast), str(forecast), "read-only file system")
        assert run("predict", model).exit_code == 0  # reading still works
        assert sorted(p.name for p in folder.iterdir()) == ["model.rnncast"]


def test_really_full_disk(small_data: Path, small_model: bytes, tmp_path: Path) -> None:
    folder = tmp_path / "small-disk"
    folder.mkdir()
    with mounted(folder, ["-t", "tmpfs", "-o", "size=64k", "tmpfs"]):
        model = folder / "model.rnncast"
        model.write_bytes(small_model)
        info = os.statvfs(folder)
        (folder / "filler").write_bytes(bytes(max(info.f_bavail * info.f_frsize - 1024, 0)))
        assert_user_error(run("fit", small_data, *TINY, "-o", model), str(model), "no space left on the device")
        assert model.read_bytes() == small_model
        assert sorted(p.name for p in folder.iterdir()) == ["filler", "model.rnncast"]
        (folder / "filler").unlink()  # space again: the next fit works
        assert run("fit", small_data, *TINY, "-o", model).exit_code == 0
        assert run("predict", model).exit_code == 0


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOSPC, "no space left on the device"),
    (errno.EDQUOT, "no space left on the device"),
    (errno.EIO, "Input/output error"),
])
@pytest.mark.parametrize("after_bytes", [0, 100, 5000])
def test_full_disk_exits_2_and_keeps_the_old_model(
        code: int, words: str, after_bytes: int, small_data: Path, small_model: bytes, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model.rnncast"
    model.write_bytes(small_model)
    real = os.write
    total = {"written": 0}

    def filling(fd: int, data: bytes) -> int:
        room = after_bytes - total["written"]
        if room <= 0:
            raise OSError(code, os.strerror(code))
        done = real(fd, memoryview(data)[:room])  # a short write, then the disk is full
        total["written"] += done
        return done

    monkeypatch.setattr(atomic.os, "write", filling)
    assert_user_error(run("fit", small_data, *TINY, "-o", model), str(model), words)
    assert model.read_bytes() == small_model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.rnncast"]
    forecast = tmp_path / "forecast.json"
    total["written"] = after_bytes - min(after_bytes, 50)  # the forecast is smaller than a model
    assert_user_error(run("predict", model, "-f", "json", "-o", forecast), str(forecast), words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.rnncast"]


def test_failing_fsync_exits_2_and_keeps_the_old_model(small_data: Path, small_model: bytes, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model.rnncast"
    model.write_bytes(small_model)

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(atomic.os, "fsync", broken)
    assert_user_error(run("fit", small_data, *TINY, "-o", model), str(model), "Input/output error")
    assert model.read_bytes() == small_model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.rnncast"]


# ------------------------------------------------------------------- concurrent writers


def test_two_fits_writing_one_path_at_once_leave_one_whole_model(
        reference: tuple[bytes, float], data: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.rnncast"
    model.write_bytes(b"an old model that is about to be replaced")
    procs = [start_fit(data, model, seed) for seed in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    winner = api.load(model)  # loads: whole, checksum intact
    assert winner.train.seed in (1, 2)
    if winner.train.seed == 1:  # the same weights as the same fit alone
        alone = tmp_path / "alone.rnncast"
        alone.write_bytes(reference[0])
        for name, weights in api.load(alone).params.items():
            np.testing.assert_array_equal(winner.params[name], weights)
    assert temporaries(tmp_path) == []
    assert run("predict", model).exit_code == 0


def test_many_threads_replacing_one_file_leave_exactly_one_version(tmp_path: Path) -> None:
    path = tmp_path / "m.rnncast"
    versions = {k: {"a": np.full(50_000, k, dtype=np.float64)} for k in range(8)}
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for _ in range(5):
                save_model(path, {"version": k}, versions[k])
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    header, arrays = load_model(path)
    np.testing.assert_array_equal(arrays["a"], versions[header["version"]]["a"])
    assert temporaries(tmp_path) == []


# --------------------------------------------------------------------- numerical faults


@pytest.mark.parametrize("options", [
    ["--lr", "1e30", "--clip", "0"],  # the loss becomes inf
    ["--lr", "1e15", "--clip", "0", "--epochs", "3"],  # the weights become inf
    ["--lr", "1e10", "--clip", "0"],  # all finite, but forecasts of 1e10 for data near 10
    ["--lr", "1e30", "--cell", "rnn", "--loss", "mae", "--clip", "0"],  # forecasts of 1e30
])
def test_diverging_fit_exits_2_and_writes_nothing(options: list[str], small_data: Path, small_model: bytes,
                                                  tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.rnncast"
    assert_user_error(run("fit", small_data, *TINY, *options, "-o", fresh), "training diverged", "--lr")
    assert not fresh.exists()
    existing = tmp_path / "existing.rnncast"
    existing.write_bytes(small_model)
    assert_user_error(run("fit", small_data, *TINY, *options, "-o", existing), "training diverged")
    assert existing.read_bytes() == small_model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.rnncast"]


def with_params(model: api.Model, change) -> api.Model:  # noqa: ANN001
    return dataclasses.replace(model, params={name: change(name, w.copy()) for name, w in model.params.items()})


WEIGHT_DAMAGE = {
    "every weight inf": lambda name, w: np.full_like(w, np.inf),
    "one weight nan": lambda name, w: np.where(np.arange(w.size).reshape(w.shape) == 0, np.nan, w)
    if name == "head.bias" else w,
    "every weight 3e38": lambda name, w: np.full_like(w, 3e38),
    "head weights 3e38": lambda name, w: np.full_like(w, 3e38) if name.startswith("head") else w,
    "head bias -3e38": lambda name, w: np.full_like(w, -3e38) if name == "head.bias" else w,
    "head bias 1e9": lambda name, w: np.full_like(w, 1e9) if name == "head.bias" else w,  # finite, absurd
    "every weight 1e10": lambda name, w: np.full_like(w, 1e10),
}


@pytest.mark.parametrize("damage", list(WEIGHT_DAMAGE))
def test_damaged_weights_with_a_valid_checksum_never_print_a_forecast(
        damage: str, small_model: bytes, tmp_path: Path) -> None:
    good = tmp_path / "good.rnncast"
    good.write_bytes(small_model)
    bad = tmp_path / "bad.rnncast"
    api.save(with_params(api.load(good), WEIGHT_DAMAGE[damage]), bad)
    load_model(bad)  # the file itself is intact: only its numbers are wrong
    for fmt in ("csv", "json"):
        result = run("predict", bad, "-f", fmt)
        assert_user_error(result, "bad.rnncast" if "inf" in damage or "nan" in damage else "fit it again")
    out = tmp_path / "forecast.csv"
    assert_user_error(run("predict", bad, "-o", out))
    assert not out.exists()


ARRAY_DAMAGE = {
    "nan in the history": ("history/values", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a)),
    "inf in the history": ("history/values", lambda a: np.full_like(a, np.inf)),
    "a missing future timestamp": ("history/future_times", lambda a: np.where(a == a[0, 0], np.iinfo(np.int64).min, a)),
    "history of another shape": ("history/values", lambda a: np.concatenate([a, a])),
    "future times of another shape": ("history/future_times", lambda a: a[:, :1]),
    "inf scaler": ("scaler/scale", lambda a: np.full_like(a, np.inf)),
    "zero scaler": ("scaler/scale", lambda a: np.zeros_like(a)),
}


@pytest.mark.parametrize("damage", list(ARRAY_DAMAGE))
def test_inconsistent_arrays_with_a_valid_checksum_are_refused(damage: str, small_model: bytes,
                                                               tmp_path: Path) -> None:
    good = tmp_path / "good.rnncast"
    good.write_bytes(small_model)
    header, arrays = load_model(good)
    name, change = ARRAY_DAMAGE[damage]
    arrays[name] = change(arrays[name])
    bad = tmp_path / "bad.rnncast"
    save_model(bad, header, arrays)
    for command in ("predict", "info"):
        assert_user_error(run(command, bad), str(bad), "not a usable rnncast model")


@pytest.mark.parametrize("patch", [None, 0, 7])  # unresolved, impossible, not a divisor of the lookback
def test_a_window_without_a_usable_patch_is_refused(patch: int | None, small_model: bytes, tmp_path: Path) -> None:
    good = tmp_path / "good.rnncast"
    good.write_bytes(small_model)
    header, arrays = load_model(good)
    header["window"]["patch"] = patch
    bad = tmp_path / "bad.rnncast"
    save_model(bad, header, arrays)
    for command in ("predict", "info"):
        assert_user_error(run(command, bad), str(bad), "not a usable rnncast model")
