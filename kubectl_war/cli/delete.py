"""`kubectl war delete`: exact, previewed, precondition-guarded deletion."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click

import kubectl_war.kube
from kubectl_war import deletion, listing, snapshot
from kubectl_war.assess import Facts, assess
from kubectl_war.cli import connection_flags as cf
from kubectl_war.cli import options as opt
from kubectl_war.cli.base import Options, execute
from kubectl_war.cli.contexts import no_resources
from kubectl_war.cli.prompt import confirm
from kubectl_war.durations import human_duration
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.policy_reads import unadmitted
from kubectl_war.render import Table, use_colour, write
from kubectl_war.selectors import matches
from kubectl_war.snapshot import not_found
from kubectl_war.war import RESOURCE_NAME, War

TYPE_CHECKING = False
if TYPE_CHECKING:
    from kubectl_war.deletion import Target
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.requests import Resource
    from kubectl_war.snapshot import Snapshot


@click.command("delete")
@cf.kube_options
@opt.war_names
@opt.selector_option("Delete the WARs matching this.")
@opt.group_option("Only WARs of this WorkloadGroup; repeat for several.")
@opt.agent_filter_options(connected=False)
@click.option("--all", "all_", is_flag=True, help="Every WAR in the namespace (or with -A, all).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before a selector-based deletion.")
@click.option(
    "--dry-run",
    type=click.Choice(["none", "client", "server"]),
    default="none",
    show_default=True,
    help="client: print what would be deleted; server: ask the server to check (dryRun=All).",
)
@click.option("--wait", is_flag=True, help="Wait until each deleted WAR is gone.")
@click.option(
    "--wait-reregistered",
    is_flag=True,
    help="Wait until each agent has re-created its WAR (new uid, agent connected).",
)
@opt.duration_option("--timeout", default="5m", help="How long --wait/--wait-reregistered wait.")
@click.option("--ignore-not-found", is_flag=True, help="A named WAR that does not exist is fine.")
@click.option("-o", "--output", type=click.Choice(["name"]), help="`name`: one line per WAR.")
@opt.grace_option
def delete_cmd(**flags: Any) -> None:
    """Delete onboarded workloads' WARs so their agents onboard again.

    Each DELETE carries the uid of the WAR that was selected: a WAR that its agent
    re-created under the same name since it was listed is never deleted. Deleting
    by selector (-l, --group, --disconnected, --agent-unknown, --outdated, --all)
    first shows what will go and asks; pass --yes where no terminal can answer.

    \b
    Examples:
      kubectl war delete -n bookinfo ratings-aws-aws-123456789012-us-east-2b-ec2-i-0abc
      kubectl war delete -n bookinfo --group ratings --outdated --yes
      kubectl war delete -A --disconnected --older-than 10m --dry-run=client
      kubectl war delete -n bookinfo NAME --wait-reregistered --timeout 5m
    """
    execute(DeleteOptions(**flags))


@dataclass
class DeleteOptions(Options):
    """`delete`'s flags."""

    kube: Connection
    names: tuple[str, ...]
    selector: str | None
    groups: tuple[str, ...]
    agent: opt.AgentFilter
    all_: bool
    yes: bool
    dry_run: str
    wait: bool
    wait_reregistered: bool
    timeout: float | None
    ignore_not_found: bool
    output: str | None
    grace_period: float

    @property
    def by_selector(self) -> bool:
        """Whether flags select the WARs (then they are shown and confirmed first)."""
        return bool(self.selector or self.groups or self.agent.selects or self.all_)

    def validate(self) -> None:
        names = self.names
        if not names and not self.by_selector:
            raise UsageError(
                "name WARs to delete, or select them with -l, --group, "
                "--disconnected, --outdated or --all"
            )
        self.agent.state()  # several agent states at once: a UsageError
        if names and self.all_:
            raise UsageError("names cannot be combined with --all")
        if names and self.kube.all_namespaces:
            raise UsageError("a WAR name cannot be combined with -A: names are per namespace (-n)")
        self.agent.check_older_than()
        if self.wait and self.wait_reregistered:
            raise UsageError("choose one of --wait and --wait-reregistered")
        if self.dry_run != "none" and (self.wait or self.wait_reregistered):
            raise UsageError("--wait and --wait-reregistered cannot be used with --dry-run")

    def run(self) -> None:
        client = kubectl_war.kube.Kube(self.kube)
        chosen = self._select(client)
        failures = 0
        for name in chosen.missing:
            if not self.ignore_not_found:
                sys.stderr.write(not_found(name) + "\n")
                failures += 1
        wars = chosen.wars
        if not wars:
            if self.by_selector and not self.names:
                sys.stderr.write(no_resources([None]) + "\n")
            sys.exit(1 if failures else 0)
        self._preview(client, chosen)
        failures += self._delete(client, chosen)
        if failures:
            sys.exit(1)

    def _preview(self, client: Kube, chosen: _Chosen) -> None:
        """Ask before deleting by selector; a dry run or the question marks the WARs no
        OnboardingPolicy admits now (deleted, they will not come back)."""
        asks = self.by_selector and self.dry_run == "none" and not self.yes
        if self.dry_run == "none" and not asks:
            return
        blocked = unadmitted(client, chosen.snap)
        if asks:
            _confirm(
                chosen.wars,
                chosen.facts,
                chosen.t,
                all_namespaces=chosen.snap.namespace is None,
                blocked=blocked,
            )
            return
        for war in chosen.wars:
            if war.uid in blocked:
                sys.stderr.write(f"warning: {war.name}: {UNADMITTED}\n")

    def _select(self, client: Kube) -> _Chosen:
        """The WARs the names or selection flags choose, read from the cluster."""
        missing: list[str] = []
        if self.names:
            snap, missing = snapshot.take_named(client, client.namespace, list(self.names))
        else:
            namespace = None if self.kube.all_namespaces else client.namespace
            snap = snapshot.take(client, namespace, label_selector=self.selector)
        outdated = self.agent.outdated
        snapshot.fetch_groups(client, snap, needed_by="--outdated" if outdated else None)
        chosen = _Chosen(self, snap, missing, opt.now())
        chosen.wars = [w for w in snap.wars if chosen.selected(w)]
        return chosen

    def _delete(self, client: Kube, chosen: _Chosen) -> int:
        """Delete the chosen WARs (then wait, when asked); the number of failures."""
        res = client.war_resource()
        failures = 0
        outcomes = []
        for outcome in deletion.delete_wars(
            client, res, chosen.wars, dry_run=_dry(self.dry_run), still_selected=chosen.selected
        ):
            outcomes.append(outcome)
            if outcome.failed:
                failures += 1
                sys.stderr.write(outcome.line() + "\n")
            elif self.output == "name":
                if outcome.deleted:
                    write(f"{RESOURCE_NAME}/{outcome.war.name}\n")
            else:
                write(outcome.line() + "\n")
            sys.stdout.flush()
        if self.wait or self.wait_reregistered:
            targets = [
                deletion.Target(o.war.namespace, o.war.name, o.war.uid)
                for o in outcomes
                if o.result == deletion.DELETED
            ]
            if targets:
                timeout = self.timeout or 300.0
                failures += _wait(client, res, targets, self.wait_reregistered, timeout)
        return failures


