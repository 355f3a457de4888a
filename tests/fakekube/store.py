"""The fake API server's storage: objects, resourceVersions, the event log, API semantics.

One global resourceVersion counter, bumped by every write. Every write also goes
into an event log of the last ``watch_window`` events; the log serves watches and
lets a paged list continue at the snapshot its first page saw (like etcd MVCC),
as long as the snapshot is still inside the window. Objects are kept in etcd key
order (``namespace/name``) and each one's JSON is serialized once per apiVersion.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import copy
import gc
import json
import random
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Callable

from .availability import WARS, Availability
from .clock import format_time
from .fields import (
    Path,
    changed_fields,
    fields_of,
    fieldsv1_to_paths,
    managed_view,
    paths_to_fieldsv1,
)
from .resources import ResourceType
from .selectors import FieldRequirement, LabelRequirement, match_fields, match_labels

__all__ = ["ApiError", "LogEvent", "Store", "Stored", "dumps", "paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while bulk-building objects.

    Tens of thousands of fresh nested dicts otherwise trigger full collections
    over and over, which turns a linear build quadratic in practice.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def dumps(obj: Any) -> bytes:
    # Compact and key-sorted: how Go serializes the maps a custom resource is made of.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class ApiError(Exception):
    """An error the API answers with a ``Status`` body."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    @staticmethod
    def details_for(rt: ResourceType, name: str | None) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if name:
            details["name"] = name
        if rt.group:
            details["group"] = rt.group
        details["kind"] = rt.plural
        return details

    @classmethod
    def not_found(cls, rt: ResourceType, name: str) -> ApiError:
        return cls(404, "NotFound", f'{rt.qualified} "{name}" not found', cls.details_for(rt, name))

    @classmethod
    def already_exists(cls, rt: ResourceType, name: str) -> ApiError:
        return cls(
            409,
            "AlreadyExists",
            f'{rt.qualified} "{name}" already exists',
            cls.details_for(rt, name),
        )

    @classmethod
    def conflict(cls, rt: ResourceType, name: str, why: str) -> ApiError:
        return cls(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {rt.qualified} "{name}": {why}',
            cls.details_for(rt, name),
        )

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def invalid(cls, rt: ResourceType, name: str, field: str, why: str) -> ApiError:
        details = cls.details_for(rt, name)
        details["kind"] = rt.kind
        details["causes"] = [{"reason": "FieldValueInvalid", "message": why, "field": field}]
        return cls(
            422, "Invalid", f'{rt.kind}.{rt.group or "core"} "{name}" is invalid: {why}', details
        )

    @classmethod
    def not_found_path(cls) -> ApiError:
        return cls(404, "NotFound", "the server could not find the requested resource", {})


class Stored:
    """One version of one object, kept as its JSON plus a small index.

    Keeping bytes rather than parsed dicts keeps 50,000 objects cheap in memory
    and invisible to the cyclic garbage collector; ``load()`` parses a fresh copy.
    """

    __slots__ = ("api_version", "fields", "key", "labels", "owners", "raw", "rv", "table_row")

    def __init__(self, obj: dict[str, Any], rv: int, rt: ResourceType, key: str) -> None:
        self.raw = dumps(obj)
        # The server's cached pieces of this version's Table row (see FakeKube._table_page).
        self.table_row: Any = None
        self.rv = rv
        self.key = key
        self.api_version = str(obj.get("apiVersion", ""))
        meta = obj.get("metadata") or {}
        self.labels: dict[str, str] = dict(meta.get("labels") or {})
        self.fields = rt.field_values(obj)
        self.owners = tuple(
            str(ref["uid"])
            for ref in meta.get("ownerReferences") or []
            if isinstance(ref, dict) and ref.get("uid")
        )

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]

    @property
    def namespace(self) -> str | None:
        ns, sep, _ = self.key.rpartition("/")
        return ns if sep else None

    def load(self) -> dict[str, Any]:
        """A fresh deep copy of the object."""
        return json.loads(self.raw)

    copy = load

    def json(self, api_version: str | None = None) -> bytes:
        """The object's JSON, with apiVersion as the request's version asks."""
        if not api_version or api_version == self.api_version:
            return self.raw
        # Keys are sorted, so apiVersion leads: swap it without parsing.
        head = b'{"apiVersion":' + json.dumps(self.api_version).encode()
        if self.raw.startswith(head):
            return b'{"apiVersion":' + json.dumps(api_version).encode() + self.raw[len(head) :]
        obj = self.load()
        obj["apiVersion"] = api_version
        return dumps(obj)


