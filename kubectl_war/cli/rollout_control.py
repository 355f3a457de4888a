"""`kubectl war rollout status|pause|resume|abort|history`: a rollout seen and steered
from any terminal, through the WorkloadGroup's rollout Lease."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

import kubectl_war.kube
from kubectl_war.cli import contexts
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli import rollout_args as ra
from kubectl_war.cli.base import Options
from kubectl_war.durations import human_duration
from kubectl_war.errors import UsageError, WarError
from kubectl_war.kube import KubeError
from kubectl_war.kube.config import Connection
from kubectl_war.render import Table, to_json, write
from kubectl_war.rollout import lease, status
from kubectl_war.rollout.events import Recorder
from kubectl_war.rollout.lease import (
    PREFIX,
    Actor,
    describe_holder,
    holder_of,
    micro_time,
    read_state,
    state_of,
)

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags
    from kubectl_war.kube.client import Kube
    from kubectl_war.rollout.status import GroupStatus, Read


# ---- rollout status -------------------------------------------------------------------------


@dataclass
class StatusOptions(Options):
    """The flags of one `kubectl war rollout status` invocation."""

    ctx: click.Context = field(repr=False)
    kube: Connection
    fleet: FleetFlags
    groups: tuple[str, ...]
    all_groups: bool
    watch: bool
    timeout: float | None
    output: str
    grace_period: float

    def validate(self) -> None:
        ra.check_scope(self.kube, self.groups, self.all_groups)
        if self.watch and self.fleet.active:
            raise UsageError("--watch follows one cluster: use --context, not a fleet of contexts")

    def hint(self, verb: str, namespace: str, group: str) -> str:
        """The command to run next about a group, with this one's connection flags."""
        return ra.command_line(self.ctx, ["rollout", verb, group, "-n", namespace])

    def run(self) -> None:
        def read(flags: Connection, client: Kube) -> Read:
            namespace = None if flags.all_namespaces else client.namespace
            seen = status.read(client, namespace, self.groups, self.grace_period)
            if self.watch:  # one cluster only (refused for a fleet)
                watch_status(client, seen, timeout=self.timeout, output=self.output)
            return seen

        outcomes = contexts.each_context(self.kube, self.fleet, read)
        t = opt.now()
        found = [
            (o.context, s) for o in outcomes if o.value is not None for s in o.value.statuses(t)
        ]
        fleet = self.fleet.active
        if self.output != "table":
            named = contexts.contexts_data(outcomes) if fleet else None
            of.write_document(status.as_data(found, named), self.output, rows="groups")
        elif found or not fleet:
            all_ns = self.kube.all_namespaces
            write(status.table(found, all_namespaces=all_ns, contexts=fleet, hint=self.hint))
        contexts.finish(outcomes, self.fleet, failed=not all(s.done for _, s in found))


def watch_status(client: Kube, seen: Read, *, timeout: float | None, output: str) -> None:
    """`rollout status --watch` in one cluster: a line whenever a group's state changes
    (-o json or a template: the counts once, at the end); exits 0 when all are rolled
    out, else 1."""
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
        of.write_document(status.as_data([("", s) for s in current]), output, rows="groups")
    if done:
        sys.exit(0)
    sys.stderr.write("error: timed out waiting for the condition\n")
    sys.exit(1)


# ---- rollout pause|resume|abort|history -------------------------------------------------------


@dataclass
class ControlOptions(Options):
    """The flags of one `kubectl war rollout pause|resume|abort|history WG` invocation."""

    ctx: click.Context = field(repr=False)
    verb: str
    kube: Connection
    group: str
    output: str = "table"

    def complete(self) -> None:
        """`history` alone prints a document; the others answer in one line."""
        if self.verb != "history":
            self.output = "table"

    def validate(self) -> None:
        if self.kube.all_namespaces:
            raise UsageError(f"rollout {self.verb} names one WorkloadGroup: use -n, not -A")

    def run(self) -> None:
        client = kubectl_war.kube.Kube(self.kube)
        namespace = client.namespace
        wg = _workload_group(client, namespace, self.group)
        if self.verb == "history":
            self._history(client, namespace)
            return
        actor = Actor.here(self.kube.as_user)
        if self.verb == "resume" and self._resume_by_running(client, namespace):
            return
        change = {"pause": _pause, "abort": _abort, "resume": _resume}[self.verb]

        said, reason = lease.ask(
            client, namespace, self.group, lambda obj, state: change(obj, state, actor)
        )
        click.echo(said)
        if reason:
            _event(client, actor, wg, reason, said)

    def _resume_by_running(self, client: Kube, namespace: str) -> bool:
        """A paused rollout that no one holds is resumed by running it here."""
        obj, why = read_state(client, namespace, self.group)
        if why:
            raise WarError(why)
        state = state_of(obj)
        if obj is None or holder_of(obj) or not isinstance(state.get("paused"), dict):
            return False
        if isinstance(state.get("aborted"), dict):
            return False
        args = [str(a) for a in state.get("args") or []]
        argv = [self.group, "-n", namespace, *args, *ra.connection_args(self.ctx)]
        if self.kube.token:
            argv += ["--token", self.kube.token]
        if self.kube.debug:
            argv.append("--debug")
        argv.append("--yes")
        rollout = self.ctx.parent.command if self.ctx.parent is not None else None
        if rollout is None:
            return False
        root = self.ctx.find_root()
        with rollout.make_context("rollout", argv, parent=root) as sub:
            rollout.invoke(sub)
        return True

    def _history(self, client: Kube, namespace: str) -> None:
        obj, why = read_state(client, namespace, self.group)
        if why:
            raise WarError(why)
        rows = history_rows(obj)
        if self.output == "json":
            doc = {
                "kind": "RolloutHistory",
                "namespace": namespace,
                "name": self.group,
                "rollouts": rows,
            }
            write(to_json(doc))
            return
        if not rows:
            write(f"No rollouts recorded for WorkloadGroup {namespace}/{self.group}.\n")
            return
        cells = [
            [
                _short(r.get("started")),
                str(r.get("by") or "<unknown>"),
                str(r.get("generation") or "<unknown>"),
                str(r.get("outcome")),
                _seconds(r.get("seconds")),
            ]
            for r in rows
        ]
        write(Table(["STARTED", "BY", "GENERATION", "OUTCOME", "DURATION"]).render(cells))


