"""`kubectl war describe`: everything known about onboarded workloads, one at a time."""

from __future__ import annotations

import sys
from typing import Any

import click

from kubectl_war.cli.list_wars import no_resources
from kubectl_war.cli.options import (
    KubeFlags,
    SidecarFlags,
    fleet_options,
    grace_option,
    kube_options,
    now,
    object_names,
    output_option,
    proxy_status_options,
)
from kubectl_war.errors import UsageError
from kubectl_war.render import as_list, to_json, to_yaml, write


@click.command("describe")
@kube_options
@fleet_options()
@click.argument("names", nargs=-1, metavar="[NAME]...", callback=object_names("WAR"))
@click.option("-l", "--selector", metavar="SELECTOR", help="Describe the WARs matching this.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="WORKLOADGROUP",
    help="Describe every WAR of this WorkloadGroup; repeat for several.",
)
@grace_option
@output_option(("text", "json", "yaml"))
@proxy_status_options("auto")
def describe_cmd(
    kube: KubeFlags,
    fleet: Any,
    names: tuple[str, ...],
    selector: str | None,
    groups: tuple[str, ...],
    grace_period: float,
    output: str,
    sidecars: SidecarFlags,
) -> None:
    """Show one or more onboarded workloads in detail.

    Identity (verified, decoded), WorkloadGroup and whether this workload predates
    its latest change, agent state with the countdown to automatic removal,
    registration, the sidecar's sync state as istiod sees it, and events.

    \b
    Examples:
      kubectl war describe -n bookinfo ratings-aws-aws-123456789012-us-east-2b-ec2-i-0abc
      kubectl war describe -n bookinfo --group ratings
      kubectl war describe -A -l app=ratings -o json
      kubectl war describe -n bookinfo --group ratings --proxy-status istioctl
      kubectl war describe -n bookinfo NAME --all-contexts
    """
    from kubectl_war import describe, listing, snapshot
    from kubectl_war.assess import assess, computed

    if not names and not selector and not groups:
        raise UsageError("name a WAR, or select some with -l or --group")
    if names and (selector or groups):
        raise UsageError("names cannot be given together with -l or --group")
    if names and kube.all_namespaces:
        raise UsageError("a WAR name cannot be combined with -A: names are per namespace (-n)")
    if fleet.active:
        from kubectl_war.cli import fleet as many

        many.describe(
            kube,
            fleet,
            names=names,
            selector=selector,
            groups=groups,
            grace_period=grace_period,
            output=output,
            sidecars=sidecars,
        )
        return
    client = kube.connect()
    missing: list[str] = []
    if names:
        snap, missing = snapshot.take_named(client, client.namespace, list(names))
        wars = snap.wars
    else:
        namespace = None if kube.all_namespaces else client.namespace
        snap = snapshot.take(client, namespace, label_selector=selector)
        wars = listing.select(snap.wars, groups=groups)
        if not wars:
            sys.stderr.write(no_resources(namespace) + "\n")
            return
    snapshot.fetch_groups(client, snap)
    t = now()
    skipped: list[str] = []
    source = sidecars.open(kube, client, default="auto", notice=skipped.append) if wars else None
    proxies = source.fetch() if source is not None else None
    source_words = source.describe() if source is not None else None
    if output in ("json", "yaml"):
        docs = []
        for war in wars:
            facts = assess(war, snap, t, grace_period, proxies)
            extra = computed(war, facts, snap)
            if "sidecar" in extra:
                extra["sidecar"]["source"] = source_words
            docs.append(dict(war.obj, computed=extra))
        data = docs[0] if len(docs) == 1 and names else as_list(docs)
        write(to_json(data) if output == "json" else to_yaml(data))
    else:
        events = snapshot.events_by_uid(client, snap.namespace) if wars else {}
        blocks = []
        show_sidecar = sidecars.spec("auto") != "none"
        for war in wars:
            facts = assess(war, snap, t, grace_period, proxies)
            sidecar = (
                describe.sidecar_section(facts.sidecar, source_words, skipped)
                if show_sidecar
                else []
            )
            blocks.append(
                describe.render(war, facts, events.get(war.uid, []), t, grace_period, sidecar)
            )
        write("\n\n".join(blocks))
    for name in missing:
        sys.stderr.write(snapshot.not_found(name) + "\n")
    if missing:
        sys.exit(1)
