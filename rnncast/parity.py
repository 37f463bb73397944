"""Test-facing adapter: run rnncast's kernels on a reference fixture's inputs, in float64.

The fixture format is PyTorch's (see tests/fixtures/parity/README.md): weights named
`weight_ih_l{k}` ..., time-major x (T, B, I), h0/c0 (L, B, H), and upstream gradients
g_out, g_h_n, g_c_n of the loss sum(out*g_out) + sum(h_n*g_h_n) + sum(c_n*g_c_n).
"""

from __future__ import annotations

import numpy as np

from rnncast.config import CELLS, NetSpec
from rnncast.model import layer_names, stack_backward, stack_forward


def evaluate(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward and backward of the stacked layer described by `arrays`, any shapes.

    Returns out, h_n, grad_x, grad_h0, grad_<weight> for every weight, and for LSTM
    c_n and grad_c0, keyed as in the fixtures.
    """
    cell = str(np.asarray(arrays["cell"]))
    L = int(np.asarray(arrays["num_layers"]))
    f64 = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()
           if k not in ("cell", "num_layers")}
    x = f64["x"]
    T, B, I = x.shape
    H = f64["h0"].shape[2]
    assert cell in CELLS, cell
    spec = NetSpec(cell=cell, inputs=I, hidden=H, layers=L, horizon=1)
    params = {name: f64[name] for k in range(L) for name in layer_names(k)}
    lstm = cell == "lstm"
    state = stack_forward(spec, params, x, f64["h0"], f64["c0"] if lstm else None)
    grads = {name: np.empty_like(p) for name, p in params.items()}
    grad_x, grad_h0, grad_c0 = stack_backward(spec, state, grads, f64["g_out"], f64["g_h_n"],
                                              f64["g_c_n"] if lstm else None)
    assert grad_x is not None  # asked for (need_grad_x)
    result = {
        "out": state.hs[-1][1:],
        "h_n": np.stack([hs[-1] for hs in state.hs]),
        "grad_x": grad_x,
        "grad_h0": grad_h0,
    }
    if lstm and grad_c0 is not None:
        result["c_n"] = np.stack([cs[-1] for cs in state.cs])
        result["grad_c0"] = grad_c0
    result.update({f"grad_{name}": g for name, g in grads.items()})
    return result
