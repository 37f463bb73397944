"""Usage errors (an unknown option, a value of the wrong type, a missing argument) as one `rnncast: error:` line.

The command-line parser's own messages are three lines (usage, "Try ... for help",
"Error: ...") and, for values, carry its validation library's words ("Value error, ...",
"Input should be a valid integer"). README promises one line naming the option, what
was given and what is allowed, and exit code 2, as for every other error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperGroup

from rnncast.cli.helpformat import examples_last
from rnncast.cli.streams import say

# What the parser's value types expect, by the validation error's type.
_EXPECTED = {"int_parsing": "a whole number", "float_parsing": "a number", "bool_parsing": "yes or no"}


def _command(exc: UsageError) -> str:
    return exc.ctx.command_path if exc.ctx is not None else "rnncast"


def _option_name(exc: BadParameter) -> str:
    param = exc.param
    if param is None:
        return "a value"
    if getattr(param, "param_type_name", "") == "argument":
        return str(getattr(param, "metavar", None) or param.name or "").upper()
    return max(param.opts, key=len) if param.opts else str(param.name)


def _first_error(exc: BaseException) -> dict[str, Any]:
    """The validation error behind a bad value (its type and input), when there is one."""
    errors = getattr(exc.__cause__, "errors", None)
    try:
        found = errors() if callable(errors) else []
    except Exception:  # not the validation error we know: fall back to the message
        found = []
    return found[0] if found else {}


def describe(exc: UsageError) -> str:
    """The one line (after `rnncast: error: `) for a usage error."""
    command = _command(exc)
    if isinstance(exc, NoSuchOption):
        return f"{command} has no option {exc.option_name}; see `{command} --help` for its options"
    if isinstance(exc, MissingParameter):
        what = _option_name(exc)
        return f"{command} needs {what}; see `{command} --help`"
    if isinstance(exc, BadParameter):
        name = _option_name(exc)
        error = _first_error(exc)
        given = error.get("input")
        message = str(error.get("msg", exc.message))
        if " is not one of " in message:  # a choice: "'xml' is not one of 'csv', 'json', 'parquet'."
            allowed = message.split(" is not one of ", 1)[1].rstrip(".").replace("'", "")
            return f"{name} {given!r} is not allowed; use one of {allowed}"
        expected = _EXPECTED.get(str(error.get("type", "")))
        if expected is not None:
            return f"{name} takes {expected}, got {given!r}"
        return f"{name}: {message.removeprefix('Value error, ')}"
    if isinstance(exc, BadOptionUsage):
        return f"{exc.option_name} needs a value; see `{command} --help`"
    message = exc.format_message().rstrip(".")
    if message.startswith("No such command") and exc.ctx is not None:
        names = list(getattr(exc.ctx.command, "list_commands", lambda ctx: [])(exc.ctx))
        listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
        return f"{message[0].lower()}{message[1:]}; the commands are {listed} (rnncast --help)"
    return message


class Commands(TyperGroup):
    """rnncast's command group: the parser's usage errors become one line and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        examples_last(self)  # the top-level help ends with its example too

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except NoArgsIsHelpError as exc:  # bare `rnncast`: the help, on stderr, exit 2 (as before)
            exc.show()
            code = 2
        except UsageError as exc:
            say(f"rnncast: error: {describe(exc)}")
            code = 2
        except ClickException as exc:
            say(f"rnncast: error: {exc.format_message()}")
            code = exc.exit_code
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)
