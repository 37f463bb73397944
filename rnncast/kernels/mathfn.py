"""Activation functions that vectorize: float32 takes a rational tanh, float64 the exact one.

Numba here has no SVML, so a loop calling math.exp or math.tanh runs one element at a
time; an inlined rational function of pure arithmetic lets LLVM use AVX across a row.
float64 stays exact because it exists for checks against PyTorch at 1e-9.

The cell kernels call `tanh` and `sigmoid`, which resolve per dtype at compile time.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

from rnncast.kernels.jit import FASTMATH

# tanh(x) ~ x * P(x^2) / Q(x^2) on [-9, 9], where float32 tanh is already +-1.
# Odd-over-even minimax form as used by Eigen/XLA; max error ~2 ulp in float32
# (checked against numpy in tests/test_model.py).
_CLAMP = 7.90531110763549805
_A1 = 4.89352455891786e-03
_A3 = 6.37261928875436e-04
_A5 = 1.48572235717979e-05
_A7 = 5.12229709037114e-08
_A9 = -8.60467152213735e-11
_A11 = 2.00018790482477e-13
_A13 = -2.76076847742355e-16
_B0 = 4.89352518554385e-03
_B2 = 2.26843463243900e-03
_B4 = 1.18534705686654e-04
_B6 = 1.19825839466702e-06


def tanh(x):
    """tanh for kernels (resolved by `overload` below; never called from Python)."""
    raise NotImplementedError("tanh is a kernel helper; call it from a Numba kernel")


def sigmoid(x):
    """1 / (1 + exp(-x)) for kernels (resolved by `overload` below)."""
    raise NotImplementedError("sigmoid is a kernel helper; call it from a Numba kernel")


# Not `kernel`: these are inlined into the kernels that call them (inline="always"), so
# they are never entry points, have no cache of their own and need no nogil.
@numba.njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _tanh32(x):
    f = np.float32
    x = max(f(-_CLAMP), min(f(_CLAMP), x))
    x2 = x * x
    p = x2 * f(_A13) + f(_A11)
    p = x2 * p + f(_A9)
    p = x2 * p + f(_A7)
    p = x2 * p + f(_A5)
    p = x2 * p + f(_A3)
    p = x2 * p + f(_A1)
    q = x2 * f(_B6) + f(_B4)
    q = x2 * q + f(_B2)
    q = x2 * q + f(_B0)
    return x * p / q


def _is_f32(x) -> bool:
    return isinstance(x, types.Float) and x.bitwidth == 32


# The overloads are not inlined at Numba's IR level (inline="always"): each call site then
# re-typed its body, and the LSTM forward has five, 1.35 s of its fresh compile (7.4 s
# -> 6.05, median of 4 alternating runs, Zen 3). Compiled once per dtype, LLVM still
# inlines them into each loop: the kernels' machine code came out the same (same vector
# FMA and division counts in every cell's forward and backward, float32 and float64).
@overload(tanh)
def _tanh_impl(x):
    if _is_f32(x):
        return lambda x: _tanh32(x)
    return lambda x: math.tanh(x)


@overload(sigmoid)
def _sigmoid_impl(x):
    if _is_f32(x):
        def sigmoid32(x):
            half = np.float32(0.5)
            return half + half * _tanh32(half * x)

        return sigmoid32

    def sigmoid64(x):
        # Split by sign so exp never overflows.
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)

    return sigmoid64
