"""A rollout's lock and state in the cluster: one `coordination.k8s.io/v1` Lease per
WorkloadGroup, in the group's namespace.

The Lease's spec says who holds the rollout (`holderIdentity`), since when and until
when (`acquireTime`, `renewTime`, `leaseDurationSeconds`); a small JSON annotation holds
the rollout's state: the WARs in flight with their uids, the canary, an interrupted
check, a pause or an abort and by whom, a control asked for from elsewhere, the last
rollouts. Every write is a PUT carrying the resourceVersion read, so of two writers one
gets 409 Conflict: two rollouts can never both hold it. A holder that stops renewing
loses it once another run has seen it unchanged for the lease duration by its own clock
(client-go's leader-election rule: clocks are never compared).
"""

from __future__ import annotations

import base64
import copy
import getpass
import hashlib
import json
import os
import secrets
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from kubectl_war.errors import WarError
from kubectl_war.kube.errors import Conflict, Forbidden, KubeError
from kubectl_war.kube.requests import LEASES

if TYPE_CHECKING:
    from typing import TypeVar, Union

    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.requests import Resource

    T = TypeVar("T")

    # Kube.create or Kube.update.
    Send = Callable[[Resource, Union[str, None], dict[str, Any]], dict[str, Any]]

PREFIX = "kubectl-war-rollout-"
STATE = "rollout.kubectl-war.tetrate.io/state"
MANAGED_BY = "app.kubernetes.io/managed-by"
#: How many finished rollouts the Lease remembers (`rollout history`).
HISTORY = 10
# A live holder renews every 2 s at most: unrenewed longer, the wait is said.
_SAY_AFTER = 3.0
#: How often a holder looks at its Lease for a control asked from elsewhere (seconds).
TICK = 1.0


def lease_name(group: str) -> str:
    """The Lease of a WorkloadGroup's rollouts (a name of at most 253 characters)."""
    name = PREFIX + group
    if len(name) <= 253:
        return name
    digest = hashlib.sha256(group.encode()).hexdigest()[:10]
    return f"{name[:242]}-{digest}"


def micro_time(at: float | None = None) -> str:
    """A MicroTime, as the API server writes one: RFC 3339 with microseconds."""
    when = datetime.fromtimestamp(time.time() if at is None else at, timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Actor:
    """Who acts: the user (`--as` when impersonating, else the login name), the machine
    and the process."""

    user: str
    host: str
    pid: int
    nonce: str

    @classmethod
    def here(cls, as_user: str | None = None) -> Actor:
        try:
            login = getpass.getuser()
        except Exception:
            login = "unknown"
        return cls(as_user or login, socket.gethostname(), os.getpid(), secrets.token_hex(3))

    @property
    def identity(self) -> str:
        """The Lease's holderIdentity: unique to this process."""
        return f"{self.user}@{self.host}/{self.pid}-{self.nonce}"

    @property
    def who(self) -> str:
        """`alice@laptop`: what messages and Events name."""
        return f"{self.user}@{self.host}"

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "host": self.host, "pid": self.pid}


class LeaseRefused(WarError):
    """Another rollout holds the Lease, or it cannot be read or written."""


class LeaseLost(WarError):
    """This rollout's Lease was taken over: it must delete nothing more."""


def state_of(obj: dict[str, Any] | None) -> dict[str, Any]:
    """The rollout state a Lease object holds (empty when none or unreadable)."""
    if not obj:
        return {}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(STATE) or "{}"
    try:
        if isinstance(text, str) and text.startswith(_PACKED):
            text = zlib.decompress(base64.b64decode(text[len(_PACKED) :])).decode()
        state = json.loads(text)
    except (TypeError, ValueError, zlib.error):
        return {}
    return state if isinstance(state, dict) else {}


# The API server keeps an object's annotations under 256 KiB in all: a state larger than
# this (a batch of thousands of WARs in flight) is written compressed, marked so.
_PACK_ABOVE = 32 * 1024
_PACKED = "zlib+base64:"


def _encoded(state: dict[str, Any]) -> str:
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    if len(text) <= _PACK_ABOVE:
        return text
    return _PACKED + base64.b64encode(zlib.compress(text.encode(), 6)).decode()


def holder_of(obj: dict[str, Any] | None) -> str:
    return str(((obj or {}).get("spec") or {}).get("holderIdentity") or "")


