"""Command lines answered without click: `kubectl war --help` and plain `decode` lines.

Importing click is most of the plugin's start-up (about 20 ms of some 30). These two
are what users run to find their way and to read a name offline, so they skip it when
their arguments are plain. Anything else, such as a `decode` line with a mistake in it,
`--help` of a command, or a flag this parser does not know, is left to click
(`kubectl_war.cli.group`), which prints kubectl's messages for it; tests/test_quick.py
checks that both read every line they share the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kubectl_war.cli.commands import HELP_OPTIONS


def run(args: Sequence[str]) -> bool:
    """Answer `args` (the words after `kubectl war`) if they are plain; False if not."""
    if len(args) == 1 and args[0] in HELP_OPTIONS:
        # only for --help: plain decode lines do not pay for it
        from kubectl_war.cli.helptext import group_help, help_width, prog_name

        sys.stdout.write(group_help(prog_name(), help_width()) + "\n")
        return True
    if args and args[0] == "decode":
        parsed = decode_args(args[1:])
        if parsed is None:
            return False
        from kubectl_war.cli.decoding import print_decoded  # only for decode: not --help

        print_decoded(*parsed)
        return True
    return False


def decode_args(args: Sequence[str]) -> tuple[list[str], str | None, str] | None:
    """`decode`'s names, `--group` and `-o`, as click reads them, or None for a line that
    is not plain: no names, an unknown or incomplete option, `--`, or a bad `-o` value."""
    from kubectl_war.cli.decoding import OUTPUTS  # only for decode: not --help

    names: list[str] = []
    values: dict[str, str] = {}
    words = list(args)
    while words:
        word = words.pop(0)
        if not word.startswith("-") or word == "-":
            names.append(word)
            continue
        if word.startswith("--"):
            flag, eq, value = word.partition("=")
            if flag not in ("--group", "--output"):
                return None
            if not eq:
                if not words or words[0].startswith("-"):
                    return None
                value = words.pop(0)
        elif word.startswith("-o"):
            flag, value = "--output", word[2:]
            if not value:
                if not words or words[0].startswith("-"):
                    return None
                value = words.pop(0)
        else:
            return None
        values[flag] = value
    output = values.get("--output", OUTPUTS[0])
    if output.startswith("="):
        output = output[1:]  # `-o=json`, kubectl's spelling, as `OutputFormat` reads it
    if not names or output not in OUTPUTS:
        return None
    return names, values.get("--group"), output
