"""Waiting for the WARs of a batch to be back: the executor's half that watches, reads
and judges (`BatchWaits`), and when the next batch may start from what a wait saw."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_war.kube.requests import ListResult, Resource
from kubectl_war.kube.watch import Store, until
from kubectl_war.rollout.plan import Batch
from kubectl_war.rollout.progress import (
    BACK,
    DELETED,
    GONE,
    NOT_DELETED,
    OLD_PRESENT,
    RECREATED,
    SYNCING,
    Event,
    GroupResult,
    Tracked,
)
from kubectl_war.rollout.states import EventKind
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

#: A wait's view of the WARs may start the next batch for this long after its watch last
#: delivered a change (seconds), as may the list a rollout was planned from for this long
#: after it was asked for; later, the next batch lists them again.
VIEW_FRESH = 1.0


@dataclass(frozen=True)
class View:
    """The WARs of one namespace as known at `at` (the executor's clock), as good as a list
    taken then: the list a rollout was planned from, or what a wait's watch last saw."""

    namespace: str
    listed: ListResult
    at: float


class BatchWaits:
    """The waiting half of `executor.Executor`, which sets these attributes."""

    kube: Kube
    res: Resource
    report: Callable[[Event], None]
    clock: Callable[[], float]
    sidecar_synced: Callable[[War], bool | None] | None
    sidecar_poll: float | None
    resync: float
    interrupted: bool
    _current: GroupResult | None
    _batch: Batch | None
    _resumed_back: set[tuple[str, str]]
    _view: View | None
    _store: Store | None

    def _observe(self, t: Tracked, obj: Mapping[str, Any] | None) -> None:
        """Move a tracked WAR to the state the object now under its name shows."""
        before = (t.state, t.detail)
        t.detail = ""
        if obj is None:
            t.state = DELETED if t.old_uid else GONE
        else:
            war = War(obj)
            if t.old_uid and war.uid == t.old_uid:
                # A DELETE recorded by an earlier rollout, or one whose answer was an
                # error or lost, with the WAR still there: that DELETE did not happen.
                # One answered "deleted" is still there only while finalizers hold it
                # (deletionTimestamp set), or in a view read before it was sent.
                if t.carried or t.unsure:
                    t.state = NOT_DELETED
                elif t.state != DELETED or _deleting(obj):
                    t.state = OLD_PRESENT
            elif not war.is_connected:
                t.state = RECREATED
            else:
                synced = self.sidecar_synced(war) if self.sidecar_synced else None
                t.state = SYNCING if synced is False else BACK
                if synced is False:
                    # Why the source cannot tell, when it failed (CachedSidecars.error).
                    t.detail = str(getattr(self.sidecar_synced, "error", "") or "")
        if t.state == BACK and t.back_at is None:
            t.back_at = self.clock()
        if t.carried and t.state == BACK:
            self._resumed_back.add((t.namespace, t.name))
        if (t.state, t.detail) != before and self._current is not None:
            self.report(Event(EventKind.STATE, self._current.plan, self._batch, t.name, t.state))

    def _await(
        self,
        namespace: str,
        tracked: list[Tracked],
        allowed_pending: int,
        deadline: float,
        listed: ListResult | None = None,
    ) -> bool:
        """Wait until at most `allowed_pending` of `tracked` are unresolved; False at the
        deadline. Raises KeyboardInterrupt as soon as the rollout is interrupted.

        One list (or `listed`, taken earlier: the watch then starts where it was taken),
        then a watch; the unresolved WARs are also read directly now and then (a lost
        watch event costs seconds), and those whose sidecar is not SYNCED yet are judged
        again every `sidecar_poll` seconds, or when the sidecar source says
        (`CachedSidecars.next_read`: soon once only sidecars are left).
        """
        self._view = None
        wait = _Wait(self, namespace, tracked, allowed_pending)
        done = until(
            self.kube,
            self.res,
            namespace,
            wait.settled,
            deadline=deadline,
            clock=self.clock,
            poll=wait.poll,
            listed=listed,
            reread=wait.reread,
            reread_every=self.resync,
            interrupted=lambda: self.interrupted,
        )
        store, last_event = wait.store, wait.last_event
        if done and store is not None and last_event is not None and not wait.read_directly:
            # Its watch delivered every change: as good as a list (`_recent_view`).
            self._view = View(namespace, store.listed(), last_event)
        return done

    def _recent_view(self, namespace: str) -> ListResult | None:
        """The WARs of `namespace` as the wait that just ended knows them, when that is as
        good as a list: its watch delivered every change (no direct read was needed: no
        restart, no lost event) and delivered one within `VIEW_FRESH` seconds. Before the
        first batch, the list the rollout was planned from, asked for within `VIEW_FRESH`
        seconds. A list of a large namespace takes longer than that on the critical path
        between two batches; the DELETEs' preconditions refuse anything that changed
        since."""
        view, self._view = self._view, None
        if view is None or view.namespace != namespace or self.clock() - view.at > VIEW_FRESH:
            return None
        return view.listed


class _Wait:
    """One `BatchWaits._await`: which of its WARs are still unresolved or waiting for their
    sidecar, and what its watch has shown (`until`'s callbacks)."""

    def __init__(
        self, waits: BatchWaits, namespace: str, tracked: list[Tracked], allowed_pending: int
    ) -> None:
        self.waits = waits
        self.namespace = namespace
        self.allowed_pending = allowed_pending
        self.wanted = {t.name: t for t in tracked}
        # Kept as the states change, so that each event costs the same whatever the
        # batch's size.
        self.unresolved = {t.name: t for t in tracked if not t.resolved}
        self.syncing: set[str] = set()
        #: The watch's store, as last seen.
        self.store: Store | None = None
        #: When the watch last delivered a change.
        self.last_event: float | None = None
        #: Whether the WARs had to be read directly (a restart, a lost event).
        self.read_directly = False

    def reread(self) -> list[tuple[str, str]]:
        """The WARs to read directly: the unresolved ones."""
        self.read_directly = True
        return [(self.namespace, name) for name in self.unresolved]

    def observe(self, t: Tracked, obj: Mapping[str, Any] | None) -> None:
        self.waits._observe(t, obj)
        if t.resolved:
            self.unresolved.pop(t.name, None)
        else:
            self.unresolved[t.name] = t
        if t.state == SYNCING:
            self.syncing.add(t.name)
        else:
            self.syncing.discard(t.name)

    def settled(self, store: Store) -> bool:
        """Judge what the watch changed (everything, after a list); whether the wait is over."""
        event = store.changed
        self.store = store
        self.waits._store = store
        if event is not None:
            self.last_event = self.waits.clock()
        if event is None:
            for t in list(self.unresolved.values()):
                self.observe(t, store.get(self.namespace, t.name))
        else:
            changed = self.wanted.get(War(event.object).name)
            if changed is not None:
                self.observe(changed, store.get(self.namespace, changed.name))
        return len(self.unresolved) <= self.allowed_pending

    def poll(self) -> float | None:
        """When to judge the WARs waiting for their sidecar again (None: none waits)."""
        if not self.syncing:
            return None
        schedule = getattr(self.waits.sidecar_synced, "next_read", None)
        if schedule is None:
            return self.waits.sidecar_poll
        # Close to done: only sidecars stand between this wait and its end.
        others = len(self.unresolved) - len(self.syncing)
        return float(schedule(close=others <= self.allowed_pending))


def _deleting(obj: Mapping[str, Any]) -> bool:
    """Whether the API server is deleting the object (finalizers still hold it)."""
    meta = obj.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("deletionTimestamp"))
