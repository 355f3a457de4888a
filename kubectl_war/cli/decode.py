"""`kubectl war decode`: read a WAR name offline (no cluster, no kubernetes import)."""

from __future__ import annotations

import click

from kubectl_war.cli.options import output_option
from kubectl_war.errors import UsageError
from kubectl_war.render import kv_lines, to_json, write


@click.command("decode")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option(
    "--group",
    metavar="WORKLOADGROUP",
    help="The WorkloadGroup the name starts with, when the name can be split several ways.",
)
@output_option(("text", "json"))
def decode_cmd(names: tuple[str, ...], group: str | None, output: str) -> None:
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
    from kubectl_war.identity import decode_name

    decoded = []
    errors = []
    for name in names:
        try:
            decoded.append((name, decode_name(name, group=group)))
        except UsageError as exc:
            errors.append(exc)
    if output == "json":
        docs = [
            {
                "name": name,
                "readings": [{"group": r.group, **r.identity.to_dict()} for r in readings],
            }
            for name, readings in decoded
        ]
        if docs:
            write(to_json(docs[0] if len(names) == 1 else docs))
    else:
        blocks = []
        for name, readings in decoded:
            many = len(readings) > 1
            head = [("Name", name)]
            if many:
                head.append(("Readings", f"{len(readings)} (pass --group to choose one)"))
            lines = kv_lines(head) if many else []
            for i, r in enumerate(readings, 1):
                pairs = [("Workload Group", r.group), ("Platform", r.identity.platform)]
                pairs += r.identity.fields()
                if many:
                    lines.append(f"Reading {i}:")
                    lines += kv_lines(pairs, indent=2)
                else:
                    lines += kv_lines(head + pairs)
            blocks.append("\n".join(lines) + "\n")
        write("\n".join(blocks))
    if errors:
        # Every readable name was printed; the first unreadable one decides the exit.
        if len(errors) > 1:
            for exc in errors[:-1]:
                click.echo(f"error: {exc.message}", err=True)
        raise errors[-1]
