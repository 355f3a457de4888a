"""What `kubectl war list` shows: its columns (`COLUMNS`, declared once), filters and sort
orders (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from kubectl_war.assess import Facts, agent_state
from kubectl_war.durations import human_duration
from kubectl_war.errors import UsageError
from kubectl_war.freshness import Freshness
from kubectl_war.render import NONE, Cell
from kubectl_war.sidecars.records import STATE_STYLES
from kubectl_war.war import AgentState, War

if TYPE_CHECKING:
    from kubectl_war.sidecars.join import Sidecar

SORT_KEYS = ("name", "age", "group", "zone")


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


# ---- the columns ---------------------------------------------------------------------------

#: A cell: what a column shows for one WAR, from its facts, the time ages count to and
#: the table's layout.
CellOf = Callable[[War, Facts, datetime, "Layout"], str]


@dataclass(frozen=True)
class Column:
    """One column of `list`'s table, declared once: its header, its cell, and when it
    shows: with every `Layout` attribute that `when` names true (`all_namespaces`,
    `wide`, `sidecar`: a proxy-status source was read)."""

    header: str
    cell: CellOf
    when: tuple[str, ...] = ()


FRESH = Column("UP-TO-DATE", lambda w, f, now, t: fresh_cell(f))
#: Every column, in the order the table shows them; label columns follow (`Layout.labels`).
COLUMNS: tuple[Column, ...] = (
    Column("NAMESPACE", lambda w, f, now, t: w.namespace, when=("all_namespaces",)),
    Column("NAME", lambda w, f, now, t: w.name),
    Column("GROUP", lambda w, f, now, t: _or_none(w.group)),
    Column("PLATFORM", lambda w, f, now, t: w.identity.platform),
    Column("INSTANCE", lambda w, f, now, t: _or_none(w.identity.instance)),
    Column("ZONE", lambda w, f, now, t: _or_none(w.identity.zone_label)),
    Column("IP", lambda w, f, now, t: _or_none(w.ip)),
    Column("AGENT CONNECTED", lambda w, f, now, t: agent_cell(w, f)),
    FRESH,
    Column("SIDECAR", lambda w, f, now, t: sidecar_cell(f.sidecar), when=("sidecar",)),
    Column("AGE", lambda w, f, now, t: age_cell(w, now)),
    Column("ACCOUNT", lambda w, f, now, t: _or_none(w.identity.account), when=("wide",)),
    Column("REGION", lambda w, f, now, t: _or_none(w.identity.region), when=("wide",)),
    Column("AGENT", lambda w, f, now, t: _or_none(w.agent_version), when=("wide",)),
    Column(
        "ISTIO",
        lambda w, f, now, t: istio_cell(w, f.sidecar if t.sidecar else None),
        when=("wide",),
    ),
    Column("CONNECTED TO", lambda w, f, now, t: _or_none(w.connected_to), when=("wide",)),
    Column("ISTIOD", lambda w, f, now, t: istiod_cell(f.sidecar), when=("wide", "sidecar")),
)
FRESH_COLUMN = FRESH.header


class Labelled(Protocol):
    """Label columns (`printers.labels.LabelColumns`): headers and one WAR's cells."""

    def headers(self) -> list[str]: ...

    def cells(self, labels: Mapping[str, str] | None) -> list[str]: ...


@dataclass
class Layout:
    """Which columns a table shows (those of `COLUMNS` whose `when` holds), and the label
    columns it ends with; both its headers and its rows come from here."""

    all_namespaces: bool = False
    wide: bool = False
    sidecar: bool = False
    labels: Labelled | None = None
    columns: tuple[Column, ...] = field(init=False)
    _cells: tuple[CellOf, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.columns = tuple(c for c in COLUMNS if all(getattr(self, w) for w in c.when))
        self._cells = tuple(c.cell for c in self.columns)

    def headers(self) -> list[str]:
        cols = [c.header for c in self.columns]
        return cols + self.labels.headers() if self.labels is not None else cols

    def row(self, war: War, facts: Facts, now: datetime) -> list[str]:
        """One WAR's cells, in the order of `headers`."""
        cells = [cell(war, facts, now, self) for cell in self._cells]
        return cells + self.labels.cells(war.labels) if self.labels is not None else cells


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
