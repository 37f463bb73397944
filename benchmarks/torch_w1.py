"""Workload W1 on PyTorch: the yardstick rnncast's engine is measured against.

W1: univariate input (I=1), lookback T=48, hidden H=64, batch B=64, a dense head from the
last hidden state to K=24 outputs, MSE loss, Adam (lr 1e-3), float32, two threads.
torch is imported inside the functions, so importing this module costs nothing without it.

Example:
    python benchmarks/torch_w1.py        # JSON for lstm/gru x 1/2 layers on stdout
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable

T, I, H, B, K = 48, 1, 64, 64, 24
LR = 1e-3
THREADS = 2
CHUNKS = 5  # timed chunks; the median of their rates is reported
WARMUP_SECONDS = 0.5


def torch_available() -> bool:
    """True when PyTorch can be imported."""
    return importlib.util.find_spec("torch") is not None


def _rate(step: Callable[[], None], windows_per_call: int, seconds: float) -> float:
    """Median windows/s of `step` over CHUNKS chunks of about seconds / CHUNKS each."""
    # Warm up (allocator, oneDNN primitives, Adam's lazily created state), and learn how
    # many calls fill one chunk so the timed loops carry no clock reads inside them.
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < WARMUP_SECONDS:
        step()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    n = max(1, round(seconds / CHUNKS / per_call))
    rates = []
    for _ in range(CHUNKS):
        start = time.perf_counter()
        for _ in range(n):
            step()
        rates.append(n * windows_per_call / (time.perf_counter() - start))
    return statistics.median(rates)


def measure_torch(cell: str, layers: int, *, seconds: float = 3.0, infer_batch: int = 1024,
                  hidden: int = H, lookback: int = T) -> dict:
    """Training and inference throughput of W1 in windows/s for "lstm" or "gru".

    Training: forward, backward and Adam step on random batches of B windows, for about
    `seconds`. Inference: one forward of `infer_batch` windows under inference_mode, for
    about `seconds` as well. `hidden` and `lookback` replace W1's H and T (the larger
    rows of benchmarks/throughput.py); everything else stays W1's.
    """
    import torch

    recurrent_types = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    if cell not in recurrent_types:
        raise ValueError(f"cell must be one of {', '.join(recurrent_types)}, got {cell!r}")
    if layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}")
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    rnn = recurrent_types[cell](I, hidden, num_layers=layers, batch_first=False)
    head = torch.nn.Linear(hidden, K)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=LR)

    def predict(x: torch.Tensor) -> torch.Tensor:
        out, _ = rnn(x)  # (T, B, H), time-major
        return head(out[-1])  # (B, K)

    # A pool of batches, cycled, keeps random-number generation out of the timings.
    pool = [(torch.randn(lookback, B, I), torch.randn(B, K)) for _ in range(8)]
    cursor = [0]

    def train_step() -> None:
        x, y = pool[cursor[0] % len(pool)]
        cursor[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(predict(x), y)
        loss.backward()
        opt.step()

    x_infer = torch.randn(lookback, infer_batch, I)

    def infer_step() -> None:
        with torch.inference_mode():
            predict(x_infer)

    return {
        "train_windows_per_s": _rate(train_step, B, seconds),
        "infer_windows_per_s": _rate(infer_step, infer_batch, seconds),
        "torch_version": torch.__version__,
    }


def main() -> int:
    """Print W1 throughput for lstm/gru x 1/2 layers as JSON; exit 2 without PyTorch."""
    if not torch_available():
        print("torch_w1: PyTorch is not installed; `pip install torch` to run this benchmark",
              file=sys.stderr)
        return 2
    results = [
        {"cell": cell, "layers": layers, **measure_torch(cell, layers)}
        for cell in ("lstm", "gru")
        for layers in (1, 2)
    ]
    print(json.dumps({"workload": "W1", "threads": THREADS, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
