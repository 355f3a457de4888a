"""Flags shared by many commands, as decorator factories (one definition each)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import click

from kubectl_war.errors import UsageError
from kubectl_war.kube.config import CONNECTION_FIELDS, Connection

F = TypeVar("F", bound=Callable[..., Any])

OUTPUTS = ("table", "wide", "json", "yaml", "name")
# Set to an RFC3339 time to make ages and countdowns reproducible (tests, demos).
NOW_ENV = "KUBECTL_WAR_NOW"


def _request_timeout(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """kubectl's --request-timeout: a duration, a bare number of seconds, 0 for none."""
    if value is None or value.strip() in ("", "0"):
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    from kubectl_war.durations import parse_duration

    seconds = parse_duration(text, flag="--request-timeout")
    return seconds or None


def _chunk_size(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 0:
        raise UsageError(f"invalid value {value} for --chunk-size: must be 0 (no paging) or more")
    return value


def object_names(
    what: str,
) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], tuple[str, ...]]:
    """A callback that refuses, before any request, names no `what` can have (exit 2)."""

    def check(
        ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
    ) -> tuple[str, ...]:
        from kubectl_war.names import check_object_name

        return tuple(check_object_name(name, what) for name in value)

    return check


_KUBE_OPTIONS = [
    click.option("--kubeconfig", metavar="PATH", help="Path to the kubeconfig file to use."),
    click.option("--context", metavar="NAME", help="The kubeconfig context to use."),
    click.option("--cluster", metavar="NAME", help="The kubeconfig cluster to use."),
    click.option("--user", metavar="NAME", help="The kubeconfig user to use."),
    click.option("-n", "--namespace", metavar="NS", help="The namespace to look in."),
    click.option(
        "-A", "--all-namespaces", is_flag=True, help="Look in every namespace (ignores -n)."
    ),
    click.option("--as", "as_user", metavar="USER", help="Username to impersonate."),
    click.option(
        "--as-group",
        "as_groups",
        multiple=True,
        metavar="GROUP",
        help="Group to impersonate; repeat for several.",
    ),
    click.option(
        "--request-timeout",
        default="0",
        metavar="DURATION",
        callback=_request_timeout,
        help="How long to wait for one server request (e.g. 30s); 0 waits forever.",
    ),
    click.option("-s", "--server", metavar="URL", help="The API server's address."),
    click.option("--token", metavar="TOKEN", help="Bearer token for the API server."),
    click.option("--certificate-authority", metavar="PATH", help="A CA certificate file to trust."),
    click.option(
        "--insecure-skip-tls-verify",
        is_flag=True,
        help="Do not check the server's certificate (insecure).",
    ),
    click.option(
        "--chunk-size",
        type=int,
        default=500,
        show_default=True,
        callback=_chunk_size,
        help="List in pages of this many objects (0: one page).",
    ),
    click.option("--debug", is_flag=True, help="Log each API request; show tracebacks."),
]


