"""Watching: the event stream, following a list with it, and waiting until a condition holds.

`follow` is list-then-watch with resume: a stream that ends is opened again from the
last resourceVersion seen, and a 410 (the server forgot that version) re-lists and
reports the difference as events; a watch that keeps expiring gives up after `RELISTS`
lists. `until` is the one wait every command uses (client-go's
`watchtools.UntilWithSync`, plus direct reads): the condition sees the current objects
after the list and after each change, and the wait ends when it holds or at the
deadline. A wait that names what it waits for (`reread`) also reads those objects
directly, at an interval and soon after a watch restart, so that an event a broken
watch never delivered costs seconds, not the whole wait.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from kubectl_war.jsondata import child
from kubectl_war.kube.errors import Gone, KubeError
from kubectl_war.kube.requests import (
    ListResult,
    Request,
    Resource,
    WatchEvent,
    object_key,
    watch_request,
)

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

    from kubectl_war.jsondata import JSON

#: Seconds one watch of a waiting thread stays open: a finished wait's thread ends within it.
WATCH_WINDOW = 2
#: A wait with `reread` reads what it waits for directly at least this often (seconds)...
REREAD_EVERY = 5.0
#: ...and soon after a watch restart, but never more often than this.
MIN_READ_GAP = 1.0
#: Pause before watching again after a watch that failed or ended early, doubling.
RESTART_BACKOFF = (0.5, 5.0)
#: Lists after expired watches (410) with no working watch between them before giving up.
RELISTS = 3
#: More names than this are read directly with one list rather than a GET each.
GET_LIMIT = 20
#: How often a wait with `interrupted` looks at it when nothing else happens.
TICK = 0.25

Key = tuple[str, str]  # (namespace, name)
#: What a wait reads directly: the (namespace, name) of each object it still waits on,
#: or None for every object in its scope (see `everything`).
Reread = Callable[[], Optional[Collection[Key]]]
_RESTARTED = object()  # the watching thread's note that its watch restarted


class WatchGaveUp(KubeError):
    """Every watch kept expiring (410) however often the list was taken again."""


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

    def get(self, res: Resource, namespace: str | None, name: str) -> JSON | None: ...

    def debug_log(self, line: str) -> None: ...


class Store:
    """The objects a list-then-watch knows now, kept current event by event.

    Attributes:
        resource_version: where a watch resumes: the list's, then each event's.
        changed: the event just applied; None right after a list, a direct read or a
            poll (the whole state is new to whoever looks).
    """

    def __init__(self, items: Iterable[JSON] = (), resource_version: str = "") -> None:
        self._by_key: dict[str, JSON] = {}
        self._by_name: dict[Key, JSON] = {}
        # uids a direct read showed replaced by another object: their late events are stale.
        self._replaced: set[str] = set()
        self.resource_version = resource_version
        self.changed: WatchEvent | None = None
        for obj in items:
            self._put(obj)

    def get(self, namespace: str | None, name: str) -> JSON | None:
        """The object under this name now, or None."""
        return self._by_name.get((namespace or "", name))

    def items(self) -> list[JSON]:
        """Every object known, listed ones in list order, then new ones as they came."""
        return list(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def listed(self) -> ListResult:
        """The state as a list result: what a new `follow` starts from."""
        return ListResult(self.items(), self.resource_version)

    def apply(self, event: WatchEvent) -> bool:
        """Take one event in (a BOOKMARK moves only the resourceVersion). False when it
        changes nothing: a bookmark, or a version older than one read directly."""
        rv = _rv(event.object)
        if rv:
            self.resource_version = rv
        if event.type == "BOOKMARK":
            return False
        key = object_key(event.object.get("metadata"))
        if event.type != "DELETED":
            held = self._by_key.get(key)
            if _uid(event.object) in self._replaced or (
                held is not None and _older(event.object, held)
            ):
                return False
        self.changed = event
        if event.type == "DELETED":
            self._drop(key, event.object)
        else:
            self._put(event.object)
        return True

    def refresh(self, namespace: str, name: str, obj: JSON | None) -> None:
        """Take in a direct read of one name (None: absent), unless what is held is a
        newer version of the same object."""
        held = self._by_name.get((namespace, name))
        if held is not None and (obj is None or _uid(held) != _uid(obj)):
            if obj is not None:
                self._replaced.add(_uid(held))
            self._drop(object_key(held.get("metadata")), held)
        if obj is not None:
            current = self._by_key.get(object_key(obj.get("metadata")))
            if current is None or not _older(obj, current):
                self._put(obj)

    def names(self) -> list[Key]:
        """The (namespace, name) of every object known."""
        return list(self._by_name)

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

    def _put(self, obj: JSON) -> None:
        meta = obj.get("metadata")
        self._by_key[object_key(meta)] = obj
        name = _name(meta)
        if name is not None:
            self._by_name[name] = obj

    def _drop(self, key: str, obj: JSON) -> None:
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
            obj = child(event, "object")
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
    nothing is reported twice. Raises `WatchGaveUp` when watches keep expiring.
    """
    selectors = {"label_selector": label_selector, "field_selector": field_selector}
    for item in _changes(kube, res, namespace, listed, selectors, deadline=deadline, clock=clock):
        if isinstance(item, WatchEvent):
            yield item


