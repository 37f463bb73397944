"""One recurrent layer over a batch of sequences: forward and backprop through time.

The batch is cut into `n_chunks` row ranges that run on separate threads at once (the
kernels release the GIL); each chunk walks the time steps with its own scratch, so no
two threads write the same row. Per step: Gx = b_ih + x_t @ W_ih^T and Gh = b_hh +
h @ W_hh^T (own products, see `matmul`; the LSTM and RNN, which only read Gx + Gh,
sum both into one buffer), then the cell's elementwise step. The
backward walks the steps in reverse, takes the cell's pre-activation gradients dGx,
dGh and turns them into dh (dGh @ W_hh), dx_t (dGx @ W_ih) and this chunk's share of
the weight gradients (transposed: see rnncast.kernels.layer.step_gradients), while
the step's data is still in cache. Weight gradients come out per chunk; the caller
sums them.

Each cell has its own pair of kernels (rnncast.kernels.lstm, gru, rnn), each compiled
at its first call for the dtype it is called with: a fit compiles its own cell only.
The loop here is over chunks (one per thread), never over steps or rows.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from rnncast.kernels import warm
from rnncast.kernels.gru import gru_backward, gru_forward
from rnncast.kernels.jit import max_threads
from rnncast.kernels.lstm import lstm_backward, lstm_forward
from rnncast.kernels.rnn import rnn_backward, rnn_forward

LSTM = 0
GRU = 1
RNN = 2

_FORWARD = {LSTM: lstm_forward, GRU: gru_forward, RNN: rnn_forward}
_BACKWARD = {LSTM: lstm_backward, GRU: gru_backward, RNN: rnn_backward}

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> ThreadPoolExecutor:
    """The threads that run every chunk but the first (the caller runs that one), started once."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, max_threads() - 1), thread_name_prefix="rnncast-kernel")
        return _pool


def _bounds(B: int, n_chunks: int, ch: int) -> tuple[int, int]:
    return B * ch // n_chunks, B * (ch + 1) // n_chunks


def _run_chunks(n_chunks: int, B: int, run) -> None:
    """run(ch, b0, b1) for every chunk, all at once: chunks 1.. on the pool, chunk 0 here."""
    if n_chunks <= 1:
        run(0, 0, B)
        return
    pool = _workers()
    pending = [pool.submit(run, ch, *_bounds(B, n_chunks, ch)) for ch in range(1, n_chunks)]
    try:
        run(0, *_bounds(B, n_chunks, 0))
    finally:
        for future in pending:
            future.result()


def layer_forward(cell, x, hs, cs, acts, w_ihT, w_hhT, b_ih, b_hh, keep, n_chunks):
    """Run one layer forward.

    cell: LSTM, GRU or RNN. x (T, B, I) input; hs (T+1, B, H) with hs[0] = h0 on entry,
    hs[1:] = the output at every step on exit. cs (LSTM only) cell states laid out like
    hs with cs[0] = c0. acts (T, B, A*H): what the backward needs (LSTM A=5: i, f, g, o,
    tanh c; GRU A=4: r, z, n, W_hn h + b_hn; RNN: unused). w_ihT (I, GH), w_hhT (H, GH)
    the transposed weights, b_ih, b_hh (GH,).
    keep = 0 (inference) keeps only the current step: acts then has one row and cs two,
    reused step after step, which saves memory traffic.
    """
    forward = _FORWARD[cell]
    _run_chunks(n_chunks, x.shape[1],
                lambda ch, b0, b1: forward(x, hs, cs, acts, w_ihT, w_hhT, b_ih, b_hh, keep, b0, b1))


def layer_backward(cell, x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n,
                   dx, dh0, dc0, dW_ihT, dW_hhT, db_ih, db_hh, need_dx, n_chunks):
    """Backprop through time for one layer, after `layer_forward` with keep = 1.

    d_out (T, B, H): gradient of the output at every step, or an array with 0 steps for
    none (a head on the last step passes its gradient as dh_n). dh_n, dc_n (B, H):
    gradients of the final states (dc_n LSTM only). w_ihT (I, GH) and w_hhT (H, GH) are
    transposed as in the forward: the dot-product form of dG @ W reads them row by row.
    Writes dh0 (B, H), dc0 (B, H, LSTM only), dx (T, B, I) when need_dx is 1 (the first
    layer of a training step does not need it) and the per-chunk partial weight
    gradients, the weights' transposed: dW_ihT (C, I, GH), dW_hhT (C, H, GH), db_ih, db_hh (C, GH).
    """
    warm.wait()  # a child compiling this kernel (rnncast.kernels.warm): load it from the cache, not again
    backward = _BACKWARD[cell]
    _run_chunks(n_chunks, x.shape[1],
                lambda ch, b0, b1: backward(x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n, dx, dh0, dc0,
                                            dW_ihT[ch], dW_hhT[ch], db_ih[ch], db_hh[ch], need_dx, b0, b1))
