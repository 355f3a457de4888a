"""Identity: decoding spec.identity in every spelling and WAR names in every format."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_war.errors import UsageError
from kubectl_war.identity import (
    Identity,
    NameReading,
    decode_name,
    group_from_name,
)
from kubectl_war.identity_spec import identity_from_spec

TASK = "3a151358f03a4e32bf8cd401c1c74653"
FORMATS = (
    "<group>-aws-<partition>-<account>-<zone>-ec2-<instance-id>, "
    "<group>-aws-<partition>-<account>-<zone>-ecs-<cluster>-<task-id> "
    "or <group>-jwt-<issuer>--<subject>"
)


def ec2(partition: str, account: str, zone: str, region: str, instance: str) -> Identity:
    return Identity(
        platform="ec2",
        partition=partition,
        account=account,
        region=region,
        zone=zone,
        instance_id=instance,
    )


def ecs(partition: str, account: str, zone: str, region: str, cluster: str, task: str) -> Identity:
    return Identity(
        platform="ecs",
        partition=partition,
        account=account,
        region=region,
        zone=zone,
        ecs_cluster=cluster,
        task_id=task,
    )


def jwt(issuer_short: str, subject: str) -> Identity:
    return Identity(platform="jwt", issuer_short=issuer_short, subject=subject)


# --- decode_name: the three documented examples -----------------------------------------


def test_decode_name_documented_ec2_example() -> None:
    assert decode_name("ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0") == [
        NameReading(
            "ratings",
            ec2("aws", "123456789012", "us-east-2b", "us-east-2", "i-1234567890abcdef0"),
        )
    ]


def test_decode_name_documented_ecs_example() -> None:
    name = f"ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-{TASK}"
    assert decode_name(name) == [
        NameReading(
            "ratings", ecs("aws", "123456789012", "us-east-1a", "us-east-1", "bookinfo", TASK)
        )
    ]


def test_decode_name_documented_jwt_example() -> None:
    assert decode_name("ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp") == [
        NameReading("ratings", jwt("my-corp", "vm007-datacenter1-us-east.internal.corp"))
    ]


# --- decode_name: awkward names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "readings"),
    [
        # every partition, each with a region of its own
        (
            "web-aws-aws-cn-123456789012-cn-north-1a-ec2-i-0123abcd",
            [("web", ec2("aws-cn", "123456789012", "cn-north-1a", "cn-north-1", "i-0123abcd"))],
        ),
        (
            "web-aws-aws-us-gov-000000000001-us-gov-west-1a-ec2-i-0123456789abcdef0",
            [
                (
                    "web",
                    ec2(
                        "aws-us-gov",
                        "000000000001",
                        "us-gov-west-1a",
                        "us-gov-west-1",
                        "i-0123456789abcdef0",
                    ),
                )
            ],
        ),
        (
            f"web-aws-aws-cn-123456789012-cn-northwest-1c-ecs-c-{TASK}",
            [
                (
                    "web",
                    ecs("aws-cn", "123456789012", "cn-northwest-1c", "cn-northwest-1", "c", TASK),
                )
            ],
        ),
        (
            f"web-aws-aws-us-gov-123456789012-us-gov-east-1b-ecs-c-{TASK}",
            [
                (
                    "web",
                    ecs("aws-us-gov", "123456789012", "us-gov-east-1b", "us-gov-east-1", "c", TASK),
                )
            ],
        ),
        # a Local Zone and a Wavelength Zone belong to the region they start with
        (
            "web-aws-aws-123456789012-us-west-2-lax-1a-ec2-i-0123abcd",
            [("web", ec2("aws", "123456789012", "us-west-2-lax-1a", "us-west-2", "i-0123abcd"))],
        ),
        (
            f"web-aws-aws-123456789012-us-west-2-lax-1a-ecs-my-ecs-cluster-{TASK}",
            [
                (
                    "web",
                    ecs(
                        "aws",
                        "123456789012",
                        "us-west-2-lax-1a",
                        "us-west-2",
                        "my-ecs-cluster",
                        TASK,
                    ),
                )
            ],
        ),
        (
            "web-aws-aws-123456789012-us-east-1-wl1-bos-wlz-1-ec2-i-0123abcd",
            [
                (
                    "web",
                    ec2(
                        "aws", "123456789012", "us-east-1-wl1-bos-wlz-1", "us-east-1", "i-0123abcd"
                    ),
                )
            ],
        ),
        # groups with hyphens, digits and the format's own words inside
        (
            "my-aws-app-2-aws-aws-123456789012-eu-central-1a-ec2-i-0123abcd",
            [
                (
                    "my-aws-app-2",
                    ec2("aws", "123456789012", "eu-central-1a", "eu-central-1", "i-0123abcd"),
                )
            ],
        ),
        (
            "aws-aws-aws-123456789012-eu-west-1a-ec2-i-0123abcd",
            [("aws", ec2("aws", "123456789012", "eu-west-1a", "eu-west-1", "i-0123abcd"))],
        ),
        (
            "x-aws-aws-aws-123456789012-eu-west-1a-ec2-i-0123abcd",
            [("x-aws", ec2("aws", "123456789012", "eu-west-1a", "eu-west-1", "i-0123abcd"))],
        ),
        (
            "ec2-ecs-jwt-aws-aws-123456789012-ap-southeast-4a-ec2-i-0123abcd",
            [
                (
                    "ec2-ecs-jwt",
                    ec2("aws", "123456789012", "ap-southeast-4a", "ap-southeast-4", "i-0123abcd"),
                )
            ],
        ),
        ("1-jwt-a--b", [("1", jwt("a", "b"))]),
        ("jwt-jwt-jwt--jwt", [("jwt", jwt("jwt", "jwt"))]),
        ("a--b-jwt-c--d", [("a--b", jwt("c", "d"))]),
        # ECS cluster names with hyphens, digits and words that look like the format
        (
            f"web-aws-aws-123456789012-us-east-1a-ecs-prod-ecs-2-{TASK}",
            [("web", ecs("aws", "123456789012", "us-east-1a", "us-east-1", "prod-ecs-2", TASK))],
        ),
        (
            f"web-aws-aws-123456789012-us-east-1a-ecs-{'f' * 32}-{TASK}",
            [("web", ecs("aws", "123456789012", "us-east-1a", "us-east-1", "f" * 32, TASK))],
        ),
        # a subject with dots, digits and double hyphens of its own
        ("db-jwt-corp--vm--1.example.com", [("db", jwt("corp", "vm--1.example.com"))]),
        ("db-jwt-corp---vm", [("db", jwt("corp", "-vm"))]),
    ],
)
def test_decode_name_awkward_names(name: str, readings: list[tuple[str, Identity]]) -> None:
    assert decode_name(name) == [NameReading(g, i) for g, i in readings]


def test_decode_name_returns_every_jwt_reading_shortest_group_first() -> None:
    assert decode_name("x-jwt-y-jwt-corp--s") == [
        NameReading("x", jwt("y-jwt-corp", "s")),
        NameReading("x-jwt-y", jwt("corp", "s")),
    ]


def test_decode_name_jwt_subject_may_repeat_the_format() -> None:
    assert decode_name("g-jwt-corp--vm-jwt-x--y") == [
        NameReading("g", jwt("corp", "vm-jwt-x--y")),
        NameReading("g-jwt-corp--vm", jwt("x", "y")),
    ]


def test_decode_name_mixes_platforms_when_the_name_allows() -> None:
    name = "g-jwt-corp--aws-aws-aws-123456789012-us-east-1a-ec2-i-0123abcd"
    assert decode_name(name) == [
        NameReading("g", jwt("corp", "aws-aws-aws-123456789012-us-east-1a-ec2-i-0123abcd")),
        NameReading(
            "g-jwt-corp--aws",
            ec2("aws", "123456789012", "us-east-1a", "us-east-1", "i-0123abcd"),
        ),
    ]


def test_decode_name_ecs_cluster_can_swallow_a_second_identity() -> None:
    name = f"x-aws-aws-111111111111-us-east-1a-ecs-c-aws-aws-222222222222-us-east-1a-ecs-d-{TASK}"
    assert [(r.group, r.identity.ecs_cluster) for r in decode_name(name)] == [
        ("x", "c-aws-aws-222222222222-us-east-1a-ecs-d"),
        ("x-aws-aws-111111111111-us-east-1a-ecs-c", "d"),
    ]


def test_decode_name_with_group_keeps_only_that_reading() -> None:
    assert decode_name("x-jwt-y-jwt-corp--s", group="x-jwt-y") == [
        NameReading("x-jwt-y", jwt("corp", "s"))
    ]
    assert decode_name("x-jwt-y-jwt-corp--s", group="x") == [
        NameReading("x", jwt("y-jwt-corp", "s"))
    ]


def test_decode_name_with_group_accepts_groups_that_are_not_dns_labels() -> None:
    assert decode_name("my.group-jwt-corp--s", group="my.group") == [
        NameReading("my.group", jwt("corp", "s"))
    ]


def test_decode_name_with_wrong_group_names_the_readings() -> None:
    with pytest.raises(UsageError) as info:
        decode_name("x-jwt-y-jwt-corp--s", group="ratings")
    assert info.value.message == (
        'cannot decode "x-jwt-y-jwt-corp--s" as a name in WorkloadGroup "ratings" '
        '(it reads as WorkloadGroup "x" or "x-jwt-y")'
    )
    assert info.value.exit_code == 1


def test_decode_name_with_group_and_no_reading_names_the_formats() -> None:
    with pytest.raises(UsageError) as info:
        decode_name("ratings-foo", group="ratings")
    assert info.value.message == (
        f'cannot decode "ratings-foo" as a name in WorkloadGroup "ratings": expected {FORMATS}'
    )


def test_decode_name_ignores_whitespace_and_resource_prefix() -> None:
    expected = [NameReading("db", jwt("corp", "vm1"))]
    assert decode_name("  db-jwt-corp--vm1\n") == expected
    assert decode_name(
        "workloadautoregistration.runtime.onboarding.tetrate.io/db-jwt-corp--vm1"
    ) == (expected)
    assert decode_name("war/db-jwt-corp--vm1") == expected


@pytest.mark.parametrize(
    "name",
    [
        "foo",
        "",
        "ratings",
        "-jwt-corp--s",  # no group
        "Ratings-jwt-corp--s",  # upper case is not a Kubernetes name
        "ratings-jwt-corp-s",  # single hyphen: where does the issuer end?
        "ratings-jwt--s",  # empty issuer
        "ratings-jwt-corp--",  # empty subject
        "ratings-jwt--corp--s",
        "ratings-jwt-corp--S",
        "ratings-aws-aws-12345678901-us-east-2b-ec2-i-0123abcd",  # 11-digit account
        "ratings-aws-aws-1234567890123-us-east-2b-ec2-i-0123abcd",  # 13-digit account
        "ratings-aws-aws-eu-123456789012-us-east-2b-ec2-i-0123abcd",  # no such partition
        "ratings-aws-aws-123456789012-us-east-2-ec2-i-0123abcd",  # a region, not a zone
        "ratings-aws-aws-123456789012-us-east-2b-ec2-i-0123abc",  # 7 hex
        "ratings-aws-aws-123456789012-us-east-2b-ec2-i-0123456789abcdef",  # 16 hex
        "ratings-aws-aws-123456789012-us-east-2b-ec2-i-0123ABCD",
        "ratings-aws-aws-123456789012-us-east-2b-ec2-0123abcd",
        "ratings-aws-aws-123456789012-us-east-2b-ecs-bookinfo-" + TASK[:-1],  # 31 hex
        "ratings-aws-aws-123456789012-us-east-2b-ecs-" + TASK,  # no cluster
        "ratings-aws-aws-123456789012-us-east-2b-vm-i-0123abcd",
        "ratings-gcp-my-project-us-central1-a-1234",
    ],
)
def test_decode_name_rejects_names_no_format_explains(name: str) -> None:
    with pytest.raises(UsageError) as info:
        decode_name(name)
    assert info.value.message == f'cannot decode "{name}": expected {FORMATS}'
    assert info.value.exit_code == 1


def test_decode_name_rejects_names_longer_than_kubernetes_allows() -> None:
    name = "g" * 250 + "-jwt-c--s"
    with pytest.raises(UsageError) as info:
        decode_name(name)
    assert info.value.message.endswith(
        ": a WorkloadAutoRegistration name has at most 253 characters"
    )
    assert len(info.value.message) < 200


def test_decode_name_quotes_unprintable_input_on_one_line() -> None:
    with pytest.raises(UsageError) as info:
        decode_name('a"b\x00c\u2028')
    assert info.value.message.startswith('cannot decode "a\\"b\\x00c\\u2028": expected ')


def test_decode_name_is_fast_on_hostile_input() -> None:
    hostile = ["-aws-aws-" * 28, "a-jwt-" * 42, "a-" * 126, "-" * 253, "a--" * 84]
    start = time.perf_counter()
    for name in hostile:
        with contextlib.suppress(UsageError):
            decode_name(name[:253])
    assert time.perf_counter() - start < 0.05


def test_group_from_name() -> None:
    assert group_from_name(f"ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-{TASK}") == (
        "ratings"
    )
    assert group_from_name("x-jwt-y-jwt-corp--s") is None  # ambiguous
    assert group_from_name("foo") is None


# --- decode_name: properties ---------------------------------------------------------------


@given(st.text(max_size=300))
def test_decode_name_any_text_gives_readings_or_usage_error(name: str) -> None:
    try:
        readings = decode_name(name)
    except UsageError as e:
        assert "\n" not in e.message
        return
    assert readings
    lengths = [len(r.group) for r in readings]
    assert lengths == sorted(set(lengths))


@given(st.from_regex(r"[a-z0-9-]{0,60}(-(aws|jwt|ec2|ecs)-[a-z0-9-]{0,20}){0,4}", fullmatch=True))
def test_decode_name_format_words_give_readings_or_usage_error(name: str) -> None:
    with contextlib.suppress(UsageError):
        decode_name(name)


_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
_groups = st.one_of(
    _label,
    st.lists(
        st.sampled_from(["aws", "jwt", "ec2", "ecs", "x", "1", "aws-cn", "us-east-1a"]),
        min_size=1,
        max_size=5,
    ).map("-".join),
)
_zones = st.one_of(
    st.tuples(
        st.sampled_from(
            ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-4", "eu-isoe-west-1"]
        ),
        st.sampled_from(["a", "b", "z", "-lax-1a", "-bos-2b", "-wl1-bos-wlz-1"]),
    ),
)
_partitions = st.sampled_from(["aws", "aws-cn", "aws-us-gov"])
_accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
_ec2 = st.builds(
    lambda p, a, z, i: ec2(p, a, z[0] + z[1], z[0], i),
    _partitions,
    _accounts,
    _zones,
    st.from_regex(r"i-([0-9a-f]{8}|[0-9a-f]{17})", fullmatch=True),
)
_ecs = st.builds(
    lambda p, a, z, c, t: ecs(p, a, z[0] + z[1], z[0], c, t),
    _partitions,
    _accounts,
    _zones,
    st.one_of(_label, st.from_regex(r"[a-z0-9_]([a-z0-9_-]{0,30}[a-z0-9_])?", fullmatch=True)),
    st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
)
_jwt = st.builds(
    jwt,
    st.from_regex(r"[0-9a-z]{1,5}(-[0-9a-z]{1,5}){0,3}", fullmatch=True),
    st.from_regex(r"[0-9a-z.-]{1,40}", fullmatch=True),
)


@given(_groups, st.one_of(_ec2, _ecs, _jwt))
def test_decode_name_round_trips_name_part(group: str, identity: Identity) -> None:
    part = identity.name_part()
    assert part is not None
    name = f"{group}-{part}"
    readings = decode_name(name)
    assert NameReading(group, identity) in readings
    assert decode_name(name, group=group) == [NameReading(group, identity)]


# --- identity_from_spec ------------------------------------------------------------------


def test_spec_ec2_in_json_spelling() -> None:
    spec = {
        "aws": {
            "partition": "aws",
            "account": "123456789012",
            "region": "us-east-2",
            "zone": "us-east-2b",
            "ec2": {"instanceId": "i-1234567890abcdef0", "iamRole": {"name": "ratings-role"}},
        }
    }
    assert identity_from_spec(spec) == Identity(
        platform="ec2",
        partition="aws",
        account="123456789012",
        region="us-east-2",
        zone="us-east-2b",
        instance_id="i-1234567890abcdef0",
        iam_role="ratings-role",
    )


def test_spec_ec2_in_snake_case_spelling_with_plain_role() -> None:
    spec = {
        "aws": {
            "partition": "aws",
            "account": "123456789012",
            "region": "us-east-2",
            "zone": "us-east-2b",
            "ec2": {"instance_id": "i-1234567890abcdef0", "iam_role": "ratings-role"},
        }
    }
    ident = identity_from_spec(spec)
    assert ident is not None
    assert (ident.platform, ident.instance_id, ident.iam_role, ident.extra) == (
        "ec2",
        "i-1234567890abcdef0",
        "ratings-role",
        {},
    )


def test_spec_ecs_in_both_spellings() -> None:
    common = {
        "partition": "aws",
        "account": "123456789012",
        "region": "us-east-1",
        "zone": "us-east-1a",
    }
    expected = Identity(
        platform="ecs",
        partition="aws",
        account="123456789012",
        region="us-east-1",
        zone="us-east-1a",
        ecs_cluster="bookinfo",
        task_id=TASK,
        iam_role="task-role",
    )
    camel = {
        "aws": {
            **common,
            "ecs": {"taskId": TASK, "cluster": "bookinfo", "iamRole": {"name": "task-role"}},
        }
    }
    snake = {
        "aws": {
            **common,
            "ecs": {"task_id": TASK, "cluster": "bookinfo", "iam_role": {"name": "task-role"}},
        }
    }
    assert identity_from_spec(camel) == expected
    assert identity_from_spec(snake) == expected
    assert expected.instance == f"bookinfo/{TASK}"
    assert expected.zone_label == "us-east-1a"


def test_spec_jwt_with_attributes() -> None:
    spec = {
        "jwt": {
            "issuer": "https://mycompany.corp",
            "subject": "us-east-datacenter1-vm007",
            "attributes": {"region": "us-east", "datacenter": "dc1", "rack": 7, "bad": None},
        }
    }
    ident = identity_from_spec(spec)
    assert ident == Identity(
        platform="jwt",
        issuer="https://mycompany.corp",
        subject="us-east-datacenter1-vm007",
        attributes={"region": "us-east", "datacenter": "dc1", "rack": "7"},
    )
    assert ident is not None
    assert ident.instance == "us-east-datacenter1-vm007"
    assert ident.zone_label == "us-east"
    assert ident.name_part() is None  # the issuer's short name is not in spec
    assert ident.fields() == [
        ("Issuer", "https://mycompany.corp"),
        ("Subject", "us-east-datacenter1-vm007"),
        ("Attribute datacenter", "dc1"),
        ("Attribute rack", "7"),
        ("Attribute region", "us-east"),
    ]


def test_jwt_zone_label_falls_back_to_datacenter() -> None:
    assert Identity(platform="jwt", attributes={"datacenter": "dc1"}).zone_label == "dc1"
    assert Identity(platform="jwt", attributes={"rack": "7"}).zone_label is None


def test_spec_gcp() -> None:
    spec = {
        "gcp": {
            "projectNumber": 234567890121,
            "projectId": "my-project",
            "region": "us-central1",
            "zone": "us-central1-b",
            "gce": {"instanceId": "6138587357018826433"},
        }
    }
    ident = identity_from_spec(spec)
    assert ident == Identity(
        platform="gcp",
        region="us-central1",
        zone="us-central1-b",
        instance_id="6138587357018826433",
        extra={"projectNumber": "234567890121", "projectId": "my-project"},
    )
    assert ident is not None
    assert (ident.instance, ident.zone_label, ident.platform_label) == (
        "6138587357018826433",
        "us-central1-b",
        "GCP",
    )
    assert ident.fields() == [
        ("Region", "us-central1"),
        ("Zone", "us-central1-b"),
        ("Instance ID", "6138587357018826433"),
        ("Project ID", "my-project"),
        ("Project Number", "234567890121"),
    ]


def test_spec_azure() -> None:
    spec = {
        "azure": {
            "subscription": "8d1f3b3c-0000-4f1e-9d5b-1234567890ab",
            "resourceGroup": "my-rg",
            "compute": {"instanceId": "0c6e0d5a-0000-4b8c-8f4c-abcdefabcdef"},
        }
    }
    ident = identity_from_spec(spec)
    assert ident == Identity(
        platform="azure",
        instance_id="0c6e0d5a-0000-4b8c-8f4c-abcdefabcdef",
        extra={"subscription": "8d1f3b3c-0000-4f1e-9d5b-1234567890ab", "resourceGroup": "my-rg"},
    )
    assert ident is not None
    assert ident.instance == "0c6e0d5a-0000-4b8c-8f4c-abcdefabcdef"
    assert ident.zone_label is None
    assert ident.fields() == [
        ("Instance ID", "0c6e0d5a-0000-4b8c-8f4c-abcdefabcdef"),
        ("Resource Group", "my-rg"),
        ("Subscription", "8d1f3b3c-0000-4f1e-9d5b-1234567890ab"),
    ]


def test_spec_unknown_platform_keeps_everything_flattened() -> None:
    spec = {"oracle": {"tenancy": "t1", "instance": {"ocid": "ocid1.instance"}, "tags": ["a", "b"]}}
    assert identity_from_spec(spec) == Identity(
        platform="unknown",
        extra={
            "oracle.tenancy": "t1",
            "oracle.instance.ocid": "ocid1.instance",
            "oracle.tags[0]": "a",
            "oracle.tags[1]": "b",
        },
    )


def test_spec_aws_without_ec2_or_ecs_is_unknown_but_keeps_the_account() -> None:
    ident = identity_from_spec(
        {"aws": {"partition": "aws", "account": "123456789012", "lambda": {"fn": "f"}}}
    )
    assert ident == Identity(
        platform="unknown",
        partition="aws",
        account="123456789012",
        extra={"aws.lambda.fn": "f"},
    )


def test_spec_with_both_ec2_and_ecs_is_the_task() -> None:
    ident = identity_from_spec(
        {"aws": {"ec2": {"instanceId": "i-0123abcd"}, "ecs": {"taskId": TASK, "cluster": "c"}}}
    )
    assert ident is not None
    assert (ident.platform, ident.task_id, ident.extra) == (
        "ecs",
        TASK,
        {"ec2.instanceId": "i-0123abcd"},
    )


def test_spec_unknown_fields_go_to_extra() -> None:
    ident = identity_from_spec(
        {
            "aws": {
                "partition": "aws",
                "ec2": {"instanceId": "i-0123abcd", "instanceType": "t3.micro"},
            }
        }
    )
    assert ident is not None
    assert ident.extra == {"ec2.instanceType": "t3.micro"}
    assert ("Ec2 Instance Type", "t3.micro") not in ident.fields()
    assert ("EC2 Instance Type", "t3.micro") in ident.fields()


def test_spec_account_written_as_a_number_keeps_its_twelve_digits() -> None:
    ident = identity_from_spec({"aws": {"account": 12345678901, "ec2": {}}})
    assert ident is not None
    assert ident.account == "012345678901"


@pytest.mark.parametrize(
    "spec",
    [None, {}, {"aws": None}, {"jwt": None, "aws": None}, "aws", 42, [], ["aws"]],
)
def test_spec_missing_or_empty_is_none(spec: object) -> None:
    assert identity_from_spec(spec) is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"aws": "ec2"}, Identity(platform="unknown", extra={"aws": "ec2"})),
        ({"aws": []}, Identity(platform="unknown")),
        ({"aws": {"ec2": "i-1"}}, Identity(platform="unknown", extra={"aws.ec2": "i-1"})),
        ({"aws": {"ec2": None}}, Identity(platform="unknown")),
        (
            {"aws": {"ec2": {"instanceId": ["i-1"]}}},
            Identity(platform="ec2", extra={"ec2.instanceId[0]": "i-1"}),
        ),
        ({"aws": {"ec2": {"instanceId": ""}}}, Identity(platform="ec2")),
        ({"aws": {"ec2": {"iamRole": {"name": 5}}}}, Identity(platform="ec2", iam_role="5")),
        (
            {"aws": {"ec2": {"iamRole": {"arn": "x"}}}},
            Identity(platform="ec2", extra={"ec2.iamRole.arn": "x"}),
        ),
        (
            {"aws": {"ec2": {"iamRole": ["r"]}}},
            Identity(platform="ec2", extra={"ec2.iamRole[0]": "r"}),
        ),
        ({"aws": {"ecs": {}}}, Identity(platform="ecs")),
        ({"aws": {"partition": True, "ec2": {}}}, Identity(platform="ec2", partition="true")),
        (
            {"jwt": {"attributes": "region=us"}},
            Identity(platform="jwt", extra={"attributes": "region=us"}),
        ),
        ({"jwt": {"attributes": {1: 2}}}, Identity(platform="jwt", attributes={"1": "2"})),
        ({"gcp": {"gce": "x"}}, Identity(platform="gcp", extra={"gce": "x"})),
        ({"azure": {"compute": None}}, Identity(platform="azure")),
        ({1: {"a": "b"}}, Identity(platform="unknown", extra={"1.a": "b"})),
    ],
)
def test_spec_malformed_shapes_never_raise(spec: object, expected: Identity) -> None:
    assert identity_from_spec(spec) == expected


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "aws",
                        "jwt",
                        "gcp",
                        "azure",
                        "ec2",
                        "ecs",
                        "instanceId",
                        "iamRole",
                        "attributes",
                        "x",
                    ]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_spec_any_shape_never_raises(spec: object) -> None:
    ident = identity_from_spec(spec)
    if ident is not None:
        ident.fields()
        ident.to_dict()
        ident.name_part()
        assert ident.platform in ("ec2", "ecs", "jwt", "gcp", "azure", "unknown")


# --- Identity ---------------------------------------------------------------------------


def test_ec2_fields_instance_and_name_part() -> None:
    ident = Identity(
        platform="ec2",
        partition="aws",
        account="123456789012",
        region="us-east-2",
        zone="us-east-2b",
        instance_id="i-1234567890abcdef0",
        iam_role="ratings-role",
    )
    assert ident.instance == "i-1234567890abcdef0"
    assert ident.zone_label == "us-east-2b"
    assert ident.platform_label == "AWS EC2"
    assert ident.fields() == [
        ("Partition", "aws"),
        ("Account", "123456789012"),
        ("Region", "us-east-2"),
        ("Zone", "us-east-2b"),
        ("Instance ID", "i-1234567890abcdef0"),
        ("IAM Role", "ratings-role"),
    ]
    assert ident.name_part() == "aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"
    assert ident.to_dict() == {
        "platform": "ec2",
        "partition": "aws",
        "account": "123456789012",
        "region": "us-east-2",
        "zone": "us-east-2b",
        "instanceId": "i-1234567890abcdef0",
        "iamRole": "ratings-role",
    }


def test_ecs_fields_and_name_part() -> None:
    ident = ecs("aws", "123456789012", "us-east-1a", "us-east-1", "bookinfo", TASK)
    assert ident.fields() == [
        ("Partition", "aws"),
        ("Account", "123456789012"),
        ("Region", "us-east-1"),
        ("Zone", "us-east-1a"),
        ("Cluster", "bookinfo"),
        ("Task ID", TASK),
    ]
    assert ident.name_part() == f"aws-aws-123456789012-us-east-1a-ecs-bookinfo-{TASK}"
    assert ident.to_dict()["ecsCluster"] == "bookinfo"


def test_jwt_from_name_fields_and_dict() -> None:
    ident = jwt("my-corp", "vm007")
    assert ident.fields() == [("Issuer Short Name", "my-corp"), ("Subject", "vm007")]
    assert ident.to_dict() == {"platform": "jwt", "issuerShort": "my-corp", "subject": "vm007"}
    assert ident.name_part() == "jwt-my-corp--vm007"


def test_instance_and_zone_label_edges() -> None:
    assert Identity(platform="ecs", task_id=TASK).instance == TASK
    assert Identity(platform="ecs", ecs_cluster="c").instance is None
    assert Identity(platform="ec2", region="us-east-2").zone_label == "us-east-2"
    assert Identity(platform="unknown", zone="z").zone_label is None
    assert Identity(platform="unknown").instance is None
    assert Identity(platform="unknown").fields() == []
    assert Identity(platform="unknown").to_dict() == {"platform": "unknown"}


@pytest.mark.parametrize(
    "ident",
    [
        Identity(platform="ec2", partition="aws", account="123456789012", zone="us-east-2b"),
        Identity(platform="ec2", partition="aws", zone="us-east-2b", instance_id="i-0123abcd"),
        Identity(platform="ecs", partition="aws", account="123456789012", zone="z", task_id=TASK),
        Identity(platform="jwt", issuer="https://x", subject="s"),
        Identity(platform="gcp", instance_id="1"),
        Identity(platform="unknown"),
    ],
)
def test_name_part_is_none_when_incomplete(ident: Identity) -> None:
    assert ident.name_part() is None


def test_identities_are_hashable_despite_mappings() -> None:
    a = Identity(platform="jwt", subject="s", attributes={"region": "r"})
    b = Identity(platform="jwt", subject="s", attributes={"region": "r"})
    assert a == b
    assert len({a, b}) == 1
    assert a != Identity(platform="jwt", subject="s")
