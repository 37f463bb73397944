"""Throughput of rnncast's recurrent engine on workload W1 and larger sizes, beside PyTorch in the same run.

W1: univariate input (I=1), lookback T=48, hidden H=64, batch B=64, a dense head from the
last hidden state to K=24 outputs, MSE loss, Adam (lr 1e-3), float32.
Training = windows/s through forward, backward and the Adam step; inference = windows/s
of one forward over 1024 windows at once.

Rows (`--rows`, a comma-separated list; default all):
    W1     W1-lstm-1, W1-lstm-2, W1-gru-1, W1-gru-2: W1 with 1 and 2 layers
    H128   H128-lstm-1, H128-gru-1: W1 with hidden 128
    H256   H256-lstm-1, H256-gru-1: W1 with hidden 256
    T168   T168-lstm-1, T168-gru-1: W1 with lookback 168 (hidden 64)
    large  H128, H256 and T168
Every measurement runs in a fresh interpreter. When PyTorch is importable each row is
measured for both engines back to back, alternating over `--rounds` rounds; a row gives
each engine's median, and the ratio rnncast / PyTorch of every round (`rounds`), their
median (`ratio_median`) and the worst round (`ratio_min_round`): "at least 1.5 in every
round" is ratio_min_round >= 1.5.

Also, unless skipped:
    ceiling  (--no-gemm) NumPy float32 matmul GFLOP/s, BLAS on 2 threads, at a few sizes;
             the largest is gemm_gflops_peak. With the FLOPs of one LSTM-1 W1 training
             window (lstm_training_flops) it gives lstm1_w1_ceiling_windows_per_s, and the
             W1-lstm-1 training rate's share of it (lstm1_w1_share_of_ceiling; null
             unless W1-lstm-1 is among the rows). Every LSTM row gets gemm_shares: FLOPs
             per window, both engines' GFLOP/s and share of the peak, the share that 1.5x
             PyTorch would take, and (one layer) the BLAS at the row's own step product.
    fit      (--no-fit) rnncast.api.fit on sample_data/brent_crude_daily.csv at W1's
             shapes: the median windows/s of its epochs after the first (from the on_epoch
             reports), beside TrainStep alone at exactly fit's network (timed before the fit
             and after every epoch), and fit_share_of_kernel_rate, the median of each
             epoch's rate over the kernel readings either side of it.
    startup  (--no-startup) the first-call compile time in a fresh process with an empty
             Numba cache, and the time for a second process to load the cached kernels
             (`--startup-only` measures just those).

Examples:
    python benchmarks/throughput.py --json
    python benchmarks/throughput.py --rows large --no-fit --no-startup
    python benchmarks/throughput.py --rows W1-lstm-1 --seconds 0.5 --rounds 1 --no-startup   # smoke test
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rnncast  # noqa: E402
from rnncast.config import Cell, NetSpec, TrainSpec  # noqa: E402
from rnncast.model import ParamLayout, init_params, predict  # noqa: E402
from rnncast.train import TrainStep  # noqa: E402
from torch_w1 import LR, THREADS, B, H, I, K, T, _rate, measure_torch, torch_available  # noqa: E402


@dataclass(frozen=True)
class Row:
    """One benchmark row: W1 with the cell, layers, hidden size and lookback given."""

    group: str
    cell: Cell
    layers: int
    hidden: int = H
    lookback: int = T

    @property
    def name(self) -> str:
        return f"{self.group}-{self.cell}-{self.layers}"


ROWS = [Row("W1", "lstm", 1), Row("W1", "lstm", 2), Row("W1", "gru", 1), Row("W1", "gru", 2),
        Row("H128", "lstm", 1, hidden=128), Row("H128", "gru", 1, hidden=128),
        Row("H256", "lstm", 1, hidden=256), Row("H256", "gru", 1, hidden=256),
        Row("T168", "lstm", 1, lookback=168), Row("T168", "gru", 1, lookback=168)]
# Names --rows accepts beside "all", the groups and the row names.
ROW_SETS = {"large": ("H128", "H256", "T168")}
INFER_BATCH = 1024
KINDS = ("train_windows_per_s", "infer_windows_per_s")


def select_rows(text: str) -> list[Row]:
    """The rows named by a comma-separated list of "all", "large", groups (W1, H128, ...) or row names."""
    chosen: set[Row] = set()
    for item in (part.strip().lower() for part in text.split(",") if part.strip()):
        groups = ROW_SETS.get(item, (item,))
        matched = [row for row in ROWS if item == "all" or row.group.lower() in {g.lower() for g in groups}
                   or row.name.lower() == item]
        if not matched:
            names = ", ".join(["all", *ROW_SETS, *dict.fromkeys(r.group for r in ROWS), *(r.name for r in ROWS)])
            raise SystemExit(f"throughput.py: --rows: unknown row {item!r}; choose from {names}")
        chosen.update(matched)
    return [row for row in ROWS if row in chosen]


def measure_rnncast(cell: Cell, layers: int, *, seconds: float = 3.0, hidden: int = H, lookback: int = T) -> dict:
    """Training and inference windows/s of rnncast on W1 (float32), at `hidden` and `lookback`."""
    spec = NetSpec(cell=cell, inputs=I, hidden=hidden, layers=layers, horizon=K)
    rng = np.random.default_rng(0)
    step = TrainStep(spec, TrainSpec(lr=LR, clip=0.0), init_params(spec, rng))
    pool = [(rng.standard_normal((lookback, B, I)).astype(np.float32),
             rng.standard_normal((B, K)).astype(np.float32)) for _ in range(8)]
    cursor = [0]

    def train_step() -> None:
        x, y = pool[cursor[0] % len(pool)]
        cursor[0] += 1
        step(x, y)

    views = ParamLayout.for_spec(spec).views(step.params)
    x_infer = rng.standard_normal((INFER_BATCH, lookback, I)).astype(np.float32)

    def infer_step() -> None:
        predict(spec, views, x_infer)

    return {"train_windows_per_s": _rate(train_step, B, seconds),
            "infer_windows_per_s": _rate(infer_step, INFER_BATCH, seconds)}


def lstm_training_flops(T: int, I: int, H: int, K: int, E: int = 0, layers: int = 1) -> int:
    """Matrix-product FLOPs (2 per multiply-add) of one window's LSTM training step.

    Per time step and window, the gates (4H wide) of a layer reading n inputs are
    x_t W_ih^T + h_{t-1} W_hh^T:
        forward   2 (n + H) 4H
    Backward through time, per step, from the gates' gradient g_t (4H):
        dh_{t-1} = g_t W_hh          2 * 4H * H
        dW_ih += g_t^T x_t           2 * 4H * n
        dW_hh += g_t^T h_{t-1}       2 * 4H * H
        dx_t = g_t W_ih              2 * 4H * n, layers above the first only (the first
                                     layer's input needs no gradient, and rnncast computes none)
    The head [h_T, extra] (H + E) -> K: forward 2 (H + E) K, backward dW 2 (H + E) K and
    dh_T 2 H K. One layer in all:
        T * 8H * (2I + 3H)  +  4 (H + E) K  +  2 H K
    which is 3x the recurrent forward less T * 8HI (the dx product left out). Not
    counted: the gates' elementwise work (about 30H per step, 2 % at W1), the loss and
    Adam (about 12 per parameter per batch, under 0.1 % per window).
    """
    recurrent = T * 8 * H * (2 * I + 3 * H) + (layers - 1) * T * 8 * H * (3 * H + 3 * H)
    return recurrent + 4 * (H + E) * K + 2 * H * K


def lstm_inference_flops(T: int, I: int, H: int, K: int, E: int = 0, layers: int = 1) -> int:
    """Matrix-product FLOPs of one window's LSTM forward: T * 8H (n + H) per layer, and the head 2 (H + E) K."""
    return T * 8 * H * (I + H) + (layers - 1) * T * 8 * H * (H + H) + 2 * (H + E) * K


# (m, k, n) of C (m, n) = A (m, k) @ B (k, n): square sizes, and the gate product of one time
# step of an LSTM-1 row ([x_t, h] (rows, I + H) @ (I + H, 4H)): a training batch's B rows and
# an inference batch's INFER_BATCH, at hidden 64, 128 and 256 (STEP_SHAPES). What the BLAS does
# at exactly a step's shape is a sharper ceiling for small batches than its peak.
STEP_HIDDEN = (H, 128, 256)
STEP_SHAPES = {(kind, hidden): (rows, I + hidden, 4 * hidden)
               for hidden in STEP_HIDDEN for kind, rows in (("train", B), ("infer", INFER_BATCH))}
GEMM_SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
               *STEP_SHAPES.values(), (2048, 256, 1024)]