def forbidden_message(exc: KubeError, doing: str) -> str:
    needs = f" ({exc.needs})" if getattr(exc, "needs", None) else ""
    return f"cannot {doing}: {exc.message}{needs}"


class Lease:
    """One WorkloadGroup's rollout Lease as this process last read or wrote it.

    Writes are serialised (the main thread and the renewer share it); each carries the
    resourceVersion last seen, and a Conflict is settled by reading again: still ours,
    the write is made again over what the other writer (a `pause` from elsewhere) left;
    no longer ours, `LeaseLost`.
    """

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        group: str,
        actor: Actor,
        duration: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        notice: Callable[[str], object] = sys.stderr.write,
    ) -> None:
        self.notice = notice
        self.kube = kube
        self.namespace = namespace
        self.group = group
        self.name = lease_name(group)
        self.actor = actor
        self.duration = duration
        self.clock = clock
        self.obj: dict[str, Any] | None = None
        self.state: dict[str, Any] = {}
        self.lock = threading.RLock()
        self.renewed_at = 0.0  # our clock, at our last successful write
        self.lost: str = ""
        self.unrenewed = 0.0  # taken over: seen unrenewed this long (its lease duration)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.group}"

    # -- reading -----------------------------------------------------------------------

    def read(self) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] | None = self.kube.get(LEASES, self.namespace, self.name)
        except Forbidden as exc:
            raise LeaseRefused(
                forbidden_message(exc, f"read the rollout lock of WorkloadGroup {self.ref}")
                + "; pass --no-lock to roll out without it (unshared)"
            ) from None
        return obj

    # -- taking it -----------------------------------------------------------------------

    def acquire(self, *, wait: Callable[[float], None] = time.sleep) -> str:
        """Take the Lease: create it, take it when released, or take it over from a
        holder seen not renewing for the lease duration. Answers what happened
        ("new", "free" or the previous holder's description when taken over).

        Raises:
            LeaseRefused: another rollout holds it (renewing), or RBAC refuses.
        """
        seen = self.read()
        observed_at = self.clock()
        said = False
        while True:
            if seen is None:
                if self._create():
                    return "new"
                seen, observed_at = self.read(), self.clock()
                continue
            holder = holder_of(seen)
            if not holder or holder == self.actor.identity:
                if self._take(seen, takeover=False):
                    return "free"
                seen, observed_at = self.read(), self.clock()
                continue
            # Held by another: it stays held while it changes; unchanged for the lease
            # duration (by our own clock since we first saw it so), it is ours to take.
            duration = _duration(seen, self.duration)
            if self.clock() - observed_at >= duration:
                before = describe_holder(seen)
                self.unrenewed = duration
                if self._take(seen, takeover=True):
                    return before
                seen, observed_at = self.read(), self.clock()
                continue
            if not said and self.clock() - observed_at >= _SAY_AFTER:
                said = True
                self.notice(
                    f"WorkloadGroup {self.ref}: the rollout lock is held by "
                    f"{describe_holder(seen)}; taking it over unless it is renewed within "
                    f"{duration:g}s\n"
                )
            wait(min(TICK, duration))
            now = self.read()
            if now is None or _version(now) != _version(seen):
                if now is not None and holder_of(now) == holder and _renewed(now, seen):
                    raise LeaseRefused(self.refusal(now))
                seen, observed_at = now, self.clock()

    def refusal(self, obj: dict[str, Any]) -> str:
        return (
            f"a rollout of WorkloadGroup {self.ref} is running: held by "
            f"{describe_holder(obj)}; see it with `rollout status`, or pause or abort it "
            "with `rollout pause|abort`"
        )

    def _create(self) -> bool:
        now = micro_time()
        obj = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {MANAGED_BY: "kubectl-war"},
                "annotations": {STATE: "{}"},
            },
            "spec": {
                "holderIdentity": self.actor.identity,
                "leaseDurationSeconds": max(1, round(self.duration)),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }
        self.state = {"holder": self.actor.to_dict(), "since": now}
        _set_state(obj, self.state)
        # A Conflict: created meanwhile by another run, which the caller reads.
        return self._write(self.kube.create, obj, "create")

    def _take(self, seen: dict[str, Any], *, takeover: bool) -> bool:
        obj = copy.deepcopy(seen)
        spec = obj.setdefault("spec", {})
        now = micro_time()
        mine = holder_of(seen) == self.actor.identity
        if not mine:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec["holderIdentity"] = self.actor.identity
        spec["renewTime"] = now
        spec["leaseDurationSeconds"] = max(1, round(self.duration))
        state = state_of(seen)
        if takeover:
            state["takenOver"] = {"from": state.get("holder"), "at": now}
            _history(state, state.get("started"), "lost (holder stopped renewing)", now)
        state["holder"] = self.actor.to_dict()
        state["since"] = now
        state.pop("request", None)
        self.state = state
        _set_state(obj, state)
        return self._write(self.kube.update, obj, "update")

    def _write(self, send: Send, obj: dict[str, Any], verb: str) -> bool:
        """Create or update the Lease as `obj`: False when another writer got there
        first (409), LeaseRefused when RBAC does not allow it."""
        try:
            self.obj = send(LEASES, self.namespace, obj)
        except Conflict:
            return False
        except Forbidden as exc:
            raise LeaseRefused(
                forbidden_message(exc, f"{verb} the rollout lock of WorkloadGroup {self.ref}")
                + "; pass --no-lock to roll out without it (unshared)"
            ) from None
        self.renewed_at = self.clock()
        return True

    # -- holding it --------------------------------------------------------------------

    def write(self, change: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Apply `change` to the state and write it (renewing the Lease) before going on.

        Raises:
            LeaseLost: another run holds the Lease now.
        """
        with self.lock:
            if self.lost:
                raise LeaseLost(self.lost)
            if change is not None:
                change(self.state)
            while True:
                obj = copy.deepcopy(self.obj or {})
                obj.setdefault("spec", {})["renewTime"] = micro_time()
                _set_state(obj, self.state)
                try:
                    self.obj = self.kube.update(LEASES, self.namespace, obj)
                    self.renewed_at = self.clock()
                    return
                except Conflict:
                    self._reread()
                except Forbidden as exc:
                    raise LeaseLost(
                        forbidden_message(exc, f"update the rollout lock of {self.ref}")
                    ) from None

    def _reread(self) -> None:
        """After a Conflict: take what another writer changed (a control asked for) and
        keep ours; or find the Lease taken over."""
        now = self.kube.get(LEASES, self.namespace, self.name)
        if now is None or holder_of(now) != self.actor.identity:
            who = describe_holder(now) if now is not None else "nobody (it was deleted)"
            self.lost = (
                f"the rollout lock of WorkloadGroup {self.ref} was taken over, now held by "
                f"{who}: this rollout deletes nothing more"
            )
            raise LeaseLost(self.lost)
        theirs = state_of(now)
        if "request" in theirs:
            self.state["request"] = theirs["request"]
        else:
            self.state.pop("request", None)
        self.obj = now

    def poll(self) -> dict[str, Any] | None:
        """Read the Lease (a GET); answers a control asked for since, if any."""
        with self.lock:
            if self.lost:
                return None
            now = self.kube.get(LEASES, self.namespace, self.name)
            if now is None or holder_of(now) != self.actor.identity:
                self.lost = (
                    f"the rollout lock of WorkloadGroup {self.ref} was taken over: this "
                    "rollout deletes nothing more"
                )
                return None
            self.obj = now
            request = state_of(now).get("request")
            if isinstance(request, dict):
                self.state["request"] = request
                return request
            self.state.pop("request", None)
            return None

    def release(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Write the final state and let the Lease go (no holder): the next run takes it
        at once."""
        with self.lock:
            if self.lost:
                return
            change(self.state)
            self.state.pop("holder", None)
            self.state.pop("since", None)
            self.state.pop("request", None)
            while True:
                obj = copy.deepcopy(self.obj or {})
                spec = obj.setdefault("spec", {})
                spec["holderIdentity"] = None
                spec["renewTime"] = micro_time()
                _set_state(obj, self.state)
                try:
                    self.obj = self.kube.update(LEASES, self.namespace, obj)
                    return
                except Conflict:
                    try:
                        self._reread()
                    except LeaseLost:
                        return


def _set_state(obj: dict[str, Any], state: dict[str, Any]) -> None:
    meta = obj.setdefault("metadata", {})
    annotations = meta.get("annotations") or {}
    annotations[STATE] = _encoded(state)
    meta["annotations"] = annotations


def _version(obj: dict[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")


def _renewed(now: dict[str, Any], before: dict[str, Any]) -> bool:
    spec_now, spec_before = now.get("spec") or {}, before.get("spec") or {}
    return spec_now.get("renewTime") != spec_before.get("renewTime")


def _duration(obj: dict[str, Any], default: float) -> float:
    try:
        return float((obj.get("spec") or {}).get("leaseDurationSeconds") or default)
    except (TypeError, ValueError):
        return default


def _history(state: dict[str, Any], started: Any, outcome: str, now: str) -> None:
    """Add the rollout that began at `started` to the Lease's last rollouts."""
    if not started:
        return
    begun = parse_time(started)
    ended = parse_time(now)
    seconds = (ended - begun).total_seconds() if begun and ended else None
    entry = {
        "started": started,
        "by": state.get("startedBy"),
        "generation": state.get("generation"),
        "outcome": outcome,
        "finished": now,
        "seconds": round(seconds, 1) if seconds is not None else None,
    }
    state["history"] = [entry, *list(state.get("history") or [])][:HISTORY]
    state.pop("started", None)


def finish(state: dict[str, Any], outcome: str) -> None:
    """Close the running rollout's entry in the state's history."""
    _history(state, state.get("started"), outcome, micro_time())


def describe_holder(obj: dict[str, Any]) -> str:
    """`alice@laptop (pid 4242) since 2026-12-07T00:50:00Z, last renewed 2026-...`."""
    state = state_of(obj)
    spec = obj.get("spec") or {}
    h = state.get("holder") if isinstance(state.get("holder"), dict) else {}
    who = f"{h.get('user')}@{h.get('host')} (pid {h.get('pid')})" if h else holder_of(obj)
    since = _short(spec.get("acquireTime") or state.get("since"))
    renewed = _short(spec.get("renewTime"))
    return f"{who} since {since}, last renewed {renewed}"


def _short(text: Any) -> str:
    when = parse_time(text)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else "<unknown>"


class Renewer:
    """Renews the held Leases in a background thread and watches the current one for a
    control asked for from elsewhere (`rollout pause|abort`), at most `TICK` seconds
    late; `on_request(lease, request)` is called once per new request."""

    def __init__(
        self,
        leases: list[Lease],
        on_request: Callable[[Lease, dict[str, Any]], None],
        *,
        tick: float = TICK,
    ) -> None:
        self.leases = leases
        self.on_request = on_request
        self.tick = tick
        self.current: Lease | None = leases[0] if leases else None
        self._stop = threading.Event()
        self._seen: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="kubectl-war-lease", daemon=True)

    def __enter__(self) -> Renewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            for lease in self.leases:
                try:
                    self._look(lease)
                except (WarError, OSError):
                    continue  # the next tick tries again; a lost Lease stops the writes

    def _look(self, lease: Lease) -> None:
        every = min(2.0, lease.duration / 3)
        due = lease.clock() - lease.renewed_at >= every
        if due:
            lease.write()
            request = lease.state.get("request")
        elif lease is self.current:
            request = lease.poll()
        else:
            return
        if isinstance(request, dict):
            key = json.dumps(request, sort_keys=True)
            if key not in self._seen:
                self._seen.add(key)
                self.on_request(lease, request)


# ---- what other commands read and ask ------------------------------------------------------


def read_state(kube: Kube, namespace: str, group: str) -> tuple[dict[str, Any] | None, str]:
    """The group's Lease (None when there is none) and why it could not be read ("")."""
    try:
        return kube.get(LEASES, namespace, lease_name(group)), ""
    except Forbidden as exc:
        return None, forbidden_message(exc, "read rollout locks")


def ask(
    kube: Kube,
    namespace: str,
    group: str,
    change: Callable[[dict[str, Any], dict[str, Any]], T],
) -> T:
    """Change a Lease's state from elsewhere (`change(lease, state)` answers what it did,
    or raises WarError), retried on Conflict; answers `change`'s answer."""
    for _ in range(20):
        try:
            obj = kube.get(LEASES, namespace, lease_name(group))
        except Forbidden as exc:
            raise WarError(forbidden_message(exc, "read the rollout lock")) from None
        if obj is None:
            raise WarError(
                f"no rollout of WorkloadGroup {namespace}/{group} was ever started here "
                "(no rollout lock)"
            )
        state = state_of(obj)
        said = change(obj, state)
        _set_state(obj, state)
        try:
            kube.update(LEASES, namespace, obj)
            return said
        except Conflict:
            continue
        except Forbidden as exc:
            raise WarError(forbidden_message(exc, "update the rollout lock")) from None
    raise WarError(f"the rollout lock of WorkloadGroup {namespace}/{group} kept changing")
