"""Watching: the event stream, following a list with it, and waiting until a condition holds.

`follow` is list-then-watch with resume: a stream that ends is opened again from the
last resourceVersion seen, and a 410 (the server forgot that version) re-lists and
reports the difference as events. `until` is the one wait built on it (client-go's
`watchtools.UntilWithSync`): the condition sees the current objects after the list
and after each change, and the wait ends when it holds or at the deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Protocol

from kubectl_war.kube.errors import Gone, KubeError
from kubectl_war.kube.requests import (
    ListResult,
    Request,
    Resource,
    WatchEvent,
    object_key,
    watch_request,
)

# How long one watch request of a watching thread stays open: a stopped wait's thread
# ends within this (the API server only ends a watch on whole seconds).
WATCH_WINDOW = 2.0


class Watchable(Protocol):
    """What watching needs of a client (kube.Kube is one)."""

    def send(self, req: Request) -> Any: ...

    def list(
        self,
        res: Resource,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> ListResult: ...

    def debug_log(self, line: str) -> None: ...


class Store:
    """The objects a list-then-watch knows now, kept current event by event.

    Attributes:
        resource_version: where a watch resumes: the list's, then each event's.
        changed: the event just applied; None right after a list or a poll (the
            whole state is new to whoever looks).
    """

    def __init__(self, items: Iterable[dict[str, Any]] = (), resource_version: str = "") -> None:
        self._by_key: dict[str, dict[str, Any]] = {}
        self._by_name: dict[tuple[str, str], dict[str, Any]] = {}
        self.resource_version = resource_version
        self.changed: WatchEvent | None = None
        for obj in items:
            self._put(obj)

    def get(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object under this name now, or None."""
        return self._by_name.get((namespace or "", name))

    def items(self) -> list[dict[str, Any]]:
        """Every object known, listed ones in list order, then new ones as they came."""
        return list(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def listed(self) -> ListResult:
        """The state as a list result: what a new `follow` starts from."""
        return ListResult(self.items(), self.resource_version)

    def apply(self, event: WatchEvent) -> None:
        """Take one event in (a BOOKMARK moves only the resourceVersion)."""
        rv = _rv(event.object)
        if rv:
            self.resource_version = rv
        if event.type == "BOOKMARK":
            return
        self.changed = event
        if event.type == "DELETED":
            self._drop(object_key(event.object.get("metadata")), event.object)
        else:
            self._put(event.object)

    def resync(self, fresh: ListResult) -> Iterator[WatchEvent]:
        """Take a new list in, yielding (and applying) the difference as events: those
        gone first, in the order they were known, then new and changed ones in list order."""
        now = {object_key(o.get("metadata")): o for o in fresh.items}
        for key, obj in list(self._by_key.items()):
            if key not in now:
                self._drop(key, obj)
                yield self._changed(WatchEvent("DELETED", obj))
        for key, obj in now.items():
            old = self._by_key.get(key)
            if old is None:
                self._put(obj)
                yield self._changed(WatchEvent("ADDED", obj))
            elif _rv(old) != _rv(obj):
                self._put(obj)
                yield self._changed(WatchEvent("MODIFIED", obj))
        self.resource_version = fresh.resource_version

    def _changed(self, event: WatchEvent) -> WatchEvent:
        self.changed = event
        return event

    def _put(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata")
        self._by_key[object_key(meta)] = obj
        name = _name(meta)
        if name is not None:
            self._by_name[name] = obj

    def _drop(self, key: str, obj: dict[str, Any]) -> None:
        self._by_key.pop(key, None)
        name = _name(obj.get("metadata"))
        current = self._by_name.get(name) if name is not None else None
        # Only when the name still holds that very object (not one re-created since).
        if name is not None and current is not None and _uid(current) == _uid(obj):
            del self._by_name[name]


def watch(kube: Watchable, req: Request) -> Iterator[WatchEvent]:
    """The events a watch request (`watch_request`) answers, until the stream ends.

    A stream the server or the network cuts simply ends: the caller resumes from
    the last resourceVersion it saw. Raises `Gone` when the server no longer has
    that version.
    """
    resp = kube.send(req)
    try:
        for line in _safe_lines(resp):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            etype = event.get("type")
            obj = event.get("object") if isinstance(event.get("object"), dict) else {}
            if etype == "ERROR":
                if obj.get("code") == 410:
                    raise Gone(f"watch failed: {obj.get('message') or obj}", body=obj)
                raise KubeError(f"watch failed: {obj.get('message') or obj}")
            yield WatchEvent(str(etype), obj)
    finally:
        resp.release_conn()


def follow(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    listed: ListResult,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[WatchEvent]:
    """Changes after a list, for as long as the caller iterates (or until `deadline`,
    in `clock` seconds).

    A stream that ends is resumed from the last resourceVersion seen; a 410 means
    the server forgot that version, so the list is taken again and the difference
    from what the caller already has is yielded as events: nothing is lost and
    nothing is reported twice.
    """
    known = Store(listed.items, listed.resource_version)
    while deadline is None or clock() < deadline:
        timeout = None
        if deadline is not None:
            timeout = max(1, int(deadline - clock()))
        try:
            req = watch_request(
                res,
                namespace,
                resource_version=known.resource_version,
                label_selector=label_selector,
                field_selector=field_selector,
                timeout_seconds=timeout,
            )
            for event in watch(kube, req):
                known.apply(event)
                if event.type != "BOOKMARK":
                    yield event
        except Gone:
            kube.debug_log("debug: watch resourceVersion expired; listing again")
            fresh = kube.list(
                res, namespace, label_selector=label_selector, field_selector=field_selector
            )
            yield from known.resync(fresh)


def until(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    condition: Callable[[Store], bool],
    *,
    listed: ListResult | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    poll: Callable[[], float | None] | None = None,
) -> bool:
    """List, then watch until `condition(store)` is true; False when `deadline` passes.

    The condition is called on the current objects once after the list (`changed` is
    None) and again after each change (`changed` is that event). Streams that end are
    resumed and a 410 re-lists (see `follow`), so the condition never misses a change.

    Args:
        listed: a list the caller already took (no list is sent then).
        deadline: when to give up, in `clock` seconds; None waits as long as it takes.
        poll: for a condition that also reads something that has no watch: asked
            before each wait, it answers how long to wait at most before the condition
            is called again without a change (`changed` None), or None for no limit.
            With `poll`, the watch runs in a helper thread, so the deadline and the
            polls are kept to the moment (not to the API server's whole seconds).
    """
    if listed is None:
        listed = kube.list(
            res, namespace, label_selector=label_selector, field_selector=field_selector
        )
    store = Store(listed.items, listed.resource_version)
    if condition(store):
        return True
    selectors = {"label_selector": label_selector, "field_selector": field_selector}
    if poll is not None:
        return _until_polling(
            kube, res, namespace, condition, store, selectors, deadline, clock, poll
        )
    for event in follow(kube, res, namespace, listed, deadline=deadline, clock=clock, **selectors):
        store.apply(event)
        if condition(store):
            return True
        if deadline is not None and clock() >= deadline:
            return False
    return False


def _until_polling(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    condition: Callable[[Store], bool],
    store: Store,
    selectors: dict[str, str | None],
    deadline: float | None,
    clock: Callable[[], float],
    poll: Callable[[], float | None],
) -> bool:
    import queue
    import threading

    events: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_into,
        args=(kube, res, namespace, store.listed(), events, stop, selectors),
        name="kubectl-war-watch",
        daemon=True,
    )
    watcher.start()
    try:
        while True:
            left = deadline - clock() if deadline is not None else None
            if left is not None and left <= 0:
                return False
            every = poll()
            # Bounded: a timeout of "no limit" is infinite, which get() refuses.
            waits = [w for w in (left, every) if w is not None]
            try:
                event = events.get(timeout=min(waits) if waits else 3600.0)
            except queue.Empty:
                event = None
            if isinstance(event, BaseException):
                raise event
            if event is not None:
                store.apply(event)
            elif every is None:
                continue
            else:
                store.changed = None
            if condition(store):
                return True
    finally:
        stop.set()


def watch_into(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    listed: ListResult,
    out: Any,
    stop: Any,
    selectors: dict[str, str | None] | None = None,
) -> None:
    """Feed `out` (a queue) with every change after `listed` until `stop` (a
    threading.Event) is set: the body of a thread that watches for another.

    Watches are opened for `WATCH_WINDOW` seconds at a time and resumed from the
    last resourceVersion seen, so a stopped wait's thread ends within that window.
    An error is put on `out` too, for the waiting thread to raise.
    """
    known = Store(listed.items, listed.resource_version)
    try:
        while not stop.is_set():
            window = time.monotonic() + WATCH_WINDOW
            for event in follow(
                kube, res, namespace, known.listed(), deadline=window, **(selectors or {})
            ):
                known.apply(event)
                if stop.is_set():
                    return
                out.put(event)
    except Exception as exc:  # handed to the waiting thread, which raises it
        if not stop.is_set():
            out.put(exc)


def _rv(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


def _uid(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return str(meta.get("uid") or "") if isinstance(meta, dict) else ""


def _name(meta: Any) -> tuple[str, str] | None:
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    return (str(meta.get("namespace") or ""), meta["name"])


def _lines(resp: Any) -> Iterator[bytes]:
    """Newline-delimited chunks of a streaming response."""
    buf = b""
    for chunk in resp.stream(amt=None, decode_content=False):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line
    if buf.strip():
        yield buf


def _safe_lines(resp: Any) -> Iterator[bytes]:
    """`_lines`, ending quietly when the connection breaks mid-stream."""
    import urllib3.exceptions as u3

    try:
        yield from _lines(resp)
    except (u3.HTTPError, OSError):
        return
