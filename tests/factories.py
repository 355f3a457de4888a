"""Hand-made WorkloadAutoRegistrations and WorkloadGroups for exact-output tests."""

from __future__ import annotations

from typing import Any

WAR_API = "runtime.onboarding.tetrate.io/v1alpha1"
WG_API = "networking.istio.io/v1beta1"


def ec2(partition: str, account: str, zone: str, instance: str) -> dict[str, Any]:
    region = zone[:-1]
    return {
        "aws": {
            "partition": partition,
            "account": account,
            "region": region,
            "zone": zone,
            "ec2": {"instanceId": instance},
        }
    }


def ecs(account: str, zone: str, cluster: str, task: str) -> dict[str, Any]:
    return {
        "aws": {
            "partition": "aws",
            "account": account,
            "region": zone[:-1],
            "zone": zone,
            "ecs": {"taskId": task, "cluster": cluster},
        }
    }


def jwt(subject: str, **attributes: str) -> dict[str, Any]:
    return {
        "jwt": {
            "issuer": "https://issuer.internal.corp",
            "subject": subject,
            "attributes": attributes,
        }
    }


def war(
    name: str,
    namespace: str = "bookinfo",
    *,
    group: str | None = None,
    group_uid: str | None = None,
    identity: dict[str, Any] | None = None,
    created: str = "2024-05-16T10:00:00Z",
    connected: str | None = "True",
    since: str = "2024-05-16T10:00:05Z",
    ip: str | None = "10.0.0.1",
    agent: str = "v1.4.0",
    istio: str = "1.9.8-15bc6e5e32",
    revision: str | None = None,
    labels: dict[str, str] | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    """A WAR as the onboarding endpoint writes it; `connected=None` leaves out status."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "creationTimestamp": created}
    if uid:
        meta["uid"] = uid
    if labels:
        meta["labels"] = labels
    if group:
        meta["ownerReferences"] = [
            {
                "apiVersion": WG_API,
                "kind": "WorkloadGroup",
                "name": group,
                "uid": group_uid or f"uid-wg-{namespace}-{group}",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    istio_block: dict[str, Any] = {"version": istio}
    if revision:
        istio_block["revision"] = revision
    registration: dict[str, Any] = {
        "agent": {"version": agent},
        "sidecar": {"istio": istio_block},
        "settings": {"connectedOver": "VPC"},
        "workload": {"labels": {"version": "v5"}},
    }
    if ip:
        registration["host"] = {"addresses": [{"ip": ip, "type": "VPC"}]}
    obj: dict[str, Any] = {
        "apiVersion": WAR_API,
        "kind": "WorkloadAutoRegistration",
        "metadata": meta,
        "spec": {"registration": registration},
    }
    if identity is not None:
        obj["spec"]["identity"] = identity
    if connected is not None:
        status: dict[str, Any] = {
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "AgentConnected",
                    "status": connected,
                    "reason": "AgentEstablishedConnection" if connected == "True" else "Lost",
                    "lastTransitionTime": since,
                }
            ],
        }
        if connected == "True":
            status["activeAgentConnection"] = {"connectedTo": "onboarding-plane-745bf76677-974tq"}
        obj["status"] = status
    return obj


def workload_group(
    name: str,
    namespace: str = "bookinfo",
    *,
    created: str = "2024-05-01T00:00:00Z",
    spec_changed: str | None = None,
    generation: int | None = None,
    managed_fields: bool = True,
    uid: str | None = None,
) -> dict[str, Any]:
    """A WorkloadGroup whose spec last changed at `spec_changed` (None: never changed)."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid or f"uid-wg-{namespace}-{name}",
        "creationTimestamp": created,
        "generation": generation or (2 if spec_changed else 1),
    }
    if managed_fields:
        entries = [
            {
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": WG_API,
                "time": created,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}, "f:spec": {".": {}}},
            }
        ]
        if spec_changed:
            entries.append(
                {
                    "manager": "tsb-gitops",
                    "operation": "Update",
                    "apiVersion": WG_API,
                    "time": spec_changed,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:template": {"f:serviceAccount": {}}}},
                }
            )
        meta["managedFields"] = entries
    else:
        meta["managedFields"] = []  # none recorded (the fake server would otherwise make one)
    return {
        "apiVersion": WG_API,
        "kind": "WorkloadGroup",
        "metadata": meta,
        "spec": {"template": {"serviceAccount": name}},
    }
