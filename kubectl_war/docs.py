"""README's "Command reference", generated from every command's `--help` (`make docs`).

    python -m kubectl_war.docs [--check] [README.md]

Rewrites the text between the two markers below (adding the section when the
README has none); with --check, changes nothing and exits 1 when it is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

import click

from kubectl_war.cli.group import war

BEGIN = "<!-- BEGIN COMMAND REFERENCE: made by `make docs` from each --help; do not edit -->"
END = "<!-- END COMMAND REFERENCE -->"
HEADING = "## Command reference"
#: Help is rendered at this width, whatever the terminal running `make docs`.
WIDTH = 80
PROG = "kubectl war"


def commands(
    cmd: click.Command | None = None, ctx: click.Context | None = None
) -> Iterator[click.Context]:
    """A context for every visible command, depth first, in `--help` order."""
    if cmd is None:
        cmd = war
    if ctx is None:
        ctx = cmd.make_context(
            PROG, [], resilient_parsing=True, terminal_width=WIDTH, max_content_width=WIDTH
        )
    yield ctx
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from commands(sub, sub.make_context(name, [], parent=ctx, resilient_parsing=True))


def reference() -> str:
    """The generated part of the section: one `--help` per command."""
    parts = [
        BEGIN,
        "",
        "Every command's `--help`, as `kubectl war` prints it.",
    ]
    for ctx in commands():
        parts += ["", f"### `{ctx.command_path}`", "", "```text", ctx.get_help(), "```"]
    parts += ["", END]
    return "\n".join(parts)


def update(readme: str) -> str:
    """The README with its command reference regenerated."""
    generated = reference()
    start, end = readme.find(BEGIN), readme.find(END)
    if start >= 0 and end > start:
        return readme[:start] + generated + readme[end + len(END) :]
    section = f"{HEADING}\n\n{generated}\n\n"
    for anchor in ("\n## Install from source", "\n## Development"):
        at = readme.find(anchor)
        if at >= 0:
            return readme[: at + 1] + section + readme[at + 1 :]
    return readme.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or ["README.md"]
    stale = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            current = f.read()
        fresh = update(current)
        if fresh == current:
            continue
        stale.append(path)
        if not check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(fresh)
            print(f"{path}: command reference regenerated")
    if check and stale:
        print(f"{', '.join(stale)}: command reference is stale; run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
