"""The cluster's answer to who may onboard: its OnboardingPolicies, the control plane's
onboarding JWT issuers, and which of a snapshot's WARs no policy admits now.

Read beside `snapshot.py` (the WARs and their WorkloadGroups), by the commands that
weigh admission (`can-onboard`, `describe`, `status`, `delete`, `rollout`); `list`
never loads the policy evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_war.kube.errors import Forbidden, KubeError, NotFound
from kubectl_war.notice import warn
from kubectl_war.onboarding.admission import admission
from kubectl_war.onboarding.policy import GROUP, parse_all

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON
    from kubectl_war.kube.client import Kube
    from kubectl_war.onboarding.policy import Bad, Policy
    from kubectl_war.snapshot import Snapshot


@dataclass
class PolicyRead:
    """The OnboardingPolicies of one namespace (or all), parsed.

    Attributes:
        served: False when the cluster serves no OnboardingPolicy API.
        error: why they could not be read (a refusal), None when they were.
    """

    policies: list[Policy] = field(default_factory=list)
    malformed: list[Bad] = field(default_factory=list)
    served: bool = True
    error: str | None = None

    @property
    def readable(self) -> bool:
        return self.served and self.error is None


def read_policies(kube: Kube, namespace: str | None, *, required: bool = False) -> PolicyRead:
    """The OnboardingPolicies in `namespace` (None: every namespace), parsed; malformed
    ones are kept apart by name.

    Args:
        required: the command's answer rests on them: a refusal or an unserved API is
            an error instead of an unreadable `PolicyRead`.

    Raises:
        KubeError: any failure but a refusal; a refusal too when `required`.
    """
    res = kube.policy_resource()
    if res is None:
        if required:
            raise KubeError(
                f"the cluster does not serve {GROUP}: is TSB workload onboarding installed?"
            )
        return PolicyRead(served=False)
    try:
        listed = kube.list(res, namespace)
    except (Forbidden, NotFound) as exc:
        if required:
            raise
        return PolicyRead(error=exc.needs or exc.message)
    good, bad = parse_all(listed.items)
    return PolicyRead(good, bad)


def policies_or_warn(kube: Kube, namespace: str | None, what: str) -> PolicyRead | None:
    """`read_policies` for a command that shows them as decoration: None (with one
    warning naming the permission) when they cannot be read, None silently when the
    cluster does not serve them; each malformed policy is named in a warning."""
    read = read_policies(kube, namespace)
    if read.error is not None:
        warn(f"{what} unknown: OnboardingPolicies cannot be read ({read.error})")
        return None
    if not read.served:
        return None
    for bad in read.malformed:
        warn(f"OnboardingPolicy {bad.namespace}/{bad.name} skipped: {bad.problem}")
    return read


def _issuer_entries(kube: Kube, istio_namespace: str) -> tuple[list[JSON] | None, str | None]:
    """The onboarding JWT issuer entries of every ControlPlane in the Istio namespace
    (`spec.meshExpansion.onboarding.workloads.authentication.jwt.issuers[]`), or None
    and why they cannot be read."""
    res = kube.controlplane_resource()
    if res is None:
        return None, "the cluster serves no ControlPlane API"
    try:
        items = kube.list(res, istio_namespace).items
    except (Forbidden, NotFound) as exc:
        return None, exc.needs or exc.message
    if not items:
        return None, f"no ControlPlane in namespace {istio_namespace}"
    out: list[JSON] = []
    path = ("spec", "meshExpansion", "onboarding", "workloads", "authentication", "jwt")
    for obj in items:
        node: Any = obj
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        entries = node.get("issuers") if isinstance(node, dict) else None
        out += [e for e in (entries if isinstance(entries, list) else []) if isinstance(e, dict)]
    return out, None


def trusted_issuers(kube: Kube, istio_namespace: str) -> tuple[list[str] | None, str | None]:
    """The JWT issuers the control plane trusts for onboarding (every ControlPlane in
    the Istio namespace), or None and why they cannot be known."""
    entries, why = _issuer_entries(kube, istio_namespace)
    if entries is None:
        return None, why
    issuers: list[str] = []
    for entry in entries:
        issuer = entry.get("issuer")
        if isinstance(issuer, str) and issuer not in issuers:
            issuers.append(issuer)
    return issuers, None


def issuer_short_names(
    kube: Kube, istio_namespace: str
) -> tuple[dict[str, str] | None, str | None]:
    """The control plane's onboarding JWT issuers by `shortName` (the part of a JWT WAR's
    name that names its issuer), or None and why they cannot be known. A short name two
    issuers claim is left out: it cannot tell them apart."""
    entries, why = _issuer_entries(kube, istio_namespace)
    if entries is None:
        return None, why
    found: dict[str, set[str]] = {}
    for entry in entries:
        short, issuer = entry.get("shortName"), entry.get("issuer")
        if isinstance(short, str) and isinstance(issuer, str):
            found.setdefault(short, set()).add(issuer)
    return {short: next(iter(i)) for short, i in found.items() if len(i) == 1}, None


def unadmitted(kube: Kube, snap: Snapshot) -> frozenset[str]:
    """The uids of the snapshot's WARs that no OnboardingPolicy of their namespace admits
    now: deleted, their machines would be refused and not come back. Empty when that
    cannot be told: policies unreadable (one warning) or not served, WorkloadGroups
    unreadable, or a WAR's identity not known well enough."""
    if snap.groups_error is not None or not snap.groups_served or not snap.wars:
        return frozenset()
    read = policies_or_warn(kube, snap.namespace, "which WARs could re-onboard")
    if read is None:
        return frozenset()
    out = set()
    for war in snap.wars:
        found = admission(war, snap.group_of(war), read.policies)
        if found is not None and not found.admitted:
            out.add(war.uid)
    return frozenset(out)
