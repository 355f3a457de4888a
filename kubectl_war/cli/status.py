"""`kubectl war status`: one screen on the health of onboarded workloads, in one
cluster or many."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from kubectl_war import gcpause, health, snapshot
from kubectl_war.assess import assess
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import contexts
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli.base import Options, execute
from kubectl_war.jsondata import child
from kubectl_war.kube.config import Connection
from kubectl_war.notice import sidecars_unread
from kubectl_war.policy_reads import policies_or_warn
from kubectl_war.render import NONE, Cell, Table, use_colour, write

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags, Outcome
    from kubectl_war.health import GroupHealth, GroupProblem, GroupSelection, Problem
    from kubectl_war.kube.client import Kube
    from kubectl_war.snapshot import Snapshot

GROUP_COLUMNS = (
    "WORKLOADGROUP",
    "WARS",
    "CONNECTED",
    "DISCONNECTED",
    "OUTDATED",
    "NOT SYNCED",
    "AGENT",
    "ISTIO",
)
PROBLEM_COLUMNS = ("NAME", "GROUP", "PROBLEMS")


@dataclass
class _Seen:
    """What one context showed: its counts, its problem WARs, and where sidecar state
    came from (None: no source, NOT SYNCED is not counted)."""

    context: str | None
    namespace: str | None
    groups: list[GroupHealth]
    problems: list[Problem]
    source: str | None
    # Each WorkloadGroup in scope, whether a policy selects it (empty when policies
    # cannot be read).
    selection: list[GroupSelection] = field(default_factory=list)

    @property
    def group_problems(self) -> list[GroupProblem]:
        """The WorkloadGroups no OnboardingPolicy selects."""
        return [p for p in (s.problem() for s in self.selection) if p is not None]

    @property
    def troubled(self) -> bool:
        return bool(self.problems or self.group_problems)


@click.command("status")
@cf.kube_options
@cf.fleet_options()
@opt.selector_option("Only WARs matching this label selector.")
@opt.grace_option
@of.output_option(
    ("table", "json", "yaml", "prometheus"),
    templates=True,
    help="Output format. prometheus: the counts in Prometheus' text exposition format "
    "(for node-exporter's textfile collector).",
)
@opt.proxy_status_options("auto")
@gcpause.paused
def status_cmd(**flags: Any) -> None:
    """Summarise the health of onboarded workloads, per WorkloadGroup.

    For each WorkloadGroup (per context with --contexts or --all-contexts): how many
    WARs, how many agents are connected, how many disconnected and when the first of
    them is removed, how many WARs predate the group's last spec change (OUTDATED),
    how many sidecars are not SYNCED (when a proxy-status source answers; <none>
    otherwise), and which agent and Istio versions run. Then only the WARs that need
    a look, each with its problems, and every WorkloadGroup in scope that no
    OnboardingPolicy of its namespace selects (no-policy: new machines cannot join
    it), whether or not it has WARs.

    Exits 0 when every WAR is connected, up to date and (with a source) SYNCED and
    every WorkloadGroup has a policy, else 1: ready for a cron job or an alert.

    -o json gives the same as data; -o prometheus as metrics in Prometheus' text
    exposition format.

    \b
    Examples:
      kubectl war status -A
      kubectl war status -n bookinfo --proxy-status istiod
      kubectl war status -A --all-contexts
      kubectl war status -A --contexts east,west -o json
      kubectl war status -A -o jsonpath='{.healthy}'
      kubectl war status -A -o prometheus > /var/lib/node_exporter/textfile/war.prom
    """
    execute(StatusOptions(**flags))


@dataclass
class StatusOptions(Options):
    """`status`'s flags."""

    kube: Connection
    fleet: FleetFlags
    selector: str | None
    grace_period: float
    output: str
    sidecars: opt.SidecarFlags

    def validate(self) -> None:
        contexts.check_source(self.sidecars, self.fleet, "auto")

    def run(self) -> None:
        fleet = self.fleet
        outcomes = contexts.each_context(
            self.kube,
            fleet,
            lambda flags, client: _read(
                flags, client, self.selector, self.grace_period, self.sidecars
            ),
        )
        seen = [s for _, s in contexts.answered(outcomes)]
        # A context that could not be read cannot be called healthy, even when
        # --ignore-unreachable keeps it from failing the run.
        healthy = not any(s.troubled for s in seen) and all(o.ok for o in outcomes)
        if self.output == "prometheus":
            _write_metrics(seen, outcomes, named=fleet.active)
        elif self.output != "table":
            _write_data(seen, outcomes, healthy, self.output, named=fleet.active)
        else:
            _write_tables(
                seen,
                all_namespaces=self.kube.all_namespaces,
                with_context=fleet.active,
                source_wanted=self.sidecars.spec("auto") != "none",
            )
        contexts.finish(outcomes, fleet, failed=any(s.troubled for s in seen))


