"""The resource types the fake API server serves, with what discovery and tables say of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .clock import human_duration, parse_time

__all__ = [
    "Column",
    "ResourceType",
    "default_resource_types",
]

NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of a name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. "
    "Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is "
    "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


@dataclass(frozen=True)
class Column:
    """One server-side printer column; ``cell(obj, now)`` gives the JSON cell value."""

    name: str
    type: str
    cell: Callable[[Mapping[str, Any], datetime], Any]
    format: str = ""
    description: str = ""
    priority: int = 0

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def _name_cell(obj: Mapping[str, Any], now: datetime) -> Any:
    return obj.get("metadata", {}).get("name", "")


def _age_cell(obj: Mapping[str, Any], now: datetime) -> Any:
    # A CRD "date" column over .metadata.creationTimestamp: null when absent,
    # otherwise HumanDuration(now - stamp), which is what the API server sends.
    stamp = obj.get("metadata", {}).get("creationTimestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return human_duration(now - parse_time(stamp))
    except ValueError:
        return "<invalid>"


def _agent_connected_cell(obj: Mapping[str, Any], now: datetime) -> Any:
    # jsonPath .status.conditions[?(@.type=="AgentConnected")].status, type string:
    # no match gives a null cell.
    status = obj.get("status")
    if not isinstance(status, dict):
        return None
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "AgentConnected" and "status" in cond:
            value = cond["status"]
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
    return None


def _lease_holder_cell(obj: Mapping[str, Any], now: datetime) -> Any:
    holder = (obj.get("spec") or {}).get("holderIdentity")
    return holder if isinstance(holder, str) else None


NAME_COLUMN = Column("Name", "string", _name_cell, format="name", description=NAME_DESCRIPTION)
AGE_COLUMN = Column("Age", "date", _age_cell, description=AGE_DESCRIPTION)


def _meta_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata", {})
    return {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}


def _event_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    out = _meta_fields(obj)
    involved = obj.get("involvedObject") or {}
    for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
        out["involvedObject." + key] = str(involved.get(key, "") or "")
    out["reason"] = str(obj.get("reason", "") or "")
    out["reportingComponent"] = str(obj.get("reportingComponent", "") or "")
    out["source"] = str((obj.get("source") or {}).get("component", "") or "")
    out["type"] = str(obj.get("type", "") or "")
    return out


def _namespace_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    out = _meta_fields(obj)
    out["status.phase"] = str((obj.get("status") or {}).get("phase", "") or "")
    return out


def _pod_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    out = _meta_fields(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    out["spec.nodeName"] = str(spec.get("nodeName", "") or "")
    out["spec.restartPolicy"] = str(spec.get("restartPolicy", "") or "")
    out["spec.schedulerName"] = str(spec.get("schedulerName", "") or "")
    out["spec.serviceAccountName"] = str(spec.get("serviceAccountName", "") or "")
    out["spec.hostNetwork"] = "true" if spec.get("hostNetwork") else "false"
    out["status.phase"] = str(status.get("phase", "") or "")
    out["status.podIP"] = str(status.get("podIP", "") or "")
    out["status.nominatedNodeName"] = str(status.get("nominatedNodeName", "") or "")
    return out


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    versions: tuple[str, ...]  # first is the preferred (and storage) version
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status" and friends
    custom: bool = False  # a CustomResourceDefinition: generation and status rules differ
    columns: tuple[Column, ...] = (NAME_COLUMN, AGE_COLUMN)
    field_values: Callable[[Mapping[str, Any]], dict[str, str]] = _meta_fields
    verbs: tuple[str, ...] = (
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "create",
        "update",
        "watch",
    )
    storage_hash: str = ""
    extra_subresource_verbs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def qualified(self) -> str:
        """The group-qualified resource that error messages name."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def api_version(self, version: str | None = None) -> str:
        version = version or self.versions[0]
        return f"{self.group}/{version}" if self.group else version

    def supports_field(self, name: str) -> bool:
        return name in self.field_values({})

    def subresource_verbs(self, sub: str) -> tuple[str, ...]:
        if sub in self.extra_subresource_verbs:
            return self.extra_subresource_verbs[sub]
        return ("get", "patch", "update")


