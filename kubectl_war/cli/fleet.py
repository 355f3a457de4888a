"""`--contexts` and `--all-contexts`: list, describe and proxy-status over many clusters.

Each context is read the way the single-cluster command reads its one cluster, all at
once (see `kubectl_war.fleet`); the answers are merged in context order with a
CONTEXT column first. A context that fails gets one `warning: context "X": ...` line
on stderr after the output, and the run exits 1 unless --ignore-unreachable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from kubectl_war.assess import Facts
from kubectl_war.cli.options import KubeFlags, SidecarFlags, now
from kubectl_war.errors import UsageError
from kubectl_war.fleet import FleetFlags, Outcome
from kubectl_war.render import Cell, Table, to_json, to_yaml, use_colour, write
from kubectl_war.war import War

T = TypeVar("T")
CONTEXT_COLUMN = "CONTEXT"


def each_context(
    kube: KubeFlags, fleet: FleetFlags, work: Callable[[KubeFlags, Any], T]
) -> list[Outcome[T]]:
    """`work(flags, client)` in every context the fleet flags name, concurrently.

    `flags` are the command's own with `--context` set to the one context, so whatever
    runs beside the client (istioctl) talks to the same cluster.
    """
    from kubectl_war import fleet as fl

    names = fl.resolve(fleet, kube.kubeconfig)
    return fl.run(
        names,
        lambda name: replace(kube, context=name).connect(),
        lambda name, client: work(replace(kube, context=name), client),
    )


def finish(outcomes: Sequence[Outcome[Any]], fleet: FleetFlags, *, failed: bool = False) -> None:
    """Name each context that failed on stderr (after the output), then exit 1 when
    they fail the run or the command itself found a failure (`failed`)."""
    from kubectl_war import fleet as fl

    sys.stdout.flush()
    for line in fl.warnings(outcomes):
        sys.stderr.write(line + "\n")
    if failed or fl.failed(outcomes, fleet):
        sys.exit(1)


def check_source(sidecars: SidecarFlags, default: str) -> None:
    """A saved proxy-status (file or stdin) is one cluster's: refuse it for a fleet."""
    spec = sidecars.spec(default)
    if spec == "-" or spec.startswith("file:"):
        raise UsageError(
            f"--proxy-status {spec} holds one cluster's proxies: with --contexts or "
            "--all-contexts use istiod, istioctl, auto or none"
        )


def empty_message(namespaces: Sequence[str | None]) -> str:
    """kubectl's words for nothing found, across contexts that may default differently."""
    from kubectl_war.cli.list_wars import no_resources

    distinct = set(namespaces)
    return no_resources(distinct.pop() if len(distinct) == 1 else None)


def contexts_data(outcomes: Sequence[Outcome[Any]], **per: Callable[[Any], Any]) -> list[Any]:
    """The `contexts` entry of `-o json|yaml`: each context with what `per` reads from
    its answer, or with the error it failed with."""
    out = []
    for o in outcomes:
        if o.ok:
            out.append({"name": o.context, **{k: fn(o.value) for k, fn in per.items()}})
        else:
            out.append({"name": o.context, "error": o.error})
    return out


# ---- list -------------------------------------------------------------------------------


@dataclass
class _Listed:
    context: str
    namespace: str | None
    wars: list[War]
    facts: Callable[[War], Facts]
    resource_version: str
    sidecar: bool


