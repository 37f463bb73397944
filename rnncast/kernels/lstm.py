"""LSTM layer kernels: one chunk of batch rows through every time step (PyTorch's equations).

    i = sigmoid(Gi), f = sigmoid(Gf), g = tanh(Gg), o = sigmoid(Go)
    c' = f * c + i * g,   h' = o * tanh(c')

where G = (b_ih + b_hh) + W_ih x + W_hh h, gates in PyTorch's order i, f, g, o.
Each cell has its own kernels, so a fit compiles the cell it trains and no other.
In the step functions each row is cut into one view per gate first: indexing
G[b, 2*H + j] directly was measured 5x slower, as LLVM then could not prove the
stores independent and did not vectorize.
"""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import inline, kernel
from rnncast.kernels.layer import add_rows, copy_rows, finish, project_sum, start_gradients, step_gradients, summed_bias
from rnncast.kernels.mathfn import sigmoid, tanh
from rnncast.kernels.matmul import matmul_nt


@inline
def _step_forward(G, c_prev, acts, c, h):
    """G (n, 4H) pre-activations; c_prev (n, H) -> acts (n, 5H) = i, f, g, o, tanh(c'), c, h (n, H)."""
    n, H = c.shape
    for b in range(n):
        gi, gf, gg, go = G[b, :H], G[b, H : 2 * H], G[b, 2 * H : 3 * H], G[b, 3 * H : 4 * H]
        ai, af, ag = acts[b, :H], acts[b, H : 2 * H], acts[b, 2 * H : 3 * H]
        ao, atc = acts[b, 3 * H : 4 * H], acts[b, 4 * H : 5 * H]
        cp, cb, hb = c_prev[b], c[b], h[b]
        for j in range(H):
            i_ = sigmoid(gi[j])
            f_ = sigmoid(gf[j])
            g_ = tanh(gg[j])
            o_ = sigmoid(go[j])
            c_new = f_ * cp[j] + i_ * g_
            tc = tanh(c_new)
            ai[j] = i_
            af[j] = f_
            ag[j] = g_
            ao[j] = o_
            atc[j] = tc
            cb[j] = c_new
            hb[j] = o_ * tc


@inline
def _step_backward(acts, c_prev, dh, dc, dG):
    """Backward through one step.

    acts (n, 5H) and c_prev (n, H) from the forward; dh (n, H) gradient of h'; dc (n, H)
    gradient of c' on entry, of c on exit (updated in place). Writes dG (n, 4H), the
    gradient of the pre-activations (the same for the W_ih and the W_hh side). The
    gradient of h is then dG @ W_hh alone: no direct h -> h' path.
    """
    n, H = dh.shape
    for b in range(n):
        ai, af, ag = acts[b, :H], acts[b, H : 2 * H], acts[b, 2 * H : 3 * H]
        ao, atc = acts[b, 3 * H : 4 * H], acts[b, 4 * H : 5 * H]
        di, df, dg, do = dG[b, :H], dG[b, H : 2 * H], dG[b, 2 * H : 3 * H], dG[b, 3 * H : 4 * H]
        cp, dhb, dcb = c_prev[b], dh[b], dc[b]
        for j in range(H):
            i_, f_, g_, o_, tc = ai[j], af[j], ag[j], ao[j], atc[j]
            d_h = dhb[j]
            d_c = dcb[j] + d_h * o_ * (1 - tc * tc)
            dcb[j] = d_c * f_
            di[j] = d_c * g_ * i_ * (1 - i_)
            df[j] = d_c * cp[j] * f_ * (1 - f_)
            dg[j] = d_c * i_ * (1 - g_ * g_)
            do[j] = d_h * tc * o_ * (1 - o_)


@kernel
def lstm_forward(x, hs, cs, acts, w_ihT, w_hhT, b_ih, b_hh, keep, b0, b1):
    """Rows b0:b1 of one layer forward (see rnncast.kernels.recurrent.layer_forward for the arrays).

    keep = 0 (inference): acts has one step and cs two, used alternately: updating c in
    place made LLVM's overlap check fail at run time and fall back to scalar code (2.5x slower).
    """
    T = x.shape[0]
    GH = w_hhT.shape[1]
    bias = summed_bias(b_ih, b_hh)
    G = np.empty((b1 - b0, GH), x.dtype)
    for t in range(T):
        project_sum(x[t, b0:b1], w_ihT, hs[t, b0:b1], w_hhT, bias, G)
        c_prev = t if keep else t % 2
        c_next = t + 1 if keep else (t + 1) % 2
        _step_forward(G, cs[c_prev, b0:b1], acts[t * keep, b0:b1], cs[c_next, b0:b1], hs[t + 1, b0:b1])


@kernel
def lstm_backward(x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n, dx, dh0, dc0,
                  dW_ihT, dW_hhT, db_ih, db_hh, need_dx, b0, b1):
    """Rows b0:b1 of backprop through time for one layer (see rnncast.kernels.recurrent.layer_backward).

    dW_ihT, dW_hhT, db_ih, db_hh are this chunk's own partial gradients (I, GH), (H, GH), (GH,):
    the weight gradients transposed.
    """
    T = x.shape[0]
    H = hs.shape[2]
    GH = w_hhT.shape[1]
    n = b1 - b0
    zero = np.int64(0)
    dh = np.empty((n, H), x.dtype)
    copy_rows(dh, dh_n[b0:b1])
    dc = np.empty((n, H), x.dtype)
    copy_rows(dc, dc_n[b0:b1])
    dG = np.empty((n, GH), x.dtype)  # the same for the W_ih and the W_hh side
    xT = np.empty((x.shape[2], n), x.dtype)
    hT = np.empty((H, n), x.dtype)
    start_gradients(dW_ihT, dW_hhT, db_ih, db_hh)
    for t in range(T - 1, -1, -1):
        if d_out.shape[0] > 0:
            add_rows(dh, d_out[t, b0:b1])
        _step_backward(acts[t, b0:b1], cs[t, b0:b1], dh, dc, dG)
        matmul_nt(dG, w_hhT, dh, zero)  # dh of the previous step: dG @ W_hh (n, H)
        if need_dx:
            matmul_nt(dG, w_ihT, dx[t, b0:b1], zero)  # (n, I)
        step_gradients(dG, dG, x[t, b0:b1], hs[t, b0:b1], xT, hT, dW_ihT, dW_hhT, db_ih, db_hh, False)
    finish(dh0[b0:b1], dh, db_ih, db_hh, False)
    copy_rows(dc0[b0:b1], dc)