def measure_gemm(seconds: float = 1.0) -> dict:
    """float32 NumPy matmul GFLOP/s at GEMM_SHAPES (run with the BLAS on THREADS threads)."""
    rng = np.random.default_rng(0)
    sizes = []
    for m, k, n in GEMM_SHAPES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = np.empty((m, n), np.float32)

        def product(a: np.ndarray = a, b: np.ndarray = b, c: np.ndarray = c) -> None:
            np.matmul(a, b, out=c)

        per_s = _rate(product, 1, seconds)
        sizes.append({"m": m, "k": k, "n": n, "gflops": round(per_s * 2 * m * k * n / 1e9, 1)})
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001  (only a label)
        blas = "unknown"
    return {"sizes": sizes, "blas": blas}


SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "brent_crude_daily.csv"


def measure_fit(epochs: int = 8, seconds: float = 3.0) -> dict:
    """`rnncast.api.fit`'s windows/s on the bundled Brent sample at W1's shapes, beside its kernels' own.

    Each epoch's rate is its on_epoch report, as the CLI shows it: its seconds include
    gathering the batches and the validation loss. The kernels' rate is TrainStep alone, on
    random batches of exactly fit's network (its head also reads the lookback window: the
    highway, head_extra = 48) and fit's TrainSpec (clipping on), timed once before the fit
    and again after every epoch (on_epoch, outside the epoch's seconds). Each epoch after
    the first (which warms up) is divided by the mean of the two kernel readings either
    side of it, and fit_share_of_kernel_rate is the median of those shares: a 2-core VM's
    speed drifts by 20-30 % within a minute, so only readings taken beside an epoch compare
    with it. fit_windows_per_s and kernel_windows_per_s are the medians of each.
    """
    from rnncast.api import fit
    from rnncast.config import WindowSpec

    # The first reading comes before the fit, in a process that has not fitted yet:
    # whatever fit leaves behind (a woken BLAS pool, a fuller heap) would show in the later ones.
    tspec = TrainSpec(batch_size=B, epochs=epochs, patience=0, refit_all=False)
    net = NetSpec(cell="lstm", inputs=I, hidden=H, layers=1, horizon=K, head_extra=T)  # what fit builds
    rng = np.random.default_rng(0)
    step = TrainStep(net, tspec, init_params(net, rng))
    pool = [(rng.standard_normal((T, B, net.inputs)).astype(np.float32),
             rng.standard_normal((B, K)).astype(np.float32),
             rng.standard_normal((B, net.head_extra)).astype(np.float32)) for _ in range(8)]
    cursor = [0]

    def train_step() -> None:
        x, y, extra = pool[cursor[0] % len(pool)]
        cursor[0] += 1
        step(x, y, extra if net.head_extra else None)

    def kernel_reading() -> float:
        return _rate(train_step, B, seconds / 4)

    readings = [kernel_reading()]
    reports: list = []

    def on_epoch(report) -> None:
        reports.append(report)
        readings.append(kernel_reading())

    started = time.perf_counter()
    model = fit(SAMPLE, window=WindowSpec(lookback=T, horizon=K), net=NetSpec(cell="lstm", hidden=H, layers=1),
                train=tspec, on_epoch=on_epoch)
    fit_seconds = time.perf_counter() - started
    first = 1 if len(reports) > 1 else 0
    shares = [reports[i].windows_per_s / ((readings[i] + readings[i + 1]) / 2) for i in range(first, len(reports))]
    timed = reports[first:]

    if model.net != net:
        raise RuntimeError(f"fit built {model.net}, not the {net} whose kernels were timed")
    return {"data": SAMPLE.name, "train_windows": model.metrics["train_windows"],
            "val_windows": model.metrics["val_windows"],
            "net": {"cell": net.cell, "layers": net.layers, "inputs": net.inputs, "hidden": net.hidden,
                    "horizon": net.horizon, "head_extra": net.head_extra, "lookback": T, "batch": B,
                    "clip": tspec.clip},
            "epochs": epochs, "epoch_windows_per_s": [round(r.windows_per_s, 1) for r in reports],
            "epoch_seconds": [round(r.seconds, 3) for r in reports],
            "kernel_readings_windows_per_s": [round(r, 1) for r in readings],
            "epoch_shares": [round(x, 3) for x in shares],
            "fit_windows_per_s": round(statistics.median(r.windows_per_s for r in timed), 1),
            "fit_call_s": round(fit_seconds, 2),
            "kernel_windows_per_s": round(statistics.median(readings), 1),
            "fit_share_of_kernel_rate": round(statistics.median(shares), 3)}


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


