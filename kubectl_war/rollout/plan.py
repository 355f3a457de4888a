"""Which WARs a rollout re-onboards, and in which batches: the planner (pure, no I/O).

A plan takes the connected, outdated WARs of each WorkloadGroup and splits them into
batches no larger than the group's `--max-unavailable` allows, counting WARs that are
already unavailable; zones are interleaved, or finished one by one with `--zone-by-zone`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_war.assess import Facts, countdown
from kubectl_war.errors import UsageError
from kubectl_war.freshness import Freshness
from kubectl_war.war import War

# Why a WAR of a group is left out of the plan.
DISCONNECTED = "disconnected"
NOT_CONNECTED = "agent not connected yet"
UP_TO_DATE = "up to date"
UNKNOWN_FRESHNESS = "freshness unknown"
NO_GROUP = "WorkloadGroup gone"
JOINED_LATER = "joined after the rollout started"
# No OnboardingPolicy admits the WAR's identity now: deleted, it would not come back.
UNADMITTED = "blocked: no OnboardingPolicy admits it now (--include-unadmitted to delete)"


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


@dataclass(frozen=True)
class Canary:
    """`--canary`: a number of WARs, or a percentage of those a group re-onboards."""

    amount: int
    percent: bool

    def __str__(self) -> str:
        return f"{self.amount}%" if self.percent else str(self.amount)

    def size(self, members: int) -> int:
        """The canary batch for a group re-onboarding `members` WARs (at least 1)."""
        wanted = max(1, members * self.amount // 100) if self.percent else self.amount
        return min(wanted, members)


def parse_canary(text: str) -> Canary:
    """`1` or `5%`; 0, more than 100% and anything else are usage errors."""
    raw = text.strip()
    percent = raw.endswith("%")
    digits = raw[:-1] if percent else raw
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise UsageError(
            f'invalid value "{text}" for --canary: expected a number of WARs (1) or a '
            "percentage of those to re-onboard (5%), at least 1"
        )
    if percent and int(digits) > 100:
        raise UsageError(f'invalid value "{text}" for --canary: at most 100%')
    return Canary(int(digits), percent)


# ---- the plan (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A WAR the plan deletes, as it was when planned."""

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
    canary: bool = False  # the first batch of a --canary rollout


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
    # Batches an earlier run of the same rollout finished (its canary): numbering goes on.
    offset: int = 0

    @property
    def total(self) -> int:
        """The number of the last batch: those done earlier and those planned."""
        return self.offset + len(self.batches)

    @property
    def unavailable(self) -> int:
        return len(self.joining) + len(self.missing)

    @property
    def batch_size(self) -> int:
        return max(1, self.max_unavailable - self.unavailable)

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
    # uids of WARs no OnboardingPolicy admits now; left out unless include_unadmitted.
    unadmitted: frozenset[str] = frozenset()
    include_unadmitted: bool = False

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
        if war.uid in self.unadmitted and not self.include_unadmitted:
            return UNADMITTED
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
    canary: Canary | None = None,
    canary_done: Collection[tuple[str, str]] = (),
    offsets: Mapping[tuple[str, str], int] | None = None,
) -> Plan:
    """Batches for each group, in the order the groups are given.

    Within a group, members are ordered by zone then name. With `zone_by_zone` each
    zone is finished before the next starts and no batch spans two zones; without
    it, zones are interleaved so each batch takes as little as possible from any
    one zone. A batch holds at most the group's max-unavailable minus the WARs
    already unavailable (at least 1: the executor then waits for them to recover).
    `missing` names, by (namespace, group), WARs deleted earlier and not back.
    With `canary`, each group's first batch is a canary of that size (never more than a
    batch may hold), spread over zones (with `zone_by_zone`, from the first zone only);
    not for the groups in `canary_done`, whose canary an earlier run already re-onboarded.
    `offsets`: by group, the batches an earlier run finished; this plan's are numbered on.
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
        first = None
        if canary is not None and members and (ns, name) not in canary_done:
            first = min(canary.size(len(members)), gp.batch_size)
        gp.offset = (offsets or {}).get((ns, name), 0)
        gp.batches = _batches(members, gp.batch_size, zone_by_zone, first, gp.offset)
        out.append(gp)
    return Plan(out, max_unavailable, zone_by_zone)


def _zone_key(zone: str) -> tuple[bool, str]:
    return (zone == "", zone)  # WARs with no known zone last


def _batches(
    members: list[Member],
    size: int,
    zone_by_zone: bool,
    canary: int | None = None,
    offset: int = 0,
) -> list[Batch]:
    by_zone: dict[str, list[Member]] = {}
    for m in members:
        by_zone.setdefault(m.zone or "", []).append(m)
    zones = sorted(by_zone, key=_zone_key)
    batches: list[Batch] = []
    if canary:
        if zone_by_zone:
            # No batch spans zones: the canary is the first zone's first WARs.
            picked = by_zone[zones[0]][:canary]
            batches.append(Batch(offset + 1, tuple(picked), zones[0] or None, canary=True))
        else:
            # One WAR from each zone in turn, whatever the order of the rest.
            picked = _interleaved([by_zone[z] for z in zones])[:canary]
            batches.append(Batch(offset + 1, tuple(picked), canary=True))
        chosen = {m.name for m in picked}
        by_zone = {z: [m for m in ms if m.name not in chosen] for z, ms in by_zone.items()}
        zones = [z for z in zones if by_zone[z]]
    if zone_by_zone:
        for zone in zones:
            queue = by_zone[zone]
            for i in range(0, len(queue), size):
                chunk = tuple(queue[i : i + size])
                batches.append(Batch(offset + len(batches) + 1, chunk, zone or None))
        return batches
    order = _interleaved([by_zone[z] for z in zones])
    for i in range(0, len(order), size):
        batches.append(Batch(offset + len(batches) + 1, tuple(order[i : i + size])))
    return batches


def _interleaved(queues: list[list[Member]]) -> list[Member]:
    """One member of each queue in turn, until all are taken."""
    queues = [list(q) for q in queues]
    order: list[Member] = []
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    return order


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
                        **({"canary": True} if b.canary else {}),
                        "members": [_member_dict(m) for m in b.members],
                    }
                    for b in g.batches
                ],
                "leftOut": [left_out_dict(x) for x in g.left_out],
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


def left_out_dict(x: LeftOut) -> dict[str, Any]:
    out: dict[str, Any] = {"name": x.name, "reason": x.reason}
    if x.removal_in is not None:
        out["removalInSeconds"] = round(x.removal_in)
    return out
