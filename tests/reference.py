"""Plain-NumPy reference for the recurrent engine, written to be read, not to be fast.

Stacked LSTM, GRU and tanh RNN in PyTorch's parameter layout and gate order, time-major:
x (T, B, I), h0/c0 (L, B, H), out (T, B, H). Layer k owns `weight_ih_l{k}` (G·H, I or H),
`weight_hh_l{k}` (G·H, H), `bias_ih_l{k}` and `bias_hh_l{k}` (G·H,), with gates stacked
in blocks of H rows: LSTM i, f, g, o (G = 4); GRU r, z, n (G = 3); RNN one (G = 1).

    LSTM  c' = f * c + i * g                       h' = o * tanh(c')
    GRU   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h
    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)

`forward` keeps every step's activations in a cache; `backward` walks the layers from the
top down and, inside each layer, time in reverse. The dense head and the losses used by
training live here too, so gradient checks can cover the whole chain. Also a few helpers
the tests share: fixture loading, the error measure and random inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
LOSS_KINDS = ("mse", "mae", "huber")
FIXTURE_DIR = Path(__file__).parent / "fixtures" / "parity"

Array = np.ndarray
Step = dict[str, Array]  # one time step's saved activations


def _sigmoid(a: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-a))


def weight_names(num_layers: int) -> list[str]:
    """Parameter names of a stacked layer, in PyTorch's order."""
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [f"{kind}_l{k}" for k in range(num_layers) for kind in kinds]


# ---------------------------------------------------------------- one step of each cell
# A step takes the layer input x (B, In), the previous state and the layer's parameters
# (W_ih, W_hh, b_ih, b_hh); it returns the new state and what its backward needs.


def _lstm_step(x: Array, h: Array, c: Array, p: tuple[Array, ...]) -> tuple[Array, Array, Step]:
    w_ih, w_hh, b_ih, b_hh = p
    H = h.shape[1]
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # (B, 4H)
    i = _sigmoid(a[:, 0 * H : 1 * H])
    f = _sigmoid(a[:, 1 * H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = _sigmoid(a[:, 3 * H : 4 * H])
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c
    return h_new, c_new, {"x": x, "h": h, "c": c, "i": i, "f": f, "g": g, "o": o, "tanh_c": tanh_c}


def _lstm_step_back(
    dh: Array, dc: Array, s: Step, p: tuple[Array, ...], grads: list[Array]
) -> tuple[Array, Array, Array]:
    """Gradients w.r.t. the step's input and previous state; accumulates weight grads."""
    w_ih, w_hh = p[0], p[1]
    i, f, g, o = s["i"], s["f"], s["g"], s["o"]
    do = dh * s["tanh_c"]
    dc = dc + dh * o * (1.0 - s["tanh_c"] ** 2)  # c' reaches the loss directly and via h'
    di, df, dg = dc * g, dc * s["c"], dc * i
    da = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )  # (B, 4H)
    _accumulate(grads, da, da, s["x"], s["h"])
    return da @ w_ih, da @ w_hh, dc * f


def _gru_step(x: Array, h: Array, c: None, p: tuple[Array, ...]) -> tuple[Array, None, Step]:
    w_ih, w_hh, b_ih, b_hh = p
    H = h.shape[1]
    gi = x @ w_ih.T + b_ih  # (B, 3H)
    gh = h @ w_hh.T + b_hh  # (B, 3H)
    r = _sigmoid(gi[:, 0 * H : 1 * H] + gh[:, 0 * H : 1 * H])
    z = _sigmoid(gi[:, 1 * H : 2 * H] + gh[:, 1 * H : 2 * H])
    hn = gh[:, 2 * H : 3 * H]  # W_hn h + b_hn, kept apart because r scales it
    n = np.tanh(gi[:, 2 * H : 3 * H] + r * hn)
    h_new = (1.0 - z) * n + z * h
    return h_new, None, {"x": x, "h": h, "r": r, "z": z, "n": n, "hn": hn}


def _gru_step_back(
    dh: Array, dc: None, s: Step, p: tuple[Array, ...], grads: list[Array]
) -> tuple[Array, Array, None]:
    """Gradients w.r.t. the step's input and previous state; accumulates weight grads."""
    w_ih, w_hh = p[0], p[1]
    r, z, n = s["r"], s["z"], s["n"]
    dn_pre = dh * (1.0 - z) * (1.0 - n**2)
    dz_pre = dh * (s["h"] - n) * z * (1.0 - z)
    dr_pre = dn_pre * s["hn"] * r * (1.0 - r)
    dgi = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)  # (B, 3H)
    dgh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)  # (B, 3H): r gates W_hn h + b_hn
    _accumulate(grads, dgi, dgh, s["x"], s["h"])
    return dgi @ w_ih, dgh @ w_hh + dh * z, None


