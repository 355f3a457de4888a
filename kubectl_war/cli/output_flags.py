"""The output flags: `-o/--output` with kubectl's template printers, `--no-headers`,
`--allow-missing-template-keys`, `--sort-by`, and writing a command's document in the
format chosen."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kubectl_war import printers
from kubectl_war.errors import UsageError, quote_input
from kubectl_war.outputs import GO_TEMPLATES, TEMPLATE_FORMATS
from kubectl_war.render import to_document, write

if TYPE_CHECKING:
    from kubectl_war.printers.templates import Printer

F = TypeVar("F", bound=Callable[..., Any])

OUTPUTS = ("table", "wide", "json", "yaml", "name")


# Not `click.Choice[str]`: click 8.1 (the last for Python 3.9) has no generic Choice.
class OutputFormat(click.Choice):  # type: ignore[type-arg]
    """An `-o` value: one of the command's own formats or, with `templates`, one of kubectl's
    template printers (`jsonpath=TEMPLATE`, `custom-columns=SPEC`, ...).

    A template is parsed here, so a bad one fails before any request; the printer itself
    is built when the output is written (`printer`), with the flags that shape it.
    """

    def __init__(self, formats: Sequence[str], *, templates: bool) -> None:
        # kubectl 1.34+ prints -o kyaml wherever it prints -o yaml.
        shown: list[str] = []
        for name in formats:
            shown += [name, "kyaml"] if name == "yaml" and "kyaml" not in formats else [name]
        self.formats = tuple(shown)
        self.templates = templates
        # The choices are what completion offers: `jsonpath=` and the like end with `=`.
        super().__init__([*self.formats, *(f"{t}=" for t in TEMPLATE_FORMATS if templates)])

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        shown = [*self.formats, *(("jsonpath=...", "custom-columns=...") if self.templates else ())]
        return "[" + "|".join(shown) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.startswith("="):
            value = value[1:]  # `-o=json`, kubectl's spelling: click keeps the `=`
        if value in self.formats:
            return value
        name = str(value).partition("=")[0]
        if self.templates and (name in TEMPLATE_FORMATS or name in GO_TEMPLATES):
            printers.make_printer(str(value))  # the template printers load here
            return str(value)
        allowed = sorted([*self.formats, *(TEMPLATE_FORMATS if self.templates else ())])
        # kubectl's words, and as kubectl it points at no help: the formats are listed.
        raise UsageError(
            f"unable to match a printer suitable for the output format {quote_input(str(value))}, "
            f"allowed formats are: {','.join(allowed)}"
        )


_ALLOW_MISSING = "allow_missing_template_keys"


def _keep_allow_missing(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta[_ALLOW_MISSING] = value


def output_option(
    choices: tuple[str, ...] = OUTPUTS,
    *,
    help: str = "Output format.",
    templates: bool = False,
    no_headers: bool = False,
) -> Callable[[F], F]:
    """`-o/--output`: one of `choices` (the first is the default); `templates` also takes
    kubectl's jsonpath and custom-columns printers (see `printer`), and adds kubectl's
    `--allow-missing-template-keys`, which `printer` reads (the command never sees it).
    `no_headers` puts kubectl's `--no-headers` (the command's `no_headers`) before `-o`."""
    if templates:
        help = (
            f"{help}\nAlso kubectl's jsonpath=TEMPLATE, jsonpath-file=FILE, "
            "jsonpath-as-json=TEMPLATE, custom-columns=HEADER:PATH,... and "
            "custom-columns-file=FILE, applied to the -o json document."
        )
    option = click.option(
        "-o",
        "--output",
        type=OutputFormat(choices, templates=templates),
        default=choices[0],
        show_default=True,
        help=help,
    )
    printing = [_NO_HEADERS] if no_headers else []
    printing.append(option)
    if templates:
        printing.append(_ALLOW_MISSING_OPTION)
    if len(printing) == 1:
        return option

    def decorate(f: F) -> F:
        for each in reversed(printing):
            f = each(f)
        return f

    return decorate


_NO_HEADERS = click.option("--no-headers", is_flag=True, help="Do not print the header line.")
_ALLOW_MISSING_OPTION = click.option(
    "--allow-missing-template-keys",
    type=click.BOOL,
    default=True,
    flag_value=True,
    is_flag=False,
    show_default=True,
    metavar="BOOL",
    expose_value=False,
    callback=_keep_allow_missing,
    help="With -o jsonpath: print nothing for a key that is missing, instead of failing.",
)


def is_template(output: str) -> bool:
    """Whether an `-o` value names one of kubectl's template printers."""
    return output.partition("=")[0] in TEMPLATE_FORMATS


def printer(output: str, *, no_headers: bool = False, sort_by: str | None = None) -> Printer | None:
    """The `printers.Printer` for a template `-o` value, or None for the command's own
    formats. The template printers load only when one is chosen (`printers` loads them
    on first use)."""
    if not is_template(output):
        return None
    ctx = click.get_current_context(silent=True)
    allow = True if ctx is None else ctx.meta.get(_ALLOW_MISSING, True)
    return printers.make_printer(
        output, no_headers=no_headers, sort_by=sort_by, allow_missing_keys=allow
    )


def write_document(
    data: Any, output: str, *, rows: str = "items", no_headers: bool = False
) -> None:
    """Print a command's `-o json` document as `-o json`, `-o yaml`, `-o kyaml` or a template
    printer; `rows` names the list custom-columns prints a row for (a `List`'s `items`)."""
    chosen = printer(output, no_headers=no_headers)
    if chosen is not None:
        chosen.print(data, sys.stdout, rows=rows)
    else:
        write(to_document(data, output))


class SortKey(click.Choice):  # type: ignore[type-arg]  # as OutputFormat
    """`--sort-by`: one of the `words` (shortcuts with their own order) or, as kubectl takes
    it, a JSONPath expression (`.metadata.name`, `{.spec.identity.aws.zone}`)."""

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.choices) + "|JSONPATH]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if text in self.choices or text.startswith(("{", ".")) or "." in text:
            return text
        self.fail(
            f"{quote_input(text)} is neither one of {', '.join(self.choices)} nor a JSONPath "
            "expression such as .metadata.name or {.spec.identity.aws.zone}",
            param,
            ctx,
        )
