"""`kubectl war rollout`'s progressive flags (`--canary`, `--canary-pause`, `--check`,
`--check-timeout`, `--approve-each`) and the `rollout.progressive.Gate` they make: the
questions asked on a terminal, the environment checks run in."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kubectl_war.cli import options as opt
from kubectl_war.cli import prompt
from kubectl_war.durations import go_duration, human_duration, parse_duration
from kubectl_war.errors import UsageError, WarError
from kubectl_war.render import NONE, Table
from kubectl_war.rollout.plan import parse_canary
from kubectl_war.rollout.progressive import Gate, parse_check
from kubectl_war.rollout.view import plural

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.config import Connection
    from kubectl_war.rollout.journal import Journal
    from kubectl_war.rollout.plan import Batch, Canary, GroupPlan
    from kubectl_war.rollout.progress import Event
    from kubectl_war.rollout.progressive import BatchBack, Check
    from kubectl_war.war import War

F = TypeVar("F", bound=Callable[..., Any])

#: `--check-timeout`, as a user types it (rollout.progressive.DEFAULT_CHECK_TIMEOUT).
DEFAULT_CHECK_TIMEOUT = "1m"


@dataclass(frozen=True)
class Progressive:
    """The progressive flags of one `rollout` invocation."""

    canary: Canary | None
    canary_pause: float | None
    checks: tuple[Check, ...]
    check_timeout: float
    approve_each: bool

    def validate(self, *, can_ask: bool) -> None:
        if self.canary_pause is not None and self.canary is None:
            raise UsageError("--canary-pause needs --canary: it is the pause after a canary")
        if self.approve_each and not can_ask:
            raise WarError(
                "--approve-each asks before every batch: no terminal to ask on "
                "(use --canary and --check to gate batches without one)"
            )

    def resume_flags(self) -> list[tuple[str, str | None, bool]]:
        """The flags a re-run needs, as `_resume_command` takes them."""
        flags: list[tuple[str, str | None, bool]] = [
            ("--canary", str(self.canary), self.canary is not None),
            (
                "--canary-pause",
                go_duration(self.canary_pause or 0),
                self.canary_pause is not None,
            ),
        ]
        flags += [("--check", c.command, True) for c in self.checks]
        custom = self.check_timeout != parse_duration(DEFAULT_CHECK_TIMEOUT)
        flags.append(("--check-timeout", go_duration(self.check_timeout), custom))
        flags.append(("--approve-each", None, self.approve_each))
        return flags

    def gate(
        self,
        kube: Connection,
        client: Kube,
        versions: Mapping[tuple[str, str], str],
        *,
        journal: Journal,
        confirmed: bool,
        sidecar_state: Callable[[War], str],
        suspended: Callable[[], AbstractContextManager[None]],
        report: Callable[[Event], None],
        interrupted: Callable[[], bool],
    ) -> Gate | None:
        """The gate between batches, or None when no progressive flag was given.

        Args:
            confirmed: the plan was just confirmed on the terminal (its first batch with it).
            sidecar_state: a WAR's sidecar state in words, for the canary question.
            suspended: a context manager that stops the live view while asking.
        """
        if self.canary is None and not self.checks and not self.approve_each:
            return None

        asking = prompt.can_ask()

        def ask_canary(back: BatchBack) -> bool:
            with suspended():
                return prompt.ask(canary_preview(back, sidecar_state)) == prompt.YES

        def approve(gp: GroupPlan, batch: Batch) -> str:
            with suspended():
                return prompt.ask(batch_preview(gp, batch), all_too=True)

        gate = Gate(
            checks=self.checks,
            check_timeout=self.check_timeout,
            env=check_env(kube, client),
            canary_pause=self.canary_pause,
            ask_canary=ask_canary if asking else None,
            approve=approve if self.approve_each else None,
            versions=versions,
            journal=journal,
            first_approved=confirmed,
            report=report,
            interrupted=interrupted,
        )
        return gate


def check_env(kube: Connection, client: Kube) -> dict[str, str]:
    """What every check starts with: the user's environment, the kubeconfig this rollout
    reads (KUBECONFIG) and its context (KUBECTL_WAR_CONTEXT, for `--context`)."""
    env = dict(os.environ)
    if kube.kubeconfig:
        env["KUBECONFIG"] = kube.kubeconfig
    env["KUBECTL_WAR_CONTEXT"] = client.context_name or ""
    return env


def canary_preview(back: BatchBack, sidecar_state: Callable[[War], str]) -> str:
    """The canary WARs, their sidecars and how long they have been back."""
    gp, now = back.group, time.monotonic()
    rows = []
    for war in back.wars:
        since = back.back_at.get(war.name)
        rows.append(
            [
                war.name,
                war.identity.zone_label or NONE,
                sidecar_state(war),
                human_duration(max(0.0, now - since)) if since is not None else NONE,
            ]
        )
    rest = sum(len(b.members) for b in gp.batches[back.batch.number - gp.offset :])
    head = f"Canary of WorkloadGroup {gp.ref} is back (batch {back.batch.number}/{gp.total}):\n"
    table = Table(["NAME", "ZONE", "SIDECAR", "BACK FOR"]).render(rows)
    left = f"Continuing re-onboards the {plural(rest, 'WAR')} left, batch by batch.\n"
    return head + table + left


def batch_preview(gp: GroupPlan, batch: Batch) -> str:
    names = ", ".join(m.name for m in batch.members)
    return (
        f"Next: batch {batch.number}/{gp.total} of WorkloadGroup {gp.ref}, "
        f"{plural(len(batch.members), 'WAR')}: {names}\n"
    )


def _canary(ctx: click.Context, param: click.Parameter, value: str | None) -> Canary | None:
    if value is None:
        return None
    return parse_canary(value)


def _checks(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[Check, ...]:
    return tuple(parse_check(v) for v in value)


def progressive_options(f: F) -> F:
    """The progressive flags, passed to the command as `progressive` (a `Progressive`)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        progressive = Progressive(
            kwargs.pop("canary"),
            kwargs.pop("canary_pause"),
            kwargs.pop("checks"),
            kwargs.pop("check_timeout") or 0.0,
            kwargs.pop("approve_each"),
        )
        return f(*args, progressive=progressive, **kwargs)

    decorators = [
        click.option(
            "--canary",
            metavar="N|N%",
            callback=_canary,
            help="Re-onboard a first batch of this many WARs (or this share of those to "
            "re-onboard), spread over zones, then pause: on a terminal, ask whether to go "
            "on; without one, wait --canary-pause, or stop (exit 0) for the same command "
            "to continue. At most what --max-unavailable allows.",
        ),
        opt.duration_option(
            "--canary-pause",
            help="Without a terminal: after the canary is back (and its checks passed), "
            "wait this long, then go on.",
        ),
        click.option(
            "--check",
            "checks",
            multiple=True,
            metavar="CMD",
            callback=_checks,
            help="After each batch is back, run CMD (split like a shell would, run without "
            "one) with KUBECTL_WAR_GROUP, _NAMESPACE, _BATCH, _BATCHES, _WARS, _IPS, "
            "KUBECONFIG and KUBECTL_WAR_CONTEXT set; anything but exit 0 stops the "
            "rollout (exit 1). Repeatable.",
        ),
        opt.duration_option(
            "--check-timeout",
            default=DEFAULT_CHECK_TIMEOUT,
            help="A --check still running after this fails (and is stopped).",
        ),
        click.option(
            "--approve-each",
            is_flag=True,
            help="On a terminal, ask before every batch (y, N, or a: all the rest).",
        ),
    ]
    out: Callable[..., Any] = wrapper
    for decorate in reversed(decorators):
        out = decorate(out)
    return cast("F", out)
