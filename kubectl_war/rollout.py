"""Re-onboarding outdated workloads batch by batch: a pure planner and an executor.

After a WorkloadGroup changes, each machine keeps the old config until its WAR is
deleted and its agent onboards again. The planner (pure) decides which WARs go and
in which batches; the executor deletes one batch at a time through
`deletion.delete_wars` (uid preconditions), then waits, by watch, until every WAR
of the batch is back: same name, new uid, agent connected and, when a sidecar
source exists, its sidecar SYNCED. It never lets more of a group be unavailable
than `--max-unavailable`, counting WARs that were already unavailable.

"Unavailable" means expected back but not healthy: a WAR deleted (by this run or,
per the journal, an earlier one) and not back yet, a WAR that vanished since it was
planned, and a WAR whose agent has not connected yet (no AgentConnected condition,
or Unknown). Disconnected agents (False) are outside the group's capacity: they
cannot re-onboard, are never deleted, and the onboarding endpoint removes them
after the grace period.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_war.assess import Facts, countdown
from kubectl_war.errors import UsageError, WarError
from kubectl_war.freshness import Freshness
from kubectl_war.war import War

DEFAULT_MAX_UNAVAILABLE = "10%"

# Why a WAR of a group is left out of the plan.
DISCONNECTED = "disconnected"
NOT_CONNECTED = "agent not connected yet"
UP_TO_DATE = "up to date"
UNKNOWN_FRESHNESS = "freshness unknown"
NO_GROUP = "WorkloadGroup gone"
JOINED_LATER = "joined after the rollout started"

# What a member of a batch is doing, as the executor last saw it.
PENDING = "pending"
DELETED = "deleted"
OLD_PRESENT = "deleting"
RECREATED = "re-created"
SYNCING = "agent connected"
BACK = "back"
GONE = "gone"
NOT_DELETED = "not deleted"
SKIPPED = "skipped"
FAILED = "failed"
NOT_STARTED = "not started"

# What a batch member (or an unavailable WAR) is waiting on, by state.
WAITING_ON = {
    PENDING: "not deleted yet",
    DELETED: "not re-created yet",
    OLD_PRESENT: "old WAR still present",
    RECREATED: "agent not connected yet",
    SYNCING: "sidecar not SYNCED yet",
}

# How the rollout ended.
COMPLETE = "complete"
STOPPED = "failed"
INTERRUPTED = "interrupted"


# ---- --max-unavailable ------------------------------------------------------------------


@dataclass(frozen=True)
class MaxUnavailable:
    """`--max-unavailable`: a count, or a percentage of a group's connected WARs."""

    amount: int
    percent: bool

    def __str__(self) -> str:
        return f"{self.amount}%" if self.percent else str(self.amount)

    def of(self, connected: int) -> int:
        """The bound for a group with `connected` WARs: rounded down, at least 1."""
        if not self.percent:
            return self.amount
        return max(1, connected * self.amount // 100)


def parse_max_unavailable(text: str) -> MaxUnavailable:
    """`2` or `25%`; 0, more than 100% and anything else are usage errors."""
    raw = text.strip()
    percent = raw.endswith("%")
    digits = raw[:-1] if percent else raw
    if not (digits.isascii() and digits.isdigit()):
        raise UsageError(
            f'invalid value "{text}" for --max-unavailable: '
            "expected a number of WARs (2) or a percentage of the connected ones (10%)"
        )
    amount = int(digits)
    if amount < 1:
        raise UsageError(
            f'invalid value "{text}" for --max-unavailable: must be at least 1 '
            "(a rollout that may take nothing down cannot delete anything)"
        )
    if percent and amount > 100:
        raise UsageError(f'invalid value "{text}" for --max-unavailable: at most 100%')
    return MaxUnavailable(amount, percent)


# ---- the plan (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A WAR the plan deletes, as it was when planned."""

    war: War = field(compare=False, repr=False)
    namespace: str
    name: str
    uid: str
    zone: str | None
    instance: str | None
    freshness: str | None


@dataclass(frozen=True)
class LeftOut:
    """A WAR of a planned group that the rollout does not touch, and why."""

    war: War = field(compare=False, repr=False)
    name: str
    reason: str
    removal_in: float | None = None

    @property
    def why(self) -> str:
        """`disconnected (3m20s left)`: the reason, with the grace countdown when known."""
        if self.reason == DISCONNECTED and self.removal_in is not None:
            return f"{self.reason} (removal {countdown(self.removal_in)})"
        return self.reason


@dataclass(frozen=True)
class Batch:
    number: int
    members: tuple[Member, ...]
    zone: str | None = None  # set with --zone-by-zone


@dataclass
class GroupPlan:
    """One WorkloadGroup's part of the plan.

    Attributes:
        connected: the group's WARs whose agent is connected (the percentage's base).
        max_unavailable: how many of the group may be unavailable at once.
        joining: WARs whose agent has not connected yet: unavailable already.
        missing: WARs an earlier rollout deleted that are not back: unavailable too.
    """

    namespace: str
    name: str
    connected: int
    max_unavailable: int
    batches: list[Batch]
    left_out: list[LeftOut]
    joining: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def unavailable(self) -> int:
        return len(self.joining) + len(self.missing)

    @property
    def batch_size(self) -> int:
        return max(1, self.max_unavailable - self.unavailable)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def members(self) -> list[Member]:
        return [m for b in self.batches for m in b.members]


@dataclass
class Plan:
    groups: list[GroupPlan]
    max_unavailable: MaxUnavailable
    zone_by_zone: bool = False

    @property
    def members(self) -> list[Member]:
        return [m for g in self.groups for m in g.members]

    @property
    def empty(self) -> bool:
        return not self.members


@dataclass(frozen=True)
class Selection:
    """Which connected WARs a rollout re-onboards (the plan's rule, reused before each batch)."""

    include_up_to_date: bool = False
    include_unknown: bool = False
    joined_before: datetime | None = None

    def reason_out(self, war: War, facts: Facts) -> str | None:
        """None when the WAR is to be re-onboarded, else why it is left out."""
        if war.is_disconnected:
            return DISCONNECTED
        if not war.is_connected:
            return NOT_CONNECTED
        if self.joined_before is not None and (
            war.created is None or war.created >= self.joined_before
        ):
            return JOINED_LATER
        fresh = facts.freshness
        if fresh is Freshness.OUTDATED:
            return None
        if fresh is Freshness.UP_TO_DATE:
            return None if self.include_up_to_date else UP_TO_DATE
        if fresh is Freshness.NO_GROUP:
            return NO_GROUP
        return None if self.include_unknown else UNKNOWN_FRESHNESS


def make_plan(
    wars: Iterable[War],
    groups: Sequence[tuple[str, str]],
    facts: Callable[[War], Facts],
    *,
    max_unavailable: MaxUnavailable,
    selection: Selection = Selection(),
    zone_by_zone: bool = False,
    missing: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> Plan:
    """Batches for each group, in the order the groups are given.

    Within a group, members are ordered by zone then name. With `zone_by_zone` each
    zone is finished before the next starts and no batch spans two zones; without
    it, zones are interleaved so each batch takes as little as possible from any
    one zone. A batch holds at most the group's max-unavailable minus the WARs
    already unavailable (at least 1: the executor then waits for them to recover).
    `missing` names, by (namespace, group), WARs deleted earlier and not back.
    """
    by_group: dict[tuple[str, str], list[War]] = {}
    for war in wars:
        if war.group is not None:
            by_group.setdefault((war.namespace, war.group), []).append(war)
    out = []
    for ns, name in groups:
        members: list[Member] = []
        left: list[LeftOut] = []
        joining: list[str] = []
        group_wars = sorted(by_group.get((ns, name), []), key=lambda w: w.name)
        for war in group_wars:
            f = facts(war)
            why = selection.reason_out(war, f)
            if why is None:
                ident = war.identity
                members.append(
                    Member(
                        war,
                        war.namespace,
                        war.name,
                        war.uid,
                        ident.zone_label,
                        ident.instance,
                        f.freshness.value if f.freshness is not None else None,
                    )
                )
                continue
            if why == NOT_CONNECTED:
                joining.append(war.name)
            left.append(LeftOut(war, war.name, why, f.removal_in if why == DISCONNECTED else None))
        connected = sum(1 for w in group_wars if w.is_connected)
        present = {w.name for w in group_wars}
        gone = sorted(n for n in (missing or {}).get((ns, name), ()) if n not in present)
        gp = GroupPlan(ns, name, connected, max_unavailable.of(connected), [], left, joining, gone)
        gp.batches = _batches(members, gp.batch_size, zone_by_zone)
        out.append(gp)
    return Plan(out, max_unavailable, zone_by_zone)


def _zone_key(zone: str) -> tuple[bool, str]:
    return (zone == "", zone)  # WARs with no known zone last


def _batches(members: list[Member], size: int, zone_by_zone: bool) -> list[Batch]:
    by_zone: dict[str, list[Member]] = {}
    for m in members:
        by_zone.setdefault(m.zone or "", []).append(m)
    zones = sorted(by_zone, key=_zone_key)
    batches: list[Batch] = []
    if zone_by_zone:
        for zone in zones:
            queue = by_zone[zone]
            for i in range(0, len(queue), size):
                chunk = tuple(queue[i : i + size])
                batches.append(Batch(len(batches) + 1, chunk, zone or None))
        return batches
    order: list[Member] = []
    queues = [list(by_zone[z]) for z in zones]
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    for i in range(0, len(order), size):
        batches.append(Batch(len(batches) + 1, tuple(order[i : i + size])))
    return batches


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as data (`--dry-run -o json`)."""
    return {
        "kind": "RolloutPlan",
        "maxUnavailable": str(plan.max_unavailable),
        "zoneByZone": plan.zone_by_zone,
        "groups": [
            {
                "namespace": g.namespace,
                "name": g.name,
                "connected": g.connected,
                "maxUnavailable": g.max_unavailable,
                "alreadyUnavailable": sorted(g.joining + g.missing),
                "batches": [
                    {
                        "number": b.number,
                        **({"zone": b.zone} if b.zone else {}),
                        "members": [_member_dict(m) for m in b.members],
                    }
                    for b in g.batches
                ],
                "leftOut": [_left_dict(x) for x in g.left_out],
            }
            for g in plan.groups
        ],
    }


def _member_dict(m: Member) -> dict[str, Any]:
    return {
        "name": m.name,
        "uid": m.uid,
        "zone": m.zone,
        "instance": m.instance,
        "upToDate": m.freshness,
    }


def _left_dict(x: LeftOut) -> dict[str, Any]:
    out: dict[str, Any] = {"name": x.name, "reason": x.reason}
    if x.removal_in is not None:
        out["removalInSeconds"] = round(x.removal_in)
    return out


# ---- rollout status (pure) --------------------------------------------------------------


@dataclass
class GroupStatus:
    """How far a WorkloadGroup's rollout has come (`kubectl war rollout status`)."""

    namespace: str
    name: str
    up_to_date: int = 0
    outdated: int = 0
    unknown: int = 0
    disconnected: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def connected(self) -> int:
        return self.up_to_date + self.outdated + self.unknown

    @property
    def done(self) -> bool:
        """Every connected WAR is up to date and none is missing."""
        return self.outdated == 0 and self.unknown == 0 and not self.missing

    def message(self) -> str:
        if self.done:
            return f'WorkloadGroup "{self.name}" successfully rolled out'
        parts = [f"{self.up_to_date} of {self.connected} connected WARs up to date"]
        if self.unknown:
            parts.append(f"{self.unknown} of unknown freshness")
        if self.missing:
            parts.append(f"{len(self.missing)} missing")
        return f'Waiting for WorkloadGroup "{self.name}" rollout to finish: ' + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "upToDate": self.up_to_date,
            "outdated": self.outdated,
            "unknown": self.unknown,
            "disconnected": self.disconnected,
            "missing": list(self.missing),
            "rolledOut": self.done,
        }


def group_status(
    wars: Iterable[War],
    groups: Sequence[tuple[str, str]],
    facts: Callable[[War], Facts],
    missing: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> list[GroupStatus]:
    """Counts per group. `missing` names WARs known to be deleted and not back
    (from the journal); WARs whose agent has not connected yet are missing too."""
    wars = list(wars)
    out = {key: GroupStatus(*key) for key in groups}
    for war in wars:
        st = out.get((war.namespace, war.group or ""))
        if st is None:
            continue
        if war.is_disconnected:
            st.disconnected += 1
        elif not war.is_connected:
            st.missing.append(war.name)
        else:
            fresh = facts(war).freshness
            if fresh is Freshness.UP_TO_DATE:
                st.up_to_date += 1
            elif fresh is Freshness.OUTDATED:
                st.outdated += 1
            else:
                st.unknown += 1
    present = {(w.namespace, w.name) for w in wars} if missing else set()
    for key, names in (missing or {}).items():
        st = out.get(key)
        if st is None:
            continue
        for name in names:
            if (key[0], name) not in present and name not in st.missing:
                st.missing.append(name)
    for st in out.values():
        st.missing.sort()
    return list(out.values())


# ---- the journal: what a rollout deleted that is not back yet ---------------------------


class Journal:
    """WARs deleted by a rollout and not seen back yet, kept in a small JSON file.

    Written before each DELETE and cleared when the WAR is back, so a rollout that
    stops or is interrupted leaves behind exactly what is still in flight: a re-run
    (or `rollout status`) counts those as missing. An entry older than the grace
    period is forgotten: an agent alive when its WAR was deleted is back by then,
    and the onboarding endpoint itself forgets agents that stay away that long.
    """

    def __init__(
        self, path: str | None, *, grace_seconds: float, wall: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.grace = grace_seconds
        self.wall = wall
        self._data: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path:
            return {}
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}
        entries = data.get("inFlight") if isinstance(data, dict) else None
        return {k: v for k, v in (entries or {}).items() if isinstance(v, dict)}

    def _save(self) -> None:
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"inFlight": self._data}, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)  # atomic: an interrupted write never leaves half a file

    @staticmethod
    def _key(namespace: str, name: str) -> str:
        return f"{namespace}/{name}"

    def in_flight(self, namespace: str, group: str) -> list[tuple[str, str]]:
        """(name, uid) of the group's WARs deleted within the grace period and not back."""
        now = self.wall()
        out = []
        for entry in self._data.values():
            if entry.get("namespace") != namespace or entry.get("group") != group:
                continue
            if now - float(entry.get("deletedAt") or 0) > self.grace:
                continue
            out.append((str(entry.get("name")), str(entry.get("uid"))))
        return sorted(out)

    def missing_by_group(self) -> dict[tuple[str, str], list[str]]:
        """In-flight names by (namespace, group), within the grace period."""
        out: dict[tuple[str, str], list[str]] = {}
        now = self.wall()
        for e in self._data.values():
            if now - float(e.get("deletedAt") or 0) <= self.grace:
                key = (str(e.get("namespace")), str(e.get("group")))
                out.setdefault(key, []).append(str(e.get("name")))
        return out

    def record(self, group: str, wars: Sequence[War]) -> None:
        now = self.wall()
        for war in wars:
            self._data[self._key(war.namespace, war.name)] = {
                "namespace": war.namespace,
                "group": group,
                "name": war.name,
                "uid": war.uid,
                "deletedAt": now,
            }
        self._save()

    def forget(self, namespace: str, names: Iterable[str]) -> None:
        changed = False
        for name in names:
            changed |= self._data.pop(self._key(namespace, name), None) is not None
        if changed:
            self._save()


