"""`kubectl war proxy-status`: every onboarded workload's sidecar, and proxies with no WAR."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from kubectl_war import gcpause, snapshot
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import contexts
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli.base import Options, execute
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.render import NONE, Cell, Table, use_colour
from kubectl_war.sidecars.join import join
from kubectl_war.sidecars.records import STATE_STYLES, type_order
from kubectl_war.sidecars.sources import SidecarError

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags, Outcome
    from kubectl_war.kube.client import Kube
    from kubectl_war.sidecars.join import Entry

NO_WAR = "<no WAR>"


@click.command("proxy-status")
@cf.kube_options
@cf.fleet_options()
@click.option(
    "--out-of-sync",
    is_flag=True,
    help="Only the sidecars that are not SYNCED (exit 1 when there are any).",
)
@of.output_option(("table", "wide", "json", "yaml"), templates=True, no_headers=True)
@opt.proxy_status_options("auto")
@gcpause.paused
def proxy_status_cmd(**flags: Any) -> None:
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
    execute(ProxyStatusOptions(**flags))


@dataclass
class ProxyStatusOptions(Options):
    """`proxy-status`'s flags."""

    kube: Connection
    fleet: FleetFlags
    out_of_sync: bool
    no_headers: bool
    output: str
    sidecars: opt.SidecarFlags

    def validate(self) -> None:
        if self.sidecars.spec("auto") == "none":
            raise UsageError(
                "proxy-status needs a source: --proxy-status none leaves nothing to show"
            )
        contexts.check_source(self.sidecars, self.fleet, "auto")

    def run(self) -> None:
        outcomes = contexts.each_context(
            self.kube, self.fleet, lambda flags, client: _read(flags, client, self.sidecars)
        )
        seen = contexts.answered(outcomes)
        rows = [(name, e) for name, joined in seen for e in joined.entries]
        problems = [(name, e) for name, e in rows if not e.synced]
        shown = problems if self.out_of_sync else rows
        if self.output not in ("table", "wide"):
            self._write_document(outcomes, seen, rows, problems, shown)
        elif seen and not rows:
            sys.stderr.write(contexts.no_resources([j.namespace for _, j in seen]) + "\n")
        elif seen and not shown:
            sys.stderr.write(f"All {len(rows)} sidecars are SYNCED.\n")
        elif shown:
            _table(
                [e for _, e in shown],
                all_namespaces=self.kube.all_namespaces,
                wide=self.output == "wide",
                headers=not self.no_headers,
                context_cells=[Cell(name) for name, _ in shown] if self.fleet.active else None,
            )
        contexts.finish(outcomes, self.fleet, failed=bool(problems))

    def _write_document(
        self,
        outcomes: Sequence[Outcome[_Joined]],
        seen: Sequence[tuple[str, _Joined]],
        rows: Sequence[tuple[str, Entry]],
        problems: Sequence[tuple[str, Entry]],
        shown: Sequence[tuple[str, Entry]],
    ) -> None:
        named = self.fleet.active
        data: dict[str, Any] = {
            "items": [_as_dict(e, name if named else None) for name, e in shown],
            "total": len(rows),
            "synced": len(rows) - len(problems),
        }
        if named:
            data = {
                "contexts": contexts.contexts_data(
                    outcomes,
                    source=lambda j: j.source,
                    total=lambda j: len(j.entries),
                    synced=lambda j: sum(1 for e in j.entries if e.synced),
                ),
                **data,
            }
        else:
            data = {"source": seen[0][1].source, **data}
        of.write_document(data, self.output, no_headers=self.no_headers)


@dataclass
class _Joined:
    """One cluster's sidecars joined with its WARs, and where their state came from."""

    namespace: str | None
    entries: list[Entry]
    source: str


def _read(flags: Connection, client: Kube, sidecars: opt.SidecarFlags) -> _Joined:
    namespace = None if flags.all_namespaces else client.namespace
    snap = snapshot.take(client, namespace, compact=True)
    skipped: list[str] = []
    source = sidecars.open(flags, client, default="auto", notice=skipped.append)
    if source is None:
        raise SidecarError("no proxy-status source answered: " + "; ".join(skipped))
    return _Joined(namespace, join(snap.wars, source.fetch(), namespace), source.describe())


def _table(
    entries: list[Entry],
    *,
    all_namespaces: bool,
    wide: bool,
    headers: bool,
    context_cells: Sequence[str] | None = None,
) -> None:
    """The entries as a table; `context_cells` (one per entry) adds a CONTEXT column first."""
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
            (status.shown_version if status is not None else None) or NONE,
        ]
        if all_namespaces:
            row.insert(0, entry.namespace)
        if wide:
            row.append((status.cluster if status is not None else None) or NONE)
            for t in types:
                value = status.types.get(t) if status is not None else None
                row.append(Cell(value, STATE_STYLES.get(value)) if value else NONE)
        rows.append(row)
    if context_cells is not None:
        cols.insert(0, contexts.CONTEXT_COLUMN)
        rows = [[context, *row] for context, row in zip(context_cells, rows)]
    Table(cols, colour=use_colour()).write(rows, headers=headers)


def _as_dict(entry: Entry, context: str | None) -> dict[str, Any]:
    """One entry of `-o json|yaml` (from a fleet, with its context first)."""
    war = entry.war
    return {
        **({"context": context} if context is not None else {}),
        "namespace": entry.namespace,
        "name": entry.name,
        "workloadGroup": entry.group,
        "war": war is not None,
        "agentConnected": war.connected if war is not None else None,
        "synced": entry.synced,
        "sidecar": entry.sidecar.to_dict(),
    }
