"""`kubectl war list`: onboarded workloads with their identity decoded."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from kubectl_war import gcpause, listing
from kubectl_war.assess import Facts
from kubectl_war.cli.options import (
    KubeFlags,
    SidecarFlags,
    duration_option,
    fleet_options,
    grace_option,
    kube_options,
    now,
    output_option,
    proxy_status_options,
)
from kubectl_war.errors import UsageError
from kubectl_war.render import Table, as_list, to_json, to_yaml, use_colour, write
from kubectl_war.war import RESOURCE_NAME, War


def no_resources(namespace: str | None) -> str:
    """kubectl's words for an empty result."""
    if namespace is None:
        return "No resources found"
    return f"No resources found in {namespace} namespace."


@click.command("list")
@kube_options
@fleet_options()
@click.option("-l", "--selector", metavar="SELECTOR", help="Label selector (e.g. app=ratings).")
@click.option("--field-selector", metavar="SELECTOR", help="Field selector (e.g. metadata.name=x).")
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="WORKLOADGROUP",
    help="Only WARs of this WorkloadGroup; repeat for several.",
)
# Two flags, not one parameter with two flag values: click 8.1 (the last release for
# Python 3.9) gives such a parameter the second flag's value when neither is given.
@click.option(
    "--connected", "connected_only", is_flag=True, help="Only WARs whose agent is connected."
)
@click.option(
    "--disconnected",
    "disconnected_only",
    is_flag=True,
    help="Only WARs whose agent is not connected.",
)
@duration_option(
    "--older-than", help="With --disconnected: only agents disconnected for longer than this."
)
@click.option(
    "--outdated", is_flag=True, help="Only WARs older than their WorkloadGroup's spec change."
)
@grace_option
@click.option("--sort-by", type=click.Choice(listing.SORT_KEYS), help="Sort the rows.")
@click.option("--no-headers", is_flag=True, help="Do not print the header line.")
@output_option()
@click.option("-w", "--watch", is_flag=True, help="After the list, print a line per change.")
@click.option(
    "--output-watch-events",
    is_flag=True,
    help="With --watch, add an EVENT column (ADDED, MODIFIED, DELETED).",
)
@click.option(
    "--sync",
    is_flag=True,
    help="Add a SIDECAR column: each sidecar's sync state from --proxy-status (auto).",
)
@proxy_status_options("none", default_help="none; auto with -o wide or --sync")
@gcpause.paused
def list_cmd(
    kube: KubeFlags,
    fleet: Any,
    selector: str | None,
    field_selector: str | None,
    groups: tuple[str, ...],
    connected_only: bool,
    disconnected_only: bool,
    older_than: float | None,
    outdated: bool,
    grace_period: float,
    sort_by: str | None,
    no_headers: bool,
    output: str,
    watch: bool,
    output_watch_events: bool,
    sync: bool,
    sidecars: SidecarFlags,
) -> None:
    """List onboarded workloads (WorkloadAutoRegistrations).

    Each row decodes the workload's verified identity: platform (ec2, ecs, jwt),
    instance, zone and address, with the agent's connection state.

    \b
    Examples:
      kubectl war list -A
      kubectl war list -n bookinfo --group ratings --disconnected
      kubectl war list -A -o wide --sort-by zone
      kubectl war list -n bookinfo -o name
      kubectl war list -n bookinfo -w
      kubectl war list -A --sync --proxy-status istiod
      kubectl war list -A --contexts east,west --disconnected
    """
    from kubectl_war import snapshot
    from kubectl_war.assess import assess

    if connected_only and disconnected_only:
        raise UsageError("--connected and --disconnected exclude each other")
    connected = True if connected_only else False if disconnected_only else None
    if older_than is not None and connected is not False:
        raise UsageError("--older-than goes with --disconnected")
    if fleet.active:
        from kubectl_war.cli import fleet as many

        many.list_wars(
            kube,
            fleet,
            selector=selector,
            field_selector=field_selector,
            groups=groups,
            connected=connected,
            older_than=older_than,
            outdated=outdated,
            grace_period=grace_period,
            sort_by=sort_by,
            no_headers=no_headers,
            output=output,
            watch=watch,
            sync=sync,
            sidecars=sidecars,
        )
        return
    client = kube.connect()
    namespace = None if kube.all_namespaces else client.namespace
    sidecar_spec = sidecars.spec("auto" if sync or output == "wide" else "none")
    if output in ("table", "wide") and not watch and not sync and sidecar_spec == "none":
        _print_table(
            client,
            namespace,
            output,
            selector=selector,
            field_selector=field_selector,
            groups=groups,
            connected=connected,
            older_than=older_than,
            outdated=outdated,
            grace_period=grace_period,
            sort_by=sort_by,
            no_headers=no_headers,
        )
        return
    snap = snapshot.take(
        client,
        namespace,
        label_selector=selector,
        field_selector=field_selector,
        with_groups=True,
    )
    t = now()
    source = _sidecar_source(kube, client, sidecars, output, sync)
    proxies = [source.fetch() if source is not None else None]

    def facts(war: War) -> Facts:
        return assess(war, snap, now() if watch else t, grace_period, proxies[0])

    def chosen(wars: list[War]) -> list[War]:
        return listing.select(
            wars,
            groups=groups,
            connected=connected,
            older_than=older_than,
            now=t,
            outdated=outdated,
            facts=facts,
        )

    wars = listing.sort(chosen(snap.wars), sort_by)
    printer = _Printer(
        output,
        facts,
        all_namespaces=namespace is None,
        no_headers=no_headers,
        events=watch and output_watch_events,
        sidecar=source is not None,
    )
    if not wars and not watch and output in ("table", "wide"):
        sys.stderr.write(no_resources(namespace) + "\n")
        return
    printer.initial(wars, snap.resource_version)
    if not watch:
        return
    sys.stdout.flush()
    gcpause.settle()
    res = client.war_resource()
    from kubectl_war.kube import ListResult

    listed = ListResult([w.obj for w in snap.wars], snap.resource_version)
    for event in client.follow(
        res, namespace, listed, label_selector=selector, field_selector=field_selector
    ):
        war = War(event.object)
        if event.type != "DELETED" and not chosen([war]):
            continue
        if source is not None:
            proxies[0] = _refetch(source, proxies[0])
        printer.change(event.type, war)
        sys.stdout.flush()