def list_wars(
    kube: KubeFlags,
    fleet: FleetFlags,
    *,
    selector: str | None,
    field_selector: str | None,
    groups: tuple[str, ...],
    connected: bool | None,
    older_than: float | None,
    outdated: bool,
    grace_period: float,
    sort_by: str | None,
    no_headers: bool,
    output: str,
    watch: bool,
    sync: bool,
    sidecars: SidecarFlags,
) -> None:
    """`kubectl war list --contexts ...`: the rows of every context, context by context."""
    from kubectl_war import listing, snapshot
    from kubectl_war.assess import assess
    from kubectl_war.cli.list_wars import _sidecar_source

    if watch:
        raise UsageError("--watch follows one cluster: use --context, not a fleet of contexts")
    if output == "name":
        raise UsageError("-o name cannot say which context a WAR is in: use -o json or -o yaml")
    check_source(sidecars, "auto" if sync or output == "wide" else "none")
    t = now()

    def work(flags: KubeFlags, client: Any) -> _Listed:
        namespace = None if flags.all_namespaces else client.namespace
        snap = snapshot.take(
            client,
            namespace,
            label_selector=selector,
            field_selector=field_selector,
            with_groups=True,
        )
        source = _sidecar_source(flags, client, sidecars, output, sync)
        proxies = source.fetch() if source is not None else None

        def facts(war: War) -> Facts:
            return assess(war, snap, t, grace_period, proxies)

        wars = listing.select(
            snap.wars,
            groups=groups,
            connected=connected,
            older_than=older_than,
            now=t,
            outdated=outdated,
            facts=facts,
        )
        return _Listed(
            flags.context or "",
            namespace,
            listing.sort(wars, sort_by),
            facts,
            snap.resource_version,
            source is not None,
        )

    outcomes = each_context(kube, fleet, work)
    answered = [(o.context, o.value) for o in outcomes if o.value is not None]
    if output in ("json", "yaml"):
        # The items stay the server's objects, untouched; which context each came from
        # is told beside them: each context lists the positions of its items.
        items: list[Any] = []
        spans: dict[str, list[int]] = {}
        for name, listed in answered:
            spans[name] = list(range(len(items), len(items) + len(listed.wars)))
            items += [w.obj for w in listed.wars]
        data = {
            "apiVersion": "v1",
            "items": items,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
            "contexts": contexts_data(
                outcomes,
                resourceVersion=lambda v: v.resource_version,
                items=lambda v: spans[v.context],
            ),
        }
        write(to_json(data) if output == "json" else to_yaml(data))
    elif answered:
        all_namespaces = kube.all_namespaces
        wide = output == "wide"
        sidecar = any(listed.sidecar for _, listed in answered)
        cols = [
            CONTEXT_COLUMN,
            *listing.headers(all_namespaces=all_namespaces, wide=wide, sidecar=sidecar),
        ]
        rows = [
            [
                name,
                *listing.row(
                    w,
                    listed.facts(w),
                    t,
                    all_namespaces=all_namespaces,
                    wide=wide,
                    sidecar=sidecar,
                ),
            ]
            for name, listed in answered
            for w in listed.wars
        ]
        if rows:
            write(Table(cols, colour=use_colour()).render(rows, headers=not no_headers))
        else:
            sys.stderr.write(empty_message([listed.namespace for _, listed in answered]) + "\n")
    finish(outcomes, fleet)


# ---- describe ---------------------------------------------------------------------------


