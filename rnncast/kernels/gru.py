"""GRU cell arithmetic for one time step over a chunk of batch rows (PyTorch's equations).

    r = sigmoid(Gx_r + Gh_r),  z = sigmoid(Gx_z + Gh_z)
    n = tanh(Gx_n + r * Gh_n),  h' = (1 - z) * n + z * h

where Gx = W_ih x + b_ih and Gh = W_hh h + b_hh, gates in PyTorch's order r, z, n
(b_hn sits inside the r * (...) term, as in torch.nn.GRU). Rows are cut into one view
per gate so LLVM vectorizes the loops (see lstm.py).
"""

from __future__ import annotations

from rnncast.kernels.jit import kernel
from rnncast.kernels.mathfn import sigmoid, tanh


@kernel
def gru_step_forward(Gx, Gh, h_prev, acts, h):
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


@kernel
def gru_step_backward(acts, h_prev, dh, dGx, dGh):
    """Backward through one step.

    acts (n, 4H), h_prev (n, H) from the forward; dh (n, H) gradient of h' on entry,
    replaced by the direct part of the gradient of h (z * dh'); the driver adds
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
