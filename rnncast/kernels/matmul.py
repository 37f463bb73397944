"""Small dense matrix products for the recurrent kernels, single-threaded.

The recurrent products are small (a chunk of 32 rows times a 64 x 256 weight) and run
on every thread of the layer kernels at once, where calling BLAS from two threads was
measured slower than one thread. Every loop runs along a contiguous row, cut into
one view per row first, so LLVM vectorizes it and can prove the rows independent;
the unrolling in each function is what measured fastest here (figures in docstrings,
float32 on one core).
"""

from __future__ import annotations

import numpy as np

from rnncast.kernels.jit import inline, kernel

# Below this many output columns a row-of-W layout has too little to vectorize along;
# the narrow variants vectorize along the long dimension instead.
_NARROW = 8


@kernel
def matmul(A, W, C, accumulate):
    """C (M, N) = A (M, K) @ W (K, N), or C += A @ W when `accumulate` is 1.

    Blocks of 4 rows of A, and K taken 4 at a time: each pass over a row of the
    accumulator does 16 multiply-adds per load and store (73-78 GFLOP/s here for
    32 x 64 x 256, against 29 with one k per pass). Rows of A, W, C must be contiguous.
    """
    M = A.shape[0]
    N = W.shape[1]
    if N < _NARROW:
        _matmul_narrow(A, W, C, accumulate)
        return
    acc0, acc1, acc2, acc3 = _accumulators(N, C.dtype, W)
    m4 = M - M % 4
    for i0 in range(0, m4, 4):
        c0, c1, c2, c3 = C[i0], C[i0 + 1], C[i0 + 2], C[i0 + 3]
        for j in range(N):
            acc0[j] = c0[j] if accumulate else 0.0
            acc1[j] = c1[j] if accumulate else 0.0
            acc2[j] = c2[j] if accumulate else 0.0
            acc3[j] = c3[j] if accumulate else 0.0
        _add_block(A, W, i0, acc0, acc1, acc2, acc3)
        _store_block(C, i0, acc0, acc1, acc2, acc3)
    for i in range(m4, M):  # leftover rows, one at a time
        for j in range(N):
            acc0[j] = C[i, j] if accumulate else 0.0
        _add_row(A, W, i, acc0)
        for j in range(N):
            C[i, j] = acc0[j]


@inline
def bias_plus_products(bias, A1, W1, A2, W2, C, both):
    """C (M, N) = bias (N,) + A1 @ W1, + A2 @ W2 too when `both` is 1: a step's pre-activations.

    Each block of rows is summed from the bias to C in one residency of its accumulators,
    where filling C with the bias and adding each product with `matmul` read and wrote C
    three times more: (512 x 65) @ (65 x 256), an inference chunk's step, 11-15 % faster,
    a training chunk's 32 rows 2-3 %. The same sums in the same order: the same bits.
    """
    M = A1.shape[0]
    N = W1.shape[1]
    acc0, acc1, acc2, acc3 = _accumulators(N, C.dtype, W2 if both else W1)
    m4 = M - M % 4
    for i0 in range(0, m4, 4):
        for j in range(N):
            acc0[j] = bias[j]
            acc1[j] = bias[j]
            acc2[j] = bias[j]
            acc3[j] = bias[j]
        _add_block(A1, W1, i0, acc0, acc1, acc2, acc3)
        if both:
            _add_block(A2, W2, i0, acc0, acc1, acc2, acc3)
        _store_block(C, i0, acc0, acc1, acc2, acc3)
    for i in range(m4, M):
        for j in range(N):
            acc0[j] = bias[j]
        _add_row(A1, W1, i, acc0)
        if both:
            _add_row(A2, W2, i, acc0)
        for j in range(N):
            C[i, j] = acc0[j]


