"""May this identity onboard into this WorkloadGroup? The OnboardingPolicies' answer (pure).

Documented: onboarding is denied unless a policy allows it; a policy counts only in
its WorkloadGroup's own namespace; empty lists allow any value; `ec2: {}` allows any
instance, with or without an IAM role. Inferred (the examples imply it, the docs never
say it): the fields of one matcher must all hold (AND), while `allow[]` rules,
`workloads[]` matchers, `onboardTo[]` selectors and separate policies each admit on
their own (OR). A JWT identity must also come from an issuer the control plane trusts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubectl_war.identity import Identity
from kubectl_war.onboarding.policy import AwsMatcher, Bad, JwtMatcher, Matcher, Policy, Rule
from kubectl_war.selectors import selector_text, selects

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON

ANY = "<any>"
NONE = "<none>"


@dataclass(frozen=True)
class Check:
    """One field of a matcher compared with the identity."""

    field: str
    ok: bool
    text: str

    def to_dict(self) -> JSON:
        return {"field": self.field, "matched": self.ok, "message": self.text}


@dataclass(frozen=True)
class MatcherResult:
    """One `workloads[]` entry against the identity: the fields it constrains, checked."""

    index: int  # in workloads[], from 0
    checks: tuple[Check, ...]

    @property
    def admitted(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def misses(self) -> int:
        return sum(not c.ok for c in self.checks)

    def text(self) -> str:
        return "; ".join(c.text for c in self.checks) or "matched"

    def to_dict(self) -> JSON:
        return {
            "index": self.index,
            "admitted": self.admitted,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class RuleResult:
    """One rule of one policy: does it select the group, and does it admit the identity."""

    policy: Policy
    rule: Rule
    selects: bool
    matchers: tuple[MatcherResult, ...]

    @property
    def admitted(self) -> bool:
        return self.selects and any(m.admitted for m in self.matchers)

    @property
    def nearest(self) -> MatcherResult:
        """The matcher that admits, else the one with the fewest failed fields (first wins)."""
        return min(self.matchers, key=lambda m: (not m.admitted, m.misses, m.index))

    def label(self) -> str:
        """`allow-ratings (rule 1)`, with the matcher when the rule has several."""
        where = f"rule {self.rule.number}"
        if len(self.matchers) > 1:
            where += f", workloads[{self.nearest.index}]"
        return f"{self.policy.name} ({where})"

    def to_dict(self) -> JSON:
        nearest = self.nearest
        return {
            "policy": self.policy.name,
            "rule": self.rule.number,
            "selectsGroup": self.selects,
            "admitted": self.admitted,
            "nearestMiss": None if nearest.admitted or not self.selects else nearest.text(),
            "workloads": [m.to_dict() for m in self.matchers],
        }


@dataclass
class Verdict:
    """The answer for one identity and one WorkloadGroup.

    Attributes:
        rules: every rule of every readable policy in the group's namespace, in
            policy then rule order.
        trusted: for a JWT identity, whether the control plane trusts its issuer
            (None: unknown, or not a JWT identity).
        elsewhere: (namespace, policy, rule) in other namespaces whose selectors would
            select the group's labels: they have no effect on it.
    """

    namespace: str
    group: str
    group_labels: Mapping[str, str] | None  # None: the WorkloadGroup does not exist
    identity: Identity
    rules: list[RuleResult]
    trusted: bool | None = None
    trusted_issuers: tuple[str, ...] = ()
    elsewhere: list[tuple[str, str, int]] = field(default_factory=list)
    malformed: list[Bad] = field(default_factory=list)

    @property
    def admitting(self) -> RuleResult | None:
        return next((r for r in self.rules if r.admitted), None)

    @property
    def allowed(self) -> bool:
        return (
            self.group_labels is not None
            and self.admitting is not None
            and self.trusted is not False
        )

    @property
    def selected(self) -> bool:
        return any(r.selects for r in self.rules)

    def reasons(self) -> list[str]:
        """Why not, one line each, for a person; empty when allowed."""
        if self.allowed:
            return []
        if self.group_labels is None:
            return [f"WorkloadGroup {self.group} does not exist in namespace {self.namespace}"]
        lines: list[str] = []
        if self.trusted is False:
            trusted = ", ".join(self.trusted_issuers) or NONE
            lines.append(
                f"issuer {self.identity.issuer} is not trusted by the control plane "
                f"(trusted: {trusted})"
            )
        if not self.selected:
            lines.append(
                f"no OnboardingPolicy rule in namespace {self.namespace} selects "
                f"WorkloadGroup {self.group} (labels: {_labels(self.group_labels)})"
            )
        for r in self.rules:
            if r.selects:
                words = "would admit it" if r.admitted else r.nearest.text()
                lines.append(f"{r.label()}: {words}")
        for ns, name, number in self.elsewhere:
            lines.append(
                f"{ns}/{name} (rule {number}) would select it but has no effect: "
                f"it is in namespace {ns}, not {self.namespace}"
            )
        return lines

    def to_dict(self) -> JSON:
        admitting = self.admitting
        return {
            "kind": "OnboardingReview",
            "allowed": self.allowed,
            "namespace": self.namespace,
            "workloadGroup": self.group,
            "workloadGroupFound": self.group_labels is not None,
            "identity": self.identity.to_dict(),
            "admittedBy": {"policy": admitting.policy.name, "rule": admitting.rule.number}
            if self.allowed and admitting is not None
            else None,
            "issuerTrusted": self.trusted,
            "reasons": self.reasons(),
            "rules": [r.to_dict() for r in self.rules],
            "noEffect": [
                {"namespace": ns, "policy": name, "rule": number}
                for ns, name, number in self.elsewhere
            ],
            "malformed": [
                {"namespace": b.namespace, "policy": b.name, "problem": b.problem}
                for b in self.malformed
            ],
        }


def _labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or NONE


def _listed(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _field(name: str, allowed: Sequence[str], have: str | None) -> Check | None:
    """A constrained field (None when the list is empty: any value)."""
    if not allowed:
        return None
    if have in allowed:
        return Check(name, True, f"{name} matched")
    return Check(name, False, f"{name} {have or NONE} not in {_listed(allowed)}")


def _aws_checks(m: AwsMatcher, who: Identity) -> list[Check | None]:
    if who.platform not in ("ec2", "ecs"):
        return [Check("platform", False, f"platform {who.platform}, the matcher admits aws only")]
    kind = (
        Check("platform", True, f"{m.kind} matched")
        if who.platform == m.kind
        else Check("platform", False, f"platform {who.platform}, the matcher admits {m.kind} only")
    )
    checks = [
        _field("partition", m.partitions, who.partition),
        _field("account", m.accounts, who.account),
        _field("region", m.regions, who.region),
        _field("zone", m.zones, who.zone),
        kind,
    ]
    if who.platform == m.kind:
        if m.kind == "ecs":
            checks.append(_field("cluster", m.clusters, who.ecs_cluster))
        checks.append(_field("iam role", m.roles, who.iam_role))
    return checks


def _jwt_checks(m: JwtMatcher, who: Identity) -> list[Check | None]:
    if who.platform != "jwt":
        return [Check("platform", False, f"platform {who.platform}, the matcher admits jwt only")]
    issuer = (
        Check("issuer", True, "issuer matched")
        if who.issuer == m.issuer
        else Check("issuer", False, f"issuer {who.issuer or NONE} is not {m.issuer}")
    )
    checks: list[Check | None] = [issuer, _field("subject", m.subjects, who.subject)]
    for name, values in m.attributes:
        have = who.attributes.get(name)
        what = f"attribute {name}"
        if have is None:
            want = _listed(values) if values else "any value"
            checks.append(Check(what, False, f"{what} missing (allowed: {want})"))
        elif values and have not in values:
            checks.append(Check(what, False, f"{what}={have} not in {_listed(values)}"))
        else:
            checks.append(Check(what, True, f"{what} matched"))
    return checks


def check_matcher(m: Matcher, who: Identity, index: int = 0) -> MatcherResult:
    """Every field `m` constrains, compared with `who`."""
    checks = _aws_checks(m, who) if isinstance(m, AwsMatcher) else _jwt_checks(m, who)
    return MatcherResult(index, tuple(c for c in checks if c is not None))


def rule_selects(rule: Rule, labels: Mapping[str, str]) -> bool:
    """Whether any of the rule's `onboardTo` selectors selects a group with `labels`."""
    return any(selects(s, labels) for s in rule.selectors)


