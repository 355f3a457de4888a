"""`kubectl war rollout status --contexts ...`: every context's rollout status at once."""

from __future__ import annotations

from typing import Any

from kubectl_war.cli.contexts import contexts_data, each_context, finish
from kubectl_war.cli.options import KubeFlags, now
from kubectl_war.errors import UsageError
from kubectl_war.fleet import FleetFlags
from kubectl_war.render import to_json, write


def rollout_status(
    kube: KubeFlags,
    fleet: FleetFlags,
    groups: tuple[str, ...],
    *,
    watch: bool,
    output: str,
    grace_period: float,
) -> None:
    """`kubectl war rollout status --contexts ...`: every context's WorkloadGroups, each
    read as `rollout status` reads one cluster (its own WARs and its own journal)."""
    from kubectl_war import rollout as ro
    from kubectl_war.assess import assess
    from kubectl_war.cli.rollout import _journal, _load, _status_table

    if watch:
        raise UsageError("--watch follows one cluster: use --context, not a fleet of contexts")
    t = now()

    def work(flags: KubeFlags, client: Any) -> list[Any]:
        namespace = None if flags.all_namespaces else client.namespace
        snap, keys = _load(client, namespace, groups)
        missing = _journal(client, grace_period).missing_by_group()
        return list(
            ro.group_status(snap.wars, keys, lambda w: assess(w, snap, t, grace_period), missing)
        )

    outcomes = each_context(kube, fleet, work)
    rows = [(o.context, s) for o in outcomes if o.value is not None for s in o.value]
    if output == "json":
        data = {
            "kind": "RolloutStatus",
            "contexts": contexts_data(outcomes),
            "groups": [{"context": name, **s.to_dict()} for name, s in rows],
        }
        write(to_json(data))
    elif rows:
        write(
            _status_table(
                [s for _, s in rows],
                all_namespaces=kube.all_namespaces,
                contexts=[name for name, _ in rows],
            )
        )
    finish(outcomes, fleet, failed=not all(s.done for _, s in rows))
