"""The server's own record of how many WARs of each WorkloadGroup were unavailable at once.

The store calls ``observe`` with every committed write to a WAR, under its lock, so the
record follows the server's exact order of changes whoever made them (a CLI in another
process, a simulated agent, a test) and whatever became of the answers. A rollout's
max-unavailable invariant can then be checked from the server's side, even across a
client killed between a DELETE and its answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Availability"]

WARS = "workloadautoregistrations"

# A WAR's state as the record sees it.
UP = "up"  # AgentConnected True
JOINING = "joining"  # no AgentConnected condition yet, or Unknown
DOWN = "down"  # AgentConnected False: its agent dropped off
MISSING = "missing"  # deleted while up or joining, not re-created since


def group_of(obj: dict[str, Any]) -> str | None:
    """The WorkloadGroup a WAR belongs to (its controller owner reference)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == "WorkloadGroup":
            return str(ref.get("name"))
    return None


def agent_state(obj: dict[str, Any]) -> str:
    status = obj.get("status")
    for cond in (status.get("conditions") or []) if isinstance(status, dict) else []:
        if isinstance(cond, dict) and cond.get("type") == "AgentConnected":
            return {"True": UP, "False": DOWN}.get(str(cond.get("status")), JOINING)
    return JOINING


class Availability:
    """Per (namespace, WorkloadGroup): WARs unavailable now and the most at once.

    Unavailable means what a rollout counts against ``--max-unavailable``: deleted
    while connected or joining and not re-created yet (missing), or present with no
    connected agent yet (AgentConnected absent or Unknown). A WAR whose agent is
    disconnected (False) is outside the group's capacity and never counts, nor does
    its deletion. WARs without a WorkloadGroup owner are kept under group None.

    Not thread-safe by itself: the store's lock guards it (FakeKube's methods take it).
    """

    def __init__(self) -> None:
        self._state: dict[tuple[str, str], tuple[str | None, str]] = {}
        self._unavailable: dict[tuple[str, str | None], set[str]] = {}
        self._missing: dict[tuple[str, str | None], set[str]] = {}
        self._most_unavailable: dict[tuple[str, str | None], int] = {}
        self._most_missing: dict[tuple[str, str | None], int] = {}

    def observe(self, key: str, obj: dict[str, Any] | None) -> None:
        """A committed write of WAR ``key`` ("namespace/name"); ``obj`` None: deleted."""
        ns, _, name = key.partition("/")
        old_group, old = self._state.get((ns, name), (None, None))
        if obj is None:
            group, new = old_group, (MISSING if old in (UP, JOINING) else None)
        else:
            group, new = group_of(obj), agent_state(obj)
        if new is None:
            self._state.pop((ns, name), None)
        else:
            self._state[(ns, name)] = (group, new)
        if old is not None and old_group != group:
            self._set(ns, old_group, name, None)
        self._set(ns, group, name, new)

    def _set(self, ns: str, group: str | None, name: str, state: str | None) -> None:
        where = (ns, group)
        unavailable = self._unavailable.setdefault(where, set())
        missing = self._missing.setdefault(where, set())
        if state in (MISSING, JOINING):
            unavailable.add(name)
        else:
            unavailable.discard(name)
        if state == MISSING:
            missing.add(name)
        else:
            missing.discard(name)
        if len(unavailable) > self._most_unavailable.get(where, 0):
            self._most_unavailable[where] = len(unavailable)
        if len(missing) > self._most_missing.get(where, 0):
            self._most_missing[where] = len(missing)

    def unavailable(self, namespace: str, group: str | None) -> list[str]:
        return sorted(self._unavailable.get((namespace, group), ()))

    def missing(self, namespace: str, group: str | None) -> list[str]:
        return sorted(self._missing.get((namespace, group), ()))

    def max_unavailable(self, namespace: str, group: str | None) -> int:
        return self._most_unavailable.get((namespace, group), 0)

    def max_missing(self, namespace: str, group: str | None) -> int:
        return self._most_missing.get((namespace, group), 0)

    def reset(self, where: Iterable[tuple[str, str | None]] | None = None) -> None:
        """Start the high-water marks again from what is unavailable now."""
        keys = list(self._unavailable) if where is None else list(where)
        for key in keys:
            self._most_unavailable[key] = len(self._unavailable.get(key, ()))
            self._most_missing[key] = len(self._missing.get(key, ()))
