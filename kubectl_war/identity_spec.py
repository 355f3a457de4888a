"""Who a workload is, as its WAR's verified `spec.identity` says.

The onboarding plane writes `spec.identity` from what it verified: `aws` (with `ec2` or
`ecs`), `jwt`, `gcp` or `azure`. `identity_from_spec` reads it into an `Identity`
(identity.py), forgiving any shape: a field of the wrong type, a missing one, or one
nobody foresaw never breaks a listing; what has no place in `Identity` is kept, flattened,
in its `extra`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from kubectl_war.identity import Identity

#: `typing` is read only by type checkers here, as in identity.py.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from kubectl_war.jsondata import JSON

__all__ = ["identity_from_spec"]


# Memoised: the same few keys are looked up for every WAR of a list.
@functools.lru_cache(maxsize=512)
def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _scalar(value: object) -> str | None:
    """A field value as text: strings as they are, numbers and booleans as JSON writes
    them, empty strings and anything else (None, lists, maps) as None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _pop(mapping: JSON, key: str) -> Any:
    """Take a field by its JSON (lowerCamel) name or its snake_case spelling."""
    value = mapping.pop(key, None)
    snake = _snake(key)
    alt = mapping.pop(snake, None) if snake != key else None
    return value if value is not None else alt


def _pop_str(mapping: JSON, key: str) -> str | None:
    value = _pop(mapping, key)
    text = _scalar(value)
    if text is None and value is not None and value != "":
        mapping[key] = value  # malformed: leave it to be shown in `extra`
    return text


def _pop_map(mapping: JSON, key: str) -> JSON | None:
    value = _pop(mapping, key)
    if type(value) is dict or isinstance(value, Mapping):
        return dict(value)
    if value is not None:
        mapping[key] = value  # malformed: leave it to be shown in `extra`
    return None


def _flatten(value: object, prefix: str, out: dict[str, str]) -> None:
    # `type(...) is dict` first, here and below: the Mapping ABC check costs several
    # times more, and decoding runs for every WAR of a list.
    if type(value) is dict or isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        text = _scalar(value)
        if text is not None and prefix:
            out[prefix] = text


def _flat(value: object, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    _flatten(value, prefix, out)
    return out


def _pop_role(body: JSON, prefix: str) -> tuple[str | None, dict[str, str]]:
    """`iamRole: {name: ...}` (or a plain string): the name, and any other fields."""
    value = _pop(body, "iamRole")
    if type(value) is dict or isinstance(value, Mapping):
        role = dict(value)
        return _pop_str(role, "name"), _flat(role, f"{prefix}.iamRole")
    text = _scalar(value)
    return text, ({} if text is not None else _flat(value, f"{prefix}.iamRole"))


def _account(value: object) -> str | None:
    # An account is exactly 12 digits; a YAML file may have turned it into a number.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value).zfill(12)
    return _scalar(value)


def _aws(aws: JSON) -> Identity:
    partition = _pop_str(aws, "partition")
    account = _account(_pop(aws, "account"))
    region = _pop_str(aws, "region")
    zone = _pop_str(aws, "zone")
    ec2 = _pop_map(aws, "ec2")
    ecs = _pop_map(aws, "ecs")
    common = (partition, account, region, zone)  # Identity's fields after `platform`
    # Exactly one of ec2/ecs is expected. Should both appear, the task is the workload
    # (an ECS task may run on an EC2 container instance), so ECS wins.
    if ecs is not None:
        role, role_extra = _pop_role(ecs, "ecs")
        return Identity(
            "ecs",
            *common,
            ecs_cluster=_pop_str(ecs, "cluster"),
            task_id=_pop_str(ecs, "taskId"),
            iam_role=role,
            extra={**_flat(aws), **_flat(ecs, "ecs"), **role_extra, **_flat(ec2 or {}, "ec2")},
        )
    if ec2 is not None:
        role, role_extra = _pop_role(ec2, "ec2")
        return Identity(
            "ec2",
            *common,
            instance_id=_pop_str(ec2, "instanceId"),
            iam_role=role,
            extra={**_flat(aws), **_flat(ec2, "ec2"), **role_extra},
        )
    # AWS, but neither EC2 nor ECS: keep what is known, without claiming a platform.
    return Identity("unknown", *common, extra=_flat(aws, "aws"))


def _jwt(jwt: JSON) -> Identity:
    attributes: dict[str, str] = {}
    raw = _pop_map(jwt, "attributes") or {}
    for k, v in raw.items():
        text = _scalar(v)
        if text is not None:
            attributes[str(k)] = text
    return Identity(
        platform="jwt",
        issuer=_pop_str(jwt, "issuer"),
        subject=_pop_str(jwt, "subject"),
        attributes=attributes,
        extra=_flat(jwt),
    )


def _gcp(gcp: JSON) -> Identity:
    region = _pop_str(gcp, "region")
    zone = _pop_str(gcp, "zone")
    gce = _pop_map(gcp, "gce") or {}
    instance_id = _pop_str(gce, "instanceId")
    return Identity(
        platform="gcp",
        region=region,
        zone=zone,
        instance_id=instance_id,
        extra={**_flat(gcp), **_flat(gce, "gce")},
    )


def _azure(azure: JSON) -> Identity:
    compute = _pop_map(azure, "compute") or {}
    instance_id = _pop_str(compute, "instanceId")
    return Identity(
        platform="azure",
        instance_id=instance_id,
        extra={**_flat(azure), **_flat(compute, "compute")},
    )


_SPEC_DECODERS = (("aws", _aws), ("jwt", _jwt), ("gcp", _gcp), ("azure", _azure))


def _text(value: object) -> bool:
    return type(value) is str and value != ""


def _plain_role(body: JSON) -> tuple[bool, str | None]:
    """`iamRole` read directly: (usable, name) for absent, `{name: ...}` or a string."""
    if "iamRole" not in body:
        return True, None
    role = body["iamRole"]
    if _text(role):
        return True, role
    if type(role) is dict and len(role) == 1 and _text(role.get("name")):
        return True, role["name"]
    return False, None


def _as_written(spec_identity: JSON) -> Identity | None:
    """The identity of the shapes the onboarding endpoint writes, read without the
    general decoder: EC2, ECS or JWT with every field a non-empty string under its
    JSON name and nothing else. None for anything else (snake_case spellings, numbers,
    unknown or missing fields), which the general decoder reads.

    It gives exactly what the general decoder would (a test checks that on generated
    shapes); it exists because `list` decodes every WAR and the general decoder's
    popping and flattening was a third of a row's cost.
    """
    aws = spec_identity.get("aws")
    if type(aws) is dict:
        if len(aws) != 5:
            return None
        partition, account = aws.get("partition"), aws.get("account")
        region, zone = aws.get("region"), aws.get("zone")
        if not (_text(partition) and _text(account) and _text(region) and _text(zone)):
            return None
        common = (partition, account, region, zone)  # Identity's fields after `platform`
        ec2 = aws.get("ec2")
        if type(ec2) is dict:
            usable, role = _plain_role(ec2)
            instance_id = ec2.get("instanceId")
            if not usable or not _text(instance_id) or len(ec2) != 1 + ("iamRole" in ec2):
                return None
            return Identity("ec2", *common, instance_id=instance_id, iam_role=role)
        ecs = aws.get("ecs")
        if type(ecs) is dict:
            usable, role = _plain_role(ecs)
            cluster, task_id = ecs.get("cluster"), ecs.get("taskId")
            if not (usable and _text(cluster) and _text(task_id)):
                return None
            if len(ecs) != 2 + ("iamRole" in ecs):
                return None
            return Identity("ecs", *common, ecs_cluster=cluster, task_id=task_id, iam_role=role)
        return None
    jwt = spec_identity.get("jwt")
    if type(jwt) is dict:
        issuer, subject = jwt.get("issuer"), jwt.get("subject")
        attributes = jwt.get("attributes", {})
        if not (_text(issuer) and _text(subject)) or len(jwt) != 2 + ("attributes" in jwt):
            return None
        if type(attributes) is not dict or not all(
            type(k) is str and _text(v) for k, v in attributes.items()
        ):
            return None
        return Identity(platform="jwt", issuer=issuer, subject=subject, attributes=dict(attributes))
    return None


def identity_from_spec(spec_identity: object) -> Identity | None:
    """Decode `spec.identity`; None when it is missing or empty. Never raises.

    Both the JSON spelling (`instanceId`, `taskId`, `iamRole`) and the snake_case one
    seen in the TSB docs (`instance_id`, ...) are read; `iamRole` may be `{name: ...}`
    or a plain string. `aws` (with `ec2` or `ecs`), `jwt`, `gcp` and `azure` decode to
    their platform; any other content becomes platform `unknown` with every field kept
    in `extra`. Should several platforms appear, the first of aws, jwt, gcp, azure wins.
    Fields the platform does not define, or whose value has the wrong shape, are kept
    in `extra` rather than dropped.
    """
    if type(spec_identity) is dict and len(spec_identity) == 1:
        written = _as_written(spec_identity)
        if written is not None:
            return written
    if not (type(spec_identity) is dict or isinstance(spec_identity, Mapping)):
        return None
    present = {str(k): v for k, v in spec_identity.items() if v is not None}
    if not present:
        return None
    try:
        for key, decode in _SPEC_DECODERS:
            body = present.get(key)
            if type(body) is dict or isinstance(body, Mapping):
                return decode(dict(body))
        return Identity(platform="unknown", extra=_flat(present))
    except Exception:  # a shape nobody foresaw: one odd object must not break a listing
        return Identity(platform="unknown")
