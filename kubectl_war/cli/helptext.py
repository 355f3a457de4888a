"""Help text the way kubectl users read it, without click: purpose, details, options,
then examples, in the name the program was started as.

Command docstrings end with an `Examples:` block written in the `kubectl war ...`
form; it is rendered after the options (kubectl and most CLIs put examples last, where
a reader scrolling up from the prompt sees them first), with `kubectl war` rewritten to
the program's own name so the examples can be pasted whether the plugin runs under
kubectl or on its own. `group_help` lays out `kubectl war --help` in click's layout
from `kubectl_war.cli.commands` alone, so that help needs neither click nor any
command's module (`kubectl_war.cli.help` does the same for every command, with click).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap

from kubectl_war.cli.commands import COMMANDS, GROUP_HELP, HELP_OPTIONS

#: How examples are written in docstrings; replaced by the running program's name.
PLUGIN_PROG = "kubectl war"

#: click's layout: help is at most this wide, two columns narrower, never under MIN_WIDTH.
MAX_WIDTH = 80
MIN_WIDTH = 50
#: The help of click's own `--help` option.
HELP_OPTION_HELP = "Show this message and exit."


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


def cleandoc(text: str) -> str:
    """A docstring without its indentation and surrounding blank lines, as
    `inspect.cleandoc` gives it (importing `inspect` is about 5 ms of start-up)."""
    lines = text.expandtabs().split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.lstrip()]
    margin = min(indents, default=0)
    lines = [lines[0].lstrip()] + [line[margin:] for line in lines[1:]]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


_EXAMPLES = re.compile(r"^(?:\s*\x08\s*\n)?\s*Examples:\s*$", re.MULTILINE)


def split_examples(help_text: str | None) -> tuple[str, list[str]]:
    """The help text before its `Examples:` block, and the block's lines (dedented).

    A `\\b` line (click's "do not rewrap") just before `Examples:` belongs to the block.
    """
    text = cleandoc(help_text or "").partition("\f")[0]
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


def help_width() -> int:
    """The width help is laid out at, as click chooses it: the terminal's columns (from
    `COLUMNS`, else standard output's terminal, else 80) up to `MAX_WIDTH`, less two."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    if columns <= 0:
        columns = MAX_WIDTH
    return max(min(columns, MAX_WIDTH) - 2, MIN_WIDTH)


def short_help(text: str, limit: int) -> str:
    """A command's purpose in at most `limit` columns, as click shortens it: its first
    sentence if that fits, else as many words as fit before `...`."""
    words = text.split("\n\n", 1)[0].split()
    kept: list[str] = []
    for word in words:
        line = " ".join([*kept, word])
        if len(line) > limit:
            break
        kept.append(word)
        if word.endswith("."):
            return line
    else:
        return " ".join(kept)
    while kept and len(" ".join(kept)) + 3 > limit:
        kept.pop()
    return " ".join(kept) + "..."


def _wrap(text: str, width: int, indent: str = "", rest: str | None = None) -> list[str]:
    return textwrap.TextWrapper(
        width,
        initial_indent=indent,
        subsequent_indent=indent if rest is None else rest,
        replace_whitespace=False,
    ).wrap(text)


def paragraphs(text: str, width: int, indent: str) -> list[str]:
    """`text` rewrapped paragraph by paragraph; a paragraph after a `\\b` line is kept
    line for line (click's marker for text that must not be rewrapped)."""
    out: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text.expandtabs()):
        lines = block.splitlines()
        if not lines:
            continue
        if out:
            out.append("")
        first = lines[0]
        inner = indent + " " * (len(first) - len(first.lstrip()))
        if first.strip() == "\b":
            out += [f"{inner}{line}" for line in lines[1:]]
        else:
            out += _wrap(" ".join(line.strip() for line in lines), width, inner)
    return out


def definitions(rows: list[tuple[str, str]], width: int, indent: int = 2) -> list[str]:
    """Two columns as click's `write_dl` lays them out: terms padded to the longest
    (at most 30), descriptions wrapped beside them."""
    first = min(max(len(term) for term, _ in rows), 30) + 2
    text_width = max(width - first - 2, 10)
    out = []
    for term, text in rows:
        wrapped = _wrap(text, text_width) or [""]
        if len(term) <= first - 2:
            out.append(f"{' ' * indent}{term:<{first}}{wrapped[0]}".rstrip())
        else:
            out.append(f"{' ' * indent}{term}")
            out.append(f"{' ' * (first + indent)}{wrapped[0]}")
        out += [f"{' ' * (first + indent)}{line}" for line in wrapped[1:]]
    return out


def usage(prog: str, args: str, width: int) -> list[str]:
    """click's `Usage:` line: the arguments wrapped beside the program's name."""
    prefix = f"Usage: {prog} "
    if width >= len(prefix) + 20:
        return _wrap(args, width, prefix, " " * len(prefix))
    return [prefix.rstrip(), *_wrap(args, width, " " * 11)]


def commands_list(width: int) -> list[tuple[str, str]]:
    """The rows of `kubectl war --help`'s command list, each purpose shortened to fit."""
    limit = width - 6 - max(len(name) for name in COMMANDS)
    return [(name, short_help(text, limit)) for name, (_, text) in COMMANDS.items()]


def footer(prog: str, *, group: bool = False) -> list[str]:
    """The lines every help ends with, as kubectl's do: where the global flags are listed
    (and, for `kubectl war` itself, how to read a command's help)."""
    lines = [f'Use "{prog} <command> --help" for more information about a given command.']
    lines = lines if group else []
    return [
        *lines,
        f'Use "{prog} options" for a list of global command-line options (applies to all '
        "commands).",
    ]


def group_help(prog: str, width: int) -> str:
    """`kubectl war --help`, in click's layout, from the command table alone."""
    body, examples = split_examples(GROUP_HELP)
    lines = usage(prog, "[OPTIONS] COMMAND [ARGS]...", width)
    lines += ["", *paragraphs(body, width, "  ")]
    lines += ["", "Options:", *definitions([(", ".join(HELP_OPTIONS), HELP_OPTION_HELP)], width)]
    lines += ["", "Commands:", *definitions(commands_list(width), width)]
    if examples:
        lines += ["", "Examples:"]
        lines += [f"  {localise(line, prog)}" if line else "" for line in examples]
    return "\n".join([*lines, "", *footer(prog, group=True)])
