"""Streams and exit codes: one stderr line per message, closed descriptors survived, every failure an exit code.

Exit codes: 0 success; 2 bad usage or bad input (every RnncastError, and the parser's
usage errors, rnncast.cli.usage); 1 an internal error (a bug); 130 interrupted; 141 stdout
closed early (a pipe); 143 terminated (SIGTERM, unwound as Ctrl-C is).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from rnncast.errors import ConfigError, RnncastError
from rnncast.interrupts import Terminated

DEBUG = "rnncast.debug"  # key in click's Context.meta, shared by every sub-context


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def say(line: str) -> None:
    """One plain line on stderr: no markup (rich would eat `[...]`), no colour."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr closed (or None: started without fd 2): nowhere left to complain


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test runner's buffer): nothing to silence


class ClosedStream:
    """Stands in for sys.stdin or sys.stdout when the process started with that fd closed.

    Python then sets the stream to None, and the first read or write would be an
    AttributeError (exit 1). Reading or writing this one is a user error instead (exit 2:
    `rnncast fit -` with stdin closed, `rnncast predict` with stdout closed); flushing it,
    as every command does at the end, is harmless.
    """

    def __init__(self, name: str, advice: str) -> None:
        self.message = f"{name} is closed; {advice}"

    @property
    def buffer(self) -> ClosedStream:
        return self

    def read(self, *args: object) -> Any:
        raise ConfigError(self.message)

    write = readline = read

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def guard_standard_streams() -> None:
    """Reopen closed fds 0-2 on /dev/null and stand in for the None streams Python made of them.

    A closed fd 1 or 2 would otherwise be the number the next os.open returns, so a C
    library's stray write to "stdout" could land in the model file being written (cron
    jobs run with `>&-` and daemons with no fds at all do this).
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)  # the lowest free fd
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    if sys.stdin is None:
        sys.stdin = ClosedStream("stdin", "give the data file's path instead of '-'")
    if sys.stdout is None:
        sys.stdout = ClosedStream(
            "stdout", "redirect it to a file or a pipe (predict also takes --output FILE)")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (for the process's lifetime; exit codes still tell)


@contextmanager
def handled(ctx: typer.Context) -> Iterator[None]:
    """Turn every way a command can fail into one stderr line and an exit code."""
    debug = bool(ctx.meta.get(DEBUG, False))
    try:
        yield
        sys.stdout.flush()  # inside the guard: a closed pipe surfaces here, not at exit
    except typer.Exit:
        raise
    except RnncastError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        say(f"rnncast: error: {one_line(exc)}")
        raise typer.Exit(2) from None
    except Terminated:
        say("rnncast: terminated")
        raise typer.Exit(143) from None
    except KeyboardInterrupt:
        say("rnncast: interrupted")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (`rnncast predict | head -1`): not an error worth a word.
        silence_stdout()
        raise typer.Exit(141) from None
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
            say(f"rnncast: internal error: {type(exc).__name__}: {one_line(exc)}")
        else:
            say(f"rnncast: internal error: {type(exc).__name__}: {one_line(exc)} "
                 "(run with --debug for the traceback)")
        raise typer.Exit(1) from None


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
