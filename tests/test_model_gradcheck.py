"""Central-difference gradient checks in float64 of the whole training loss.

Stacked layers + dense head + each loss, through rnncast's kernels (STYLE habit 5):
relative error |a - n| / max(|a| + |n|, 1e-12) on every parameter tensor.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from rnncast.config import NetSpec
from rnncast.model import ParamLayout, init_params, loss_and_grad

EPS = 1e-6


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    return float(np.max(np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)))


def _check(spec: NetSpec, loss: str, batch: int, steps: int, seed: int, dropout_seed: int | None = None) -> None:
    rng = np.random.default_rng(seed)
    layout = ParamLayout.for_spec(spec)
    flat = init_params(spec, rng, dtype=np.float64) * 3  # larger weights: gates away from linear
    grads = np.zeros_like(flat)
    x = rng.standard_normal((steps, batch, spec.inputs))
    y = rng.standard_normal((batch, spec.horizon))
    extra = rng.standard_normal((batch, spec.head_extra)) if spec.head_extra else None

    def run(params: np.ndarray, out: np.ndarray) -> float:
        drop_rng = None if dropout_seed is None else np.random.default_rng(dropout_seed)
        return loss_and_grad(spec, layout.views(params), layout.views(out), x, y, loss,
                             huber_delta=0.5, dropout_rng=drop_rng, extra=extra)

    run(flat, grads)
    scratch = np.zeros_like(flat)
    numeric = np.empty_like(flat)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + EPS
        up = run(flat, scratch)
        flat[i] = saved - EPS
        down = run(flat, scratch)
        flat[i] = saved
        numeric[i] = (up - down) / (2 * EPS)
    for name, analytic in layout.views(grads).items():
        num = layout.views(numeric)[name]
        # A central difference carries ~1e-10 of rounding noise (1e-16 / EPS): entries
        # smaller than 1e-4 are held to an absolute bound instead of a relative one.
        mask = (np.abs(analytic) + np.abs(num)) > 1e-4
        assert mask.any(), f"{name}: every gradient entry is ~0, the check would prove nothing"
        err = _relative_error(analytic[mask], num[mask])
        assert err < 1e-5, f"{spec.cell} {loss} {name}: relative error {err:.2e}"
        assert np.max(np.abs(analytic - num)) < 1e-8, f"{spec.cell} {loss} {name}: absolute error"


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_training_loss_gradient_matches_finite_differences(cell: str, loss: str) -> None:
    spec = NetSpec(cell=cell, inputs=2, hidden=3, layers=2, horizon=2)
    # crc32, not hash(): str hashes change with PYTHONHASHSEED, so CI drew other data every run
    # (and 3 seeds in 1,000 put a central difference's truncation error just above 1e-5).
    _check(spec, loss, batch=3, steps=4, seed=zlib.crc32(f"{cell}-{loss}".encode()) % 1000)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradient_with_dropout_between_layers(cell: str) -> None:
    # The same dropout seed gives the same mask for every evaluation, so the loss is a
    # smooth function of the weights and the check applies to the masked network.
    spec = NetSpec(cell=cell, inputs=1, hidden=3, layers=3, horizon=2, dropout=0.4)
    _check(spec, "mse", batch=2, steps=3, seed=7, dropout_seed=11)


def test_gradient_with_batch_split_over_cores() -> None:
    # 40 rows: the kernels cut the batch into chunks, whose weight gradients are summed.
    spec = NetSpec(cell="lstm", inputs=1, hidden=2, layers=1, horizon=1)
    _check(spec, "mse", batch=40, steps=3, seed=3)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradient_with_extra_head_inputs(cell: str) -> None:
    # The head also reads E extra inputs (the window itself, calendar features).
    spec = NetSpec(cell=cell, inputs=1, hidden=3, layers=2, horizon=3, head_extra=4)
    _check(spec, "huber", batch=3, steps=4, seed=5)
