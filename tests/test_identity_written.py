"""The direct reading of the identity shapes the onboarding endpoint writes gives exactly
what the general `spec.identity` decoder gives, and declines everything else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_war import identity_spec
from kubectl_war.identity import Identity
from kubectl_war.identity_spec import identity_from_spec


def _general(spec: object) -> Identity | None:
    original = identity_spec._as_written
    identity_spec._as_written = lambda _spec: None  # type: ignore[assignment]
    try:
        return identity_from_spec(spec)
    finally:
        identity_spec._as_written = original  # type: ignore[assignment]


# Mostly well-formed values, with the odd ones the general decoder tolerates.
values = st.one_of(
    st.sampled_from(["aws", "123456789012", "us-east-2", "us-east-2b", "i-0a1b", "x"]),
    st.just(""),
    st.integers(min_value=0, max_value=10**12),
    st.booleans(),
    st.none(),
    st.lists(st.just("a"), max_size=2),
)
odd_keys = st.sampled_from(["instance_id", "task_id", "iam_role", "extra", "name", "gce"])


def _maybe(draw: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Sometimes drop a field, change a value or add a field nobody expects."""
    body = dict(body)
    if body and draw(st.booleans()):
        body.pop(draw(st.sampled_from(sorted(body))))
    if body and draw(st.booleans()):
        body[draw(st.sampled_from(sorted(body)))] = draw(values)
    if draw(st.integers(0, 3)) == 0:
        body[draw(odd_keys)] = draw(values)
    return body


@st.composite
def roles(draw: Any) -> Any:
    return draw(
        st.one_of(
            st.just({"name": "api-vm"}),
            st.just("api-vm"),
            st.fixed_dictionaries({"name": values}),
            st.just({"name": "r", "arn": "x"}),
            values,
        )
    )


@st.composite
def spec_identities(draw: Any) -> Any:
    kind = draw(st.sampled_from(["ec2", "ecs", "jwt", "other"]))
    common = {
        "partition": "aws",
        "account": "123456789012",
        "region": "us-east-2",
        "zone": "us-east-2b",
    }
    if kind == "ec2":
        ec2: dict[str, Any] = {"instanceId": "i-0a1b2c3d4e5f60718"}
        if draw(st.booleans()):
            ec2["iamRole"] = draw(roles())
        body = {**common, "ec2": draw(st.just(ec2)) if draw(st.booleans()) else _maybe(draw, ec2)}
        return {"aws": body if draw(st.booleans()) else _maybe(draw, body)}
    if kind == "ecs":
        ecs: dict[str, Any] = {"cluster": "bookinfo", "taskId": "3a151358f03a4e32bf8cd401c1c74653"}
        if draw(st.booleans()):
            ecs["iamRole"] = draw(roles())
        body = {**common, "ecs": ecs if draw(st.booleans()) else _maybe(draw, ecs)}
        return {"aws": body if draw(st.booleans()) else _maybe(draw, body)}
    if kind == "jwt":
        jwt: dict[str, Any] = {"issuer": "https://issuer.example", "subject": "vm007"}
        if draw(st.booleans()):
            jwt["attributes"] = draw(
                st.dictionaries(st.sampled_from(["region", "datacenter"]), values, max_size=2)
            )
        return {"jwt": jwt if draw(st.booleans()) else _maybe(draw, jwt)}
    return draw(
        st.one_of(
            st.just({"gcp": {"region": "r", "zone": "z", "gce": {"instanceId": "1"}}}),
            st.just({"aws": {"partition": "aws"}, "jwt": {"issuer": "x"}}),
            st.dictionaries(st.sampled_from(["aws", "jwt", "other"]), values, max_size=2),
        )
    )


@settings(max_examples=400, deadline=None)
@given(spec_identities())
def test_the_direct_reading_equals_the_general_decoder(spec: Any) -> None:
    assert identity_from_spec(spec) == _general(spec)


@pytest.mark.parametrize(
    "spec",
    [
        {
            "aws": {
                "partition": "aws",
                "account": "123456789012",
                "region": "us-east-2",
                "zone": "us-east-2b",
                "ec2": {"instanceId": "i-0a1b2c3d4e5f60718", "iamRole": {"name": "vm"}},
            }
        },
        {
            "aws": {
                "partition": "aws-cn",
                "account": "123456789012",
                "region": "cn-north-1",
                "zone": "cn-north-1a",
                "ecs": {"cluster": "c", "taskId": "3a151358f03a4e32bf8cd401c1c74653"},
            }
        },
        {"jwt": {"issuer": "https://i", "subject": "vm", "attributes": {"region": "r"}}},
    ],
)
def test_the_endpoints_own_shapes_are_read_directly(spec: Any) -> None:
    direct = identity_spec._as_written(spec)
    assert direct is not None
    assert direct == _general(spec)


@pytest.mark.parametrize(
    "spec",
    [
        {"aws": {"partition": "aws", "account": 123456789012, "region": "r", "zone": "z",
                 "ec2": {"instanceId": "i"}}},
        {"aws": {"partition": "aws", "account": "1", "region": "r", "zone": "z",
                 "ec2": {"instance_id": "i"}}},
        {"jwt": {"issuer": "https://i", "subject": "vm", "extra": "x"}},
    ],
)  # fmt: skip
def test_anything_else_goes_to_the_general_decoder(spec: Any) -> None:
    assert identity_spec._as_written(spec) is None
