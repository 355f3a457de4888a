"""`kubectl war rollout`: re-onboard outdated workloads batch by batch, and
`kubectl war rollout status`: how far that has come."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import click

from kubectl_war import gcpause
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli.base import execute
from kubectl_war.cli.rollout_control import ControlOptions, StatusOptions
from kubectl_war.cli.rollout_gate import progressive_options
from kubectl_war.cli.rollout_metrics import metrics_options
from kubectl_war.cli.rollout_run import RolloutOptions
from kubectl_war.durations import parse_timestamp
from kubectl_war.errors import UsageError
from kubectl_war.rollout import (
    DEFAULT_LEASE_DURATION,
    DEFAULT_MAX_UNAVAILABLE,
    DEFAULT_PAUSE,
    DEFAULT_STATUS_TIMEOUT,
    DEFAULT_TIMEOUT,
)
from kubectl_war.rollout.plan import parse_max_unavailable

if TYPE_CHECKING:
    from datetime import datetime

    from kubectl_war.cli.connection_flags import F
    from kubectl_war.rollout.plan import MaxUnavailable


def _max_unavailable(ctx: click.Context, param: click.Parameter, value: str) -> MaxUnavailable:
    return parse_max_unavailable(value)


def _joined_before(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    if value is None:
        return None

    parsed = parse_timestamp(value)
    if parsed is None:
        raise UsageError(
            f'invalid value "{value}" for --joined-before: expected an RFC 3339 time '
            "such as 2024-05-16T12:00:00Z"
        )
    return parsed


#: `rollout`'s --help, in a docstring's form (as click reads a command's docstring).
ROLLOUT_HELP = """Re-onboard outdated workloads of WorkloadGroups, a few at a time.

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

One rollout of a WorkloadGroup at a time: its lock and state live in a Lease in
the group's namespace, written before every DELETE and renewed while it runs. A
second run exits 1 naming the holder; one whose holder stopped renewing for
--lease-duration takes it over and goes on from the recorded state. Each step is
an Event on the WorkloadGroup.

Progressive: --canary re-onboards a few WARs first and pauses (asks on a
terminal; without one, waits --canary-pause or stops for a re-run to continue);
each --check runs after every batch is back and must exit 0 for the next to go;
--approve-each asks before every batch. `rollout status` shows a paused rollout.

Metric gates: each --analysis is measured in Prometheus after every batch is
back (and its checks passed); --alerts-firing holds each batch while any of
those alerts fires.

\b
From any terminal:
  kubectl war rollout status WORKLOADGROUP... -n NS [--watch]
  kubectl war rollout pause|resume|abort WORKLOADGROUP -n NS
  kubectl war rollout history WORKLOADGROUP -n NS

\b
Examples:
  kubectl war rollout ratings -n bookinfo --dry-run
  kubectl war rollout ratings -n bookinfo --max-unavailable 2 --zone-by-zone --yes
  kubectl war rollout --all-groups -A --max-unavailable 25% --pause 30s
  kubectl war rollout ratings -n bookinfo --canary 1 --check ./health.sh --yes
  kubectl war rollout ratings -n bookinfo --analysis 'success-rate>=0.99' --yes