class _Line:
    """One WAR of a table being built page by page: its cells, what it sorts by, and
    what its UP-TO-DATE cell needs once the WorkloadGroups are known."""

    __slots__ = ("cells", "created", "group", "group_uid", "key", "namespace")

    def __init__(self, war: War, cells: list[str], key: tuple[Any, ...]) -> None:
        self.cells = cells
        self.key = key
        self.namespace = war.namespace
        self.group = war.group
        self.group_uid = war.group_uid
        self.created = war.created


def _print_table(
    client: Any,
    namespace: str | None,
    output: str,
    *,
    selector: str | None,
    field_selector: str | None,
    groups: tuple[str, ...],
    connected: bool | None,
    older_than: float | None,
    outdated: bool,
    grace_period: float,
    sort_by: str | None,
    no_headers: bool,
) -> None:
    """The table (no watch, no SIDECAR column), each WAR turned into its row as its page
    arrives.

    Raw objects are let go page by page, so memory holds rows, not the API's JSON:
    about a tenth of it. The same requests as `snapshot.take` with groups, in the same
    order: the WARs, then the WorkloadGroups of the namespaces seen, whose answer fills
    each row's UP-TO-DATE cell (and the `--outdated` filter) at the end.
    """
    from kubectl_war import snapshot
    from kubectl_war.assess import assess
    from kubectl_war.freshness import Freshness

    t = now()
    snap = snapshot.Snapshot([], "", namespace)

    def facts(war: War) -> Facts:
        return assess(war, snap, t, grace_period)

    printer = _Printer(
        output, facts, all_namespaces=namespace is None, no_headers=no_headers, events=False
    )
    fresh_at = printer.table.headers.index(listing.FRESH_COLUMN)
    seen: set[str] = set()
    lines: list[_Line] = []

    def add(obj: dict[str, Any]) -> None:
        war = War(obj)
        seen.add(war.namespace)
        chosen = listing.select(
            [war], groups=groups, connected=connected, older_than=older_than, now=t
        )
        if chosen:
            lines.append(_Line(war, printer._row(war), listing.sort_key(war, sort_by)))
        gcpause.keep(obj)

    client.list_each(
        client.war_resource(),
        namespace,
        add,
        label_selector=selector,
        field_selector=field_selector,
    )
    snapshot.fetch_groups(client, snap, seen)
    kept: list[_Line] = []
    for line in lines:
        group = snap.group_named(line.namespace, line.group, line.group_uid)
        freshness, _ = snap.judge(group, line.created)
        if outdated and freshness is not Freshness.OUTDATED:
            continue
        line.cells[fresh_at] = listing.freshness_cell(freshness)
        kept.append(line)
    if not kept:
        sys.stderr.write(no_resources(namespace) + "\n")
        return
    if sort_by is not None:
        kept.sort(key=lambda line: line.key)
    write(printer.table.render([line.cells for line in kept], headers=not no_headers))


