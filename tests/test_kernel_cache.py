"""Kernels loaded from Numba's on-disk cache (rnncast.kernels.jit): a second process gets the very
numbers the compiling one got, without importing Numba's lowering modules, and can still compile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rnncast.kernels import warm

_STEP = """
import json, sys, numpy as np
from rnncast.config import NetSpec, TrainSpec
from rnncast.kernels import lstm
from rnncast.model import init_params, predict, ParamLayout
from rnncast.train import TrainStep

def run(dtype):
    spec = NetSpec(hidden=8, horizon=3)
    rng = np.random.default_rng(0)
    step = TrainStep(spec, TrainSpec(), init_params(spec, rng).astype(dtype))
    loss = step(rng.standard_normal((6, 5, 1)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype))
    out = predict(spec, ParamLayout.for_spec(spec).views(step.params), rng.standard_normal((5, 6, 1)).astype(dtype))
    return [float(loss), step.params.astype(float).tolist(), out.astype(float).ravel().tolist()]

f32 = run(np.float32)
lowering_imported = "numba.typed.typeddict" in sys.modules
f64 = run(np.float64) if sys.argv[1] == "also-float64" else None
stats = lstm.lstm_backward.stats
print(json.dumps({"f32": f32, "f64": f64, "lowering_imported": lowering_imported,
                  "hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}))
"""


def _run(cache: Path, *args: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), **{warm.SWITCH: "0"})
    done = subprocess.run([sys.executable, "-c", _STEP, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_a_second_process_loads_the_kernels_without_numbas_lowering_and_gets_the_same_numbers(tmp_path: Path) -> None:
    compiled = _run(tmp_path, "float32-only")
    loaded = _run(tmp_path, "also-float64")
    assert (compiled["hits"], compiled["misses"]) == (0, 1)
    assert compiled["lowering_imported"]
    assert not loaded["lowering_imported"]  # the refresh a stock cache load does was skipped
    assert loaded["f32"] == compiled["f32"]
    # float64 was not in the cache: it compiled after the loads (a miss), and works
    assert (loaded["hits"], loaded["misses"]) == (1, 1)
    assert loaded["f64"][0] > 0 and len(loaded["f64"][2]) == 15


def test_with_numbas_jit_switched_off_the_kernels_still_import() -> None:
    # NUMBA_DISABLE_JIT=1 makes njit return the plain function, which has no cache to replace.
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    probe = "import rnncast.kernels.lstm as k; print(type(k.lstm_forward).__name__)"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "function"
