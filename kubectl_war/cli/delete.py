"""`kubectl war delete`: exact, previewed, precondition-guarded deletion."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

import click

from kubectl_war.assess import Facts
from kubectl_war.cli import options as opt
from kubectl_war.cli.contexts import no_resources
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.render import write
from kubectl_war.selectors import matches
from kubectl_war.war import RESOURCE_NAME, War


@click.command("delete")
@opt.kube_options
@opt.war_names
@opt.selector_option("Delete the WARs matching this.")
@opt.group_option("Only WARs of this WorkloadGroup; repeat for several.")
@click.option(
    "--disconnected",
    is_flag=True,
    help="Only WARs whose agent dropped off (AgentConnected False). WARs whose agent "
    "never reported are left out: use --agent-unknown.",
)
@click.option(
    "--agent-unknown",
    is_flag=True,
    help="Only WARs with no agent state: no AgentConnected condition yet (just "
    "registered), or one whose status is Unknown.",
)
@opt.duration_option(
    "--older-than",
    help="With --disconnected: disconnected for longer than this, counted from when "
    "AgentConnected turned False.",
)
@click.option("--outdated", is_flag=True, help="Only WARs older than their WorkloadGroup's spec.")
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
def delete_cmd(
    kube: Connection,
    names: tuple[str, ...],
    selector: str | None,
    groups: tuple[str, ...],
    disconnected: bool,
    agent_unknown: bool,
    older_than: float | None,
    outdated: bool,
    all_: bool,
    yes: bool,
    dry_run: str,
    wait: bool,
    wait_reregistered: bool,
    timeout: float | None,
    ignore_not_found: bool,
    output: str | None,
    grace_period: float,
) -> None:
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
    from kubectl_war import deletion, listing, snapshot
    from kubectl_war.assess import assess

    by_selector = bool(selector or groups or disconnected or agent_unknown or outdated or all_)
    if not names and not by_selector:
        raise UsageError(
            "name WARs to delete, or select them with -l, --group, "
            "--disconnected, --outdated or --all"
        )
    agent = listing.agent_flag(False, disconnected, agent_unknown)
    if names and all_:
        raise UsageError("names cannot be combined with --all")
    if names and kube.all_namespaces:
        raise UsageError("a WAR name cannot be combined with -A: names are per namespace (-n)")
    if older_than is not None and not disconnected:
        raise UsageError("--older-than goes with --disconnected")
    if wait and wait_reregistered:
        raise UsageError("choose one of --wait and --wait-reregistered")
    if dry_run != "none" and (wait or wait_reregistered):
        raise UsageError("--wait and --wait-reregistered cannot be used with --dry-run")

    from kubectl_war.kube.client import Kube

    client = Kube(kube)
    res = client.war_resource()
    missing: list[str] = []
    if names:
        snap, missing = snapshot.take_named(client, client.namespace, list(names))
    else:
        namespace = None if kube.all_namespaces else client.namespace
        snap = snapshot.take(client, namespace, label_selector=selector)
    snapshot.fetch_groups(client, snap, needed_by="--outdated" if outdated else None)
    t = opt.now()

    def facts(war: War) -> Facts:
        return assess(war, snap, t, grace_period)

    def selected(war: War) -> bool:
        if selector and names and not matches(selector, war.labels):
            return False
        return bool(
            listing.select(
                [war],
                groups=groups,
                agent=agent,
                older_than=older_than,
                now=opt.now(),
                outdated=outdated,
                facts=facts,
            )
        )

    wars = [w for w in snap.wars if selected(w)]
    failures = 0
    for name in missing:
        if not ignore_not_found:
            sys.stderr.write(snapshot.not_found(name) + "\n")
            failures += 1
    if not wars:
        if by_selector and not names:
            sys.stderr.write(no_resources([None]) + "\n")
        sys.exit(1 if failures else 0)

    if by_selector and dry_run == "none" and not yes:
        _confirm(wars, facts, t, all_namespaces=snap.namespace is None)

    outcomes = []
    for outcome in deletion.delete_wars(
        client, res, wars, dry_run=_dry(dry_run), still_selected=selected
    ):
        outcomes.append(outcome)
        if outcome.failed:
            failures += 1
            sys.stderr.write(outcome.line() + "\n")
        elif output == "name":
            if outcome.deleted:
                write(f"{RESOURCE_NAME}/{outcome.war.name}\n")
        else:
            write(outcome.line() + "\n")
        sys.stdout.flush()

    if wait or wait_reregistered:
        targets = [
            deletion.Target(o.war.namespace, o.war.name, o.war.uid)
            for o in outcomes
            if o.result == deletion.DELETED
        ]
        if targets:
            failures += _wait(client, res, targets, wait_reregistered, timeout or 300.0)
    if failures:
        sys.exit(1)


def _dry(value: str) -> str | None:
    return None if value == "none" else value


def _confirm(
    wars: list[War], facts: Callable[[War], Facts], t: datetime, *, all_namespaces: bool
) -> None:
    """Show what will be deleted and ask; without a terminal, refuse."""
    from kubectl_war import listing
    from kubectl_war.cli.prompt import confirm
    from kubectl_war.render import Table, use_colour

    cols = listing.headers(all_namespaces=all_namespaces, wide=False)
    table = Table(cols, colour=use_colour(sys.stderr))
    rows = [listing.row(w, facts(w), t, all_namespaces=all_namespaces, wide=False) for w in wars]
    confirm(
        f"You are about to delete the following {len(wars)} WAR(s):\n" + table.render(rows),
        refusal=f"refusing to delete {len(wars)} WAR(s) selected by flags without confirmation: "
        "no terminal to ask on; pass --yes (or preview with --dry-run=client)",
    )


def _wait(client: object, res: object, targets: list, reregister: bool, timeout: float) -> int:
    from kubectl_war import deletion

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
    )  # type: ignore[arg-type]
    for t in late:
        sys.stderr.write(
            f'error: {RESOURCE_NAME} "{t.name}" in {t.namespace} namespace did not '
            f"{'return' if reregister else 'go'} within {_dur(timeout)}: "
            f"{t.waiting_on(reregister)}\n"
        )
    return len(late)


def _dur(seconds: float) -> str:
    from kubectl_war.durations import human_duration

    return human_duration(seconds)
