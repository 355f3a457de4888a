"""`kubectl war list`: onboarded workloads with their identity decoded."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from kubectl_war import gcpause, listing
from kubectl_war.assess import Facts
from kubectl_war.cli import contexts
from kubectl_war.cli import options as opt
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.render import Table, as_list, to_json, to_yaml, use_colour, write
from kubectl_war.war import RESOURCE_NAME, AgentState, War

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags, Outcome
    from kubectl_war.printers.labels import LabelColumns


@click.command("list")
@opt.kube_options
@opt.fleet_options()
@opt.selector_option("Label selector (e.g. app=ratings).")
@click.option("--field-selector", metavar="SELECTOR", help="Field selector (e.g. metadata.name=x).")
@opt.group_option("Only WARs of this WorkloadGroup; repeat for several.")
# Separate flags, not one parameter with several flag values: click 8.1 (the last release
# for Python 3.9) gives such a parameter the last flag's value when none is given.
@click.option(
    "--connected",
    "connected_only",
    is_flag=True,
    help="Only WARs whose agent is connected (AgentConnected True).",
)
@click.option(
    "--disconnected",
    "disconnected_only",
    is_flag=True,
    help="Only WARs whose agent dropped off (AgentConnected False). WARs whose agent "
    "never reported are left out: use --agent-unknown.",
)
@click.option(
    "--agent-unknown",
    is_flag=True,
    help="Only WARs with no agent state: no AgentConnected condition yet (just "
    "registered), or one whose status is Unknown.",
)
@opt.duration_option(
    "--older-than",
    help="With --disconnected: only agents disconnected for longer than this, counted "
    "from when AgentConnected turned False.",
)
@click.option(
    "--outdated", is_flag=True, help="Only WARs older than their WorkloadGroup's spec change."
)
@opt.grace_option
@click.option(
    "--sort-by",
    type=opt.SortKey(listing.SORT_KEYS),
    help="Sort the rows.\nBy a shortcut, or by a JSONPath expression as kubectl sorts "
    "(.metadata.creationTimestamp, {.spec.identity.aws.zone}).",
)
@click.option("--no-headers", is_flag=True, help="Do not print the header line.")
@opt.output_option(templates=True)
@click.option("--show-labels", is_flag=True, help="Add a LABELS column last: each WAR's labels.")
@click.option(
    "-L",
    "--label-columns",
    multiple=True,
    metavar="KEY,...",
    help="Add a column per label key, with the label's value; repeat or comma-separate.",
)
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
@opt.proxy_status_options("none", default_help="none; auto with -o wide or --sync")
@gcpause.paused
def list_cmd(
    kube: Connection,
    fleet: FleetFlags,
    selector: str | None,
    field_selector: str | None,
    groups: tuple[str, ...],
    connected_only: bool,
    disconnected_only: bool,
    agent_unknown: bool,
    older_than: float | None,
    outdated: bool,
    grace_period: float,
    sort_by: str | None,
    no_headers: bool,
    output: str,
    show_labels: bool,
    label_columns: tuple[str, ...],
    watch: bool,
    output_watch_events: bool,
    sync: bool,
    sidecars: opt.SidecarFlags,
) -> None:
    """List onboarded workloads (WorkloadAutoRegistrations).

    Each row decodes the workload's verified identity: platform (ec2, ecs, jwt),
    instance, zone and address, with the agent's connection state.

    \b
    Examples:
      kubectl war list -A
      kubectl war list -n bookinfo --group ratings --disconnected
      kubectl war list -A -o wide --sort-by zone
      kubectl war list -A -L app --sort-by .metadata.creationTimestamp
      kubectl war list -A -o jsonpath='{.items[*].metadata.name}'
      kubectl war list -A -o custom-columns=NAME:.metadata.name,ZONE:.spec.identity.aws.zone
      kubectl war list -n bookinfo -o name
      kubectl war list -n bookinfo -w
      kubectl war list -A --sync --proxy-status istiod
      kubectl war list -A --contexts east,west --disconnected
    """
    agent = listing.agent_flag(connected_only, disconnected_only, agent_unknown)
    if older_than is not None and agent is not AgentState.DISCONNECTED:
        raise UsageError("--older-than goes with --disconnected")
    if fleet.active and watch:
        raise UsageError("--watch follows one cluster: use --context, not a fleet of contexts")
    if fleet.active and output == "name":
        raise UsageError("-o name cannot say which context a WAR is in: use -o json or -o yaml")
    default = "auto" if sync or output == "wide" else "none"
    contexts.check_source(sidecars, fleet, default)
    query = _Query(
        selector, field_selector, groups, agent, older_than, outdated, grace_period, sort_by
    )
    from kubectl_war.printers.labels import LabelColumns

    labels = LabelColumns.from_flags(label_columns, show_labels)
    t = opt.now()
    if watch:
        _watch(
            kube,
            query,
            t,
            output,
            sidecars,
            labels,
            no_headers=no_headers,
            events=output_watch_events,
            sync=sync,
        )
        return
    streamed = (
        output in ("table", "wide")
        and not sync
        and sidecars.spec(default) == "none"
        and (sort_by is None or sort_by in listing.SORT_KEYS)
    )

    def read(flags: Connection, client: Any) -> _Listed:
        if streamed:
            return _read_rows(flags, client, query, t, labels, wide=output == "wide")
        return _read(flags, client, query, t, sidecars, output, sync)

    outcomes = contexts.each_context(kube, fleet, read)
    seen = contexts.answered(outcomes)
    if output in ("table", "wide"):
        cols, rows = _table(
            seen,
            t,
            labels,
            all_namespaces=kube.all_namespaces,
            wide=output == "wide",
            named=fleet.active,
        )
        if rows:
            write(Table(cols, colour=use_colour()).render(rows, headers=not no_headers))
        elif seen:
            sys.stderr.write(contexts.no_resources([listed.namespace for _, listed in seen]) + "\n")
    else:
        _write_items(seen, outcomes, output, named=fleet.active, no_headers=no_headers)
    contexts.finish(outcomes, fleet)


@dataclass(frozen=True)
class _Query:
    """Which WARs `list` shows and in what order: its flags, validated."""

    selector: str | None
    field_selector: str | None
    groups: tuple[str, ...]
    agent: AgentState | None
    older_than: float | None
    outdated: bool
    grace_period: float
    sort_by: str | None

    def choose(self, wars: list[War], t: datetime, facts: Callable[[War], Facts]) -> list[War]:
        return listing.select(
            wars,
            groups=self.groups,
            agent=self.agent,
            older_than=self.older_than,
            now=t,
            outdated=self.outdated,
            facts=facts,
        )


@dataclass
class _Listed:
    """What `list` read in one cluster: the WARs it shows, in order, with what it needs
    to judge them; or, for a plain table, only their rows (see `_read_rows`)."""

    context: str
    namespace: str | None
    resource_version: str
    wars: list[War]
    snap: Any
    source: Any
    proxies: Any
    grace_period: float
    #: When the WARs are judged; None: each time one is shown (a watch).
    at: datetime | None
    rows: list[list[str]] | None = None

    def facts(self, war: War) -> Facts:
        from kubectl_war.assess import assess

        return assess(war, self.snap, self.at or opt.now(), self.grace_period, self.proxies)


def _read(
    flags: Connection,
    client: Any,
    query: _Query,
    t: datetime,
    sidecars: opt.SidecarFlags,
    output: str,
    sync: bool,
    *,
    live: bool = False,
) -> _Listed:
    """One cluster's WARs and WorkloadGroups, and (for a table that shows them) its
    sidecars; the WARs chosen and sorted."""
    from kubectl_war import snapshot

    namespace = None if flags.all_namespaces else client.namespace
    # A table shows what a CompactWar keeps; an expression sorts on, and the other
    # outputs print, whole objects.
    table = output in ("table", "wide")
    snap = snapshot.take(
        client,
        namespace,
        label_selector=query.selector,
        field_selector=query.field_selector,
        compact=table and (query.sort_by is None or query.sort_by in listing.SORT_KEYS),
    )
    snapshot.fetch_groups(client, snap, needed_by="--outdated" if query.outdated else None)
    source = _sidecar_source(flags, client, sidecars, output, sync)
    proxies = source.fetch() if source is not None else None
    listed = _Listed(
        client.context_name or "",
        namespace,
        snap.resource_version,
        [],
        snap,
        source,
        proxies,
        query.grace_period,
        None if live else t,
    )
    chosen = query.choose(snap.wars, t, listed.facts)
    listed.wars = _sort(chosen, query.sort_by, table=table)
    return listed


def _sort(wars: list[War], key: str | None, *, table: bool) -> list[War]:
    """`--sort-by`: a shortcut in its own order, an expression in kubectl's (`table`: with
    the errors of kubectl's table output; where kubectl's table hides one behind "No
    resources found", here it is told)."""
    if key is None or key in listing.SORT_KEYS:
        return listing.sort(wars, key)
    from kubectl_war.printers import sort_objects

    by_object = {id(w.obj): w for w in wars}
    return [by_object[id(obj)] for obj in sort_objects([w.obj for w in wars], key, table=table)]


