"""The audit trail of a rollout: a Kubernetes Event on the WorkloadGroup for each
transition (started, batch deleted, batch back, check passed or failed, canary done,
paused, resumed, aborted, taken over, completed), naming the acting user.

Events are posted from a background thread, so a batch never waits on them; `close`
sends what is left. An Event the server refuses (no `create` on events) is said once
on stderr and the rest are dropped: the rollout goes on.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kubectl_war.errors import WarError
from kubectl_war.kube.errors import Forbidden
from kubectl_war.kube.requests import EVENTS
from kubectl_war.rollout.lease import Actor, micro_time
from kubectl_war.rollout.progress import Event
from kubectl_war.rollout.states import EventKind

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

COMPONENT = "kubectl-war"


def event_object(
    group: Mapping[str, Any], reason: str, message: str, actor: Actor, *, warning: bool
) -> dict[str, Any]:
    """A core/v1 Event about the WorkloadGroup object `group`."""
    meta = group.get("metadata") or {}
    name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    now = micro_time()
    stamp = now[:19] + "Z"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name[:200]}.{time.time_ns():x}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": str(group.get("apiVersion") or ""),
            "kind": "WorkloadGroup",
            "name": name,
            "namespace": namespace,
            "uid": str(meta.get("uid") or ""),
        },
        "reason": reason,
        "message": f"{message} (by {actor.who})",
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT, "host": socket.gethostname()},
        "reportingComponent": COMPONENT,
        "reportingInstance": actor.host,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": None,
        "count": 1,
    }


class Recorder:
    """Posts Events about the rolled-out WorkloadGroups (`groups`: (namespace, name) to
    the WorkloadGroup object) in the background."""

    def __init__(
        self,
        kube: Kube,
        actor: Actor,
        groups: Mapping[tuple[str, str], dict[str, Any]],
        warn: Callable[[str], object],
    ) -> None:
        self.kube = kube
        self.actor = actor
        self.groups = groups
        self.warn = warn
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._refused = False
        self._thread: threading.Thread | None = None

    def emit(
        self, namespace: str, group: str, reason: str, message: str, *, warning: bool = False
    ) -> None:
        obj = self.groups.get((namespace, group))
        if obj is None or self._refused:
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="kubectl-war-events", daemon=True
            )
            self._thread.start()
        self._queue.put(event_object(obj, reason, message, self.actor, warning=warning))

    def _run(self) -> None:
        while True:
            ev = self._queue.get()
            if ev is None:
                return
            if self._refused:
                continue
            try:
                self.kube.create(EVENTS, ev["metadata"]["namespace"], ev)
            except Forbidden as exc:
                self._refused = True
                self.warn(f"warning: not recording Events on WorkloadGroups: {exc.message}\n")
            except (WarError, OSError):
                continue  # an audit line lost to a passing failure: the rollout goes on

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)

    def on_progress(self, ev: Event) -> None:
        """The Events a running rollout's progress makes."""
        gp = ev.group
        where = f"batch {ev.batch.number}/{gp.total}" if ev.batch is not None else ""
        ns, name = gp.namespace, gp.name
        if ev.kind == EventKind.BATCH and ev.batch is not None and not ev.held:
            names = ", ".join(m.name for m in ev.batch.members)
            self.emit(ns, name, "RolloutBatchDeleted", f"{where}: deleting {ev.count}: {names}")
        elif ev.kind == EventKind.BATCH_DONE and ev.batch is not None:
            self.emit(ns, name, "RolloutBatchBack", f"{where}: all back")
            if ev.batch.canary:
                self.emit(ns, name, "RolloutCanaryDone", f"{where}: canary back")
        elif ev.kind == EventKind.CHECK and ev.state in ("passed", "failed"):
            reason = "RolloutCheckPassed" if ev.state == "passed" else "RolloutCheckFailed"
            text = f'{where}: check "{ev.name}" {ev.state}'
            if ev.state == "failed":
                text += f" ({ev.detail})"
            self.emit(ns, name, reason, text, warning=ev.state == "failed")
