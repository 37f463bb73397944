"""Ctrl-C and SIGTERM stop a long computation, even where a library swallowed the exception they raised.

The command line's handlers raise KeyboardInterrupt (Terminated for SIGTERM) as Python's
own would, and also remember the signal. Code that loops for long (training batches,
forecast blocks) calls `check` between steps: an exception swallowed on its way up (a
CI run saw a fit go on training for two minutes after Ctrl-C) is raised again there,
within one step. Outside the command line no handler is installed and `check` does nothing.
"""

from __future__ import annotations

import signal

_pending: type[KeyboardInterrupt] | None = None


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, systemd, cron daemons) arrived: unwind as for Ctrl-C, then exit 143."""


def _raise_for(signum: int, frame: object) -> None:
    global _pending
    _pending = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    raise _pending


def install() -> None:
    """Handle SIGINT and SIGTERM here (the main thread only; an embedding application's handlers stay)."""
    import contextlib

    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, _raise_for)
        signal.signal(signal.SIGTERM, _raise_for)


def check() -> None:
    """Raise the exception of a signal that arrived, again: between the steps of a long loop."""
    if _pending is not None:
        raise _pending
