"""Would an existing WAR's machine be admitted again now? (pure)

A WAR records an admission made when its machine joined. Policies change since; a
WAR they no longer admit is still there, but its machine will not re-onboard after
a rollout deletes the WAR or the agent restarts. `describe`, `rollout` and `delete`
ask this one question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubectl_war.jsondata import child
from kubectl_war.onboarding.policy import Policy
from kubectl_war.onboarding.verdict import admitted_by, check_matcher, rule_selects

if TYPE_CHECKING:
    from kubectl_war.identity import Identity
    from kubectl_war.jsondata import JSON
    from kubectl_war.war import War

NONE_NOW = "<none now>"


@dataclass(frozen=True)
class Admission:
    """The rule that would admit the WAR's identity now; `policy` None: none would."""

    policy: str | None = None
    rule: int | None = None

    @property
    def admitted(self) -> bool:
        return self.policy is not None

    def words(self) -> str:
        """`allow-ratings (rule 1)`, or `<none now>`."""
        return f"{self.policy} (rule {self.rule})" if self.policy else NONE_NOW

    def to_dict(self) -> JSON | None:
        return {"policy": self.policy, "rule": self.rule} if self.policy else None


def admission(
    war: War,
    group: JSON | None,
    policies: Sequence[Policy],
    *,
    group_known: bool = True,
    issuers: Mapping[str, str] | None = None,
) -> Admission | None:
    """Whether the policies of the WAR's namespace admit its identity into its group now.

    Args:
        group: the WAR's WorkloadGroup object; None when it does not exist (nothing can
            join a group that does not exist).
        group_known: False when WorkloadGroups could not be read.
        issuers: the control plane's JWT issuers by short name, for a JWT identity known
            only from the WAR's name (`jwt-<short name>--<subject>`); None: unread.

    Returns:
        None when it cannot be told: the WorkloadGroups are unreadable, the WAR's group
        is unknown, or its identity is not known well enough (no verified identity, a
        JWT issuer only decoded from the name and not found among `issuers`, or a rule
        that would admit it on the JWT attributes a name does not carry).
    """
    who = war.identity
    if not group_known or war.group is None or who.platform == "unknown":
        return None
    from_name = who.platform == "jwt" and not who.issuer
    if from_name:
        issuer = (issuers or {}).get(who.issuer_short or "")
        if issuer is None:
            return None
        who = who.replace(issuer=issuer)
    if group is None:
        return Admission()
    meta = child(group, "metadata")
    labels = child(meta, "labels")
    found = admitted_by(who, labels, policies, war.namespace)
    if found:
        return Admission(*found)
    if from_name and _attributes_could_admit(who, labels, policies, war.namespace):
        return None
    return Admission()


def _attributes_could_admit(
    who: Identity, labels: Mapping[str, str], policies: Sequence[Policy], namespace: str
) -> bool:
    """Whether a rule selecting the group fails `who` on JWT attributes alone: a name
    does not carry them, so such a rule may admit the machine."""
    for p in policies:
        if p.namespace != namespace:
            continue
        for rule in p.rules:
            if not rule_selects(rule, labels):
                continue
            for m in rule.matchers:
                failed = [c for c in check_matcher(m, who).checks if not c.ok]
                if failed and all(c.field.startswith("attribute ") for c in failed):
                    return True
    return False