def _read(
    flags: Connection,
    client: Kube,
    selector: str | None,
    grace_period: float,
    sidecars: opt.SidecarFlags,
) -> _Seen:
    """One cluster's WARs, WorkloadGroups and (when a source answers) sidecars, judged."""
    namespace = None if flags.all_namespaces else client.namespace
    snap = snapshot.take(client, namespace, label_selector=selector, compact=True)
    # Every WorkloadGroup in scope, WARs or not: one no policy selects is a problem before
    # any machine joins it (with -l, only the groups of the WARs shown count).
    snapshot.fetch_groups(client, snap, whole_scope=selector is None)
    skipped: list[str] = []
    source = (
        sidecars.open(flags, client, default="auto", notice=skipped.append) if snap.wars else None
    )
    if flags.debug:
        for line in skipped:
            sys.stderr.write(f"debug: proxy-status: {line}\n")
    if snap.wars and source is None and sidecars.spec("auto") != "none":
        sidecars_unread(skipped, sidecars.istio_namespace, "NOT SYNCED")
    proxies = source.fetch() if source is not None else None
    t = opt.now()
    context = client.context_name
    groups, problems = health.summarise(
        context,
        snap.wars,
        lambda war: assess(war, snap, t, grace_period, proxies),
        synced_known=proxies is not None,
    )
    return _Seen(
        context,
        namespace,
        groups,
        problems,
        source.describe() if source is not None else None,
        _selection(client, snap, context, everything=selector is None),
    )


def _selection(
    client: Kube, snap: Snapshot, context: str | None, *, everything: bool
) -> list[GroupSelection]:
    """Whether a policy selects each WorkloadGroup read: every one read, or with -l only
    those of the WARs shown; none when policies cannot be read (one warning)."""
    shown = {(w.namespace, w.group) for w in snap.wars}
    groups = []
    for (ns, name), obj in sorted(snap.groups.items()):
        labels = child(obj, "metadata").get("labels")
        if everything or (ns, name) in shown:
            groups.append((ns, name, labels if isinstance(labels, dict) else {}))
    if not groups:
        return []
    read = policies_or_warn(client, snap.namespace, "WorkloadGroups without a policy")
    return health.group_selection(context, groups, read.policies) if read else []


