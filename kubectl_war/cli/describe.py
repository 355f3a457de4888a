"""`kubectl war describe`: everything known about onboarded workloads, one at a time."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from kubectl_war import describe, listing, policy_reads, snapshot
from kubectl_war.assess import assess, computed
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import contexts
from kubectl_war.cli import options as opt
from kubectl_war.cli import output_flags as of
from kubectl_war.cli.base import Options, execute
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.notice import sources_refused, warn
from kubectl_war.onboarding.admission import admission
from kubectl_war.render import as_list, write
from kubectl_war.snapshot import not_found

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags
    from kubectl_war.kube.client import Kube
    from kubectl_war.onboarding.admission import Admission
    from kubectl_war.policy_reads import PolicyRead
    from kubectl_war.sidecars.records import ProxySync
    from kubectl_war.snapshot import Snapshot
    from kubectl_war.war import War


@click.command("describe")
@cf.kube_options
@cf.fleet_options()
@opt.war_names
@opt.selector_option("Describe the WARs matching this.")
@opt.group_option("Describe every WAR of this WorkloadGroup; repeat for several.")
@opt.grace_option
@of.output_option(("text", "json", "yaml"), templates=True)
@opt.proxy_status_options("auto")
def describe_cmd(**flags: Any) -> None:
    """Show one or more onboarded workloads in detail.

    Identity (verified, decoded), WorkloadGroup and whether this workload predates
    its latest change, agent state with the countdown to automatic removal,
    registration, the sidecar's sync state as istiod sees it, and events.

    \b
    Examples:
      kubectl war describe -n bookinfo ratings-aws-aws-123456789012-us-east-2b-ec2-i-0abc
      kubectl war describe -n bookinfo --group ratings
      kubectl war describe -A -l app=ratings -o json
      kubectl war describe -A -l app=ratings -o jsonpath='{.items[*].computed.agent}'
      kubectl war describe -n bookinfo --group ratings --proxy-status istioctl
      kubectl war describe -n bookinfo NAME --all-contexts
    """
    execute(DescribeOptions(**flags))


@dataclass
class DescribeOptions(Options):
    """`describe`'s flags."""

    kube: Connection
    fleet: FleetFlags
    names: tuple[str, ...]
    selector: str | None
    groups: tuple[str, ...]
    grace_period: float
    output: str
    sidecars: opt.SidecarFlags

    def validate(self) -> None:
        names = self.names
        if not names and not self.selector and not self.groups:
            raise UsageError("name a WAR, or select some with -l or --group")
        if names and (self.selector or self.groups):
            raise UsageError("names cannot be given together with -l or --group")
        if names and self.kube.all_namespaces:
            raise UsageError("a WAR name cannot be combined with -A: names are per namespace (-n)")
        contexts.check_source(self.sidecars, self.fleet, "auto")

    def run(self) -> None:
        names, output, fleet = self.names, self.output, self.fleet

        def read(flags: Connection, client: Kube) -> _Described:
            return _read(
                flags,
                client,
                names,
                self.selector,
                self.groups,
                self.sidecars,
                events=output == "text",
            )

        outcomes = contexts.each_context(self.kube, fleet, read)
        seen = contexts.answered(outcomes)
        t = opt.now()
        found = any(d.wars for _, d in seen)
        # Nothing selected: one cluster says so whatever the output format; a fleet's
        # -o json|yaml is an empty List.
        if not found and not names and seen and (output == "text" or not fleet.active):
            sys.stderr.write(contexts.no_resources([d.namespace for _, d in seen]) + "\n")
        elif output != "text":
            self._write_document(seen, t)
        elif found:
            self._write_text(seen, t)
        # A name is missing when no context that contexts.answered has it.
        missing = [n for n in names if seen and all(n in d.missing for _, d in seen)]
        sys.stdout.flush()
        for name in missing:
            sys.stderr.write(not_found(name) + "\n")
        contexts.finish(outcomes, fleet, failed=bool(missing))

    def _write_document(self, seen: list[tuple[str, _Described]], t: datetime) -> None:
        named = self.fleet.active
        docs = [
            _document(war, d, t, self.grace_period, name if named else None)
            for name, d in seen
            for war in d.wars
        ]
        data = docs[0] if len(docs) == 1 and self.names and not named else as_list(docs)
        of.write_document(data, self.output)

    def _write_text(self, seen: list[tuple[str, _Described]], t: datetime) -> None:
        show_sidecar = self.sidecars.spec("auto") != "none"
        named = self.fleet.active
        blocks = [
            _block(war, d, t, self.grace_period, show_sidecar, name if named else None)
            for name, d in seen
            for war in d.wars
        ]
        write("\n\n".join(blocks))


