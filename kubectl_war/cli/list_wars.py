"""`kubectl war list`: onboarded workloads with their identity decoded."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

import kubectl_war.kube
from kubectl_war import gcpause, listing
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import contexts
from kubectl_war.cli import list_read as lr
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli.base import Options, execute
from kubectl_war.cli.list_read import Listed, Query
from kubectl_war.cli.list_watch import Watcher, refetch
from kubectl_war.cli.usage import csv_list
from kubectl_war.errors import UsageError
from kubectl_war.kube import ListResult
from kubectl_war.kube.config import Connection
from kubectl_war.printers.labels import LabelColumns
from kubectl_war.render import (
    ListDocument,
    Table,
    as_list,
    as_printed,
    to_document,
    use_colour,
    write,
)
from kubectl_war.war import RESOURCE_NAME, War

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags, Outcome
    from kubectl_war.kube.client import Kube


@click.command("list")
@cf.kube_options
@cf.fleet_options()
@opt.selector_option("Label selector (e.g. app=ratings).")
@click.option("--field-selector", metavar="SELECTOR", help="Field selector (e.g. metadata.name=x).")
@opt.group_option("Only WARs of this WorkloadGroup; repeat for several.")
@opt.agent_filter_options()
@opt.grace_option
@click.option(
    "--sort-by",
    type=of.SortKey(listing.SORT_KEYS),
    help="Sort the rows.\nBy a shortcut, or by a JSONPath expression as kubectl sorts "
    "(.metadata.creationTimestamp, {.spec.identity.aws.zone}).",
)
@of.output_option(templates=True, no_headers=True)
@click.option("--show-labels", is_flag=True, help="Add a LABELS column last: each WAR's labels.")
@click.option(
    "-L",
    "--label-columns",
    multiple=True,
    metavar="KEY,...",
    callback=csv_list,
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
def list_cmd(**flags: Any) -> None:
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
    execute(ListOptions(**flags))


@dataclass
class ListOptions(Options):
    """`list`'s flags. `default_source` (completed) is the --proxy-status used when the
    flag is not given: auto when a column shows sidecars (-o wide, --sync), else none."""

    kube: Connection
    fleet: FleetFlags
    selector: str | None
    field_selector: str | None
    groups: tuple[str, ...]
    agent: opt.AgentFilter
    grace_period: float
    sort_by: str | None
    no_headers: bool
    output: str
    show_labels: bool
    label_columns: tuple[str, ...]
    watch: bool
    output_watch_events: bool
    sync: bool
    sidecars: opt.SidecarFlags
    default_source: str = field(default="none", init=False)

    def complete(self) -> None:
        self.default_source = "auto" if self.sync or self.output == "wide" else "none"

    def validate(self) -> None:
        self.agent.state()  # several agent states at once: a UsageError
        self.agent.check_older_than()
        if self.fleet.active and self.watch:
            raise UsageError("--watch follows one cluster: use --context, not a fleet of contexts")
        if self.fleet.active and self.output == "name":
            raise UsageError("-o name cannot say which context a WAR is in: use -o json or -o yaml")
        contexts.check_source(self.sidecars, self.fleet, self.default_source)

    @property
    def query(self) -> Query:
        a = self.agent
        return Query(
            self.selector,
            self.field_selector,
            self.groups,
            a.state(),
            a.older_than,
            a.outdated,
            self.grace_period,
            self.sort_by,
        )

    @property
    def labels(self) -> LabelColumns:
        return LabelColumns.from_flags(self.label_columns, self.show_labels)

    def run(self) -> None:
        query, labels, t = self.query, self.labels, opt.now()
        if self.watch:
            _watch(self, query, t, labels)
            return
        output = self.output
        streamed = (
            output in ("table", "wide")
            and not self.sync
            and self.sidecars.spec(self.default_source) == "none"
            and (self.sort_by is None or self.sort_by in listing.SORT_KEYS)
        )
        # Items in the server's order, each chosen on its own fields: written as they come.
        items = (
            output in ("json", "yaml", "name") and not self.agent.outdated and self.sort_by is None
        )

        def read(flags: Connection, client: Kube) -> Listed:
            if streamed:
                return lr.read_rows(flags, client, query, t, labels, wide=output == "wide")
            if items:
                return lr.read_items(flags, client, query, t, output, spool=self.fleet.active)
            return lr.read(flags, client, query, t, self.sidecars, output, self.sync)

        outcomes = contexts.each_context(self.kube, self.fleet, read)
        self._write(outcomes, t, labels, items=items)
        contexts.finish(outcomes, self.fleet)

    def _write(
        self, outcomes: list[Outcome[Listed]], t: datetime, labels: LabelColumns, *, items: bool
    ) -> None:
        seen = contexts.answered(outcomes)
        output, named = self.output, self.fleet.active
        if items:
            if output != "name":
                _finish_document(seen, outcomes, output, named=named)
        elif output in ("table", "wide"):
            all_namespaces = self.kube.all_namespaces
            wide = output == "wide"
            cols, rows = _table(
                seen, t, labels, all_namespaces=all_namespaces, wide=wide, named=named
            )
            if rows:
                Table(cols, colour=use_colour()).write(rows, headers=not self.no_headers)
            elif seen:
                namespaces = [listed.namespace for _, listed in seen]
                sys.stderr.write(contexts.no_resources(namespaces) + "\n")
        else:
            _write_items(seen, outcomes, output, named=named, no_headers=self.no_headers)


def _finish_document(
    seen: Sequence[tuple[str, Listed]],
    outcomes: Sequence[Outcome[Listed]],
    output: str,
    *,
    named: bool,
) -> None:
    """The rest of the List `read_items` began: with many contexts, the items each
    spooled, in context order, then (JSON; YAML before the items) `contexts`."""
    if not named:
        seen[0][1].document.close(seen[0][1].resource_version)
        return
    spans: dict[str, list[int]] = {}
    count = 0
    for name, listed in seen:
        spans[name] = list(range(count, count + listed.written))
        count += listed.written
    more = {
        "contexts": contexts.contexts_data(
            outcomes,
            resourceVersion=lambda v: v.resource_version,
            items=lambda v: spans[v.context],
        )
    }
    document = ListDocument(output, sys.stdout)
    document.start(more if output == "yaml" else None)
    for _, listed in seen:
        spooled = listed.document.out
        spooled.seek(0)
        while True:
            chunk = spooled.read(1 << 20)
            if not chunk:
                break
            document.add_encoded(chunk)
        spooled.close()
    document.close("", more if output == "json" else None)


def _table(
    seen: Sequence[tuple[str, Listed]],
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
    layout = listing.Layout(all_namespaces, wide, sidecar, labels)
    cols = layout.headers()
    rows: list[list[str]] = []
    for name, listed in seen:
        mine = listed.rows
        if mine is None:
            mine = [layout.row(w, listed.facts(w), t) for w in listed.wars]
        rows += [[name, *row] for row in mine] if named else mine
    return ([contexts.CONTEXT_COLUMN, *cols] if named else cols), rows


def _write_items(
    seen: Sequence[tuple[str, Listed]],
    outcomes: Sequence[Outcome[Listed]],
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
    if output == "kyaml":
        items = [as_printed(obj) for obj in items]
    if named:
        data = as_list(items)
        data["contexts"] = contexts.contexts_data(
            outcomes,
            resourceVersion=lambda v: v.resource_version,
            items=lambda v: spans[v.context],
        )
    else:
        # -o kyaml is new enough to match kubectl exactly: its List has no resourceVersion.
        data = as_list(items, "" if output == "kyaml" else seen[0][1].resource_version)
    printer = of.printer(output, no_headers=no_headers)
    if printer is not None:
        # kubectl hands its printers the List it builds, whose resourceVersion is empty.
        printer.print({**data, "metadata": {"resourceVersion": ""}}, sys.stdout)
        return
    write(to_document(data, output))


def _watch(o: ListOptions, query: Query, t: datetime, labels: LabelColumns) -> None:
    """The list of one cluster, then a line per change until interrupted."""
    output = o.output
    if query.sort_by is not None:
        sys.stderr.write(
            "warning: --watch requested, --sort-by will be ignored for watch events received\n"
        )
        if of.is_template(output) or query.sort_by not in listing.SORT_KEYS:
            # As kubectl get -w: its initial list too comes in the server's order.
            query = replace(query, sort_by=None)
    client = kubectl_war.kube.Kube(o.kube)
    listed = lr.read(o.kube, client, query, t, o.sidecars, output, o.sync, live=True)
    printer = Watcher(
        output,
        listed,
        labels,
        no_headers=o.no_headers,
        events=o.output_watch_events,
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