def _sidecar_source(
    kube: KubeFlags, client: Any, flags: SidecarFlags, output: str, sync: bool
) -> Any:
    """The proxy-status source behind the SIDECAR column, or None for no column.

    Only tables show sidecars. `-o wide` reads one when `auto` finds one; `--sync`
    insists, so finding none is an error that says why.
    """
    if output not in ("table", "wide"):
        return None
    default = "auto" if sync or output == "wide" else "none"
    reasons: list[str] = []
    source = flags.open(kube, client, default=default, notice=reasons.append)
    if kube.debug:
        for line in reasons:
            sys.stderr.write(f"debug: proxy-status: {line}\n")
    if source is None and sync:
        from kubectl_war.sidecars.sources import SidecarError

        if flags.spec(default) == "none":
            raise UsageError("--sync needs a --proxy-status source other than none")
        raise SidecarError("--sync: no proxy-status source answered: " + "; ".join(reasons))
    return source


def _refetch(source: Any, previous: Any) -> Any:
    """Fresh sync state for a watch line; the last known state if the source fails now."""
    from kubectl_war.sidecars.sources import SidecarError

    try:
        return source.fetch()
    except SidecarError:
        return previous


class _Printer:
    """Prints the list in one output format, then (with --watch) one entry per change."""

    def __init__(
        self,
        output: str,
        facts: Callable[[War], Facts],
        *,
        all_namespaces: bool,
        no_headers: bool,
        events: bool,
        sidecar: bool = False,
    ):
        self.output = output
        self.facts = facts
        self.all_namespaces = all_namespaces
        self.no_headers = no_headers
        self.events = events
        self.now = now()
        self.sidecar = sidecar
        cols = listing.headers(
            all_namespaces=all_namespaces, wide=output == "wide", sidecar=sidecar
        )
        if events:
            cols.insert(0, "EVENT")
        self.table = Table(cols, colour=use_colour())
        self.header_pending = False

    def _row(self, war: War, event: str | None = None) -> list[str]:
        cells = listing.row(
            war,
            self.facts(war),
            self.now,
            all_namespaces=self.all_namespaces,
            wide=self.output == "wide",
            sidecar=self.sidecar,
        )
        if self.events:
            cells.insert(0, event or "ADDED")
        return cells

    def initial(self, wars: list[War], resource_version: str) -> None:
        if self.output in ("table", "wide"):
            # Like kubectl get -w: with nothing listed, the header waits for the first row.
            self.header_pending = not wars and not self.no_headers
            if wars:
                write(self.table.render([self._row(w) for w in wars], headers=not self.no_headers))
        elif self.output == "name":
            write("".join(f"{RESOURCE_NAME}/{w.name}\n" for w in wars))
        elif self.output == "json":
            write(to_json(as_list([w.obj for w in wars], resource_version)))
        elif self.output == "yaml":
            write(to_yaml(as_list([w.obj for w in wars], resource_version)))

    def change(self, event: str, war: War) -> None:
        self.now = now()
        obj: Any = war.obj
        if self.output in ("table", "wide"):
            row = self._row(war, event)
            self.table.fit([row])
            if self.header_pending:
                write(self.table.format_row(self.table.headers, header=True) + "\n")
                self.header_pending = False
            write(self.table.format_row(row) + "\n")
        elif self.output == "name":
            write(f"{RESOURCE_NAME}/{war.name}\n")
        elif self.output == "json":
            write(to_json(obj))
        elif self.output == "yaml":
            write("---\n" + to_yaml(obj))
