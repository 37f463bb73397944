"""GRU layer kernels: one chunk of batch rows through every time step (PyTorch's equations).

    r = sigmoid(Gx_r + Gh_r),  z = sigmoid(Gx_z + Gh_z)
    n = tanh(Gx_n + r * Gh_n),  h' = (1 - z) * n + z * h

where Gx = W_ih x + b_ih and Gh = W_hh h + b_hh, gates in PyTorch's order r, z, n
(b_hn sits inside the r * (...) term, as in torch.nn.GRU). Rows are cut into one view
per gate so LLVM vectorizes the loops (see lstm.py).
"""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import inline, kernel
from rnncast.kernels.layer import add_rows, copy_rows, finish, project, start_gradients, step_gradients
from rnncast.kernels.mathfn import sigmoid, tanh
from rnncast.kernels.matmul import matmul_nt


@inline
def _step_forward(Gx, Gh, h_prev, acts, h):
    """Gx, Gh (n, 3H); h_prev (n, H) -> acts (n, 4H) = r, z, n, Gh_n, and h (n, H)."""
    n, H = h.shape
    for b in range(n):
        xr, xz, xn = Gx[b, :H], Gx[b, H : 2 * H], Gx[b, 2 * H : 3 * H]
        hr, hz, hn = Gh[b, :H], Gh[b, H : 2 * H], Gh[b, 2 * H : 3 * H]
        ar, az, an, aghn = acts[b, :H], acts[b, H : 2 * H], acts[b, 2 * H : 3 * H], acts[b, 3 * H : 4 * H]
        hp, hb = h_prev[b], h[b]
        for j in range(H):
            r = sigmoid(xr[j] + hr[j])
            z = sigmoid(xz[j] + hz[j])
            ghn = hn[j]
            nn = tanh(xn[j] + r * ghn)
            ar[j] = r
            az[j] = z
            an[j] = nn
            aghn[j] = ghn
            hb[j] = (1 - z) * nn + z * hp[j]


@inline
def _step_backward(acts, h_prev, dh, dGx, dGh):
    """Backward through one step.

    acts (n, 4H), h_prev (n, H) from the forward; dh (n, H) gradient of h' on entry,
    replaced by the direct part of the gradient of h (z * dh'); the kernel adds
    dGh @ W_hh. Writes dGx, dGh (n, 3H), which differ in the n block (dGh_n = r * dn).
    """
    n, H = dh.shape
    for b in range(n):
        ar, az, an, aghn = acts[b, :H], acts[b, H : 2 * H], acts[b, 2 * H : 3 * H], acts[b, 3 * H : 4 * H]
        xr, xz, xn = dGx[b, :H], dGx[b, H : 2 * H], dGx[b, 2 * H : 3 * H]
        hr, hz, hn = dGh[b, :H], dGh[b, H : 2 * H], dGh[b, 2 * H : 3 * H]
        hp, dhb = h_prev[b], dh[b]
        for j in range(H):
            r, z, nn, ghn = ar[j], az[j], an[j], aghn[j]
            d_h = dhb[j]
            d_npre = d_h * (1 - z) * (1 - nn * nn)
            d_zpre = d_h * (hp[j] - nn) * z * (1 - z)
            d_rpre = d_npre * ghn * r * (1 - r)
            dhb[j] = d_h * z
            xr[j] = d_rpre
            xz[j] = d_zpre
            xn[j] = d_npre
            hr[j] = d_rpre
            hz[j] = d_zpre
            hn[j] = d_npre * r


@kernel
def gru_forward(x, hs, cs, acts, w_ihT, w_hhT, b_ih, b_hh, keep, b0, b1):
    """Rows b0:b1 of one layer forward (see rnncast.kernels.recurrent.layer_forward); cs is unused."""
    T = x.shape[0]
    GH = w_hhT.shape[1]
    Gx = np.empty((b1 - b0, GH), x.dtype)
    Gh = np.empty((b1 - b0, GH), x.dtype)
    for t in range(T):
        project(x[t, b0:b1], w_ihT, b_ih, Gx)
        project(hs[t, b0:b1], w_hhT, b_hh, Gh)
        _step_forward(Gx, Gh, hs[t, b0:b1], acts[t * keep, b0:b1], hs[t + 1, b0:b1])


@kernel
def gru_backward(x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n, dx, dh0, dc0,
                 dW_ihT, dW_hhT, db_ih, db_hh, need_dx, b0, b1):
    """Rows b0:b1 of backprop through time for one layer (see rnncast.kernels.recurrent.layer_backward).

    cs, dc_n and dc0 are unused. dW_ihT, dW_hhT (transposed), db_ih, db_hh are
    this chunk's own partial gradients.
    """
    T = x.shape[0]
    H = hs.shape[2]
    GH = w_hhT.shape[1]
    n = b1 - b0
    one, zero = np.int64(1), np.int64(0)
    dh = np.empty((n, H), x.dtype)
    copy_rows(dh, dh_n[b0:b1])
    dGx = np.empty((n, GH), x.dtype)
    dGh = np.empty((n, GH), x.dtype)
    xT = np.empty((x.shape[2], n), x.dtype)
    hT = np.empty((H, n), x.dtype)
    start_gradients(dW_ihT, dW_hhT, db_ih, db_hh)
    for t in range(T - 1, -1, -1):
        if d_out.shape[0] > 0:
            add_rows(dh, d_out[t, b0:b1])
        _step_backward(acts[t, b0:b1], hs[t, b0:b1], dh, dGx, dGh)
        matmul_nt(dGh, w_hhT, dh, one)  # dh of the previous step: z * dh' + dGh @ W_hh
        if need_dx:
            matmul_nt(dGx, w_ihT, dx[t, b0:b1], zero)  # (n, I)
        step_gradients(dGx, dGh, x[t, b0:b1], hs[t, b0:b1], xT, hT, dW_ihT, dW_hhT, db_ih, db_hh, True)
    finish(dh0[b0:b1], dh, db_ih, db_hh, True)