def kube_options(f: F) -> F:
    """Adds kubectl's connection flags; the command receives them as `kube: Connection`
    (the names click passes are exactly the `Connection` fields)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = Connection(**{name: kwargs.pop(name) for name in CONNECTION_FIELDS})
        return f(*args, kube=flags, **kwargs)

    for option in reversed(_KUBE_OPTIONS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def output_option(
    choices: tuple[str, ...] = OUTPUTS, *, help: str = "Output format."
) -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def selector_option(help: str) -> Callable[[F], F]:
    """`-l/--selector`: a label selector, sent to the server as kubectl sends it."""
    return click.option("-l", "--selector", metavar="SELECTOR", help=help)


def group_option(help: str) -> Callable[[F], F]:
    """`--group`, repeatable: WorkloadGroup names, passed as `groups`."""
    return click.option("--group", "groups", multiple=True, metavar="WORKLOADGROUP", help=help)


#: The WAR names a command takes, checked before any request.
war_names = click.argument("names", nargs=-1, metavar="[NAME]...", callback=object_names("WAR"))


def now() -> datetime:
    """The current time, or the one `KUBECTL_WAR_NOW` pins for reproducible output."""
    pinned = os.environ.get(NOW_ENV)
    if pinned:
        from kubectl_war.durations import parse_timestamp

        parsed = parse_timestamp(pinned)
        if parsed is None:
            raise UsageError(f"invalid {NOW_ENV}={pinned!r}: expected an RFC3339 time")
        return parsed
    return datetime.now(timezone.utc)


def _grace(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from kubectl_war.durations import parse_duration

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
        from kubectl_war.durations import parse_duration

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
        client: Any,
        *,
        default: str,
        notice: Callable[[str], None] | None = None,
    ) -> Any:
        """The `sidecars.sources.SidecarSource` to read, or None (`none`, or `auto` found nothing).

        Why `auto` passed over a source goes to `notice`, else (with --debug) to stderr.
        """
        from kubectl_war.sidecars.sources import open_source

        if notice is None and kube.debug:

            def notice(line: str) -> None:
                sys.stderr.write(f"debug: proxy-status: {line}\n")

        return open_source(
            client,
            self.spec(default),
            istio_namespace=self.istio_namespace,
            kubeconfig=kube.kubeconfig,
            context=kube.context,
            timeout=self.timeout,
            notice=notice,
            max_size=self.max_size,
        )


def _proxy_status_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from kubectl_war.sidecars.sources import check_spec

    return check_spec(value)


def _proxy_status_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    from kubectl_war.durations import parse_duration

    return parse_duration(value, flag="--proxy-status-timeout") or None


def _proxy_status_max_size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from kubectl_war.sidecars.limits import parse_size

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
            help=(
                "Where sidecar sync state comes from: istiod (its /debug/syncz through the "
                "API server), istioctl (istioctl proxy-status), file:PATH or - (saved "
                "output, text or JSON), auto (istiod, then istioctl, then none), none. "
                f"Default: {shown}."
            ),
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

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            flags = SidecarFlags(
                kwargs.pop("proxy_status"),
                kwargs.pop("istio_namespace"),
                kwargs.pop("proxy_status_timeout"),
                kwargs.pop("proxy_status_max_size"),
            )
            return f(*args, sidecars=flags, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


# ---- many clusters at once ----------------------------------------------------------------

# Flags that pick or override one cluster's connection: with a fleet they would send
# every context to the same server, or one cluster's credentials to all of them.
_ONE_CLUSTER_FLAGS = (
    ("context", "--context"),
    ("cluster", "--cluster"),
    ("user", "--user"),
    ("server", "--server"),
    ("token", "--token"),
    ("certificate_authority", "--certificate-authority"),
)


def _fleet_conflicts(kube: Connection | None, fleet: Any) -> None:
    if fleet.contexts and fleet.all_contexts:
        raise UsageError("--contexts and --all-contexts exclude each other")
    if fleet.ignore_unreachable and not fleet.active:
        raise UsageError("--ignore-unreachable goes with --contexts or --all-contexts")
    if kube is None or not fleet.active:
        return
    given = "--all-contexts" if fleet.all_contexts else "--contexts"
    for attr, flag in _ONE_CLUSTER_FLAGS:
        if getattr(kube, attr):
            raise UsageError(
                f"{flag} and {given} exclude each other: {flag} applies to one cluster"
            )


def fleet_options(*, single: str | None = None) -> Callable[[F], F]:
    """Adds `--contexts`, `--all-contexts` and `--ignore-unreachable`; the command
    receives them as `fleet: fleet.FleetFlags`. Goes below `kube_options`.

    Args:
        single: for a command that acts on one cluster only, why (for the refusal):
            `--contexts` must then name exactly one context and means `--context`;
            the command receives the adjusted `kube` and no `fleet`.
    """
    if single:
        options = [
            click.option(
                "--contexts",
                "contexts",
                multiple=True,
                metavar="CONTEXT",
                help="The one kubeconfig context to act in, like --context: this command "
                "works on one cluster at a time.",
            ),
            click.option("--all-contexts", is_flag=True, hidden=True),
            click.option("--ignore-unreachable", is_flag=True, hidden=True),
        ]
    else:
        options = [
            click.option(
                "--contexts",
                "contexts",
                multiple=True,
                metavar="CTX1,CTX2",
                help="Ask these kubeconfig contexts at once (comma-separated, or repeat "
                "the flag); output gains a CONTEXT column.",
            ),
            click.option(
                "--all-contexts", is_flag=True, help="Ask every context in the kubeconfig at once."
            ),
            click.option(
                "--ignore-unreachable",
                is_flag=True,
                help="Exit 0 even when some contexts fail (each is still named on stderr).",
            ),
        ]

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from kubectl_war.cli.fleet import FleetFlags, split_contexts

            fleet = FleetFlags(
                split_contexts(kwargs.pop("contexts")),
                kwargs.pop("all_contexts"),
                kwargs.pop("ignore_unreachable"),
            )
            kube = kwargs.get("kube")
            _fleet_conflicts(kube, fleet)
            if not single:
                return f(*args, fleet=fleet, **kwargs)
            if fleet.ignore_unreachable:
                raise UsageError("--ignore-unreachable goes with commands that read many clusters")
            if fleet.all_contexts or len(fleet.contexts) > 1:
                name = click.get_current_context().command_path
                given = "--all-contexts" if fleet.all_contexts else "several --contexts"
                raise UsageError(
                    f"{name} works on one cluster at a time and refuses {given}: {single}; "
                    "run it once per context (--context NAME)"
                )
            if fleet.contexts and kube is not None:
                from dataclasses import replace

                kwargs["kube"] = replace(kube, context=fleet.contexts[0])
            return f(*args, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate
