"""One recurrent layer over a batch of sequences: forward and backprop through time.

The batch is cut into `n_chunks` row ranges that run on separate cores (`prange`); each
chunk walks the time steps with its own scratch, so no two threads write the same row.
Per step: Gx = b_ih + x_t @ W_ih^T and Gh = b_hh + h @ W_hh^T (own products, see
`matmul`), then the cell's elementwise step. The backward walks the steps in reverse,
takes the cell's pre-activation gradients dGx, dGh and turns them into dh (dGh @ W_hh),
dx_t (dGx @ W_ih) and this chunk's share of the weight gradients, while the step's data
is still in cache. Weight gradients come out per chunk; the caller sums them.

Cells are ints (LSTM, GRU, RNN below) so one compiled driver serves all three.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from rnncast.kernels.gru import gru_step_backward, gru_step_forward
from rnncast.kernels.jit import kernel
from rnncast.kernels.lstm import lstm_step_backward, lstm_step_forward
from rnncast.kernels.matmul import matmul, matmul_nt, matmul_tn
from rnncast.kernels.rnn import rnn_step_backward, rnn_step_forward

LSTM = 0
GRU = 1
RNN = 2


@kernel
def _fill_rows(G, bias):
    """Every row of G (n, GH) = bias (GH,)."""
    n, GH = G.shape
    for b in range(n):
        for j in range(GH):
            G[b, j] = bias[j]


@kernel
def _add_rows(dst, src):
    """dst (n, H) += src (n, H)."""
    n, H = dst.shape
    for b in range(n):
        for j in range(H):
            dst[b, j] += src[b, j]


@kernel
def _sum_rows_into(acc, G):
    """acc (GH,) += sum over rows of G (n, GH)."""
    n, GH = G.shape
    for b in range(n):
        for j in range(GH):
            acc[j] += G[b, j]


@kernel(parallel=True)
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
    T, B, _ = x.shape
    GH = w_hhT.shape[1]
    for ch in prange(n_chunks):
        b0 = B * ch // n_chunks
        b1 = B * (ch + 1) // n_chunks
        n = b1 - b0
        Gx = np.empty((n, GH), x.dtype)
        Gh = np.empty((n, GH), x.dtype)
        for t in range(T):
            _fill_rows(Gx, b_ih)
            matmul(x[t, b0:b1], w_ihT, Gx, 1)
            _fill_rows(Gh, b_hh)
            matmul(hs[t, b0:b1], w_hhT, Gh, 1)
            a = acts[t * keep, b0:b1]
            if cell == LSTM:
                # Inference alternates two rows of c: updating c in place made LLVM's
                # overlap check fail at run time and fall back to scalar code (2.5x slower).
                c_prev = t if keep else t % 2
                c_next = t + 1 if keep else (t + 1) % 2
                lstm_step_forward(Gx, Gh, cs[c_prev, b0:b1], a, cs[c_next, b0:b1], hs[t + 1, b0:b1])
            elif cell == GRU:
                gru_step_forward(Gx, Gh, hs[t, b0:b1], a, hs[t + 1, b0:b1])
            else:
                rnn_step_forward(Gx, Gh, hs[t + 1, b0:b1])


@kernel(parallel=True)
def layer_backward(cell, x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n,
                   dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, need_dx, n_chunks):
    """Backprop through time for one layer, after `layer_forward` with keep = 1.

    d_out (T, B, H): gradient of the output at every step, or an array with 0 steps for
    none (a head on the last step passes its gradient as dh_n). dh_n, dc_n (B, H):
    gradients of the final states (dc_n LSTM only). w_ihT (I, GH) and w_hhT (H, GH) are
    transposed as in the forward: the dot-product form of dG @ W reads them row by row.
    Writes dh0 (B, H), dc0 (B, H, LSTM only), dx (T, B, I) when need_dx is 1 (the first
    layer of a training step does not need it) and the per-chunk partial weight
    gradients dW_ih (C, GH, I), dW_hh (C, GH, H), db_ih, db_hh (C, GH).
    """
    T, B, _ = x.shape
    H = hs.shape[2]
    GH = w_hhT.shape[1]
    has_d_out = d_out.shape[0] > 0
    for ch in prange(n_chunks):
        b0 = B * ch // n_chunks
        b1 = B * (ch + 1) // n_chunks
        n = b1 - b0
        dh = dh_n[b0:b1].copy()  # (n, H)
        dc = np.zeros((n, H), x.dtype)
        if cell == LSTM:
            dc[:, :] = dc_n[b0:b1]
        dGx = np.empty((n, GH), x.dtype)
        # LSTM and RNN: the W_hh side sees the same pre-activation gradient as W_ih.
        dGh = np.empty((n, GH), x.dtype) if cell == GRU else dGx
        gW_ih = dW_ih[ch]
        gW_hh = dW_hh[ch]
        gW_ih[:, :] = 0.0
        gW_hh[:, :] = 0.0
        db_ih[ch, :] = 0.0
        db_hh[ch, :] = 0.0
        for t in range(T - 1, -1, -1):
            if has_d_out:
                _add_rows(dh, d_out[t, b0:b1])
            if cell == LSTM:
                lstm_step_backward(acts[t, b0:b1], cs[t, b0:b1], dh, dc, dGx)
            elif cell == GRU:
                gru_step_backward(acts[t, b0:b1], hs[t, b0:b1], dh, dGx, dGh)
            else:
                rnn_step_backward(hs[t + 1, b0:b1], dh, dGx)
            # dh of the previous step: dGh @ W_hh (n, H), plus GRU's direct z * dh'.
            matmul_nt(dGh, w_hhT, dh, 1 if cell == GRU else 0)
            if need_dx:
                matmul_nt(dGx, w_ihT, dx[t, b0:b1], 0)  # (n, I)
            matmul_tn(dGh, hs[t, b0:b1], gW_hh)
            matmul_tn(dGx, x[t, b0:b1], gW_ih)
            _sum_rows_into(db_ih[ch], dGx)
            if cell == GRU:
                _sum_rows_into(db_hh[ch], dGh)
        if cell != GRU:
            db_hh[ch, :] = db_ih[ch, :]
        dh0[b0:b1] = dh
        if cell == LSTM:
            dc0[b0:b1] = dc
