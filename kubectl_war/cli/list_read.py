"""How `kubectl war list` reads one cluster: the WARs chosen, as compact WARs, as a
plain table's rows, or as `-o json|yaml|name` items written as each page arrives."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from kubectl_war import gcpause, listing, printers, sidecars, snapshot
from kubectl_war.assess import Facts, assess
from kubectl_war.cli import options as opt
from kubectl_war.errors import UsageError
from kubectl_war.freshness import Freshness
from kubectl_war.kube.config import Connection
from kubectl_war.kube.decode import loads_without_managed_fields
from kubectl_war.notice import sidecars_unread
from kubectl_war.render import ListDocument
from kubectl_war.war import RESOURCE_NAME, AgentState, War

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube
    from kubectl_war.printers.labels import LabelColumns
    from kubectl_war.sidecars.records import ProxySync
    from kubectl_war.sidecars.sources import SidecarSource
    from kubectl_war.snapshot import Snapshot


@dataclass(frozen=True)
class Query:
    """Which WARs `list` shows and in what order: its flags, validated."""

    selector: str | None
    field_selector: str | None
    groups: tuple[str, ...]
    agent: AgentState | None
    older_than: float | None
    outdated: bool
    grace_period: float
    sort_by: str | None

    def list_each(
        self,
        client: Kube,
        namespace: str | None,
        each: Callable[[dict[str, Any]], None],
        decoder: Callable[[bytes], Any] | None = None,
    ) -> str:
        """Hand each WAR the selectors match to `each` as its page arrives; the list's
        resourceVersion. `decoder`: see `Kube.list_each`."""
        rv: str = client.list_each(
            client.war_resource(),
            namespace,
            each,
            label_selector=self.selector,
            field_selector=self.field_selector,
            decoder=decoder,
        )
        return rv

    def choose(self, wars: list[War], t: datetime, facts: Callable[[War], Facts]) -> list[War]:
        return listing.select(
            wars,
            groups=self.groups,
            agent=self.agent,
            older_than=self.older_than,
            now=t,
            outdated=self.outdated,
            facts=facts,
        )


@dataclass
class Listed:
    """What `list` read in one cluster: the WARs it shows, in order, with what it needs
    to judge them; or, for a plain table, only their rows (see `read_rows`)."""

    context: str
    namespace: str | None
    resource_version: str
    wars: list[War]
    snap: Snapshot
    source: SidecarSource | None
    proxies: dict[str, ProxySync] | None
    grace_period: float
    #: When the WARs are judged; None: each time one is shown (a watch).
    at: datetime | None
    rows: list[list[str]] | None = None
    #: Written as they came (see `read_items`): how many, and where they went.
    written: int = 0
    document: Any = None

    def facts(self, war: War) -> Facts:
        return assess(war, self.snap, self.at or opt.now(), self.grace_period, self.proxies)


def read(
    flags: Connection,
    client: Kube,
    query: Query,
    t: datetime,
    sidecars: opt.SidecarFlags,
    output: str,
    sync: bool,
    *,
    live: bool = False,
) -> Listed:
    """One cluster's WARs and WorkloadGroups, and (for a table that shows them) its
    sidecars; the WARs chosen and sorted."""
    namespace = None if flags.all_namespaces else client.namespace
    # A table shows what a CompactWar keeps; an expression sorts on, and the other
    # outputs print, whole objects.
    table = output in ("table", "wide")
    snap = snapshot.take(
        client,
        namespace,
        label_selector=query.selector,
        field_selector=query.field_selector,
        compact=table and (query.sort_by is None or query.sort_by in listing.SORT_KEYS),
    )
    snapshot.fetch_groups(client, snap, needed_by="--outdated" if query.outdated else None)
    source = sidecar_source(flags, client, sidecars, output, sync)
    proxies = source.fetch() if source is not None else None
    listed = Listed(
        client.context_name or "",
        namespace,
        snap.resource_version,
        [],
        snap,
        source,
        proxies,
        query.grace_period,
        None if live else t,
    )
    chosen = query.choose(snap.wars, t, listed.facts)
    listed.wars = _sort(chosen, query.sort_by, table=table)
    return listed


def _sort(wars: list[War], key: str | None, *, table: bool) -> list[War]:
    """`--sort-by`: a shortcut in its own order, an expression in kubectl's (`table`: with
    the errors of kubectl's table output; where kubectl's table hides one behind "No
    resources found", here it is told)."""
    if key is None or key in listing.SORT_KEYS:
        return listing.sort(wars, key)
    by_object = {id(w.obj): w for w in wars}
    return [
        by_object[id(obj)] for obj in printers.sort_objects([w.obj for w in wars], key, table=table)
    ]