class LogEvent:
    __slots__ = ("key", "new", "plural", "prev", "rv", "type")

    def __init__(
        self, rv: int, plural: str, key: str, type: str, new: Stored, prev: Stored | None
    ) -> None:
        self.rv = rv
        self.plural = plural
        self.key = key
        self.type = type
        self.new = new
        self.prev = prev


class Filter:
    """Namespace, name and selectors of a list or watch request."""

    def __init__(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        labels: Sequence[LabelRequirement] = (),
        fields: Sequence[FieldRequirement] = (),
    ) -> None:
        self.rt = rt
        self.namespace = namespace or None
        self.labels = list(labels)
        self.fields = list(fields)
        self.prefix = f"{namespace}/" if namespace else ""

    @property
    def has_selectors(self) -> bool:
        return bool(self.labels or self.fields)

    def in_scope(self, key: str) -> bool:
        return key.startswith(self.prefix)

    def matches(self, stored: Stored) -> bool:
        if self.labels and not match_labels(self.labels, stored.labels):
            return False
        return not self.fields or match_fields(self.fields, stored.fields)


def object_key(rt: ResourceType, namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if rt.namespaced else name


_GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class Store:
    def __init__(
        self,
        types: Iterable[ResourceType],
        clock: Callable[[], datetime],
        watch_window: int = 1000,
    ) -> None:
        self.types: dict[str, ResourceType] = {rt.plural: rt for rt in types}
        self.clock = clock
        self.watch_window = max(1, watch_window)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 100
        self._items: dict[str, dict[str, Stored]] = {p: {} for p in self.types}
        self._keys: dict[str, list[str]] = {p: [] for p in self.types}
        self._unsorted: set[str] = set()
        self._owners: dict[str, set[tuple[str, str]]] = {}
        self.log: list[LogEvent] = []
        self.log_rvs: list[int] = []
        # History below these resourceVersions is gone: the event log was trimmed
        # (log_floor), compact() ran (compact_floor), or expire_continue_tokens() ran.
        self.log_floor = 0
        self.compact_floor = 0
        self.continue_floor = 0
        self.closed = False
        self._random = random.Random()
        # WARs unavailable per WorkloadGroup, and the most at once: see availability.py.
        self.availability = Availability()

    # -- reading -----------------------------------------------------------------

    def type_for(self, plural: str) -> ResourceType:
        try:
            return self.types[plural]
        except KeyError:
            raise KeyError(f"resource {plural!r} is not served") from None

    def keys(self, plural: str) -> list[str]:
        keys = self._keys[plural]
        if plural in self._unsorted:
            keys.sort()
            self._unsorted.discard(plural)
        return keys

    def get(self, plural: str, key: str) -> Stored | None:
        return self._items[plural].get(key)

    def scan(self, flt: Filter) -> Iterator[Stored]:
        """Current objects in key order within the filter's namespace (selectors not applied)."""
        items = self._items[flt.rt.plural]
        keys = self.keys(flt.rt.plural)
        if flt.prefix:
            lo = bisect.bisect_left(keys, flt.prefix)
            hi = bisect.bisect_left(keys, flt.prefix[:-1] + "0")  # "0" sorts right after "/"
        else:
            lo, hi = 0, len(keys)
        for key in keys[lo:hi]:
            yield items[key]

    def list_page(
        self,
        flt: Filter,
        *,
        snapshot: int | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Stored], str | None, int | None, int]:
        """One page of a list at ``snapshot`` (None: now) after key ``after``.

        Returns the items, the last key read when more remain (for the continue
        token), remainingItemCount when it is defined, and the snapshot rv.
        """
        plural = flt.rt.plural
        rv = self.rv if snapshot is None else snapshot
        live = self._items[plural]
        keys = self.keys(plural)
        changed: dict[str, Stored | None] = {}
        if rv != self.rv:
            changed = self._state_before(plural, rv)
        if flt.prefix:
            lo = bisect.bisect_left(keys, flt.prefix)
            end = bisect.bisect_left(keys, flt.prefix[:-1] + "0")
        else:
            lo, end = 0, len(keys)
        i = max(lo, bisect.bisect_right(keys, after)) if after is not None else lo
        gone = sorted(
            k
            for k, prev in changed.items()
            if prev is not None
            and k not in live
            and flt.in_scope(k)
            and (after is None or k > after)
        )
        j = 0
        out: list[Stored] = []
        last: str | None = None

        def skip_invisible() -> None:
            nonlocal i
            while i < end and keys[i] in changed and changed[keys[i]] is None:
                i += 1

        skip_invisible()
        while i < end or j < len(gone):
            if limit and len(out) >= limit:
                break
            if j < len(gone) and (i >= end or gone[j] < keys[i]):
                key = gone[j]
                j += 1
                stored = changed[key]
            else:
                key = keys[i]
                i += 1
                stored = changed[key] if key in changed else live[key]
            last = key
            if stored is not None and flt.matches(stored):
                out.append(stored)
            skip_invisible()
        more = i < end or j < len(gone)
        if not more:
            return out, None, None, rv
        remaining: int | None = None
        if not flt.has_selectors and last is not None:
            remaining = end - bisect.bisect_right(keys, last)
            for key, prev in changed.items():
                if flt.in_scope(key) and key > last:
                    remaining += (prev is not None) - (key in live)
        return out, last, remaining, rv

    def _state_before(self, plural: str, rv: int) -> dict[str, Stored | None]:
        """For each key of ``plural`` written after ``rv``: its state at ``rv``."""
        state: dict[str, Stored | None] = {}
        start = bisect.bisect_right(self.log_rvs, rv)
        for ev in self.log[start:]:
            if ev.plural == plural and ev.key not in state:
                state[ev.key] = ev.prev
        return state

    def events_after(self, rv: int) -> list[LogEvent]:
        return self.log[bisect.bisect_right(self.log_rvs, rv) :]

    def dependents(self, uid: str) -> list[tuple[str, str]]:
        return sorted(self._owners.get(uid, ()))

    # -- writing -----------------------------------------------------------------

    def _commit(self, rt: ResourceType, key: str, obj: dict[str, Any] | None) -> LogEvent:
        """Store a new version of ``key`` (or delete it when ``obj`` is None) and log it."""
        self.rv += 1
        rv = self.rv
        plural = rt.plural
        items = self._items[plural]
        prev = items.get(key)
        if obj is None:
            assert prev is not None
            tomb = prev.load()
            tomb["metadata"]["resourceVersion"] = str(rv)
            new = Stored(tomb, rv, rt, key)
            del items[key]
            keys = self.keys(plural)
            del keys[bisect.bisect_left(keys, key)]
            kind = "DELETED"
        else:
            obj["metadata"]["resourceVersion"] = str(rv)
            new = Stored(obj, rv, rt, key)
            items[key] = new
            if prev is None:
                keys = self._keys[plural]
                if keys and keys[-1] > key:
                    self._unsorted.add(plural)
                keys.append(key)
            kind = "MODIFIED" if prev is not None else "ADDED"
        self._index_owners(plural, key, prev, None if obj is None else new)
        if plural == WARS:
            self.availability.observe(key, obj)
        ev = LogEvent(rv, plural, key, kind, new, prev)
        self.log.append(ev)
        self.log_rvs.append(rv)
        excess = len(self.log) - self.watch_window
        if excess > 0:
            self.log_floor = max(self.log_floor, self.log_rvs[excess - 1])
            del self.log[:excess]
            del self.log_rvs[:excess]
        self.changed.notify_all()
        return ev

    def _index_owners(self, plural: str, key: str, old: Stored | None, new: Stored | None) -> None:
        for stored, add in ((old, False), (new, True)):
            if stored is None:
                continue
            for uid in stored.owners:
                members = self._owners.setdefault(uid, set())
                if add:
                    members.add((plural, key))
                else:
                    members.discard((plural, key))
                    if not members:
                        del self._owners[uid]

    def bump(self) -> int:
        """A write that changes no object, like the compaction record etcd keeps."""
        self.rv += 1
        self.changed.notify_all()
        return self.rv

    def generate_name(self, prefix: str) -> str:
        return prefix + "".join(self._random.choice(_GENERATE_CHARS) for _ in range(5))

    # -- API semantics ------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        obj: dict[str, Any],
        *,
        manager: str,
        api_version: str,
        dry_run: bool = False,
        seed: bool = False,
        operation: str = "Update",
    ) -> Stored:
        """Create like the API server; ``seed`` keeps given uid, stamps, status, managedFields.

        Only the top level and metadata of ``obj`` are copied before changes: the
        object is serialized at once and nested values are never mutated.
        """
        obj = dict(obj)
        meta = obj.get("metadata")
        meta = obj["metadata"] = dict(meta) if isinstance(meta, dict) else {}
        name = meta.get("name") or ""
        if not name:
            if meta.get("generateName"):
                name = meta["name"] = self.generate_name(meta["generateName"])
            else:
                raise ApiError.invalid(
                    rt,
                    "",
                    "metadata.name",
                    "metadata.name: Required value: name or generateName is required",
                )
        _check_annotations(rt, name, meta)
        namespace = meta.get("namespace") if rt.namespaced else None
        if rt.namespaced and not namespace:
            raise ApiError.bad_request("the namespace of the object is required")
        if not rt.namespaced:
            meta.pop("namespace", None)
        key = object_key(rt, namespace, name)
        if key in self._items[rt.plural]:
            raise ApiError.already_exists(rt, name)
        now = format_time(self.clock())
        obj["apiVersion"] = rt.api_version()
        obj["kind"] = rt.kind
        if not seed and rt.custom and rt.has_status:
            obj.pop("status", None)  # a CRD with a status subresource ignores status on create
        for field in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(field, None)
        if not (seed and meta.get("uid")):
            meta["uid"] = str(uuid.uuid4())
        if not (seed and meta.get("creationTimestamp")):
            meta["creationTimestamp"] = now
        if rt.custom and not (seed and meta.get("generation")):
            meta["generation"] = 1
        if not (seed and "managedFields" in meta):
            meta.pop("managedFields", None)
            entries = []
            main_fields = fields_of(managed_view(obj, status=False))
            if main_fields:
                entries.append(_entry(manager, operation, api_version, now, None, main_fields))
            if seed and rt.has_status and isinstance(obj.get("status"), dict) and obj["status"]:
                status_fields = fields_of(managed_view(obj, status=True))
                entries.append(_entry(manager, "Update", api_version, now, "status", status_fields))
            if entries:
                meta["managedFields"] = entries
        if dry_run:
            return Stored(obj, 0, rt, key)
        return self._commit(rt, key, obj).new

    def update(
        self,
        rt: ResourceType,
        key: str,
        new: dict[str, Any],
        *,
        manager: str,
        api_version: str,
        subresource: str | None = None,
        operation: str = "Update",
        dry_run: bool = False,
        applied: dict[str, Any] | None = None,
    ) -> Stored:
        """Replace an object like PUT does (PATCH computes ``new`` first).

        The main resource keeps the old status and the status subresource keeps
        everything but status; server-owned metadata is restored; generation and
        managedFields are kept up to date; a write that changes nothing is a no-op.
        """
        old = self._items[rt.plural].get(key)
        name = key.rpartition("/")[2]
        if old is None:
            raise ApiError.not_found(rt, name)
        new_meta = new.get("metadata")
        if not isinstance(new_meta, dict):
            new_meta = {}
        _check_annotations(rt, name, new_meta)
        want_rv = new_meta.get("resourceVersion")
        if want_rv and str(want_rv) != str(old.rv):
            raise ApiError.conflict(
                rt,
                name,
                "the object has been modified; please apply your changes to the latest "
                "version and try again",
            )
        status_write = subresource == "status"
        current = old.load()
        if status_write:
            result = old.load()
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
        else:
            result = dict(new)
            result["metadata"] = meta = dict(result.get("metadata") or {})
            for field in (
                "uid",
                "creationTimestamp",
                "generation",
                "managedFields",
                "namespace",
                "name",
            ):
                if field in current["metadata"]:
                    meta[field] = current["metadata"][field]
                else:
                    meta.pop(field, None)
            if rt.has_status:
                if "status" in current:
                    result["status"] = current["status"]
                else:
                    result.pop("status", None)
        result["apiVersion"] = rt.api_version()
        result["kind"] = rt.kind
        meta = result["metadata"]
        meta["resourceVersion"] = str(old.rv)
        if rt.custom and not status_write and _spec_of(current) != _spec_of(result):
            meta["generation"] = int(current["metadata"].get("generation") or 0) + 1
        now = format_time(self.clock())
        entries = _upkeep_managed_fields(
            current.get("metadata", {}).get("managedFields"),
            managed_view(current, status=status_write),
            managed_view(result, status=status_write),
            manager=manager,
            operation=operation,
            subresource=subresource if status_write else None,
            api_version=api_version,
            now=now,
            applied=None if applied is None else managed_view(applied, status=status_write),
        )
        if entries:
            meta["managedFields"] = entries
        else:
            meta.pop("managedFields", None)
        if result == current:
            return old
        if dry_run:
            return Stored(result, old.rv, rt, key)
        return self._commit(rt, key, result).new

    def delete(
        self,
        rt: ResourceType,
        key: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
        cascade: bool = True,
    ) -> Stored:
        old = self._items[rt.plural].get(key)
        name = key.rpartition("/")[2]
        if old is None:
            raise ApiError.not_found(rt, name)
        meta = old.load().get("metadata", {})
        if uid is not None and uid != meta.get("uid"):
            raise ApiError.conflict(
                rt,
                name,
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                f"{meta.get('uid', '')}",
            )
        if resource_version is not None and str(resource_version) != str(old.rv):
            raise ApiError.conflict(
                rt,
                name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{resource_version}, ResourceVersion in object meta: {old.rv}",
            )
        if dry_run:
            return old
        self._commit(rt, key, None)
        if cascade:
            self._collect_garbage(rt, key, old)
        return old

    def _collect_garbage(self, rt: ResourceType, key: str, gone: Stored) -> None:
        """What the garbage collector and namespace controller would do, at once."""
        if rt.plural == "namespaces":
            for other in self.types.values():
                if other.namespaced:
                    flt = Filter(other, key)
                    for stored in list(self.scan(flt)):
                        if stored.key in self._items[other.plural]:
                            self.delete(other, stored.key)
        uid = gone.load().get("metadata", {}).get("uid")
        for plural, okey in self.dependents(uid) if uid else []:
            if okey in self._items[plural]:
                self.delete(self.types[plural], okey)