def _write_tables(
    seen: Sequence[_Seen], *, all_namespaces: bool, with_context: bool, source_wanted: bool
) -> None:
    groups = [g for s in seen for g in s.groups]
    unselected = [p for s in seen for p in s.group_problems]
    if not groups and seen:
        # No WARs; a WorkloadGroup no policy selects is still a problem, shown below.
        sys.stderr.write(contexts.no_resources([s.namespace for s in seen]) + "\n")
    if not groups and not unselected:
        return
    lead = (["CONTEXT"] if with_context else []) + (["NAMESPACE"] if all_namespaces else [])

    def where(context: str | None, namespace: str) -> list[str]:
        return ([context or ""] if with_context else []) + ([namespace] if all_namespaces else [])

    colour = use_colour()
    rows = []
    for g in groups:
        rows.append(
            [
                *where(g.context, g.namespace),
                g.group or NONE,
                str(g.total),
                Cell(str(g.connected), "good" if g.connected == g.total else None),
                Cell(g.disconnected_cell(), "bad" if g.disconnected else None),
                Cell(str(g.outdated), "warn" if g.outdated else None)
                if g.outdated is not None
                else Cell("Unknown", "dim"),
                Cell(str(g.not_synced), "warn" if g.not_synced else None)
                if g.not_synced is not None
                else Cell(NONE, "dim"),
                health.spread(g.agents),
                health.spread(g.istio),
            ]
        )
    if rows:
        Table([*lead, *GROUP_COLUMNS], colour=colour).write(rows)
    problems = [p for s in seen for p in s.problems]
    if not problems and not unselected:
        _all_well(seen, groups, with_context=with_context, source_wanted=source_wanted)
        return
    rows = [
        [
            *where(p.context, p.war.namespace),
            p.war.name,
            p.war.group or NONE,
            Cell(p.words(), "bad" if health.DISCONNECTED in p.kinds else "warn"),
        ]
        for p in problems
    ]
    rows += [
        [*where(p.context, p.namespace), NONE, p.group, Cell(p.words(), "warn")] for p in unselected
    ]
    Table([*lead, *PROBLEM_COLUMNS], colour=colour).write(rows, lead="\n" if groups else "")


def _all_well(
    seen: Sequence[_Seen], groups: Sequence[GroupHealth], *, with_context: bool, source_wanted: bool
) -> None:
    """The line under the table when no WAR has a problem: only what was read is claimed
    (up to date needs the WorkloadGroups, synced a source)."""
    total = sum(g.total for g in groups)
    unread = [s for s in seen if s.source is None and s.groups]
    said = ["connected"]
    if all(g.outdated is not None for g in groups):
        said.append("up to date")
    if not unread:
        said.append("synced")
    what = " and ".join(said) if len(said) < 3 else f"{said[0]}, {said[1]} and {said[2]}"
    lead_words = f"All {total} WARs are" if total != 1 else "The 1 WAR is"
    write(f"\n{lead_words} {what}.\n")
    if unread:
        where = ""
        if with_context:
            where = " in " + ", ".join(f'context "{s.context}"' for s in unread)
        why = "no proxy-status source answered" if source_wanted else "--proxy-status none"
        write(f"Sidecar sync state was not read{where}: {why}.\n")


def _write_metrics(
    seen: Sequence[_Seen], outcomes: Sequence[Outcome[_Seen]], *, named: bool
) -> None:
    if named:
        clusters = [(o.context or "", o.ok) for o in outcomes]
    else:
        clusters = [(s.context or "", True) for s in seen]
    groups = [g for s in seen for g in s.groups]
    write(health.exposition(groups, clusters, [g for s in seen for g in s.selection]))


def _write_data(
    seen: Sequence[_Seen],
    outcomes: Sequence[Outcome[_Seen]],
    healthy: bool,
    output: str,
    *,
    named: bool,
) -> None:
    by_context = {s.context: s for s in seen}
    read: list[dict[str, Any]] = []
    for name, error in (
        [(o.context, o.error) for o in outcomes] if named else [(seen[0].context, None)]
    ):
        s = by_context.get(name)
        if s is None:
            read.append({"name": name, "error": error})
        else:
            read.append({"name": name, "namespace": s.namespace, "source": s.source})
    groups = [g for s in seen for g in s.groups]
    data = {
        "kind": "WarStatus",
        "healthy": healthy,
        "contexts": read,
        "totals": health.totals(groups),
        "groups": [g.to_dict() for g in groups],
        "problems": [p.to_dict() for s in seen for p in s.problems],
        "groupProblems": [p.to_dict() for s in seen for p in s.group_problems],
    }
    of.write_document(data, output, rows="groups")
