"""Whether a WAR predates its WorkloadGroup's latest spec change (pure).

A WAR carries a snapshot of its WorkloadGroup taken when the workload joined, and no
public field says which version. What can be known: when the WAR was created, and
when the WorkloadGroup's spec last changed, read from the API server's managedFields
bookkeeping (or from `generation: 1`, meaning the spec never changed). When neither
tells, the answer is "unknown": this module never guesses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

from kubectl_war.durations import parse_timestamp

__all__ = [
    "Freshness",
    "LastChange",
    "last_spec_change",
    "outdated_by",
    "war_freshness",
]

MANAGED_FIELDS = "managedFields"
CREATION_TIMESTAMP = "creationTimestamp"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class LastChange:
    """When a WorkloadGroup's spec last changed, and how that is known.

    Attributes:
        time: an aware UTC datetime, or None when it cannot be known.
        source: `managedFields` (the newest spec-touching entry), `creationTimestamp`
            (the spec never changed after creation) or `unknown`.
    """

    time: datetime | None
    source: str


class Freshness(str, Enum):
    """Whether a workload joined after its WorkloadGroup's latest spec change."""

    UP_TO_DATE = "Yes"
    OUTDATED = "No"
    UNKNOWN = "Unknown"
    NO_GROUP = "NoGroup"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def last_spec_change(workload_group: Mapping[str, object]) -> LastChange:
    """When the WorkloadGroup's spec last changed, read from its metadata.

    In order:

    1. `generation: 1` means the spec never changed after creation (the API server
       bumps `generation` on every spec change), so the answer is
       `creationTimestamp`. This wins over managedFields, whose times also move when
       a manager that owns spec fields edits only labels or annotations.
    2. Otherwise the newest `time` among `metadata.managedFields` entries whose
       `fieldsV1` has a top-level `f:spec`, skipping `subresource: status` entries
       (those record status writes, never spec changes). This can be later than the
       real change, never earlier, so a mistake only ever errs towards "outdated".
    3. Otherwise (no usable managedFields and `generation` above 1, absent or
       malformed) the time is unknown: without `generation` nothing proves the spec
       never changed.

    Malformed entries are skipped; this never raises.
    """
    meta = workload_group.get("metadata") if isinstance(workload_group, Mapping) else None
    if not isinstance(meta, Mapping):
        return LastChange(None, UNKNOWN)

    if _int(meta.get("generation")) == 1:
        created = parse_timestamp(meta.get("creationTimestamp"))
        if created is not None:
            return LastChange(created, CREATION_TIMESTAMP)

    newest: datetime | None = None
    entries = meta.get("managedFields")
    if isinstance(entries, (list, tuple)):
        for entry in entries:
            if not isinstance(entry, Mapping) or entry.get("subresource") == "status":
                continue
            fields = entry.get("fieldsV1")
            if not isinstance(fields, Mapping) or "f:spec" not in fields:
                continue
            when = parse_timestamp(entry.get("time"))
            if when is not None and (newest is None or when > newest):
                newest = when
    if newest is not None:
        return LastChange(newest, MANAGED_FIELDS)
    return LastChange(None, UNKNOWN)


def _whole_seconds(dt: datetime) -> datetime:
    # Kubernetes timestamps have whole-second precision; naive datetimes mean UTC.
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0)


def war_freshness(
    war_created: datetime | None,
    group: Mapping[str, object] | None,
    *,
    last_change: LastChange | None = None,
) -> tuple[Freshness, LastChange | None]:
    """Judge one WAR against its WorkloadGroup.

    Args:
        war_created: the WAR's creationTimestamp (when the workload joined).
        group: the WorkloadGroup object, or None when it does not exist.
        last_change: `last_spec_change(group)` when the caller already has it (every
            WAR of a group shares it).

    Returns:
        `(NO_GROUP, None)` without a WorkloadGroup; `UNKNOWN` when either time is
        unknown; `OUTDATED` when the WAR was created before or in the same second as
        the spec's last change (timestamps have whole seconds, so the same second
        cannot prove the WAR saw the change); else `UP_TO_DATE`. The LastChange is
        returned so callers can show how it was known.
    """
    if group is None:
        return Freshness.NO_GROUP, None
    last = last_change if last_change is not None else last_spec_change(group)
    if war_created is None or last.time is None:
        return Freshness.UNKNOWN, last
    if _whole_seconds(war_created) <= _whole_seconds(last.time):
        return Freshness.OUTDATED, last
    return Freshness.UP_TO_DATE, last


def outdated_by(
    war_created: datetime | None, last_change: LastChange | datetime | None
) -> float | None:
    """Seconds the WorkloadGroup's spec change came after the workload joined.

    For "WorkloadGroup spec changed 10m after this workload joined". 0.0 when both
    fall in the same second; None when either time is unknown or the change came
    first (the WAR is not outdated by it).
    """
    changed = last_change.time if isinstance(last_change, LastChange) else last_change
    if war_created is None or changed is None:
        return None
    delta = (_whole_seconds(changed) - _whole_seconds(war_created)).total_seconds()
    return delta if delta >= 0 else None