#: The API server's bound on an object's annotations, keys and values together.
ANNOTATIONS_LIMIT = 256 * 1024


def _check_annotations(rt: ResourceType, name: str, meta: dict[str, Any]) -> None:
    """Refuse annotations over 256 KiB in all (422), as ValidateAnnotations does."""
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict):
        return
    size = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
    if size > ANNOTATIONS_LIMIT:
        raise ApiError.invalid(
            rt,
            name,
            "metadata.annotations",
            f"metadata.annotations: Too long: must have at most {ANNOTATIONS_LIMIT} bytes",
        )


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _entry(
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    subresource: str | None,
    paths: set[Path],
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": paths_to_fieldsv1(paths),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _upkeep_managed_fields(
    entries: list[dict[str, Any]] | None,
    old_view: dict[str, Any],
    new_view: dict[str, Any],
    *,
    manager: str,
    operation: str,
    subresource: str | None,
    api_version: str,
    now: str,
    applied: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The next managedFields: the writer owns what it changed, others lose it."""
    changed, removed = changed_fields(old_view, new_view)
    touched = changed | removed
    out: list[dict[str, Any]] = []
    found = False
    for entry in copy.deepcopy(entries or []):
        if not isinstance(entry, dict):
            continue
        paths = fieldsv1_to_paths(entry.get("fieldsV1") or {})
        mine = (
            entry.get("manager") == manager
            and entry.get("operation") == operation
            and (entry.get("subresource") or None) == subresource
        )
        if mine:
            found = True
            if applied is not None:
                new_paths = fields_of(applied) - removed
            else:
                new_paths = (paths - removed) | changed
            if touched or new_paths != paths:
                entry["time"] = now
                entry["apiVersion"] = api_version
        else:
            new_paths = paths - touched
        if new_paths != paths:
            entry["fieldsV1"] = paths_to_fieldsv1(new_paths)
        if new_paths:
            out.append(entry)
    if not found:
        mine_paths = fields_of(applied) if applied is not None else changed
        if mine_paths:
            out.append(_entry(manager, operation, api_version, now, subresource, mine_paths))
    return out


def encode_continue(rv: int, key: str) -> str:
    raw = json.dumps(
        {"v": "meta.k8s.io/v1", "rv": rv, "start": key + "\x00"}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unknown version")
        rv = int(data["rv"])
        start = str(data["start"])
        if not start.endswith("\x00"):
            raise ValueError("bad start")
        return rv, start[:-1]
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError.bad_request(f"continue key is not valid: {exc}") from None
