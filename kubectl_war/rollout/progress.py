"""What a running rollout reports: the states of batch members, the events a display
shows, and the result a rollout ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_war.rollout.plan import Batch, GroupPlan, left_out_dict

# What a member of a batch is doing, as the executor last saw it.
PENDING = "pending"
SENT = "sent"  # a DELETE went out and no answer says what became of it
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
    SENT: "DELETE sent, no answer",
    DELETED: "not re-created yet",
    OLD_PRESENT: "old WAR still present",
    RECREATED: "agent not connected yet",
    SYNCING: "sidecar not SYNCED yet",
}

# How the rollout ended.
COMPLETE = "complete"
STOPPED = "failed"
INTERRUPTED = "interrupted"


@dataclass
class Tracked:
    """A WAR the executor waits on: one it deleted (`old_uid` set), or one whose agent
    has not connected yet (`old_uid` None)."""

    namespace: str
    name: str
    old_uid: str | None
    state: str = PENDING
    detail: str = ""
    carried: bool = False  # recorded by an earlier rollout's journal
    # Its DELETE was answered with an error or not at all: only a read of the
    # server tells whether it landed.
    unsure: bool = False

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

    Kinds: `group` (a group starts), `batch` (a batch is about to be deleted; with
    `held`, it must first wait for that many unavailable WARs, and comes again when it
    is deleted), `recover` (waiting for the unavailable WARs `names`, `carried` when an
    earlier rollout deleted them all), `state` (a member's state changed),
    `batch-done`, `pause`, `group-done`.
    """

    kind: str
    group: GroupPlan
    batch: Batch | None = None
    name: str = ""
    state: str = ""
    detail: str = ""
    seconds: float = 0.0
    count: int = 0
    held: int = 0
    names: tuple[str, ...] = ()
    carried: bool = False


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
    resumed: int = 0  # WARs an earlier rollout deleted, seen back by this one

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
                    "leftOut": [left_out_dict(x) for x in p.left_out],
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
