"""LSTM cell arithmetic for one time step over a chunk of batch rows (PyTorch's equations).

    i = sigmoid(Gi), f = sigmoid(Gf), g = tanh(Gg), o = sigmoid(Go)
    c' = f * c + i * g,   h' = o * tanh(c')

where G = (W_ih x + b_ih) + (W_hh h + b_hh), gates in PyTorch's order i, f, g, o.
Matrix products are the driver's (`rnncast.kernels.recurrent`); these are elementwise.
Each row is cut into one view per gate first: indexing G[b, 2*H + j] directly was
measured 5x slower, as LLVM then could not prove the stores independent and did not
vectorize.
"""

from __future__ import annotations

from rnncast.kernels.jit import kernel
from rnncast.kernels.mathfn import sigmoid, tanh


@kernel
def lstm_step_forward(Gx, Gh, c_prev, acts, c, h):
    """Gx, Gh (n, 4H) pre-activations; c_prev (n, H) -> acts (n, 5H) = i, f, g, o, tanh(c'), c, h (n, H).

    `c` may be `c_prev` itself (inference keeps one step): each element is read before written.
    """
    n, H = c.shape
    for b in range(n):
        xi, xf, xg, xo = Gx[b, :H], Gx[b, H : 2 * H], Gx[b, 2 * H : 3 * H], Gx[b, 3 * H : 4 * H]
        hi, hf, hg, ho = Gh[b, :H], Gh[b, H : 2 * H], Gh[b, 2 * H : 3 * H], Gh[b, 3 * H : 4 * H]
        ai, af, ag = acts[b, :H], acts[b, H : 2 * H], acts[b, 2 * H : 3 * H]
        ao, atc = acts[b, 3 * H : 4 * H], acts[b, 4 * H : 5 * H]
        cp, cb, hb = c_prev[b], c[b], h[b]
        for j in range(H):
            i_ = sigmoid(xi[j] + hi[j])
            f_ = sigmoid(xf[j] + hf[j])
            g_ = tanh(xg[j] + hg[j])
            o_ = sigmoid(xo[j] + ho[j])
            c_new = f_ * cp[j] + i_ * g_
            tc = tanh(c_new)
            ai[j] = i_
            af[j] = f_
            ag[j] = g_
            ao[j] = o_
            atc[j] = tc
            cb[j] = c_new
            hb[j] = o_ * tc


@kernel
def lstm_step_backward(acts, c_prev, dh, dc, dG):
    """Backward through one step.

    acts (n, 5H) and c_prev (n, H) from the forward; dh (n, H) gradient of h'; dc (n, H)
    gradient of c' on entry, of c on exit (updated in place). Writes dG (n, 4H), the
    gradient of the pre-activations (the same for the W_ih and the W_hh side). The
    gradient of h is then dG @ W_hh alone (the driver's): no direct h -> h' path.
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
