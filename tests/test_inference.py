"""The NumPy forecasting path agrees with the Numba kernels and with PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import reference as ref
from rnncast import inference
from rnncast.config import NetSpec
from rnncast.model import predict as kernel_predict
from rnncast.params import ParamLayout, init_params, layer_names

PARITY_TOL = 1e-9  # as tests/test_parity.py holds the kernels to the same fixtures


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers, extra_width", [(1, 0), (2, 5)])
def test_numpy_forward_matches_kernels(cell: str, layers: int, extra_width: int) -> None:
    spec = NetSpec(cell=cell, inputs=3, hidden=16, layers=layers, horizon=4, head_extra=extra_width)
    rng = np.random.default_rng(layers)
    params = ParamLayout.for_spec(spec).views(init_params(spec, rng) * 2)
    windows = rng.standard_normal((37, 11, 3)).astype(np.float32)
    extra = rng.standard_normal((37, extra_width)).astype(np.float32) if extra_width else None
    np.testing.assert_allclose(inference.predict(spec, params, windows, extra),
                               kernel_predict(spec, params, windows, extra), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("path", ref.fixture_paths(), ids=lambda p: p.stem)
def test_numpy_forward_matches_pytorch(path: Path) -> None:
    """The forward `rnncast predict` runs on small batches reproduces PyTorch's outputs and final states."""
    fixture = ref.load_fixture(path)
    cell, layers = str(fixture["cell"]), int(fixture["num_layers"])
    x = fixture["x"].astype(np.float64)  # (T, B, I)
    spec = NetSpec(cell=cell, inputs=x.shape[2], hidden=fixture["h0"].shape[2], layers=layers, horizon=1)
    params = {name: fixture[name].astype(np.float64) for k in range(layers) for name in layer_names(k)}
    out, h_n, c_n = inference.stack(spec, params, x, fixture["h0"], fixture.get("c0"))
    assert ref.scaled_error(out, fixture["out"]) <= PARITY_TOL
    assert ref.scaled_error(h_n, fixture["h_n"]) <= PARITY_TOL
    if cell == "lstm":
        assert ref.scaled_error(c_n, fixture["c_n"]) <= PARITY_TOL
