"""The judgements made about one WAR: is it up to date, when will it be removed (pure).

`list`, `describe` and `rollout` all ask the same questions; they get the same
answers from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kubectl_war.durations import format_timestamp, human_duration
from kubectl_war.freshness import Freshness, LastChange, outdated_by
from kubectl_war.sidecars.join import sidecar_of
from kubectl_war.snapshot import Snapshot
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON

    # Imported when a proxy-status source is read: a plain list never needs them.
    from kubectl_war.sidecars.join import Sidecar
    from kubectl_war.sidecars.records import ProxySync


@dataclass(frozen=True)
class Facts:
    """What the tool concludes about one WAR at one moment.

    Attributes:
        freshness: up to date, outdated, unknown, or no WorkloadGroup.
        last_change: when the WorkloadGroup's spec last changed, and how that is known.
        group_exists: whether the WorkloadGroup exists (None when not looked up).
        outdated_by: seconds the spec change came after the workload joined.
        disconnected_for: seconds since a disconnected agent dropped off.
        removal_in: seconds until automatic removal (negative when overdue).
        sidecar: the sidecar's sync state, when a proxy-status source was read.
        group_error: why the WorkloadGroups could not be read (freshness is then
            unknown, and so is whether the group exists); None when they were.
    """

    freshness: Freshness | None
    last_change: LastChange | None
    group_exists: bool | None
    outdated_by: float | None
    disconnected_for: float | None
    removal_in: float | None
    sidecar: Sidecar | None = None
    group_error: str | None = None

    @property
    def is_outdated(self) -> bool:
        return self.freshness is Freshness.OUTDATED


def assess(
    war: War,
    snap: Snapshot,
    now: datetime,
    grace_seconds: float,
    proxies: Mapping[str, ProxySync] | None = None,
) -> Facts:
    """The facts about one WAR; `proxies` (from a proxy-status source) adds its sidecar."""
    freshness = last = exists = by = None
    if snap.groups_fetched:
        group = snap.group_of(war)
        exists = group is not None
        if not snap.groups_served:
            exists = False
        if snap.groups_error is not None:
            exists = None
        freshness, last = snap.judge(group, war.created)
        if freshness is Freshness.OUTDATED and last is not None:
            by = outdated_by(war.created, last)
    return Facts(
        freshness=freshness,
        last_change=last,
        group_exists=exists,
        outdated_by=by,
        disconnected_for=war.disconnected_for(now),
        removal_in=war.removal_in(now, grace_seconds),
        sidecar=_sidecar_of(war, proxies) if proxies is not None else None,
        group_error=snap.groups_error,
    )


def _sidecar_of(war: War, proxies: Mapping[str, ProxySync]) -> Sidecar:
    return sidecar_of(war, proxies)


def countdown(removal_in: float) -> str:
    """`3m20s left` or `overdue 40s`: how long until (or since) automatic removal."""
    if removal_in >= 0:
        return f"{human_duration(removal_in)} left"
    return f"overdue {human_duration(-removal_in)}"


def agent_state(war: War, facts: Facts) -> str:
    """The AGENT CONNECTED cell: the condition, with the removal countdown when False."""
    state = war.connected
    if state is None:
        return "<none>"
    if state == "False" and facts.removal_in is not None:
        return f"False ({countdown(facts.removal_in)})"
    return state


def computed(war: War, facts: Facts, snap: Snapshot) -> JSON:
    """The facts as data, for `-o json|yaml` (so scripts see what a person sees)."""
    ident = war.identity
    out: JSON = {
        "identity": dict(ident.to_dict(), source=war.identity_source or "none"),
        "workloadGroup": {"name": war.group, "exists": facts.group_exists},
        "agent": {
            "connected": war.connected,
            "since": format_timestamp(war.transition_time) if war.transition_time else None,
            "connectedTo": war.connected_to,
            "version": war.agent_version,
        },
    }
    if facts.freshness is not None:
        out["workloadGroup"]["upToDate"] = facts.freshness.value
        last = facts.last_change
        out["workloadGroup"]["specChanged"] = (
            format_timestamp(last.time) if last is not None and last.time else None
        )
        out["workloadGroup"]["specChangeSource"] = last.source if last is not None else None
    if facts.removal_in is not None:
        out["agent"]["disconnectedSeconds"] = round(facts.disconnected_for or 0)
        out["agent"]["removalInSeconds"] = round(facts.removal_in)
    if facts.sidecar is not None:
        out["sidecar"] = facts.sidecar.to_dict()
    return out
