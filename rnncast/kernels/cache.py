"""Where Numba keeps compiled kernels: chosen once, before Numba is first imported.

Numba reads NUMBA_CACHE_DIR when it is imported and caches next to the source by
default; an installed package folder may be read-only (system installs, containers),
and then `cache=True` fails outright. rnncast.kernels runs `choose_cache_dir` in its
__init__, and every module of rnncast reaches Numba only through rnncast.kernels, so
the choice is always made first.
"""

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


def choose_cache_dir() -> None:
    """Set NUMBA_CACHE_DIR to a writable folder unless the user chose one or the package folder is writable.

    Fallbacks, in order: ~/.cache/rnncast/numba (XDG_CACHE_HOME respected), then the
    temporary folder, which always works.
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


def compiled(cell: str = "lstm") -> bool:
    """Whether this machine's cache already holds `cell`'s training kernels (so a fit starts in about a second).

    Each cell has its own kernels, compiled by the first fit that trains it. Looks for
    Numba's index file of the cell's forward kernel where `choose_cache_dir` put the
    cache. A stale index (after an upgrade) makes this say yes while Numba recompiles:
    the message it serves is a courtesy, never a promise.
    """
    return cached(f"{cell}.{cell}_forward")


def cached(kernel: str) -> bool:
    """Whether the cache holds Numba's index of `kernel` ("module.function", e.g. "lstm.lstm_backward"),
    for some signature."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    folder = Path(chosen) if chosen else Path(__file__).parent / "__pycache__"
    try:
        return any(folder.rglob(f"{kernel}-*.nbi"))
    except OSError:
        return False
