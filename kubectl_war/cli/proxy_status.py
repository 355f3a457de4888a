"""`kubectl war proxy-status`: every onboarded workload's sidecar, and proxies with no WAR."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from kubectl_war.cli.options import (
    KubeFlags,
    SidecarFlags,
    fleet_options,
    kube_options,
    output_option,
    proxy_status_options,
)
from kubectl_war.errors import UsageError
from kubectl_war.render import NONE, Cell, Table, to_json, to_yaml, use_colour, write

NO_WAR = "<no WAR>"


@click.command("proxy-status")
@kube_options
@fleet_options()
@click.option(
    "--out-of-sync",
    is_flag=True,
    help="Only the sidecars that are not SYNCED (exit 1 when there are any).",
)
@click.option("--no-headers", is_flag=True, help="Do not print the header line.")
@output_option(("table", "wide", "json", "yaml"))
@proxy_status_options("auto")
def proxy_status_cmd(
    kube: KubeFlags,
    fleet: Any,
    out_of_sync: bool,
    no_headers: bool,
    output: str,
    sidecars: SidecarFlags,
) -> None:
    """Show the sidecar of every onboarded workload as istiod sees it.

    Each WAR is joined with its proxy `<war-name>.<namespace>`: SYNCED, STALE,
    ERROR (a push was rejected), NOT SENT, or MISSING (the agent is connected but
    no istiod knows the proxy). Proxies named like an onboarded workload that no
    WAR accounts for are listed too, with AGENT CONNECTED <no WAR>.

    Exits 0 when every sidecar listed is SYNCED, 1 otherwise, for use in scripts.

    \b
    Examples:
      kubectl war proxy-status -A
      kubectl war proxy-status -n bookinfo --out-of-sync
      kubectl war proxy-status -A --proxy-status istioctl -o wide
      kubectl war proxy-status -A --all-contexts --out-of-sync
      istioctl proxy-status > ps.txt; kubectl war proxy-status -A --proxy-status file:ps.txt
    """
    from kubectl_war import snapshot
    from kubectl_war.sidecars.join import join
    from kubectl_war.sidecars.sources import SidecarError

    if sidecars.spec("auto") == "none":
        raise UsageError("proxy-status needs a source: --proxy-status none leaves nothing to show")
    if fleet.active:
        from kubectl_war.cli import fleet as many

        many.proxy_status(
            kube,
            fleet,
            out_of_sync=out_of_sync,
            no_headers=no_headers,
            output=output,
            sidecars=sidecars,
        )
        return
    client = kube.connect()
    namespace = None if kube.all_namespaces else client.namespace
    snap = snapshot.take(client, namespace)
    skipped: list[str] = []
    source = sidecars.open(kube, client, default="auto", notice=skipped.append)
    if source is None:
        raise SidecarError("no proxy-status source answered: " + "; ".join(skipped))
    entries = join(snap.wars, source.fetch(), namespace)
    problems = [e for e in entries if not e.synced]
    shown = problems if out_of_sync else entries
    if output in ("json", "yaml"):
        data = {
            "source": source.describe(),
            "items": [_as_dict(e) for e in shown],
            "total": len(entries),
            "synced": len(entries) - len(problems),
        }
        write(to_json(data) if output == "json" else to_yaml(data))
    elif not entries:
        from kubectl_war.cli.list_wars import no_resources

        sys.stderr.write(no_resources(namespace) + "\n")
    elif not shown:
        sys.stderr.write(f"All {len(entries)} sidecars are SYNCED.\n")
    else:
        _table(
            shown, all_namespaces=namespace is None, wide=output == "wide", headers=not no_headers
        )
    if problems:
        sys.exit(1)


def _table(
    entries: list[Any],
    *,
    all_namespaces: bool,
    wide: bool,
    headers: bool,
    contexts: Sequence[str] | None = None,
) -> None:
    """The entries as a table; `contexts` (one per entry) adds a CONTEXT column first."""
    from kubectl_war.sidecars.records import STATE_STYLES, type_order

    cols = ["NAME", "GROUP", "AGENT CONNECTED", "SIDECAR", "ISTIOD", "VERSION"]
    types: list[str] = []
    if all_namespaces:
        cols.insert(0, "NAMESPACE")
    if wide:
        seen = {t for e in entries if e.sidecar.status is not None for t in e.sidecar.status.types}
        types = sorted(seen, key=type_order)
        cols += ["CLUSTER", *types]
    rows = []
    for entry in entries:
        status = entry.sidecar.status
        state = entry.sidecar.state
        if entry.war is None:
            agent = Cell(NO_WAR, "bad")
        elif entry.war.connected is None:
            agent = Cell(NONE, "dim")
        else:
            agent = Cell(entry.war.connected, "good" if entry.war.is_connected else "bad")
        row: list[str] = [
            entry.name,
            entry.group or NONE,
            agent,
            Cell(state, STATE_STYLES.get(state)) if state else Cell(NONE, "dim"),
            (status.istiod if status is not None else None) or NONE,
            (status.version if status is not None else None) or NONE,
        ]
        if all_namespaces:
            row.insert(0, entry.namespace)
        if wide:
            row.append((status.cluster if status is not None else None) or NONE)
            for t in types:
                value = status.types.get(t) if status is not None else None
                row.append(Cell(value, STATE_STYLES.get(value)) if value else NONE)
        rows.append(row)
    if contexts is not None:
        cols.insert(0, "CONTEXT")
        rows = [[context, *row] for context, row in zip(contexts, rows)]
    write(Table(cols, colour=use_colour()).render(rows, headers=headers))


def _as_dict(entry: Any) -> dict[str, Any]:
    war = entry.war
    return {
        "namespace": entry.namespace,
        "name": entry.name,
        "workloadGroup": entry.group,
        "war": war is not None,
        "agentConnected": war.connected if war is not None else None,
        "synced": entry.synced,
        "sidecar": entry.sidecar.to_dict(),
    }
