"""OnboardingPolicy objects (`authorization.onboarding.tetrate.io/v1alpha1`) as typed rules.

The schema, as TSB documents it: `spec.allow[]` (at least one) holds rules; a rule has
`workloads[]` (identity matchers, at least one) and `onboardTo[]` (WorkloadGroup label
selectors, at least one). A matcher is exactly one of `aws` or `jwt`:

- `aws`: `accounts` (required, 12 digits each), `partitions`, `regions`, `zones`
  (empty means any), and exactly one of `ec2: {iamRoleNames}` or
  `ecs: {clusters, iamRoleNames}`.
- `jwt`: `issuer` (required, an https URL), `subjects` (empty means any),
  `attributes[{name, values}]` (empty `values` means any value).

A policy that breaks the schema (a wrong type, a missing required field) is
`Malformed`: callers report it by name and go on without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from kubectl_war.jsondata import child
from kubectl_war.selectors import SelectorError, check_label_selector

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON

GROUP = "authorization.onboarding.tetrate.io"
KIND = "OnboardingPolicy"
PLURAL = "onboardingpolicies"
_ACCOUNT = re.compile(r"^[0-9]{12}$")


class Malformed(ValueError):
    """A policy that does not follow the schema; the message names the field."""


@dataclass(frozen=True)
class AwsMatcher:
    """`workloads[].aws`: every field must hold (AND); an empty list allows any value."""

    accounts: tuple[str, ...]
    kind: str  # "ec2" or "ecs"
    partitions: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()  # ecs only
    roles: tuple[str, ...] = ()  # iamRoleNames


@dataclass(frozen=True)
class JwtMatcher:
    """`workloads[].jwt`: the issuer, one of the subjects, and every attribute."""

    issuer: str
    subjects: tuple[str, ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()


Matcher = Union[AwsMatcher, JwtMatcher]


@dataclass(frozen=True)
class Rule:
    """One entry of `spec.allow`, numbered from 1 as people count them."""

    number: int
    matchers: tuple[Matcher, ...]
    selectors: tuple[JSON, ...]  # checked LabelSelector objects


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Bad:
    """A policy that could not be read, and why."""

    namespace: str
    name: str
    problem: str


def _strings(value: Any, where: str, *, required: bool = False) -> tuple[str, ...]:
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Malformed(f"{where}: want a list of strings")
    if required and not value:
        raise Malformed(f"{where}: at least one is required")
    return tuple(value)


def _object(value: Any, where: str) -> JSON:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{where}: want an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise Malformed(f"{where}: at least one entry is required")
    return value


def _aws(aws: JSON, where: str) -> AwsMatcher:
    accounts = _strings(aws.get("accounts"), f"{where}.accounts", required=True)
    for i, account in enumerate(accounts):
        if not _ACCOUNT.match(account):
            raise Malformed(f"{where}.accounts[{i}]: {account!r} is not 12 digits")
    kinds = [k for k in ("ec2", "ecs") if aws.get(k) is not None]
    if len(kinds) != 1:
        raise Malformed(f"{where}: exactly one of ec2 or ecs is required")
    body = _object(aws[kinds[0]], f"{where}.{kinds[0]}")
    return AwsMatcher(
        accounts=accounts,
        kind=kinds[0],
        partitions=_strings(aws.get("partitions"), f"{where}.partitions"),
        regions=_strings(aws.get("regions"), f"{where}.regions"),
        zones=_strings(aws.get("zones"), f"{where}.zones"),
        clusters=_strings(body.get("clusters"), f"{where}.ecs.clusters")
        if kinds[0] == "ecs"
        else (),
        roles=_strings(body.get("iamRoleNames"), f"{where}.{kinds[0]}.iamRoleNames"),
    )


def _jwt(jwt: JSON, where: str) -> JwtMatcher:
    issuer = jwt.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise Malformed(f"{where}.issuer: required")
    if not issuer.startswith("https://"):
        raise Malformed(f"{where}.issuer: {issuer!r} is not an https URL")
    if not isinstance(jwt.get("attributes") or [], list):
        raise Malformed(f"{where}.attributes: want a list")
    attributes = []
    for i, attr in enumerate(jwt.get("attributes") or []):
        at = f"{where}.attributes[{i}]"
        attr = _object(attr, at)
        name = attr.get("name")
        if not isinstance(name, str) or not name:
            raise Malformed(f"{at}.name: required")
        attributes.append((name, _strings(attr.get("values"), f"{at}.values")))
    return JwtMatcher(
        issuer=issuer,
        subjects=_strings(jwt.get("subjects"), f"{where}.subjects"),
        attributes=tuple(attributes),
    )


def _matcher(entry: Any, where: str) -> Matcher:
    entry = _object(entry, where)
    kinds = [k for k in ("aws", "jwt") if entry.get(k) is not None]
    if len(kinds) != 1:
        raise Malformed(f"{where}: exactly one of aws or jwt is required")
    body = _object(entry[kinds[0]], f"{where}.{kinds[0]}")
    at = f"{where}.{kinds[0]}"
    return _aws(body, at) if kinds[0] == "aws" else _jwt(body, at)


def _rule(entry: Any, number: int) -> Rule:
    where = f"spec.allow[{number - 1}]"
    entry = _object(entry, where)
    workloads = _list(entry.get("workloads"), f"{where}.workloads")
    onboard_to = _list(entry.get("onboardTo"), f"{where}.onboardTo")
    selectors = []
    for i, target in enumerate(onboard_to):
        at = f"{where}.onboardTo[{i}]"
        target = _object(target, at)
        if "workloadGroupSelector" not in target:
            raise Malformed(f"{at}.workloadGroupSelector: required")
        try:
            selectors.append(
                check_label_selector(
                    target["workloadGroupSelector"] or {}, f"{at}.workloadGroupSelector"
                )
            )
        except SelectorError as exc:
            raise Malformed(str(exc)) from None
    return Rule(
        number,
        tuple(_matcher(w, f"{where}.workloads[{i}]") for i, w in enumerate(workloads)),
        tuple(selectors),
    )


def parse(obj: JSON) -> Policy:
    """One OnboardingPolicy object as a `Policy`.

    Raises:
        Malformed: the object breaks the schema; the message names the field.
    """
    meta = _object(obj.get("metadata"), "metadata")
    spec = _object(obj.get("spec"), "spec")
    allow = _list(spec.get("allow"), "spec.allow")
    return Policy(
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
        tuple(_rule(entry, i + 1) for i, entry in enumerate(allow)),
    )


def parse_all(objs: list[JSON]) -> tuple[list[Policy], list[Bad]]:
    """Every policy that parses, in namespace and name order, and the ones that do not."""
    good: list[Policy] = []
    bad: list[Bad] = []
    for obj in objs:
        meta = child(obj, "metadata")
        try:
            good.append(parse(obj))
        except Malformed as exc:
            bad.append(Bad(str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(exc)))
    good.sort(key=lambda p: (p.namespace, p.name))
    bad.sort(key=lambda b: (b.namespace, b.name))
    return good, bad