def evaluate(
    namespace: str,
    group: str,
    group_labels: Mapping[str, str] | None,
    who: Identity,
    policies: Sequence[Policy],
    *,
    trusted_issuers: Sequence[str] | None = None,
    others: Sequence[Policy] = (),
    malformed: Sequence[Bad] = (),
) -> Verdict:
    """The verdict for `who` joining `namespace/group`.

    Args:
        group_labels: the WorkloadGroup's metadata.labels; None when it does not exist.
        policies: policies read in `namespace` (others are ignored: they have no effect).
        trusted_issuers: the control plane's JWT issuers; None when they could not be read.
        others: policies of other namespaces, to name those that would select the group.
    """
    labels = group_labels or {}
    results = [
        RuleResult(
            p,
            rule,
            group_labels is not None and rule_selects(rule, labels),
            tuple(check_matcher(m, who, i) for i, m in enumerate(rule.matchers)),
        )
        for p in policies
        if p.namespace == namespace
        for rule in p.rules
    ]
    trusted = None
    if who.platform == "jwt" and trusted_issuers is not None:
        trusted = who.issuer in trusted_issuers
    elsewhere = no_effect(namespace, group_labels, others) if group_labels is not None else []
    return Verdict(
        namespace,
        group,
        group_labels,
        who,
        results,
        trusted,
        tuple(trusted_issuers or ()),
        elsewhere,
        list(malformed),
    )