def _read_rows(
    flags: Connection, client: Any, query: _Query, t: datetime, labels: LabelColumns, *, wide: bool
) -> _Listed:
    """The plain table's rows (no SIDECAR column), each WAR turned into its row as its
    page arrives.

    Raw objects are let go page by page, so memory holds rows, not the API's JSON:
    about a tenth of it. The same requests as `_read`, in the same order: the WARs,
    then the WorkloadGroups of the namespaces seen, whose answer fills each row's
    UP-TO-DATE cell (and the `--outdated` filter) at the end.
    """
    from kubectl_war import snapshot
    from kubectl_war.freshness import Freshness

    namespace = None if flags.all_namespaces else client.namespace
    snap = snapshot.Snapshot([], "", namespace)
    listed = _Listed(
        client.context_name or "", namespace, "", [], snap, None, None, query.grace_period, t
    )
    all_namespaces = namespace is None
    cols = listing.headers(all_namespaces=all_namespaces, wide=wide)
    fresh_at = cols.index(listing.FRESH_COLUMN)
    seen: set[str] = set()
    lines: list[_Line] = []

    def add(obj: dict[str, Any]) -> None:
        war = War(obj)
        seen.add(war.namespace)
        chosen = listing.select(
            [war],
            groups=query.groups,
            agent=query.agent,
            older_than=query.older_than,
            now=t,
        )
        if chosen:
            cells = listing.row(war, listed.facts(war), t, all_namespaces=all_namespaces, wide=wide)
            cells += labels.cells(war.labels)
            lines.append(_Line(war, cells, listing.sort_key(war, query.sort_by)))
        gcpause.keep(obj)

    listed.resource_version = client.list_each(
        client.war_resource(),
        namespace,
        add,
        label_selector=query.selector,
        field_selector=query.field_selector,
    )
    snapshot.fetch_groups(client, snap, seen, needed_by="--outdated" if query.outdated else None)
    kept: list[_Line] = []
    for line in lines:
        group = snap.group_named(line.namespace, line.group, line.group_uid)
        freshness, _ = snap.judge(group, line.created)
        if query.outdated and freshness is not Freshness.OUTDATED:
            continue
        line.cells[fresh_at] = listing.freshness_cell(freshness)
        kept.append(line)
    if query.sort_by is not None:
        kept.sort(key=lambda line: line.key)
    listed.rows = [line.cells for line in kept]
    return listed


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