def journal_path(server: str, context: str | None) -> str:
    """Where a cluster's journal lives: `$KUBECTL_WAR_STATE_DIR`, else the XDG state dir."""
    import hashlib

    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    base = os.environ.get("KUBECTL_WAR_STATE_DIR") or os.path.join(state, "kubectl-war")
    digest = hashlib.sha256(f"{server}\n{context or ''}".encode()).hexdigest()[:16]
    return os.path.join(base, f"rollout-{digest}.json")


# ---- the executor -----------------------------------------------------------------------


@dataclass
class Tracked:
    """A WAR the executor waits on: one it deleted (`old_uid` set), or one whose agent
    has not connected yet (`old_uid` None)."""

    namespace: str
    name: str
    old_uid: str | None
    state: str = PENDING
    new_uid: str | None = None
    detail: str = ""
    carried: bool = False  # recorded by an earlier rollout's journal

    @property
    def resolved(self) -> bool:
        return self.state in (BACK, GONE, NOT_DELETED)

    @property
    def waiting_on(self) -> str:
        text = WAITING_ON.get(self.state, self.state)
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Event:
    """Something the progress display shows.

    Kinds: `group` (a group starts), `batch` (a batch is about to be deleted),
    `recover` (waiting for unavailable WARs before a batch), `state` (a member's
    state changed), `batch-done`, `pause`, `group-done`.
    """

    kind: str
    group: GroupPlan
    batch: Batch | None = None
    name: str = ""
    state: str = ""
    detail: str = ""
    seconds: float = 0.0
    count: int = 0


