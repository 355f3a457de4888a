"""`kubectl war rollout WORKLOADGROUP...`: the options the flags make, and the run they
drive: read one cluster, take the groups' Leases, plan, confirm, execute, let go."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Callable, TextIO, cast

import click

import kubectl_war.kube
from kubectl_war import gcpause, policy_reads
from kubectl_war.assess import assess
from kubectl_war.cli import options as opt
from kubectl_war.cli import rollout_args as ra
from kubectl_war.cli.base import Options
from kubectl_war.cli.prompt import can_ask, is_terminal
from kubectl_war.cli.prompt import confirm as ask
from kubectl_war.cli.rollout_gate import Progressive
from kubectl_war.cli.rollout_metrics import Metrics
from kubectl_war.durations import format_timestamp
from kubectl_war.errors import UsageError, WarError
from kubectl_war.kube.config import Connection
from kubectl_war.kube.requests import ListResult
from kubectl_war.render import to_json, write
from kubectl_war.rollout import journal as rj
from kubectl_war.rollout import plan as rp
from kubectl_war.rollout import progress as pr
from kubectl_war.rollout import progressive as pg
from kubectl_war.rollout import scope, view
from kubectl_war.rollout.executor import Executor
from kubectl_war.rollout.lease import Actor
from kubectl_war.rollout.plan import Selection
from kubectl_war.rollout.shared import LeaseJournal, Shared, read_states
from kubectl_war.rollout.signals import stopping_on_signals
from kubectl_war.rollout.synced import CachedSidecars
from kubectl_war.rollout.view import LineReporter
from kubectl_war.rollout.wait import View
from kubectl_war.sidecars import kinds

if TYPE_CHECKING:
    from kubectl_war.assess import Facts
    from kubectl_war.kube.client import Kube
    from kubectl_war.rollout.analysis import MetricGate
    from kubectl_war.rollout.journal import Journal
    from kubectl_war.rollout.plan import GroupPlan, MaxUnavailable, Plan
    from kubectl_war.rollout.progress import Event, Result
    from kubectl_war.rollout.signals import Signals
    from kubectl_war.rollout.view import LiveReporter
    from kubectl_war.snapshot import Snapshot
    from kubectl_war.war import War

#: The first line of a run without the lock.
NO_LOCK_LINE = (
    "Running without the rollout lock (--no-lock): unshared, another rollout of the same "
    "WorkloadGroups may run at once and `rollout status|pause|abort` elsewhere do not see "
    "this one."
)
# Flags a printed resume command never repeats (--joined-before is set anew).
_NOT_RESUMED = ("groups", "all_groups", "dry_run", "yes", "joined_before")


@dataclass
class Cluster:
    """One cluster as read for a rollout."""

    client: Kube
    namespace: str | None
    snap: Snapshot
    keys: list[tuple[str, str]]
    objects: list[dict[str, Any]] | None
    listed_at: float
    sidecar_check: Callable[[], CachedSidecars | None] | None
    versions: dict[tuple[str, str], str]
    facts: Callable[[War], Facts]
    # The uids of the WARs no OnboardingPolicy admits now (policy_reads.unadmitted).
    unadmitted: frozenset[str] = frozenset()


@dataclass
class RolloutOptions(Options):
    """The flags of one `kubectl war rollout` invocation."""

    ctx: click.Context = field(repr=False)
    kube: Connection
    groups: tuple[str, ...]
    all_groups: bool
    max_unavailable: MaxUnavailable
    zone_by_zone: bool
    include_up_to_date: bool
    include_unknown: bool
    include_unadmitted: bool
    joined_before: datetime | None
    timeout: float | None
    pause: float | None
    no_wait_sync: bool
    sidecars: opt.SidecarFlags
    progressive: Progressive
    metrics: Metrics
    no_lock: bool
    lease_duration: float | None
    dry_run: bool
    yes: bool
    output: str
    grace_period: float
    say: Callable[[str], None] = field(default=print, repr=False)
    lines: LineReporter | None = field(default=None, repr=False)  # the piped progress, one writer
    # WARs re-created from now on have a creationTimestamp at or after this second.
    started: datetime = field(default_factory=lambda: opt.now().replace(microsecond=0))
    namespace: str | None = None  # as resolved (-n, the context's, default)
    # The metric gates, once opened.
    metric_gate: MetricGate | None = field(default=None, repr=False)

    @classmethod
    def from_flags(cls, ctx: click.Context, flags: dict[str, Any]) -> RolloutOptions:
        return cls(ctx=ctx, **flags)

    def complete(self) -> None:
        """Where progress goes: stdout, or stderr when stdout carries -o json."""
        self.lines = LineReporter(self.progress)
        self.say = self.lines.say

    def validate(self) -> None:
        ra.check_scope(self.kube, self.groups, self.all_groups)
        self.progressive.validate(can_ask=can_ask())
        if not self.no_lock and (self.lease_duration or 0) < 1:
            raise UsageError("invalid value for --lease-duration: at least 1s")

    @property
    def progress(self) -> TextIO:
        return sys.stderr if self.output == "json" else sys.stdout

    def run(self) -> None:
        if self.no_lock and not self.dry_run:
            self.say(NO_LOCK_LINE)
        with stopping_on_signals() as signals:
            cluster = self._read()
            shared = None if self.dry_run or self.no_lock else self._take(cluster)
            result: Result | None = None
            try:
                result = self._roll(cluster, shared, signals)
            finally:
                if shared is not None:
                    shared.release(result)
        if result is not None:
            self._finish(result, signals.exit_code)

    # -- reading -------------------------------------------------------------------------

    def _read(self) -> Cluster:
        client = kubectl_war.kube.Kube(self.kube)
        namespace = None if self.kube.all_namespaces else client.namespace
        self.namespace = namespace
        # A rollout in one namespace starts its first batch from the very WARs it plans
        # from (when that starts soon enough), not from a second list of them.
        objects: list[dict[str, Any]] | None = [] if namespace and not self.dry_run else None
        # The sidecar source is read while the cluster is: its answer is needed (and
        # checked) only before the first DELETE.
        no_check = self.dry_run or self.no_wait_sync
        check = None if no_check else sidecar_check_soon(self.kube, client, self.sidecars)
        listed_at = time.monotonic()
        snap, keys = scope.load(client, namespace, self.groups, keep=objects)
        t = opt.now()
        cache: dict[str, Facts] = {}

        def facts(war: War) -> Facts:
            key = f"{war.namespace}/{war.name}/{war.uid}/{war.resource_version}"
            if key not in cache:
                cache[key] = assess(war, snap, t, self.grace_period)
            return cache[key]

        versions = pg.group_versions(snap)
        cluster = Cluster(client, namespace, snap, keys, objects, listed_at, check, versions, facts)
        cluster.unadmitted = policy_reads.unadmitted(client, snap)
        return cluster

    def _take(self, cluster: Cluster) -> Shared:
        shared = Shared(
            cluster.client,
            Actor.here(self.kube.as_user),
            float(self.lease_duration or 0),
            groups={k: cluster.snap.groups[k] for k in cluster.keys if k in cluster.snap.groups},
            versions=cluster.versions,
            say=lambda line: self.say(line),
            warn=sys.stderr.write,
        )
        shared.take(cluster.keys, ra.own_args(self.ctx, _NOT_RESUMED))
        return shared

    def _journal(self, cluster: Cluster, shared: Shared | None) -> Journal:
        if shared is not None:
            return shared.journal(self.grace_period)
        if self.no_lock:
            return rj.for_cluster(cluster.client, self.grace_period)
        states, _ = read_states(cluster.client, cluster.keys)  # a dry run takes no Lease
        return LeaseJournal(states, grace_seconds=self.grace_period)

    # -- planning ------------------------------------------------------------------------

    def selection(self, cluster: Cluster) -> Selection:
        return Selection(
            self.include_up_to_date,
            self.include_unknown,
            self.joined_before,
            cluster.unadmitted,
            self.include_unadmitted,
        )

    def _plan(self, cluster: Cluster, journal: Journal) -> Plan:
        # Before anything is counted: a recorded WAR still there was never deleted.
        journal.reconcile(cluster.snap.wars, cluster.namespace)
        canary = self.progressive.canary
        done = pg.canary_done(journal, cluster.versions) if canary else set()
        offsets = {key: 1 for key in done}
        offsets.update(journal.done_batches)
        for key in cluster.keys:
            pending = journal.pending_check(*key)
            if pending and pending.get("generation") == cluster.versions.get(key):
                offsets[key] = int(pending.get("batch") or 0)
                if pending.get("canary"):
                    done.add(key)  # its checks run again first, then it goes on as after one
        return rp.make_plan(
            cluster.snap.wars,
            cluster.keys,
            cluster.facts,
            max_unavailable=self.max_unavailable,
            selection=self.selection(cluster),
            zone_by_zone=self.zone_by_zone,
            missing=journal.missing_by_group(),
            canary=canary,
            canary_done=done,
            offsets=offsets,
        )

    def _roll(self, cluster: Cluster, shared: Shared | None, signals: Signals) -> Result | None:
        journal = self._journal(cluster, shared)
        plan = self._plan(cluster, journal)
        if self.dry_run:
            if self.output == "json":
                write(to_json(rp.plan_to_dict(plan)))
            else:
                write(view.plan_text(plan))
                write("Dry run: nothing was deleted.\n")
            return None
        if self._nothing_to_do(plan, journal):
            return None
        # Before anything is asked or deleted: Prometheus answers every query.
        istio_namespace = self.sidecars.istio_namespace
        self.metric_gate = self.metrics.open(cluster.client, plan, istio_namespace=istio_namespace)
        confirmed = not self.yes and not plan.empty
        if confirmed:
            confirm(plan)
        return self._execute(cluster, plan, journal, shared, confirmed, signals)

    def _nothing_to_do(self, plan: Plan, journal: Journal) -> bool:
        """Nothing to delete, nothing in flight, no check to run again: say so, and clear
        what an earlier run left (a pause, a failed check) that is over now."""
        # An earlier run's WARs not back yet are waited for even with nothing to delete.
        busy = any(
            journal.in_flight(g.namespace, g.name) or journal.pending_check(g.namespace, g.name)
            for g in plan.groups
        )
        if not plan.empty or busy:
            return False
        for g in plan.groups:
            journal.rolled_out(g.namespace, g.name)
        if self.output == "json":
            result = pr.Result(pr.COMPLETE, [pr.GroupResult(g) for g in plan.groups])
            write(to_json(result.to_dict()))
        else:
            write(view.plan_text(plan))
            write("Nothing to roll out.\n")
        return True

    # -- running -------------------------------------------------------------------------

    def _execute(
        self,
        cluster: Cluster,
        plan: Plan,
        journal: Journal,
        shared: Shared | None,
        confirmed: bool,
        signals: Signals,
    ) -> Result:
        live = self.output != "json" and is_terminal(sys.stdout)
        live_view: LiveReporter | None = None
        reporter: Callable[[Event], None]
        if live:
            from rich.console import Console

            reporter = live_view = view.LiveReporter(plan, Console(file=sys.stdout))
            self.say = live_view.say
        else:
            # One writer of the stream (the renewer says lines too); set by complete().
            reporter = cast("LineReporter", self.lines)
        report = reporter if shared is None else _both(reporter, shared.on_progress)
        synced = None if cluster.sidecar_check is None else cluster.sidecar_check()
        executor = self._executor(cluster, plan, journal, shared, report, synced)
        executor.gate = self.progressive.gate(
            self.kube,
            cluster.client,
            cluster.versions,
            journal=journal,
            confirmed=confirmed,
            sidecar_state=synced.state if synced is not None else _no_sidecar_state,
            suspended=live_view.suspended if live_view is not None else contextlib.nullcontext,
            report=report,
            interrupted=lambda: executor.interrupted,
        )
        # The metric gates (--analysis, --alerts-firing) go after the checks: one seam.
        executor.gate = self.metrics.attach(
            self.metric_gate,
            executor.gate,
            versions=cluster.versions,
            journal=journal,
            timeout=self.timeout,
            report=report,
            interrupted=lambda: executor.interrupted,
        )
        if executor.gate is not None and shared is not None:
            executor.gate.sleep = shared.sleep
        signals.executor = executor
        # Reading the cluster and planning ran without the collector; what they built is
        # frozen, and the rollout's own rounds collect as they go (see Executor.run).
        gcpause.settle()
        if live_view is not None:
            with live_view:
                return executor.run()
        return executor.run()

    def _executor(
        self,
        cluster: Cluster,
        plan: Plan,
        journal: Journal,
        shared: Shared | None,
        report: Callable[[Event], None],
        synced: CachedSidecars | None,
    ) -> Executor:
        client, namespace, objects = cluster.client, cluster.namespace, cluster.objects
        selection, facts = self.selection(cluster), cluster.facts
        wg_res = client.workloadgroup_resource()

        def generation(gp: GroupPlan) -> str | None:
            if wg_res is None:  # the cluster stopped serving WorkloadGroups
                return None
            obj = client.get(wg_res, gp.namespace, gp.name)
            return None if obj is None else pg.version_of(obj)

        executor = Executor(
            client,
            client.war_resource(),
            plan,
            eligible=lambda w: selection.reason_out(w, facts(w)) is None,
            timeout=self.timeout if self.timeout else float("inf"),
            pause=self.pause or 0.0,
            sidecar_synced=synced,
            journal=journal,
            report=report,
            sleep=shared.sleep if shared is not None else time.sleep,
            listed=None
            if objects is None or namespace is None
            else View(
                namespace, ListResult(objects, cluster.snap.resource_version), cluster.listed_at
            ),
            requested=shared.requested if shared is not None else None,
            generation=generation,
            versions=cluster.versions,
        )
        cluster.objects = None  # the executor's from now on: let go after its first batch
        if shared is not None:
            shared.stop_asked = lambda: setattr(executor, "stop_asked", True)
        return executor

    # -- the end -------------------------------------------------------------------------

    def resume_command(self) -> str:
        """The command that resumes this rollout, from the flags the user gave."""
        args = ["rollout", *self.groups]
        if self.all_groups:
            args.append("--all-groups")
        args += ra.namespace_args(self.namespace)
        own = ra.own_args(self.ctx, _NOT_RESUMED)
        if self.include_up_to_date:
            # Re-running an --include-up-to-date rollout as it was would start over.
            started = self.joined_before or self.started
            own += ["--joined-before", format_timestamp(started)]
        return ra.command_line(self.ctx, args, [*own, "--yes"])

    def _finish(self, result: Result, signal_code: int) -> None:
        out, err = view.report_text(result, self.resume_command())
        if self.output == "json":
            write(to_json(self.metrics.summary(result.to_dict(), self.metric_gate)))
        else:
            write(out)
        sys.stdout.flush()
        if err:
            sys.stderr.write(err)
        if result.outcome == pr.INTERRUPTED:
            sys.exit(signal_code)
        if result.outcome not in (pr.COMPLETE, pr.PAUSED) or self.metrics.blocked(result.paused):
            sys.exit(1)


def _both(
    first: Callable[[Event], None], second: Callable[[Event], None]
) -> Callable[[Event], None]:
    def report(ev: Event) -> None:
        first(ev)
        second(ev)

    return report


def confirm(plan: Plan) -> None:
    """Show the plan and ask; without a terminal, refuse."""
    count = view.plural(len(plan.members), "WAR")
    ask(
        view.plan_text(plan)
        + f"This deletes {count}, batch by batch, so their agents onboard again.\n",
        refusal=f"refusing to re-onboard {count} without confirmation: no terminal to "
        "ask on; pass --yes (or preview with --dry-run)",
    )


def _no_sidecar_state(war: War) -> str:
    return "not checked (no proxy-status source)"


def sidecar_check_soon(
    kube: Connection, client: Kube, flags: opt.SidecarFlags
) -> Callable[[], CachedSidecars | None]:
    """`_sidecar_check` started now in a thread; the function answered waits for it,
    writes on stderr what it wrote meanwhile, and answers its result or raises its error
    (a run with nothing to roll out never asks: silent). A source on stdin is read when
    asked: a terminal there is the prompt's."""
    if flags.spec("auto") == "-":
        return lambda: _sidecar_check(kube, client, flags, sys.stderr)
    if flags.spec("auto") == kinds.NONE:
        # Nothing to ask: no thread beside the cluster reads (a thread alive while the
        # main one waits on the API server is one more place a signal can be delivered).
        return lambda: None
    out, done = io.StringIO(), []  # type: tuple[io.StringIO, list[CachedSidecars | None | BaseException]]

    def run() -> None:
        try:
            done.append(_sidecar_check(kube, client, flags, out))
        except BaseException as exc:  # raised in the thread that asks
            done.append(exc)

    thread = threading.Thread(target=run, name="kubectl-war-sidecars", daemon=True)
    thread.start()

    def result() -> CachedSidecars | None:
        thread.join()
        sys.stderr.write(out.getvalue())
        if isinstance(done[0], BaseException):
            raise done[0]
        return done[0]

    return result


def _sidecar_check(
    kube: Connection, client: Kube, flags: opt.SidecarFlags, stream: IO[str]
) -> CachedSidecars | None:
    """`sidecar_synced(war)` over the proxy-status source, or None when there is none
    (then a WAR is back once its agent is connected)."""
    skipped: list[str] = []
    source = flags.open(kube, client, default="auto", notice=skipped.append)
    if source is None:
        if flags.spec("auto") == "auto":
            stream.write(
                "no proxy-status source answered (istiod, istioctl): "
                "not waiting for sidecars to be SYNCED\n"
            )
        return None
    check = CachedSidecars(source.fetch)
    check.probe()
    if check.error:
        # Better now than after the first batch is deleted and can never be judged back.
        raise WarError(
            f"cannot read sidecar sync state ({check.error}); "
            "pass --no-wait-sync to roll out without waiting for sidecars"
        )
    return check
