"""The command reference, generated from every command's `--help` (`make docs`).

    python -m kubectl_war.docs [--check] [ROOT]

Writes docs/commands/<command>.md, one file per command (`kubectl_war_list.md`, ...),
and docs/commands/README.md listing them; removes the file of a command that is gone;
and rewrites README.md's list of commands between the two markers below. With
--check it changes nothing and exits 1 naming what is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from kubectl_war.cli.group import war
from kubectl_war.cli.helptext import purpose

BEGIN = "<!-- BEGIN COMMANDS: made by `make docs` from each --help; do not edit -->"
END = "<!-- END COMMANDS -->"
#: Where README's links lead: absolute, so they work on PyPI too (setup.cfg's url).
DOCS_BASE = "https://github.com/kubectl-war/kubectl-war/blob/main/"
#: Where the reference goes, below the project's root.
REFERENCE_DIR = Path("docs") / "commands"
#: Help is rendered at this width, whatever the terminal running `make docs`.
WIDTH = 80
PROG = "kubectl war"
_GENERATED = "<!-- Made by `make docs` from `{command} --help`; do not edit. -->"


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


def file_name(command_path: str) -> str:
    """`kubectl war rollout status` -> `kubectl_war_rollout_status.md`."""
    return command_path.replace(" ", "_").replace("-", "_") + ".md"


def _purpose(ctx: click.Context) -> str:
    return purpose(ctx.command.help)


def pages() -> dict[str, str]:
    """Every file of docs/commands, by name: one per command, and the index."""
    out: dict[str, str] = {}
    index = [
        "# Command reference",
        "",
        "Every command's `--help`, as `kubectl war` prints it; `make docs` writes these",
        "files and `tests/test_help.py` fails when one is stale.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for ctx in commands():
        path = ctx.command_path
        name = file_name(path)
        out[name] = "\n".join(
            [
                _GENERATED.format(command=path),
                "",
                f"# `{path}`",
                "",
                _purpose(ctx),
                "",
                "```text",
                ctx.get_help(),
                "```",
                "",
            ]
        )
        index.append(f"| [`{path}`]({name}) | {_purpose(ctx)} |")
    out["README.md"] = "\n".join([*index, ""])
    return out


def readme_block(link_prefix: str = f"{DOCS_BASE}docs/commands/") -> str:
    """README's list of commands, each linked to its page."""
    lines = [BEGIN, "", "| command | what it does |", "|---|---|"]
    for ctx in commands():
        if ctx.parent is None:
            continue
        path = ctx.command_path
        lines.append(f"| [`{path}`]({link_prefix}{file_name(path)}) | {_purpose(ctx)} |")
    return "\n".join([*lines, "", END])


def update_readme(readme: str) -> str:
    """The README with its list of commands regenerated (appended when it has none)."""
    generated = readme_block()
    start, end = readme.find(BEGIN), readme.find(END)
    if start >= 0 and end > start:
        return readme[:start] + generated + readme[end + len(END) :]
    return readme.rstrip("\n") + "\n\n" + generated + "\n"


def stale(root: Path, *, write: bool) -> list[str]:
    """The generated files under `root` that differ from the commands' help; with
    `write`, brings them up to date (and removes the pages of commands that are gone)."""
    changed: list[str] = []
    folder = root / REFERENCE_DIR
    wanted = pages()
    for name, text in wanted.items():
        path = folder / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            changed.append(str(REFERENCE_DIR / name))
            if write:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if folder.is_dir():
        for path in sorted(folder.glob("*.md")):
            if path.name not in wanted:
                changed.append(str(REFERENCE_DIR / path.name))
                if write:
                    path.unlink()
    readme = root / "README.md"
    if readme.exists():
        current = readme.read_text(encoding="utf-8")
        fresh = update_readme(current)
        if fresh != current:
            changed.append("README.md")
            if write:
                readme.write_text(fresh, encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    roots = [a for a in args if a != "--check"] or ["."]
    root = Path(roots[0])
    changed = stale(root, write=not check)
    if check and changed:
        print(f"stale: {', '.join(changed)}; run `make docs`", file=sys.stderr)
        return 1
    for name in changed:
        print(f"{name}: regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
