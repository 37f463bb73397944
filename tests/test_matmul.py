"""The kernels' matrix products against NumPy, over shapes that exercise every remainder path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncast.kernels.jit import kernel
from rnncast.kernels.matmul import _accumulators, bias_plus_products, matmul, matmul_nt

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


@settings(max_examples=40, deadline=None)
@given(M=dims, K1=dims, K2=dims, N=dims, both=st.booleans(), seed=st.integers(0, 2**16))
def test_bias_plus_products_match_numpy(M: int, K1: int, K2: int, N: int, both: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    bias = rng.standard_normal(N)
    A1, W1 = rng.standard_normal((M, K1)), rng.standard_normal((K1, N))
    A2, W2 = rng.standard_normal((M, K2)), rng.standard_normal((K2, N))
    C = rng.standard_normal((M, N))  # overwritten, never read
    bias_plus_products(bias, A1, W1, A2, W2, C, int(both))
    want = bias + A1 @ W1 + (A2 @ W2 if both else 0)
    np.testing.assert_allclose(C, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("M, K2, N", [(32, 64, 256), (30, 63, 192), (512, 64, 256)])
def test_bias_plus_products_gives_the_bits_of_filling_and_accumulating(M: int, K2: int, N: int) -> None:
    # The layers' pre-activations were the bias filled in, then x @ W_ih and h @ W_hh each
    # added by `matmul`: summed in one go they must stay the same float32 numbers, so a
    # fit gives the model it gave before.
    rng = np.random.default_rng(M + K2)
    bias = rng.standard_normal(N).astype(np.float32)
    x, w_ih = rng.standard_normal((M, 1)).astype(np.float32), rng.standard_normal((1, N)).astype(np.float32)
    h, w_hh = rng.standard_normal((M, K2)).astype(np.float32), rng.standard_normal((K2, N)).astype(np.float32)
    before = np.repeat(bias[None, :], M, axis=0)
    matmul(x, w_ih, before, 1)
    matmul(h, w_hh, before, 1)
    fused = np.empty((M, N), np.float32)
    bias_plus_products(bias, x, w_ih, h, w_hh, fused, 1)
    assert np.array_equal(fused, before)


@kernel
def _accumulator_offsets(W, N, out):
    """Where `_accumulators` put its four rows, in bytes from W's start modulo 4 KiB."""
    rows = _accumulators(N, W.dtype, W)
    for r in range(4):
        out[r] = (rows[r].ctypes.data - W.ctypes.data) % 4096


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [8, 256, 1024, 1000])
def test_accumulator_rows_start_half_a_page_from_w_wherever_w_falls(dtype, N: int) -> None:
    item = np.dtype(dtype).itemsize
    page = np.zeros(4 * N + 4096 // item, dtype)
    for shift in range(0, 4096 // item, 37):  # W at many offsets within a page
        W = page[shift : shift + 4 * N].reshape(4, N)
        out = np.empty(4, np.int64)
        _accumulator_offsets(W, N, out)
        assert out[0] == 2048  # half a page from W, where W lies in its page does not matter
        assert len({int(o) // 64 for o in out}) == 4  # and the rows not within a cache line of each other
