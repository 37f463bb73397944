"""Throughput of rnncast's recurrent engine on workload W1, beside PyTorch in the same run.

W1: univariate input (I=1), lookback T=48, hidden H=64, batch B=64, a dense head from the
last hidden state to K=24 outputs, MSE loss, Adam (lr 1e-3), float32.
Training = windows/s through forward, backward and the Adam step; inference = windows/s
of one forward over 1024 windows at once. Rows: LSTM and GRU with 1 and 2 layers. When
PyTorch is importable each row is measured for both engines back to back and the ratio
rnncast / PyTorch is printed. Also: the first-call compile time in a fresh process with
an empty Numba cache, and the time for a second process to load the cached kernels
(`--startup-only` measures just those).

Example:
    python benchmarks/throughput.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rnncast.config import NetSpec, TrainSpec  # noqa: E402
from rnncast.model import ParamLayout, init_params, predict  # noqa: E402
from rnncast.train import TrainStep  # noqa: E402
from torch_w1 import LR, B, H, I, K, T, _rate, measure_torch, torch_available  # noqa: E402

ROWS = [("lstm", 1), ("lstm", 2), ("gru", 1), ("gru", 2)]
INFER_BATCH = 1024


def measure_rnncast(cell: str, layers: int, *, seconds: float = 3.0) -> dict:
    """Training and inference windows/s of rnncast on W1 (float32)."""
    spec = NetSpec(cell=cell, inputs=I, hidden=H, layers=layers, horizon=K)
    rng = np.random.default_rng(0)
    step = TrainStep(spec, TrainSpec(lr=LR, clip=0.0), init_params(spec, rng))
    pool = [(rng.standard_normal((T, B, I)).astype(np.float32),
             rng.standard_normal((B, K)).astype(np.float32)) for _ in range(8)]
    cursor = [0]

    def train_step() -> None:
        x, y = pool[cursor[0] % len(pool)]
        cursor[0] += 1
        step(x, y)

    views = ParamLayout.for_spec(spec).views(step.params)
    x_infer = rng.standard_normal((INFER_BATCH, T, I)).astype(np.float32)

    def infer_step() -> None:
        predict(spec, views, x_infer)

    return {"train_windows_per_s": _rate(train_step, B, seconds),
            "infer_windows_per_s": _rate(infer_step, INFER_BATCH, seconds)}


# What the first `rnncast fit` does with the kernels: the default network (NetSpec(): LSTM,
# 1 layer, H=64, K=24) trains one float32 step on a W1-sized batch, then predicts.
_CHILD = """
import numpy as np
from rnncast.config import NetSpec, TrainSpec
from rnncast.model import init_params, predict, ParamLayout
from rnncast.train import TrainStep
spec = NetSpec()
rng = np.random.default_rng(0)
step = TrainStep(spec, TrainSpec(), init_params(spec, rng))
step(rng.standard_normal((48, 64, 1)).astype(np.float32), rng.standard_normal((64, 24)).astype(np.float32))
predict(spec, ParamLayout.for_spec(spec).views(step.params), rng.standard_normal((64, 48, 1)).astype(np.float32))
"""


def _process_seconds(env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure_startup(runs: int = 3) -> dict:
    """Whole-process seconds (interpreter start to exit) of the default LSTM's first step and prediction.

    first_call_compile_s: with an empty Numba cache (a new folder each run), so every
    kernel it calls compiles; cached_load_s: a second process on that cache, loading them.
    The figures are medians over `runs` fresh caches, with the minimum beside each.
    """
    first, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            first.append(_process_seconds(env))
            cached.append(_process_seconds(env))
    return {"first_call_compile_s": round(statistics.median(first), 2),
            "first_call_compile_min_s": round(min(first), 2),
            "cached_load_s": round(statistics.median(cached), 2),
            "cached_load_min_s": round(min(cached), 2),
            "runs": runs,
            "note": "whole process: interpreter start, imports, one float32 training step of the default "
                    "LSTM (H=64, B=64, T=48) and one prediction, to exit; fresh cache, then that cache"}


def _median_of(results: list[dict]) -> dict:
    """The median of each numeric figure over rounds; other fields from the first round."""
    merged = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, (int, float)):
            merged[key] = round(statistics.median(r[key] for r in results), 1)
    return merged


def _in_child(engine: str, cell: str, layers: int, seconds: float) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON result."""
    command = [sys.executable, __file__, "--child", engine, cell, str(layers), "--seconds", str(seconds)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per measurement")
    parser.add_argument("--no-startup", action="store_true", help="skip the compile/cache-load timing")
    parser.add_argument("--startup-only", action="store_true", help="only the compile/cache-load timing")
    parser.add_argument("--startup-runs", type=int, default=3, help="fresh caches for the startup timing")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per row (median reported)")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "CELL", "LAYERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, cell, layers = args.child
        measure = measure_rnncast if engine == "rnncast" else measure_torch
        print(json.dumps(measure(cell, int(layers), seconds=args.seconds)))
        return 0
    if args.startup_only:
        print(json.dumps({"startup": measure_startup(args.startup_runs)}, indent=2))
        return 0
    with_torch = torch_available()
    rows = []
    for cell, layers in ROWS:
        # Rounds alternate the engines (A B A B ...) so that a slow spell of a shared
        # machine hits both; the ratio is the median of the per-round ratios.
        runs = {"rnncast": [], "pytorch": []}
        for _ in range(args.rounds):
            runs["rnncast"].append(_in_child("rnncast", cell, layers, args.seconds))
            if with_torch:
                runs["pytorch"].append(_in_child("pytorch", cell, layers, args.seconds))
        row = {"cell": cell, "layers": layers, "rounds": args.rounds,
               "rnncast": _median_of(runs["rnncast"])}
        if with_torch:
            row["pytorch"] = _median_of(runs["pytorch"])
            row["ratio"] = {kind: round(statistics.median(a[kind] / b[kind] for a, b in
                                                          zip(runs["rnncast"], runs["pytorch"])), 2)
                            for kind in ("train_windows_per_s", "infer_windows_per_s")}
            row["ratio_min"] = {kind: round(min(a[kind] / b[kind] for a, b in
                                                zip(runs["rnncast"], runs["pytorch"])), 2)
                                for kind in ("train_windows_per_s", "infer_windows_per_s")}
        rows.append(row)
        if not args.json:
            print(json.dumps(row), file=sys.stderr)
    report = {
        "workload": {"T": T, "I": I, "H": H, "B": B, "K": K, "loss": "mse", "optimizer": "adam", "dtype": "float32",
                     "infer_batch": INFER_BATCH},
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "rows": rows,
    }
    if not args.no_startup:
        report["startup"] = measure_startup(args.startup_runs)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