def everything() -> None:
    """A `reread` for a condition on every object in scope: each direct read lists them."""
    return None


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
    reread: Reread | None = None,
    reread_every: float = REREAD_EVERY,
    interrupted: Callable[[], bool] | None = None,
) -> bool:
    """List, then watch until `condition(store)` is true; False when `deadline` passes.

    The condition is called on the current objects once after the list (`changed` is
    None) and again after each change (`changed` is that event). Streams that end are
    resumed and a 410 re-lists (see `follow`). The watch runs in a helper thread, so the
    deadline, the polls and the direct reads are kept to the moment.

    Args:
        listed: a list the caller already took (no list is sent then).
        deadline: when to give up, in `clock` seconds; None waits as long as it takes.
        poll: for a condition that also reads something that has no watch: asked
            after each call of the condition, it answers how long to wait at most before
            the condition is called again without a change (`changed` None), or None.
        reread: what the condition waits on (a `Reread`): those objects are read
            directly every `reread_every` seconds and soon after a watch that failed,
            was cut early or expired, and the condition is called again (`changed`
            None). A wait with `reread` outlives a watch that gives up (it goes on by
            reading); one without raises the watch's error.
        interrupted: asked at least every `TICK` seconds; True raises KeyboardInterrupt.
    """
    selectors = {"label_selector": label_selector, "field_selector": field_selector}
    if listed is None:
        listed = kube.list(res, namespace, **selectors)
    store = Store(listed.items, listed.resource_version)
    if condition(store):
        return True
    if deadline is not None and clock() >= deadline:
        return False
    events: queue.Queue[WatchEvent | object] = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch_into,
        args=(kube, res, namespace, store.listed(), selectors, events, stop),
        name="kubectl-war-watch",
        daemon=True,
    )
    watcher.start()
    loop = _Loop(kube, res, namespace, store, selectors, condition, clock, deadline)
    loop.poll, loop.interrupted = poll, interrupted
    loop.reread, loop.reread_every = reread, reread_every
    try:
        return loop.run(events)
    finally:
        stop.set()


