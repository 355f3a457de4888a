"""What `kubectl war list` shows: its columns, filters and sort orders (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from kubectl_war.durations import human_duration
from kubectl_war.render import NONE, Cell
from kubectl_war.war import War

SORT_KEYS = ("name", "age", "group", "zone")
BASE_COLUMNS = ("NAME", "GROUP", "PLATFORM", "INSTANCE", "ZONE", "IP", "AGENT CONNECTED", "AGE")
WIDE_COLUMNS = ("ACCOUNT", "REGION", "AGENT", "ISTIO", "CONNECTED TO")


def headers(*, all_namespaces: bool, wide: bool) -> list[str]:
    cols = list(BASE_COLUMNS)
    if all_namespaces:
        cols.insert(0, "NAMESPACE")
    if wide:
        cols.extend(WIDE_COLUMNS)
    return cols


def _or_none(value: str | None) -> str:
    return value if value else NONE


def agent_cell(war: War) -> Cell:
    state = war.connected
    if state is None:
        return Cell(NONE, "dim")
    style = {"True": "good", "False": "bad"}.get(state, "warn")
    return Cell(state, style)


def age_cell(war: War, now: datetime) -> str:
    age = war.age(now)
    return human_duration(age) if age is not None else NONE


def istio_cell(war: War) -> str:
    version, revision = war.istio_version, war.istio_revision
    if not version:
        return NONE
    return f"{version}/{revision}" if revision else version


def row(war: War, now: datetime, *, all_namespaces: bool, wide: bool) -> list[str]:
    ident = war.identity
    cells: list[str] = [
        war.name,
        _or_none(war.group),
        ident.platform,
        _or_none(ident.instance),
        _or_none(ident.zone_label),
        _or_none(war.ip),
        agent_cell(war),
        age_cell(war, now),
    ]
    if all_namespaces:
        cells.insert(0, war.namespace)
    if wide:
        cells += [
            _or_none(ident.account),
            _or_none(ident.region),
            _or_none(war.agent_version),
            istio_cell(war),
            _or_none(war.connected_to),
        ]
    return cells


def select(
    wars: Iterable[War],
    *,
    groups: Sequence[str] = (),
    connected: bool | None = None,
) -> list[War]:
    """WARs of the given WorkloadGroups (any of them) and agent state (AND between flags)."""
    wanted = set(groups)
    out = []
    for war in wars:
        if wanted and war.group not in wanted:
            continue
        if connected is True and not war.is_connected:
            continue
        if connected is False and war.is_connected:
            continue
        out.append(war)
    return out


def sort(wars: list[War], key: str | None) -> list[War]:
    """Stable sorts; the server's namespace/name order breaks ties."""
    if key is None or key == "name":
        return sorted(wars, key=lambda w: (w.name, w.namespace)) if key else wars
    if key == "age":
        # Oldest first, like `kubectl get --sort-by=.metadata.creationTimestamp`.
        return sorted(wars, key=lambda w: (w.created is None, w.created or datetime.min))
    if key == "group":
        return sorted(wars, key=lambda w: (w.group or "", w.namespace, w.name))
    if key == "zone":
        return sorted(wars, key=lambda w: (w.identity.zone_label or "", w.namespace, w.name))
    raise ValueError(key)
