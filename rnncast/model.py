"""The network: parameters in PyTorch's names, stacked forward and backward, head and losses.

Parameters live in one flat buffer with a named view per tensor (`ParamLayout`), so the
optimizer updates everything with a handful of NumPy calls, and a model file stores the
same names as `torch.nn.LSTM`/`GRU`/`RNN` plus `head.weight` (K, H + E) and `head.bias`
(K,), where E extra inputs (spec.head_extra) sit beside the last hidden state.
Recurrent layers run through the Numba driver in `rnncast.kernels.recurrent`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnncast import interrupts
from rnncast.config import NetSpec
from rnncast.kernels.jit import threads
from rnncast.kernels.matmul import matmul, matmul_nt
from rnncast.kernels.recurrent import GRU, LSTM, RNN, layer_backward, layer_forward
from rnncast.params import ParamLayout, init_params, layer_names  # noqa: F401  (re-exported)

CELL_CODES = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
# Per-step activations the backward needs, in units of H (see layer_forward).
_ACT_WIDTH = {"lstm": 5, "gru": 4, "rnn": 0}
# Rows per batch chunk below which a second core costs more than it gives.
_MIN_CHUNK_ROWS = 8
# Windows per forward call in `predict`: bounds memory, keeps the batch in cache.
PREDICT_BLOCK = 1024


def n_chunks_for(batch: int) -> int:
    """How many row chunks (one per core) to cut a batch into."""
    return int(max(1, min(threads(), batch // _MIN_CHUNK_ROWS)))


# Buffers the kernels stream through at every step start on a 2 MiB boundary inside an
# allocation NumPy asks the system to back with huge pages (it does so from 4 MiB up; Linux's
# transparent huge pages). On 4 KiB pages, where a weight matrix's pages landed in the L2
# cache decided the speed: an LSTM forward chunk at hidden 256 (32 rows, 48 steps, W_hh 1
# MiB) took 10.7-15.6 ms, a different figure in each process; on a huge page 8.1-8.5 ms in
# 5 processes of 8 and 10.3-12.5 in the others.
_HUGE_PAGE = 2 << 20
_NUMPY_HUGE_FROM = 4 << 20
_PAGED_FROM = 256 << 10  # smaller buffers stay in the L2 cache whatever their pages


def page_backed(shape: tuple[int, ...], dtype) -> np.ndarray:
    """np.empty(shape, dtype), starting on a huge-page boundary where it is large enough to matter."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes < _PAGED_FROM:
        return np.empty(shape, dtype)
    raw = np.empty(max(nbytes, _NUMPY_HUGE_FROM) + _HUGE_PAGE, np.uint8)
    start = -raw.ctypes.data % _HUGE_PAGE
    return raw[start : start + nbytes].view(dtype).reshape(shape)


class Workspace:
    """Buffers kept from one batch to the next, by name (see `page_backed` for where they start).

    A fresh megabyte-sized np.empty is a fresh mmap: its pages fault in on first touch,
    which measured 2 ms per layer per batch (more than the layer's arithmetic).
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialized array of `shape`, the same memory as last time when it fits."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = page_backed(shape, dtype)
        return buf


def _new(workspace: Workspace | None, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    return np.empty(shape, dtype) if workspace is None else workspace.get(name, shape, dtype)


def _transposed(workspace: Workspace | None, name: str, w: np.ndarray) -> np.ndarray:
    """w.T, C-contiguous: in the workspace's buffer `name` when there is one (the kernels read it row by row)."""
    if workspace is None:
        return np.ascontiguousarray(w.T)
    out = workspace.get(name, (w.shape[1], w.shape[0]), w.dtype)
    np.copyto(out, w.T)
    return out


@dataclass
class StackState:
    """What a training forward keeps for the backward, one entry per layer."""

    inputs: list[np.ndarray]  # (T, B, I or H): the input each layer saw (after dropout)
    hs: list[np.ndarray]  # (T+1, B, H)
    cs: list[np.ndarray]  # (T+1, B, H) for LSTM, placeholders otherwise
    acts: list[np.ndarray]  # (T, B, A*H)
    masks: list[np.ndarray | None]  # dropout mask applied to layer k's input (k >= 1)
    weightsT: list[tuple[np.ndarray, np.ndarray]]  # (W_ih^T, W_hh^T) as the kernels read them, C-contiguous


def _placeholder(dtype) -> np.ndarray:
    return np.zeros((1, 1, 1), dtype)