@dataclass
class _Described:
    """What `describe` read in one cluster: the WARs to show with their WorkloadGroups,
    sidecars and events, and the names asked for that it does not have."""

    namespace: str | None
    wars: list[War]
    snap: Snapshot
    proxies: dict[str, ProxySync] | None
    source: str | None
    skipped: list[str]
    # None: events could not be read (the Events section is left out).
    events: dict[str, list[dict[str, Any]]] | None
    missing: list[str]
    # The OnboardingPolicies read; None when they cannot be read or are not served.
    policies: PolicyRead | None = None
    # The control plane's JWT issuers by short name, for WARs whose JWT identity is known
    # only from their names; None when not read.
    issuers: dict[str, str] | None = None

    def admission(self, war: War) -> Admission | None:
        """Which rule would admit the WAR again now (None: cannot be told)."""
        if self.policies is None:
            return None
        snap = self.snap
        known = snap.groups_fetched and snap.groups_error is None and snap.groups_served
        return admission(
            war,
            snap.group_of(war),
            self.policies.policies,
            group_known=known,
            issuers=self.issuers,
        )


def _read(
    flags: Connection,
    client: Kube,
    names: tuple[str, ...],
    selector: str | None,
    groups: tuple[str, ...],
    sidecars: opt.SidecarFlags,
    *,
    events: bool,
) -> _Described:
    missing: list[str] = []
    if names:
        namespace: str | None = client.namespace
        snap, missing = snapshot.take_named(client, client.namespace, list(names))
        wars = snap.wars
    else:
        namespace = None if flags.all_namespaces else client.namespace
        snap = snapshot.take(client, namespace, label_selector=selector)
        wars = listing.select(snap.wars, groups=groups)
    if not wars and not names:
        # Nothing to describe: kubectl's words follow, with no more requests.
        return _Described(namespace, [], snap, None, None, [], {}, [])
    snapshot.fetch_groups(client, snap)
    skipped: list[str] = []
    source = sidecars.open(flags, client, default="auto", notice=skipped.append) if wars else None
    if wars and source is None:
        sources_refused(skipped)
    # Without the WorkloadGroups, no selector can be evaluated: policies are not read.
    policies = (
        policy_reads.policies_or_warn(client, snap.namespace, "who admits each workload")
        if wars and snap.groups_error is None and snap.groups_served
        else None
    )
    return _Described(
        namespace,
        wars,
        snap,
        source.fetch() if source is not None else None,
        source.describe() if source is not None else None,
        skipped,
        snapshot.events_by_uid(client, snap.namespace) if wars and events else {},
        missing,
        policies,
        _issuers(client, wars, sidecars.istio_namespace) if policies is not None else None,
    )


def _issuers(client: Kube, wars: list[War], istio_namespace: str) -> dict[str, str] | None:
    """The control plane's JWT issuers by short name, read only when a WAR's JWT issuer
    is known by its short name alone (its name); None, with one warning, when the
    ControlPlane cannot be read."""
    shorts = sorted(
        {
            w.identity.issuer_short
            for w in wars
            if w.identity.platform == "jwt" and not w.identity.issuer and w.identity.issuer_short
        }
    )
    if not shorts:
        return None
    found, why = policy_reads.issuer_short_names(client, istio_namespace)
    if found is None:
        warn(
            f"who admits the workloads of JWT issuer {', '.join(shorts)} unknown: a WAR "
            f"names its issuer by short name only, and the ControlPlane cannot be read ({why})"
        )
    return found


def _document(
    war: War, d: _Described, t: datetime, grace_period: float, context: str | None
) -> dict[str, Any]:
    """`-o json|yaml`: the WAR as the server has it, with what was worked out about it
    under `computed` (and, from a fleet, which context it is in)."""
    facts = assess(war, d.snap, t, grace_period, d.proxies)
    extra = computed(war, facts, d.snap)
    if "sidecar" in extra:
        extra["sidecar"]["source"] = d.source
    admitted = d.admission(war)
    if admitted is not None:
        extra["admittedBy"] = admitted.to_dict()
    if context is not None:
        extra = {"context": context, **extra}
    return dict(war.obj, computed=extra)


def _block(
    war: War,
    d: _Described,
    t: datetime,
    grace_period: float,
    show_sidecar: bool,
    context: str | None,
) -> str:
    """The text view of one WAR (from a fleet, headed by its context)."""
    facts = assess(war, d.snap, t, grace_period, d.proxies)
    sidecar = describe.sidecar_section(facts.sidecar, d.source, d.skipped) if show_sidecar else []
    events = d.events.get(war.uid, []) if d.events is not None else None
    admitted = d.admission(war)
    words = admitted.words() if admitted is not None else None
    block = describe.render(war, facts, events, t, grace_period, sidecar, words)
    return block if context is None else "Context:".ljust(14) + context + "\n" + block