class _Loop:
    """`until` after its list: the watch's events applied, direct reads and polls when
    they are due, until the condition holds or the deadline passes."""

    poll: Callable[[], float | None] | None = None
    reread: Reread | None = None
    reread_every: float = REREAD_EVERY
    interrupted: Callable[[], bool] | None = None

    def __init__(
        self,
        kube: Watchable,
        res: Resource,
        namespace: str | None,
        store: Store,
        selectors: dict[str, str | None],
        condition: Callable[[Store], bool],
        clock: Callable[[], float],
        deadline: float | None,
    ) -> None:
        self.kube, self.res, self.namespace = kube, res, namespace
        self.store, self.selectors, self.condition = store, selectors, condition
        self.clock, self.deadline = clock, deadline
        self.read_at = self.last_read = 0.0
        self.poll_at: float | None = None

    def run(self, events: queue.Queue[WatchEvent | object]) -> bool:
        self.last_read = self.clock()
        self.read_at = self.last_read + self.reread_every
        self.poll_at = _next_poll(self.poll, self.clock)
        while True:
            if self.interrupted is not None and self.interrupted():
                raise KeyboardInterrupt
            now = self.clock()
            if self.deadline is not None and now >= self.deadline:
                return False
            reading = self.reread is not None and now >= self.read_at
            if reading or (self.poll_at is not None and now >= self.poll_at):
                if self._check_again(reading):
                    return True
                continue
            try:
                # Bounded: a timeout of "no limit" is infinite, which get() refuses.
                item = events.get(timeout=self._longest_wait(now))
            except queue.Empty:
                continue
            if self._take(item):
                return True

    def _check_again(self, reading: bool) -> bool:
        """The condition, called without a change (after a direct read when `reading`)."""
        if self.reread is not None and reading:
            _read_into(
                self.kube, self.res, self.namespace, self.store, self.reread(), self.selectors
            )
            self.last_read = self.clock()
            self.read_at = self.last_read + self.reread_every
        self.store.changed = None
        if self.condition(self.store):
            return True
        self.poll_at = _next_poll(self.poll, self.clock)
        return False

    def _longest_wait(self, now: float) -> float:
        """How long to wait for an event before something else is due."""
        due = (self.deadline, self.poll_at, self.read_at if self.reread is not None else None)
        waits = [t - now for t in due if t is not None]
        if self.interrupted is not None:
            waits.append(TICK)
        return min(waits) if waits else 3600.0

    def _take(self, item: Any) -> bool:
        """One item from the watch thread; True when the condition now holds."""
        if item is _RESTARTED:
            # What the broken watch may have missed is read now, or soon.
            self.read_at = min(self.read_at, max(self.clock(), self.last_read + MIN_READ_GAP))
        elif isinstance(item, BaseException):
            if self.reread is None:
                raise item
            self.kube.debug_log(f"debug: {item}; reading directly every {self.reread_every:g}s")
        elif self.store.apply(item):
            if self.condition(self.store):
                return True
            self.poll_at = _next_poll(self.poll, self.clock)
        return False


def _next_poll(poll: Callable[[], float | None] | None, clock: Callable[[], float]) -> float | None:
    every = poll() if poll is not None else None
    return clock() + every if every is not None else None


def _read_into(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    store: Store,
    keys: Collection[Key] | None,
    selectors: dict[str, str | None],
) -> None:
    """Read `keys` (None: everything in scope) from the server into `store`: a GET each,
    or one list for many. Nothing changes when the server does not answer (the watch
    goes on, and the next read may get through)."""
    try:
        if keys is not None and len(keys) <= GET_LIMIT:
            found = [(key, kube.get(res, key[0], key[1])) for key in keys]
        else:
            listed = kube.list(res, namespace, **selectors)
            present = {}
            for obj in listed.items:
                name = _name(obj.get("metadata"))
                if name is not None:
                    present[name] = obj
            wanted = keys if keys is not None else {*store.names(), *present}
            found = [(key, present.get(key)) for key in wanted]
    except KubeError as exc:
        kube.debug_log(f"debug: reading directly failed: {exc}")
        return
    for (ns, obj_name), read in found:
        store.refresh(ns, obj_name, read)


