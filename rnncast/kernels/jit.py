"""The jit decorators: every kernel's compile policy lives here."""

from __future__ import annotations

import gc

import numba
from numba.core.caching import FunctionCache
from numba.core.runtime import nrt

# Numba's import leaves tens of thousands of objects that live as long as the process.
# Moved to the collector's permanent generation, no full collection walks them again,
# nor the ones at interpreter exit: 0.15-0.2 s of a process that loads cached kernels,
# trains and exits. (Cyclic garbage existing right now would be kept, not freed: at
# this point of an import there is next to none.) Measured in a second process on the
# cache, 15 runs each, A/B: min 0.54 s against 0.72, median 0.65 against 0.82.
gc.freeze()

# No 'nnan'/'ninf': the engine must see NaN and inf to report a diverged fit, and LLVM
# may delete isfinite checks under those flags. The rest lets LLVM vectorize reductions
# and fuse multiply-adds, which float64 parity (1e-9) tolerates with room to spare.
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}


class _CacheLoad(FunctionCache):
    """Numba's cache, minus the refresh of every lowering registry before a load.

    Stock Numba refreshes the target context before it loads a cached kernel: that
    imports and registers all of Numba's lowering modules, 0.13-0.2 s of a process
    that only loads. Loaded machine code needs none of them, only the runtime's symbols
    (NRT) to link against; a compile after a miss refreshes by itself (CompilerBase).
    """

    def load_overload(self, sig, target_context):
        nrt.rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


def _loads_without_refresh(dispatcher):
    # Private Numba API, checked so that a Numba without it keeps its own cache. Under
    # NUMBA_DISABLE_JIT=1, njit returns the plain function: nothing to replace.
    private = hasattr(FunctionCache, "_load_overload") and hasattr(FunctionCache, "_guard_against_spurious_io_errors")
    if private and isinstance(getattr(dispatcher, "_cache", None), FunctionCache):
        dispatcher._cache = _CacheLoad(dispatcher.py_func)
    return dispatcher


def kernel(func):
    """Compile `func` lazily (at first call, for the argument types of that call) with rnncast's policy.

    cache=True: compiled code is kept on disk so a second process loads it instead of
    compiling. nogil=True: the layer kernels run on a thread pool, one batch chunk per
    thread (rnncast.kernels.recurrent). No `parallel=True`: Numba's parfor passes cost
    about 13 of a fresh first fit's 30 s of compiling, for what two nogil threads do.

    Helpers inlined into kernels live in other modules; Numba's cache does not notice
    edits to them, so during development clear `__pycache__/*.nbi` after changing one
    (an installed release replaces every file, which invalidates the cache).
    """
    return _loads_without_refresh(numba.njit(
        cache=True,
        nogil=True,
        fastmath=FASTMATH,
        # NumPy's rules for x / 0 (inf or NaN, no exception): Python's rule makes
        # Numba guard every division with a branch, which stops vectorization.
        error_model="numpy",
    )(func))


def inline(func):
    """A helper inlined into the kernels that call it (Numba IR inlining), never called from Python.

    It is then typed and compiled as part of each caller, with the caller's flags, instead
    of being compiled once on its own and again when linked into every caller; it has no
    cache of its own.
    """
    return numba.njit(inline="always", fastmath=FASTMATH, error_model="numpy")(func)


def threads() -> int:
    """How many threads the layer kernels spread a batch over (Numba's setting: NUMBA_NUM_THREADS, set_num_threads)."""
    return int(numba.get_num_threads())


def max_threads() -> int:
    """The most threads `threads` can say (NUMBA_NUM_THREADS)."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]  # set from the environment at import
