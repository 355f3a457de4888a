"""A typed, forgiving view over one WorkloadAutoRegistration object.

Objects come from the API server as raw JSON. Any field may be missing or of the
wrong type (a WAR with no status yet, a hand-edited object); every accessor here
answers None (or an `unknown` identity) instead of failing, so one odd object
never breaks a list of thousands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from kubectl_war.durations import parse_timestamp
from kubectl_war.errors import WarError
from kubectl_war.identity import Identity, decode_name
from kubectl_war.identity_spec import identity_from_spec

if TYPE_CHECKING:
    from kubectl_war.identity import NameReading
    from kubectl_war.jsondata import JSON

KIND = "WorkloadAutoRegistration"
GROUP = "runtime.onboarding.tetrate.io"
RESOURCE_NAME = f"workloadautoregistration.{GROUP}"
AGENT_CONNECTED = "AgentConnected"
UNKNOWN_IDENTITY = Identity(platform="unknown")


T = TypeVar("T")


class cached_property(Generic[T]):
    """`functools.cached_property` without its lock.

    Before Python 3.12 the standard one takes an RLock on every first read; over the
    dozen lazy fields of tens of thousands of WARs that was a tenth of `list`'s time
    building rows. A WAR is read by one thread at a time, and the worst a race could
    do is compute the same value twice.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object, owner: type | None = None) -> cached_property[T] | T:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


class AgentState(str, Enum):
    """A WAR's AgentConnected condition, as `--connected`, `--disconnected` and
    `--agent-unknown` select it."""

    CONNECTED = "connected"  # status True
    DISCONNECTED = "disconnected"  # status False: the agent dropped off
    UNKNOWN = "unknown"  # no condition yet (just registered), or status Unknown


@dataclass(frozen=True)
class Address:
    ip: str
    type: str | None


class War:
    """One WAR, read from its raw object. Cheap to build; fields are computed lazily."""

    __slots__ = ("__dict__", "obj")

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj if isinstance(obj, dict) else {}

    # ---- metadata ------------------------------------------------------------------

    @cached_property
    def meta(self) -> JSON:
        return _dict(self.obj.get("metadata"))

    @property
    def name(self) -> str:
        return _str(self.meta.get("name")) or ""

    @property
    def namespace(self) -> str:
        return _str(self.meta.get("namespace")) or ""

    @property
    def uid(self) -> str:
        return _str(self.meta.get("uid")) or ""

    @property
    def resource_version(self) -> str:
        return _str(self.meta.get("resourceVersion")) or ""

    @cached_property
    def created(self) -> datetime | None:
        return parse_timestamp(self.meta.get("creationTimestamp"))

    @property
    def labels(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in _dict(self.meta.get("labels")).items()}

    @property
    def annotations(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in _dict(self.meta.get("annotations")).items()}

    # ---- WorkloadGroup -------------------------------------------------------------

    @cached_property
    def owner(self) -> JSON | None:
        """The WorkloadGroup ownerReference (the controller one first)."""
        owners = [
            o
            for o in _list(self.meta.get("ownerReferences"))
            if isinstance(o, dict) and o.get("kind") == "WorkloadGroup" and _str(o.get("name"))
        ]
        owners.sort(key=lambda o: o.get("controller") is not True)
        return owners[0] if owners else None

    @cached_property
    def group(self) -> str | None:
        """The WorkloadGroup: from the ownerReference, else decoded from the name."""
        if self.owner is not None:
            return _str(self.owner.get("name"))
        readings = self._readings
        groups = {r.group for r in readings}
        return readings[0].group if len(groups) == 1 else None

    @property
    def group_uid(self) -> str | None:
        return _str(self.owner.get("uid")) if self.owner is not None else None

    @cached_property
    def _readings(self) -> list[NameReading]:
        try:
            return decode_name(self.name)
        except WarError:
            return []

    # ---- identity ------------------------------------------------------------------

    @cached_property
    def spec(self) -> JSON:
        return _dict(self.obj.get("spec"))

    @cached_property
    def spec_identity(self) -> Identity | None:
        return identity_from_spec(self.spec.get("identity"))

    @cached_property
    def name_identity(self) -> Identity | None:
        """The identity the name encodes, read with the WorkloadGroup when it is known."""
        readings = self._readings
        if self.group is not None:
            readings = [r for r in readings if r.group == self.group]
        return readings[0].identity if len(readings) == 1 else None

    @cached_property
    def identity(self) -> Identity:
        """The verified identity (spec) first; the name is only a fallback."""
        return self.spec_identity or self.name_identity or UNKNOWN_IDENTITY

    @property
    def identity_source(self) -> str | None:
        if self.spec_identity is not None:
            return "spec"
        if self.name_identity is not None:
            return "name"
        return None

    # ---- registration --------------------------------------------------------------

    @cached_property
    def registration(self) -> JSON:
        return _dict(self.spec.get("registration"))

    @cached_property
    def addresses(self) -> list[Address]:
        host = _dict(self.registration.get("host"))
        out = []
        for a in _list(host.get("addresses")):
            ip = _str(_dict(a).get("ip"))
            if ip:
                out.append(Address(ip, _str(_dict(a).get("type"))))
        return out

    @property
    def ip(self) -> str | None:
        """The first address's IP (what `addresses[0].ip` is), without building the list:
        `list` shows it for every WAR."""
        if "addresses" in self.__dict__:
            return self.addresses[0].ip if self.addresses else None
        host = _dict(self.registration.get("host"))
        for a in _list(host.get("addresses")):
            ip = _str(_dict(a).get("ip"))
            if ip:
                return ip
        return None

    @property
    def agent_version(self) -> str | None:
        return _str(_dict(self.registration.get("agent")).get("version"))

    @cached_property
    def _istio(self) -> JSON:
        return _dict(_dict(self.registration.get("sidecar")).get("istio"))

    @property
    def istio_version(self) -> str | None:
        return _str(self._istio.get("version"))

    @property
    def istio_revision(self) -> str | None:
        """The sidecar's Istio revision; an omitted revision means `default`."""
        if not self._istio:
            return None
        return _str(self._istio.get("revision")) or "default"

    @property
    def connected_over(self) -> str | None:
        settings = _dict(self.registration.get("settings"))
        value = _str(settings.get("connectedOver") or settings.get("connected_over"))
        if value is None and self.registration:
            return "VPC"  # unspecified means VPC
        return value

    @property
    def workload_labels(self) -> dict[str, str]:
        workload = _dict(self.registration.get("workload"))
        return {str(k): str(v) for k, v in _dict(workload.get("labels")).items()}

    # ---- agent ---------------------------------------------------------------------

    @cached_property
    def status(self) -> JSON:
        return _dict(self.obj.get("status"))

    @cached_property
    def condition(self) -> JSON | None:
        for c in _list(self.status.get("conditions")):
            if isinstance(c, dict) and c.get("type") == AGENT_CONNECTED:
                return c
        return None

    @property
    def connected(self) -> str | None:
        """`True`, `False`, `Unknown`, or None when the WAR has no AgentConnected condition."""
        if self.condition is None:
            return None
        return _str(self.condition.get("status")) or "Unknown"

    @property
    def is_connected(self) -> bool:
        return self.connected == "True"

    @property
    def is_disconnected(self) -> bool:
        return self.connected == "False"

    @property
    def agent_state(self) -> AgentState:
        if self.is_connected:
            return AgentState.CONNECTED
        if self.is_disconnected:
            return AgentState.DISCONNECTED
        return AgentState.UNKNOWN

    @cached_property
    def transition_time(self) -> datetime | None:
        """When AgentConnected last changed: since when connected, or disconnected."""
        if self.condition is None:
            return None
        return parse_timestamp(self.condition.get("lastTransitionTime"))

    @property
    def condition_reason(self) -> str | None:
        return _str(self.condition.get("reason")) if self.condition else None

    @property
    def condition_message(self) -> str | None:
        return _str(self.condition.get("message")) if self.condition else None

    @property
    def connected_to(self) -> str | None:
        return _str(_dict(self.status.get("activeAgentConnection")).get("connectedTo"))

    def disconnected_for(self, now: datetime) -> float | None:
        """Seconds since the agent disconnected, when it is disconnected and the time is known."""
        if not self.is_disconnected or self.transition_time is None:
            return None
        return (now - self.transition_time).total_seconds()

    def removal_in(self, now: datetime, grace_seconds: float) -> float | None:
        """Seconds until the onboarding endpoint removes this WAR (negative: overdue)."""
        gone = self.disconnected_for(now)
        if gone is None:
            return None
        return grace_seconds - gone

    def age(self, now: datetime) -> float | None:
        return (now - self.created).total_seconds() if self.created else None

    @property
    def proxy_name(self) -> str:
        """The sidecar's name in istioctl proxy-status: `<war-name>.<namespace>`."""
        return f"{self.name}.{self.namespace}"


