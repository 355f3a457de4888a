"""`kubectl war rollout status`: how many of each WorkloadGroup's connected WARs are up
to date, and which are missing; read from one cluster, shown for one or many."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubectl_war.assess import Facts, assess
from kubectl_war.freshness import Freshness
from kubectl_war.kube import ListResult
from kubectl_war.kube.watch import everything, until
from kubectl_war.policy_reads import unadmitted
from kubectl_war.render import Table
from kubectl_war.rollout import journal, scope
from kubectl_war.rollout.lease import describe_holder, holder_of, read_state, state_of
from kubectl_war.rollout.progress import paused_dict
from kubectl_war.rollout.progressive import current_pauses, group_versions
from kubectl_war.rollout.shared import LeaseJournal
from kubectl_war.snapshot import Snapshot
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.watch import Store

COLUMNS = (
    "NAME",
    "UP-TO-DATE",
    "OUTDATED",
    "UNKNOWN",
    "DISCONNECTED",
    "MISSING",
    "BLOCKED",
    "ROLLED OUT",
)


@dataclass
class GroupStatus:
    """How far a WorkloadGroup's rollout has come (`kubectl war rollout status`)."""

    namespace: str
    name: str
    up_to_date: int = 0
    outdated: int = 0
    unknown: int = 0
    disconnected: int = 0
    missing: list[str] = field(default_factory=list)
    # Connected WARs no OnboardingPolicy admits now: a rollout leaves them out (`blocked`),
    # and deleted they would not come back.
    blocked: int = 0
    # Where and why its last rollout stopped on purpose (the journal's pause record).
    paused: dict[str, Any] | None = None
    # Its rollout as its Lease says (`lease_view`): holder, batch, in flight, aborted.
    rollout: dict[str, Any] | None = None

    @property
    def connected(self) -> int:
        return self.up_to_date + self.outdated + self.unknown

    @property
    def done(self) -> bool:
        """Every connected WAR is up to date and none is missing."""
        return self.outdated == 0 and self.unknown == 0 and not self.missing

    def message(self) -> str:
        if self.done:
            return f'WorkloadGroup "{self.name}" successfully rolled out'
        parts = [f"{self.up_to_date} of {self.connected} connected WARs up to date"]
        if self.unknown:
            parts.append(f"{self.unknown} of unknown freshness")
        if self.missing:
            parts.append(f"{len(self.missing)} missing")
        if self.blocked:
            parts.append(f"{self.blocked} blocked (no OnboardingPolicy admits them now)")
        if self.paused:
            parts.append(f"paused: {self.paused_text}")
        if self.rollout and self.rollout.get("holder"):
            parts.append(f"rollout held by {self.rollout['holder']}")
        return f'Waiting for WorkloadGroup "{self.name}" rollout to finish: ' + ", ".join(parts)

    @property
    def paused_text(self) -> str:
        """`after batch 1/4 (canary)`: where the rollout stopped on purpose, and why."""
        p = self.paused or {}
        where = "after" if p.get("back") else "before"
        by = f" by {p['by']}" if p.get("by") else ""
        return f"{where} batch {p.get('batch')}/{p.get('batches')} ({p.get('reason')}){by}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "upToDate": self.up_to_date,
            "outdated": self.outdated,
            "unknown": self.unknown,
            "disconnected": self.disconnected,
            "missing": list(self.missing),
            "blocked": self.blocked,
            "rolledOut": self.done,
            **({"paused": paused_dict(self.paused)} if self.paused and not self.done else {}),
            **({"rollout": self.rollout} if self.rollout else {}),
        }


def group_status(
    wars: Iterable[War],
    groups: Sequence[tuple[str, str]],
    facts: Callable[[War], Facts],
    missing: Mapping[tuple[str, str], Sequence[str]] | None = None,
    blocked: Collection[str] = frozenset(),
) -> list[GroupStatus]:
    """Counts per group. `missing` names WARs known to be deleted and not back
    (from the journal); WARs whose agent has not connected yet are missing too.
    `blocked` holds the uids of WARs no OnboardingPolicy admits now (those connected
    are counted, as `rollout` leaves them out)."""
    wars = list(wars)
    out = {key: GroupStatus(*key) for key in groups}
    for war in wars:
        st = out.get((war.namespace, war.group or ""))
        if st is None:
            continue
        if war.is_disconnected:
            st.disconnected += 1
        elif not war.is_connected:
            st.missing.append(war.name)
        else:
            st.blocked += war.uid in blocked
            fresh = facts(war).freshness
            if fresh is Freshness.UP_TO_DATE:
                st.up_to_date += 1
            elif fresh is Freshness.OUTDATED:
                st.outdated += 1
            else:
                st.unknown += 1
    present = {(w.namespace, w.name) for w in wars} if missing else set()
    for key, names in (missing or {}).items():
        st = out.get(key)
        if st is None:
            continue
        for name in names:
            if (key[0], name) not in present and name not in st.missing:
                st.missing.append(name)
    for st in out.values():
        st.missing.sort()
    return list(out.values())