def stack_forward(spec: NetSpec, params: dict[str, np.ndarray], x: np.ndarray,
                  h0: np.ndarray | None = None, c0: np.ndarray | None = None, *,
                  keep: bool = True, dropout_rng: np.random.Generator | None = None,
                  workspace: Workspace | None = None) -> StackState:
    """Run every layer over x (T, B, I), time-major. h0, c0 (L, B, H), zeros if None.

    With `dropout_rng` and spec.dropout > 0 the input of each layer above the first is
    multiplied by a fresh inverted-dropout mask (training); otherwise no dropout.
    keep=False keeps only the current step's activations (inference). With a
    `workspace`, the returned state lives in its buffers until the next call.
    """
    T, B, _ = x.shape
    H, L, dtype = spec.hidden, spec.layers, x.dtype
    cell = CELL_CODES[spec.cell]
    chunks = n_chunks_for(B)
    state = StackState([], [], [], [], [], [])
    layer_in = x
    for k in range(L):
        mask = None
        if k > 0 and dropout_rng is not None and spec.dropout > 0:
            keep_p = 1.0 - spec.dropout
            mask = (dropout_rng.random(layer_in.shape) < keep_p).astype(dtype) / dtype.type(keep_p)
            layer_in = layer_in * mask
        w_ih, w_hh, b_ih, b_hh = (params[n] for n in layer_names(k))
        hs = _new(workspace, f"hs{k}", (T + 1, B, H), dtype)
        hs[0] = 0.0 if h0 is None else h0[k]
        steps = T if keep else 1
        if spec.cell == "lstm":
            cs = _new(workspace, f"cs{k}", (steps + 1 if keep else 2, B, H), dtype)
            cs[0] = 0.0 if c0 is None else c0[k]
        else:
            cs = _placeholder(dtype)
        width = _ACT_WIDTH[spec.cell]
        acts = _new(workspace, f"acts{k}", (steps, B, width * H), dtype) if width else _placeholder(dtype)
        w_ihT, w_hhT = _transposed(workspace, f"w_ihT{k}", w_ih), _transposed(workspace, f"w_hhT{k}", w_hh)
        layer_forward(cell, layer_in, hs, cs, acts, w_ihT, w_hhT, b_ih, b_hh, int(keep), chunks)
        state.inputs.append(layer_in)
        state.hs.append(hs)
        state.cs.append(cs)
        state.acts.append(acts)
        state.masks.append(mask)
        state.weightsT.append((w_ihT, w_hhT))
        layer_in = hs[1:]
    return state


