"""The kernels' matrix products against NumPy, over shapes that exercise every remainder path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncast.kernels.matmul import matmul, matmul_nt

dims = st.integers(min_value=1, max_value=19)


@settings(max_examples=60, deadline=None)
@given(M=dims, K=dims, N=dims, accumulate=st.booleans(), seed=st.integers(0, 2**16))
def test_products_match_numpy(M: int, K: int, N: int, accumulate: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((M, K))
    W = rng.standard_normal((K, N))
    C0 = rng.standard_normal((M, N))
    want = A @ W + (C0 if accumulate else 0)

    C = C0.copy()
    matmul(A, W, C, int(accumulate))
    np.testing.assert_allclose(C, want, rtol=1e-12, atol=1e-12)

    C = C0.copy()
    matmul_nt(A, np.ascontiguousarray(W.T), C, int(accumulate))
    np.testing.assert_allclose(C, want, rtol=1e-12, atol=1e-12)

    # The head's weight gradient: A^T C0 through `matmul` on A's transposed copy.
    G = np.empty((K, N))
    matmul(np.ascontiguousarray(A.T), C0, G, 0)
    np.testing.assert_allclose(G, A.T @ C0, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("M, K, N", [(32, 64, 256), (37, 63, 192), (4, 256, 64), (9, 1, 256)])
def test_float32_products_on_engine_shapes(M: int, K: int, N: int) -> None:
    rng = np.random.default_rng(M * K * N)
    A = rng.standard_normal((M, K)).astype(np.float32)
    W = rng.standard_normal((K, N)).astype(np.float32)
    C = np.empty((M, N), np.float32)
    matmul(A, W, C, 0)
    np.testing.assert_allclose(C, A.astype(np.float64) @ W, rtol=1e-4, atol=1e-4)
