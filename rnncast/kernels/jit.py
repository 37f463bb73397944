"""The one jit decorator: every kernel's compile policy lives here."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".rnncast-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _choose_cache_dir() -> None:
    """Point Numba's cache at a writable folder before Numba is imported.

    Numba caches next to the source by default; an installed package folder may be
    read-only (system installs, containers), and then `cache=True` fails outright at
    import. Unless the user chose NUMBA_CACHE_DIR, fall back to ~/.cache/rnncast/numba
    (XDG_CACHE_HOME respected), then to the temporary folder, which always works.
    """
    if os.environ.get("NUMBA_CACHE_DIR") or _writable(Path(__file__).parent / "__pycache__"):
        return
    candidates = []
    xdg = os.environ.get("XDG_CACHE_HOME")
    home = Path(os.path.expanduser("~"))
    candidates.append(Path(xdg) if xdg else home / ".cache")
    candidates.append(Path(tempfile.gettempdir()))
    for base in candidates:
        folder = base / "rnncast" / "numba"
        if _writable(folder):
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            return


_choose_cache_dir()

import numba  # noqa: E402  (after the cache folder is chosen)

# Numba reads NUMBA_CACHE_DIR once, when it is first imported, and rnncast.model imports
# it before this module: hand Numba the chosen folder directly too, or the fallback
# would never take effect and a read-only install would fail with "no locator available".
if os.environ.get("NUMBA_CACHE_DIR") and not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

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