def no_effect(
    namespace: str, labels: Mapping[str, str], others: Sequence[Policy]
) -> list[tuple[str, str, int]]:
    """(namespace, policy, rule) of the rules outside `namespace` whose selectors name
    labels that `labels` have: a policy counts only in its group's namespace, so these
    look as if they apply and do not. An empty selector (`{}`: any group of its own
    namespace) names nothing and is left out."""
    return [
        (p.namespace, p.name, rule.number)
        for p in others
        if p.namespace != namespace
        for rule in p.rules
        if any(s and selects(s, labels) for s in rule.selectors)
    ]


def admitted_by(
    who: Identity, labels: Mapping[str, str], policies: Sequence[Policy], namespace: str
) -> tuple[str, int] | None:
    """(policy, rule number) of the first rule in `namespace` that would admit `who` into a
    group with `labels` now, or None."""
    for p in policies:
        if p.namespace != namespace:
            continue
        for rule in p.rules:
            if rule_selects(rule, labels) and any(
                check_matcher(m, who).admitted for m in rule.matchers
            ):
                return p.name, rule.number
    return None


def selected_by_any(labels: Mapping[str, str], policies: Sequence[Policy], namespace: str) -> bool:
    """Whether some rule of a policy in `namespace` selects a group with `labels`."""
    return any(
        rule_selects(rule, labels) for p in policies if p.namespace == namespace for rule in p.rules
    )


# ---- what each group's rules admit (`can-onboard --list`) ---------------------------

LIST_COLUMNS = (
    "GROUP",
    "POLICY",
    "PLATFORM",
    "ACCOUNTS/ISSUER",
    "REGIONS",
    "ZONES",
    "ROLES/CLUSTERS/SUBJECTS",
    "ATTRIBUTES",
)


def _cell(values: Sequence[str]) -> str:
    return ",".join(values) if values else ANY


def matcher_cells(m: Matcher) -> list[str]:
    """PLATFORM … ATTRIBUTES of one matcher, `<any>` where a list is empty."""
    if isinstance(m, AwsMatcher):
        platform = m.kind + (f"({','.join(m.partitions)})" if m.partitions else "")
        who = _cell(m.roles) if m.kind == "ec2" else f"{_cell(m.clusters)}/{_cell(m.roles)}"
        return [platform, _cell(m.accounts), _cell(m.regions), _cell(m.zones), who, ANY]
    attrs = ";".join(f"{name}={_cell(values)}" for name, values in m.attributes)
    return ["jwt", m.issuer, ANY, ANY, _cell(m.subjects), attrs or ANY]


def matcher_dict(m: Matcher) -> JSON:
    if isinstance(m, AwsMatcher):
        return {
            "platform": m.kind,
            "partitions": list(m.partitions),
            "accounts": list(m.accounts),
            "regions": list(m.regions),
            "zones": list(m.zones),
            "clusters": list(m.clusters),
            "iamRoleNames": list(m.roles),
        }
    return {
        "platform": "jwt",
        "issuer": m.issuer,
        "subjects": list(m.subjects),
        "attributes": [{"name": n, "values": list(v)} for n, v in m.attributes],
    }


@dataclass(frozen=True)
class Admits:
    """One matcher of one rule that selects one WorkloadGroup (`policy` None: no rule does)."""

    namespace: str
    group: str
    policy: str | None = None
    rule: int | None = None
    matcher: Matcher | None = None

    def cells(self) -> list[str]:
        if self.matcher is None:
            return [self.group, NONE, *[NONE] * 6]
        return [self.group, self.policy or NONE, *matcher_cells(self.matcher)]

    def to_dict(self) -> JSON:
        return {
            "namespace": self.namespace,
            "workloadGroup": self.group,
            "policy": self.policy,
            "rule": self.rule,
            "admits": matcher_dict(self.matcher) if self.matcher is not None else None,
        }


def admits_per_group(
    groups: Sequence[tuple[str, str, Mapping[str, str]]], policies: Sequence[Policy]
) -> list[Admits]:
    """For each (namespace, name, labels) WorkloadGroup, in order, one entry per matcher
    of each rule that selects it, or one entry saying no rule does."""
    out: list[Admits] = []
    for namespace, name, labels in groups:
        rows = [
            Admits(namespace, name, p.name, rule.number, m)
            for p in policies
            if p.namespace == namespace
            for rule in p.rules
            if rule_selects(rule, labels)
            for m in rule.matchers
        ]
        out.extend(rows or [Admits(namespace, name)])
    return out


def describe_selectors(rule: Rule) -> str:
    return " or ".join(selector_text(s) for s in rule.selectors)
