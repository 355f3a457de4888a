"""`kubectl war version`: what is installed, for bug reports."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import click

import kubectl_war.kube
from kubectl_war import __version__
from kubectl_war.cli.base import Options, execute
from kubectl_war.cli.output_flags import output_option
from kubectl_war.render import to_document, write


@click.command("version")
@output_option(("text", "json", "yaml"))
def version_cmd(**flags: Any) -> None:
    """Print the plugin, Python and kubernetes client versions.

    \b
    Examples:
      kubectl war version
      kubectl war version -o json
    """
    execute(VersionOptions(**flags))


@dataclass
class VersionOptions(Options):
    """`version`'s flags."""

    output: str

    def run(self) -> None:
        info = {
            "kubectlWar": f"v{__version__}",
            "python": platform.python_version(),
            "kubernetesClient": kubectl_war.kube.client_version(),
        }
        if self.output in ("json", "yaml", "kyaml"):
            write(to_document(info, self.output))
        else:
            write(
                f"kubectl-war: {info['kubectlWar']}\n"
                f"Python: {info['python']}\n"
                f"kubernetes client: {info['kubernetesClient']}\n"
            )
