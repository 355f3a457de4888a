"""`kubectl war options`: the global flags, which each command's help leaves out.

The list is read from `connection_flags.kube_options` itself, so a connection flag declared
there is listed here, and left out of each command's help (`help.py`), with nothing
else to change; completion still offers it (it is not hidden).
"""

from __future__ import annotations

import click

from kubectl_war.cli.globalflags import global_options


def _default(param: click.Option) -> str:
    """A flag's default as `kubectl options` shows it: `=false`, `=[]`, `=''`, `='0'`."""
    if param.is_flag:
        return "=false"
    if param.multiple:
        return "=[]"
    value = param.default
    # No default is None, or a sentinel object in newer click.
    shown = value if isinstance(value, (str, int, float)) else ""
    return f"='{shown}'"


def global_options_text() -> str:
    """`kubectl war options`: every global flag, in `kubectl options`' layout."""
    lines = ["The following options can be passed to any command that reads a cluster:", ""]
    rows = []
    for param in global_options():
        opts = sorted([*param.opts, *param.secondary_opts], key=len)
        longs = [o for o in opts if o.startswith("--")]
        shorts = [o for o in opts if not o.startswith("--")]
        name = ", ".join([*shorts[:1], longs[0]]) if longs else shorts[0]
        rows.append((longs[0] if longs else name, f"{name}{_default(param)}", param.help or ""))
    for _, flag, text in sorted(rows):
        lines += [f"    {flag}:", f"\t{text}", ""]
    return "\n".join(lines) + "\n"


@click.command("options")
def options_cmd() -> None:
    """Print the global flags: the connection flags every cluster command takes.

    kubectl keeps its global flags out of each command's help and lists them in
    `kubectl options`; so does kubectl war. Every command that reads a cluster
    takes each of them, as kubectl does.

    \b
    Examples:
      kubectl war options
    """
    click.echo(global_options_text(), nl=False)
