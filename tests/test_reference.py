"""The NumPy reference is itself right: it reproduces PyTorch's fixtures and passes
central-difference gradient checks in float64 that do not involve PyTorch at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import reference as ref

TOL = 1e-9
EPS = 1e-6  # central differences: truncation ~EPS², rounding ~1e-16/EPS, both far below RTOL
RTOL = 1e-6
# Where a gradient entry is itself tiny, rounding in the difference quotient dominates the
# relative error; such entries must agree in absolute terms instead.
ATOL = 1e-9

FIXTURES = ref.fixture_paths()


def test_every_cell_has_fixtures() -> None:
    # An empty or half-copied fixture folder would otherwise pass silently.
    cells = {p.name.split("_")[0] for p in FIXTURES}
    assert cells == set(ref.GATES), f"fixtures in {ref.FIXTURE_DIR} cover {sorted(cells)}"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_reference_reproduces_fixture(path: Path) -> None:
    fixture = ref.load_fixture(path)
    got = ref.evaluate_fixture({k: v for k, v in fixture.items() if ref.is_input_key(k)})
    expected = [k for k in fixture if not ref.is_input_key(k)]
    assert set(got) == set(expected)
    for key in expected:
        err = ref.scaled_error(got[key], fixture[key])
        assert err <= TOL, f"{path.name}: {key} is off by {err:.3e}"


# ---------------------------------------------------------------- gradient checks


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)


def _check_gradients(
    loss: Callable[[dict[str, np.ndarray]], float],
    arrays: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
) -> None:
    """Compare every entry of analytic[name] with a central difference of loss(arrays)."""
    for name, grad in analytic.items():
        base = arrays[name]
        numeric = np.empty_like(base)
        for idx in np.ndindex(base.shape):
            saved = base[idx]
            base[idx] = saved + EPS
            up = loss(arrays)
            base[idx] = saved - EPS
            down = loss(arrays)
            base[idx] = saved
            numeric[idx] = (up - down) / (2 * EPS)
        bad = (_relative_error(grad, numeric) > RTOL) & (np.abs(grad - numeric) > ATOL)
        assert not bad.any(), (
            f"{name}: analytic {grad[bad][:3]} vs numeric {numeric[bad][:3]} "
            f"(max rel error {_relative_error(grad, numeric).max():.2e})"
        )


def _differentiable(cell: str, L: int) -> list[str]:
    return ["x", "h0"] + (["c0"] if cell == "lstm" else []) + ref.weight_names(L)


@pytest.mark.parametrize("cell", sorted(ref.GATES))
def test_recurrent_gradients(cell: str) -> None:
    """The fixture loss over a 2-layer stack: every input, state and parameter."""
    L = 2
    arrays = ref.random_inputs(np.random.default_rng(7), cell, T=4, B=2, I=3, H=3, L=L)

    def loss(a: dict[str, np.ndarray]) -> float:
        out, h_n, c_n, _ = ref.forward(cell, a, a["x"], a["h0"], a.get("c0"))
        total = np.sum(out * a["g_out"]) + np.sum(h_n * a["g_h_n"])
        if c_n is not None:
            total += np.sum(c_n * a["g_c_n"])
        return float(total)

    got = ref.evaluate_fixture(arrays)
    analytic = {name: got[f"grad_{name}"] for name in _differentiable(cell, L)}
    _check_gradients(loss, arrays, analytic)


@pytest.mark.parametrize("kind", ref.LOSS_KINDS)
@pytest.mark.parametrize("cell", sorted(ref.GATES))
def test_head_and_loss_gradients(cell: str, kind: str) -> None:
    """Training's chain: 2-layer stack -> last hidden state -> dense head -> loss."""
    L, K, delta = 2, 3, 0.5  # a small delta so Huber's both branches are exercised
    rng = np.random.default_rng(11)
    arrays = ref.random_inputs(rng, cell, T=4, B=3, I=2, H=3, L=L)
    arrays["head_W"] = rng.uniform(-0.6, 0.6, (K, 3))
    arrays["head_b"] = rng.uniform(-0.6, 0.6, K)
    target = rng.standard_normal((3, K))

    def run(a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, ref.Cache]:
        out, _, _, cache = ref.forward(cell, a, a["x"], a["h0"], a.get("c0"))
        return out, ref.head_forward(out[-1], a["head_W"], a["head_b"]), cache

    def loss(a: dict[str, np.ndarray]) -> float:
        return ref.loss_value(kind, run(a)[1], target, delta)

    out, pred, cache = run(arrays)
    residual = np.abs(pred - target)
    # Keep clear of the kinks (MAE at 0, Huber's second derivative at delta).
    assert residual.min() > 1e-3 and np.abs(residual - delta).min() > 1e-3
    if kind == "huber":
        assert (residual < delta).any() and (residual > delta).any()
    g_pred = ref.loss_grad(kind, pred, target, delta)  # (B, K)
    g_h_last, g_W, g_b = ref.head_backward(out[-1], arrays["head_W"], g_pred)
    g_out = np.zeros_like(out)
    g_out[-1] = g_h_last  # only the last step feeds the head
    g_h_n = np.zeros_like(arrays["h0"])
    g_c_n = np.zeros_like(arrays["h0"]) if cell == "lstm" else None
    grads = ref.backward(cell, arrays, cache, g_out, g_h_n, g_c_n)
    analytic = {name: grads[f"grad_{name}"] for name in _differentiable(cell, L)}
    analytic |= {"head_W": g_W, "head_b": g_b}
    _check_gradients(loss, arrays, analytic)


# ---------------------------------------------------------------- loss values


def test_loss_values_by_hand() -> None:
    pred = np.array([[0.0, 1.0], [3.0, -2.0]])
    target = np.array([[0.5, 1.0], [1.0, 0.0]])  # residuals 0.5 below, 0 at, 2 above delta=1
    assert ref.loss_value("mse", pred, target) == pytest.approx((0.25 + 0 + 4 + 4) / 4)
    assert ref.loss_value("mae", pred, target) == pytest.approx((0.5 + 0 + 2 + 2) / 4)
    huber = (0.5 * 0.25 + 0 + (2 - 0.5) + (2 - 0.5)) / 4
    assert ref.loss_value("huber", pred, target) == pytest.approx(huber)
    # With delta = 2.5 every residual is in the quadratic branch: half the MSE.
    assert ref.loss_value("huber", pred, target, 2.5) == pytest.approx(8.25 / 8)
    assert ref.loss_grad("mae", pred, target)[0, 1] == 0.0


def test_unknown_cell_and_loss_are_refused() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        ref.forward("elman", {}, np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))
    with pytest.raises(ValueError, match="loss must be one of"):
        ref.loss_value("l2", np.zeros(1), np.zeros(1))