def history_rows(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The Lease's last rollouts, newest first; one running now comes first."""
    state = state_of(obj)
    rows = [dict(r) for r in state.get("history") or [] if isinstance(r, dict)]
    if obj is not None and holder_of(obj) and state.get("started"):
        running = {
            "started": state.get("started"),
            "by": state.get("startedBy"),
            "generation": state.get("generation"),
            "outcome": f"running (held by {describe_holder(obj)})",
            "seconds": None,
        }
        rows.insert(0, running)
    return rows


def _short(text: Any) -> str:
    return str(text)[:19] + "Z" if text else "<unknown>"


def _seconds(value: Any) -> str:
    return human_duration(float(value)) if isinstance(value, (int, float)) else "-"


def _workload_group(client: Kube, namespace: str, name: str) -> dict[str, Any]:
    res = client.workloadgroup_resource()
    if res is None:
        raise KubeError(
            "the cluster does not serve networking.istio.io WorkloadGroups: is Istio installed?"
        )
    obj = client.get(res, namespace, name)
    if obj is None:
        raise KubeError(
            f'Error from server (NotFound): {res.qualified} "{name}" not found'
            f" in {namespace} namespace"
        )
    return dict(obj)


def _event(client: Kube, actor: Actor, wg: dict[str, Any], reason: str, message: str) -> None:
    meta = wg.get("metadata") or {}
    key = (str(meta.get("namespace")), str(meta.get("name")))
    recorder = Recorder(client, actor, {key: wg}, sys.stderr.write)
    recorder.emit(*key, reason, message)
    recorder.close()


def _pause(obj: dict[str, Any], state: dict[str, Any], actor: Actor) -> tuple[str, str]:
    ref = _ref(obj)
    if holder_of(obj):
        request = state.get("request") or {}
        if request.get("action") in ("pause", "abort"):
            return (
                f"{request['action']} of the rollout of WorkloadGroup {ref} already asked "
                f"by {request.get('by')}",
                "",
            )
        state["request"] = {"action": "pause", "by": actor.who, "at": micro_time()}
        return (
            f"pause asked of the rollout of WorkloadGroup {ref}, held by {describe_holder(obj)}: "
            "it deletes nothing more and stops once the WARs in flight are back",
            "RolloutPauseAsked",
        )
    if isinstance(state.get("paused"), dict):
        return f"the rollout of WorkloadGroup {ref} is paused already", ""
    raise WarError(f"no rollout of WorkloadGroup {ref} is running: nothing to pause")


def _abort(obj: dict[str, Any], state: dict[str, Any], actor: Actor) -> tuple[str, str]:
    ref = _ref(obj)
    if holder_of(obj):
        state["request"] = {"action": "abort", "by": actor.who, "at": micro_time()}
        return (
            f"abort asked of the rollout of WorkloadGroup {ref}, held by {describe_holder(obj)}: "
            "it deletes nothing more and stops once the WARs in flight are back",
            "RolloutAbortAsked",
        )
    if any(state.get(k) for k in ("paused", "canary", "checking", "inFlight")):
        state["aborted"] = {"by": actor.who, "at": micro_time()}
        for name in ("paused", "canary", "checking", "batch", "batches", "done"):
            state.pop(name, None)
        return (
            f"rollout of WorkloadGroup {ref} aborted: a later rollout starts anew",
            "RolloutAborted",
        )
    raise WarError(f"no rollout of WorkloadGroup {ref} to abort")


def _resume(obj: dict[str, Any], state: dict[str, Any], actor: Actor) -> tuple[str, str]:
    ref = _ref(obj)
    if holder_of(obj):
        request = state.get("request") or {}
        if request.get("action") == "pause":
            state.pop("request", None)
            return f"pause of the rollout of WorkloadGroup {ref} withdrawn: it goes on", ""
        return (
            f"the rollout of WorkloadGroup {ref} is running (held by {describe_holder(obj)}): "
            "nothing to resume",
            "",
        )
    aborted = state.get("aborted")
    if isinstance(aborted, dict):
        raise WarError(
            f"the last rollout of WorkloadGroup {ref} was aborted by {aborted.get('by')}: "
            "nothing to resume (`rollout` starts a new one)"
        )
    raise WarError(f"no paused rollout of WorkloadGroup {ref} to resume")


def _ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{str(meta.get('name'))[len(PREFIX) :]}"