# ---- one cluster, read --------------------------------------------------------------------


@dataclass
class Read:
    """One cluster's part of `rollout status`: the WARs and WorkloadGroups in scope, and
    the WARs its journal says a rollout deleted and are not back yet."""

    namespace: str | None
    snap: Snapshot
    keys: list[tuple[str, str]]
    missing: dict[tuple[str, str], list[str]]
    grace_seconds: float
    paused: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # uids of the WARs no OnboardingPolicy admits now (`policy_reads.unadmitted`).
    unadmitted: frozenset[str] = frozenset()
    # Each group's Lease, as `lease_view` shows it.
    rollouts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def statuses(self, now: datetime, wars: Iterable[War] | None = None) -> list[GroupStatus]:
        """Each group's counts at `now`, over `wars` (default: the WARs read)."""
        out = group_status(
            list(self.snap.wars if wars is None else wars),
            self.keys,
            lambda w: assess(w, self.snap, now, self.grace_seconds),
            self.missing,
            self.unadmitted,
        )
        for st in out:
            st.paused = self.paused.get((st.namespace, st.name))
            st.rollout = self.rollouts.get((st.namespace, st.name))
        return out


def read(client: Kube, namespace: str | None, groups: Sequence[str], grace_seconds: float) -> Read:
    """Read one cluster (`client`, a `kube.Kube`): see `scope.load` for what is raised.
    Each group's Lease is read with a GET (all `rollout status` needs on leases); one
    that cannot be read is said once on stderr."""
    snap, keys = scope.load(client, namespace, groups)
    versions = group_versions(snap)
    kept = journal.for_cluster(client, grace_seconds)
    paused = current_pauses(kept, versions)
    missing = kept.missing_by_group()
    states, rollouts = _leases(client, keys)
    shared = LeaseJournal(states, grace_seconds=grace_seconds)
    paused.update(current_pauses(shared, versions))
    for key, names in shared.missing_by_group().items():
        missing[key] = sorted(set(missing.get(key, [])) | set(names))
    blocked = unadmitted(client, snap)
    return Read(namespace, snap, keys, missing, grace_seconds, paused, blocked, rollouts)


