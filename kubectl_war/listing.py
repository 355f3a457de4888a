"""What `kubectl war list` shows: its columns, filters and sort orders (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubectl_war.assess import Facts, agent_state
from kubectl_war.durations import human_duration
from kubectl_war.errors import UsageError
from kubectl_war.freshness import Freshness
from kubectl_war.render import NONE, Cell
from kubectl_war.war import AgentState, War

if TYPE_CHECKING:
    from kubectl_war.sidecars.join import Sidecar

SORT_KEYS = ("name", "age", "group", "zone")
BASE_COLUMNS = (
    "NAME",
    "GROUP",
    "PLATFORM",
    "INSTANCE",
    "ZONE",
    "IP",
    "AGENT CONNECTED",
    "UP-TO-DATE",
    "AGE",
)
FRESH_COLUMN = "UP-TO-DATE"
WIDE_COLUMNS = ("ACCOUNT", "REGION", "AGENT", "ISTIO", "CONNECTED TO")
# Shown when a proxy-status source was read: SIDECAR before AGE, ISTIOD last in -o wide.
SIDECAR_COLUMN = "SIDECAR"
ISTIOD_COLUMN = "ISTIOD"


def headers(*, all_namespaces: bool, wide: bool, sidecar: bool = False) -> list[str]:
    cols = list(BASE_COLUMNS)
    if sidecar:
        cols.insert(cols.index("AGE"), SIDECAR_COLUMN)
    if all_namespaces:
        cols.insert(0, "NAMESPACE")
    if wide:
        cols.extend(WIDE_COLUMNS)
        if sidecar:
            cols.append(ISTIOD_COLUMN)
    return cols


def _or_none(value: str | None) -> str:
    return value if value else NONE


def agent_cell(war: War, facts: Facts) -> Cell:
    state = war.connected
    if state is None:
        return Cell(NONE, "dim")
    style = {"True": "good", "False": "bad"}.get(state, "warn")
    return Cell(agent_state(war, facts), style)


def fresh_cell(facts: Facts) -> Cell:
    return freshness_cell(facts.freshness)


def freshness_cell(freshness: Freshness | None) -> Cell:
    """The UP-TO-DATE cell."""
    if freshness is None:
        return Cell(NONE, "dim")
    style = {
        Freshness.UP_TO_DATE: "good",
        Freshness.OUTDATED: "warn",
        Freshness.NO_GROUP: "bad",
    }.get(freshness)
    return Cell(freshness.value, style)


def age_cell(war: War, now: datetime) -> str:
    age = war.age(now)
    return human_duration(age) if age is not None else NONE


def sidecar_cell(sidecar: Sidecar | None) -> Cell:
    """`SYNCED`, `STALE`, `ERROR`, `NOT SENT`, `MISSING`, ...; `<none>` when neither the
    agent nor its sidecar is connected."""
    from kubectl_war.sidecars.records import STATE_STYLES

    if sidecar is None or sidecar.state is None:
        return Cell(NONE, "dim")
    return Cell(sidecar.state, STATE_STYLES.get(sidecar.state))


def istiod_cell(sidecar: Sidecar | None) -> str:
    status = sidecar.status if sidecar is not None else None
    return status.istiod if status is not None and status.istiod else NONE


def istio_cell(war: War, sidecar: Sidecar | None = None) -> str:
    """The sidecar's Istio version (and revision) the agent registered; `*` after the
    version when istiod reported the sidecar with istioctl's `*` (no Istio version known,
    so its proxy version stands in), as `1.19.0*`."""
    version, revision = war.istio_version, war.istio_revision
    status = sidecar.status if sidecar is not None else None
    if status is not None and status.version_mismatch and (version or status.version):
        version = f"{version or status.version}*"
    if not version:
        return NONE
    return f"{version}/{revision}" if revision else version


def row(
    war: War,
    facts: Facts,
    now: datetime,
    *,
    all_namespaces: bool,
    wide: bool,
    sidecar: bool = False,
) -> list[str]:
    """One table row; `sidecar` adds the SIDECAR (and, wide, ISTIOD) cells from facts."""
    ident = war.identity
    cells: list[str] = [
        war.name,
        _or_none(war.group),
        ident.platform,
        _or_none(ident.instance),
        _or_none(ident.zone_label),
        _or_none(war.ip),
        agent_cell(war, facts),
        fresh_cell(facts),
        age_cell(war, now),
    ]
    if sidecar:
        cells.insert(len(cells) - 1, sidecar_cell(facts.sidecar))
    if all_namespaces:
        cells.insert(0, war.namespace)
    if wide:
        cells += [
            _or_none(ident.account),
            _or_none(ident.region),
            _or_none(war.agent_version),
            istio_cell(war, facts.sidecar if sidecar else None),
            _or_none(war.connected_to),
        ]
        if sidecar:
            cells.append(istiod_cell(facts.sidecar))
    return cells


def agent_flag(connected: bool, disconnected: bool, unknown: bool) -> AgentState | None:
    """The agent state `--connected`, `--disconnected` or `--agent-unknown` selects (at
    most one of them)."""
    given = [
        (flag, state)
        for flag, state, on in (
            ("--connected", AgentState.CONNECTED, connected),
            ("--disconnected", AgentState.DISCONNECTED, disconnected),
            ("--agent-unknown", AgentState.UNKNOWN, unknown),
        )
        if on
    ]
    if len(given) > 1:
        raise UsageError(" and ".join(flag for flag, _ in given) + " exclude each other")
    return given[0][1] if given else None


def select(
    wars: Iterable[War],
    *,
    groups: Sequence[str] = (),
    agent: AgentState | None = None,
    older_than: float | None = None,
    now: datetime | None = None,
    outdated: bool = False,
    facts: Callable[[War], Facts] | None = None,
) -> list[War]:
    """The WARs matching every given filter (AND between flags, OR within --group).

    Args:
        agent: only WARs whose AgentConnected condition says this: CONNECTED (True),
            DISCONNECTED (False), UNKNOWN (no condition yet, or Unknown). A WAR whose
            agent never reported is never DISCONNECTED.
        older_than: with DISCONNECTED, only agents disconnected for longer than this,
            counted from the False condition's lastTransitionTime.
        outdated: only WARs older than their WorkloadGroup's last spec change.
        facts: how to assess a WAR (needed for `outdated`).
    """
    wanted = set(groups)
    out = []
    for war in wars:
        if wanted and war.group not in wanted:
            continue
        if agent is not None and war.agent_state is not agent:
            continue
        if older_than is not None:
            gone = war.disconnected_for(now) if now is not None else None
            if gone is None or gone <= older_than:
                continue
        if outdated and (facts is None or not facts(war).is_outdated):
            continue
        out.append(war)
    return out


def sort(wars: list[War], key: str | None) -> list[War]:
    """Stable sorts; the server's namespace/name order breaks ties."""
    if key is None:
        return wars
    return sorted(wars, key=lambda w: sort_key(w, key))


def sort_key(war: War, key: str | None) -> tuple[Any, ...]:
    """What `sort` orders a WAR by for `--sort-by key` (empty for the server's order)."""
    if key is None:
        return ()
    if key == "name":
        return (war.name, war.namespace)
    if key == "age":
        # Oldest first, like `kubectl get --sort-by=.metadata.creationTimestamp`.
        return (war.created is None, war.created or datetime.min)
    if key == "group":
        return (war.group or "", war.namespace, war.name)
    if key == "zone":
        return (war.identity.zone_label or "", war.namespace, war.name)
    raise ValueError(key)
