"""`kubectl war status` as data: counts per WorkloadGroup, and the WARs that need a look (pure).

A WAR is healthy when its agent is connected, it joined after its WorkloadGroup's
latest spec change, and (when a proxy-status source was read) its sidecar is SYNCED.
Everything else is a problem with a name, so alerts can tell them apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubectl_war.assess import Facts, countdown
from kubectl_war.durations import human_duration
from kubectl_war.freshness import Freshness
from kubectl_war.onboarding.verdict import selected_by_any
from kubectl_war.prometheus.exposition import Family, render
from kubectl_war.render import NONE
from kubectl_war.war import War

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kubectl_war.jsondata import JSON
    from kubectl_war.onboarding.policy import Policy

# Problem kinds, as `-o json` names them.
DISCONNECTED = "disconnected"
AGENT_UNKNOWN = "agent-unknown"
OUTDATED = "outdated"
FRESHNESS_UNKNOWN = "freshness-unknown"
NO_GROUP = "no-workloadgroup"
NOT_SYNCED = "not-synced"
NO_POLICY = "no-policy"


@dataclass(frozen=True)
class Problem:
    """One WAR that is not healthy, and why (`kinds` in a fixed order)."""

    context: str | None
    war: War
    facts: Facts
    kinds: tuple[str, ...]

    def words(self) -> str:
        """The reasons for a person: `disconnected (1m40s left), sidecar STALE`."""
        out = []
        for kind in self.kinds:
            if kind == DISCONNECTED:
                removal = self.facts.removal_in
                out.append(f"disconnected ({countdown(removal)})" if removal is not None else kind)
            elif kind == AGENT_UNKNOWN:
                state = self.war.connected
                out.append(f"agent connected {state}" if state else "no agent status yet")
            elif kind == OUTDATED:
                by = self.facts.outdated_by
                out.append(f"outdated by {human_duration(by)}" if by else "outdated")
            elif kind == FRESHNESS_UNKNOWN:
                out.append("up-to-date unknown")
            elif kind == NO_GROUP:
                out.append("no WorkloadGroup")
            elif kind == NOT_SYNCED:
                sidecar = self.facts.sidecar
                out.append(f"sidecar {sidecar.state if sidecar is not None else NONE}")
        return ", ".join(out)

    def to_dict(self) -> JSON:
        war, facts = self.war, self.facts
        sidecar = facts.sidecar
        return {
            "context": self.context,
            "namespace": war.namespace,
            "name": war.name,
            "workloadGroup": war.group,
            "problems": list(self.kinds),
            "agentConnected": war.connected,
            "removalInSeconds": round(facts.removal_in) if facts.removal_in is not None else None,
            "upToDate": facts.freshness.value if facts.freshness is not None else None,
            "sidecar": sidecar.state.value if sidecar is not None and sidecar.state else None,
        }


def problems_of(war: War, facts: Facts) -> tuple[str, ...]:
    """What is wrong with one WAR; empty when it is healthy.

    The sidecar counts only when a source was read (`facts.sidecar` set) and the
    source knows something to say: a disconnected agent whose proxy is gone too is a
    disconnected agent, not also an unsynced sidecar.
    """
    kinds: list[str] = []
    if war.is_disconnected:
        kinds.append(DISCONNECTED)
    elif not war.is_connected:
        kinds.append(AGENT_UNKNOWN)
    if facts.freshness is Freshness.OUTDATED:
        kinds.append(OUTDATED)
    elif facts.freshness is Freshness.UNKNOWN and facts.group_error is None:
        # Unknown because WorkloadGroups cannot be read at all is a permission the
        # user lacks (said once in a warning), not something wrong with this WAR.
        kinds.append(FRESHNESS_UNKNOWN)
    elif facts.freshness is Freshness.NO_GROUP:
        kinds.append(NO_GROUP)
    sidecar = facts.sidecar
    if sidecar is not None and sidecar.state is not None and not sidecar.synced:
        kinds.append(NOT_SYNCED)
    return tuple(kinds)


@dataclass(frozen=True)
class GroupProblem:
    """A WorkloadGroup no OnboardingPolicy rule of its namespace selects: onboarding is
    denied by default, so no new machine can join it (its WARs will not come back)."""

    context: str | None
    namespace: str
    group: str
    kinds: tuple[str, ...] = (NO_POLICY,)

    def words(self) -> str:
        return "no OnboardingPolicy selects it: new machines cannot join"

    def to_dict(self) -> JSON:
        return {
            "context": self.context,
            "namespace": self.namespace,
            "workloadGroup": self.group,
            "problems": list(self.kinds),
        }


@dataclass(frozen=True)
class GroupSelection:
    """Whether any OnboardingPolicy rule of its namespace selects a WorkloadGroup (read
    when the policies are): `status`'s `no-policy` problem and its metric."""

    context: str | None
    namespace: str
    group: str
    selected: bool

    def problem(self) -> GroupProblem | None:
        return None if self.selected else GroupProblem(self.context, self.namespace, self.group)


