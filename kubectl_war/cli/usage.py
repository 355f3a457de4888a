"""Usage errors in kubectl's words: what cobra and pflag print for an unknown command,
an unknown flag, a flag without its value or with a value of the wrong type.

kubectl exits 1 on every usage error and follows the message with
`See 'kubectl get --help' for usage.` (`group.run` adds that line, naming the command
that was being parsed); an unknown command gets cobra's `Did you mean this?` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import click

from kubectl_war.printers.labels import CsvError, split_csv

#: cobra's `SuggestionsMinimumDistance`: commands this close to a typo are suggested.
SUGGESTION_DISTANCE = 2


def distance(a: str, b: str) -> int:
    """cobra's `ld`: the Levenshtein distance of `a` and `b`, ignoring case."""
    a, b = a.lower(), b.lower()
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
            prev = cur
    return row[len(b)]


def suggestions(typed: str, commands: Iterable[str]) -> list[str]:
    """cobra's `SuggestionsFor`: the commands within `SUGGESTION_DISTANCE` of `typed`, or
    that start with it, in the order the commands are listed."""
    return [
        name
        for name in commands
        if distance(typed, name) <= SUGGESTION_DISTANCE or name.lower().startswith(typed.lower())
    ]


class UnknownCommand(click.UsageError):
    """`kubectl war lsit`: cobra's `unknown command "lsit" for "kubectl war"`, then
    `Did you mean this?` and the close commands, one per line after a tab."""

    def __init__(self, name: str, path: str, close: list[str]) -> None:
        text = f"unknown command {_go_quote(name)} for {_go_quote(path)}"
        if close:
            text += "\n\nDid you mean this?\n" + "".join(f"\t{c}\n" for c in close)
        else:
            text += "\n"
        super().__init__(text)
        self.name = name
        self.close = close


class FlagValueError(click.BadParameter):
    """pflag's `invalid argument "VALUE" for "FLAG" flag: WHY` for a value it cannot read."""

    def __init__(self, value: str, param: click.Parameter | None, why: str) -> None:
        ctx = click.get_current_context(silent=True)
        super().__init__(why, ctx=ctx, param=param)
        self.value = value
        self.why = why


def csv_list(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """A callback for a flag kubectl reads as a string list (`-L`): each value must be a
    CSV record (`printers.labels.split_csv`), checked before anything is sent."""
    for value in values:
        try:
            split_csv(value)
        except CsvError as exc:
            raise FlagValueError(value, param, str(exc)) from None
    return values


def flag_names(param: click.Parameter) -> str:
    """A flag as pflag names it in an error: `--chunk-size` or `-n, --namespace`."""
    opts = [*param.opts, *param.secondary_opts]
    longs = [o for o in opts if o.startswith("--")]
    shorts = [o for o in opts if not o.startswith("--")]
    if not longs:
        return shorts[0] if shorts else str(param.name)
    return f"{shorts[0]}, {longs[0]}" if shorts else longs[0]


_NOT_A_NUMBER = re.compile(r"^'(?P<value>.*)' is not a valid (?P<kind>integer|float)")


def kubectl_message(exc: click.UsageError) -> str:
    """The line after `error: ` that kubectl prints for the same mistake."""
    if isinstance(exc, click.NoSuchOption):
        name = exc.option_name
        if name.startswith("--"):
            return f"unknown flag: {name}"
        return f"unknown shorthand flag: '{name[1:2]}' in {name}"
    if isinstance(exc, click.BadOptionUsage) and "requires" in exc.message:
        name = exc.option_name
        if name.startswith("--"):
            return f"flag needs an argument: {name}"
        return f"flag needs an argument: '{name[1:2]}' in {name}"
    if isinstance(exc, FlagValueError) and exc.param is not None:
        flag = _go_quote(flag_names(exc.param))
        return f"invalid argument {_go_quote(exc.value)} for {flag} flag: {exc.why}"
    if (
        isinstance(exc, click.BadParameter)
        and not isinstance(exc, click.MissingParameter)
        and isinstance(exc.param, click.Option)
    ):
        flag = flag_names(exc.param)
        number = _NOT_A_NUMBER.match(exc.message)
        if number:
            value = number.group("value")
            parse = "ParseInt" if number.group("kind") == "integer" else "ParseFloat"
            return (
                f"invalid argument {_go_quote(value)} for {_go_quote(flag)} flag: "
                f"strconv.{parse}: parsing {_go_quote(value)}: invalid syntax"
            )
        return f"invalid argument for {_go_quote(flag)} flag: {exc.message}"
    return exc.format_message()


def _go_quote(text: str) -> str:
    """Go's `%q` for the printable text a command line holds."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