def _rnn_step(x: Array, h: Array, c: None, p: tuple[Array, ...]) -> tuple[Array, None, Step]:
    w_ih, w_hh, b_ih, b_hh = p
    h_new = np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)  # (B, H)
    return h_new, None, {"x": x, "h": h, "h_new": h_new}


def _rnn_step_back(
    dh: Array, dc: None, s: Step, p: tuple[Array, ...], grads: list[Array]
) -> tuple[Array, Array, None]:
    """Gradients w.r.t. the step's input and previous state; accumulates weight grads."""
    da = dh * (1.0 - s["h_new"] ** 2)  # (B, H)
    _accumulate(grads, da, da, s["x"], s["h"])
    return da @ p[0], da @ p[1], None


def _accumulate(grads: list[Array], d_ih: Array, d_hh: Array, x: Array, h: Array) -> None:
    """Add one step's share to [dW_ih, dW_hh, db_ih, db_hh], given the pre-activation grads."""
    grads[0] += d_ih.T @ x
    grads[1] += d_hh.T @ h
    grads[2] += d_ih.sum(axis=0)
    grads[3] += d_hh.sum(axis=0)


_STEPS: dict[str, tuple[Callable, Callable]] = {
    "lstm": (_lstm_step, _lstm_step_back),
    "gru": (_gru_step, _gru_step_back),
    "rnn": (_rnn_step, _rnn_step_back),
}


# ---------------------------------------------------------------- stacked layers


@dataclass
class Cache:
    """What `forward` saved: `steps[k][t]` holds layer k's activations at step t."""

    cell: str
    steps: list[list[Step]] = field(default_factory=list)