@dataclass
class MemberResult:
    name: str
    result: str  # BACK, SKIPPED, FAILED, NOT_STARTED, or a waiting state
    detail: str = ""


@dataclass
class GroupResult:
    plan: GroupPlan
    members: dict[str, MemberResult] = field(default_factory=dict)
    batches_done: int = 0

    def names(self, *results: str) -> list[str]:
        return [r.name for r in self.members.values() if r.result in results]


@dataclass
class Result:
    outcome: str
    groups: list[GroupResult]
    message: str = ""
    waiting: list[Tracked] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def reonboarded(self) -> int:
        return sum(len(g.names(BACK)) for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        groups = []
        for g in self.groups:
            p = g.plan
            groups.append(
                {
                    "namespace": p.namespace,
                    "name": p.name,
                    "connected": p.connected,
                    "maxUnavailable": p.max_unavailable,
                    "batches": len(p.batches),
                    "batchesDone": g.batches_done,
                    "reOnboarded": g.names(BACK),
                    "skipped": [
                        {"name": r.name, "reason": r.detail}
                        for r in g.members.values()
                        if r.result == SKIPPED
                    ],
                    "failed": [
                        {"name": r.name, "waitingOn": r.detail}
                        for r in g.members.values()
                        if r.result not in (BACK, SKIPPED, NOT_STARTED)
                    ],
                    "notStarted": g.names(NOT_STARTED),
                    "leftOut": [_left_dict(x) for x in p.left_out],
                }
            )
        return {
            "kind": "RolloutSummary",
            "result": self.outcome,
            "message": self.message,
            "elapsedSeconds": round(self.elapsed, 1),
            "reOnboarded": self.reonboarded,
            "waiting": [
                {"namespace": t.namespace, "name": t.name, "waitingOn": t.waiting_on}
                for t in self.waiting
            ],
            "groups": groups,
        }


class _Stop(Exception):
    """Ends the rollout: a batch did not come back, or a deletion failed."""


class Executor:
    """Runs a plan: one batch at a time, never more of a group unavailable than allowed.

    Talks to the cluster only through `kube` (`list`, `follow`, and `delete`/`get`
    via `deletion.delete_wars`). Time is injected: `clock` (monotonic seconds) for
    deadlines and elapsed time, `sleep` for `--pause`.

    Interruption: `interrupt()` (from a SIGINT handler) stops any further DELETE;
    while `deleting` is False the handler may also raise KeyboardInterrupt to cut a
    wait short, which `run` turns into an `interrupted` result.
    """

    def __init__(
        self,
        kube: Any,
        res: Any,
        plan: Plan,
        *,
        eligible: Callable[[War], bool],
        timeout: float,
        pause: float = 0.0,
        sidecar_synced: Callable[[War], bool | None] | None = None,
        journal: Journal | None = None,
        report: Callable[[Event], None] = lambda ev: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll: float = 1.0,
    ) -> None:
        self.kube = kube
        self.res = res
        self.plan = plan
        self.eligible = eligible
        self.timeout = timeout
        self.pause = pause
        self.sidecar_synced = sidecar_synced
        self.journal = journal or Journal(None, grace_seconds=0)
        self.report = report
        self.clock = clock
        self.sleep = sleep
        self.poll = poll
        self.interrupted = False
        self.deleting = False
        self.in_flight: list[Tracked] = []
        self._current: GroupResult | None = None
        self._batch: Batch | None = None
        self._failed_in_batch = ""

    def interrupt(self) -> None:
        self.interrupted = True

    # -- running ------------------------------------------------------------------------

    def run(self) -> Result:
        start = self.clock()
        results = [GroupResult(g) for g in self.plan.groups]
        for gr in results:
            for m in gr.plan.members:
                gr.members[m.name] = MemberResult(m.name, NOT_STARTED)
        outcome, message = COMPLETE, ""
        first = True
        try:
            for gr in results:
                self._current = gr
                self.report(Event("group", gr.plan))
                carried = self._carried(gr.plan)
                for batch in gr.plan.batches:
                    if self.interrupted:
                        raise KeyboardInterrupt
                    if not first and self.pause > 0:
                        self.report(Event("pause", gr.plan, batch, seconds=self.pause))
                        self.sleep(self.pause)
                    first = False
                    if self.interrupted:
                        raise KeyboardInterrupt
                    carried = self._run_batch(gr, batch, carried)
                    gr.batches_done += 1
                self.report(Event("group-done", gr.plan))
        except _Stop as stop:
            outcome, message = STOPPED, str(stop)
        except WarError as exc:
            # The cluster stopped answering mid-way: report what is in flight all the same.
            outcome, message = STOPPED, f"{exc.message}; the rollout stopped"
        except KeyboardInterrupt:
            self.interrupted = True
            outcome = INTERRUPTED
            message = "interrupted: no further WAR will be deleted"
        waiting = [t for t in self.in_flight if not t.resolved]
        for t in waiting:
            gr = self._current
            if gr is not None and t.name in gr.members and t.old_uid:
                gr.members[t.name] = MemberResult(t.name, t.state, t.waiting_on)
        return Result(outcome, results, message, waiting, self.clock() - start)

    def _carried(self, gp: GroupPlan) -> list[Tracked]:
        """WARs of the group an earlier rollout deleted and that may not be back yet."""
        return [
            Tracked(gp.namespace, name, uid, DELETED, carried=True)
            for name, uid in self.journal.in_flight(gp.namespace, gp.name)
        ]

    def _run_batch(self, gr: GroupResult, batch: Batch, carried: list[Tracked]) -> list[Tracked]:
        gp = gr.plan
        self._batch = batch
        live = self.kube.list(self.res, gp.namespace)
        objs = _by_name(live.items)
        chosen: list[War] = []
        unavailable: list[Tracked] = []
        for t in carried:
            self._observe(t, objs.get(t.name))
        # Back (or never deleted after all): no longer in flight.
        self.journal.forget(gp.namespace, [t.name for t in carried if t.resolved])
        unavailable += [t for t in carried if not t.resolved]
        for m in batch.members:
            obj = objs.get(m.name)
            current = War(obj) if obj is not None else None
            if current is None:
                # Gone since planned: someone else deleted it; it may be on its way back.
                self._skip(gr, m.name, "deleted since planned; counted as unavailable")
                t = Tracked(m.namespace, m.name, m.uid, DELETED)
                unavailable.append(t)
            elif current.uid != m.uid:
                self._skip(gr, m.name, "re-registered since planned")
            elif not self.eligible(current):
                self._skip(gr, m.name, "no longer selected (changed since planned)")
            else:
                chosen.append(current)
        tracked_names = {t.name for t in unavailable} | {w.name for w in chosen}
        for obj in objs.values():
            w = War(obj)
            joining = w.group == gp.name and not w.is_connected and not w.is_disconnected
            if joining and w.name not in tracked_names:
                unavailable.append(Tracked(gp.namespace, w.name, None, RECREATED, new_uid=w.uid))
        if not chosen:
            return [t for t in unavailable if t.old_uid and not t.resolved]
        self.report(Event("batch", gp, batch, count=len(chosen)))
        deadline = self.clock() + self.timeout
        room = gp.max_unavailable - len(chosen)
        if sum(not t.resolved for t in unavailable) > room:
            self.report(Event("recover", gp, batch, count=sum(not t.resolved for t in unavailable)))
            self.in_flight = unavailable
            ok = self._await(gp.namespace, unavailable, room, deadline)
            if not ok:
                late = [t for t in unavailable if not t.resolved]
                raise _Stop(
                    f"batch {batch.number}/{len(gp.batches)} of WorkloadGroup {gp.ref} "
                    f"not started: {len(late)} of its WARs stayed unavailable for "
                    f"{_secs(self.timeout)} (max unavailable {gp.max_unavailable})"
                )
        if self.interrupted:
            raise KeyboardInterrupt
        targets = self._delete(gr, chosen)
        self.in_flight = targets + [t for t in unavailable if t.old_uid]
        if not targets:
            return [t for t in unavailable if t.old_uid and not t.resolved]
        # WARs an earlier rollout left in flight finish with this batch: resuming
        # means completing what was interrupted, then going on.
        resumed = [t for t in unavailable if t.carried and not t.resolved]
        ok = self._await(gp.namespace, targets + resumed, 0, deadline)
        done = [t.name for t in targets if t.resolved]
        for name in done:
            gr.members[name] = MemberResult(name, BACK)
        self.journal.forget(gp.namespace, done + [t.name for t in resumed if t.resolved])
        if not ok:
            raise _Stop(
                f"batch {batch.number}/{len(gp.batches)} of WorkloadGroup {gp.ref} did not come "
                f"back within {_secs(self.timeout)}; the rollout stopped and nothing more "
                "will be deleted"
            )
        if self._failed_in_batch:
            raise _Stop(self._failed_in_batch)
        self.report(Event("batch-done", gp, batch))
        # Carried WARs that came back along the way are forgotten; the rest still count.
        back = [t.name for t in unavailable if t.old_uid and t.resolved]
        self.journal.forget(gp.namespace, back)
        return [t for t in unavailable if t.old_uid and not t.resolved]

    def _skip(self, gr: GroupResult, name: str, why: str) -> None:
        gr.members[name] = MemberResult(name, SKIPPED, why)
        self.report(Event("state", gr.plan, self._batch, name, SKIPPED, why))

    def _delete(self, gr: GroupResult, wars: list[War]) -> list[Tracked]:
        from kubectl_war import deletion

        gp = gr.plan
        self._failed_in_batch = ""
        targets: list[Tracked] = []
        attempted: set[str] = set()
        # From here until every DELETE is answered, SIGINT only sets a flag: the
        # journal and the server must agree on what was deleted.
        self.deleting = True
        try:
            self.journal.record(gp.name, wars)
            for outcome in deletion.delete_wars(
                self.kube,
                self.res,
                wars,
                still_selected=self.eligible,
                stop=lambda: self.interrupted,
            ):
                name = outcome.war.name
                attempted.add(name)
                if outcome.result == deletion.DELETED:
                    t = Tracked(gp.namespace, name, outcome.war.uid, DELETED)
                    targets.append(t)
                    gr.members[name] = MemberResult(name, DELETED, t.waiting_on)
                    self.report(Event("state", gp, self._batch, name, DELETED))
                elif outcome.failed:
                    self.journal.forget(gp.namespace, [name])
                    gr.members[name] = MemberResult(name, FAILED, outcome.message)
                    self.report(Event("state", gp, self._batch, name, FAILED, outcome.message))
                    self._failed_in_batch = (
                        f"could not delete WAR {gp.namespace}/{name} ({outcome.message}); "
                        "the rollout stopped and nothing more will be deleted"
                    )
                    break
                else:
                    self.journal.forget(gp.namespace, [name])
                    self._skip(gr, name, outcome.line().split(": ", 1)[-1])
        finally:
            self.deleting = False
            unsent = [w.name for w in wars if w.name not in attempted]
            if unsent:
                self.journal.forget(gp.namespace, unsent)
        if self._failed_in_batch and not targets:
            raise _Stop(self._failed_in_batch)
        return targets

    # -- waiting ------------------------------------------------------------------------

    def _observe(self, t: Tracked, obj: Mapping[str, Any] | None) -> None:
        """Move a tracked WAR to the state the object now under its name shows."""
        before = (t.state, t.detail)
        t.detail = ""
        if obj is None:
            t.state = DELETED if t.old_uid else GONE
            t.new_uid = None
        else:
            war = War(obj)
            if t.old_uid and war.uid == t.old_uid:
                # A journal entry whose WAR is still there: that DELETE never happened.
                t.state = NOT_DELETED if t.carried else OLD_PRESENT
            else:
                t.new_uid = war.uid
                if not war.is_connected:
                    t.state = RECREATED
                else:
                    synced = self.sidecar_synced(war) if self.sidecar_synced else None
                    t.state = SYNCING if synced is False else BACK
                    if synced is False:
                        # Why the source cannot tell, when it failed (CachedSidecars.error).
                        t.detail = str(getattr(self.sidecar_synced, "error", "") or "")
        if (t.state, t.detail) != before and self._current is not None:
            self.report(Event("state", self._current.plan, self._batch, t.name, t.state))

    def _await(
        self, namespace: str, tracked: list[Tracked], allowed_pending: int, deadline: float
    ) -> bool:
        """Watch until at most `allowed_pending` of `tracked` are unresolved; False at the
        deadline.

        One list gives the starting point; a watch (in a helper thread, so that the
        deadline and the sidecar polls are kept to the moment, while the API only ends
        a watch on whole seconds) reports every change; the sidecar source, which has
        no watch, is read again every `poll` seconds.
        """
        by_name = {t.name: t for t in tracked}

        def pending() -> int:
            return sum(not t.resolved for t in tracked)

        listed = self.kube.list(self.res, namespace)
        objs = {n: o for n, o in _by_name(listed.items).items() if n in by_name}
        for t in tracked:
            self._observe(t, objs.get(t.name))
        if pending() <= allowed_pending:
            return True
        events: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        watcher = threading.Thread(
            target=self._watch,
            args=(namespace, listed, events, stop),
            name="kubectl-war-watch",
            daemon=True,
        )
        watcher.start()
        try:
            while pending() > allowed_pending:
                left = deadline - self.clock()
                if left <= 0:
                    return False
                polling = self.sidecar_synced is not None and any(
                    t.state == SYNCING for t in tracked
                )
                try:
                    # Bounded: a timeout of "no limit" is infinite, which get() refuses.
                    ev = events.get(timeout=min(left, self.poll if polling else 3600.0))
                except queue.Empty:
                    ev = None
                if isinstance(ev, BaseException):
                    raise ev
                if ev is not None:
                    meta = ev.object.get("metadata") if isinstance(ev.object, dict) else None
                    meta = meta if isinstance(meta, dict) else {}
                    name = meta.get("name")
                    t = by_name.get(name) if isinstance(name, str) else None
                    if t is None:
                        continue
                    if ev.type == "DELETED":
                        current = objs.get(t.name)
                        if current is not None and War(current).uid == meta.get("uid"):
                            del objs[t.name]
                    else:
                        objs[t.name] = ev.object
                    self._observe(t, objs.get(t.name))
                elif polling:
                    for t in tracked:
                        if t.state == SYNCING:
                            self._observe(t, objs.get(t.name))
            return True
        finally:
            stop.set()

    def _watch(
        self, namespace: str, listed: Any, out: queue.Queue[Any], stop: threading.Event
    ) -> None:
        """Feed `out` with every change after `listed` until `stop` is set.

        Watches are opened for `_WATCH_WINDOW` seconds at a time and resumed from the
        last resourceVersion seen, so a stopped helper ends within that window.
        """
        from kubectl_war.kube import ListResult

        known = {_key(o): o for o in listed.items}
        rv = listed.resource_version
        try:
            while not stop.is_set():
                current = ListResult(list(known.values()), rv)
                for ev in self.kube.follow(
                    self.res, namespace, current, deadline=time.monotonic() + _WATCH_WINDOW
                ):
                    meta = ev.object.get("metadata") if isinstance(ev.object, dict) else None
                    if isinstance(meta, dict) and meta.get("resourceVersion"):
                        rv = str(meta["resourceVersion"])
                    if ev.type == "DELETED":
                        known.pop(_key(ev.object), None)
                    else:
                        known[_key(ev.object)] = ev.object
                    if stop.is_set():
                        return
                    out.put(ev)
        except Exception as exc:  # handed to the waiting thread, which raises it
            if not stop.is_set():
                out.put(exc)


_WATCH_WINDOW = 2.0


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    war = War(obj)
    return (war.name, war.uid)


def _by_name(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for obj in items:
        war = War(obj)
        out[war.name] = war.obj
    return out


def _secs(seconds: float) -> str:
    return go_duration(seconds)


def go_duration(seconds: float | None) -> str:
    """A duration as Go (and every duration flag here) writes it: `700ms`, `90s` as
    `1m30s`, `5m`, `1h30m`; so a flag value shown in a message can be passed back."""
    ms = round((seconds or 0) * 1000)
    if ms % 1000:
        return f"{ms}ms"
    total = ms // 1000
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec else "")
    return out or "0s"


class CachedSidecars:
    """`sidecar_synced(war)` over a sidecar source read at most every `max_age` seconds.

    `fetch()` answers the proxies connected to istiod by name (`<war>.<namespace>`),
    each with `overall` (`SYNCED` when every type is). A proxy missing from the answer
    is not connected to istiod: not synced. A source that fails is "not synced
    yet" with the error kept in `error`, so a rollout waits rather than guesses.

    The proxy keeps its name across re-onboarding, so an answer read before a WAR
    was first asked about (that is, before it was seen back) may describe the old
    sidecar's state: such an answer is "not synced yet" until a newer one is read.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.max_age = max_age
        self.clock = clock
        self.error = ""
        self._at: float | None = None
        self._proxies: Mapping[str, Any] = {}
        self._first_asked: dict[tuple[str, str], float] = {}

    def _fresh(self) -> Mapping[str, Any]:
        now = self.clock()
        if self._at is None or now - self._at >= self.max_age:
            self._at = now
            try:
                self._proxies = self.fetch()
                self.error = ""
            except Exception as exc:  # any source failure means "cannot tell yet"
                self._proxies = {}
                self.error = str(getattr(exc, "message", exc))
        return self._proxies

    def probe(self) -> None:
        """Read the source now (a failure is kept in `error`)."""
        self._at = None
        self._fresh()

    def __call__(self, war: War) -> bool | None:
        since = self._first_asked.setdefault((war.proxy_name, war.uid), self.clock())
        proxies = self._fresh()
        if self._at is None or self._at < since:
            return False
        proxy = proxies.get(war.proxy_name)
        if proxy is None:
            return False
        from kubectl_war.sidecars.records import SyncState

        return getattr(proxy, "overall", None) == SyncState.SYNCED
