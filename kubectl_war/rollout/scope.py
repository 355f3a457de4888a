"""The WorkloadGroups a rollout (or `rollout status`) covers, read from one cluster with
the WARs they hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubectl_war import snapshot
from kubectl_war.jsondata import child
from kubectl_war.kube import KubeError

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube


def load(
    client: Kube,
    namespace: str | None,
    groups: Sequence[str],
    *,
    keep: list[dict[str, Any]] | None = None,
) -> tuple[snapshot.Snapshot, list[tuple[str, str]]]:
    """The WARs and WorkloadGroups in scope, and the groups to work on, in order.

    Args:
        client: a `kube.Kube`.
        namespace: where to look; None for every namespace.
        groups: the WorkloadGroups named (in `namespace`); none for all of them.
        keep: receives the WAR objects as listed (the snapshot holds compact WARs).

    Raises:
        KubeError: WorkloadGroups are not served, or a named one does not exist.
    """
    wg_res = client.workloadgroup_resource()
    if wg_res is None:
        raise KubeError(
            "the cluster does not serve networking.istio.io WorkloadGroups: is Istio installed?"
        )
    snap = snapshot.take(client, namespace, compact=True, keep=keep)
    snap.groups_fetched = True
    for obj in client.list(wg_res, namespace).items:
        meta = child(obj, "metadata")
        ns, name = meta.get("namespace"), meta.get("name")
        if isinstance(ns, str) and isinstance(name, str):
            snap.groups[(ns, name)] = obj
    if not groups:
        return snap, sorted(snap.groups)
    keys = []
    for name in dict.fromkeys(groups):
        if (namespace, name) not in snap.groups:
            raise KubeError(
                f'Error from server (NotFound): {wg_res.qualified} "{name}" not found'
                f" in {namespace} namespace"
            )
        keys.append((str(namespace), name))
    return snap, keys