def _table(
    seen: Sequence[tuple[str, _Listed]],
    t: datetime,
    labels: LabelColumns,
    *,
    all_namespaces: bool,
    wide: bool,
    named: bool,
) -> tuple[list[str], list[list[str]]]:
    """The columns and rows of every context's WARs; `named` puts CONTEXT first. The
    SIDECAR column is there when any context read a proxy-status source; label columns
    come last."""
    sidecar = any(listed.source is not None for _, listed in seen)
    cols = listing.headers(all_namespaces=all_namespaces, wide=wide, sidecar=sidecar)
    cols += labels.headers()
    rows: list[list[str]] = []
    for name, listed in seen:
        mine = listed.rows
        if mine is None:
            mine = [
                listing.row(
                    w,
                    listed.facts(w),
                    t,
                    all_namespaces=all_namespaces,
                    wide=wide,
                    sidecar=sidecar,
                )
                + labels.cells(w.labels)
                for w in listed.wars
            ]
        rows += [[name, *row] for row in mine] if named else mine
    return ([contexts.CONTEXT_COLUMN, *cols] if named else cols), rows


def _write_items(
    seen: Sequence[tuple[str, _Listed]],
    outcomes: Sequence[Outcome[_Listed]],
    output: str,
    *,
    named: bool,
    no_headers: bool = False,
) -> None:
    """`-o name`, `-o json`, `-o yaml` or a template printer of every context's WARs.

    The items stay the server's objects, untouched; with many contexts, which context
    each came from is told beside them: each context lists the positions of its items.
    """
    if output == "name":
        write("".join(f"{RESOURCE_NAME}/{w.name}\n" for _, listed in seen for w in listed.wars))
        return
    items: list[Any] = []
    spans: dict[str, list[int]] = {}
    for name, listed in seen:
        spans[name] = list(range(len(items), len(items) + len(listed.wars)))
        items += [w.obj for w in listed.wars]
    if named:
        data = as_list(items)
        data["contexts"] = contexts.contexts_data(
            outcomes,
            resourceVersion=lambda v: v.resource_version,
            items=lambda v: spans[v.context],
        )
    else:
        data = as_list(items, seen[0][1].resource_version)
    printer = opt.printer(output, no_headers=no_headers)
    if printer is not None:
        # kubectl hands its printers the List it builds, whose resourceVersion is empty.
        printer.print({**data, "metadata": {"resourceVersion": ""}}, sys.stdout)
        return
    write(to_json(data) if output == "json" else to_yaml(data))


