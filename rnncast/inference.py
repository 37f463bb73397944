"""The forecasting forward pass in plain NumPy: what `rnncast predict` runs on a few series.

Importing Numba and loading its cached kernels costs most of a second; forecasting a
handful of series is a few milliseconds of arithmetic. So small forecasts (up to
SMALL_BATCH windows x steps) run here, with NumPy's vectorized tanh, and larger ones
(backtests, benchmarks, thousands of series) go through the Numba kernels in
rnncast.model. This is the one place with a Python loop over time steps: each step is
a handful of whole-batch NumPy calls, and the loop exists for start-up latency, not
throughput. Tests hold it to the kernels' results and to PyTorch's (the parity fixtures).
"""

from __future__ import annotations

import numpy as np

from rnncast.config import NetSpec
from rnncast.params import layer_names

# windows x steps up to which NumPy answers sooner than importing Numba would.
SMALL_BATCH = 200_000


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * a)


def _layer(cell: str, x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray,
           h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One layer over x (T, N, I) from state h0, c0 (N, H; default zero) -> (outputs (T, N, H), final c (N, H))."""
    T, N, _ = x.shape
    H = w_hh.shape[1]
    gx = (x.reshape(T * N, -1) @ w_ih.T + b_ih).reshape(T, N, -1)  # (T, N, GH): all steps at once
    h = np.zeros((N, H), x.dtype) if h0 is None else h0.astype(x.dtype)
    c = np.zeros((N, H), x.dtype) if c0 is None else c0.astype(x.dtype)
    out = np.empty((T, N, H), x.dtype)
    for t in range(T):
        gh = h @ w_hh.T + b_hh  # (N, GH)
        if cell == "lstm":
            g = gx[t] + gh
            i, f, o = _sigmoid(g[:, :H]), _sigmoid(g[:, H : 2 * H]), _sigmoid(g[:, 3 * H :])
            c = f * c + i * np.tanh(g[:, 2 * H : 3 * H])
            h = o * np.tanh(c)
        elif cell == "gru":
            r = _sigmoid(gx[t, :, :H] + gh[:, :H])
            z = _sigmoid(gx[t, :, H : 2 * H] + gh[:, H : 2 * H])
            n = np.tanh(gx[t, :, 2 * H :] + r * gh[:, 2 * H :])
            h = (1 - z) * n + z * h
        else:
            h = np.tanh(gx[t] + gh)
        out[t] = h
    return out, c


def stack(spec: NetSpec, params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None,
          c0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recurrent stack over x (T, N, I) from states h0, c0 (L, N, H; default zero).

    Returns (top layer's outputs (T, N, H), final h (L, N, H), final c (L, N, H)), as
    torch.nn.LSTM/GRU/RNN would: the parity fixtures check it.
    """
    h_n, c_n = [], []
    for k in range(spec.layers):
        w_ih, w_hh, b_ih, b_hh = (params[name] for name in layer_names(k))
        x, c = _layer(spec.cell, x, w_ih, w_hh, b_ih, b_hh,
                      h0=None if h0 is None else h0[k], c0=None if c0 is None else c0[k])
        h_n.append(x[-1])
        c_n.append(c)
    return x, np.stack(h_n), np.stack(c_n)


def predict(spec: NetSpec, params: dict[str, np.ndarray], windows: np.ndarray,
            extra: np.ndarray | None = None) -> np.ndarray:
    """Forecasts (N, K) for windows (N, T, I) and head extras (N, E); as rnncast.model.predict."""
    dtype = params["head.weight"].dtype
    x = np.ascontiguousarray(windows.transpose(1, 0, 2), dtype)  # (T, N, I)
    z = stack(spec, params, x)[0][-1]
    if extra is not None and extra.shape[1]:
        z = np.concatenate([z, extra.astype(dtype, copy=False)], axis=1)
    return z @ params["head.weight"].T + params["head.bias"]