def _changes(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    listed: ListResult,
    selectors: dict[str, str | None],
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    window: int | None = None,
    stop: threading.Event | None = None,
) -> Iterator[WatchEvent | object]:
    """The watch loop `follow` and a waiting thread share: every change after `listed`,
    and `_RESTARTED` after a watch that failed, was cut early or expired.

    Each watch resumes from the last resourceVersion seen, asking the server to end it
    after `window` seconds (None: when the server likes) or at the deadline. A 410
    lists again and yields the difference; after `RELISTS` such lists with no working
    watch between them, `WatchGaveUp` is raised. A watch that ends early with nothing
    delivered (or expires twice in a row) is followed by a pause that doubles, so a
    server that cuts every watch is not hammered. Other errors are raised.
    """
    known = Store(listed.items, listed.resource_version)
    idle = stop or threading.Event()
    expired = 0
    pause = RESTART_BACKOFF[0]
    while not idle.is_set() and (deadline is None or clock() < deadline):
        timeout = window
        if deadline is not None:
            left = max(1, int(deadline - clock()))
            timeout = left if timeout is None else min(timeout, left)
        req = watch_request(
            res,
            namespace,
            resource_version=known.resource_version,
            timeout_seconds=timeout,
            **selectors,
        )
        started = time.monotonic()
        delivered = gone = False
        try:
            for event in watch(kube, req):
                delivered = True
                known.apply(event)
                if event.type != "BOOKMARK":
                    yield event
        except Gone:
            gone = True
        healthy = delivered or time.monotonic() - started >= 0.9 * (timeout or 1.0)
        if gone:
            # Counted from the last watch that worked: a 410 after one is a new run.
            expired = 1 if healthy else expired + 1
            if expired > RELISTS:
                raise WatchGaveUp(
                    f"the watch of {res.qualified} kept expiring (410 Gone): "
                    f"gave up after listing again {RELISTS} times"
                )
            kube.debug_log("debug: watch resourceVersion expired; listing again")
            yield from known.resync(kube.list(res, namespace, **selectors))
        elif healthy:
            expired = 0
        if healthy:
            pause = RESTART_BACKOFF[0]
            if not gone:
                continue
        yield _RESTARTED
        if healthy or expired == 1:
            continue  # one expiry is routine (the server compacted): watch again at once
        wait = pause if deadline is None else min(pause, max(deadline - clock(), 0.0))
        if idle.wait(wait):
            return
        pause = min(pause * 2, RESTART_BACKOFF[1])


def _watch_into(
    kube: Watchable,
    res: Resource,
    namespace: str | None,
    listed: ListResult,
    selectors: dict[str, str | None],
    out: queue.Queue[WatchEvent | object],
    stop: threading.Event,
) -> None:
    """Feed `out` with every change after `listed` (and `_RESTARTED` notes) until `stop`
    is set: the body of a thread that watches for a wait. An error is put on `out` too,
    for the waiting thread to raise or outlive."""
    try:
        for item in _changes(
            kube, res, namespace, listed, selectors, window=WATCH_WINDOW, stop=stop
        ):
            if stop.is_set():
                return
            out.put(item)
    except Exception as exc:  # handed to the waiting thread
        if not stop.is_set():
            out.put(exc)


def _older(obj: JSON, than: JSON) -> bool:
    """Whether `obj` is an earlier version of the same object than `than` (a late event
    after a direct read must not undo it). resourceVersions are opaque to clients, but
    the API server's are etcd revisions: compared as numbers when both are."""
    if _uid(obj) != _uid(than):
        return False
    try:
        return int(_rv(obj)) < int(_rv(than))
    except ValueError:
        return False


def _rv(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


def _uid(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return str(meta.get("uid") or "") if isinstance(meta, dict) else ""


def _name(meta: Any) -> Key | None:
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    return (str(meta.get("namespace") or ""), meta["name"])


def _lines(resp: HTTPResponse) -> Iterator[bytes]:
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


def _safe_lines(resp: HTTPResponse) -> Iterator[bytes]:
    """`_lines`, ending quietly when the connection breaks mid-stream."""
    import urllib3.exceptions as u3  # the kubernetes client loads on first use

    try:
        yield from _lines(resp)
    except (u3.HTTPError, OSError):
        return
