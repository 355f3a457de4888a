"""A realistic TSB-onboarded fleet: namespaces, WorkloadGroups, WorkloadAutoRegistrations, Events.

Deterministic: uids are uuid5 of kind/namespace/name and every timestamp is an
offset from ``now``, so tests can assert exact ages and freshness verdicts.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from .clock import format_time
from .fields import Path, fields_of, flatten, managed_view, paths_to_fieldsv1
from .store import paused_gc

__all__ = [
    "ONBOARDING_PODS",
    "WAR_API_VERSION",
    "WG_API_VERSION",
    "build_fleet",
    "build_large_fleet",
    "iter_large_fleet",
    "uid_for",
]

WAR_API_VERSION = "runtime.onboarding.tetrate.io/v1alpha1"
WG_API_VERSION = "networking.istio.io/v1beta1"
ONBOARDING_PODS = ("onboarding-plane-745bf76677-974tq", "onboarding-plane-745bf76677-x2x8k")
ONBOARDING_MANAGER = "onboarding-plane"
_UID_NAMESPACE = uuid.UUID("0b5e3c1e-7a43-5d0e-9a51-6a8f3c2d9e10")


def uid_for(kind: str, namespace: str, name: str) -> str:
    return str(uuid.uuid5(_UID_NAMESPACE, f"{kind}/{namespace}/{name}"))


def _ago(now: datetime, delta: timedelta) -> str:
    return format_time(now - delta)


def _entry(
    manager: str,
    api_version: str,
    when: str,
    paths: set[Path],
    *,
    subresource: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": api_version,
        "time": when,
        "fieldsType": "FieldsV1",
        "fieldsV1": paths_to_fieldsv1(paths),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _split(obj: dict[str, Any], prefixes: list[Path]) -> tuple[set[Path], set[Path]]:
    """The tracked paths of ``obj`` outside and under ``prefixes`` (a later manager's change)."""
    paths = set(flatten(managed_view(obj, status=False)))
    under = {p for p in paths if any(p[: len(pre)] == pre for pre in prefixes)}
    return paths - under, under


def _namespace(now: datetime, name: str, age: timedelta) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": uid_for("Namespace", "", name),
            "creationTimestamp": _ago(now, age),
            "labels": {"kubernetes.io/metadata.name": name, "istio-injection": "enabled"},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def _workload_group(
    now: datetime,
    namespace: str,
    name: str,
    *,
    age: timedelta,
    spec: dict[str, Any],
    creator: str | None,
    changes: Sequence[tuple[str, timedelta, list[Path]]] = (),
    status_update: tuple[str, timedelta] | None = None,
) -> dict[str, Any]:
    """A WorkloadGroup created ``age`` ago by ``creator`` whose spec later changed.

    ``changes`` are (manager, how long ago, changed field prefixes); each change
    bumps generation and moves that manager's managedFields time. ``creator`` None
    gives an object without managedFields.
    """
    obj: dict[str, Any] = {
        "apiVersion": WG_API_VERSION,
        "kind": "WorkloadGroup",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for("WorkloadGroup", namespace, name),
            "creationTimestamp": _ago(now, age),
            "generation": 1 + len(changes),
            "labels": {"app": spec["metadata"]["labels"]["app"]},
            "annotations": {"tsb.tetrate.io/config-source": "gitops"},
        },
        "spec": spec,
    }
    if status_update:
        obj["status"] = {
            "conditions": [
                {
                    "type": "Reconciled",
                    "status": "True",
                    "lastProbeTime": _ago(now, status_update[1]),
                    "lastTransitionTime": _ago(now, status_update[1]),
                }
            ]
        }
    if creator is None:
        return obj
    # One entry per manager: the fields it changed last, at the time of its latest change.
    remaining = set(flatten(managed_view(obj, status=False)))
    owned: dict[str, tuple[str, set[Path]]] = {}
    for manager, ago, prefixes in changes:
        _, under = _split(obj, prefixes)
        remaining -= under
        for other, (when, paths) in list(owned.items()):
            owned[other] = (when, paths - under)
        when, paths = owned.get(manager, ("", set()))
        owned[manager] = (max(when, _ago(now, ago)), paths | under)
    created_at, creator_extra = owned.pop(creator, (_ago(now, age), set()))
    entries = [
        _entry(creator, WG_API_VERSION, max(created_at, _ago(now, age)), remaining | creator_extra)
    ]
    entries += [
        _entry(manager, WG_API_VERSION, when, paths)
        for manager, (when, paths) in owned.items()
        if paths
    ]
    if status_update:
        entries.append(
            _entry(
                status_update[0],
                WG_API_VERSION,
                _ago(now, status_update[1]),
                fields_of(managed_view(obj, status=True)),
                subresource="status",
            )
        )
    obj["metadata"]["managedFields"] = entries
    return obj


