"""TSB's documented OnboardingPolicy examples (EC2, ECS, JWT), as a small cluster.

bookinfo has WorkloadGroups ratings (app=ratings), details (app=details) and reviews
(app=reviews). ratings has three policies, one per documented example; details one
with `ec2: {}` and no other list (any instance of the account, with or without a
role); no bookinfo rule selects reviews, but a policy in payments names app=reviews
(it has no effect there). `broken` breaks the schema. The ControlPlane trusts
https://mycompany.corp and https://corp.example only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.fakekube.fleet import control_plane, onboarding_policy

NS = "bookinfo"
ACCOUNT = "123456789012"
ISSUER = "https://mycompany.corp"


def _selector(app: str) -> list[dict[str, Any]]:
    return [{"workloadGroupSelector": {"matchLabels": {"app": app}}}]


#: The documented EC2 example: one account, one IAM role.
EC2_RULE = {
    "workloads": [{"aws": {"accounts": [ACCOUNT], "ec2": {"iamRoleNames": ["ratings-role"]}}}],
    "onboardTo": _selector("ratings"),
}
#: The documented ECS example, with its placeholders filled in.
ECS_RULE = {
    "workloads": [
        {
            "aws": {
                "partitions": ["aws"],
                "accounts": [ACCOUNT],
                "regions": ["us-east-2"],
                "zones": ["us-east-2b"],
                "ecs": {"clusters": ["bookinfo"], "iamRoleNames": ["ratings-task"]},
            }
        }
    ],
    "onboardTo": _selector("ratings"),
}
#: The documented JWT example.
JWT_RULE = {
    "workloads": [
        {
            "jwt": {
                "issuer": ISSUER,
                "attributes": [{"name": "region", "values": ["us-east", "us-west"]}],
            }
        }
    ],
    "onboardTo": _selector("ratings"),
}
#: A partner's machines by subject: the policy admits them, the control plane does not
#: trust the partner's issuer.
PARTNER_RULE = {
    "workloads": [{"jwt": {"issuer": "https://partner.example", "subjects": ["vm007"]}}],
    "onboardTo": _selector("ratings"),
}
#: Any EC2 instance of the account, any role or none, any region: empty lists.
ANY_EC2_RULE = {
    "workloads": [{"aws": {"accounts": [ACCOUNT], "ec2": {}}}],
    "onboardTo": [
        {
            "workloadGroupSelector": {
                "matchExpressions": [{"key": "app", "operator": "In", "values": ["details"]}]
            }
        }
    ],
}
#: A policy naming app=reviews, but in payments: it cannot admit into bookinfo.
ELSEWHERE_RULE = {
    "workloads": [{"aws": {"accounts": [ACCOUNT], "ec2": {}}}],
    "onboardTo": _selector("reviews"),
}
#: Accounts must be 12 digits.
BROKEN_RULE = {
    "workloads": [{"aws": {"accounts": ["12345"], "ec2": {}}}],
    "onboardTo": [{"workloadGroupSelector": {}}],
}


def policies(now: datetime) -> list[dict[str, Any]]:
    return [
        onboarding_policy(now, NS, "ratings-ec2", [EC2_RULE]),
        onboarding_policy(now, NS, "ratings-ecs", [ECS_RULE]),
        onboarding_policy(now, NS, "ratings-jwt", [JWT_RULE, PARTNER_RULE]),
        onboarding_policy(now, NS, "details-any-ec2", [ANY_EC2_RULE]),
        onboarding_policy(now, NS, "broken", [BROKEN_RULE]),
        onboarding_policy(now, "payments", "reviews", [ELSEWHERE_RULE]),
    ]


def group(name: str, app: str, namespace: str = NS) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "WorkloadGroup",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"metadata": {"labels": {"app": app}}, "template": {"serviceAccount": app}},
    }


def cluster(now: datetime) -> list[dict[str, Any]]:
    """Every object of the example cluster."""
    return [
        group("ratings", "ratings"),
        group("details", "details"),
        group("reviews", "reviews"),
        *policies(now),
        control_plane(now, [ISSUER, "https://corp.example"]),
    ]
