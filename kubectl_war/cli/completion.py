"""`kubectl war completion`: completion scripts for shells that run `kubectl-war` itself.

Under kubectl nothing needs installing: kubectl's own completion asks the
`kubectl_complete-war` executable (kubectl_war.complete). The scripts printed here
use click's shell integration, answered by the same completion logic.
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
)

from kubectl_war.cli.base import Options, execute
from kubectl_war.cli.completion_var import COMPLETE_VAR
from kubectl_war.complete import NO_FILE_COMP, complete
from kubectl_war.errors import UsageError

#: The executable the scripts complete (asked through `COMPLETE_VAR`).
EXECUTABLE = "kubectl-war"


class _Answered(ShellComplete):
    """Candidates from `kubectl_war.complete` instead of click's own resolution."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        result = complete(self.cli, args, incomplete)
        items = [CompletionItem(value, help=desc or None) for value, desc in result.candidates]
        if not items and not result.directive & NO_FILE_COMP:
            items = [CompletionItem(incomplete, type="file")]
        return items


class _Bash(_Answered, BashComplete):
    pass


class _Zsh(_Answered, ZshComplete):
    pass


class _Fish(_Answered, FishComplete):
    pass


SHELLS: dict[str, type[ShellComplete]] = {"bash": _Bash, "zsh": _Zsh, "fish": _Fish}


def shell_complete(root: click.Command, instruction: str) -> None:
    """Answer a completion script's request (`bash_complete`, `zsh_source`, ...) for the
    commands under `root`."""
    shell, _, action = instruction.partition("_")
    cls = SHELLS.get(shell)
    if cls is None or action not in ("complete", "source"):
        raise UsageError(f"{COMPLETE_VAR}={instruction}: expected bash, zsh or fish completion")
    comp = cls(root, {}, EXECUTABLE, COMPLETE_VAR)
    click.echo(comp.source() if action == "source" else comp.complete())


@click.command("completion")
@click.argument("shell", type=click.Choice(sorted(SHELLS)), metavar="bash|zsh|fish")
def completion_cmd(**flags: Any) -> None:
    """Print a completion script for running kubectl-war by its own name.

    `kubectl war <TAB>` already completes through kubectl's own completion, which
    asks the kubectl_complete-war executable installed with the plugin (kubectl
    1.26 or later). krew puts only kubectl-war on PATH: link the other one once
    with `ln -s kubectl-war ~/.krew/bin/kubectl_complete-war`. This script is for
    shells that call the kubectl-war executable directly. Load it from your
    shell's start-up file.

    \b
    Examples:
      source <(kubectl war completion bash)
      kubectl war completion zsh > "${fpath[1]}/_kubectl-war"
      kubectl war completion fish > ~/.config/fish/completions/kubectl-war.fish
    """
    execute(CompletionOptions(**flags))


class CompletionOptions(Options):
    """`completion`'s argument (a plain class: this path leaves `dataclasses` unloaded)."""

    def __init__(self, shell: str) -> None:
        self.shell = shell

    def run(self) -> None:
        root = click.get_current_context().find_root().command
        script = SHELLS[self.shell](root, {}, EXECUTABLE, COMPLETE_VAR).source()
        click.echo(script, nl=False)