#: The fields a `CompactWar` keeps, read from the whole WAR once.
_KEPT = (
    "created",
    "labels",
    "group",
    "group_uid",
    "identity",
    "identity_source",
    "ip",
    "agent_version",
    "istio_version",
    "istio_revision",
    "connected",
    "transition_time",
    "connected_to",
)
# Values that repeat from WAR to WAR (namespaces, groups, zones, versions), held once.
_shared: dict[str, str] = {}


def _share(value: Any) -> Any:
    return _shared.setdefault(value, value) if isinstance(value, str) else value


class CompactWar(War):
    """A WAR reduced to what commands judge and show, for holding many of them.

    A decoded WAR is some 17 KB (most of it managedFields and nested JSON); this keeps
    the fields already read that lists, status, proxy-status and rollout plans judge
    and show (identity, group, agent, sidecar versions, labels), and as `obj` only the
    metadata a watch or a delete needs (name, namespace, uid, resourceVersion): about
    a kilobyte. Those accessors answer as over the whole object; the others (spec,
    annotations, addresses, the condition's reason) see only that metadata, so code
    that shows them (describe, -o json) reads whole WARs.
    """

    __slots__ = _KEPT

    def __init__(self, war: War) -> None:
        meta = war.meta
        self.obj = {
            "metadata": {
                key: _share(meta[key])
                for key in ("name", "namespace", "uid", "resourceVersion")
                if key in meta
            }
        }
        for name in _KEPT:
            setattr(self, name, _share(getattr(war, name)))
        # The slot `labels` shadows War's read-only property (the loop above relies on
        # it), which a type checker cannot see.
        self.labels = self.labels or _NO_LABELS  # type: ignore[misc]
        identity = self.identity
        if identity is not UNKNOWN_IDENTITY:
            self.identity = identity.replace(
                **{f: _share(getattr(identity, f)) for f in _IDENTITY_SHARED}
            )

    @property
    def meta(self) -> JSON:
        # The stub's, read in place: a cached copy would give each WAR a __dict__.
        meta: JSON = self.obj["metadata"]
        return meta


_NO_LABELS: dict[str, str] = {}
_IDENTITY_SHARED = ("platform", "partition", "account", "region", "zone", "ecs_cluster", "issuer")