def _layer_params(params: Mapping[str, Array], k: int) -> tuple[Array, ...]:
    return tuple(np.asarray(params[f"{kind}_l{k}"], dtype=np.float64)
                 for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def _check_cell(cell: str) -> None:
    if cell not in GATES:
        raise ValueError(f"cell must be one of {', '.join(GATES)}, got {cell!r}")


def forward(
    cell: str, params: Mapping[str, Array], x: Array, h0: Array, c0: Array | None = None
) -> tuple[Array, Array, Array | None, Cache]:
    """Run the stack over x (T, B, I) from h0 (and c0 for LSTM), both (L, B, H).

    Returns out (T, B, H) from the last layer, h_n (L, B, H), c_n (L, B, H) or None, cache.
    """
    _check_cell(cell)
    if cell == "lstm" and c0 is None:
        raise ValueError("an LSTM needs c0, got None")
    step = _STEPS[cell][0]
    L = h0.shape[0]
    cache = Cache(cell)
    layer_in = np.asarray(x, dtype=np.float64)  # (T, B, In)
    h_n = np.empty_like(h0, dtype=np.float64)
    c_n = np.empty_like(h0, dtype=np.float64) if cell == "lstm" else None
    for k in range(L):
        p = _layer_params(params, k)
        h = np.asarray(h0[k], dtype=np.float64)  # (B, H)
        c = np.asarray(c0[k], dtype=np.float64) if c_n is not None else None
        outs, saved = [], []
        for t in range(layer_in.shape[0]):
            h, c, s = step(layer_in[t], h, c, p)
            outs.append(h)
            saved.append(s)
        cache.steps.append(saved)
        h_n[k] = h
        if c_n is not None:
            c_n[k] = c
        layer_in = np.stack(outs)  # (T, B, H): this layer's output feeds the next one
    return layer_in, h_n, c_n, cache


def backward(
    cell: str,
    params: Mapping[str, Array],
    cache: Cache,
    g_out: Array,
    g_h_n: Array,
    g_c_n: Array | None = None,
) -> dict[str, Array]:
    """Gradients of sum(out*g_out) + sum(h_n*g_h_n) (+ sum(c_n*g_c_n) for LSTM).

    Returns grad_x, grad_h0, grad_c0 (LSTM) and grad_<name> for every weight and bias.
    """
    _check_cell(cell)
    if cell != cache.cell:
        raise ValueError(f"the cache was made by a {cache.cell} forward, got cell={cell!r}")
    step_back = _STEPS[cell][1]
    L = len(cache.steps)
    result: dict[str, Array] = {}
    grad_h0 = np.zeros_like(g_h_n, dtype=np.float64)
    grad_c0 = np.zeros_like(g_h_n, dtype=np.float64) if cell == "lstm" else None
    d_layer_out = np.asarray(g_out, dtype=np.float64)  # (T, B, H): grads reaching layer k's outputs
    for k in reversed(range(L)):
        p = _layer_params(params, k)
        grads = [np.zeros_like(w) for w in p]
        steps = cache.steps[k]
        d_layer_in = np.empty((len(steps),) + steps[0]["x"].shape)  # (T, B, In)
        dh = np.asarray(g_h_n[k], dtype=np.float64).copy()  # carried back through time
        dc = np.asarray(g_c_n[k], dtype=np.float64).copy() if grad_c0 is not None else None
        for t in reversed(range(len(steps))):
            dh = dh + d_layer_out[t]  # h_t is both out[t] and the next step's state
            d_layer_in[t], dh, dc = step_back(dh, dc, steps[t], p, grads)
        grad_h0[k] = dh
        if grad_c0 is not None:
            grad_c0[k] = dc
        for kind, g in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), grads):
            result[f"grad_{kind}_l{k}"] = g
        d_layer_out = d_layer_in
    result["grad_x"] = d_layer_out
    result["grad_h0"] = grad_h0
    if grad_c0 is not None:
        result["grad_c0"] = grad_c0
    return result


# ---------------------------------------------------------------- fixture contract


def is_input_key(name: str) -> bool:
    """True for the keys an `evaluate` receives: cell, num_layers, x, h0, c0, weights, g_*."""
    return (
        name in ("cell", "num_layers", "x", "h0", "c0", "g_out", "g_h_n", "g_c_n")
        or name.startswith(("weight_", "bias_"))
    )


def evaluate_fixture(arrays: Mapping[str, Array]) -> dict[str, Array]:
    """The `rnncast.parity.evaluate` contract: input arrays in, out/h_n/c_n/grad_* out."""
    cell = str(arrays["cell"])
    L = int(arrays["num_layers"])
    if arrays["h0"].shape[0] != L:
        raise ValueError(f"num_layers is {L} but h0 has {arrays['h0'].shape[0]} layers")
    params = {name: arrays[name] for name in weight_names(L)}
    c0 = arrays.get("c0") if cell == "lstm" else None
    out, h_n, c_n, cache = forward(cell, params, arrays["x"], arrays["h0"], c0)
    g_c_n = arrays.get("g_c_n") if cell == "lstm" else None
    result = {"out": out, "h_n": h_n}
    if c_n is not None:
        result["c_n"] = c_n
    result.update(backward(cell, params, cache, arrays["g_out"], arrays["g_h_n"], g_c_n))
    return result