"""


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


def _groups(f: F) -> F:
    """The WorkloadGroups `rollout` and `rollout status` act on: named, or --all-groups."""
    f = click.option(
        "--all-groups", is_flag=True, help="Every WorkloadGroup in the namespace (-A: all)."
    )(f)
    return click.argument(
        "groups", nargs=-1, metavar="[WORKLOADGROUP]...", callback=opt.object_names("WorkloadGroup")
    )(f)


@click.command("rollout", cls=RolloutGroup, help=ROLLOUT_HELP)
@cf.kube_options
@cf.fleet_options(
    single="its --max-unavailable budget, its batches and its rollout lock are one cluster's"
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
@click.option(
    "--no-lock",
    is_flag=True,
    help="Run without the rollout lock (a Lease per WorkloadGroup): unshared, its state "
    "in a local journal only, unseen by `rollout status|pause|abort` elsewhere.",
)
@opt.duration_option(
    "--lease-duration",
    default=DEFAULT_LEASE_DURATION,
    help="How long the rollout lock outlives its holder's last renewal: another run takes "
    "it over after seeing it unrenewed this long.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; delete nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting.")
@of.output_option(
    ("text", "json"),
    help="json: the plan (--dry-run) or the final summary as data; progress goes to stderr.",
)
@opt.grace_option
@gcpause.paused
@click.pass_context
def rollout_cmd(ctx: click.Context, /, **flags: Any) -> None:
    execute(RolloutOptions.from_flags(ctx, flags))


# ---- rollout status ---------------------------------------------------------------------


@click.command("status")
@cf.kube_options
@cf.fleet_options()
@_groups
@click.option("-w", "--watch", is_flag=True, help="Block until every connected WAR is up to date.")
@opt.duration_option(
    "--timeout", default=DEFAULT_STATUS_TIMEOUT, help="With --watch: give up after this (0: never)."
)
@of.output_option(("table", "json"), templates=True)
@opt.grace_option
@click.pass_context
def status_cmd(ctx: click.Context, /, **flags: Any) -> None:
    """Show how far WorkloadGroups' rollouts have come.

    Per WorkloadGroup: connected WARs up to date, outdated and of unknown freshness,
    disconnected agents, WARs missing right now (deleted by a rollout and not back
    yet, or re-created and not connected yet), and connected WARs no OnboardingPolicy
    admits now (BLOCKED: a rollout leaves them out, and deleted they would not come
    back). Exits 0 when every connected WAR is up to date and
    none is missing, else 1; --watch waits for that, printing a line when a group's
    state changes.

    A shared rollout (its Lease readable: get on leases) shows who holds it and
    since when, its batch, the WARs in flight, and whether it was paused or aborted
    and by whom, from any machine.

    \b
    Examples:
      kubectl war rollout status ratings -n bookinfo
      kubectl war rollout status ratings -n bookinfo --watch --timeout 10m
      kubectl war rollout status --all-groups -A -o json
      kubectl war rollout status --all-groups -A -o custom-columns=GROUP:.name,DONE:.done
      kubectl war rollout status --all-groups -A --all-contexts
    """
    execute(StatusOptions(ctx=ctx, **flags))


def _control(verb: str, purpose: str, examples: str, *, output: bool = False) -> click.Command:
    """`rollout pause|resume|abort|history WORKLOADGROUP -n NS`."""

    def command(**flags: Any) -> None:
        ctx = click.get_current_context()
        output = flags.pop("output", "table")
        execute(ControlOptions(ctx=ctx, verb=verb, output=output, **flags))

    f: Callable[..., None] = command
    if output:
        f = of.output_option(("table", "json"))(f)
    f = click.argument("group", metavar="WORKLOADGROUP", callback=_one_name)(f)
    f = cf.kube_options(f)
    return click.command(verb, help=f"{purpose}\n\n\b\nExamples:\n{examples}")(f)


def _one_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return str(opt.object_names("WorkloadGroup")(ctx, param, (value,))[0])


pause_cmd = _control(
    "pause",
    "Pause a WorkloadGroup's running rollout, from any terminal.\n\n"
    "The rollout sees it within 2 seconds, deletes nothing more, waits for the WARs in "
    "flight and stops; `rollout resume` (or the same rollout command) continues it.",
    "  kubectl war rollout pause ratings -n bookinfo",
)
resume_cmd = _control(
    "resume",
    "Resume a paused rollout of a WorkloadGroup, from any terminal.\n\n"
    "A pause not yet heeded is withdrawn; a paused rollout that no one holds is run "
    "here, with the flags it was started with (and this command's connection flags).",
    "  kubectl war rollout resume ratings -n bookinfo",
)
abort_cmd = _control(
    "abort",
    "Abort a WorkloadGroup's rollout, from any terminal.\n\n"
    "A running rollout sees it within 2 seconds, deletes nothing more, waits for the "
    "WARs in flight and stops (exit 1); a paused one is ended. A later rollout starts "
    "anew (no canary or batch carried over) and says so.",
    "  kubectl war rollout abort ratings -n bookinfo",
)
history_cmd = _control(
    "history",
    "List a WorkloadGroup's last 10 rollouts.\n\n"
    "Kept in its rollout Lease: when each started, by whom, the WorkloadGroup "
    "generation, its outcome and how long it took; a rollout running now comes first.",
    "  kubectl war rollout history ratings -n bookinfo",
    output=True,
)

for _sub in (status_cmd, pause_cmd, resume_cmd, abort_cmd, history_cmd):
    rollout_cmd.add_command(_sub)
