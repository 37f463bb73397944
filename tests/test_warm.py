"""The cold-cache compile split over two processes (rnncast.kernels.warm): the child compiles the very
kernel a training step calls, the step loads it, and nothing can go wrong because of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnncast.config import NetSpec, TrainSpec
from rnncast.kernels import gru, lstm, rnn, warm
from rnncast.kernels.matmul import matmul_nt
from rnncast.model import init_params
from rnncast.train import TrainStep

BACKWARD = {"lstm": lstm.lstm_backward, "gru": gru.gru_backward, "rnn": rnn.rnn_backward}


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_signature_the_child_compiles_is_the_one_a_training_step_calls(cell: str, dtype: type) -> None:
    spec = NetSpec(cell=cell, hidden=8, layers=2, horizon=3)
    rng = np.random.default_rng(0)
    step = TrainStep(spec, TrainSpec(), init_params(spec, rng).astype(dtype))
    step(rng.standard_normal((6, 5, 1)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype))
    assert warm.backward_signature(np.dtype(dtype)) in BACKWARD[cell].signatures
    assert warm.product_signature(np.dtype(dtype)) in matmul_nt.signatures  # what share_product() compiles here


_STEP = """
import json, numpy as np
from rnncast.config import NetSpec, TrainSpec
from rnncast.kernels import lstm
from rnncast.model import init_params
from rnncast.train import TrainStep
spec = NetSpec()
rng = np.random.default_rng(0)
step = TrainStep(spec, TrainSpec(), init_params(spec, rng))
step(rng.standard_normal((48, 64, 1)).astype(np.float32), rng.standard_normal((64, 24)).astype(np.float32))
stats = lstm.lstm_backward.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}))
"""


def test_on_a_cold_cache_the_first_step_loads_the_backward_the_child_compiled(tmp_path: Path) -> None:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop(warm.SWITCH, None)
    done = subprocess.run([sys.executable, "-c", _STEP], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"hits": 1, "misses": 0}
    assert list(tmp_path.rglob("lstm.lstm_backward-*.nbi"))


class _Kernel:
    signatures: list = []


def test_a_child_starts_only_for_a_kernel_neither_here_nor_cached_nor_switched_off(monkeypatch) -> None:
    import rnncast.kernels.cache as cache

    started, here = [], []
    monkeypatch.setattr(warm.subprocess, "Popen", lambda args, **kw: started.append(args) or "child")
    monkeypatch.setattr(warm, "_compile_product_here", here.append)
    monkeypatch.setattr(warm, "_backward", lambda cell: _Kernel())
    monkeypatch.setattr(warm, "_child", None)
    monkeypatch.setattr(warm, "_product_shared", False)
    monkeypatch.delenv(warm.SWITCH, raising=False)
    monkeypatch.setattr(cache, "cached", lambda kernel: kernel == "gru.gru_backward")
    warm.start("gru", np.dtype(np.float32))  # in the cache already
    monkeypatch.setenv(warm.SWITCH, "0")
    warm.start("lstm", np.dtype(np.float32))  # switched off
    assert started == []
    monkeypatch.delenv(warm.SWITCH)
    warm.start("lstm", np.dtype(np.float32))
    warm.start("lstm", np.dtype(np.float32))  # one under way: no second
    assert started == [[sys.executable, "-m", "rnncast.kernels.warm", "lstm", "float32"]]
    assert here == []  # not before the data is read
    warm.share_product(np.dtype(np.float32))
    warm.share_product(np.dtype(np.float32))
    assert here == [np.dtype(np.float32)]  # the shared product compiles here beside that one child, once
    monkeypatch.setattr(warm, "_child", None)


def test_no_interpreter_to_start_means_compiling_here(monkeypatch) -> None:
    import rnncast.kernels.cache as cache

    def refuse(*args, **kw):
        raise OSError("no such file")

    monkeypatch.setattr(warm.subprocess, "Popen", refuse)
    monkeypatch.setattr(warm, "_backward", lambda cell: _Kernel())
    monkeypatch.setattr(cache, "cached", lambda kernel: False)
    monkeypatch.setattr(warm, "_child", None)
    monkeypatch.delenv(warm.SWITCH, raising=False)
    warm.start("lstm", np.dtype(np.float32))
    assert warm._child is None
    warm.wait()  # nothing to wait for


def test_a_child_that_overruns_is_killed_and_the_wait_ends(monkeypatch) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(warm, "_child", child)
    monkeypatch.setattr(warm, "WAIT_S", 0.2)
    started = time.perf_counter()
    warm.wait()
    assert time.perf_counter() - started < 10 and child.returncode is not None and warm._child is None


def test_at_exit_a_child_nobody_waited_for_is_ended(monkeypatch) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(warm, "_child", child)
    warm.stop()  # what atexit (and the CLI at its end) runs when a fit fails before its first backward step
    assert child.returncode is not None and warm._child is None


def _warm_children(cache: Path) -> list[int]:
    """Processes compiling for the Numba cache `cache` (found by their command line and environment)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (b"rnncast.kernels.warm" in (proc / "cmdline").read_bytes()
                    and f"NUMBA_CACHE_DIR={cache}".encode() in (proc / "environ").read_bytes()):
                found.append(int(proc.name))
        except (OSError, ValueError):  # gone meanwhile, or not a process
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes through Linux's /proc")
def test_a_fit_that_fails_on_its_data_leaves_no_compiling_child(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,value\n2024-01-01,1\n2024-01-02,abc\n")
    cache = tmp_path / "cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(Path(__file__).parents[1])}
    env.pop(warm.SWITCH, None)
    result = subprocess.run([sys.executable, "-m", "rnncast", "fit", str(bad)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "not a number" in result.stderr
    assert _warm_children(cache) == []