def scaled_error(got: Array, want: Array) -> float:
    """Max abs difference relative to max(1, max|want|): the parity tests' error measure."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise ValueError(f"shape {got.shape} does not match the expected {want.shape}")
    if want.size == 0:
        return 0.0
    return float(np.max(np.abs(got - want)) / max(1.0, float(np.max(np.abs(want)))))


def fixture_paths() -> list[Path]:
    """The shipped parity fixtures, sorted by name."""
    return sorted(FIXTURE_DIR.glob("*.npz"))


def load_fixture(path: Path) -> dict[str, Array]:
    """All arrays of one fixture, read eagerly so the file is closed again."""
    with np.load(path, allow_pickle=False) as f:
        return {name: f[name] for name in f.files}


def random_inputs(
    rng: np.random.Generator, cell: str, T: int, B: int, I: int, H: int, L: int
) -> dict[str, Array]:
    """An `evaluate` input dict like the fixtures': weights U[-0.6, 0.6], the rest N(0, 1)."""
    G = GATES[cell]
    arrays: dict[str, Array] = {
        "cell": np.array(cell),
        "num_layers": np.array(L),
        "x": rng.standard_normal((T, B, I)),
        "h0": rng.standard_normal((L, B, H)),
    }
    for k in range(L):
        arrays[f"weight_ih_l{k}"] = rng.uniform(-0.6, 0.6, (G * H, I if k == 0 else H))
        arrays[f"weight_hh_l{k}"] = rng.uniform(-0.6, 0.6, (G * H, H))
        arrays[f"bias_ih_l{k}"] = rng.uniform(-0.6, 0.6, G * H)
        arrays[f"bias_hh_l{k}"] = rng.uniform(-0.6, 0.6, G * H)
    arrays["g_out"] = rng.standard_normal((T, B, H))
    arrays["g_h_n"] = rng.standard_normal((L, B, H))
    if cell == "lstm":
        arrays["c0"] = rng.standard_normal((L, B, H))
        arrays["g_c_n"] = rng.standard_normal((L, B, H))
    return arrays


# ---------------------------------------------------------------- dense head and losses


def head_forward(h_last: Array, W: Array, b: Array) -> Array:
    """Dense head: h_last (B, H), W (K, H), b (K,) -> pred (B, K)."""
    return h_last @ W.T + b


def head_backward(h_last: Array, W: Array, g_pred: Array) -> tuple[Array, Array, Array]:
    """Given dloss/dpred (B, K): grads w.r.t. h_last (B, H), W (K, H) and b (K,)."""
    return g_pred @ W, g_pred.T @ h_last, g_pred.sum(axis=0)


def _check_loss(kind: str, delta: float) -> None:
    if kind not in LOSS_KINDS:
        raise ValueError(f"loss must be one of {', '.join(LOSS_KINDS)}, got {kind!r}")
    if not delta > 0:
        raise ValueError(f"huber delta must be positive, got {delta}")


def loss_value(kind: str, pred: Array, target: Array, delta: float = 1.0) -> float:
    """Mean over all B·K elements of the squared, absolute or Huber error.

    Huber follows torch.nn.HuberLoss: 0.5 d² where |d| < delta, else delta (|d| - delta/2).
    """
    _check_loss(kind, delta)
    d = pred - target  # (B, K)
    if kind == "mse":
        return float(np.mean(d**2))
    if kind == "mae":
        return float(np.mean(np.abs(d)))
    a = np.abs(d)
    return float(np.mean(np.where(a < delta, 0.5 * d**2, delta * (a - 0.5 * delta))))


def loss_grad(kind: str, pred: Array, target: Array, delta: float = 1.0) -> Array:
    """dloss/dpred (B, K) of `loss_value`; at d = 0 the MAE grad is 0, as in PyTorch."""
    _check_loss(kind, delta)
    d = pred - target  # (B, K)
    n = d.size
    if kind == "mse":
        return 2.0 * d / n
    if kind == "mae":
        return np.sign(d) / n
    return np.where(np.abs(d) < delta, d, delta * np.sign(d)) / n
