"""`kubectl war rollout`: re-onboard outdated workloads batch by batch, and
`kubectl war rollout status`: how far that has come."""

from __future__ import annotations

import contextlib
import shlex
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, cast

import click

from kubectl_war import gcpause
from kubectl_war.cli import options as opt
from kubectl_war.cli.rollout_gate import Progressive, progressive_options
from kubectl_war.cli.rollout_metrics import Metrics, metrics_options
from kubectl_war.errors import UsageError, WarError
from kubectl_war.kube.config import Connection
from kubectl_war.rollout import (
    DEFAULT_MAX_UNAVAILABLE,
    DEFAULT_PAUSE,
    DEFAULT_STATUS_TIMEOUT,
    DEFAULT_TIMEOUT,
)

if TYPE_CHECKING:
    from kubectl_war.rollout.status import GroupStatus, Read
    from kubectl_war.rollout.synced import CachedSidecars


def _max_unavailable(ctx: click.Context, param: click.Parameter, value: str) -> Any:
    from kubectl_war.rollout.plan import parse_max_unavailable

    return parse_max_unavailable(value)


def _joined_before(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from kubectl_war.durations import parse_timestamp

    parsed = parse_timestamp(value)
    if parsed is None:
        raise UsageError(
            f'invalid value "{value}" for --joined-before: expected an RFC 3339 time '
            "such as 2024-05-16T12:00:00Z"
        )
    return parsed


class RolloutGroup(click.Group):
    """`rollout WG...` runs a rollout; `rollout status WG...` reports on one.

    A plain click group reads its first argument as a subcommand name, so it could
    not take WorkloadGroup names there: this one parses and runs like a command,
    except that a first argument `status` hands everything after it to that
    subcommand (which `--help` lists, and the README documents).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invoke_without_command", True)
        super().__init__(*args, **kwargs)
        self.allow_interspersed_args = True

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        sub = self.commands.get(args[0]) if args else None
        if sub is not None:
            ctx = self.context_class(self, info_name=info_name, parent=parent)
            return sub.make_context(args[0], list(args[1:]), parent=ctx, **extra)
        return super().make_context(info_name, args, parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return click.Command.parse_args(self, ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        return click.Command.invoke(self, ctx)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return click.Command.collect_usage_pieces(self, ctx)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        if ctx.command is not self:
            # Asked for `rollout status`'s usage line: the WORKLOADGROUP... of
            # `rollout` itself does not come before `status`.
            return [p for p in params if not isinstance(p, click.Argument)]
        return params


def _groups(f: Any) -> Any:
    """The WorkloadGroups `rollout` and `rollout status` act on: named, or --all-groups."""
    f = click.option(
        "--all-groups", is_flag=True, help="Every WorkloadGroup in the namespace (-A: all)."
    )(f)
    return click.argument(
        "groups", nargs=-1, metavar="[WORKLOADGROUP]...", callback=opt.object_names("WorkloadGroup")
    )(f)


def _scope(kube: Connection, groups: tuple[str, ...], all_groups: bool) -> None:
    if groups and all_groups:
        raise UsageError("name WorkloadGroups or pass --all-groups, not both")
    if not groups and not all_groups:
        raise UsageError("name the WorkloadGroups to roll out, or pass --all-groups")
    if groups and kube.all_namespaces:
        raise UsageError(
            "WorkloadGroup names cannot be combined with -A: names are per namespace (-n)"
        )


@click.command("rollout", cls=RolloutGroup)
@opt.kube_options
@opt.fleet_options(
    single="its --max-unavailable budget, its batches and its resume journal are one cluster's"
)
@_groups
@click.option(
    "--max-unavailable",
    default=DEFAULT_MAX_UNAVAILABLE,
    show_default=True,
    metavar="N|N%",
    callback=_max_unavailable,
    help="At most this many WARs of a group missing or not yet healthy at once: a number, "
    "or a percentage of the group's connected WARs (rounded down, at least 1).",
)
@click.option(
    "--zone-by-zone", is_flag=True, help="Finish one zone before the next; no batch spans zones."
)
@click.option("--include-up-to-date", is_flag=True, help="Re-onboard up-to-date WARs too.")
@click.option("--include-unknown", is_flag=True, help="Re-onboard WARs of unknown freshness too.")
@click.option(
    "--include-unadmitted",
    is_flag=True,
    help="Re-onboard WARs no OnboardingPolicy admits now too (they will not come back).",
)
@click.option(
    "--joined-before",
    metavar="TIME",
    callback=_joined_before,
    help="Only WARs that joined before this RFC 3339 time (resumes an --include-up-to-date "
    "rollout without re-onboarding a WAR twice).",
)
@opt.duration_option(
    "--timeout",
    default=DEFAULT_TIMEOUT,
    help="How long each batch may take to come back (0: no limit).",
)
@opt.duration_option("--pause", default=DEFAULT_PAUSE, help="How long to wait between batches.")
@click.option(
    "--no-wait-sync",
    is_flag=True,
    help="Do not wait for re-onboarded sidecars to be SYNCED (read no proxy-status source).",
)
@opt.proxy_status_options("auto")
@progressive_options
@metrics_options
@click.option("--dry-run", is_flag=True, help="Print the plan; delete nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting.")
@opt.output_option(
    ("text", "json"),
    help="json: the plan (--dry-run) or the final summary as data; progress goes to stderr.",
)
@opt.grace_option
@gcpause.paused
def rollout_cmd(
    kube: Connection,
    groups: tuple[str, ...],
    all_groups: bool,
    max_unavailable: Any,
    zone_by_zone: bool,
    include_up_to_date: bool,
    include_unknown: bool,
    include_unadmitted: bool,
    joined_before: datetime | None,
    timeout: float | None,
    pause: float | None,
    no_wait_sync: bool,
    sidecars: opt.SidecarFlags,
    progressive: Progressive,
    metrics: Metrics,
    dry_run: bool,
    yes: bool,
    output: str,
    grace_period: float,
) -> None:
    """Re-onboard outdated workloads of WorkloadGroups, a few at a time.

    A workload keeps the WorkloadGroup config it joined with until its WAR is
    deleted and its agent onboards again. This deletes the WARs of connected
    agents that predate their WorkloadGroup's last spec change, batch by batch:
    each batch must be back (same name, new uid, agent connected, sidecar SYNCED
    when a proxy-status source exists) before the next is deleted, and never are
    more of a group unavailable than --max-unavailable, counting those already
    unavailable. A batch not back within --timeout stops the rollout (exit 1);
    Ctrl-C stops it too (exit 130). Run the same command again to resume: WARs
    already re-onboarded are up to date and not touched again.

    Disconnected agents cannot re-onboard: their WARs are listed, never deleted.

    Progressive: --canary re-onboards a few WARs first and pauses (asks on a
    terminal; without one, waits --canary-pause or stops for a re-run to continue);
    each --check runs after every batch is back and must exit 0 for the next to go;
    --approve-each asks before every batch. `rollout status` shows a paused rollout.

    Metric gates: each --analysis is measured in Prometheus after every batch is
    back (and its checks passed); --alerts-firing holds each batch while any of
    those alerts fires.

    \b
    See progress from elsewhere with:
      kubectl war rollout status WORKLOADGROUP... -n NS [--watch]

    \b
    Examples:
      kubectl war rollout ratings -n bookinfo --dry-run
      kubectl war rollout ratings -n bookinfo --max-unavailable 2 --zone-by-zone --yes
      kubectl war rollout --all-groups -A --max-unavailable 25% --pause 30s
      kubectl war rollout ratings -n bookinfo --canary 1 --check ./health.sh --yes
      kubectl war rollout ratings -n bookinfo --analysis 'success-rate>=0.99' --yes
    """
    from kubectl_war import snapshot
    from kubectl_war.assess import Facts, assess
    from kubectl_war.cli.prompt import can_ask, is_terminal
    from kubectl_war.durations import format_timestamp, go_duration, parse_duration
    from kubectl_war.kube.requests import ListResult
    from kubectl_war.render import to_json, write
    from kubectl_war.rollout import journal as rj
    from kubectl_war.rollout import plan as rp
    from kubectl_war.rollout import progress as pr
    from kubectl_war.rollout import progressive as pg
    from kubectl_war.rollout import scope, view
    from kubectl_war.rollout.executor import Executor
    from kubectl_war.rollout.signals import stopping_on_signals
    from kubectl_war.rollout.wait import View
    from kubectl_war.sidecars.sources import DEFAULT_ISTIO_NAMESPACE
    from kubectl_war.war import War

    _scope(kube, groups, all_groups)
    progressive.validate(can_ask=can_ask())
    with stopping_on_signals() as signals:
        from kubectl_war.kube.client import Kube

        client = Kube(kube)
        namespace = None if kube.all_namespaces else client.namespace
        # A rollout in one namespace starts its first batch from the very WARs it plans
        # from (when that starts soon enough), not from a second list of them.
        objects: list[dict[str, Any]] | None = None if dry_run or namespace is None else []
        # The sidecar source is read while the cluster is: its answer is needed (and
        # checked) only before the first DELETE.
        no_check = dry_run or no_wait_sync
        sidecar_check = None if no_check else _sidecar_check_soon(kube, client, sidecars)
        listed_at = time.monotonic()
        snap, keys = scope.load(client, namespace, groups, keep=objects)
        t = opt.now()
        facts_cache: dict[str, Facts] = {}

        def facts(war: War) -> Facts:
            key = f"{war.namespace}/{war.name}/{war.uid}/{war.resource_version}"
            if key not in facts_cache:
                facts_cache[key] = assess(war, snap, t, grace_period)
            return facts_cache[key]

        selection = rp.Selection(
            include_up_to_date,
            include_unknown,
            joined_before,
            snapshot.unadmitted(client, snap),
            include_unadmitted,
        )
        journal = rj.for_cluster(client, grace_period)
        # Before anything is counted: a recorded WAR still there was never deleted.
        journal.reconcile(snap.wars, namespace)
        versions = pg.group_versions(snap)
        canary_done = pg.canary_done(journal, versions) if progressive.canary else set()
        plan = rp.make_plan(
            snap.wars,
            keys,
            facts,
            max_unavailable=max_unavailable,
            selection=selection,
            zone_by_zone=zone_by_zone,
            missing=journal.missing_by_group(),
            canary=progressive.canary,
            canary_done=canary_done,
        )

        if dry_run:
            if output == "json":
                write(to_json(rp.plan_to_dict(plan)))
            else:
                write(view.plan_text(plan))
                write("Dry run: nothing was deleted.\n")
            return
        # An earlier run's WARs not back yet are waited for even with nothing to delete.
        carried = any(journal.in_flight(g.namespace, g.name) for g in plan.groups)
        if plan.empty and not carried:
            if output == "json":
                result = pr.Result(pr.COMPLETE, [pr.GroupResult(g) for g in plan.groups])
                write(to_json(result.to_dict()))
            else:
                write(view.plan_text(plan))
                write("Nothing to roll out.\n")
            return
        # Before anything is asked or deleted: Prometheus answers every query.
        metric_gate = metrics.open(client, plan, istio_namespace=sidecars.istio_namespace)
        confirmed = not yes and not plan.empty
        if confirmed:
            _confirm(plan)

        # WARs re-created from now on have a creationTimestamp at or after this second.
        started = joined_before or opt.now().replace(microsecond=0)
        resume = _resume_command(
            kube,
            client,
            groups,
            all_groups=all_groups,
            flags=[
                (
                    "--max-unavailable",
                    str(max_unavailable),
                    str(max_unavailable) != DEFAULT_MAX_UNAVAILABLE,
                ),
                ("--zone-by-zone", None, zone_by_zone),
                ("--include-up-to-date", None, include_up_to_date),
                ("--include-unknown", None, include_unknown),
                ("--include-unadmitted", None, include_unadmitted),
                # Re-running an --include-up-to-date rollout as it was would start over.
                ("--joined-before", format_timestamp(started), include_up_to_date),
                (
                    "--timeout",
                    go_duration(timeout),
                    timeout not in (None, parse_duration(DEFAULT_TIMEOUT)),
                ),
                ("--pause", go_duration(pause), (pause or 0.0) != parse_duration(DEFAULT_PAUSE)),
                ("--no-wait-sync", None, no_wait_sync),
                ("--proxy-status", sidecars.source, sidecars.source is not None),
                (
                    "--istio-namespace",
                    sidecars.istio_namespace,
                    sidecars.istio_namespace != DEFAULT_ISTIO_NAMESPACE,
                ),
                (
                    "--grace-period",
                    go_duration(grace_period),
                    grace_period != parse_duration(opt.DEFAULT_GRACE_PERIOD),
                ),
                *progressive.resume_flags(),
                *metrics.resume_flags(),
                ("--yes", None, True),
            ],
        )
        res = client.war_resource()
        progress = sys.stderr if output == "json" else sys.stdout
        live = output != "json" and is_terminal(sys.stdout)
        reporter: Any
        if live:
            from rich.console import Console

            reporter = view.LiveReporter(plan, Console(file=sys.stdout))
        else:
            reporter = view.LineReporter(progress)
        synced = None if sidecar_check is None else sidecar_check()
        executor = Executor(
            client,
            res,
            plan,
            eligible=lambda w: selection.reason_out(w, facts(w)) is None,
            timeout=timeout if timeout else float("inf"),
            pause=pause or 0.0,
            sidecar_synced=synced,
            journal=journal,
            report=reporter,
            listed=None
            if objects is None or namespace is None
            else View(namespace, ListResult(objects, snap.resource_version), listed_at),
        )
        del objects  # the executor's from now on: let them go once its first batch has
        executor.gate = progressive.gate(
            kube,
            client,
            versions,
            journal=journal,
            confirmed=confirmed,
            sidecar_state=synced.state if synced is not None else _no_sidecar_state,
            suspended=reporter.suspended if live else contextlib.nullcontext,
            report=reporter,
            interrupted=lambda: executor.interrupted,
        )
        executor.gate = metrics.attach(
            metric_gate,
            executor.gate,
            versions=versions,
            journal=journal,
            timeout=timeout,
            report=reporter,
            interrupted=lambda: executor.interrupted,
        )
        signals.executor = executor
        # Reading the cluster and planning ran without the collector; what they built is
        # frozen, and the rollout's own rounds collect as they go (see Executor.run).
        gcpause.settle()
        if live:
            with reporter:
                result = executor.run()
        else:
            result = executor.run()
        out, err = view.report_text(result, resume)
        if output == "json":
            write(to_json(metrics.summary(result.to_dict(), metric_gate)))
        else:
            write(out)
        sys.stdout.flush()
        if err:
            sys.stderr.write(err)
        if result.outcome == pr.INTERRUPTED:
            sys.exit(signals.exit_code)
        if result.outcome not in (pr.COMPLETE, pr.PAUSED) or metrics.blocked(result.paused):
            sys.exit(1)


def _no_sidecar_state(war: Any) -> str:
    return "not checked (no proxy-status source)"


def _sidecar_check_soon(
    kube: Connection, client: Any, flags: opt.SidecarFlags
) -> Callable[[], CachedSidecars | None]:
    """`_sidecar_check` started now in a thread; the function answered waits for it,
    writes on stderr what it wrote meanwhile, and answers its result or raises its error
    (a run with nothing to roll out never asks: silent). A source on stdin is read when
    asked: a terminal there is the prompt's."""
    import io
    import threading

    if flags.spec("auto") == "-":
        return lambda: _sidecar_check(kube, client, flags, sys.stderr)
    out, done = io.StringIO(), []  # type: tuple[io.StringIO, list[Any]]

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
        return cast("CachedSidecars | None", done[0])

    return result


def _sidecar_check(
    kube: Connection, client: Any, flags: opt.SidecarFlags, stream: Any
) -> CachedSidecars | None:
    """`sidecar_synced(war)` over the proxy-status source, or None when there is none
    (then a WAR is back once its agent is connected)."""
    from kubectl_war.rollout.synced import CachedSidecars

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


def _confirm(plan: Any) -> None:
    """Show the plan and ask; without a terminal, refuse."""
    from kubectl_war.cli.prompt import confirm
    from kubectl_war.rollout import view

    count = len(plan.members)
    confirm(
        view.plan_text(plan)
        + f"This deletes {count} WAR(s), batch by batch, so their agents onboard again.\n",
        refusal=f"refusing to re-onboard {count} WAR(s) without confirmation: no terminal to "
        "ask on; pass --yes (or preview with --dry-run)",
    )


def _resume_command(
    kube: Connection,
    client: Any,
    groups: tuple[str, ...],
    *,
    all_groups: bool,
    flags: list[tuple[str, str | None, bool]],
) -> str:
    """The command that resumes this rollout (credentials left out)."""
    argv = ["rollout", *groups]
    if all_groups:
        argv.append("--all-groups")
    argv += ["-A"] if kube.all_namespaces else ["-n", client.namespace]
    for flag, value in (
        ("--kubeconfig", kube.kubeconfig),
        ("--context", kube.context),
        ("--cluster", kube.cluster),
        ("--user", kube.user),
        ("--server", kube.server),
    ):
        if value:
            argv += [flag, value]
    for flag, value, wanted in flags:
        if wanted:
            argv += [flag] if value is None else [flag, value]
    # The root command is named as the program was started (`kubectl war` as a plugin).
    program = click.get_current_context().find_root().info_name or "kubectl war"
    return program + " " + " ".join(shlex.quote(a) for a in argv)


# ---- rollout status ---------------------------------------------------------------------


@click.command("status")
@opt.kube_options
@opt.fleet_options()
@_groups
@click.option("-w", "--watch", is_flag=True, help="Block until every connected WAR is up to date.")
@opt.duration_option(
    "--timeout", default=DEFAULT_STATUS_TIMEOUT, help="With --watch: give up after this (0: never)."
)
@opt.output_option(("table", "json"), templates=True)
@opt.grace_option
def status_cmd(
    kube: Connection,
    fleet: Any,
    groups: tuple[str, ...],
    all_groups: bool,
    watch: bool,
    timeout: float | None,
    output: str,
    grace_period: float,
) -> None:
    """Show how far WorkloadGroups' rollouts have come.

    Per WorkloadGroup: connected WARs up to date, outdated and of unknown freshness,
    disconnected agents, WARs missing right now (deleted by a rollout and not back
    yet, or re-created and not connected yet), and connected WARs no OnboardingPolicy
    admits now (BLOCKED: a rollout leaves them out, and deleted they would not come
    back). Exits 0 when every connected WAR is up to date and
    none is missing, else 1; --watch waits for that, printing a line when a group's
    state changes.

    \b
    Examples:
      kubectl war rollout status ratings -n bookinfo
      kubectl war rollout status ratings -n bookinfo --watch --timeout 10m
      kubectl war rollout status --all-groups -A -o json
      kubectl war rollout status --all-groups -A -o custom-columns=GROUP:.name,DONE:.done
      kubectl war rollout status --all-groups -A --all-contexts
    """
    from kubectl_war.cli import contexts
    from kubectl_war.render import write
    from kubectl_war.rollout import status

    _scope(kube, groups, all_groups)
    if watch and fleet.active:
        raise UsageError("--watch follows one cluster: use --context, not a fleet of contexts")

    def read(flags: Connection, client: Any) -> Read:
        namespace = None if flags.all_namespaces else client.namespace
        seen = status.read(client, namespace, groups, grace_period)
        if watch:  # one cluster only (refused above for a fleet)
            _watch_status(client, seen, timeout=timeout, output=output)
        return seen

    outcomes = contexts.each_context(kube, fleet, read)
    t = opt.now()
    found = [(o.context, s) for o in outcomes if o.value is not None for s in o.value.statuses(t)]
    if output != "table":
        named = contexts.contexts_data(outcomes) if fleet.active else None
        opt.write_document(status.as_data(found, named), output, rows="groups")
    elif found or not fleet.active:
        write(status.table(found, all_namespaces=kube.all_namespaces, contexts=fleet.active))
    contexts.finish(outcomes, fleet, failed=not all(s.done for _, s in found))


def _watch_status(client: Any, seen: Read, *, timeout: float | None, output: str) -> None:
    """`rollout status --watch` in one cluster: a line whenever a group's state changes
    (-o json or a template: the counts once, at the end); exits 0 when all are rolled
    out, else 1."""
    from kubectl_war.render import write
    from kubectl_war.rollout import status

    shown: dict[tuple[str, str], str] = {}

    def show(sts: list[GroupStatus]) -> None:
        if output != "table":
            return
        for s in sts:
            msg = s.message()
            if shown.get((s.namespace, s.name)) != msg:
                shown[(s.namespace, s.name)] = msg
                write(msg + "\n")
        sys.stdout.flush()

    done, current = status.follow_until_rolled_out(
        client, seen, now=opt.now, timeout=timeout, show=show
    )
    if output != "table":
        opt.write_document(status.as_data([("", s) for s in current]), output, rows="groups")
    if done:
        sys.exit(0)
    sys.stderr.write("error: timed out waiting for the condition\n")
    sys.exit(1)


rollout_cmd.add_command(status_cmd)