def _wg_spec(
    app: str,
    version: str,
    service_account: str,
    network: str,
    ports: dict[str, int],
    probe_port: int,
    *,
    locality: str | None = None,
) -> dict[str, Any]:
    template: dict[str, Any] = {
        "serviceAccount": service_account,
        "network": network,
        "ports": ports,
    }
    if locality:
        template["locality"] = locality
    return {
        "metadata": {
            "labels": {"app": app, "version": version, "class": "vm"},
            "annotations": {"sidecar.istio.io/logLevel": "info"},
        },
        "template": template,
        "probe": {
            "httpGet": {"path": "/healthz", "port": probe_port},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
    }


def _registration(
    *,
    agent: str,
    istio: str,
    revision: str | None,
    addresses: list[tuple[str, str]],
    labels: dict[str, str],
    connected_over: str | None,
) -> dict[str, Any]:
    sidecar: dict[str, Any] = {"version": istio}
    if revision:
        sidecar["revision"] = revision
    reg: dict[str, Any] = {
        "agent": {"version": agent},
        "sidecar": {"istio": sidecar},
        "host": {"addresses": [{"ip": ip, "type": kind} for ip, kind in addresses]},
        "workload": {"labels": labels},
    }
    if connected_over:
        reg["settings"] = {"connectedOver": connected_over}
    return reg


def _war(
    now: datetime,
    namespace: str,
    wg: str,
    identity_part: str,
    identity: dict[str, Any],
    *,
    age: timedelta,
    registration: dict[str, Any],
    connected: bool | None,
    since: timedelta | None = None,
    pod: str = ONBOARDING_PODS[0],
    reason: str | None = None,
) -> dict[str, Any]:
    """A WAR that joined ``age`` ago; ``connected`` None: no status yet.

    ``since`` is how long ago the AgentConnected condition last changed (for a
    disconnected WAR: how long it has been disconnected).
    """
    name = f"{wg}-{identity_part}"
    created = _ago(now, age)
    obj: dict[str, Any] = {
        "apiVersion": WAR_API_VERSION,
        "kind": "WorkloadAutoRegistration",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for("WorkloadAutoRegistration", namespace, name),
            "creationTimestamp": created,
            "generation": 1,
            "ownerReferences": [
                {
                    "apiVersion": WG_API_VERSION,
                    "kind": "WorkloadGroup",
                    "name": wg,
                    "uid": uid_for("WorkloadGroup", namespace, wg),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"identity": identity, "registration": registration},
    }
    entries = [
        _entry(
            ONBOARDING_MANAGER, WAR_API_VERSION, created, fields_of(managed_view(obj, status=False))
        )
    ]
    if connected is not None:
        changed_at = _ago(now, since if since is not None else age - timedelta(seconds=2))
        if connected:
            condition = {
                "type": "AgentConnected",
                "status": "True",
                "reason": reason or "AgentEstablishedConnection",
                "message": f"Agent established connection to {pod}",
                "lastTransitionTime": changed_at,
            }
            status: dict[str, Any] = {
                "observedGeneration": 1,
                "activeAgentConnection": {"connectedTo": pod},
                "conditions": [condition],
            }
        else:
            condition = {
                "type": "AgentConnected",
                "status": "False",
                "reason": reason or "AgentDisconnected",
                "message": f"Agent disconnected from {pod}",
                "lastTransitionTime": changed_at,
            }
            status = {"observedGeneration": 1, "conditions": [condition]}
        obj["status"] = status
        entries.append(
            _entry(
                ONBOARDING_MANAGER,
                WAR_API_VERSION,
                changed_at,
                fields_of(managed_view(obj, status=True)),
                subresource="status",
            )
        )
    obj["metadata"]["managedFields"] = entries
    return obj


def _ec2(partition: str, account: str, zone: str, instance: str, role: str) -> dict[str, Any]:
    return {
        "aws": {
            "partition": partition,
            "account": account,
            "region": zone[:-1],
            "zone": zone,
            "ec2": {"instanceId": instance, "iamRole": {"name": role}},
        }
    }


def _ecs(
    partition: str, account: str, zone: str, cluster: str, task: str, role: str
) -> dict[str, Any]:
    return {
        "aws": {
            "partition": partition,
            "account": account,
            "region": zone[:-1],
            "zone": zone,
            "ecs": {"taskId": task, "cluster": cluster, "iamRole": {"name": role}},
        }
    }


def _jwt(issuer: str, subject: str, region: str) -> dict[str, Any]:
    return {"jwt": {"issuer": issuer, "subject": subject, "attributes": {"region": region}}}


def onboarding_policy(
    now: datetime,
    namespace: str,
    name: str,
    allow: list[dict[str, Any]],
    age: timedelta = timedelta(days=60),
) -> dict[str, Any]:
    """An OnboardingPolicy with `spec.allow` as given."""
    return {
        "apiVersion": "authorization.onboarding.tetrate.io/v1alpha1",
        "kind": "OnboardingPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for("OnboardingPolicy", namespace, name),
            "creationTimestamp": _ago(now, age),
        },
        "spec": {"allow": allow},
    }


def control_plane(
    now: datetime, issuers: list[str], namespace: str = "istio-system"
) -> dict[str, Any]:
    """TSB's ControlPlane, trusting `issuers` for onboarding (short names made from the host)."""
    jwt = [
        {"issuer": i, "shortName": i.split("//")[-1].split(".")[0], "jwksUri": i + "/jwks"}
        for i in issuers
    ]
    return {
        "apiVersion": "install.tetrate.io/v1alpha1",
        "kind": "ControlPlane",
        "metadata": {
            "name": "controlplane",
            "namespace": namespace,
            "uid": uid_for("ControlPlane", namespace, "controlplane"),
            "creationTimestamp": _ago(now, timedelta(days=200)),
        },
        "spec": {
            "meshExpansion": {
                "onboarding": {
                    "endpoint": {"hosts": ["onboarding-endpoint.example"], "secretName": "tls"},
                    "workloads": {"authentication": {"jwt": {"issuers": jwt}}},
                }
            }
        },
    }


_NAMED_AWS = re.compile(r"-aws-(?:aws|aws-cn|aws-us-gov)-([0-9]{12})-[a-z0-9-]+?-(ec2|ecs)-")


def _admitted_as(war: dict[str, Any]) -> tuple[str | None, str]:
    """(ec2|ecs, account) or (jwt, issuer) of a WAR: spec.identity, else an AWS name."""
    ident = (war.get("spec") or {}).get("identity") or {}
    aws, jwt = ident.get("aws"), ident.get("jwt")
    if isinstance(aws, dict):
        return ("ecs" if "ecs" in aws else "ec2"), str(aws.get("account"))
    if isinstance(jwt, dict):
        return "jwt", str(jwt.get("issuer"))
    named = _NAMED_AWS.search(war["metadata"]["name"])
    return (named.group(2), named.group(1)) if named else (None, "")


def admitting_policies(
    now: datetime, objs: list[dict[str, Any]], name: str = "workloads"
) -> list[dict[str, Any]]:
    """One policy per namespace (`<namespace>-<name>`) admitting every identity the WARs
    among `objs` show, into any group: each platform's accounts (EC2, ECS) and each JWT
    issuer. A real cluster's WARs exist because some policy admitted them."""
    found: dict[str, dict[str, list[str]]] = {}
    for obj in objs:
        if obj.get("kind") != "WorkloadAutoRegistration":
            continue
        kind, value = _admitted_as(obj)
        if kind is None:
            continue
        values = found.setdefault(obj["metadata"]["namespace"], {}).setdefault(kind, [])
        if value not in values:
            values.append(value)
    out = []
    for ns, kinds in sorted(found.items()):
        workloads: list[dict[str, Any]] = []
        for kind in ("ec2", "ecs"):
            if kind in kinds:
                workloads.append({"aws": {"accounts": kinds[kind], kind: {}}})
        workloads += [{"jwt": {"issuer": i}} for i in kinds.get("jwt", [])]
        allow = [{"workloads": workloads, "onboardTo": [{"workloadGroupSelector": {}}]}]
        out.append(onboarding_policy(now, ns, f"{ns}-{name}", allow))
    return out


def _event(
    now: datetime,
    war: dict[str, Any],
    *,
    kind: str,
    reason: str,
    message: str,
    ago: timedelta,
    count: int = 1,
    pod: str = ONBOARDING_PODS[0],
) -> dict[str, Any]:
    meta = war["metadata"]
    digest = hashlib.sha256(f"{meta['namespace']}/{meta['name']}/{reason}".encode()).hexdigest()
    name = f"{meta['name']}.{digest[:16]}"
    when = _ago(now, ago)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "uid": uid_for("Event", meta["namespace"], name),
            "creationTimestamp": when,
        },
        "involvedObject": {
            "apiVersion": WAR_API_VERSION,
            "kind": "WorkloadAutoRegistration",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
        "reason": reason,
        "message": message,
        "source": {"component": ONBOARDING_MANAGER},
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": count,
        "type": kind,
        "eventTime": None,
        "reportingComponent": ONBOARDING_MANAGER,
        "reportingInstance": pod,
    }