def _watch(
    kube: Connection,
    query: _Query,
    t: datetime,
    output: str,
    sidecars: opt.SidecarFlags,
    labels: LabelColumns,
    *,
    no_headers: bool,
    events: bool,
    sync: bool,
) -> None:
    """The list of one cluster, then a line per change until interrupted."""
    from kubectl_war.kube import ListResult
    from kubectl_war.kube.client import Kube

    if query.sort_by is not None:
        sys.stderr.write(
            "warning: --watch requested, --sort-by will be ignored for watch events received\n"
        )
        if opt.is_template(output) or query.sort_by not in listing.SORT_KEYS:
            # As kubectl get -w: its initial list too comes in the server's order.
            query = replace(query, sort_by=None)
    client = Kube(kube)
    listed = _read(kube, client, query, t, sidecars, output, sync, live=True)
    from kubectl_war.cli.list_watch import Watcher, refetch

    printer = Watcher(
        output,
        listed,
        labels,
        no_headers=no_headers,
        events=events,
        write_list=lambda: _write_items([(listed.context, listed)], [], output, named=False),
    )
    printer.initial()
    sys.stdout.flush()
    gcpause.settle()
    snap = listed.snap
    for event in client.follow(
        client.war_resource(),
        listed.namespace,
        ListResult([w.obj for w in snap.wars], snap.resource_version),
        label_selector=query.selector,
        field_selector=query.field_selector,
    ):
        war = War(event.object)
        if event.type != "DELETED" and not query.choose([war], t, listed.facts):
            continue
        if listed.source is not None:
            listed.proxies = refetch(listed.source, listed.proxies)
        printer.change(event.type, war)
        sys.stdout.flush()


def _sidecar_source(
    kube: Connection, client: Any, flags: opt.SidecarFlags, output: str, sync: bool
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
    if source is None and not sync:
        from kubectl_war.notice import sources_refused

        sources_refused(reasons)
    if source is None and sync:
        from kubectl_war.sidecars.sources import SidecarError

        if flags.spec(default) == "none":
            raise UsageError("--sync needs a --proxy-status source other than none")
        raise SidecarError("--sync: no proxy-status source answered: " + "; ".join(reasons))
    return source
