"""What a rollout deleted that is not back yet: the journal a re-run or `rollout status`
reads, one small JSON file per cluster under the XDG state directory."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kubectl_war.war import War


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


def for_cluster(client: Any, grace_seconds: float) -> Journal:
    """The journal of the cluster and context `client` (a `kube.Kube`) talks to."""
    return Journal(journal_path(client.host, client.context_name), grace_seconds=grace_seconds)
