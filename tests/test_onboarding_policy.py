"""OnboardingPolicies read and evaluated without a server: the documented examples."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from kubectl_war.identity import Identity
from kubectl_war.onboarding.policy import AwsMatcher, JwtMatcher, Malformed, parse, parse_all
from kubectl_war.onboarding.verdict import admits_per_group, admitted_by, evaluate, no_effect
from kubectl_war.selectors import SelectorError, check_label_selector, selector_text, selects
from tests import onboarding_examples as ex
from tests.fakekube.fleet import onboarding_policy

NOW = datetime(2024, 5, 16, 12, tzinfo=timezone.utc)
GOOD, BAD = parse_all(ex.policies(NOW))
ANY_GROUP = [{"workloadGroupSelector": {}}]


def ec2(role: str | None = None, account: str = ex.ACCOUNT, **kw: Any) -> Identity:
    return Identity("ec2", partition="aws", account=account, iam_role=role, **kw)


def ecs(cluster: str, zone: str, role: str | None = "ratings-task") -> Identity:
    return Identity(
        "ecs", partition="aws", account=ex.ACCOUNT, region=zone[:-1], zone=zone,
        ecs_cluster=cluster, iam_role=role,
    )  # fmt: skip


def jwt(issuer: str = ex.ISSUER, subject: str | None = None, **attributes: str) -> Identity:
    return Identity("jwt", issuer=issuer, subject=subject, attributes=attributes)


def test_the_documented_examples_parse_into_typed_rules() -> None:
    by_name = {(p.namespace, p.name): p for p in GOOD}
    assert by_name[("bookinfo", "ratings-ec2")].rules[0].matchers == (
        AwsMatcher(accounts=(ex.ACCOUNT,), kind="ec2", roles=("ratings-role",)),
    )
    assert by_name[("bookinfo", "ratings-ecs")].rules[0].matchers == (
        AwsMatcher(
            accounts=(ex.ACCOUNT,), kind="ecs", partitions=("aws",), regions=("us-east-2",),
            zones=("us-east-2b",), clusters=("bookinfo",), roles=("ratings-task",),
        ),
    )  # fmt: skip
    assert by_name[("bookinfo", "ratings-jwt")].rules[0].matchers == (
        JwtMatcher(issuer=ex.ISSUER, attributes=(("region", ("us-east", "us-west")),)),
    )
    assert [(b.namespace, b.name, b.problem) for b in BAD] == [
        (
            "bookinfo",
            "broken",
            "spec.allow[0].workloads[0].aws.accounts[0]: '12345' is not 12 digits",
        )
    ]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({}, "spec.allow: at least one entry is required"),
        ({"allow": "x"}, "spec.allow: at least one entry is required"),
        ({"allow": [{"onboardTo": [{"workloadGroupSelector": {}}]}]},
         "spec.allow[0].workloads: at least one entry is required"),
        ({"allow": [{"workloads": [{"aws": {"accounts": [ex.ACCOUNT], "ec2": {}}}]}]},
         "spec.allow[0].onboardTo: at least one entry is required"),
        ({"allow": [{"workloads": [{"aws": {"ec2": {}}}], "onboardTo": ANY_GROUP}]},
         "spec.allow[0].workloads[0].aws.accounts: at least one is required"),
        ({"allow": [{"workloads": [{"aws": {"accounts": [123456789012], "ec2": {}}}],
                     "onboardTo": [{"workloadGroupSelector": {}}]}]},
         "spec.allow[0].workloads[0].aws.accounts: want a list of strings"),
        ({"allow": [{"workloads": [{"aws": {"accounts": [ex.ACCOUNT]}}],
                     "onboardTo": [{"workloadGroupSelector": {}}]}]},
         "spec.allow[0].workloads[0].aws: exactly one of ec2 or ecs is required"),
        ({"allow": [{"workloads": [{"jwt": {"subjects": ["a"]}}],
                     "onboardTo": [{"workloadGroupSelector": {}}]}]},
         "spec.allow[0].workloads[0].jwt.issuer: required"),
        ({"allow": [{"workloads": [{"jwt": {"issuer": "http://corp"}}],
                     "onboardTo": [{"workloadGroupSelector": {}}]}]},
         "spec.allow[0].workloads[0].jwt.issuer: 'http://corp' is not an https URL"),
        ({"allow": [{"workloads": [{"gcp": {}}], "onboardTo": [{"workloadGroupSelector": {}}]}]},
         "spec.allow[0].workloads[0]: exactly one of aws or jwt is required"),
        ({"allow": [{"workloads": [{"jwt": {"issuer": ex.ISSUER}}], "onboardTo": [{}]}]},
         "spec.allow[0].onboardTo[0].workloadGroupSelector: required"),
        ({"allow": [{"workloads": [{"jwt": {"issuer": ex.ISSUER}}], "onboardTo": [
            {"workloadGroupSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}}]}]},
         "spec.allow[0].onboardTo[0].workloadGroupSelector.matchExpressions[0].operator: "
         "'Is' is not one of In, NotIn, Exists, DoesNotExist"),
    ],
)  # fmt: skip
def test_malformed_policies_name_the_field(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(Malformed) as caught:
        parse(onboarding_policy(NOW, "ns", "p", []) | {"spec": spec})
    assert str(caught.value) == problem


# (group, labels, identity, admitted by, the nearest miss of each selecting rule)
CASES = [
    ("ratings", ec2("ratings-role"), ("ratings-ec2", 1), None),
    ("ratings", ec2("other-role"), None, [
        "ratings-ec2 (rule 1): account matched; ec2 matched; iam role other-role not in "
        "[ratings-role]",
        "ratings-ecs (rule 1): partition matched; account matched; region <none> not in "
        "[us-east-2]; zone <none> not in [us-east-2b]; platform ec2, the matcher admits ecs only",
        "ratings-jwt (rule 1): platform ec2, the matcher admits jwt only",
        "ratings-jwt (rule 2): platform ec2, the matcher admits jwt only",
    ]),
    ("ratings", ec2(None), None, None),  # the EC2 example requires its role
    ("ratings", ec2("ratings-role", account="210987654321"), None, None),
    ("details", ec2(None), ("details-any-ec2", 1), None),  # ec2: {} takes no role too
    ("details", ec2("anything", region="eu-west-1"), ("details-any-ec2", 1), None),
    ("details", ecs("bookinfo", "us-east-2b"), None, [
        "details-any-ec2 (rule 1): account matched; platform ecs, the matcher admits ec2 only",
    ]),
    ("ratings", ecs("bookinfo", "us-east-2b"), ("ratings-ecs", 1), None),
    ("ratings", ecs("bookinfo", "us-east-2b", role=None), None, None),
    ("ratings", ecs("payments", "us-east-2b"), None, None),
    ("ratings", jwt(region="us-east"), ("ratings-jwt", 1), None),
    ("ratings", jwt(region="us-west", team="x"), ("ratings-jwt", 1), None),
    ("ratings", jwt(region="eu-west"), None, [
        "ratings-ec2 (rule 1): platform jwt, the matcher admits aws only",
        "ratings-ecs (rule 1): platform jwt, the matcher admits aws only",
        "ratings-jwt (rule 1): issuer matched; attribute region=eu-west not in [us-east, us-west]",
        "ratings-jwt (rule 2): issuer https://mycompany.corp is not https://partner.example; "
        "subject <none> not in [vm007]",
    ]),
    ("ratings", jwt(), None, None),  # the attribute is required
    ("ratings", jwt("https://MyCompany.corp", region="us-east"), None, None),  # case-sensitive
    ("ratings", jwt("https://partner.example", "vm007"), ("ratings-jwt", 2), None),
    ("reviews", ec2("ratings-role"), None, []),  # no rule selects reviews
]  # fmt: skip


@pytest.mark.parametrize(("group", "who", "admitting", "misses"), CASES)
def test_verdicts_of_the_documented_examples(
    group: str, who: Identity, admitting: tuple[str, int] | None, misses: list[str] | None
) -> None:
    labels = {"app": group}
    verdict = evaluate(ex.NS, group, labels, who, GOOD)
    got = verdict.admitting
    assert ((got.policy.name, got.rule.number) if got else None) == admitting
    assert verdict.allowed is (admitting is not None)
    assert admitted_by(who, labels, GOOD, ex.NS) == admitting
    if misses is not None:
        assert [r for r in verdict.reasons() if "(rule" in r] == misses


def test_a_policy_counts_only_in_its_own_namespace() -> None:
    who = ec2()
    here = evaluate(ex.NS, "reviews", {"app": "reviews"}, who, GOOD, others=GOOD)
    there = evaluate("payments", "reviews", {"app": "reviews"}, who, GOOD)

    assert not here.allowed and not here.selected
    assert here.reasons() == [
        "no OnboardingPolicy rule in namespace bookinfo selects WorkloadGroup reviews "
        "(labels: app=reviews)",
        "payments/reviews (rule 1) would select it but has no effect: it is in namespace "
        "payments, not bookinfo",
    ]
    assert there.allowed and (there.admitting.policy.name, there.admitting.rule.number) == (
        "reviews",
        1,
    )


def test_an_empty_selector_elsewhere_names_no_labels() -> None:
    anywhere = parse(
        onboarding_policy(NOW, "other", "all", [{**ex.ELSEWHERE_RULE, "onboardTo": ANY_GROUP}])
    )
    named = parse(onboarding_policy(NOW, "other", "named", [ex.ELSEWHERE_RULE]))
    assert no_effect(ex.NS, {"app": "reviews"}, [anywhere, named]) == [("other", "named", 1)]


def test_the_control_plane_must_trust_a_jwt_issuer() -> None:
    who = jwt("https://partner.example", "vm007")
    trusted = [ex.ISSUER, "https://corp.example"]
    verdict = evaluate(ex.NS, "ratings", {"app": "ratings"}, who, GOOD, trusted_issuers=trusted)
    unknown = evaluate(ex.NS, "ratings", {"app": "ratings"}, who, GOOD, trusted_issuers=None)

    assert (verdict.allowed, verdict.trusted) == (False, False)
    assert verdict.reasons()[0] == (
        "issuer https://partner.example is not trusted by the control plane "
        "(trusted: https://mycompany.corp, https://corp.example)"
    )
    assert "ratings-jwt (rule 2): would admit it" in verdict.reasons()
    assert (unknown.allowed, unknown.trusted) == (True, None)


def test_a_missing_group_is_a_no() -> None:
    verdict = evaluate(ex.NS, "nope", None, ec2("ratings-role"), GOOD)
    assert (verdict.allowed, verdict.reasons()) == (
        False,
        ["WorkloadGroup nope does not exist in namespace bookinfo"],
    )


def test_what_each_group_admits() -> None:
    groups = [(ex.NS, g, {"app": g}) for g in ("details", "ratings", "reviews")]
    rows = [r.cells() for r in admits_per_group(groups, GOOD)]
    assert rows == [
        ["details", "details-any-ec2", "ec2", ex.ACCOUNT, "<any>", "<any>", "<any>", "<any>"],
        ["ratings", "ratings-ec2", "ec2", ex.ACCOUNT, "<any>", "<any>", "ratings-role", "<any>"],
        ["ratings", "ratings-ecs", "ecs(aws)", ex.ACCOUNT, "us-east-2", "us-east-2b",
         "bookinfo/ratings-task", "<any>"],
        ["ratings", "ratings-jwt", "jwt", ex.ISSUER, "<any>", "<any>", "<any>",
         "region=us-east,us-west"],
        ["ratings", "ratings-jwt", "jwt", "https://partner.example", "<any>", "<any>", "vm007",
         "<any>"],
        ["reviews", "<none>", "<none>", "<none>", "<none>", "<none>", "<none>", "<none>"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("selector", "labels", "selected"),
    [
        ({}, {}, True),
        ({"matchLabels": {"app": "a"}}, {"app": "a", "v": "1"}, True),
        ({"matchLabels": {"app": "a"}}, {"app": "b"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]},
         {"app": "b"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]},
         {"app": "a"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {}, True),
        ({"matchLabels": {"app": "a"},
          "matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "a"}, False),
    ],
)  # fmt: skip
def test_label_selector_objects(
    selector: dict[str, Any], labels: dict[str, str], selected: bool
) -> None:
    assert selects(check_label_selector(selector, "s"), labels) is selected


def test_selector_text_and_refusals() -> None:
    sel = {
        "matchLabels": {"app": "a"},
        "matchExpressions": [
            {"key": "t", "operator": "In", "values": ["x", "y"]},
            {"key": "u", "operator": "DoesNotExist"},
        ],
    }
    assert selector_text(sel) == "app=a,t in (x,y),!u"
    assert selector_text({}) == "<all>"
    with pytest.raises(SelectorError, match=r"s.matchExpressions\[0\].values: In needs values"):
        check_label_selector({"matchExpressions": [{"key": "t", "operator": "In"}]}, "s")
    with pytest.raises(SelectorError, match=r"s\.matchLabels: want a map of strings"):
        check_label_selector({"matchLabels": {"a": 1}}, "s")


def test_an_existing_wars_admission_now() -> None:
    from kubectl_war.onboarding.admission import NONE_NOW, admission
    from kubectl_war.war import War
    from tests import factories as f

    group = ex.group("ratings", "ratings")
    ok = f.war(f.EC2, group="ratings", identity=f.ec2("aws", ex.ACCOUNT, "us-east-2b", "i-1"))
    ok["spec"]["identity"]["aws"]["ec2"]["iamRole"] = {"name": "ratings-role"}
    norole = f.war(f.EC2, group="ratings", identity=f.ec2("aws", ex.ACCOUNT, "us-east-2b", "i-1"))
    named_jwt = f.war("ratings-jwt-corp--vm007", group="ratings")
    orphan = f.war("not-a-war-name")

    assert admission(War(ok), group, GOOD).words() == "ratings-ec2 (rule 1)"
    assert admission(War(norole), group, GOOD).words() == NONE_NOW
    assert admission(War(ok), None, GOOD).words() == NONE_NOW  # the group is gone
    assert admission(War(ok), group, GOOD, group_known=False) is None
    assert admission(War(named_jwt), group, GOOD) is None  # the issuer URL is unknown
    assert admission(War(orphan), group, GOOD) is None  # no WorkloadGroup named


def test_a_jwt_wars_issuer_known_by_short_name_maps_through_the_control_plane() -> None:
    from kubectl_war.onboarding.admission import NONE_NOW, admission
    from kubectl_war.war import War
    from tests import factories as f

    group = ex.group("ratings", "ratings")
    issuers = {"partner": "https://partner.example", "mycompany": ex.ISSUER}
    partner = War(f.war("ratings-jwt-partner--vm007", group="ratings"))
    stranger = War(f.war("ratings-jwt-partner--vm008", group="ratings"))
    # ratings-jwt rule 1 wants attribute region, which a name does not carry.
    ours = War(f.war("ratings-jwt-mycompany--vm007", group="ratings"))
    unlisted = War(f.war("ratings-jwt-other--vm007", group="ratings"))

    assert admission(partner, group, GOOD, issuers=issuers).words() == "ratings-jwt (rule 2)"
    assert admission(stranger, group, GOOD, issuers=issuers).words() == NONE_NOW
    assert admission(ours, group, GOOD, issuers=issuers) is None
    assert admission(unlisted, group, GOOD, issuers=issuers) is None
    assert admission(partner, group, GOOD) is None  # the ControlPlane was not read
    assert admission(partner, None, GOOD, issuers=issuers).words() == NONE_NOW
