"""A simulated onboarding plane for FakeKube: agents that re-onboard when their WAR goes.

When a WAR whose agent is connected is deleted, its agent onboards again: after a
delay (plus jitter) the WAR is re-created under the same name with a new uid, the
same spec, a fresh creationTimestamp and AgentConnected True. Agents can be made
never to return, sidecars never to sync. It runs on real time in one background
thread of bounded lifetime, reading the store's own event log, so FakeKube needs
no hook; the same log gives an exact record, in resourceVersion order, of every
deletion and creation (``max_missing``).
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from .clock import format_time
from .fleet import (
    ONBOARDING_PODS,
    _ec2,
    _namespace,
    _registration,
    _war,
    _wg_spec,
    _workload_group,
    admitting_policies,
)
from .server import FakeKube
from .store import Filter

__all__ = ["Change", "OnboardingPlane", "rollout_fleet"]

WARS = "workloadautoregistrations"
MANAGER = "onboarding-plane"
NOT_SYNCED = {"CDS": "SYNCED", "LDS": "SYNCED", "EDS": "STALE", "RDS": "STALE"}


class Istiod(Protocol):
    """What the plane needs of an emulated istiod (``tests.fakekube.istiod.FakeIstiod``)."""

    def connect(self, proxy: str, states: Any = None) -> Any: ...


@dataclass(frozen=True)
class Change:
    """One deletion or creation of a WAR, as the store logged it."""

    rv: int
    kind: str  # "deleted", "created" or "connected" (its agent connected)
    namespace: str
    name: str
    uid: str
    group: str | None
    at: float  # time.monotonic() when the plane saw it


def _group_of(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == "WorkloadGroup":
            return str(ref.get("name"))
    return None


def _connected(obj: dict[str, Any] | None) -> bool:
    if not obj:
        return False
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "AgentConnected":
            return cond.get("status") == "True"
    return False


class OnboardingPlane:
    """Agents for every WAR of a FakeKube, re-onboarding after their WAR is deleted.

    Args:
        kube: a started FakeKube.
        delay: seconds from a deletion to the re-created WAR.
        jitter: up to this many seconds more, at random (seeded by ``seed``).
        connect_delay: when above 0, the WAR is re-created with no status first and
            its agent connects this many seconds later.
        sync_delay: seconds from re-creation to the sidecar being SYNCED.
        istiod: an emulated istiod to keep the sidecars' proxy state in.
        lifetime: the background thread ends after this many seconds at the latest.
    """

    def __init__(
        self,
        kube: FakeKube,
        *,
        delay: float = 0.1,
        jitter: float = 0.0,
        connect_delay: float = 0.0,
        sync_delay: float = 0.0,
        istiod: Istiod | None = None,
        seed: int = 0,
        lifetime: float = 60.0,
    ) -> None:
        self.kube = kube
        self.delay = delay
        self.jitter = jitter
        self.connect_delay = connect_delay
        self.sync_delay = sync_delay
        self.istiod = istiod
        self.lifetime = lifetime
        self.record: list[Change] = []
        self._random = random.Random(seed)
        self._dead: set[tuple[str, str]] = set()
        self._held: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._delays: dict[tuple[str, str], float] = {}
        self._connected: set[tuple[str, str]] = set()
        self._unsyncable: set[tuple[str, str]] = set()
        self._synced: dict[tuple[str, str], bool] = {}
        self._queue: list[tuple[float, int, str, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_rv = 0
        self._busy = 0

    # -- set-up ------------------------------------------------------------------------

    def never_return(self, namespace: str, name: str) -> None:
        """The agent of this WAR dies: once deleted, the WAR never comes back."""
        self._dead.add((namespace, name))

    def slow(self, namespace: str, name: str, delay: float) -> None:
        """This WAR's agent takes ``delay`` seconds (not ``delay`` + jitter) to return."""
        self._delays[(namespace, name)] = delay

    def hold(self, namespace: str, name: str) -> None:
        """Once this WAR is deleted, its agent waits for ``release`` to onboard again: the
        test, not the clock, says whether a run sees it missing or back."""
        with self._lock:
            self._held.setdefault((namespace, name), None)

    def release(self, namespace: str, name: str) -> None:
        """Let a held agent onboard again, ``delay`` seconds from now (at once when its WAR
        was not deleted yet: it then comes back as any other)."""
        with self._lock:
            obj = self._held.pop((namespace, name), None)
            if obj is not None:
                due = time.monotonic() + self._delays.get((namespace, name), self.delay)
                heapq.heappush(self._queue, (due, next(self._seq), "create", obj))
        with self.kube.store.lock:
            self.kube.store.changed.notify_all()

    def release_at_next_watch(self, namespace: str, name: str) -> None:
        """``release`` when the next watch request reaches the server: a run lists before
        it watches, so a rollout started after this call planned with the WAR missing."""

        def hook(req: Any) -> None:
            if "watch" in req.query and hook in self.kube.request_hooks:
                self.kube.request_hooks.remove(hook)
                self.release(namespace, name)

        self.kube.request_hooks.append(hook)

    def never_sync(self, namespace: str, name: str) -> None:
        """Once re-created, this WAR's sidecar never reaches SYNCED."""
        self._unsyncable.add((namespace, name))

    def start(self) -> OnboardingPlane:
        with self.kube.store.lock:
            self._last_rv = self.kube.store.rv
            for stored in self.kube.store.scan(Filter(self.kube.store.type_for(WARS))):
                if _connected(stored.load()):
                    ns, _, name = stored.key.partition("/")
                    self._connected.add((ns, name))
        self._thread = threading.Thread(target=self._run, name="onboarding-plane", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self.kube.store.lock:
            self.kube.store.changed.notify_all()
        if self._thread is not None:
            self._thread.join(2.0)

    def __enter__(self) -> OnboardingPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what happened -----------------------------------------------------------------

    def deleted(self, namespace: str | None = None) -> list[str]:
        """Names deleted so far, in order (a name twice means deleted twice)."""
        return [
            c.name
            for c in self._changes()
            if c.kind == "deleted" and namespace in (None, c.namespace)
        ]

    def created(self, namespace: str | None = None) -> list[str]:
        return [
            c.name
            for c in self._changes()
            if c.kind == "created" and namespace in (None, c.namespace)
        ]

    def max_missing(self, group: str | None = None) -> int:
        """The most WARs (of ``group``) deleted and not yet re-created at any one time."""
        missing: set[tuple[str, str]] = set()
        most = 0
        for c in self._changes():
            if group is not None and c.group != group:
                continue
            if c.kind == "deleted":
                missing.add((c.namespace, c.name))
            else:
                missing.discard((c.namespace, c.name))
            most = max(most, len(missing))
        return most

    def max_unavailable(self, group: str | None = None) -> int:
        """The most WARs (of ``group``) missing or back but not connected at one time,
        counting only WARs that were connected before they were deleted."""
        down: set[tuple[str, str]] = set()
        most = 0
        for c in self._changes():
            if group is not None and c.group != group:
                continue
            if c.kind == "deleted":
                down.add((c.namespace, c.name))
            elif c.kind == "connected":
                down.discard((c.namespace, c.name))
            most = max(most, len(down))
        return most

    def missing(self) -> list[str]:
        """Names deleted and not re-created, now."""
        gone: dict[tuple[str, str], None] = {}
        for c in self._changes():
            if c.kind == "deleted":
                gone[(c.namespace, c.name)] = None
            else:
                gone.pop((c.namespace, c.name), None)
        return [name for _, name in gone]

    def idle(self, timeout: float = 60.0) -> bool:
        """Wait until no re-onboarding is scheduled (dead agents never are)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            with self._lock:
                if not self._queue and not self._busy:
                    return True
            time.sleep(0.01)
        return False

    def sidecar_synced(self, war: Any) -> bool | None:
        """Whether a WAR's sidecar is SYNCED: for an executor without a real source."""
        return self._synced.get((war.namespace, war.name), True)

    def _changes(self) -> list[Change]:
        self._drain()
        with self._lock:
            return list(self.record)

    # -- the simulation ----------------------------------------------------------------

    def _drain(self) -> None:
        """Read the store's log since last time: record changes, schedule agents."""
        store = self.kube.store
        with self._lock:
            with store.lock:
                events = [e for e in store.events_after(self._last_rv) if e.plural == WARS]
                if store.log_rvs:
                    self._last_rv = max(self._last_rv, store.log_rvs[-1])
                loaded = [(e, e.new.load(), e.prev.load() if e.prev else None) for e in events]
            now = time.monotonic()
            for ev, new, prev in loaded:
                ns, _, name = ev.key.rpartition("/")
                uid = (new.get("metadata") or {}).get("uid", "")
                group = _group_of(new)
                kind = {"DELETED": "deleted", "ADDED": "created"}.get(ev.type)
                if kind is not None:
                    self.record.append(Change(ev.rv, kind, ns, name, uid, group, now))
                if kind == "deleted":
                    self._connected.discard((ns, name))
                elif _connected(new) and (ns, name) not in self._connected:
                    self._connected.add((ns, name))
                    self.record.append(Change(ev.rv, "connected", ns, name, uid, group, now))
                if kind == "deleted":
                    self._synced[(ns, name)] = False
                    if (ns, name) in self._held and _connected(prev):
                        self._held[(ns, name)] = new
                    elif _connected(prev) and (ns, name) not in self._dead:
                        due = now + self._delays.get(
                            (ns, name), self.delay + self._random.uniform(0, self.jitter)
                        )
                        heapq.heappush(self._queue, (due, next(self._seq), "create", new))

    def _run(self) -> None:
        store = self.kube.store
        end = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < end:
            self._drain()
            now = time.monotonic()
            due: list[tuple[str, dict[str, Any]]] = []
            with self._lock:
                while self._queue and self._queue[0][0] <= now:
                    _, _, kind, obj = heapq.heappop(self._queue)
                    due.append((kind, obj))
                self._busy += len(due)
                wake = self._queue[0][0] if self._queue else end
            for kind, obj in due:
                try:
                    self._act(kind, obj)
                except Exception:  # a test's own changes may race a re-creation: skip it
                    pass
                finally:
                    with self._lock:
                        self._busy -= 1
            if due:
                continue
            with store.lock:
                if store.closed:
                    return
                if store.log_rvs and store.log_rvs[-1] > self._last_rv:
                    continue
                store.changed.wait(max(0.0, min(wake, end) - time.monotonic()))

    def _act(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        if kind == "create":
            self._recreate(obj)
        elif kind == "connect":
            self.kube.update(
                WARS,
                ns,
                name,
                lambda o: o.__setitem__("status", _status(self._now())),
                subresource="status",
                manager=MANAGER,
            )
            self._schedule_sync(obj)
        elif kind == "sync":
            self._synced[(ns, name)] = True
            if self.istiod is not None:
                self.istiod.connect(f"{name}.{ns}")

    def _now(self) -> datetime:
        return self.kube.clock()

    def _recreate(self, old: dict[str, Any]) -> None:
        meta = old["metadata"]
        ns, name = meta["namespace"], meta["name"]
        if self.kube.get(WARS, ns, name) is not None:
            return  # someone re-created it already
        group = _group_of(old)
        wg = None
        if group is not None:
            for plural in ("workloadgroups",):
                wg = self.kube.get(plural, ns, group)
        if group is not None and wg is None:
            return  # the WorkloadGroup is gone: the agent cannot onboard again
        new_meta = {
            k: v
            for k, v in meta.items()
            if k
            not in (
                "uid",
                "creationTimestamp",
                "resourceVersion",
                "managedFields",
                "generation",
                "deletionTimestamp",
            )
        }
        if wg is not None:
            owner_uid = wg["metadata"]["uid"]
            new_meta["ownerReferences"] = [
                dict(ref, uid=owner_uid) if ref.get("kind") == "WorkloadGroup" else ref
                for ref in meta.get("ownerReferences") or []
            ]
        obj: dict[str, Any] = {
            "apiVersion": old["apiVersion"],
            "kind": old["kind"],
            "metadata": new_meta,
            "spec": old.get("spec", {}),
        }
        if self.istiod is not None:
            self.istiod.connect(f"{name}.{ns}", NOT_SYNCED)
        if self.connect_delay > 0:
            self.kube.add(obj, manager=MANAGER)
            due = time.monotonic() + self.connect_delay
            with self._lock:
                heapq.heappush(self._queue, (due, next(self._seq), "connect", obj))
            return
        obj["status"] = _status(self._now())
        self.kube.add(obj, manager=MANAGER)
        self._schedule_sync(obj)

    def _schedule_sync(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if key in self._unsyncable:
            return
        if self.sync_delay <= 0:
            self._act("sync", obj)
            return
        with self._lock:
            heapq.heappush(
                self._queue, (time.monotonic() + self.sync_delay, next(self._seq), "sync", obj)
            )


def _status(now: datetime, pod: str = ONBOARDING_PODS[0]) -> dict[str, Any]:
    return {
        "observedGeneration": 1,
        "activeAgentConnection": {"connectedTo": pod},
        "conditions": [
            {
                "type": "AgentConnected",
                "status": "True",
                "reason": "AgentEstablishedConnection",
                "message": f"Agent established connection to {pod}",
                "lastTransitionTime": format_time(now),
            }
        ],
    }


def rollout_fleet(
    now: datetime,
    *,
    namespace: str = "bookinfo",
    group: str = "ratings",
    zones: Iterable[str] = ("us-east-2a", "us-east-2b", "us-east-2c"),
    per_zone: int = 3,
    up_to_date: int = 0,
    disconnected: int = 0,
    joining: int = 0,
    with_namespace: bool = True,
) -> list[dict[str, Any]]:
    """A WorkloadGroup whose spec changed 1h ago, with EC2 workloads in each zone.

    ``per_zone`` connected WARs per zone joined 2h ago (outdated); then, in the
    first zone, ``up_to_date`` connected WARs that joined 30m ago, ``disconnected``
    WARs whose agent dropped off 1m ago, and ``joining`` WARs with no status yet.
    Instance ids are ``i-<zone letter><n>`` (``i-a1``, ``i-b2``...).
    """
    hour, minute = timedelta(hours=1), timedelta(minutes=1)
    out: list[dict[str, Any]] = []
    if with_namespace:
        out.append(_namespace(now, namespace, timedelta(days=100)))
    out.append(
        _workload_group(
            now,
            namespace,
            group,
            age=timedelta(days=30),
            spec=_wg_spec(
                group, "v2", f"{namespace}-{group}", "vpc-0a1b2c3d", {"http": 9080}, 9080
            ),
            creator="kubectl-client-side-apply",
            changes=[("kubectl-edit", hour, [("f:spec", "f:template", "f:network")])],
        )
    )
    acct = "123456789012"
    zones = list(zones)

    def war(zone: str, inst: str, age: timedelta, connected: bool | None, **kw: Any) -> None:
        identity = _ec2("aws", acct, zone, inst, f"{group}-vm")
        n = len(out)
        reg = _registration(
            agent="1.9.2",
            istio="1.20.8-tetrate1",
            revision="tsb-1-9",
            addresses=[(f"10.0.{n // 250}.{n % 250 + 1}", "VPC")],
            labels={"app": group, "version": "v2"},
            connected_over="VPC",
        )
        part = f"aws-aws-{acct}-{zone}-ec2-{inst}"
        out.append(
            _war(
                now,
                namespace,
                group,
                part,
                identity,
                age=age,
                registration=reg,
                connected=connected,
                **kw,
            )
        )

    for zone in zones:
        letter = zone[-1]
        for i in range(1, per_zone + 1):
            war(zone, f"i-{letter}{i}", 2 * hour, True)
    first = zones[0][-1]
    for i in range(1, up_to_date + 1):
        war(zones[0], f"i-{first}u{i}", 30 * minute, True)
    for i in range(1, disconnected + 1):
        war(zones[0], f"i-{first}d{i}", 2 * hour, False, since=minute)
    for i in range(1, joining + 1):
        war(zones[0], f"i-{first}j{i}", minute, None)
    out.extend(admitting_policies(now, out, name=group))
    return out
