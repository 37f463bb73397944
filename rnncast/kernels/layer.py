"""Row helpers every cell's layer kernels share, inlined into them: bias fills, copies, sums, the step products."""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import inline
from rnncast.kernels.matmul import matmul, matmul_tn


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
    n, GH = G.shape
    for b in range(n):
        for j in range(GH):
            G[b, j] = bias[j]
    # Not the literal 1: a constant argument would compile a second `matmul` beside the head's.
    matmul(A, WT, G, np.int64(1))


@inline
def start_gradients(dW_ih, dW_hh, db_ih, db_hh):
    """Zero one chunk's weight gradients before the time loop."""
    dW_ih[:, :] = 0.0
    dW_hh[:, :] = 0.0
    db_ih[:] = 0.0
    db_hh[:] = 0.0


@inline
def step_gradients(dGx, dGh, x_t, h_t, dW_ih, dW_hh, db_ih, db_hh, separate):
    """Add one step's share of the weight gradients: dW_ih += dGx^T x_t, dW_hh += dGh^T h_t, db_ih += sum dGx.

    db_hh += sum dGh only when `separate` (GRU); the other cells copy db_ih at the end.
    """
    matmul_tn(dGh, h_t, dW_hh)
    matmul_tn(dGx, x_t, dW_ih)
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