def group_selection(
    context: str | None,
    groups: Iterable[tuple[str, str, dict[str, str]]],
    policies: Sequence[Policy],
) -> list[GroupSelection]:
    """For each (namespace, name, labels) WorkloadGroup, in the order given, whether a
    policy rule in its namespace selects it."""
    return [
        GroupSelection(context, ns, name, selected_by_any(labels, policies, ns))
        for ns, name, labels in groups
    ]


@dataclass
class GroupHealth:
    """The WARs of one WorkloadGroup in one namespace of one context, counted.

    Attributes:
        outdated: WARs older than their group's spec change; None when the
            WorkloadGroups could not be read.
        not_synced: sidecars not SYNCED; None when no proxy-status source was read.
        soonest_removal: seconds until the first disconnected WAR is removed.
        agents, istio: how many WARs report each agent and Istio version.
    """

    context: str | None
    namespace: str
    group: str | None
    total: int = 0
    connected: int = 0
    disconnected: int = 0
    agent_unknown: int = 0
    soonest_removal: float | None = None
    outdated: int | None = 0
    freshness_unknown: int = 0
    no_group: int = 0
    not_synced: int | None = None
    agents: Counter[str] = field(default_factory=Counter)
    istio: Counter[str] = field(default_factory=Counter)

    def add(self, war: War, facts: Facts, kinds: tuple[str, ...], synced_known: bool) -> None:
        self.total += 1
        if war.is_connected:
            self.connected += 1
        if DISCONNECTED in kinds:
            self.disconnected += 1
            removal = facts.removal_in
            if removal is not None and (
                self.soonest_removal is None or removal < self.soonest_removal
            ):
                self.soonest_removal = removal
        self.agent_unknown += AGENT_UNKNOWN in kinds
        if facts.group_error is not None:
            self.outdated = None
        elif self.outdated is not None:
            self.outdated += OUTDATED in kinds
        self.freshness_unknown += FRESHNESS_UNKNOWN in kinds
        self.no_group += NO_GROUP in kinds
        if synced_known:
            self.not_synced = (self.not_synced or 0) + (NOT_SYNCED in kinds)
        self.agents[war.agent_version or NONE] += 1
        self.istio[_istio(war)] += 1

    def disconnected_cell(self) -> str:
        """`2 (1m40s left)`: how many, and when the first of them goes."""
        if self.disconnected and self.soonest_removal is not None:
            return f"{self.disconnected} ({countdown(self.soonest_removal)})"
        return str(self.disconnected)

    def to_dict(self) -> JSON:
        soonest = self.soonest_removal
        return {
            "context": self.context,
            "namespace": self.namespace,
            "workloadGroup": self.group,
            "total": self.total,
            "connected": self.connected,
            "disconnected": self.disconnected,
            "agentUnknown": self.agent_unknown,
            "soonestRemovalInSeconds": round(soonest) if soonest is not None else None,
            "outdated": self.outdated,
            "freshnessUnknown": self.freshness_unknown,
            "noWorkloadGroup": self.no_group,
            "notSynced": self.not_synced,
            "agentVersions": dict(_by_count(self.agents)),
            "istioVersions": dict(_by_count(self.istio)),
        }


def _istio(war: War) -> str:
    version, revision = war.istio_version, war.istio_revision
    if not version:
        return NONE
    return f"{version}/{revision}" if revision and revision != "default" else version


