"""Who a workload is (`Identity`), and what its WAR name encodes.

`spec.identity`, the identity the onboarding plane verified, is read in identity_spec.py.

The TSB endpoint names a WorkloadAutoRegistration `<workload-group>-<identity part>`:

- EC2: `aws-<partition>-<account>-<zone>-ec2-<instance-id>`
- ECS: `aws-<partition>-<account>-<zone>-ecs-<cluster>-<task-id>`
- JWT: `jwt-<issuer short name>--<subject>`

Group names may themselves contain hyphens and words such as `aws` or `jwt`, so a name
can have more than one reading; `decode_name` returns them all and never guesses.
Standard library only: `kubectl war decode` imports this and must start fast.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kubectl_war.errors import UsageError, quote_input

#: `typing` is read only by type checkers here: importing it costs some 5 ms of start-up on
#: the paths that run without click (`kubectl war --help`, `decode`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from kubectl_war.jsondata import JSON

__all__ = [
    "PLATFORMS",
    "Identity",
    "NameReading",
    "decode_name",
    "group_from_name",
]

PLATFORMS = ("ec2", "ecs", "jwt", "gcp", "azure", "unknown")

_PLATFORM_LABELS = {
    "ec2": "AWS EC2",
    "ecs": "AWS ECS",
    "jwt": "JWT",
    "gcp": "GCP",
    "azure": "Azure",
}


#: The fields of an Identity that make its hash, in order.
_HASHED = (
    "platform", "partition", "account", "region", "zone", "instance_id", "ecs_cluster",
    "task_id", "iam_role", "issuer", "issuer_short", "subject",
)  # fmt: skip
_set = object.__setattr__


class Identity:
    """One workload's identity, from `spec.identity` or decoded from a WAR name.

    Fields a source does not carry are None. Immutable, compared field by field;
    `attributes` (JWT attributes) and `extra` (gcp/azure/unknown fields with no place
    above, flattened as "a.b" -> "value") are left out of the hash (they are mappings),
    so identities can still be set members and dict keys.

    A plain class rather than a dataclass: `dataclasses` imports `inspect`, some 5 ms
    of `kubectl war decode`'s start-up; slots also keep 50,000 of them small.
    """

    __slots__ = (*_HASHED, "attributes", "extra")

    platform: str  # one of PLATFORMS
    partition: str | None
    account: str | None
    region: str | None
    zone: str | None
    instance_id: str | None
    ecs_cluster: str | None
    task_id: str | None
    iam_role: str | None
    issuer: str | None  # JWT issuer URL, from spec.identity
    issuer_short: str | None  # JWT issuer short name, from a WAR name
    subject: str | None
    attributes: Mapping[str, str]
    extra: Mapping[str, str]

    def __init__(
        self,
        platform: str,
        partition: str | None = None,
        account: str | None = None,
        region: str | None = None,
        zone: str | None = None,
        instance_id: str | None = None,
        ecs_cluster: str | None = None,
        task_id: str | None = None,
        iam_role: str | None = None,
        issuer: str | None = None,
        issuer_short: str | None = None,
        subject: str | None = None,
        attributes: Mapping[str, str] | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        values = (
            platform, partition, account, region, zone, instance_id, ecs_cluster, task_id,
            iam_role, issuer, issuer_short, subject,
            {} if attributes is None else attributes, {} if extra is None else extra,
        )  # fmt: skip
        for name, value in zip(self.__slots__, values):
            _set(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: an Identity is immutable")

    __delattr__ = __setattr__  # type: ignore[assignment]

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in _HASHED))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Identity({fields})"

    def replace(self, **changes: Any) -> Identity:
        """A copy with `changes` made (`dataclasses.replace`'s counterpart)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return Identity(**{**values, **changes})

    @property
    def platform_label(self) -> str:
        """The platform in plain words: `AWS EC2`, `AWS ECS`, `JWT`, `GCP`, `Azure`."""
        return _PLATFORM_LABELS.get(self.platform, self.platform)

    @property
    def instance(self) -> str | None:
        """The INSTANCE cell: what names this one machine or task.

        EC2, GCE and Azure: the instance id; ECS: `cluster/taskId` (the task id alone
        when the cluster is unknown); JWT: the subject.
        """
        if self.platform == "ecs":
            if self.task_id and self.ecs_cluster:
                return f"{self.ecs_cluster}/{self.task_id}"
            return self.task_id
        if self.platform == "jwt":
            return self.subject
        return self.instance_id

    @property
    def zone_label(self) -> str | None:
        """The ZONE cell: where the workload runs.

        AWS and GCP: the zone, else the region. JWT: the `region` attribute, else the
        `datacenter` attribute (region wins because it is the coarser, more commonly
        set label). Azure and unknown platforms: None.
        """
        if self.platform in ("ec2", "ecs", "gcp"):
            return self.zone or self.region
        if self.platform == "jwt":
            return self.attributes.get("region") or self.attributes.get("datacenter") or None
        return None

    def fields(self) -> list[tuple[str, str]]:
        """Rows for `describe`, in plain words, skipping what is unknown.

        JWT attributes follow as `Attribute <key>` rows sorted by key; `extra` fields
        follow with their camelCase keys split into words (`projectId` → `Project ID`).
        """
        rows: list[tuple[str, str | None]] = []
        if self.platform in ("ec2", "ecs") or self.partition or self.account:
            rows += [("Partition", self.partition), ("Account", self.account)]
        rows += [("Region", self.region), ("Zone", self.zone)]
        if self.platform == "ecs":
            rows += [("Cluster", self.ecs_cluster), ("Task ID", self.task_id)]
        else:
            rows.append(("Instance ID", self.instance_id))
        rows += [
            ("IAM Role", self.iam_role),
            ("Issuer", self.issuer),
            ("Issuer Short Name", self.issuer_short),
            ("Subject", self.subject),
        ]
        rows += [(f"Attribute {k}", v) for k, v in sorted(self.attributes.items())]
        rows += [(_words(k), v) for k, v in sorted(self.extra.items())]
        return [(label, value) for label, value in rows if value]

    def name_part(self) -> str | None:
        """The identity part of the WAR name this identity would produce, if known.

        Used to check a WAR's name against its verified identity. EC2 and ECS need
        partition, account, zone and instance (or cluster and task); JWT needs the
        issuer's short name, which only a WAR name carries. Other platforms: None.
        """
        aws = self.platform in ("ec2", "ecs")
        if aws and not (self.partition and self.account and self.zone):
            return None
        prefix = f"aws-{self.partition}-{self.account}-{self.zone}"
        if self.platform == "ec2" and self.instance_id:
            return f"{prefix}-ec2-{self.instance_id}"
        if self.platform == "ecs" and self.ecs_cluster and self.task_id:
            return f"{prefix}-ecs-{self.ecs_cluster}-{self.task_id}"
        if self.platform == "jwt" and self.issuer_short and self.subject:
            return f"jwt-{self.issuer_short}--{self.subject}"
        return None

    def to_dict(self) -> JSON:
        """A JSON-friendly dict with lowerCamel keys, leaving out what is unknown."""
        out: JSON = {"platform": self.platform}
        for key, value in (
            ("partition", self.partition),
            ("account", self.account),
            ("region", self.region),
            ("zone", self.zone),
            ("instanceId", self.instance_id),
            ("ecsCluster", self.ecs_cluster),
            ("taskId", self.task_id),
            ("iamRole", self.iam_role),
            ("issuer", self.issuer),
            ("issuerShort", self.issuer_short),
            ("subject", self.subject),
        ):
            if value is not None:
                out[key] = value
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        if self.extra:
            out["extra"] = dict(self.extra)
        return out


# --- WAR names --------------------------------------------------------------------------

_PARTITION = r"(?P<partition>aws|aws-cn|aws-us-gov)"
_ACCOUNT = r"(?P<account>[0-9]{12})"
# Region + letter (us-east-2b, us-gov-west-1a); Local Zones (us-west-2-lax-1a) and
# Wavelength Zones (us-east-1-wl1-bos-wlz-1) belong to the region they start with.
# The suffixes are kept tight so that a zone never swallows "-ecs-" and a cluster name.
_ZONE = (
    r"(?P<zone>(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)"
    r"(?:[a-z]|-[a-z]{3}-[0-9]+[a-z]|-wl[0-9]+-[a-z]{3}-wlz-[0-9]+))"
)
_AWS_PREFIX = f"aws-{_PARTITION}-{_ACCOUNT}-{_ZONE}"
_EC2 = re.compile(_AWS_PREFIX + r"-ec2-(?P<instance_id>i-(?:[0-9a-f]{17}|[0-9a-f]{8}))", re.ASCII)
# ECS cluster names allow hyphens (and underscores); the task id is the last 32 hex.
_ECS = re.compile(
    _AWS_PREFIX
    + r"-ecs-(?P<ecs_cluster>[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)-(?P<task_id>[0-9a-f]{32})",
    re.ASCII,
)
# An issuer short name never contains "--", so the first "--" ends it.
_JWT = re.compile(
    r"jwt-(?P<issuer_short>[0-9a-z]+(?:-[0-9a-z]+)*)--(?P<subject>[0-9a-z.-]+)", re.ASCII
)
# WorkloadGroup names are DNS labels.
_GROUP = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", re.ASCII)
# Where an identity part can start: after the group and its hyphen.
_MARKER = re.compile(r"-(?=aws-|jwt-)")
# `kubectl get -o name` output, so a pasted line decodes too.
_RESOURCE_PREFIX = re.compile(
    r"(?:war|wars|workloadautoregistrations?)(?:\.runtime\.onboarding\.tetrate\.io)?/"
)

# No WAR name can be longer: it is a Kubernetes object name.
MAX_NAME_LENGTH = 253

_FORMATS = (
    "<group>-aws-<partition>-<account>-<zone>-ec2-<instance-id>, "
    "<group>-aws-<partition>-<account>-<zone>-ecs-<cluster>-<task-id> "
    "or <group>-jwt-<issuer>--<subject>"
)


# Each platform's name format; its groups are named after the Identity fields they fill.
_NAME_FORMATS = (("ec2", _EC2), ("ecs", _ECS), ("jwt", _JWT))


class NameReading:
    """One way to read a WAR name: the WorkloadGroup and the identity it encodes."""

    __slots__ = ("group", "identity")

    group: str
    identity: Identity

    def __init__(self, group: str, identity: Identity) -> None:
        _set(self, "group", group)
        _set(self, "identity", identity)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a NameReading is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.group, self.identity) == (other.group, other.identity)

    def __hash__(self) -> int:
        return hash((self.group, self.identity))

    def __repr__(self) -> str:
        return f"NameReading(group={self.group!r}, identity={self.identity!r})"