@dataclass
class _Chosen:
    """The WARs `delete` chose in one read: the snapshot, the names it lacks, and the
    rule each WAR is held to again just before its DELETE (`selected`)."""

    options: DeleteOptions
    snap: Snapshot
    missing: list[str]
    t: datetime
    wars: list[War] = field(default_factory=list)

    def facts(self, war: War) -> Facts:
        return assess(war, self.snap, self.t, self.options.grace_period)

    def selected(self, war: War) -> bool:
        o = self.options
        if o.selector and o.names and not matches(o.selector, war.labels):
            return False
        return bool(
            listing.select(
                [war],
                groups=o.groups,
                agent=o.agent.state(),
                older_than=o.agent.older_than,
                now=opt.now(),
                outdated=o.agent.outdated,
                facts=self.facts,
            )
        )


def _dry(value: str) -> str | None:
    return None if value == "none" else value


UNADMITTED = "no OnboardingPolicy admits it now: its machine will not re-onboard"


def _confirm(
    wars: list[War],
    facts: Callable[[War], Facts],
    t: datetime,
    *,
    all_namespaces: bool,
    blocked: frozenset[str] = frozenset(),
) -> None:
    """Show what will be deleted and ask (a NOTE marks WARs no policy admits now);
    without a terminal, refuse."""
    layout = listing.Layout(all_namespaces=all_namespaces)
    marked = any(w.uid in blocked for w in wars)
    table = Table(layout.headers() + ["NOTE"] * marked, colour=use_colour(sys.stderr))
    rows = [
        layout.row(w, facts(w), t) + [UNADMITTED if w.uid in blocked else ""] * marked for w in wars
    ]
    confirm(
        f"You are about to delete the following {len(wars)} WAR(s):\n" + table.render(rows),
        refusal=f"refusing to delete {len(wars)} WAR(s) selected by flags without confirmation: "
        "no terminal to ask on; pass --yes (or preview with --dry-run=client)",
    )


def _wait(
    client: Kube, res: Resource, targets: list[Target], reregister: bool, timeout: float
) -> int:
    def report(t: deletion.Target) -> None:
        if reregister:
            write(
                f'{RESOURCE_NAME} "{t.name}" re-registered in {t.namespace} namespace '
                f"(new uid {t.new_uid}, agent connected)\n"
            )
        else:
            write(f'{RESOURCE_NAME} "{t.name}" gone from {t.namespace} namespace\n')
        sys.stdout.flush()

    late = deletion.wait_for(
        client, res, targets, reregister=reregister, timeout=timeout, on_done=report
    )
    for t in late:
        sys.stderr.write(
            f'error: {RESOURCE_NAME} "{t.name}" in {t.namespace} namespace did not '
            f"{'return' if reregister else 'go'} within {_dur(timeout)}: "
            f"{t.waiting_on(reregister)}\n"
        )
    return len(late)


def _dur(seconds: float) -> str:
    return human_duration(seconds)
