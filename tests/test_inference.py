"""The NumPy forecasting path agrees with the Numba kernels, and predict stays light."""

from __future__ import annotations

import numpy as np
import pytest

from rnncast import inference
from rnncast.config import NetSpec
from rnncast.model import predict as kernel_predict
from rnncast.params import ParamLayout, init_params


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
