"""Plain tanh RNN layer kernels: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), one chunk of batch rows."""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import inline, kernel
from rnncast.kernels.layer import add_rows, copy_rows, finish, project_sum, start_gradients, step_gradients, summed_bias
from rnncast.kernels.mathfn import tanh
from rnncast.kernels.matmul import matmul_nt


@inline
def _step_forward(G, h):
    """G (n, H) pre-activations -> h (n, H). h' itself is all the backward needs."""
    n, H = h.shape
    for b in range(n):
        gb, out = G[b], h[b]
        for j in range(H):
            out[j] = tanh(gb[j])


@inline
def _step_backward(h, dh, dG):
    """h (n, H) = h' from the forward, dh (n, H) its gradient -> dG (n, H) of the pre-activation."""
    n, H = h.shape
    for b in range(n):
        hb, dhb, dgb = h[b], dh[b], dG[b]
        for j in range(H):
            dgb[j] = dhb[j] * (1 - hb[j] * hb[j])


@kernel
def rnn_forward(x, hs, cs, acts, w_ihT, w_hhT, b_ih, b_hh, keep, b0, b1):
    """Rows b0:b1 of one layer forward (see rnncast.kernels.recurrent.layer_forward); cs and acts are unused."""
    T = x.shape[0]
    GH = w_hhT.shape[1]
    bias = summed_bias(b_ih, b_hh)
    G = np.empty((b1 - b0, GH), x.dtype)
    for t in range(T):
        project_sum(x[t, b0:b1], w_ihT, hs[t, b0:b1], w_hhT, bias, G)
        _step_forward(G, hs[t + 1, b0:b1])


@kernel
def rnn_backward(x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n, dx, dh0, dc0,
                 dW_ihT, dW_hhT, db_ih, db_hh, need_dx, b0, b1):
    """Rows b0:b1 of backprop through time for one layer (see rnncast.kernels.recurrent.layer_backward).

    cs, acts, dc_n and dc0 are unused. dW_ihT, dW_hhT (transposed), db_ih, db_hh are
    this chunk's own partial gradients.
    """
    T = x.shape[0]
    H = hs.shape[2]
    GH = w_hhT.shape[1]
    n = b1 - b0
    zero = np.int64(0)
    dh = np.empty((n, H), x.dtype)
    copy_rows(dh, dh_n[b0:b1])
    dG = np.empty((n, GH), x.dtype)  # the same for the W_ih and the W_hh side
    xT = np.empty((x.shape[2], n), x.dtype)
    hT = np.empty((H, n), x.dtype)
    start_gradients(dW_ihT, dW_hhT, db_ih, db_hh)
    for t in range(T - 1, -1, -1):
        if d_out.shape[0] > 0:
            add_rows(dh, d_out[t, b0:b1])
        _step_backward(hs[t + 1, b0:b1], dh, dG)
        matmul_nt(dG, w_hhT, dh, zero)  # dh of the previous step: dG @ W_hh (n, H)
        if need_dx:
            matmul_nt(dG, w_ihT, dx[t, b0:b1], zero)  # (n, I)
        step_gradients(dG, dG, x[t, b0:b1], hs[t, b0:b1], xT, hT, dW_ihT, dW_hhT, db_ih, db_hh, False)
    finish(dh0[b0:b1], dh, db_ih, db_hh, False)
