"""The command line: options -> specs -> one rnncast.api call -> rendered output; errors -> exit codes.

commands (the four commands), options (each option declared once), usage (the parser's
errors in one line), render (what they show), streams (stderr lines, closed descriptors,
exit codes). Exit codes: 0 success; 2
bad usage or bad input; 1 an internal error (a bug); 130 interrupted; 141 stdout closed
early (a pipe); 143 terminated.
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress

from rnncast import interrupts
from rnncast.cli.commands import app
from rnncast.cli.streams import guard_standard_streams, one_line, say
from rnncast.errors import RnncastError

__all__ = ["app", "main"]


def main() -> None:
    """The `rnncast` console script and `python -m rnncast`."""
    guard_standard_streams()
    interrupts.install()  # Ctrl-C and SIGTERM unwind: temporary files removed, the old model intact, one line
    # Arrow's default allocator keeps freed memory for reuse: reading 30,000 series x 500
    # rows peaked at 1,609 MiB with it, 1,282 MiB with the system allocator. Read when
    # pyarrow is first imported, so set here, before any command; a user's choice stands.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        app(prog_name="rnncast")
    except RnncastError as exc:  # outside any command, e.g. `rnncast --help >&-`
        say(f"rnncast: error: {one_line(exc)}")
        sys.exit(2)
    except SystemExit as exc:  # every command ends here, with its exit code
        _exit_now(exc.code)


def _exit_now(code: object) -> None:
    """Flush the standard streams and end the process without the interpreter's teardown.

    Freeing Numba's and LLVM's hundreds of thousands of objects one by one at exit took
    0.16-0.2 s of every command: `rnncast predict` of the sample model, 10 paired runs on
    2 cores, 0.78 s median before, 0.61 s with this. Nothing is left for the teardown to
    do: model and output files are written, fsynced and renamed inside the command,
    temporary files are removed in its `finally` blocks, a Dask cluster it started is
    closed before it returns, and a kernel-compiling child a failed fit leaves is ended here.
    """
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if not isinstance(code, int) and code is not None:
        say(str(code))  # sys.exit("message") prints its message, as the interpreter would
    warm = sys.modules.get("rnncast.kernels.warm")  # imported by a fit; its compiling child must not outlive us
    if warm is not None:
        warm.stop()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a pipe closed at the very end: the command's own exit code stands
            stream.flush()
    os._exit(status)
