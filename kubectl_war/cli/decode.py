"""`kubectl war decode`: read a WAR name offline (no cluster, no kubernetes import).

Plain command lines of `decode` are run by `kubectl_war.cli.quick` without click; this
declaration is what every other line (help, errors, completion) goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from kubectl_war.cli.base import Options, execute
from kubectl_war.cli.decoding import OUTPUTS, print_decoded
from kubectl_war.cli.output_flags import output_option


@click.command("decode")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option(
    "--group",
    metavar="WORKLOADGROUP",
    help="The WorkloadGroup the name starts with, when the name can be split several ways.",
)
@output_option(OUTPUTS)
def decode_cmd(**flags: Any) -> None:
    """Decode WAR names into their WorkloadGroup and workload identity, offline.

    A name is <workload-group>-<workload-identity>; the identity part encodes the
    platform (EC2, ECS or JWT), account, zone and instance. When a name can be
    split more than one way, every reading is printed; --group settles it.

    \b
    Examples:
      kubectl war decode ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0
      kubectl war decode ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp
      kubectl war decode --group ratings -o json NAME
    """
    execute(DecodeOptions(**flags))


@dataclass
class DecodeOptions(Options):
    """`decode`'s flags."""

    names: tuple[str, ...]
    group: str | None
    output: str

    def run(self) -> None:
        print_decoded(self.names, self.group, self.output)
