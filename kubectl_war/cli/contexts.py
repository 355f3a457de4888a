"""Where a command reads: one cluster, or many at once (`--contexts`, `--all-contexts`).

A command reads each cluster into plain data with one function and renders the list of
(context, data) it gets back; one cluster is a fleet of one, shown without the CONTEXT
column. With many, each context is read concurrently (see `kubectl_war.cli.fleet`); a context
that fails gets one `warning: context "X": ...` line on stderr after the output, and the
run exits 1 unless --ignore-unreachable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import kubectl_war.kube
from kubectl_war.cli import fleet as fl
from kubectl_war.cli.options import SidecarFlags
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.sidecars import kinds

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags, Outcome
    from kubectl_war.kube.client import Kube

T = TypeVar("T")
CONTEXT_COLUMN = "CONTEXT"


def each_context(
    kube: Connection, fleet: FleetFlags, work: Callable[[Connection, Kube], T]
) -> list[Outcome[T]]:
    """`work(flags, client)` in the one cluster of the connection flags, or in every
    context the fleet flags name, concurrently.

    With a fleet, `flags` are the command's own with `--context` set to the one context,
    so whatever runs beside the client (istioctl) talks to the same cluster, and a
    context's failure is its outcome's error. In one cluster, a failure is the command's.
    """
    if not fleet.active:
        client = kubectl_war.kube.Kube(kube)
        return [fl.Outcome(client.context_name or "", value=work(kube, client))]
    names = fl.resolve(fleet, kube.kubeconfig)
    return fl.run(
        names,
        lambda name: kubectl_war.kube.Kube(replace(kube, context=name)),
        lambda name, client: work(replace(kube, context=name), client),
    )


def answered(outcomes: Sequence[Outcome[T]]) -> list[tuple[str, T]]:
    """(context, what it read) of each context that answered, in context order."""
    return [(o.context, o.value) for o in outcomes if o.ok and o.value is not None]


def finish(outcomes: Sequence[Outcome[Any]], fleet: FleetFlags, *, failed: bool = False) -> None:
    """Name each context that failed on stderr (after the output), then exit 1 when
    they fail the run or the command itself found a failure (`failed`)."""
    sys.stdout.flush()
    for line in fl.warnings(outcomes):
        sys.stderr.write(line + "\n")
    if failed or fl.failed(outcomes, fleet):
        sys.exit(1)


def check_source(sidecars: SidecarFlags, fleet: FleetFlags, default: str) -> None:
    """Refuse for a fleet a proxy-status source that is one cluster's (saved output:
    `kinds.SourceKind.fleet`)."""
    refusal = kinds.fleet_refusal(sidecars.spec(default)) if fleet.active else None
    if refusal is not None:
        raise UsageError(refusal)


def no_resources(namespaces: Sequence[str | None]) -> str:
    """kubectl's words for nothing found, in the namespaces read (None: all of them);
    contexts that default to different namespaces are spoken of as all."""
    distinct = set(namespaces)
    namespace = distinct.pop() if len(distinct) == 1 else None
    if namespace is None:
        return "No resources found"
    return f"No resources found in {namespace} namespace."


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
