"""Flags in, a consistent picture of the cluster out: the WARs and what they refer to.

This is the only place commands read the cluster from, so a run asks the API
server for each thing once (one paged list of WARs, one list of WorkloadGroups).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubectl_war.freshness import Freshness, LastChange, last_spec_change, war_freshness
from kubectl_war.jsondata import child
from kubectl_war.kube.decode import loads_without_managed_fields
from kubectl_war.kube.errors import Forbidden, KubeError, NotFound
from kubectl_war.notice import warn
from kubectl_war.onboarding.admission import admission
from kubectl_war.onboarding.policy import GROUP, parse_all
from kubectl_war.war import GROUP as WAR_API_GROUP
from kubectl_war.war import KIND as WAR_KIND
from kubectl_war.war import CompactWar, War

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON
    from kubectl_war.kube.client import Kube
    from kubectl_war.onboarding.policy import Bad, Policy

WAR_PLURAL = "workloadautoregistrations"


@dataclass
class Snapshot:
    """What one run saw of the cluster.

    Attributes:
        wars: the WARs, in the server's order (namespace, then name).
        resource_version: the list's resourceVersion, where a watch resumes from.
        namespace: the namespace looked in, None for all namespaces.
        groups: WorkloadGroups by (namespace, name), when they were fetched.
        groups_served: False when the cluster serves no WorkloadGroup API.
        groups_error: why the WorkloadGroups could not be read (a refused or failed
            list), None when they were; every WAR's freshness is then unknown.
    """

    wars: list[War]
    resource_version: str = ""
    namespace: str | None = None
    groups: dict[tuple[str, str], JSON] = field(default_factory=dict)
    groups_fetched: bool = False
    groups_served: bool = True
    groups_error: str | None = None
    # last_spec_change per WorkloadGroup object (by id, the object kept alongside).
    _spec_changes: dict[int, tuple[Any, LastChange]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def spec_change(self, group: JSON) -> LastChange:
        """When a WorkloadGroup's spec last changed, worked out once per group: every
        WAR of a group asks the same question."""
        hit = self._spec_changes.get(id(group))
        if hit is None or hit[0] is not group:
            hit = self._spec_changes[id(group)] = (group, last_spec_change(group))
        return hit[1]

    def group_of(self, war: War) -> JSON | None:
        """The WorkloadGroup object a WAR belongs to, or None when it does not exist.

        A WorkloadGroup deleted and re-created under the same name is not the one
        that owns the WAR: the ownerReference's uid tells them apart.
        """
        return self.group_named(war.namespace, war.group, war.group_uid)

    def group_named(self, namespace: str, group: str | None, owner_uid: str | None) -> JSON | None:
        """`group_of` for a WAR known only by its namespace, group and owner uid."""
        if group is None:
            return None
        wg = self.groups.get((namespace, group))
        if wg is None:
            return None
        if owner_uid:
            meta = child(wg, "metadata")
            if meta.get("uid") and meta.get("uid") != owner_uid:
                return None
        return wg

    def judge(
        self, group: JSON | None, created: datetime | None
    ) -> tuple[Freshness, LastChange | None]:
        """`freshness.war_freshness` for a WAR created at `created` in `group`; unknown
        for every WAR when the WorkloadGroups could not be read."""
        if self.groups_error is not None:
            return Freshness.UNKNOWN, None
        change = self.spec_change(group) if group is not None else None
        return war_freshness(created, group, last_change=change)


def take(
    kube: Kube,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    with_groups: bool = False,
    compact: bool = False,
    keep: list[JSON] | None = None,
) -> Snapshot:
    """Read the WARs (and, when asked, their WorkloadGroups) in one namespace or all.

    `compact` holds each WAR as a `CompactWar`, made as its page arrives, for a command
    that judges and shows WARs but never prints their objects: a tenth of the memory.
    `keep` receives the listed objects too, for a caller that acts on them next.
    """
    res = kube.war_resource()
    selectors = {"label_selector": label_selector, "field_selector": field_selector}
    if compact:
        wars: list[War] = []

        def add(obj: JSON) -> None:
            # Not `gcpause.keep`: the 5,000 whole objects it may hold (some 85 MB) would
            # be most of what a compact list holds.
            wars.append(CompactWar(War(obj)))
            if keep is not None:
                keep.append(obj)

        # What a CompactWar keeps holds nothing of managedFields (half of each WAR's
        # JSON): left undecoded, unless the caller keeps whole objects.
        decoder = loads_without_managed_fields if keep is None else None
        rv = kube.list_each(res, namespace, add, decoder=decoder, **selectors)
        snap = Snapshot(wars, rv, namespace)
    else:
        listed = kube.list(res, namespace, **selectors)
        snap = Snapshot([War(o) for o in listed.items], listed.resource_version, namespace)
        if keep is not None:
            keep.extend(listed.items)
    if with_groups:
        fetch_groups(kube, snap)
    return snap


def fetch_groups(
    kube: Kube,
    snap: Snapshot,
    namespaces: Iterable[str] | None = None,
    *,
    needed_by: str | None = None,
    whole_scope: bool = False,
) -> None:
    """Fetch the WorkloadGroups the snapshot's WARs refer to, with one list call.

    WorkloadGroups that cannot be read (403, 404) leave every WAR's freshness unknown,
    with one warning naming the permission that would tell it, unless freshness is
    what the command was asked for.

    Args:
        namespaces: those of the WARs, for a caller that did not keep the WARs in the
            snapshot (default: the snapshot's WARs' own).
        needed_by: the flag that selects by freshness (`--outdated`): then unreadable
            WorkloadGroups are an error that says so.
        whole_scope: every WorkloadGroup in the snapshot's namespace (or in all), whether
            WARs refer to it or not: `status` judges groups no WAR has joined yet.

    Raises:
        KubeError: any other failure, or an unreadable list when `needed_by` is given.
    """
    snap.groups_fetched = True
    wg_res = kube.workloadgroup_resource()
    if wg_res is None:
        snap.groups_served = False
        return
    namespaces = set(namespaces) if namespaces is not None else {w.namespace for w in snap.wars}
    if not namespaces and not whole_scope:
        return
    scope = snap.namespace
    if scope is None and len(namespaces) == 1 and not whole_scope:
        scope = next(iter(namespaces))
    try:
        listed = kube.list(wg_res, scope)
    except (Forbidden, NotFound) as exc:
        why = exc.needs or exc.message
        if needed_by is not None:
            raise KubeError(
                f"{needed_by} needs the WorkloadGroups, which cannot be read ({why})"
            ) from None
        snap.groups_error = why
        # Without WARs no freshness was at stake: only the groups' own judgement.
        lost = "up-to-date state" if namespaces else "WorkloadGroups without a policy"
        warn(f"{lost} unknown: WorkloadGroups cannot be read ({why})")
        return
    for obj in listed.items:
        meta = child(obj, "metadata")
        ns, name = meta.get("namespace"), meta.get("name")
        if isinstance(ns, str) and isinstance(name, str):
            snap.groups[(ns, name)] = obj


def take_named(kube: Kube, namespace: str, names: list[str]) -> tuple[Snapshot, list[str]]:
    """The named WARs in one namespace (a GET each), and the names that do not exist."""
    res = kube.war_resource()
    found: list[War] = []
    missing: list[str] = []
    for name in dict.fromkeys(names):  # each name once, in the order given
        obj = kube.get(res, namespace, name)
        if obj is None:
            missing.append(name)
        else:
            found.append(War(obj))
    return Snapshot(found, "", namespace), missing


def events_by_uid(kube: Kube, namespace: str | None) -> dict[str, list[JSON]] | None:
    """Events about WARs, grouped by the uid of the WAR they are about (one list call).

    None when events cannot be read (403, 404): kubectl's describe then leaves its Events
    section out; one warning names the permission that would show them.
    """
    try:
        listed = kube.events(namespace, about_kind=WAR_KIND)
    except (Forbidden, NotFound) as exc:
        warn(f"events not shown: they cannot be read ({exc.needs or exc.message})")
        return None
    out: dict[str, list[JSON]] = {}
    for ev in listed.items:
        involved = child(ev, "involvedObject")
        uid = involved.get("uid")
        if isinstance(uid, str):
            out.setdefault(uid, []).append(ev)
    return out


def not_found(name: str) -> str:
    """kubectl's line for a WAR that does not exist."""
    return f'Error from server (NotFound): {WAR_PLURAL}.{WAR_API_GROUP} "{name}" not found'


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