WAR_GROUP = "runtime.onboarding.tetrate.io"
WG_GROUP = "networking.istio.io"
POLICY_GROUP = "authorization.onboarding.tetrate.io"
CONTROLPLANE_GROUP = "install.tetrate.io"


def _onboarding_types() -> list[ResourceType]:
    """TSB's OnboardingPolicy and ControlPlane, served beside the WARs."""
    return [
        ResourceType(
            group=POLICY_GROUP,
            versions=("v1alpha1",),
            plural="onboardingpolicies",
            singular="onboardingpolicy",
            kind="OnboardingPolicy",
            namespaced=True,
            custom=True,
            storage_hash="d3b1Zm9yUG9s",
        ),
        ResourceType(
            group=CONTROLPLANE_GROUP,
            versions=("v1alpha1",),
            plural="controlplanes",
            singular="controlplane",
            kind="ControlPlane",
            namespaced=True,
            short_names=("cp",),
            subresources=("status",),
            custom=True,
            storage_hash="Y29udHJvbFBs",
        ),
    ]


def default_resource_types(
    *, serve_wars: bool = True, wg_versions: Sequence[str] = ("v1", "v1beta1", "v1alpha3")
) -> list[ResourceType]:
    types = [
        ResourceType(
            group="",
            versions=("v1",),
            plural="namespaces",
            singular="namespace",
            kind="Namespace",
            namespaced=False,
            short_names=("ns",),
            subresources=("status", "finalize"),
            field_values=_namespace_fields,
            verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
            storage_hash="Q3oi5N2YM8M=",
            extra_subresource_verbs={"finalize": ("update",)},
        ),
        ResourceType(
            group="",
            versions=("v1",),
            plural="events",
            singular="event",
            kind="Event",
            namespaced=True,
            short_names=("ev",),
            field_values=_event_fields,
            storage_hash="r2yiGXH7wu8=",
        ),
        ResourceType(
            group="coordination.k8s.io",
            versions=("v1",),
            plural="leases",
            singular="lease",
            kind="Lease",
            namespaced=True,
            columns=(
                NAME_COLUMN,
                Column(
                    "Holder",
                    "string",
                    _lease_holder_cell,
                    description="holderIdentity contains the identity of the holder of a "
                    "current lease.",
                ),
                AGE_COLUMN,
            ),
            storage_hash="gqkMMb/YqFM=",
        ),
        ResourceType(
            group="",
            versions=("v1",),
            plural="pods",
            singular="pod",
            kind="Pod",
            namespaced=True,
            short_names=("po",),
            categories=("all",),
            subresources=("status", "proxy", "log"),
            field_values=_pod_fields,
            storage_hash="xPOwRZ+Yhw8=",
            extra_subresource_verbs={
                "proxy": ("create", "delete", "get", "patch", "update"),
                "log": ("get",),
            },
        ),
    ]
    if serve_wars:
        types.append(
            ResourceType(
                group=WAR_GROUP,
                versions=("v1alpha1",),
                plural="workloadautoregistrations",
                singular="workloadautoregistration",
                kind="WorkloadAutoRegistration",
                namespaced=True,
                short_names=("war",),
                subresources=("status",),
                custom=True,
                columns=(
                    NAME_COLUMN,
                    Column(
                        "Agent Connected",
                        "string",
                        _agent_connected_cell,
                        description="Whether the Workload Onboarding Agent is connected to "
                        "the Workload Onboarding Endpoint",
                    ),
                    AGE_COLUMN,
                ),
                storage_hash="pFzDmFh1Y0w=",
            )
        )
    if wg_versions:
        types.append(
            ResourceType(
                group=WG_GROUP,
                versions=tuple(wg_versions),
                plural="workloadgroups",
                singular="workloadgroup",
                kind="WorkloadGroup",
                namespaced=True,
                short_names=("wg",),
                categories=("istio-io", "networking-istio-io"),
                subresources=("status",),
                custom=True,
                storage_hash="tBP8E6Nqbw4=",
            )
        )
    if serve_wars:
        types.extend(_onboarding_types())
    return types
