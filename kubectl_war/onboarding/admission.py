"""Would an existing WAR's machine be admitted again now? (pure)

A WAR records an admission made when its machine joined. Policies change since; a
WAR they no longer admit is still there, but its machine will not re-onboard after
a rollout deletes the WAR or the agent restarts. `describe`, `rollout` and `delete`
ask this one question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_war.jsondata import child
from kubectl_war.onboarding.policy import Policy
from kubectl_war.onboarding.verdict import admitted_by

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON

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
    war: Any, group: JSON | None, policies: Sequence[Policy], *, group_known: bool = True
) -> Admission | None:
    """Whether the policies of the WAR's namespace admit its identity into its group now.

    Args:
        group: the WAR's WorkloadGroup object; None when it does not exist (nothing can
            join a group that does not exist).
        group_known: False when WorkloadGroups could not be read.

    Returns:
        None when it cannot be told: the WorkloadGroups are unreadable, the WAR's group
        is unknown, or its identity is not known well enough (no verified identity, a
        JWT issuer only decoded from the name).
    """
    who = war.identity
    if not group_known or war.group is None or who.platform == "unknown":
        return None
    if who.platform == "jwt" and not who.issuer:
        return None
    if group is None:
        return Admission()
    meta = child(group, "metadata")
    labels = child(meta, "labels")
    found = admitted_by(who, labels, policies, war.namespace)
    return Admission(*found) if found else Admission()
