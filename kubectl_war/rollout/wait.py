"""Waiting for the WARs a rollout tracks: one list, then a watch, and direct reads of the
tracked WARs at a modest interval and after every watch restart, so that a watch event
lost (a cut stream, an expired resourceVersion, a watch that delivers nothing) costs
seconds, not the batch's timeout."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubectl_war.errors import WarError
from kubectl_war.kube.requests import watch_request
from kubectl_war.kube.watch import watch
from kubectl_war.rollout.progress import SYNCING, Tracked
from kubectl_war.war import War

#: Seconds a watch is asked to stay open; a stopped watcher ends within about that.
WATCH_WINDOW = 2
#: Tracked WARs are read directly at least this often while a batch waits...
RESYNC = 5.0
#: ...and, after watch restarts, at most this often.
MIN_READ_GAP = 1.0
#: Pause before watching again after a watch that failed or ended early, doubling.
RESTART_BACKOFF = (0.5, 5.0)
#: More unresolved WARs than this are read with one list rather than a GET each.
GET_LIMIT = 20
#: How often the wait looks at the interrupt flag when nothing else happens.
TICK = 0.25

_RESTARTED = object()  # the watcher's note that its watch ended and a new one starts


class Waiter:
    """Waits until few enough tracked WARs are unresolved.

    `observe(tracked, obj)` moves a tracked WAR to the state the object now under its
    name shows (None: absent). `sidecar_poll` is how often WARs whose sidecar is not
    SYNCED yet are judged again (None: there is no sidecar check).
    """

    def __init__(
        self,
        kube: Any,
        res: Any,
        observe: Callable[[Tracked, Mapping[str, Any] | None], None],
        *,
        interrupted: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        sidecar_poll: float | None = None,
        resync: float = RESYNC,
    ) -> None:
        self.kube = kube
        self.res = res
        self.observe = observe
        self.interrupted = interrupted
        self.clock = clock
        self.sidecar_poll = sidecar_poll
        self.resync = resync

    def until(
        self, namespace: str, tracked: list[Tracked], allowed_pending: int, deadline: float
    ) -> bool:
        """Wait until at most `allowed_pending` of `tracked` are unresolved; False at the
        deadline. Raises KeyboardInterrupt as soon as `interrupted()` says so.

        One list gives the starting point; a watch (in a helper thread, so that the
        deadline, the interrupt flag and the sidecar polls are kept to the moment)
        reports every change, and the unresolved WARs are read directly every `resync`
        seconds and after each watch restart.
        """
        wanted = {t.name: t for t in tracked}
        known: dict[str, Mapping[str, Any]] = {}

        def pending() -> int:
            return sum(not t.resolved for t in tracked)

        def learn(name: str, obj: Mapping[str, Any] | None) -> None:
            t = wanted.get(name)
            if t is None:
                return
            old = known.get(name)
            if obj is None:
                known.pop(name, None)
            elif old is None or not _older(obj, old):
                known[name] = obj
            self.observe(t, known.get(name))

        listed = self.kube.list(self.res, namespace)
        present = by_name(listed.items)
        for name in wanted:
            learn(name, present.get(name))
        if pending() <= allowed_pending:
            return True
        events: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        watcher = threading.Thread(
            target=self._watch,
            args=(namespace, listed.resource_version, events, stop),
            name="kubectl-war-watch",
            daemon=True,
        )
        watcher.start()
        read_at = self.clock() + self.resync
        try:
            while pending() > allowed_pending:
                if self.interrupted():
                    raise KeyboardInterrupt
                now = self.clock()
                if now >= deadline:
                    return False
                if now >= read_at:
                    for name, obj in self._read(namespace, tracked).items():
                        learn(name, obj)
                    read_at = self.clock() + self.resync
                    continue
                polling = self.sidecar_poll is not None and any(t.state == SYNCING for t in tracked)
                wait = min(deadline - now, read_at - now, TICK)
                if polling and self.sidecar_poll is not None:
                    wait = min(wait, self.sidecar_poll)
                try:
                    item = events.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    item = None
                if item is _RESTARTED:
                    # What the broken watch may have missed is read now (or soon).
                    read_at = min(read_at, max(self.clock(), read_at - self.resync + MIN_READ_GAP))
                elif isinstance(item, list):  # listed again after the watch expired
                    present = by_name(item)
                    for name in wanted:
                        learn(name, present.get(name))
                elif item is not None:
                    meta = item.object.get("metadata") if isinstance(item.object, dict) else None
                    name = meta.get("name") if isinstance(meta, dict) else None
                    if isinstance(name, str) and name in wanted:
                        current = known.get(name)
                        if item.type != "DELETED":
                            learn(name, item.object)
                        elif current is None or War(current).uid == meta.get("uid"):
                            learn(name, None)
                elif polling:
                    for t in tracked:
                        if t.state == SYNCING:
                            self.observe(t, known.get(t.name))
            return True
        finally:
            stop.set()

    def _read(self, namespace: str, tracked: list[Tracked]) -> dict[str, Any]:
        """The unresolved WARs as the server has them now (None: absent); nothing when
        the server does not answer (the watch goes on, the next read may get through)."""
        names = [t.name for t in tracked if not t.resolved]
        try:
            if len(names) > GET_LIMIT:
                present = by_name(self.kube.list(self.res, namespace).items)
                return {n: present.get(n) for n in names}
            return {n: self.kube.get(self.res, namespace, n) for n in names}
        except WarError:
            return {}

    def _watch(
        self, namespace: str, rv: str | None, out: queue.Queue[Any], stop: threading.Event
    ) -> None:
        """Feed `out` with every change after `rv` until `stop` is set.

        Each watch asks the server to end it after `WATCH_WINDOW` seconds and is resumed
        from the last resourceVersion seen. One that fails or expires is followed by a
        fresh list (handed over whole); one that fails or ends early is retried after a
        pause that doubles, so a server that cuts every watch is not hammered.
        """
        pause = RESTART_BACKOFF[0]
        while not stop.is_set():
            started = time.monotonic()
            whole = False
            try:
                if rv is None:
                    listed = self.kube.list(self.res, namespace)
                    rv = listed.resource_version
                    out.put(list(listed.items))
                req = watch_request(
                    self.res, namespace, resource_version=rv, timeout_seconds=WATCH_WINDOW
                )
                for ev in watch(self.kube, req):
                    if stop.is_set():
                        return
                    meta = ev.object.get("metadata") if isinstance(ev.object, dict) else None
                    if isinstance(meta, dict) and meta.get("resourceVersion"):
                        rv = str(meta["resourceVersion"])
                    if ev.type != "BOOKMARK":
                        out.put(ev)
                whole = time.monotonic() - started >= WATCH_WINDOW * 0.9
            except Exception:  # expired, refused or broken: list again, then watch again
                rv = None
            if stop.is_set():
                return
            out.put(_RESTARTED)
            if whole:
                pause = RESTART_BACKOFF[0]
            else:
                if stop.wait(pause):
                    return
                pause = min(pause * 2, RESTART_BACKOFF[1])


def _older(obj: Mapping[str, Any], than: Mapping[str, Any]) -> bool:
    """Whether `obj` is an earlier version of the same object than `than` (a stale event
    that arrives after a direct read must not undo it)."""
    a, b = War(obj), War(than)
    if a.uid != b.uid:
        return False
    try:
        return int(a.resource_version) < int(b.resource_version)
    except (TypeError, ValueError):
        return False


def by_name(items: Any) -> dict[str, dict[str, Any]]:
    """WAR objects by name (of one namespace)."""
    out = {}
    for obj in items:
        war = War(obj)
        out[war.name] = war.obj
    return out
