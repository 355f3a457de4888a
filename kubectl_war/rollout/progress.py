"""What a running rollout reports: the states of batch members, the events a display
shows, and the result a rollout ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_war.rollout.plan import Batch, GroupPlan, left_out_dict
from kubectl_war.rollout.states import Ending, EventKind, MemberState

# The members by their short names, as the executor and the views spell them.
PENDING = MemberState.PENDING
SENT = MemberState.SENT
DELETED = MemberState.DELETED
OLD_PRESENT = MemberState.OLD_PRESENT
RECREATED = MemberState.RECREATED
SYNCING = MemberState.SYNCING
BACK = MemberState.BACK
GONE = MemberState.GONE
NOT_DELETED = MemberState.NOT_DELETED
SKIPPED = MemberState.SKIPPED
FAILED = MemberState.FAILED
NOT_STARTED = MemberState.NOT_STARTED

# What a batch member (or an unavailable WAR) is waiting on, by state.
WAITING_ON: dict[MemberState, str] = {
    PENDING: "not deleted yet",
    SENT: "DELETE sent, no answer",
    DELETED: "not re-created yet",
    OLD_PRESENT: "old WAR still present",
    RECREATED: "agent not connected yet",
    SYNCING: "sidecar not SYNCED yet",
}

# How a rollout ended.
COMPLETE = Ending.COMPLETE
STOPPED = Ending.STOPPED
INTERRUPTED = Ending.INTERRUPTED
PAUSED = Ending.PAUSED
ABORTED = Ending.ABORTED


@dataclass
class Tracked:
    """A WAR the executor waits on: one it deleted (`old_uid` set), or one whose agent
    has not connected yet (`old_uid` None)."""

    namespace: str
    name: str
    old_uid: str | None
    state: MemberState = PENDING
    detail: str = ""
    carried: bool = False  # recorded by an earlier rollout's journal
    # Its DELETE was answered with an error or not at all: only a read of the
    # server tells whether it landed.
    unsure: bool = False
    back_at: float | None = None  # when it was first seen back (the executor's clock)

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
    `batch-done`, `pause` (`detail` "canary" after a canary), `check` (`name` the
    command; `state` started, output (`detail` the line), passed or failed (`detail`
    why)), `analysis` (`name` the --analysis; `state` started, measured, passed, failed,
    inconclusive or error, `detail` the words), `alerts` (`state` firing, `names` the
    alerts, or clear), `group-done`.
    """

    kind: EventKind
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
    result: MemberState  # BACK, SKIPPED, FAILED, NOT_STARTED, or a waiting state
    detail: str = ""


@dataclass
class GroupResult:
    plan: GroupPlan
    members: dict[str, MemberResult] = field(default_factory=dict)
    batches_done: int = 0

    def names(self, *results: MemberState) -> list[str]:
        return [r.name for r in self.members.values() if r.result in results]


@dataclass
class Result:
    outcome: Ending
    groups: list[GroupResult]
    message: str = ""
    waiting: list[Tracked] = field(default_factory=list)
    elapsed: float = 0.0
    resumed: int = 0  # WARs an earlier rollout deleted, seen back by this one
    # Where and why it stopped on purpose (progressive.Gate.record), with its group.
    paused: dict[str, Any] | None = None

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
            **({"paused": paused_dict(self.paused)} if self.paused else {}),
            "groups": groups,
        }


def paused_dict(record: dict[str, Any]) -> dict[str, Any]:
    """A pause record (the journal's) as `-o json` shows it."""
    return {
        "namespace": record.get("namespace"),
        "name": record.get("group"),
        "reason": record.get("reason"),
        "after": bool(record.get("back")),
        "batch": record.get("batch"),
        "batches": record.get("batches"),
        "wars": list(record.get("wars") or []),
        "message": record.get("message"),
        # The metric analyses measured after that batch: values and verdicts.
        **({"analyses": list(record["analyses"])} if record.get("analyses") else {}),
    }