def build_fleet(now: datetime) -> list[dict[str, Any]]:
    """The demo fleet: 3 namespaces, 5 WorkloadGroups, 20 WARs, and Events about some WARs.

    Freshness cases: ``ratings`` changed 2h ago (WARs from before and after),
    ``reviews-v2`` never changed after creation (generation 1, managedFields
    present), ``payments-api`` changed 20m ago by its creator and has a recent
    status-only entry, ``ledger-2`` has generation 1 and no managedFields,
    ``edge-gw`` changed 10d ago (one WAR older than that).
    Connection cases: disconnected 30s, 4m and 12m ago; one WAR without status.
    """
    d, h, m, s = (
        (lambda n: timedelta(days=n)),
        (lambda n: timedelta(hours=n)),
        (lambda n: timedelta(minutes=n)),
        (lambda n: timedelta(seconds=n)),
    )
    pod_a, pod_b = ONBOARDING_PODS
    out: list[dict[str, Any]] = [
        _namespace(now, "bookinfo", d(120)),
        _namespace(now, "onprem", d(200)),
        _namespace(now, "payments", d(90)),
    ]

    # WorkloadGroups ------------------------------------------------------------
    out.append(
        _workload_group(
            now,
            "bookinfo",
            "ratings",
            age=d(60),
            spec=_wg_spec(
                "ratings", "v1", "bookinfo-ratings", "aws-vpc-0a1b2c3d", {"http": 9080}, 9080
            ),
            creator="kubectl-client-side-apply",
            changes=[
                ("kubectl-edit", d(20), [("f:spec", "f:probe")]),
                ("kubectl-edit", h(2), [("f:spec", "f:template", "f:network")]),
            ],
        )
    )
    out.append(
        _workload_group(
            now,
            "bookinfo",
            "reviews-v2",
            age=d(30),
            spec=_wg_spec(
                "reviews", "v2", "bookinfo-reviews", "aws-vpc-0a1b2c3d", {"http": 9080}, 9080
            ),
            creator="kubectl-client-side-apply",
        )
    )
    out.append(
        _workload_group(
            now,
            "payments",
            "payments-api",
            age=d(45),
            spec=_wg_spec(
                "payments-api",
                "v3",
                "payments-api",
                "aws-vpc-7f6e5d4c",
                {"grpc": 8443, "http-admin": 9901},
                9901,
                locality="us-west-2",
            ),
            creator="helm",
            changes=[("helm", m(20), [("f:spec", "f:template", "f:ports")])],
            status_update=("pilot-discovery", m(1)),
        )
    )
    out.append(
        _workload_group(
            now,
            "payments",
            "ledger-2",
            age=d(14),
            spec=_wg_spec(
                "ledger", "v2", "payments-ledger", "aws-cn-vpc-1122aabb", {"http": 8080}, 8080
            ),
            creator=None,
        )
    )
    out.append(
        _workload_group(
            now,
            "onprem",
            "edge-gw",
            age=d(90),
            spec=_wg_spec(
                "edge-gw",
                "v1",
                "onprem-edge-gw",
                "datacenter1",
                {"https": 8443},
                15021,
                locality="us-east",
            ),
            creator="kubectl-create",
            changes=[
                ("kubectl-patch", d(40), [("f:spec", "f:metadata", "f:labels")]),
                ("kubectl-patch", d(10), [("f:spec", "f:probe")]),
                ("kubectl-edit", d(25), [("f:spec", "f:template", "f:serviceAccount")]),
            ],
        )
    )

    # WorkloadAutoRegistrations ---------------------------------------------------
    vpc_labels = {"app": "ratings", "version": "v1", "class": "vm"}
    agent, istio, rev = "1.9.2", "1.20.8-tetrate1", "tsb-1-9"
    acct = "123456789012"
    role = "bookinfo-ratings-vm"
    wars: list[dict[str, Any]] = []

    def ec2_war(
        ns: str, wg: str, part: str, acc: str, zone: str, inst: str, r: str, **kw: Any
    ) -> dict[str, Any]:
        identity = _ec2(part, acc, zone, inst, r)
        return _war(now, ns, wg, f"aws-{part}-{acc}-{zone}-ec2-{inst}", identity, **kw)

    def ecs_war(
        ns: str, wg: str, part: str, acc: str, zone: str, cluster: str, task: str, r: str, **kw: Any
    ) -> dict[str, Any]:
        identity = _ecs(part, acc, zone, cluster, task, r)
        return _war(now, ns, wg, f"aws-{part}-{acc}-{zone}-ecs-{cluster}-{task}", identity, **kw)

    def jwt_war(
        ns: str, wg: str, short: str, issuer: str, subject: str, region: str, **kw: Any
    ) -> dict[str, Any]:
        return _war(now, ns, wg, f"jwt-{short}--{subject}", _jwt(issuer, subject, region), **kw)

    def reg(ips: list[tuple[str, str]], labels: dict[str, str], **kw: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "agent": agent,
            "istio": istio,
            "revision": rev,
            "connected_over": "VPC",
        }
        base.update(kw)
        return _registration(addresses=ips, labels=labels, **base)

    # bookinfo/ratings: changed 2h ago; WARs from 5d, 3d, 2d ago are outdated.
    wars.append(
        ec2_war(
            "bookinfo",
            "ratings",
            "aws",
            acct,
            "us-east-2a",
            "i-0a1b2c3d4e5f60718",
            role,
            age=d(3),
            registration=reg([("10.0.1.17", "VPC")], vpc_labels),
            connected=True,
        )
    )
    wars.append(
        ec2_war(
            "bookinfo",
            "ratings",
            "aws",
            acct,
            "us-east-2b",
            "i-1234567890abcdef0",
            role,
            age=d(5),
            registration=reg([("10.0.2.45", "VPC"), ("3.17.201.9", "INTERNET")], vpc_labels),
            connected=True,
            since=h(30),
            pod=pod_b,
            reason="ConnectionEstablished",
        )
    )
    wars.append(
        ec2_war(
            "bookinfo",
            "ratings",
            "aws",
            acct,
            "us-east-2c",
            "i-0f9e8d7c6b5a43210",
            role,
            age=m(50),
            registration=reg([("10.0.3.88", "VPC")], vpc_labels),
            connected=True,
        )
    )
    wars.append(
        ec2_war(
            "bookinfo",
            "ratings",
            "aws",
            acct,
            "us-east-2a",
            "i-07e1c5d2a9b3f4e86",
            role,
            age=d(2),
            registration=reg([("10.0.1.203", "VPC")], vpc_labels),
            connected=False,
            since=s(30),
        )
    )
    wars.append(
        ecs_war(
            "bookinfo",
            "ratings",
            "aws",
            acct,
            "us-east-1a",
            "bookinfo",
            "3a151358f03a4e32bf8cd401c1c74653",
            "bookinfo-ratings-task",
            age=m(40),
            registration=reg([("10.10.4.19", "VPC")], vpc_labels, revision=None),
            connected=True,
            pod=pod_b,
        )
    )
    wars.append(
        jwt_war(
            "bookinfo",
            "ratings",
            "my-corp",
            "https://issuer.corp.internal",
            "vm007-datacenter1-us-east.internal.corp",
            "us-east",
            age=d(8),
            registration=reg(
                [("192.168.10.7", "VPC")],
                {**vpc_labels, "location": "dc1"},
                connected_over="INTERNET",
            ),
            connected=True,
        )
    )

    # bookinfo/reviews-v2: never changed after creation.
    rv_labels = {"app": "reviews", "version": "v2", "class": "vm"}
    rv_role = "bookinfo-reviews-vm"
    wars.append(
        ec2_war(
            "bookinfo",
            "reviews-v2",
            "aws",
            acct,
            "us-east-2b",
            "i-0c4d2e8f1a3b5c7d9",
            rv_role,
            age=d(6),
            registration=reg([("10.0.2.61", "VPC")], rv_labels),
            connected=True,
        )
    )
    wars.append(
        ec2_war(
            "bookinfo",
            "reviews-v2",
            "aws",
            acct,
            "us-east-2c",
            "i-0d5e3f9a2b4c6d8e0",
            rv_role,
            age=d(1),
            registration=reg([("10.0.3.12", "VPC")], rv_labels),
            connected=False,
            since=m(4),
            pod=pod_b,
            reason="AgentConnectionClosed",
        )
    )
    wars.append(
        ec2_war(
            "bookinfo",
            "reviews-v2",
            "aws",
            acct,
            "us-east-2a",
            "i-0e6f4a0b3c5d7e9f1",
            rv_role,
            age=s(5),
            registration=reg([("10.0.1.99", "VPC")], rv_labels),
            connected=None,
        )
    )

    # payments/payments-api: ECS tasks; spec changed 20m ago.
    pay_acct = "210987654321"
    pay_labels = {"app": "payments-api", "version": "v3"}
    pay_role = "payments-api-task"
    for zone, task, age, state, since, pod in (
        ("us-west-2a", "0c2a6f7e9b1d4c3e8f5a7b9d1e3f5a7b", d(4), True, None, pod_a),
        ("us-west-2b", "5d8e1f3a6c9b2e4d7f0a3c6e9b2d5f8a", h(26), True, h(3), pod_b),
        ("us-west-2a", "9f1b3d5e7a9c1e3f5b7d9f1a3c5e7b9d", h(9), False, m(12), pod_a),
        ("us-west-2b", "a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7", m(10), True, None, pod_a),
    ):
        wars.append(
            ecs_war(
                "payments",
                "payments-api",
                "aws",
                pay_acct,
                zone,
                "payments",
                task,
                pay_role,
                age=age,
                registration=reg(
                    [(f"10.20.{len(wars)}.5", "VPC")],
                    pay_labels,
                    revision="tsb-1-8",
                    istio="1.19.10-tetrate2",
                    agent="1.8.4",
                ),
                connected=state,
                since=since,
                pod=pod,
            )
        )

    # payments/ledger-2: generation 1 and no managedFields; other partitions.
    ledger_labels = {"app": "ledger", "version": "v2"}
    wars.append(
        ec2_war(
            "payments",
            "ledger-2",
            "aws-cn",
            "987654321098",
            "cn-north-1a",
            "i-0123456789abcdef1",
            "ledger-vm",
            age=d(9),
            registration=reg([("172.31.5.10", "VPC")], ledger_labels),
            connected=True,
        )
    )
    wars.append(
        ec2_war(
            "payments",
            "ledger-2",
            "aws-cn",
            "987654321098",
            "cn-northwest-1b",
            "i-0fedcba9876543210",
            "ledger-vm",
            age=d(9),
            registration=reg([("172.31.6.11", "VPC")], ledger_labels),
            connected=True,
            pod=pod_b,
        )
    )
    wars.append(
        ec2_war(
            "payments",
            "ledger-2",
            "aws-us-gov",
            "456789012345",
            "us-gov-west-1a",
            "i-0aa11bb22cc33dd44",
            "ledger-vm",
            age=d(11),
            registration=reg(
                [("10.50.0.4", "VPC"), ("15.200.1.4", "INTERNET")],
                ledger_labels,
                connected_over="INTERNET",
            ),
            connected=True,
        )
    )

    # onprem/edge-gw: JWT machines; spec changed 10d ago, vm101 joined before that.
    issuer = "https://issuer.corp.internal"
    edge_labels = {"app": "edge-gw", "version": "v1", "datacenter": "dc1"}
    wars.append(
        jwt_war(
            "onprem",
            "edge-gw",
            "my-corp",
            issuer,
            "vm007-datacenter1-us-east.internal.corp",
            "us-east",
            age=d(7),
            registration=reg(
                [("192.168.10.7", "VPC")], edge_labels, connected_over="INTERNET", revision=None
            ),
            connected=True,
        )
    )
    wars.append(
        jwt_war(
            "onprem",
            "edge-gw",
            "my-corp",
            issuer,
            "vm008-datacenter1-us-east.internal.corp",
            "us-east",
            age=d(7),
            registration=reg(
                [("192.168.10.8", "VPC")], edge_labels, connected_over="INTERNET", revision=None
            ),
            connected=True,
            pod=pod_b,
        )
    )
    wars.append(
        jwt_war(
            "onprem",
            "edge-gw",
            "my-corp",
            issuer,
            "vm101-datacenter2-eu-west.internal.corp",
            "eu-west",
            age=d(12),
            registration=reg(
                [("192.168.20.101", "VPC")],
                {**edge_labels, "datacenter": "dc2"},
                connected_over="INTERNET",
                revision=None,
            ),
            connected=True,
            since=d(2),
            reason="ConnectionEstablished",
        )
    )
    wars.append(
        jwt_war(
            "onprem",
            "edge-gw",
            "dc2-sso",
            "https://sso.dc2.corp.internal/realms/machines",
            "vm102-datacenter2-eu-west.internal.corp",
            "eu-west",
            age=h(5),
            registration=reg(
                [("192.168.20.102", "VPC")],
                {**edge_labels, "datacenter": "dc2"},
                connected_over="INTERNET",
                revision=None,
            ),
            connected=True,
        )
    )
    out.extend(wars)
    out.extend(admitting_policies(now, wars))
    issuers = sorted(
        {w["spec"]["identity"]["jwt"]["issuer"] for w in wars if "jwt" in w["spec"]["identity"]}
    )
    out.append(control_plane(now, issuers))

    # Events about WARs -------------------------------------------------------------
    by_name = {w["metadata"]["name"]: w for w in wars}
    for war in wars:
        status = war.get("status")
        if not status:
            continue
        cond = status["conditions"][0]
        since_stamp = cond["lastTransitionTime"]
        ago = now - datetime.fromisoformat(since_stamp.replace("Z", "+00:00"))
        if cond["status"] == "False":
            out.append(
                _event(
                    now,
                    war,
                    kind="Warning",
                    reason="AgentDisconnected",
                    message=cond["message"],
                    ago=ago,
                )
            )
    for name in (
        "ratings-aws-aws-123456789012-us-east-2c-ec2-i-0f9e8d7c6b5a43210",
        "payments-api-aws-aws-210987654321-us-west-2b-ecs-payments-a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7",
    ):
        war = by_name[name]
        cond = war["status"]["conditions"][0]
        ago = now - datetime.fromisoformat(cond["lastTransitionTime"].replace("Z", "+00:00"))
        out.append(
            _event(
                now, war, kind="Normal", reason="AgentConnected", message=cond["message"], ago=ago
            )
        )
    return out


