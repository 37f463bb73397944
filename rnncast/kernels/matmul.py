"""Small dense matrix products for the recurrent kernels, single-threaded.

The recurrent products are small (a chunk of 32 rows times a 64 x 256 weight) and run
inside a `prange` over batch chunks, where calling BLAS from two threads at once was
measured slower than one thread. Four rows of A at a time against a contiguous row of W
keeps the accumulator in L1 and lets LLVM vectorize along N.
"""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import kernel

# Below this many output columns a row-of-W layout has too little to vectorize along;
# the narrow variants vectorize along the long dimension instead.
_NARROW = 8


@kernel
def matmul(A, W, C, accumulate):
    """C (M, N) = A (M, K) @ W (K, N), or C += A @ W when `accumulate` is 1.

    A and C may be row slices of larger arrays; every row must be contiguous.
    """
    M, K = A.shape
    N = W.shape[1]
    if N < _NARROW:
        _matmul_narrow(A, W, C, accumulate)
        return
    acc = np.empty((4, N), C.dtype)
    m4 = M - M % 4
    for i0 in range(0, m4, 4):
        if accumulate:
            for r in range(4):
                for j in range(N):
                    acc[r, j] = C[i0 + r, j]
        else:
            acc[:, :] = 0.0
        for k in range(K):
            a0 = A[i0, k]
            a1 = A[i0 + 1, k]
            a2 = A[i0 + 2, k]
            a3 = A[i0 + 3, k]
            for j in range(N):
                w = W[k, j]
                acc[0, j] += a0 * w
                acc[1, j] += a1 * w
                acc[2, j] += a2 * w
                acc[3, j] += a3 * w
        for r in range(4):
            for j in range(N):
                C[i0 + r, j] = acc[r, j]
    for i in range(m4, M):
        for j in range(N):
            acc[0, j] = C[i, j] if accumulate else 0.0
        for k in range(K):
            a0 = A[i, k]
            for j in range(N):
                acc[0, j] += a0 * W[k, j]
        for j in range(N):
            C[i, j] = acc[0, j]


@kernel
def _matmul_narrow(A, W, C, accumulate):
    """C = A @ W for a few output columns (dx of a univariate input): dot products along K."""
    M, K = A.shape
    N = W.shape[1]
    for j in range(N):
        w = W[:, j].copy()  # (K,) contiguous
        for i in range(M):
            s = C[i, j] if accumulate else 0.0
            for k in range(K):
                s += A[i, k] * w[k]
            C[i, j] = s


@kernel
def _matmul_tn_narrow(A, B, C):
    """C (N1, N2) += A^T @ B for a few columns N2: accumulate C's transpose along N1."""
    M, N1 = A.shape
    N2 = B.shape[1]
    acc = np.zeros(N1, C.dtype)
    for j in range(N2):
        acc[:] = 0.0
        for m in range(M):
            bm = B[m, j]
            for i in range(N1):
                acc[i] += A[m, i] * bm
        for i in range(N1):
            C[i, j] += acc[i]


@kernel
def matmul_tn(A, B, C):
    """C (N1, N2) += A (M, N1)^T @ B (M, N2): a weight gradient summed over rows.

    Rows of A and B are taken four at a time so each row of C is loaded once per four.
    """
    M, N1 = A.shape
    N2 = B.shape[1]
    if N2 < _NARROW:
        _matmul_tn_narrow(A, B, C)
        return
    m4 = M - M % 4
    for m0 in range(0, m4, 4):
        for i in range(N1):
            a0 = A[m0, i]
            a1 = A[m0 + 1, i]
            a2 = A[m0 + 2, i]
            a3 = A[m0 + 3, i]
            for j in range(N2):
                C[i, j] += a0 * B[m0, j] + a1 * B[m0 + 1, j] + a2 * B[m0 + 2, j] + a3 * B[m0 + 3, j]
    for m in range(m4, M):
        for i in range(N1):
            a0 = A[m, i]
            for j in range(N2):
                C[i, j] += a0 * B[m, j]
