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
