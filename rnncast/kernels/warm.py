"""A cold cache's compile on two cores: the backward kernel of the cell a fit trains compiles in a
child process while this process compiles the forward ones.

Numba compiles one function at a time in a process (one lock). On a fresh install the
first LSTM training step spent 5.7 s compiling the forward kernels and the head, then
3.5 s on the backward. The child writes Numba's on-disk cache as any process does (each
file under a temporary name, then renamed), and this process's first backward call loads
the kernel from there. Whatever goes wrong in the child (no interpreter to start, a
killed process, a signature that no longer matches), this process compiles the kernel
itself, as it always did: the child can only save time.

The small product both need, `matmul_nt` (the head's forward and every backward's dh),
compiles here before the forward kernel, and the child loads it from the cache on its way
to the backward: the child's path (start-up, the products, the backward) had been the
longer by about 2 s. README's first call, 6 pairs of fresh caches, Zen 3: 0.915 of the
time before (median ratio; 0.87 to 1.02), within that machine's noise in a later run.

    python -m rnncast.kernels.warm lstm float32     # what `start` runs
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

# How long the first backward call waits for the child before compiling the kernel itself.
WAIT_S = 180.0
# Set to 0 to compile everything in this process (as before).
SWITCH = "RNNCAST_PARALLEL_COMPILE"

_child: subprocess.Popen | None = None
_product_shared = False


def backward_signature(dtype: np.dtype) -> tuple:
    """The argument types every cell's backward kernel is called with (rnncast.kernels.recurrent.layer_backward).

    x, hs, cs, acts, w_ihT, w_hhT, d_out, dh_n, dc_n, dx, dh0, dc0, one chunk's dW_ihT,
    dW_hhT, db_ih, db_hh (C-contiguous arrays of `dtype`), need_dx, b0, b1 (int64).
    tests/test_warm.py checks it against the signature a training step compiles.
    """
    import numba
    from numba import types

    def array(ndim: int):
        return types.Array(numba.from_dtype(np.dtype(dtype)), ndim, "C")

    ndims = (3, 3, 3, 3, 2, 2, 3, 2, 2, 3, 2, 2, 2, 2, 1, 1)
    return (*(array(n) for n in ndims), types.int64, types.int64, types.int64)


def product_signature(dtype: np.dtype) -> tuple:
    """The argument types of `matmul_nt` as the head and every backward kernel call it: A, WT, C
    (2-D C-contiguous arrays of `dtype`) and accumulate (int64)."""
    import numba
    from numba import types

    array = types.Array(numba.from_dtype(np.dtype(dtype)), 2, "C")
    return (array, array, array, types.int64)


def share_product(dtype: np.dtype) -> None:
    """Before a training step's first forward, while a child is under way: compile `matmul_nt` here,
    once. Not in `start`, which the CLI calls before reading the data: a bad file's error then
    waited for it."""
    global _product_shared
    if _child is None or _product_shared:
        return
    _product_shared = True
    _compile_product_here(np.dtype(dtype))


def _compile_product_here(dtype: np.dtype) -> None:
    # Compiled here before the forward, the child loads it from the cache (Numba looks there
    # before compiling a signature); a child that gets there first compiles it too, as before.
    from rnncast.kernels.matmul import matmul_nt

    matmul_nt.compile(product_signature(dtype))


def _backward(cell: str):
    from rnncast.kernels import gru, lstm, rnn

    return {"lstm": lstm.lstm_backward, "gru": gru.gru_backward, "rnn": rnn.rnn_backward}[cell]


def start(cell: str, dtype: np.dtype) -> None:
    """Compile `cell`'s backward kernel for `dtype` in a child process, unless the cache has one already
    (or a child is under way, or RNNCAST_PARALLEL_COMPILE=0)."""
    global _child
    from rnncast.kernels.cache import cached

    if _child is not None or os.environ.get(SWITCH) == "0" or os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return
    if cached(f"{cell}.{cell}_backward") or _backward(cell).signatures:  # the file check first: no Numba import
        return
    here = str(Path(__file__).resolve().parents[2])  # the folder this rnncast is imported from
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    try:
        _child = subprocess.Popen([sys.executable, "-m", "rnncast.kernels.warm", cell, np.dtype(dtype).name],
                                  env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    except OSError:  # no interpreter to start: compile here, as before
        _child = None
    else:
        atexit.register(stop)  # a program that fails before training leaves no process behind


def stop() -> None:
    """End a child nobody waited for (Numba renames each cache file into place: none is left half-made).
    Run at exit, and by the CLI, whose commands end in os._exit (no atexit)."""
    global _child
    child, _child = _child, None
    if child is not None and child.poll() is None:
        child.kill()
        child.wait()


def wait() -> None:
    """Before the first backward call: let the child finish (at most WAIT_S), so the kernel loads from the cache."""
    global _child
    child, _child = _child, None
    if child is None:
        return
    try:
        child.wait(WAIT_S)
    except subprocess.TimeoutExpired:  # a machine too busy: this process compiles it
        child.kill()
        child.wait()


def main(argv: list[str]) -> int:
    cell, dtype = argv
    _backward(cell).compile(backward_signature(np.dtype(dtype)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
