"""Running a command's read in each context of a fleet (`--contexts`, `--all-contexts`),
and ending the run: the helpers the `rollout status` command shares with the runner in
`kubectl_war.fleet`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from kubectl_war.cli.options import KubeFlags
from kubectl_war.fleet import FleetFlags, Outcome

T = TypeVar("T")


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
