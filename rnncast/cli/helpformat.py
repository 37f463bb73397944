"""How the help reads: examples last (after the options), whole command descriptions, plain argument names.

The parser's defaults print a docstring's examples before the option list, cut the
command list's descriptions at 45 characters ("..."), write a required argument as
`{DATA}` in the usage line and type every argument (`DATA <str>`). README promises help
texts that end with examples; these classes keep that promise in one place.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

EXAMPLES = "\b\nExample:"  # where a command's docstring starts its examples


def examples_last(command: Any) -> None:
    """Move the examples of a command's (or the group's) docstring into its epilog: after the options."""
    text = command.help or ""
    if EXAMPLES in text and not command.epilog:
        command.help, examples = text.split(EXAMPLES, 1)
        command.epilog = EXAMPLES + examples


class HelpCommand(TyperCommand):
    """A command whose docstring's examples become its epilog, printed after the options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        text = self.help or ""
        examples_last(self)
        if not self.short_help and text:
            self.short_help = text.strip().split("\n\n", 1)[0].replace("\n", " ")  # the whole first paragraph
        for param in self.params:
            if getattr(param, "param_type_name", "") == "argument":
                plain = str(param.display_name_raw)  # type: ignore[attr-defined]
                usage = plain if param.required else f"[{plain}]"
                # Instance overrides of two display methods: `DATA` / `[MODEL]` in the usage line, untyped.
                param._usage_display_name = lambda usage=usage: usage  # type: ignore[attr-defined]
                param.display_type_rich = lambda ctx: None  # type: ignore[attr-defined]
