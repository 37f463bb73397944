"""The one jit decorator: every kernel's compile policy lives here."""

from __future__ import annotations

import numba

# No 'nnan'/'ninf': the engine must see NaN and inf to report a diverged fit, and LLVM
# may delete isfinite checks under those flags. The rest lets LLVM vectorize reductions
# and fuse multiply-adds, which float64 parity (1e-9) tolerates with room to spare.
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}


def kernel(func=None, *, parallel: bool = False):
    """Compile `func` lazily (at first call) with rnncast's policy.

    cache=True: compiled code is kept on disk so a second process loads it instead of
    compiling. nogil=True: callers may run kernels from several threads. `parallel`
    only for entry points whose `prange` spreads batch chunks over cores.

    Helpers inlined into kernels live in other modules; Numba's cache does not notice
    edits to them, so during development clear `__pycache__/*.nbi` after changing one
    (an installed release replaces every file, which invalidates the cache).
    """

    def wrap(f):
        return numba.njit(
            cache=True,
            nogil=True,
            fastmath=FASTMATH,
            # NumPy's rules for x / 0 (inf or NaN, no exception): Python's rule makes
            # Numba guard every division with a branch, which stops vectorization.
            error_model="numpy",
            parallel=parallel,
        )(f)

    return wrap if func is None else wrap(func)


def threads() -> int:
    """How many threads Numba's parallel kernels spread over."""
    return int(numba.get_num_threads())