def _process_seconds(python: str, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([python, "-c", _CHILD], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure_startup(runs: int = 3, python: str = sys.executable) -> dict:
    """Whole-process seconds (interpreter start to exit) of the default LSTM's first step and prediction.

    first_call_compile_s: with an empty Numba cache (a new folder each run), so every
    kernel it calls compiles; cached_load_s: a second process on that cache, loading them.
    The figures are medians over `runs` fresh caches, with the minimum beside each.
    `python` is the interpreter to start: the one of rnncast's own install measures what
    its users get (with SciPy installed, as beside PyTorch, Numba's first compile also
    imports scipy.linalg: about 0.14 s more on every start).
    """
    first, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            first.append(_process_seconds(python, env))
            cached.append(_process_seconds(python, env))
    scipy = subprocess.run([python, "-c", "import scipy"], capture_output=True).returncode == 0
    return {"first_call_compile_s": round(statistics.median(first), 2),
            "first_call_compile_min_s": round(min(first), 2),
            "cached_load_s": round(statistics.median(cached), 2),
            "cached_load_min_s": round(min(cached), 2),
            "runs": runs, "python": python, "scipy_installed": scipy,
            "note": "whole process: interpreter start, imports, one float32 training step of the default "
                    "LSTM (H=64, B=64, T=48) and one prediction, to exit; fresh cache, then that cache"}


def _median_of(results: list[dict]) -> dict:
    """The median of each numeric figure over rounds; other fields from the first round."""
    merged = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, (int, float)):
            merged[key] = round(statistics.median(r[key] for r in results), 1)
    return merged


def _child_json(arguments: list[str], env: dict | None = None) -> dict:
    """Run this script with `arguments` in a fresh interpreter and return the JSON it prints last."""
    done = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True,
                          env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _in_child(engine: str, row: Row, seconds: float) -> dict:
    """One engine's measurement of one row, in a fresh interpreter."""
    return _child_json(["--child", engine, row.cell, str(row.layers), "--hidden", str(row.hidden),
                        "--lookback", str(row.lookback), "--seconds", str(seconds)])


def _ratios(ours: dict, theirs: dict) -> dict:
    return {kind: round(ours[kind] / theirs[kind], 2) for kind in KINDS}


def measure_row(row: Row, rounds: int, seconds: float, with_torch: bool) -> dict:
    """Both engines on one row, `rounds` times, alternating: medians, per-round ratios, their median and min."""
    # Rounds alternate the engines (A B A B ...) so that a slow spell of a shared machine
    # hits both; each round's ratio compares the two measurements taken back to back.
    runs: dict[str, list[dict]] = {"rnncast": [], "pytorch": []}
    for _ in range(rounds):
        runs["rnncast"].append(_in_child("rnncast", row, seconds))
        if with_torch:
            runs["pytorch"].append(_in_child("pytorch", row, seconds))
    result: dict = {"row": row.name, "group": row.group, "cell": row.cell, "layers": row.layers,
                    "hidden": row.hidden, "lookback": row.lookback, "rnncast": _median_of(runs["rnncast"])}
    if not with_torch:
        result["rounds"] = [{"rnncast": _rounded(r)} for r in runs["rnncast"]]
        return result
    result["pytorch"] = _median_of(runs["pytorch"])
    per_round = [_ratios(a, b) for a, b in zip(runs["rnncast"], runs["pytorch"])]
    result["ratio_median"] = {kind: round(statistics.median(r[kind] for r in per_round), 2) for kind in KINDS}
    result["ratio_min_round"] = {kind: min(r[kind] for r in per_round) for kind in KINDS}
    result["rounds"] = [{"rnncast": _rounded(a), "pytorch": _rounded(b), "ratio": r}
                        for a, b, r in zip(runs["rnncast"], runs["pytorch"], per_round)]
    return result


def _rounded(result: dict) -> dict:
    """One round's figures, rounded (labels such as torch_version are in the row's median already)."""
    return {key: round(value, 1) for key, value in result.items() if isinstance(value, (int, float))}


def gemm_ceiling(seconds: float, lstm1_train: float | None) -> dict:
    """The float32 GEMM peak in a child with the BLAS on THREADS threads, and LSTM-1 W1's share of it."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(THREADS), OMP_NUM_THREADS=str(THREADS),
               MKL_NUM_THREADS=str(THREADS))
    gemm = _child_json(["--child-gemm", "--seconds", str(seconds)], env=env)
    peak = max(size["gflops"] for size in gemm["sizes"])
    flops = lstm_training_flops(T, I, H, K)
    ceiling = peak * 1e9 / flops
    return {"gemm_threads": THREADS, **gemm, "gemm_gflops_peak": peak,
            "lstm1_w1_flops_per_window": flops,
            "lstm1_w1_flops_formula": "T*8H*(2I+3H) + 6HK (recurrent forward, dh and dW through time; head)",
            "lstm1_w1_ceiling_windows_per_s": round(ceiling, 1),
            "lstm1_w1_train_windows_per_s": lstm1_train,
            "lstm1_w1_share_of_ceiling": None if lstm1_train is None else round(lstm1_train / ceiling, 3)}


def lstm_row_shares(rows: list[dict], ceiling: dict) -> None:
    """Add to each LSTM row its FLOPs per window, each engine's GFLOP/s (medians) and share of the GEMM
    peak, the share 1.5x PyTorch's median would take, and for one layer the BLAS's own GFLOP/s at
    the row's step product (STEP_SHAPES): where 1.5x PyTorch asks more than that, every product
    would have to beat the BLAS at its own shape, with the gates' elementwise work free."""
    peak = ceiling["gemm_gflops_peak"]
    measured = {(size["m"], size["k"], size["n"]): size["gflops"] for size in ceiling["sizes"]}
    for row in rows:
        if row["cell"] != "lstm":
            continue
        shape = {"T": row["lookback"], "I": I, "H": row["hidden"], "K": K, "layers": row["layers"]}
        flops = {"train_windows_per_s": lstm_training_flops(**shape),
                 "infer_windows_per_s": lstm_inference_flops(**shape)}
        shares: dict = {"flops_per_window": {kind.split("_")[0]: n for kind, n in flops.items()}}
        for kind, per_window in flops.items():
            name = kind.split("_")[0]
            engines = {engine: row[engine][kind] * per_window / 1e9
                       for engine in ("rnncast", "pytorch") if engine in row}
            shares[name] = {f"{engine}_gflops": round(g, 1) for engine, g in engines.items()}
            shares[name].update({f"{engine}_share_of_peak": round(g / peak, 3) for engine, g in engines.items()})
            if "pytorch" in engines:
                shares[name]["share_of_peak_for_1_5x_pytorch"] = round(1.5 * engines["pytorch"] / peak, 3)
            step = STEP_SHAPES.get((name, row["hidden"])) if row["layers"] == 1 else None
            if step is not None and step in measured:
                shares[name]["blas_gflops_at_step_shape"] = measured[step]
                if "pytorch" in engines:
                    shares[name]["for_1_5x_pytorch_over_blas_at_step_shape"] = round(
                        1.5 * engines["pytorch"] / measured[step], 3)
        row["gemm_shares"] = shares


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per measurement")
    parser.add_argument("--rows", default="all",
                        help="comma-separated rows: all (default), W1, large (H128, H256, T168), a group, "
                             "or a row name such as W1-lstm-1")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds per row (medians and the worst round reported)")
    parser.add_argument("--no-gemm", action="store_true", help="skip the float32 GEMM ceiling")
    parser.add_argument("--gemm-seconds", type=float, default=1.0, help="timed seconds per GEMM size")
    parser.add_argument("--no-fit", action="store_true", help="skip the rate of rnncast.api.fit")
    parser.add_argument("--fit-epochs", type=int, default=8,
                        help="epochs of the fit measurement (the first warms up)")
    parser.add_argument("--no-startup", action="store_true", help="skip the compile/cache-load timing")
    parser.add_argument("--startup-only", action="store_true", help="only the compile/cache-load timing")
    parser.add_argument("--startup-runs", type=int, default=3, help="fresh caches for the startup timing")
    parser.add_argument("--startup-python", default=sys.executable,
                        help="interpreter for the startup timing, e.g. the venv README's install made "
                             "(default: this one)")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "CELL", "LAYERS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-gemm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-fit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, default=H, help=argparse.SUPPRESS)
    parser.add_argument("--lookback", type=int, default=T, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, cell, layers = args.child
        measure = measure_rnncast if engine == "rnncast" else measure_torch
        print(json.dumps(measure(cell, int(layers), seconds=args.seconds, hidden=args.hidden,
                                 lookback=args.lookback)))
        return 0
    if args.child_gemm:
        print(json.dumps(measure_gemm(args.seconds)))
        return 0
    if args.child_fit:
        print(json.dumps(measure_fit(args.fit_epochs, args.seconds)))
        return 0
    if args.startup_only:
        print(json.dumps({"startup": measure_startup(args.startup_runs, args.startup_python)}, indent=2))
        return 0
    rows_wanted = select_rows(args.rows)
    with_torch = torch_available()
    rows = []
    for row in rows_wanted:
        rows.append(measure_row(row, args.rounds, args.seconds, with_torch))
        if not args.json:
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "rounds"}), file=sys.stderr)
    report: dict = {
        "workload": {"T": T, "I": I, "H": H, "B": B, "K": K, "loss": "mse", "optimizer": "adam", "dtype": "float32",
                     "infer_batch": INFER_BATCH,
                     "note": "W1; the H128, H256 and T168 rows change only hidden or lookback"},
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "rnncast_from": str(Path(rnncast.__file__).parent),  # which checkout the children import
        "pytorch": with_torch,
        "rows": rows,
    }
    lstm1 = next((r["rnncast"]["train_windows_per_s"] for r in rows if r["row"] == "W1-lstm-1"), None)
    if not args.no_gemm:
        report["ceiling"] = gemm_ceiling(args.gemm_seconds, lstm1)
        lstm_row_shares(rows, report["ceiling"])
    if not args.no_fit:
        fitted = _child_json(["--child-fit", "--fit-epochs", str(args.fit_epochs), "--seconds", str(args.seconds)])
        fitted["w1_lstm1_kernel_train_windows_per_s"] = lstm1
        report["fit"] = fitted
    if not args.no_startup:
        report["startup"] = measure_startup(args.startup_runs, args.startup_python)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