#: Annotations every WAR of the large fleet carries. The TSB documentation shows no
#: annotations on a WAR; these two stand for what controllers commonly record (who
#: wrote the object, a session), so that lists carry metadata a row never shows.
LARGE_FLEET_ANNOTATIONS = (
    "runtime.onboarding.tetrate.io/onboarding-plane-pod",
    "runtime.onboarding.tetrate.io/agent-session",
)
#: Where the large fleet's shape comes from, for the benchmark's report.
LARGE_FLEET_SHAPE = (
    "spec and the AgentConnected condition as the TSB reference and guide document them "
    "(nanosecond condition times as in the guide's example); metadata.managedFields as "
    "kube-apiserver records a controller's create and its status-subresource writes "
    "(one `Update` entry per manager and subresource, FieldsV1, lists atomic except "
    "ownerReferences, keyed by uid); keys sorted and compact, as the API server encodes "
    "a custom resource; two annotations and two more conditions (Registered, "
    "WorkloadEntryCreated) that the TSB docs do not show, standing for what a "
    "controller adds"
)


def build_large_fleet(now: datetime, n: int) -> list[dict[str, Any]]:
    """``n`` varied WARs (EC2, ECS and JWT; connected, disconnected, no status) with their
    namespaces and WorkloadGroups, for paging tests and benchmarks."""
    with paused_gc():
        return list(iter_large_fleet(now, n))