def _by_count(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def spread(counts: Counter[str]) -> str:
    """`v1.4.0` when every WAR agrees, else `v1.4.0 (3), v1.3.2 (1)`, most common first."""
    pairs = _by_count(counts)
    if not pairs:
        return NONE
    if len(pairs) == 1:
        return pairs[0][0]
    return ", ".join(f"{version} ({n})" for version, n in pairs)


def summarise(
    context: str | None,
    wars: Iterable[War],
    facts: Callable[[War], Facts],
    *,
    synced_known: bool,
) -> tuple[list[GroupHealth], list[Problem]]:
    """Counts per (namespace, WorkloadGroup), sorted, and the problem WARs in the
    order given.

    Args:
        synced_known: whether a proxy-status source was read (NOT SYNCED is counted).
    """
    groups: dict[tuple[str, str], GroupHealth] = {}
    problems: list[Problem] = []
    for war in wars:
        f = facts(war)
        kinds = problems_of(war, f)
        key = (war.namespace, war.group or "")
        health = groups.get(key)
        if health is None:
            health = groups[key] = GroupHealth(context, war.namespace, war.group)
        health.add(war, f, kinds, synced_known)
        if kinds:
            problems.append(Problem(context, war, f, kinds))
    return [groups[k] for k in sorted(groups)], problems


# The counts of `GroupHealth.to_dict` that add up across groups, in its order. `outdated`
# and `notSynced` may be None in a group (WorkloadGroups unreadable, no source read):
# their total is None unless some group counted them.
_SUMMED = (
    "total",
    "connected",
    "disconnected",
    "agentUnknown",
    "outdated",
    "freshnessUnknown",
    "noWorkloadGroup",
    "notSynced",
)


def totals(groups: Iterable[GroupHealth]) -> JSON:
    """The counts of many groups added up, for `-o json`."""
    out: JSON = {key: None if key == "notSynced" else 0 for key in _SUMMED}
    counted: set[str] = set()
    for g in groups:
        counts = g.to_dict()
        for key in _SUMMED:
            if counts[key] is None:
                continue
            counted.add(key)
            out[key] = (out[key] or 0) + counts[key]
    if counted and "outdated" not in counted:
        out["outdated"] = None
    return out


# ---- `status -o prometheus` ----------------------------------------------------------------

#: The prefix of every metric `status -o prometheus` writes.
METRIC_PREFIX = "kubectl_war_"


def exposition(
    groups: Iterable[GroupHealth],
    clusters: Iterable[tuple[str, bool]],
    selection: Iterable[GroupSelection] = (),
) -> str:
    """The counts in Prometheus' text exposition format, per cluster (context), namespace
    and WorkloadGroup, with `kubectl_war_cluster_up` for each (context, read) of
    `clusters` and `kubectl_war_workloadgroup_no_policy` for each WorkloadGroup of
    `selection`. A count not read (outdated without WorkloadGroups, not synced without a
    proxy-status source, no-policy without OnboardingPolicies) has no series."""

    def fam(name: str, help: str) -> Family:
        return Family(METRIC_PREFIX + name, help)

    up = fam("cluster_up", "Whether the cluster (kubeconfig context) could be read.")
    wars = fam("wars", "WorkloadAutoRegistrations.")
    connected = fam("wars_connected", "WARs whose agent is connected.")
    disconnected = fam("wars_disconnected", "WARs whose agent is disconnected.")
    outdated = fam("wars_outdated", "WARs older than their WorkloadGroup's latest spec change.")
    not_synced = fam("wars_not_synced", "WARs whose sidecar is not SYNCED.")
    unknown = fam("wars_agent_unknown", "WARs with no agent connection status yet.")
    removal = fam(
        "removal_seconds",
        "Seconds until the earliest automatic removal of a disconnected WAR.",
    )
    agents = fam("agent_version_info", "An agent version that WARs of the group report.")
    istio = fam("istio_version_info", "An Istio version that WARs of the group report.")
    no_policy = fam(
        "workloadgroup_no_policy",
        "1 when no OnboardingPolicy of its namespace selects the WorkloadGroup: new "
        "machines cannot join it.",
    )
    for cluster, read in clusters:
        up.add({"cluster": cluster}, 1 if read else 0)
    for g in groups:
        labels = {
            "cluster": g.context or "",
            "namespace": g.namespace,
            "workloadgroup": g.group or "",
        }
        wars.add(labels, g.total)
        connected.add(labels, g.connected)
        disconnected.add(labels, g.disconnected)
        if g.outdated is not None:
            outdated.add(labels, g.outdated)
        if g.not_synced is not None:
            not_synced.add(labels, g.not_synced)
        unknown.add(labels, g.agent_unknown)
        if g.soonest_removal is not None:
            removal.add(labels, max(0, round(g.soonest_removal)))
        for into, counts in ((agents, g.agents), (istio, g.istio)):
            for version, _ in _by_count(counts):
                if version != NONE:
                    into.add({**labels, "version": version}, 1)
    for sel in selection:
        labels = {
            "cluster": sel.context or "",
            "namespace": sel.namespace,
            "workloadgroup": sel.group,
        }
        no_policy.add(labels, 0 if sel.selected else 1)
    return render(
        [
            up,
            wars,
            connected,
            disconnected,
            outdated,
            not_synced,
            unknown,
            removal,
            agents,
            istio,
            no_policy,
        ]
    )
