"""The `kubectl war describe` view of one WAR, laid out like `kubectl describe` (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from kubectl_war.assess import Facts, countdown
from kubectl_war.durations import format_timestamp, human_duration, parse_timestamp
from kubectl_war.freshness import Freshness
from kubectl_war.jsondata import child
from kubectl_war.render import NONE, kv_lines, terminal_safe
from kubectl_war.sidecars.join import Sidecar
from kubectl_war.sidecars.records import MISSING, type_order
from kubectl_war.war import War

_NEVER = datetime.min.replace(tzinfo=timezone.utc)
PLATFORM_WORDS = {
    "ec2": "AWS EC2",
    "ecs": "AWS ECS",
    "jwt": "JWT (on-premise)",
    "gcp": "GCP",
    "azure": "Azure",
    "unknown": "unknown",
}


def _when(t: datetime | None, now: datetime) -> str:
    if t is None:
        return NONE
    return f"{format_timestamp(t)} ({human_duration((now - t).total_seconds())} ago)"


def _map_lines(label: str, values: Mapping[str, str], width: int) -> list[str]:
    """`Labels:  a=b` with further pairs aligned beneath, `<none>` when empty."""
    head = (label + ":").ljust(width)
    if not values:
        return [head + NONE]
    pairs = [f"{k}={v}" for k, v in sorted(values.items())]
    return [head + pairs[0]] + [" " * width + p for p in pairs[1:]]


def _section(title: str, pairs: Sequence[tuple[str, str]], extra: Sequence[str] = ()) -> list[str]:
    return [f"{title}:", *kv_lines(pairs, indent=2), *extra]


def identity_section(war: War) -> list[str]:
    ident = war.identity
    pairs = [("Platform", PLATFORM_WORDS.get(ident.platform, ident.platform))]
    pairs += list(ident.fields())
    source = {
        "spec": "spec.identity (verified by the onboarding endpoint)",
        "name": "decoded from the name (spec.identity is missing)",
    }.get(war.identity_source or "", "unknown: spec.identity is missing and the name is unknown")
    pairs.append(("Source", source))
    extra = []
    mismatch = identity_mismatch(war)
    if mismatch:
        extra.append(f"  Warning: {mismatch}")
    return _section("Identity", pairs, extra)


def identity_mismatch(war: War) -> str | None:
    """A warning when the name and the verified spec.identity describe different machines."""
    spec, named = war.spec_identity, war.name_identity
    if spec is None or named is None:
        return None
    spec_part, name_part = spec.name_part(), named.name_part()
    if spec_part and name_part and spec_part != name_part:
        return (
            f"the name says {name_part} but spec.identity (verified) says {spec_part}; "
            "trust spec.identity"
        )
    if spec.platform != named.platform:
        return (
            f"the name says platform {named.platform} but spec.identity (verified) says "
            f"{spec.platform}; trust spec.identity"
        )
    return None


def group_section(war: War, facts: Facts, now: datetime) -> list[str]:
    pairs = [("Name", war.group or NONE)]
    extra: list[str] = []
    if facts.group_error is not None:
        pairs += [("Exists", Freshness.UNKNOWN.value), ("Up To Date", Freshness.UNKNOWN.value)]
        extra.append(f"  Unknown: WorkloadGroups cannot be read ({facts.group_error})")
        return _section("Workload Group", pairs, extra)
    if facts.group_exists is None:
        return _section("Workload Group", pairs)
    pairs.append(("Exists", "Yes" if facts.group_exists else "No"))
    last = facts.last_change
    if facts.group_exists and last is not None:
        if last.time is not None:
            pairs.append(("Spec Changed", _when(last.time, now)))
        else:
            pairs.append(("Spec Changed", "unknown (no managedFields and generation > 1)"))
    fresh = facts.freshness
    if fresh is not None:
        pairs.append(("Up To Date", fresh.value))
    if fresh is Freshness.OUTDATED:
        by = facts.outdated_by
        when = f"{human_duration(by)} after" if by is not None and by > 0 else "when"
        extra.append(
            f"  Outdated: WorkloadGroup spec changed {when} this workload joined; "
            f"run kubectl war rollout {war.group} -n {war.namespace}"
        )
    elif fresh is Freshness.NO_GROUP:
        extra.append(f"  Warning: WorkloadGroup {war.group or NONE} does not exist")
    elif fresh is Freshness.UNKNOWN:
        extra.append("  Unknown: cannot tell when the WorkloadGroup's spec last changed")
    return _section("Workload Group", pairs, extra)


def agent_section(war: War, facts: Facts, now: datetime, grace_seconds: float) -> list[str]:
    pairs = [("Connected", war.connected or NONE)]
    if war.transition_time is not None:
        pairs.append(("Since", _when(war.transition_time, now)))
    if war.condition_reason:
        pairs.append(("Reason", war.condition_reason))
    if war.condition_message:
        pairs.append(("Message", war.condition_message))
    pairs.append(("Version", war.agent_version or NONE))
    pairs.append(("Connected To", war.connected_to or NONE))
    if facts.removal_in is not None:
        pairs.append(
            (
                "Removal",
                f"{countdown(facts.removal_in)} (grace period {human_duration(grace_seconds)})",
            )
        )
    return _section("Agent", pairs)


def registration_section(war: War) -> list[str]:
    lines = ["Registration:"]
    if war.addresses:
        lines.append("  Addresses:")
        lines += [f"    {a.ip} ({a.type or 'unknown type'})" for a in war.addresses]
    else:
        lines.append(f"  Addresses:        {NONE}")
    istio = NONE
    if war.istio_version:
        istio = f"{war.istio_version} (revision {war.istio_revision or 'default'})"
    lines += kv_lines(
        [("Connected Over", war.connected_over or NONE), ("Sidecar Istio", istio)], indent=2
    )
    lines += [f"  {line}" for line in _map_lines("Workload Labels", war.workload_labels, 18)]
    return lines


def sidecar_section(
    sidecar: Sidecar | None, source: str | None, skipped: Sequence[str] = ()
) -> list[str]:
    """The Sidecar block: the proxy's sync state as istiod sees it, and where that came from.

    Args:
        sidecar: the joined sidecar; None when no source answered.
        source: the source that answered, in words (`SidecarSource.describe()`).
        skipped: why each source `auto` tried did not answer.
    """
    if sidecar is None or source is None:
        lines = ["Sidecar:", f"  Source:  {NONE} (no proxy-status source answered)"]
        return lines + [f"    {reason}" for reason in skipped]
    status = sidecar.status
    state = sidecar.state or NONE
    if status is None:
        why = (
            "the agent is connected, but no istiod knows this proxy"
            if state == MISSING
            else "not connected to any istiod"
        )
        state = f"{state} ({why})"
    pairs = [("Proxy", sidecar.proxy), ("State", state)]
    if status is not None:
        version = status.shown_version or NONE
        if status.version_mismatch and status.version:
            version += " (the proxy's Envoy version: istiod did not report its Istio version)"
        pairs += [
            ("Istiod", status.istiod or NONE),
            ("Istio Version", version),
            ("Cluster", status.cluster or NONE),
        ]
    pairs.append(("Source", source))
    lines = _section("Sidecar", pairs)
    if status is not None:
        lines.append("  Types:" if status.types else f"  Types:  {NONE}")
        types = sorted(status.types, key=type_order)
        cells = []
        for name in types:
            detail = status.details.get(name)
            cells.append(
                (name, f"{status.types[name]} ({detail})" if detail else status.types[name])
            )
        lines += kv_lines(cells, indent=4)
    return lines


def events_section(events: Sequence[Mapping[str, Any]], now: datetime) -> list[str]:
    if not events:
        return [f"Events:  {NONE}"]
    rows = [
        ("Type", "Reason", "Age", "From", "Message"),
        ("----", "------", "----", "----", "-------"),
    ]
    for ev in sorted(events, key=_event_time):
        t = _event_time(ev)
        age = human_duration((now - t).total_seconds()) if t != _NEVER else NONE
        source = child(ev, "source")
        rows.append(
            (
                str(ev.get("type") or ""),
                str(ev.get("reason") or ""),
                age,
                str(source.get("component") or ev.get("reportingComponent") or ""),
                str(ev.get("message") or "").strip(),
            )
        )
    safe = [tuple(map(terminal_safe, r)) for r in rows]  # escaped before widths are taken
    widths = [max(len(r[i]) for r in safe) for i in range(4)]
    lines = ["Events:"]
    for r in safe:
        lines.append(
            (
                "  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:4])) + "  " + r[4]
            ).rstrip()
        )
    return lines


def _event_time(ev: Mapping[str, Any]) -> datetime:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        t = parse_timestamp(ev.get(key))
        if t is not None:
            return t
    meta = child(ev, "metadata")
    t = parse_timestamp(meta.get("creationTimestamp"))
    return t if t is not None else _NEVER


def render(
    war: War,
    facts: Facts,
    events: Sequence[Mapping[str, Any]] | None,
    now: datetime,
    grace_seconds: float,
    sidecar: Sequence[str] = (),
    admitted: str | None = None,
) -> str:
    """The text view; `admitted` is the rule that would admit the workload again now
    (`Admission.words()`), None when the policies could not tell."""
    width = 14
    lines = [
        "Name:".ljust(width) + war.name,
        "Namespace:".ljust(width) + war.namespace,
        *_map_lines("Labels", war.labels, width),
        *_map_lines("Annotations", war.annotations, width),
        "API Version:".ljust(width) + str(war.obj.get("apiVersion") or NONE),
        "Kind:".ljust(width) + str(war.obj.get("kind") or "WorkloadAutoRegistration"),
        "Created:".ljust(width) + _when(war.created, now),
        "UID:".ljust(width) + (war.uid or NONE),
        *identity_section(war),
        *group_section(war, facts, now),
        *(["Admitted by:".ljust(width) + admitted] if admitted is not None else []),
        *agent_section(war, facts, now, grace_seconds),
        *registration_section(war),
        *sidecar,
        # Events that could not be read leave the section out, as in kubectl's describe.
        *(events_section(events, now) if events is not None else []),
    ]
    # The one place describe's text is made: labels, messages and events came from the
    # cluster, and none of them may drive the terminal or forge a line.
    return "\n".join(map(terminal_safe, lines)) + "\n"
