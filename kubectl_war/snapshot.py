"""Flags in, a consistent picture of the cluster out: the WARs and what they refer to.

This and `policy_reads.py` (who may onboard: OnboardingPolicies and the control
plane's JWT issuers) are the places commands read the cluster from, so a run asks the
API server for each thing once (one paged list of WARs, one list of WorkloadGroups).
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
from kubectl_war.war import GROUP as WAR_API_GROUP
from kubectl_war.war import KIND as WAR_KIND
from kubectl_war.war import CompactWar, War

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON
    from kubectl_war.kube.client import Kube

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
