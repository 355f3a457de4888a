"""A rollout shared through the cluster: its Leases taken (one per WorkloadGroup), its
state kept in them (`LeaseJournal`), renewed while it runs, controls from elsewhere
(`rollout pause|abort`) heeded, Events posted, and the Leases let go at the end with the
outcome in their history."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kubectl_war.rollout import progress as pr
from kubectl_war.rollout.events import Recorder
from kubectl_war.rollout.journal import Journal
from kubectl_war.rollout.lease import (
    Actor,
    Lease,
    Renewer,
    finish,
    micro_time,
    read_state,
    state_of,
)
from kubectl_war.rollout.plan import Batch, GroupPlan
from kubectl_war.rollout.progressive import Aborted, Pause
from kubectl_war.rollout.states import EventKind

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

Key = tuple[str, str]

# The journal's parts of a Lease's state, by the state's key.
_PARTS = ("inFlight", "paused", "canary", "checking")


class LeaseJournal(Journal):
    """The journal kept in the groups' Leases rather than in a local file: a save writes
    each Lease whose part changed (one PUT, with its resourceVersion), before the caller
    goes on (before a batch's DELETEs, for `record`)."""

    def __init__(
        self,
        states: Mapping[Key, dict[str, Any]],
        *,
        grace_seconds: float,
        leases: Mapping[Key, Lease] | None = None,
    ) -> None:
        self._states = states
        self._leases = dict(leases or {})
        self._written: dict[Key, str] = {}
        super().__init__(None, grace_seconds=grace_seconds)

    def _load(self) -> None:
        for (ns, group), state in self._states.items():
            key = self._key(ns, group)
            where = {"namespace": ns, "group": group}
            for entry in state.get("inFlight") or []:
                if isinstance(entry, dict) and entry.get("name"):
                    self._data[self._key(ns, str(entry["name"]))] = {**entry, **where}
            for part, into in (("paused", self._paused), ("checking", self._checking)):
                if isinstance(state.get(part), dict):
                    into[key] = {**state[part], **where}
            if state.get("canary"):
                self._canaries[key] = {**where, "generation": str(state["canary"])}
            self._written[(ns, group)] = json.dumps(self._part(ns, group), sort_keys=True)

    def _part(self, ns: str, group: str) -> dict[str, Any]:
        key = self._key(ns, group)

        def bare(record: dict[str, Any] | None) -> dict[str, Any] | None:
            if record is None:
                return None
            return {k: v for k, v in record.items() if k not in ("namespace", "group")}

        flight = [
            {k: v for k, v in e.items() if k not in ("namespace", "group")}
            for e in self._data.values()
            if e.get("namespace") == ns and e.get("group") == group
        ]
        canary = self._canaries.get(key)
        return {
            "inFlight": sorted(flight, key=lambda e: str(e.get("name"))),
            "paused": bare(self._paused.get(key)),
            "canary": canary.get("generation") if canary else None,
            "checking": bare(self._checking.get(key)),
        }

    def _save(self) -> None:
        self._dirty = False
        for (ns, group), lease in self._leases.items():
            part = self._part(ns, group)
            text = json.dumps(part, sort_keys=True)
            if text == self._written.get((ns, group)):
                continue
            lease.write(lambda state, part=part: _apply(state, part))  # type: ignore[misc]
            self._written[(ns, group)] = text


def _apply(state: dict[str, Any], part: Mapping[str, Any]) -> None:
    for name in _PARTS:
        value = part.get(name)
        if value:
            state[name] = value
        else:
            state.pop(name, None)


class Shared:
    """The cluster side of one rollout run: see the module's docstring.

    Args:
        groups: the WorkloadGroup objects by (namespace, name), for Events.
        versions: each group's generation as planned.
        say: prints a line of the rollout's progress (any thread).
        warn: prints a warning on stderr.
    """

    def __init__(
        self,
        kube: Kube,
        actor: Actor,
        duration: float,
        *,
        groups: Mapping[Key, dict[str, Any]],
        versions: Mapping[Key, str],
        say: Callable[[str], None],
        warn: Callable[[str], object],
    ) -> None:
        self.kube = kube
        self.actor = actor
        self.duration = duration
        self.versions = dict(versions)
        self.say = say
        self.leases: dict[Key, Lease] = {}
        self.recorder = Recorder(kube, actor, groups, warn)
        self.requests: dict[Key, dict[str, Any]] = {}
        self.done: set[Key] = set()
        self.current: Key | None = None
        self.done_batches: dict[Key, int] = {}
        self.stop_asked: Callable[[], None] = lambda: None
        self._wake = threading.Event()
        self._renewer: Renewer | None = None

    # -- taking ------------------------------------------------------------------------

    def take(self, keys: list[Key], args: list[str]) -> None:
        """Take every group's Lease (or none: those taken are let go again), then say in
        each that this run started. Raises `LeaseRefused`."""
        try:
            for key in keys:
                lease = Lease(self.kube, key[0], key[1], self.actor, self.duration)
                taken = lease.acquire()
                self.leases[key] = lease
                if taken not in ("new", "free"):
                    self._took_over(lease, taken)
        except BaseException:
            for lease in self.leases.values():
                lease.release(lambda state: None)
            self.leases.clear()
            raise
        for key, lease in self.leases.items():
            self._started(key, lease, args)
        self._renewer = Renewer(list(self.leases.values()), self._on_request).__enter__()

    def _took_over(self, lease: Lease, previous: str) -> None:
        self.say(
            f"WorkloadGroup {lease.ref}: took over the rollout from {previous} (not renewed "
            f"for {lease.unrenewed:g}s): going on from its recorded state"
        )
        self.recorder.emit(
            lease.namespace, lease.group, "RolloutTakenOver", f"taken over from {previous}"
        )

    def _started(self, key: Key, lease: Lease, args: list[str]) -> None:
        state = lease.state
        aborted = state.get("aborted")
        if isinstance(aborted, dict):
            self.say(
                f"WorkloadGroup {lease.ref}: the last rollout was aborted by {aborted.get('by')}"
                f" at {str(aborted.get('at'))[:19]}Z: starting anew"
            )
            for name in ("aborted", "paused", "canary", "checking", "done"):
                state.pop(name, None)
        if isinstance(state.get("paused"), dict):
            by = state["paused"].get("by")
            self.recorder.emit(
                key[0],
                key[1],
                "RolloutResumed",
                "resumed" + (f" after a pause by {by}" if by else ""),
            )
        if state.get("done") and state.get("generation") == self.versions.get(key, ""):
            # The same rollout goes on: its batches are numbered on from there.
            self.done_batches[key] = int(state["done"])
        for name in ("batch", "batches", "done", "checksPassed"):
            state.pop(name, None)
        state.update(
            started=micro_time(),
            startedBy=self.actor.who,
            generation=self.versions.get(key, ""),
            args=args,
        )
        lease.write()
        gen = self.versions.get(key, "")
        self.recorder.emit(key[0], key[1], "RolloutStarted", f"rollout started (generation {gen})")

    def journal(self, grace_seconds: float) -> LeaseJournal:
        states = {key: lease.state for key, lease in self.leases.items()}
        journal = LeaseJournal(states, grace_seconds=grace_seconds, leases=self.leases)
        journal.done_batches = dict(self.done_batches)
        return journal

    # -- while it runs -----------------------------------------------------------------

    def on_progress(self, ev: pr.Event) -> None:
        """Keep the current batch in the state (written with the next save), follow the
        current group, post the Events progress makes."""
        key = (ev.group.namespace, ev.group.name)
        lease = self.leases.get(key)
        if ev.kind == EventKind.GROUP:
            self.current = key
            if self._renewer is not None and lease is not None:
                self._renewer.current = lease
        elif ev.kind == EventKind.BATCH and ev.batch is not None and lease is not None:
            lease.state.update(batch=ev.batch.number, batches=ev.group.total)
        elif ev.kind == EventKind.BATCH_DONE and ev.batch is not None and lease is not None:
            lease.state["done"] = ev.batch.number
        elif ev.kind == EventKind.CHECK and ev.state == "passed" and lease is not None:
            if ev.batch is not None:
                lease.state["checksPassed"] = ev.batch.number  # written with the next save
        elif ev.kind == EventKind.GROUP_DONE:
            self.done.add(key)
        self.recorder.on_progress(ev)

    def _on_request(self, lease: Lease, request: dict[str, Any]) -> None:
        action = request.get("action")
        if action not in ("pause", "abort"):
            return
        self.requests[(lease.namespace, lease.group)] = request
        self.stop_asked()
        self._wake.set()
        self.say(
            f"{action} asked by {request.get('by')}: no further WAR will be deleted; "
            "waiting for the WARs in flight"
        )

    def sleep(self, seconds: float) -> None:
        """`--pause` and `--canary-pause`: cut short by a pause or an abort."""
        self._wake.wait(seconds)

    def requested(self, gp: GroupPlan, batch: Batch | None = None) -> None:
        """Before a batch: stop as asked from elsewhere (raises `Pause` or `Aborted`)."""
        if not self.requests:
            return
        request = next(iter(self.requests.values()))
        by = str(request.get("by") or "someone")
        where = f"batch {batch.number}/{gp.total}" if batch is not None else "the next batch"
        record = {
            "batch": batch.number if batch is not None else gp.total,
            "batches": gp.total,
            "wars": [],
            "generation": self.versions.get((gp.namespace, gp.name), ""),
            "back": False,
            "by": by,
        }
        if request.get("action") == "abort":
            message = f"aborted by {by} before {where} of WorkloadGroup {gp.ref}"
            raise Aborted(message, {**record, "reason": "aborted", "message": message})
        message = (
            f"paused by {by} before {where} of WorkloadGroup {gp.ref}: nothing more was deleted"
        )
        raise Pause(message, {**record, "reason": "paused", "message": message})

    # -- letting go --------------------------------------------------------------------

    def release(self, result: pr.Result | None) -> None:
        """Write each group's outcome into its Lease's history and let the Leases go."""
        if self._renewer is not None:
            self._renewer.__exit__()
        for key, lease in self.leases.items():
            outcome, reason = self._outcome(key, result)
            lease.release(lambda state, k=key, o=outcome: self._close(k, state, o))  # type: ignore[misc]
            if reason:
                warn = reason not in ("RolloutCompleted", "RolloutPaused")
                self.recorder.emit(key[0], key[1], reason, outcome, warning=warn)
        self.recorder.close()

    def _outcome(self, key: Key, result: pr.Result | None) -> tuple[str, str]:
        if key in self.done:
            return "complete", "RolloutCompleted"
        if result is None or key != self.current:
            return "not started", ""
        request = self.requests.get(key) or next(iter(self.requests.values()), {})
        if result.outcome == pr.ABORTED:
            return f"aborted by {request.get('by')}", "RolloutAborted"
        if result.outcome == pr.PAUSED:
            by = request.get("by") if request else None
            return ("paused" + (f" by {by}" if by else "")), "RolloutPaused"
        if result.outcome == pr.INTERRUPTED:
            return "interrupted", "RolloutInterrupted"
        first = result.message.split("\n", 1)[0]
        return f"failed: {first}", "RolloutFailed"

    def _close(self, key: Key, state: dict[str, Any], outcome: str) -> None:
        if outcome == "not started":
            state.pop("started", None)
            return
        if outcome.startswith("aborted"):
            request = self.requests.get(key) or next(iter(self.requests.values()), {})
            state["aborted"] = {"by": request.get("by"), "at": micro_time()}
            for name in ("paused", "canary", "checking"):
                state.pop(name, None)
        elif outcome.startswith("paused") and isinstance(state.get("paused"), dict):
            asked = self.requests.get(key)
            if asked:
                state["paused"]["by"] = asked.get("by")
        if outcome == "complete":
            for name in ("batch", "batches", "done", "checksPassed", "args", "takenOver"):
                state.pop(name, None)
        finish(state, outcome)


def read_states(
    kube: Kube, keys: list[Key]
) -> tuple[dict[Key, dict[str, Any]], dict[Key, dict[str, Any]]]:
    """Each group's Lease state and object, read (no Lease taken): for a dry run and
    `rollout status`. A Lease that cannot be read is left out."""
    states, objs = {}, {}
    for ns, group in keys:
        obj, _ = read_state(kube, ns, group)
        if obj is not None:
            states[(ns, group)] = state_of(obj)
            objs[(ns, group)] = obj
    return states, objs


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