@dataclass
class _Described:
    namespace: str | None
    wars: list[War]
    snap: Any
    proxies: Any
    source: str | None
    skipped: list[str]
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def describe(
    kube: KubeFlags,
    fleet: FleetFlags,
    *,
    names: tuple[str, ...],
    selector: str | None,
    groups: tuple[str, ...],
    grace_period: float,
    output: str,
    sidecars: SidecarFlags,
) -> None:
    """`kubectl war describe --contexts ...`: a named WAR is looked for in every context
    (it is missing only when no context has it); blocks start with `Context:`."""
    from kubectl_war import describe as view
    from kubectl_war import listing, snapshot
    from kubectl_war.assess import assess, computed
    from kubectl_war.render import as_list

    check_source(sidecars, "auto")

    def work(flags: KubeFlags, client: Any) -> _Described:
        missing: list[str] = []
        if names:
            namespace: str | None = client.namespace
            snap, missing = snapshot.take_named(client, client.namespace, list(names))
            wars = snap.wars
        else:
            namespace = None if flags.all_namespaces else client.namespace
            snap = snapshot.take(client, namespace, label_selector=selector)
            wars = listing.select(snap.wars, groups=groups)
        snapshot.fetch_groups(client, snap)
        skipped: list[str] = []
        source = (
            sidecars.open(flags, client, default="auto", notice=skipped.append) if wars else None
        )
        proxies = source.fetch() if source is not None else None
        events = snapshot.events_by_uid(client, snap.namespace) if wars and output == "text" else {}
        return _Described(
            namespace,
            wars,
            snap,
            proxies,
            source.describe() if source is not None else None,
            skipped,
            events,
            missing,
        )

    outcomes = each_context(kube, fleet, work)
    answered = [(o.context, o.value) for o in outcomes if o.value is not None]
    t = now()
    if output in ("json", "yaml"):
        docs = []
        for name, d in answered:
            for war in d.wars:
                facts = assess(war, d.snap, t, grace_period, d.proxies)
                extra = computed(war, facts, d.snap)
                if "sidecar" in extra:
                    extra["sidecar"]["source"] = d.source
                docs.append(dict(war.obj, computed={"context": name, **extra}))
        data = as_list(docs)
        write(to_json(data) if output == "json" else to_yaml(data))
    else:
        blocks = []
        show_sidecar = sidecars.spec("auto") != "none"
        for name, d in answered:
            for war in d.wars:
                facts = assess(war, d.snap, t, grace_period, d.proxies)
                sidecar = view.sidecar_section(facts.sidecar, d.source, d.skipped)
                block = view.render(
                    war,
                    facts,
                    d.events.get(war.uid, []),
                    t,
                    grace_period,
                    sidecar if show_sidecar else [],
                )
                blocks.append("Context:".ljust(14) + name + "\n" + block)
        if blocks:
            write("\n\n".join(blocks))
        elif answered and not names:
            sys.stderr.write(empty_message([d.namespace for _, d in answered]) + "\n")
    # A name is missing when no context that answered has it.
    missing = [n for n in names if answered and all(n in d.missing for _, d in answered)]
    sys.stdout.flush()
    for name in missing:
        sys.stderr.write(snapshot.not_found(name) + "\n")
    finish(outcomes, fleet, failed=bool(missing))


# ---- proxy-status -----------------------------------------------------------------------


@dataclass
class _Joined:
    namespace: str | None
    entries: list[Any]
    source: str


def proxy_status(
    kube: KubeFlags,
    fleet: FleetFlags,
    *,
    out_of_sync: bool,
    no_headers: bool,
    output: str,
    sidecars: SidecarFlags,
) -> None:
    """`kubectl war proxy-status --contexts ...`: each context's sidecars, joined with its
    own WARs through its own istiod (or istioctl)."""
    from kubectl_war import snapshot
    from kubectl_war.cli.proxy_status import _as_dict, _table
    from kubectl_war.sidecars.join import join
    from kubectl_war.sidecars.sources import SidecarError

    check_source(sidecars, "auto")

    def work(flags: KubeFlags, client: Any) -> _Joined:
        namespace = None if flags.all_namespaces else client.namespace
        snap = snapshot.take(client, namespace)
        skipped: list[str] = []
        source = sidecars.open(flags, client, default="auto", notice=skipped.append)
        if source is None:
            raise SidecarError("no proxy-status source answered: " + "; ".join(skipped))
        entries = join(snap.wars, source.fetch(), namespace)
        return _Joined(namespace, entries, source.describe())

    outcomes = each_context(kube, fleet, work)
    answered = [(o.context, o.value) for o in outcomes if o.value is not None]
    rows = [(name, e) for name, joined in answered for e in joined.entries]
    problems = [(name, e) for name, e in rows if not e.synced]
    shown = problems if out_of_sync else rows
    if output in ("json", "yaml"):
        data = {
            "contexts": contexts_data(
                outcomes,
                source=lambda j: j.source,
                total=lambda j: len(j.entries),
                synced=lambda j: sum(1 for e in j.entries if e.synced),
            ),
            "items": [{"context": name, **_as_dict(e)} for name, e in shown],
            "total": len(rows),
            "synced": len(rows) - len(problems),
        }
        write(to_json(data) if output == "json" else to_yaml(data))
    elif answered and not rows:
        sys.stderr.write(empty_message([j.namespace for _, j in answered]) + "\n")
    elif answered and not shown:
        sys.stderr.write(f"All {len(rows)} sidecars are SYNCED.\n")
    elif shown:
        _table(
            [e for _, e in shown],
            all_namespaces=kube.all_namespaces,
            wide=output == "wide",
            headers=not no_headers,
            contexts=[Cell(name) for name, _ in shown],
        )
    finish(outcomes, fleet, failed=bool(problems))