def read_rows(
    flags: Connection, client: Kube, query: Query, t: datetime, labels: LabelColumns, *, wide: bool
) -> Listed:
    """The plain table's rows (no SIDECAR column), each WAR turned into its row as its
    page arrives.

    Raw objects are let go page by page, so memory holds rows, not the API's JSON:
    about a tenth of it. The same requests as `_read`, in the same order: the WARs,
    then the WorkloadGroups of the namespaces seen, whose answer fills each row's
    UP-TO-DATE cell (and the `--outdated` filter) at the end.
    """
    namespace = None if flags.all_namespaces else client.namespace
    snap = snapshot.Snapshot([], "", namespace)
    listed = Listed(
        client.context_name or "", namespace, "", [], snap, None, None, query.grace_period, t
    )
    all_namespaces = namespace is None
    layout = listing.Layout(all_namespaces=all_namespaces, wide=wide, labels=labels)
    fresh_at = layout.headers().index(listing.FRESH_COLUMN)
    seen: set[str] = set()
    lines: list[_Line] = []

    def add(obj: dict[str, Any]) -> None:
        war = War(obj)
        seen.add(war.namespace)
        chosen = listing.select(
            [war],
            groups=query.groups,
            agent=query.agent,
            older_than=query.older_than,
            now=t,
        )
        if chosen:
            cells = layout.row(war, listed.facts(war), t)
            lines.append(_Line(war, cells, listing.sort_key(war, query.sort_by)))
        gcpause.keep(obj)

    listed.resource_version = query.list_each(
        client, namespace, add, decoder=loads_without_managed_fields
    )
    snapshot.fetch_groups(client, snap, seen, needed_by="--outdated" if query.outdated else None)
    kept: list[_Line] = []
    for line in lines:
        group = snap.group_named(line.namespace, line.group, line.group_uid)
        freshness, _ = snap.judge(group, line.created)
        if query.outdated and freshness is not Freshness.OUTDATED:
            continue
        line.cells[fresh_at] = listing.freshness_cell(freshness)
        kept.append(line)
    if query.sort_by is not None:
        kept.sort(key=lambda line: line.key)
    listed.rows = [line.cells for line in kept]
    return listed


def read_items(
    flags: Connection, client: Kube, query: Query, t: datetime, output: str, *, spool: bool
) -> Listed:
    """`-o json|yaml|name` written as each page arrives, holding one page at a time.

    The same requests as `_read`. One cluster's items go straight to stdout (the List's
    head with the first, its tail from `list`); with many contexts, read at
    once, each context's go to a temporary file (`spool`), copied out in context order.
    """
    namespace = None if flags.all_namespaces else client.namespace
    snap = snapshot.Snapshot([], "", namespace)
    listed = Listed(
        client.context_name or "", namespace, "", [], snap, None, None, query.grace_period, t
    )
    if output == "name":
        sink = sys.stdout
        listed.document = None
    else:
        # The spool outlives this read: `list` copies it out and closes it.
        sink = _spool() if spool else sys.stdout
        listed.document = ListDocument(output, sink)
    document = listed.document
    seen: set[str] = set()

    def add(obj: dict[str, Any]) -> None:
        war = War(obj)
        seen.add(war.namespace)
        if query.choose([war], t, listed.facts):
            listed.written += 1
            if document is None:
                sink.write(f"{RESOURCE_NAME}/{war.name}\n")
            elif spool:
                sink.write(document.encode(obj))
            else:
                document.add(obj)
            if document is not None and listed.written % 256 == 0:
                gcpause.sweep()
        gcpause.keep(obj)

    listed.resource_version = query.list_each(client, namespace, add)
    snapshot.fetch_groups(client, snap, seen)
    return listed


def _spool() -> IO[str]:
    """A file for one context's items that no other process can open: created anew in
    the temporary directory and removed from it at once, so it lives while it is open
    and leaves nothing behind however the run ends (without `tempfile`, which `list`
    would otherwise import only for this)."""
    directory = os.environ.get("TMPDIR") or "/tmp"
    path = os.path.join(directory, f".kubectl-war-spool-{os.urandom(8).hex()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.unlink(path)
    return os.fdopen(fd, "w+", encoding="utf-8")


class _Line:
    """One WAR of a table being built page by page: its cells, what it sorts by, and
    what its UP-TO-DATE cell needs once the WorkloadGroups are known."""

    __slots__ = ("cells", "created", "group", "group_uid", "key", "namespace")

    def __init__(self, war: War, cells: list[str], key: tuple[Any, ...]) -> None:
        self.cells = cells
        self.key = key
        self.namespace = war.namespace
        self.group = war.group
        self.group_uid = war.group_uid
        self.created = war.created


def sidecar_source(
    kube: Connection, client: Kube, flags: opt.SidecarFlags, output: str, sync: bool
) -> SidecarSource | None:
    """The proxy-status source behind the SIDECAR column, or None for no column.

    Only tables show sidecars. `-o wide` and `--sync` read one with `auto` unless told
    otherwise. When `auto` finds none the table keeps its SIDECAR column, every cell
    `<none>`, and one warning says what would fill it in; a source named explicitly
    that fails is an error (when it is read), and `--sync` with `none` a usage error.
    """
    if output not in ("table", "wide"):
        return None
    default = "auto" if sync or output == "wide" else "none"
    reasons: list[str] = []
    source = flags.open(kube, client, default=default, notice=reasons.append)
    if kube.debug:
        for line in reasons:
            sys.stderr.write(f"debug: proxy-status: {line}\n")
    if source is not None:
        return source
    if flags.spec(default) == "none":
        if sync:
            raise UsageError("--sync needs a --proxy-status source other than none")
        return None

    sidecars_unread(reasons, flags.istio_namespace)
    return sidecars.Unanswered(reasons)