def stack_backward(spec: NetSpec, state: StackState,
                   grads: dict[str, np.ndarray], g_out: np.ndarray | None,
                   g_h_n: np.ndarray | None, g_c_n: np.ndarray | None = None, *,
                   need_grad_x: bool = True, workspace: Workspace | None = None
                   ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Backprop through every layer of `state`'s forward, with the weights it ran (state.weightsT);
    writes weight gradients into `grads` (the parameters' names).

    g_out (T, B, H): gradient of the top layer's output at every step (None: zero);
    g_h_n, g_c_n (L, B, H): gradients of the final states (None: zero).
    Returns (grad_x (T, B, I) or None when not `need_grad_x`, grad_h0 (L, B, H),
    grad_c0 (L, B, H) or None).
    """
    x = state.inputs[0]
    T, B, _ = x.shape
    H, L, dtype = spec.hidden, spec.layers, x.dtype
    cell = CELL_CODES[spec.cell]
    chunks = n_chunks_for(B)
    lstm = spec.cell == "lstm"
    grad_h0 = np.zeros((L, B, H), dtype)
    grad_c0 = np.zeros((L, B, H), dtype) if lstm else None
    zeros_bh = np.zeros((B, H), dtype)
    d_out = g_out if g_out is not None else np.zeros((0, B, H), dtype)
    for k in range(L - 1, -1, -1):
        names = layer_names(k)
        w_ihT, w_hhT = state.weightsT[k]  # the forward's: the weights have not changed since
        G = w_hhT.shape[1]  # G*H columns
        layer_in = state.inputs[k]
        need_dx = k > 0 or need_grad_x
        dx = _new(workspace, f"dx{k}", layer_in.shape if need_dx else (0, B, layer_in.shape[2]), dtype)
        dW_ihT = np.empty((chunks, layer_in.shape[2], G), dtype)  # the kernels write them transposed
        dW_hhT = _new(workspace, f"dW_hhT{k}", (chunks, H, G), dtype)  # every element written by the kernels
        db_ih = np.empty((chunks, G), dtype)
        db_hh = np.empty((chunks, G), dtype)
        dh_n = g_h_n[k] if g_h_n is not None else zeros_bh
        dc_n = g_c_n[k] if (lstm and g_c_n is not None) else zeros_bh
        layer_backward(cell, layer_in, state.hs[k], state.cs[k], state.acts[k],
                       w_ihT, w_hhT,
                       np.ascontiguousarray(d_out), np.ascontiguousarray(dh_n), np.ascontiguousarray(dc_n),
                       dx, grad_h0[k], grad_c0[k] if grad_c0 is not None else zeros_bh, dW_ihT, dW_hhT, db_ih, db_hh,
                       int(need_dx), chunks)
        for name, partial in zip(names, (dW_ihT, dW_hhT, db_ih, db_hh)):
            np.sum(partial, axis=0, out=grads[name].T)
        if state.masks[k] is not None:
            dx *= state.masks[k]
        d_out = dx
    return (d_out if need_grad_x else None), grad_h0, grad_c0


# The head's products go through our kernels, not NumPy's `@`: BLAS wakes its own
# thread pool, which then spins against the kernels' threads on a 2-core machine (a
# training step measured 16 ms instead of 6 ms).


def head_input(h_last: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
    """[h_last, extra] (B, H + E): what the head reads."""
    if extra is None or extra.shape[1] == 0:
        return np.ascontiguousarray(h_last)
    return np.concatenate([h_last, extra.astype(h_last.dtype, copy=False)], axis=1)


def head_forward(params: dict[str, np.ndarray], h_last: np.ndarray,
                 extra: np.ndarray | None = None) -> np.ndarray:
    """Direct multi-step head: [h_last (B, H), extra (B, E)] -> (B, K)."""
    weight, bias = params["head.weight"], params["head.bias"]
    z = head_input(h_last, extra)
    pred = np.empty((z.shape[0], weight.shape[0]), z.dtype)
    matmul_nt(z, weight, pred, 0)
    pred += bias
    return pred


def loss_and_gradient(kind: str, pred: np.ndarray, target: np.ndarray, delta: float = 1.0
                      ) -> tuple[float, np.ndarray]:
    """Mean loss over all B*K outputs and its gradient w.r.t. pred (as torch.nn.*Loss).

    A diverging fit overflows here; the caller checks the value is finite, so NumPy's
    overflow warnings are silenced rather than raised in the middle of the arithmetic.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _loss_and_gradient(kind, pred, target, delta)


def _loss_and_gradient(kind: str, pred: np.ndarray, target: np.ndarray, delta: float
                       ) -> tuple[float, np.ndarray]:
    diff = pred - target
    n = diff.size
    if kind == "mse":
        return float(np.mean(diff * diff)), diff * (2.0 / n)
    if kind == "mae":
        return float(np.mean(np.abs(diff))), np.sign(diff) * (1.0 / n)
    if kind == "huber":
        a = np.abs(diff)
        quad = a <= delta
        value = np.where(quad, 0.5 * diff * diff, delta * (a - 0.5 * delta))
        grad = np.where(quad, diff, delta * np.sign(diff)) * (1.0 / n)
        return float(np.mean(value)), grad.astype(pred.dtype, copy=False)
    raise ValueError(f"unknown loss {kind!r}")


def loss_and_grad(spec: NetSpec, params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
                  x: np.ndarray, y: np.ndarray, loss: str, *, huber_delta: float = 1.0,
                  dropout_rng: np.random.Generator | None = None,
                  workspace: Workspace | None = None, extra: np.ndarray | None = None) -> float:
    """One training batch: x (T, B, I) time-major, y (B, K), extra (B, E) head inputs.

    Fills `grads`; returns the loss.
    """
    state = stack_forward(spec, params, x, dropout_rng=dropout_rng, workspace=workspace)
    h_last = state.hs[-1][-1]  # (B, H)
    z = head_input(h_last, extra)  # (B, H + E)
    pred = head_forward(params, h_last, extra)
    value, d_pred = loss_and_gradient(loss, pred, y, huber_delta)
    d_pred = d_pred.astype(x.dtype, copy=False)
    d_pred = np.ascontiguousarray(d_pred)
    # d_pred^T z through `matmul`, which the layers have compiled already: a kernel of its
    # own for this one product cost a fresh first fit 1.1 s of compiling.
    matmul(np.ascontiguousarray(d_pred.T), z, grads["head.weight"], 0)  # (K, H + E)
    np.sum(d_pred, axis=0, out=grads["head.bias"])
    g_h_n = np.zeros((spec.layers,) + h_last.shape, x.dtype)
    w_hidden = np.ascontiguousarray(params["head.weight"][:, : spec.hidden])  # (K, H)
    matmul(d_pred, w_hidden, g_h_n[-1], 0)  # (B, H)
    stack_backward(spec, state, grads, None, g_h_n, need_grad_x=False, workspace=workspace)
    return value


def predict(spec: NetSpec, params: dict[str, np.ndarray], windows: np.ndarray,
            extra: np.ndarray | None = None) -> np.ndarray:
    """Forecasts (N, K) for input windows (N, T, I), batch-major, in blocks of PREDICT_BLOCK.

    extra (N, E): the head's extra inputs, when spec.head_extra > 0.
    """
    n = windows.shape[0]
    dtype = params["head.weight"].dtype
    out = np.empty((n, spec.horizon), dtype)
    workspace = Workspace()
    for start in range(0, n, PREDICT_BLOCK):
        block = np.ascontiguousarray(windows[start : start + PREDICT_BLOCK].transpose(1, 0, 2), dtype)
        state = stack_forward(spec, params, block, keep=False, workspace=workspace)
        block_extra = None if extra is None else extra[start : start + PREDICT_BLOCK]
        out[start : start + block.shape[1]] = head_forward(params, state.hs[-1][-1], block_extra)
        interrupts.check()
    return out
