"""Plain tanh RNN cell arithmetic for one time step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""

from __future__ import annotations

from rnncast.kernels.jit import kernel
from rnncast.kernels.mathfn import tanh


@kernel
def rnn_step_forward(Gx, Gh, h):
    """Gx, Gh (n, H) -> h (n, H). h' itself is all the backward needs."""
    n, H = h.shape
    for b in range(n):
        xb, hb, out = Gx[b], Gh[b], h[b]
        for j in range(H):
            out[j] = tanh(xb[j] + hb[j])


@kernel
def rnn_step_backward(h, dh, dG):
    """h (n, H) = h' from the forward, dh (n, H) its gradient -> dG (n, H) of the pre-activation."""
    n, H = h.shape
    for b in range(n):
        hb, dhb, dgb = h[b], dh[b], dG[b]
        for j in range(H):
            dgb[j] = dhb[j] * (1 - hb[j] * hb[j])
