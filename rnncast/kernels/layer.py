"""Row helpers every cell's layer kernels share, inlined into them: bias fills, copies, sums, the step products."""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import inline
from rnncast.kernels.matmul import bias_plus_products, matmul


@inline
def copy_rows(dst, src):
    """dst (n, H) = src (n, H), element by element (a slice assignment would compile NumPy's broadcasting)."""
    n, H = dst.shape
    for b in range(n):
        for j in range(H):
            dst[b, j] = src[b, j]


@inline
def add_rows(dst, src):
    """dst (n, H) += src (n, H)."""
    n, H = dst.shape
    for b in range(n):
        for j in range(H):
            dst[b, j] += src[b, j]


@inline
def project(A, WT, bias, G):
    """G (n, GH) = bias (GH,) + A (n, K) @ WT (K, GH): one side's pre-activations for one step."""
    bias_plus_products(bias, A, WT, A, WT, G, 0)


@inline
def summed_bias(b_ih, b_hh):
    """b_ih + b_hh (GH,): the one bias of cells that only ever read the sum of both sides."""
    bias = np.empty(b_ih.shape[0], b_ih.dtype)
    for j in range(b_ih.shape[0]):
        bias[j] = b_ih[j] + b_hh[j]
    return bias


@inline
def project_sum(x_t, w_ihT, h_t, w_hhT, bias, G):
    """G (n, GH) = bias + x_t @ W_ihT + h_t @ W_hhT: both sides into one buffer (LSTM, RNN).

    Against two `project` buffers summed by the step: one buffer fewer to read, and one
    inlined helper fewer, which cut a fresh compile of the LSTM forward by about 0.4 s.
    """
    bias_plus_products(bias, x_t, w_ihT, h_t, w_hhT, G, 1)


@inline
def start_gradients(dW_ihT, dW_hhT, db_ih, db_hh):
    """Zero one chunk's weight gradients before the time loop."""
    dW_ihT[:, :] = 0.0
    dW_hhT[:, :] = 0.0
    db_ih[:] = 0.0
    db_hh[:] = 0.0


@inline
def transpose_rows(dst, src):
    """dst (H, n) = src (n, H)^T."""
    n, H = src.shape
    for b in range(n):
        row = src[b]
        for j in range(H):
            dst[j, b] = row[j]


@inline
def step_gradients(dGx, dGh, x_t, h_t, xT, hT, dW_ihT, dW_hhT, db_ih, db_hh, separate):
    """One step's share of the weight gradients, transposed: dW_ihT += x_t^T dGx, dW_hhT += h_t^T dGh.

    Transposed, each product writes rows of GH values, the long side, through `matmul`:
    measured 1.5-2x the rate of dGh^T h_t into rows of H (float32, one core, H = 64..256).
    xT (I, n) and hT (H, n) are scratch for the transposed inputs. Also db_ih += sum dGx,
    and db_hh += sum dGh only when `separate` (GRU); the other cells copy db_ih at the end.
    """
    one = np.int64(1)
    transpose_rows(hT, h_t)
    matmul(hT, dGh, dW_hhT, one)
    transpose_rows(xT, x_t)
    matmul(xT, dGx, dW_ihT, one)
    n, GH = dGx.shape
    for b in range(n):
        for j in range(GH):
            db_ih[j] += dGx[b, j]
    if separate:
        for b in range(n):
            for j in range(GH):
                db_hh[j] += dGh[b, j]


@inline
def finish(dh0, dh, db_ih, db_hh, separate):
    """dh0 (n, H) = dh; db_hh = db_ih unless `separate` (LSTM, RNN: both biases see one gradient)."""
    copy_rows(dh0, dh)
    if not separate:
        for j in range(db_ih.shape[0]):
            db_hh[j] = db_ih[j]