def iter_large_fleet(now: datetime, n: int, *, shared: bool = False) -> Iterator[dict[str, Any]]:
    """The objects of :func:`build_large_fleet`, one at a time.

    Each WAR is shaped as a real API server returns one the onboarding plane wrote
    (about 2.9 KB of compact JSON; see ``LARGE_FLEET_SHAPE``): ``metadata`` with
    annotations, the WorkloadGroup ownerReference and ``managedFields`` (the plane's
    create, and its status writes as one ``subresource: status`` entry, in
    structured-merge-diff's FieldsV1 form, the ownerReference keyed by uid), ``spec``
    as the onboarding endpoint fills it, and a ``status`` of three conditions with
    AgentConnected in the middle, their times in nanoseconds.

    ``shared=True`` lets objects share their managedFields trees: faster, for a
    consumer that serializes each object at once and never mutates it.
    """
    namespaces = [f"fleet-{i:02d}" for i in range(4 if n <= 5000 else 10)]
    groups = ["api", "worker", "cache-2"]
    for ns in namespaces:
        yield _namespace(now, ns, timedelta(days=30))
    for ns in namespaces:
        for wg in groups:
            yield _workload_group(
                now,
                ns,
                wg,
                age=timedelta(days=20),
                spec=_wg_spec(wg, "v1", f"{ns}-{wg}", "vpc-fleet", {"http": 8080}, 8080),
                creator="kubectl-client-side-apply",
                changes=[
                    ("kubectl-edit", timedelta(hours=6), [("f:spec", "f:template", "f:network")])
                ],
            )
    zones = ("us-east-2a", "us-east-2b", "us-east-2c", "us-west-2a")
    trees: dict[tuple[str, bool | None], list[dict[str, Any]]] = {}
    owner_trees: dict[str, dict[str, Any]] = {}
    for i in range(n):
        ns = namespaces[i % len(namespaces)]
        wg = groups[(i // len(namespaces)) % len(groups)]
        zone = zones[i % len(zones)]
        flavour = i % 3
        if flavour == 0:
            inst = f"i-{i:017x}"
            part = f"aws-aws-{100000000000 + i % 7:012d}-{zone}-ec2-{inst}"
            identity = _ec2("aws", f"{100000000000 + i % 7:012d}", zone, inst, f"{wg}-vm")
        elif flavour == 1:
            task = f"{i:032x}"
            part = f"aws-aws-{200000000000 + i % 5:012d}-{zone}-ecs-{ns}-{task}"
            identity = _ecs("aws", f"{200000000000 + i % 5:012d}", zone, ns, task, f"{wg}-task")
        else:
            subject = f"vm{i:06d}-dc{i % 4 + 1}.internal.corp"
            part = f"jwt-corp--{subject}"
            identity = _jwt("https://issuer.corp.internal", subject, "us-east")
        age = timedelta(seconds=60 + (i * 7919) % (14 * 86400))
        connected: bool | None = True
        since: timedelta | None = None
        if i % 31 == 0:
            connected = None
        elif i % 13 == 0:
            connected = False
            since = timedelta(seconds=(i * 37) % 900)
        name = f"{wg}-{part}"
        created = _ago(now, age)
        pod = ONBOARDING_PODS[i % 2]
        group_uid = uid_for("WorkloadGroup", ns, wg)
        obj: dict[str, Any] = {
            "apiVersion": WAR_API_VERSION,
            "kind": "WorkloadAutoRegistration",
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": str(uuid.UUID(int=(i + 1) * 0x9E3779B97F4A7C15 % (1 << 128), version=4)),
                "creationTimestamp": created,
                "generation": 1,
                "annotations": {
                    LARGE_FLEET_ANNOTATIONS[0]: pod,
                    LARGE_FLEET_ANNOTATIONS[1]: f"{i * 0x9E3779B1 % (1 << 64):016x}",
                },
                "ownerReferences": [
                    {
                        "apiVersion": WG_API_VERSION,
                        "kind": "WorkloadGroup",
                        "name": wg,
                        "uid": group_uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "identity": identity,
                "registration": {
                    "agent": {"version": "1.9.2"},
                    "sidecar": {"istio": {"version": "1.20.8-tetrate1", "revision": "tsb-1-9"}},
                    "host": {
                        "addresses": [
                            {
                                "ip": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                                "type": "VPC",
                            }
                        ]
                    },
                    "workload": {"labels": {"app": wg, "version": "v1"}},
                    "settings": {"connectedOver": "VPC"},
                },
            },
        }
        if connected is not None:
            changed_at = _ago(now, since if since is not None else age - timedelta(seconds=2))
            # The plane writes condition times with nanoseconds (the TSB guide's example:
            # 2021-10-09T10:56:41.380102645Z); managedFields times are whole seconds.
            precise = f"{changed_at[:-1]}.{i * 7919 % 10**9:09d}Z"
            registered = f"{created[:-1]}.{i * 104729 % 10**9:09d}Z"
            cond = {
                "type": "AgentConnected",
                "status": "True" if connected else "False",
                "reason": "AgentEstablishedConnection" if connected else "AgentDisconnected",
                "message": (
                    "Agent established connection to " if connected else "Agent disconnected from "
                )
                + pod,
                "lastTransitionTime": precise,
            }
            status: dict[str, Any] = {
                "observedGeneration": 1,
                "conditions": [
                    {
                        "type": "Registered",
                        "status": "True",
                        "reason": "WorkloadRegistered",
                        "message": f"Workload registered with WorkloadGroup {ns}/{wg}",
                        "lastTransitionTime": registered,
                    },
                    cond,
                    {
                        "type": "WorkloadEntryCreated",
                        "status": "True",
                        "reason": "WorkloadEntryCreated",
                        "message": f"WorkloadEntry {ns}/{name[:40]} created",
                        "lastTransitionTime": registered,
                    },
                ],
            }
            if connected:
                status["activeAgentConnection"] = {"connectedTo": pod}
            obj["status"] = status
        # Field trees depend only on the shape (and the owner's uid), so compute one per
        # shape and reuse it.
        shape = ("ec2", "ecs", "jwt")[flavour], connected
        if shape not in trees:
            trees[shape] = [
                paths_to_fieldsv1(fields_of(managed_view(obj, status=False))),
                paths_to_fieldsv1(fields_of(managed_view(obj, status=True))),
            ]
        main_tree, status_tree = (
            trees[shape] if shared else [json.loads(json.dumps(t)) for t in trees[shape]]
        )
        if group_uid not in owner_trees:
            # metadata.ownerReferences is a list keyed by uid (listType=map), so the API
            # server tracks each reference as its own element.
            meta_tree = dict(main_tree["f:metadata"])
            meta_tree["f:ownerReferences"] = {".": {}, f'k:{{"uid":"{group_uid}"}}': {}}
            owner_trees[group_uid] = meta_tree
        main_tree = {**main_tree, "f:metadata": owner_trees[group_uid]}
        entries = [
            {
                "manager": ONBOARDING_MANAGER,
                "operation": "Update",
                "apiVersion": WAR_API_VERSION,
                "time": created,
                "fieldsType": "FieldsV1",
                "fieldsV1": main_tree,
            }
        ]
        if connected is not None:
            entries.append(
                {
                    "manager": ONBOARDING_MANAGER,
                    "operation": "Update",
                    "apiVersion": WAR_API_VERSION,
                    "time": changed_at,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": status_tree,
                    "subresource": "status",
                }
            )
        obj["metadata"]["managedFields"] = entries
        yield obj
