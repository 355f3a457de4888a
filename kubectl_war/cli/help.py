"""`--help` the way kubectl users read it: purpose, details, options, then examples.

Command docstrings end with an `Examples:` block written in the `kubectl war ...`
form. `WarContext` renders that block after the options (kubectl and most CLIs put
examples last, where a reader scrolling up from the prompt sees them first) and
rewrites `kubectl war` to the name the program was started as, so the examples can
be pasted whether the plugin runs under kubectl or on its own.
"""

from __future__ import annotations

import inspect
import os
import re
import sys

import click

#: How examples are written in docstrings; replaced by the running program's name.
PLUGIN_PROG = "kubectl war"


def prog_name() -> str:
    """`kubectl war` when kubectl runs us as a plugin, else the executable's name.

    krew's convention: an executable named `kubectl-*` is reached as `kubectl war`
    (that is how users type it even when they call it directly).
    """
    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "kubectl-war"
    if base.startswith("kubectl-") or "KUBECTL_PLUGINS_CALLER" in os.environ:
        return "kubectl war"
    if base == "__main__.py":
        return "python -m kubectl_war"
    return base


_EXAMPLES = re.compile(r"^(?:\s*\x08\s*\n)?\s*Examples:\s*$", re.MULTILINE)


def split_examples(help_text: str | None) -> tuple[str, list[str]]:
    """The help text before its `Examples:` block, and the block's lines (dedented).

    A `\\b` line (click's "do not rewrap") just before `Examples:` belongs to the block.
    """
    text = inspect.cleandoc(help_text or "").partition("\f")[0]
    # The last one: an earlier "Examples:" would be prose.
    match = ([None, *_EXAMPLES.finditer(text)])[-1]
    if match is None:
        return text, []
    body = text[: match.start()].rstrip()
    lines = [line.strip() for line in text[match.end() :].splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return body, lines


def purpose(help_text: str | None) -> str:
    """The first paragraph of a command's help: its one line of purpose."""
    body, _ = split_examples(help_text)
    return body.split("\n\n", 1)[0].strip()


_PLUGIN_PROG = re.compile(r"(?<![\w-])kubectl war(?![\w-])")


def localise(line: str, prog: str) -> str:
    """An example line with `kubectl war` replaced by the program's own name."""
    return line if prog == PLUGIN_PROG else _PLUGIN_PROG.sub(lambda _: prog, line)


class WarContext(click.Context):
    """A context whose help puts the `Examples:` block last, in the program's own name."""

    def get_help(self) -> str:
        cmd = self.command
        formatter = self.make_formatter()
        body, examples = split_examples(cmd.help)
        cmd.format_usage(self, formatter)
        if cmd.deprecated:
            body = f"{body} (Deprecated)" if body else "(Deprecated)"
        if body:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(body)
        format_arguments = getattr(cmd, "format_arguments", None)  # click 8.3+
        if format_arguments is not None:
            format_arguments(self, formatter)
        cmd.format_options(self, formatter)
        cmd.format_epilog(self, formatter)
        if examples:
            prog = self.find_root().info_name or PLUGIN_PROG
            formatter.write_paragraph()
            formatter.write_heading("Examples")
            with formatter.indentation():
                for line in examples:
                    # Written as given: an example must never be rewrapped.
                    text = localise(line, prog) if line else ""
                    formatter.write(f"{'':>{formatter.current_indent}}{text}\n" if text else "\n")
        return formatter.getvalue().rstrip("\n")


def use_war_help(cmd: click.Command) -> None:
    """Render `cmd`'s help, and its subcommands', with `WarContext`."""
    cmd.context_class = WarContext
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            use_war_help(sub)
