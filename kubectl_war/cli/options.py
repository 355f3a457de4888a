"""Flags shared by many commands, as decorator factories (one definition each).

kubectl's connection flags and the fleet flags are in `cli.connection_flags`, the output
flags in `cli.output_flags`."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kubectl_war import sidecars
from kubectl_war.cli.connection_flags import istioctl_cannot_take
from kubectl_war.durations import parse_duration, parse_timestamp
from kubectl_war.errors import UsageError
from kubectl_war.kube.config import Connection
from kubectl_war.listing import agent_flag
from kubectl_war.names import check_object_name
from kubectl_war.sidecars import kinds as source_kinds
from kubectl_war.sidecars.limits import parse_size

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube
    from kubectl_war.sidecars.sources import SidecarSource
    from kubectl_war.war import AgentState

F = TypeVar("F", bound=Callable[..., Any])

# Set to an RFC3339 time to make ages and countdowns reproducible (tests, demos).
NOW_ENV = "KUBECTL_WAR_NOW"


def object_names(
    what: str,
) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], tuple[str, ...]]:
    """A callback that refuses, before any request, names no `what` can have (exit 1)."""

    def check(
        ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
    ) -> tuple[str, ...]:
        return tuple(check_object_name(name, what) for name in value)

    return check


def selector_option(help: str) -> Callable[[F], F]:
    """`-l/--selector`: a label selector, sent to the server as kubectl sends it."""
    return click.option("-l", "--selector", metavar="SELECTOR", help=help)


def group_option(help: str) -> Callable[[F], F]:
    """`--group`, repeatable: WorkloadGroup names, passed as `groups`."""
    return click.option("--group", "groups", multiple=True, metavar="WORKLOADGROUP", help=help)


def flag_group(
    field: str, options: Sequence[Callable[[F], F]], build: Callable[..., Any]
) -> Callable[[F], F]:
    """Flags declared together and handed to the command as one value: the command
    receives `build(**flags)` as `field` instead of the group's flags one by one."""

    def decorate(f: F) -> F:
        names: list[str] = []

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[field] = build(**{name: kwargs.pop(name) for name in names})
            return f(*args, **kwargs)

        decorated = cast(F, wrapper)  # functools.wraps keeps f's signature
        before = len(getattr(decorated, "__click_params__", ()))
        for option in reversed(options):
            decorated = option(decorated)
        params = decorated.__click_params__[before:]  # type: ignore[attr-defined]  # click's
        names.extend(p.name for p in params if p.name)
        return decorated

    return decorate


@dataclass(frozen=True)
class AgentFilter:
    """The agent-state filters of one invocation (`agent_filter_options`).

    Attributes:
        connected, disconnected, unknown: `--connected`, `--disconnected`, `--agent-unknown`
            (at most one of them; see `state`).
        older_than: `--older-than` in seconds, None when not given.
        outdated: `--outdated`.
    """

    connected: bool = False
    disconnected: bool = False
    unknown: bool = False
    older_than: float | None = None
    outdated: bool = False

    @property
    def selects(self) -> bool:
        """Whether any of these flags narrows the selection."""
        return self.connected or self.disconnected or self.unknown or self.outdated

    def state(self) -> AgentState | None:
        """The `war.AgentState` chosen, or None; a UsageError when several are given."""
        return agent_flag(self.connected, self.disconnected, self.unknown)

    def check_older_than(self) -> None:
        if self.older_than is not None and not self.disconnected:
            raise UsageError("--older-than goes with --disconnected")


def agent_filter_options(*, connected: bool = True) -> Callable[[F], F]:
    """Adds `--connected`, `--disconnected`, `--agent-unknown`, `--older-than` and
    `--outdated`; the command receives them as `agent: AgentFilter`.

    Args:
        connected: offer `--connected` (a command that deletes does not).
    """
    # Separate flags, not one parameter with several flag values: click 8.1 (the last
    # release for Python 3.9) gives such a parameter the last flag's value when none is given.
    options = [
        click.option(
            "--connected",
            is_flag=True,
            help="Only WARs whose agent is connected (AgentConnected True).",
        ),
        click.option(
            "--disconnected",
            is_flag=True,
            help="Only WARs whose agent dropped off (AgentConnected False). WARs whose agent "
            "never reported are left out: use --agent-unknown.",
        ),
        click.option(
            "--agent-unknown",
            "unknown",
            is_flag=True,
            help="Only WARs with no agent state: no AgentConnected condition yet (just "
            "registered), or one whose status is Unknown.",
        ),
        duration_option(
            "--older-than",
            help="With --disconnected: only agents disconnected for longer than this, counted "
            "from when AgentConnected turned False.",
        ),
        click.option(
            "--outdated",
            is_flag=True,
            help="Only WARs older than their WorkloadGroup's spec change.",
        ),
    ]
    return flag_group("agent", options if connected else options[1:], AgentFilter)