def _decode_part(part: str) -> Identity | None:
    """Read the identity part of a name (everything after `<group>-`)."""
    for platform, pattern in _NAME_FORMATS:
        m = pattern.fullmatch(part)
        if m is not None:
            # The formats' named groups are all Identity fields that take a str (or None).
            return Identity(platform=platform, **m.groupdict())  # type: ignore[arg-type]
    return None


_quote = quote_input


def decode_name(name: str, *, group: str | None = None) -> list[NameReading]:
    """Every reading of a WAR name that the known formats allow, shortest group first.

    `ratings-jwt-x-jwt-corp--vm1` has two readings (group `ratings` with issuer
    `x-jwt-corp`, and group `ratings-jwt-x` with issuer `corp`); only the caller,
    knowing the WorkloadGroup, can choose. Each group gives at most one reading.
    Surrounding whitespace and a `workloadautoregistration.<api group>/` prefix (as
    `kubectl get -o name` prints) are ignored.

    Args:
        name: the WAR name.
        group: the WorkloadGroup, when known: only the reading with that group is
            returned, and the group name is not checked against DNS-label syntax.

    Raises:
        UsageError: no format explains the name (or none does with `group`).
    """
    text = name.strip() if isinstance(name, str) else ""
    m = _RESOURCE_PREFIX.match(text)
    if m is not None:
        text = text[m.end() :]
    if len(text) > MAX_NAME_LENGTH:
        shown = _quote(name, 60)
        raise UsageError(
            f"cannot decode {shown}: a WorkloadAutoRegistration name has at most "
            f"{MAX_NAME_LENGTH} characters"
        )
    shown = _quote(name if isinstance(name, str) else repr(name), MAX_NAME_LENGTH)

    if group is not None:
        prefix = group + "-"
        ident = _decode_part(text[len(prefix) :]) if text.startswith(prefix) and group else None
        if ident is not None:
            return [NameReading(group, ident)]
        others = " or ".join(_quote(r.group) for r in _readings(text))
        hint = f" (it reads as WorkloadGroup {others})" if others else f": expected {_FORMATS}"
        raise UsageError(f"cannot decode {shown} as a name in WorkloadGroup {_quote(group)}{hint}")

    readings = _readings(text)
    if not readings:
        raise UsageError(f"cannot decode {shown}: expected {_FORMATS}")
    return readings


def _readings(text: str) -> list[NameReading]:
    out = []
    # Positions only ever grow, so the readings come out shortest group first.
    for m in _MARKER.finditer(text):
        grp = text[: m.start()]
        if _GROUP.fullmatch(grp) is None:
            continue
        ident = _decode_part(text[m.end() :])
        if ident is not None:
            out.append(NameReading(grp, ident))
    return out


def group_from_name(name: str) -> str | None:
    """The WorkloadGroup a WAR name encodes, when exactly one reading exists; else None."""
    try:
        readings = decode_name(name)
    except UsageError:
        return None
    return readings[0].group if len(readings) == 1 else None


_ACRONYMS = {"id": "ID", "ip": "IP", "iam": "IAM", "aws": "AWS", "ecs": "ECS", "ec2": "EC2"}


def _words(key: str) -> str:
    """`projectNumber` → `Project Number`, `gce.instanceId` → `Gce Instance ID`."""
    parts = re.split(r"[._\s]+|(?<=[a-z0-9])(?=[A-Z])", key)
    return " ".join(_ACRONYMS.get(p.lower(), p[:1].upper() + p[1:]) for p in parts if p)