@inline
def _accumulators(N, dtype, W):
    """Four accumulator rows of N, not one (4, N) array: rows N floats apart are 4 KiB apart
    (or a divisor of it) at N = 512 or 1024, and the CPU then takes a store to one row for a
    store a load of the next must wait for (4K aliasing). Rows a multiple of 512 floats
    plus 24 apart never start within 64 bytes of each other modulo 4 KiB, for any N and
    either dtype; at (32 x 256) @ (256 x 1024) the rate no longer falls from ~90 to ~35
    GFLOP/s in some runs.

    The same holds between the rows and W, whose rows are loaded while they are stored, so
    the first row starts half a page (modulo 4 KiB) from where W starts. Where W happened to
    fall in its page used to decide: an LSTM forward chunk at hidden 256 (32 rows, 48 steps)
    ran 25-33 % slower at 2-3 neighbouring offsets of W out of 16 (10.1-10.8 ms against
    8.0-8.2), a different band in each of 3 processes; after, over 6 processes, one offset of
    one process ran 13 % slower (9.3 ms) and none more. Other scratch rows may still collide
    there (placed 128 bytes earlier, the rows brought back a 26 % band).
    """
    P = (N + 511) // 512 * 512 + 24
    acc = np.empty(4 * P + 1024, dtype)  # room to shift the rows by up to a page
    wanted = (W.ctypes.data + 2048) % 4096
    acc = acc[((wanted - acc.ctypes.data % 4096) % 4096) // acc.itemsize :]
    return acc[0:N], acc[P : P + N], acc[2 * P : 2 * P + N], acc[3 * P : 3 * P + N]


@inline
def _add_block(A, W, i0, acc0, acc1, acc2, acc3):
    """acc0..acc3 += rows i0..i0+3 of A @ W, K taken 4 at a time, then the rest one by one."""
    K = A.shape[1]
    N = W.shape[1]
    k4 = K - K % 4
    for k in range(0, k4, 4):
        a00, a01, a02, a03 = A[i0, k], A[i0, k + 1], A[i0, k + 2], A[i0, k + 3]
        a10, a11, a12, a13 = A[i0 + 1, k], A[i0 + 1, k + 1], A[i0 + 1, k + 2], A[i0 + 1, k + 3]
        a20, a21, a22, a23 = A[i0 + 2, k], A[i0 + 2, k + 1], A[i0 + 2, k + 2], A[i0 + 2, k + 3]
        a30, a31, a32, a33 = A[i0 + 3, k], A[i0 + 3, k + 1], A[i0 + 3, k + 2], A[i0 + 3, k + 3]
        w0, w1, w2, w3 = W[k], W[k + 1], W[k + 2], W[k + 3]
        for j in range(N):
            x0, x1, x2, x3 = w0[j], w1[j], w2[j], w3[j]
            acc0[j] += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
            acc1[j] += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3
            acc2[j] += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3
            acc3[j] += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3
    for k in range(k4, K):
        a0, a1, a2, a3 = A[i0, k], A[i0 + 1, k], A[i0 + 2, k], A[i0 + 3, k]
        w = W[k]
        for j in range(N):
            x = w[j]
            acc0[j] += a0 * x
            acc1[j] += a1 * x
            acc2[j] += a2 * x
            acc3[j] += a3 * x


@inline
def _add_row(A, W, i, acc):
    """acc += row i of A @ W."""
    for k in range(A.shape[1]):
        a = A[i, k]
        w = W[k]
        for j in range(W.shape[1]):
            acc[j] += a * w[j]


@inline
def _store_block(C, i0, acc0, acc1, acc2, acc3):
    """Rows i0..i0+3 of C = acc0..acc3."""
    c0, c1, c2, c3 = C[i0], C[i0 + 1], C[i0 + 2], C[i0 + 3]
    for j in range(C.shape[1]):
        c0[j] = acc0[j]
        c1[j] = acc1[j]
        c2[j] = acc2[j]
        c3[j] = acc3[j]


@kernel
def matmul_nt(A, WT, C, accumulate):
    """C (M, N) = A (M, K) @ WT (N, K)^T, or C += ... when `accumulate` is 1.

    Dot-product form for a long K and a short N (the backward's dh = dG @ W_hh, K = 4H):
    blocks of 4 rows x 4 columns keep sixteen running sums in vector registers along K,
    eight loads to sixteen multiply-adds (4 x 2 blocks: six to eight, load-bound):
    (32 x 256) @ (256 x 64) 66 -> 76 GFLOP/s, (32 x 512) @ (512 x 128) 70 -> 86 on one
    Zen 4 core; with AVX2 code 80 -> 88 and 95 -> 97. `matmul` is half as fast here.
    """
    M, K = A.shape
    N = WT.shape[0]
    m4 = M - M % 4
    n4 = N - N % 4
    zero = C.dtype.type(0)
    for i0 in range(0, m4, 4):
        a0, a1, a2, a3 = A[i0], A[i0 + 1], A[i0 + 2], A[i0 + 3]
        for j0 in range(0, n4, 4):
            w0, w1, w2, w3 = WT[j0], WT[j0 + 1], WT[j0 + 2], WT[j0 + 3]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
            for k in range(K):
                x0, x1, x2, x3 = w0[k], w1[k], w2[k], w3[k]
                y0, y1, y2, y3 = a0[k], a1[k], a2[k], a3[k]
                s00 += y0 * x0
                s01 += y0 * x1
                s02 += y0 * x2
                s03 += y0 * x3
                s10 += y1 * x0
                s11 += y1 * x1
                s12 += y1 * x2
                s13 += y1 * x3
                s20 += y2 * x0
                s21 += y2 * x1
                s22 += y2 * x2
                s23 += y2 * x3
                s30 += y3 * x0
                s31 += y3 * x1
                s32 += y3 * x2
                s33 += y3 * x3
            _put4(C, i0, j0, s00, s01, s02, s03, accumulate)
            _put4(C, i0 + 1, j0, s10, s11, s12, s13, accumulate)
            _put4(C, i0 + 2, j0, s20, s21, s22, s23, accumulate)
            _put4(C, i0 + 3, j0, s30, s31, s32, s33, accumulate)
    # Leftover rows and columns: one dot product each.
    for i in range(M):
        for j in range(N):
            if i < m4 and j < n4:
                continue
            s = C[i, j] if accumulate else zero
            for k in range(K):
                s += A[i, k] * WT[j, k]
            C[i, j] = s


@inline
def _put4(C, i, j0, s0, s1, s2, s3, accumulate):
    """C[i, j0:j0+4] = the four sums, or += when `accumulate` is 1."""
    row = C[i]
    if accumulate:
        s0 += row[j0]
        s1 += row[j0 + 1]
        s2 += row[j0 + 2]
        s3 += row[j0 + 3]
    row[j0] = s0
    row[j0 + 1] = s1
    row[j0 + 2] = s2
    row[j0 + 3] = s3


@inline
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
