"""Atomic file replacement: readers see the old file or the whole new one, never a mix.

Shared by the model format and the forecast writer, which differ only in the bytes they
write and in the error type a failure becomes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from rnncast.errors import RnncastError

try:
    import fcntl
except ImportError:  # Windows: no flock; stale temporary files are then left alone
    fcntl = None  # type: ignore[assignment]

# A temporary file no process holds locked and untouched this long belongs to a writer
# that died (SIGKILL, power loss) and is removed by the next write to the same path. The
# age covers the instant between creating a file and locking it, and file systems whose
# locks are local to one machine.
STALE_SECONDS = 60.0


def atomic_write(
    path: str | os.PathLike[str],
    chunks: Iterable[bytes | bytearray | memoryview],
    *,
    error: type[RnncastError],
    what: str,
) -> None:
    """Write `chunks` to `path` through a temporary file in the same folder.

    The temporary file is named `.<name>.<random>.tmp`, written, flushed to disk (fsync)
    and renamed over `path` with os.replace; the folder is then fsynced so the rename
    itself survives a crash. On any exception the temporary file is removed. An OSError
    becomes `error(...)`, a one-line message naming `what` and `path` and what to do;
    anything else (including KeyboardInterrupt) propagates unchanged.
    """
    target = Path(path)
    if target.is_dir():
        raise error(f"cannot write {what} to {target}: it is a folder; give a file name")
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        # O_EXCL: never reuse a stranger's file; mode 0o666 lets the umask decide, as a
        # plain open() would (mkstemp would force 0o600 on a file users expect to share).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise error(_describe_os_error(exc, target, what)) from exc
    # Locked while it is written: a temporary file nobody holds locked is a dead writer's.
    # The lock lasts until the file is closed, after the rename where POSIX allows it.
    locked = _lock(fd)
    try:
        try:
            for chunk in chunks:
                _write_all(fd, chunk)
            os.fsync(fd)
        finally:
            if not locked:
                os.close(fd)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise error(_describe_os_error(exc, target, what)) from exc
        raise
    finally:
        if locked:
            os.close(fd)
    _fsync_folder(target.parent)
    _remove_stale(target)


def _lock(fd: int) -> bool:
    """Take an exclusive lock on our own temporary file; False where locks do not work."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _remove_stale(target: Path) -> None:
    """Remove `target`'s temporary files left by writers that died (killed, crashed).

    Only files named as atomic_write names them, older than STALE_SECONDS and not locked
    by a live writer (the lock dies with its process). Best effort: any doubt or error
    leaves the file alone.
    """
    if fcntl is None:
        return
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{12}}\.tmp")
    try:
        names = [entry.name for entry in os.scandir(target.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return
    now = time.time()
    for name in names:
        stale = target.parent / name
        try:
            fd = os.open(stale, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if now - info.st_mtime < STALE_SECONDS:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a writer lives
            os.unlink(stale)
        except OSError:
            continue
        finally:
            os.close(fd)


def _write_all(fd: int, chunk: bytes | bytearray | memoryview) -> None:
    """os.write may write less than asked (signals, pipes, full disks): loop until done."""
    view = memoryview(chunk).cast("B")
    while view.nbytes:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_folder(folder: Path) -> None:
    # Some platforms (Windows) and file systems cannot open or fsync a folder; the file
    # itself is already on disk, so a failure here only weakens crash safety.
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _describe_os_error(exc: OSError, path: Path, what: str) -> str:
    """One line saying why `path` could not be written and what the user can do."""
    start = f"cannot write {what} to {path}"
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        return f"{start}: permission denied; choose a folder you can write to"
    if code == errno.EROFS:
        return f"{start}: the folder is on a read-only file system; choose another folder"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"{start}: no space left on the device; free some space or choose another folder"
    if code == errno.ENOENT:
        return f"{start}: the folder {path.parent} does not exist; create it first"
    if code == errno.ENOTDIR:
        return f"{start}: part of the path is not a folder"
    if code == errno.EISDIR:
        return f"{start}: it is a folder; give a file name"
    reason = exc.strerror or str(exc)
    return f"{start}: {reason}"
