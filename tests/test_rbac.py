"""docs/rbac.yaml grants exactly what the commands ask the API server for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.factories import Run
from tests.fakekube import FakeKube
from tests.fakekube.server import RecordedRequest

ROOT = Path(__file__).resolve().parent.parent
ROLES = {
    doc["metadata"]["name"]: doc
    for doc in yaml.safe_load_all((ROOT / "docs" / "rbac.yaml").read_text())
    if doc
}
_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?"
)


def permission(req: RecordedRequest) -> tuple[str, str, str, str | None] | None:
    """(verb, group, resource, namespace) as RBAC sees a request; None for discovery."""
    m = _PATH.match(req.path)
    if m is None or (m["group"] and m["res"] == m["group"]):
        return None
    resource = m["res"]
    if m["ns"] is None and resource == "namespaces" and m["name"]:
        return None
    if m["sub"]:
        resource = f"{resource}/{m['sub']}"
    if req.method == "DELETE":
        verb = "delete"
    elif req.query.get("watch") in (["1"], ["true"]):
        verb = "watch"
    else:
        verb = "get" if m["name"] else "list"
    return verb, m["group"] or "", resource, m["ns"]


def allowed(role: dict[str, Any], verb: str, group: str, resource: str) -> bool:
    return any(
        group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
        for rule in role["rules"]
    )


@pytest.mark.parametrize(
    ("role", "commands"),
    [
        (
            "kubectl-war-reader",
            [
                ["list", "-A", "-o", "wide"],
                ["describe", "--group", "ratings"],
                ["list", "-A", "--outdated"],
            ],
        ),
        ("kubectl-war-rollout", [["delete", "--group", "ratings", "--disconnected", "--yes"]]),
    ],
)
def test_roles_cover_every_request_and_nothing_more(
    fleet_kube: FakeKube, run_war: Run, role: str, commands: list[list[str]]
) -> None:
    fleet_kube.clear_requests()
    for cmd in commands:
        ns = [] if "-A" in cmd else ["-n", "bookinfo"]
        r = run_war(*cmd, *ns)
        assert r.returncode == 0, r.stderr
    asked = {p for p in map(permission, fleet_kube.requests) if p is not None}
    assert asked, "no resource requests seen"
    for verb, group, resource, namespace in sorted(asked, key=str):
        # Sidecar state comes from istiod's pods: the istio-system Role grants that.
        granting = "kubectl-war-istiod" if namespace == "istio-system" else role
        assert allowed(ROLES[granting], verb, group, resource), (verb, group, resource)
    assert not allowed(
        ROLES["kubectl-war-reader"],
        "delete",
        "runtime.onboarding.tetrate.io",
        "workloadautoregistrations",
    )