#: The WAR names a command takes, checked before any request.
war_names = click.argument("names", nargs=-1, metavar="[NAME]...", callback=object_names("WAR"))


def now() -> datetime:
    """The current time, or the one `KUBECTL_WAR_NOW` pins for reproducible output."""
    pinned = os.environ.get(NOW_ENV)
    if pinned:
        parsed = parse_timestamp(pinned)
        if parsed is None:
            raise UsageError(f"invalid {NOW_ENV}={pinned!r}: expected an RFC3339 time")
        return parsed
    return datetime.now(timezone.utc)


def _grace(ctx: click.Context, param: click.Parameter, value: str) -> float:
    return parse_duration(value, flag="--grace-period")


#: The onboarding endpoint's documented default for how long it keeps a disconnected agent.
DEFAULT_GRACE_PERIOD = "5m"

grace_option = click.option(
    "--grace-period",
    default=DEFAULT_GRACE_PERIOD,
    show_default=True,
    metavar="DURATION",
    callback=_grace,
    help="How long the onboarding endpoint keeps a disconnected agent's WAR.",
)


def duration_option(name: str, *, default: str | None = None, help: str) -> Callable[[F], F]:
    """A Go-style duration flag (30s, 2m, 1h), parsed to seconds; None when not given."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
        if value is None:
            return None
        return parse_duration(value, flag=name)

    return click.option(
        name,
        default=default,
        show_default=default is not None,
        metavar="DURATION",
        callback=parse,
        help=help,
    )


@dataclass
class SidecarFlags:
    """The `--proxy-status` flags of one invocation.

    Attributes:
        source: the SOURCE given, None when the flag was not given (the command's
            default applies).
        istio_namespace: where istiod runs.
        timeout: seconds one fetch from an explicitly chosen source may take.
        max_size: the most bytes one answer of the source may be (`--proxy-status-max-size`).
    """

    source: str | None
    istio_namespace: str
    timeout: float | None
    max_size: int

    def spec(self, default: str) -> str:
        return self.source if self.source is not None else default

    def open(
        self,
        kube: Connection,
        client: Kube,
        *,
        default: str,
        notice: Callable[[str], None] | None = None,
    ) -> SidecarSource | None:
        """The `sidecars.sources.SidecarSource` to read, or None (`none`, or `auto` found nothing).

        Why `auto` passed over a source goes to `notice`, else (with --debug) to stderr.
        """
        if notice is None and kube.debug:

            def notice(line: str) -> None:
                sys.stderr.write(f"debug: proxy-status: {line}\n")

        return sidecars.open_source(
            client,
            self.spec(default),
            istio_namespace=self.istio_namespace,
            kubeconfig=kube.kubeconfig,
            context=kube.context,
            timeout=self.timeout,
            notice=notice,
            max_size=self.max_size,
            unpassable=istioctl_cannot_take(kube),
        )


def _proxy_status_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else source_kinds.check(value)


def _proxy_status_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    return parse_duration(value, flag="--proxy-status-timeout") or None


def _proxy_status_max_size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    return parse_size(value)


def proxy_status_options(
    default: str = "auto", *, default_help: str | None = None
) -> Callable[[F], F]:
    """Adds `--proxy-status SOURCE`, `--istio-namespace`, `--proxy-status-timeout` and
    `--proxy-status-max-size`; the command receives them as `sidecars: SidecarFlags`.

    Args:
        default: the SOURCE the command uses when the flag is not given (for help).
        default_help: how to describe that default when it depends on other flags.
    """
    shown = default_help or default
    options = [
        click.option(
            "--proxy-status",
            "proxy_status",
            metavar="SOURCE",
            callback=_proxy_status_spec,
            help=source_kinds.help_text(shown),
        ),
        click.option(
            "--istio-namespace",
            default="istio-system",
            show_default=True,
            metavar="NS",
            help="The namespace istiod runs in.",
        ),
        click.option(
            "--proxy-status-timeout",
            default="10s",
            show_default=True,
            metavar="DURATION",
            callback=_proxy_status_timeout,
            help="How long istiod or istioctl may take to answer (auto allows 2s each).",
        ),
        click.option(
            "--proxy-status-max-size",
            default="256Mi",
            show_default=True,
            metavar="SIZE",
            callback=_proxy_status_max_size,
            help=(
                "The most a proxy-status source may give (a file, stdin, an istiod's answer, "
                "istioctl's output), as 64Mi, 1Gi or 500M: more is an error, not read."
            ),
        ),
    ]

    return flag_group("sidecars", options, _sidecar_flags)


def _sidecar_flags(
    proxy_status: str | None,
    istio_namespace: str,
    proxy_status_timeout: float | None,
    proxy_status_max_size: int,
) -> SidecarFlags:
    return SidecarFlags(proxy_status, istio_namespace, proxy_status_timeout, proxy_status_max_size)