def _leases(
    client: Kube, keys: Sequence[tuple[str, str]]
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    states, views = {}, {}
    for key in keys:
        obj, why = read_state(client, *key)
        if why:
            sys.stderr.write(
                f"warning: {why}: holders, pauses and WARs in flight of shared rollouts "
                "are not shown\n"
            )
            break
        if obj is not None:
            states[key] = state_of(obj)
            views[key] = lease_view(obj)
    return states, views


def lease_view(obj: dict[str, Any]) -> dict[str, Any]:
    """What `rollout status` shows of a Lease: holder, batch, WARs in flight, aborted."""
    state = state_of(obj)
    out: dict[str, Any] = {}
    if holder_of(obj):
        out["holder"] = describe_holder(obj)
    if state.get("batch"):
        out["batch"] = state.get("batch")
        out["batches"] = state.get("batches")
    if state.get("checksPassed"):
        out["checksPassed"] = state.get("checksPassed")  # the last batch whose checks passed
    flight = [str(e.get("name")) for e in state.get("inFlight") or [] if isinstance(e, dict)]
    if flight:
        out["inFlight"] = sorted(flight)
    if isinstance(state.get("aborted"), dict):
        out["aborted"] = state["aborted"]
    return out


#: `rollout status --watch` waits on every WAR in scope: it lists them all directly this
#: often (seconds), and soon after a watch restart, in case an event was lost.
RELIST_EVERY = 30.0


def follow_until_rolled_out(
    client: Kube,
    seen: Read,
    *,
    now: Callable[[], datetime],
    timeout: float | None,
    show: Callable[[list[GroupStatus]], None],
) -> tuple[bool, list[GroupStatus]]:
    """Watch the WARs read in `seen` until every group is rolled out (True) or `timeout`
    seconds pass (False, 0 or None: never); `show` gets the counts first and after each
    change. Returns the outcome with the last counts."""
    current: list[GroupStatus] = []
    # The WAR views of the objects held, kept across changes (their fields are cached).
    wars = {id(w.obj): w for w in seen.snap.wars}

    def rolled_out(store: Store) -> bool:
        nonlocal current, wars
        held = wars
        wars = {}
        for obj in store.items():
            war = held.get(id(obj))
            wars[id(obj)] = war if war is not None and war.obj is obj else War(obj)
        current = seen.statuses(now(), wars.values())
        show(current)
        return all(s.done for s in current)

    listed = ListResult([w.obj for w in seen.snap.wars], seen.snap.resource_version)
    done = until(
        client,
        client.war_resource(),
        seen.namespace,
        rolled_out,
        listed=listed,
        deadline=time.monotonic() + timeout if timeout else None,
        reread=everything,
        reread_every=RELIST_EVERY,
    )
    return done, current


# ---- shown ----------------------------------------------------------------------------------


def table(
    found: Sequence[tuple[str, GroupStatus]],
    *,
    all_namespaces: bool,
    contexts: bool,
    hint: Callable[[str, str, str], str] = lambda verb, ns, group: (
        f"kubectl war rollout {verb} {group} -n {ns}"
    ),
) -> str:
    """The groups as a table; with `contexts`, each row starts with its context."""
    cols = [*(["CONTEXT"] if contexts else []), *(["NAMESPACE"] if all_namespaces else [])]
    rows = []
    for context, s in found:
        rows.append(
            [
                *([context] if contexts else []),
                *([s.namespace] if all_namespaces else []),
                s.name,
                str(s.up_to_date),
                str(s.outdated),
                str(s.unknown),
                str(s.disconnected),
                str(len(s.missing)),
                str(s.blocked),
                _rolled_out(s),
            ]
        )
    notes = [note for _, s in found for note in notes_of(s, hint)]
    return Table([*cols, *COLUMNS]).render(rows) + "".join(notes)


def analysis_lines(record: Mapping[str, Any]) -> list[str]:
    """The analyses a stop record keeps: each with its verdict, query and values."""
    out = []
    for a in record.get("analyses") or []:
        if not isinstance(a, dict):
            continue
        values = []
        for m in a.get("measurements") or []:
            got = [str(v.get("value")) for v in m.get("values") or [] if isinstance(v, dict)]
            values.append(m.get("error") or (", ".join(got) if got else "no series"))
        dry = ", dry run" if a.get("dryRun") else ""
        out.append(
            f'  analysis "{a.get("analysis")}": {a.get("verdict")}{dry} '
            f"(want {a.get('condition')}; measured {'; '.join(values) or 'nothing'})\n"
            f"    query: {a.get('query')}\n"
        )
    return out


def notes_of(s: GroupStatus, hint: Callable[[str, str, str], str]) -> list[str]:
    """The lines under the table about a group's rollout: who holds it, where it is,
    what is in flight; paused or aborted, and by whom. `hint(verb, namespace, group)`
    is the command to run next."""
    ref = f"WorkloadGroup {s.namespace}/{s.name}"
    r = s.rollout or {}
    out = []
    if r.get("holder"):
        where = f"; batch {r['batch']}/{r['batches']}" if r.get("batch") else ""
        flight = r.get("inFlight") or []
        what = f"; in flight: {', '.join(flight)}" if flight else ""
        out.append(f"{ref}: rollout running, held by {r['holder']}{where}{what}\n")
        out.append(f"  pause it with: {hint('pause', s.namespace, s.name)}\n")
        out.append(f"  abort it with: {hint('abort', s.namespace, s.name)}\n")
    elif isinstance(r.get("aborted"), dict):
        a = r["aborted"]
        out.append(
            f"{ref}: last rollout aborted by {a.get('by')} at {str(a.get('at'))[:19]}Z; "
            "a new rollout starts anew\n"
        )
    if s.paused and not s.done and not r.get("holder"):
        out.append(f"{ref}: rollout paused {s.paused_text}; continue it with:\n")
        out.append(f"  {hint('resume', s.namespace, s.name)}\n")
        out += analysis_lines(s.paused or {})
    return out


def _rolled_out(s: GroupStatus) -> str:
    if s.done:
        return "Yes"
    if (s.rollout or {}).get("holder"):
        return "Running"
    return "Paused" if s.paused else "No"


def as_data(
    found: Sequence[tuple[str, GroupStatus]], contexts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`-o json`: the groups; with `contexts` (each context's name, or its error), each
    group names its context."""
    if contexts is None:
        return {"kind": "RolloutStatus", "groups": [s.to_dict() for _, s in found]}
    return {
        "kind": "RolloutStatus",
        "contexts": contexts,
        "groups": [{"context": name, **s.to_dict()} for name, s in found],
    }
