"""kubectl's connection flags, declared once (`CONNECTION_FLAGS`): the options every
command that reaches a cluster takes (`kube_options`), kubectl's global flags it refuses,
and the flags that pick many clusters at once (`fleet_options`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import click

from kubectl_war.cli.fleet import FleetFlags, split_contexts
from kubectl_war.durations import parse_duration
from kubectl_war.errors import UsageError, WarError, quote_input
from kubectl_war.kube.config import CONNECTION_FIELDS, Connection

F = TypeVar("F", bound=Callable[..., Any])


def _request_timeout(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """kubectl's --request-timeout: a duration, a bare number of seconds, 0 for none."""
    if value is None or value.strip() in ("", "0"):
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    seconds = parse_duration(text, flag="--request-timeout")
    return seconds or None


def _chunk_size(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 0:
        raise UsageError(f"invalid value {value} for --chunk-size: must be 0 (no paging) or more")
    return value


@dataclass(frozen=True)
class ConnectionFlag:
    """One of kubectl's connection flags, declared once: the option every command that
    reaches a cluster takes, and what the flag means beyond parsing.

    Attributes:
        field: the `Connection` field it sets.
        decls: the option's names (`-s`, `--server`).
        one_cluster: it picks or overrides one cluster's connection, so it cannot go with
            `--contexts`/`--all-contexts` (it would send every context to one server, or
            one cluster's credentials to all of them).
        rerun: a printed "run the same command again" line keeps it, so the re-run
            acts as the same user on the same cluster.
        secret: never printed (a re-run line says to pass it again).
    """

    field: str
    decls: tuple[str, ...]
    help: str
    metavar: str | None = None
    one_cluster: bool = False
    rerun: bool = True
    secret: bool = False
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> str:
        """The long name users type (`--server`)."""
        return next(d for d in self.decls if d.startswith("--"))

    def option(self) -> Callable[[F], F]:
        kwargs: dict[str, Any] = dict(self.extra)
        if self.metavar:
            kwargs["metavar"] = self.metavar
        return click.option(*self.decls, self.field, help=self.help, **kwargs)

    def argv(self, value: Any) -> list[str]:
        """The words that give `value` to this flag again ([] for its default)."""
        if value in (None, False, (), ""):
            return []
        if value is True:
            return [self.name]
        if isinstance(value, tuple):
            return [word for item in value for word in (self.name, str(item))]
        if isinstance(value, float):
            value = f"{value:g}s"
        return [self.name, str(value)]


CONNECTION_FLAGS: tuple[ConnectionFlag, ...] = (
    ConnectionFlag("kubeconfig", ("--kubeconfig",), "Path to the kubeconfig file to use.", "PATH"),
    ConnectionFlag(
        "context", ("--context",), "The kubeconfig context to use.", "NAME", one_cluster=True
    ),
    ConnectionFlag(
        "cluster", ("--cluster",), "The kubeconfig cluster to use.", "NAME", one_cluster=True
    ),
    ConnectionFlag("user", ("--user",), "The kubeconfig user to use.", "NAME", one_cluster=True),
    ConnectionFlag(
        "namespace", ("-n", "--namespace"), "The namespace to look in.", "NS", rerun=False
    ),
    ConnectionFlag(
        "all_namespaces",
        ("-A", "--all-namespaces"),
        "Look in every namespace (ignores -n).",
        rerun=False,
        extra=(("is_flag", True),),
    ),
    ConnectionFlag("as_user", ("--as",), "Username to impersonate.", "USER"),
    ConnectionFlag(
        "as_groups",
        ("--as-group",),
        "Group to impersonate; repeat for several.",
        "GROUP",
        extra=(("multiple", True),),
    ),
    ConnectionFlag("as_uid", ("--as-uid",), "UID to impersonate.", "UID"),
    ConnectionFlag(
        "as_user_extra",
        ("--as-user-extra",),
        "User extra to impersonate (KEY=VALUE); repeat for several.",
        "KEY=VALUE",
        extra=(("multiple", True), ("callback", lambda c, p, v: _user_extra(v))),
    ),
    ConnectionFlag(
        "request_timeout",
        ("--request-timeout",),
        "How long to wait for one server request (e.g. 30s); 0 waits forever.",
        "DURATION",
        extra=(("default", "0"), ("callback", lambda c, p, v: _request_timeout(c, p, v))),
    ),
    ConnectionFlag(
        "server", ("-s", "--server"), "The API server's address.", "URL", one_cluster=True
    ),
    ConnectionFlag(
        "proxy_url",
        ("--proxy-url",),
        "Send requests through this proxy (http, https or socks5 URL).",
        "URL",
        one_cluster=True,
    ),
    ConnectionFlag(
        "token",
        ("--token",),
        "Bearer token for the API server.",
        "TOKEN",
        one_cluster=True,
        secret=True,
    ),
    ConnectionFlag(
        "certificate_authority",
        ("--certificate-authority",),
        "A CA certificate file to trust.",
        "PATH",
        one_cluster=True,
    ),
    ConnectionFlag(
        "client_certificate",
        ("--client-certificate",),
        "A client certificate file for TLS.",
        "PATH",
        one_cluster=True,
    ),
    ConnectionFlag(
        "client_key",
        ("--client-key",),
        "A client key file for TLS.",
        "PATH",
        one_cluster=True,
    ),
    ConnectionFlag(
        "tls_server_name",
        ("--tls-server-name",),
        "The server name to check the server's certificate against (default: its host).",
        "NAME",
        one_cluster=True,
    ),
    ConnectionFlag(
        "insecure_skip_tls_verify",
        ("--insecure-skip-tls-verify",),
        "Do not check the server's certificate (insecure).",
        one_cluster=True,
        extra=(("is_flag", True),),
    ),
    ConnectionFlag(
        "disable_compression",
        ("--disable-compression",),
        "Ask for uncompressed answers (kubectl war never asks for compressed ones).",
        rerun=False,
        extra=(("is_flag", True),),
    ),
    ConnectionFlag(
        "chunk_size",
        ("--chunk-size",),
        "List in pages of this many objects (0: one page).",
        rerun=False,
        extra=(
            ("type", int),
            ("default", 500),
            ("show_default", True),
            ("callback", lambda c, p, v: _chunk_size(c, p, v)),
        ),
    ),
    ConnectionFlag(
        "debug",
        ("--debug",),
        "Log each API request; show tracebacks.",
        rerun=False,
        extra=(("is_flag", True),),
    ),
)

# kubectl's global flags that kubectl war does not honour, each with why. They are
# refused by name (exit 1), never accepted and ignored.
UNSUPPORTED_GLOBALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("--username", "--password"),
        "basic authentication is not supported: use a token, "
        "a client certificate or the kubeconfig's credentials",
    ),
    (("--cache-dir",), "kubectl war keeps no discovery cache"),
    (("--kuberc",), "kubectl war reads no kuberc preferences"),
    (("--match-server-version",), "kubectl war does not compare its version with the server's"),
    (("--warnings-as-errors",), "the server's warnings are printed but never turned into errors"),
    (("--profile", "--profile-output"), "kubectl war has no profiler; see make bench"),
    (("-v", "--v", "--vmodule", "--log-flush-frequency"), "use --debug to log each request"),
)


def _user_extra(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        key, eq, _ = value.partition("=")
        if not eq or not key:
            raise UsageError(
                f"invalid value {quote_input(value)} for --as-user-extra: want KEY=VALUE"
            )
    return values


def _refuse(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None:
        return
    name = param.opts[0]
    why = next(why for names, why in UNSUPPORTED_GLOBALS if name in names)
    raise WarError(f"{name} is a kubectl flag that kubectl war does not support: {why}")


def _refused_options() -> list[Callable[[F], F]]:
    options: list[Callable[[F], F]] = []
    for names, _ in UNSUPPORTED_GLOBALS:
        for name in names:
            options.append(
                click.option(
                    name,
                    f"refused_{name.lstrip('-').replace('-', '_')}",
                    is_flag=False,
                    flag_value="true",
                    default=None,
                    hidden=True,
                    expose_value=False,
                    callback=_refuse,
                )
            )
    return options


_KUBE_OPTIONS = [flag.option() for flag in CONNECTION_FLAGS]


def kube_options(f: F) -> F:
    """Adds kubectl's connection flags (and refuses kubectl's global flags it does not
    support); the command receives them as `kube: Connection`."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = Connection.from_flags({name: kwargs.pop(name) for name in CONNECTION_FIELDS})
        return f(*args, kube=flags, **kwargs)

    for option in reversed([*_KUBE_OPTIONS, *_refused_options()]):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


# The connection flags istioctl proxy-status has too: all others are refused for it.
_ISTIOCTL_TAKES = ("kubeconfig", "context")


def istioctl_cannot_take(kube: Connection) -> tuple[str, ...]:
    """The connection flags given that istioctl cannot be handed: each would make it
    ask another cluster, or as another user."""
    return tuple(
        flag.name
        for flag in CONNECTION_FLAGS
        if (flag.one_cluster or flag.field.startswith("as_"))
        and flag.field not in _ISTIOCTL_TAKES
        and flag.argv(getattr(kube, flag.field))
    )


# ---- many clusters at once ----------------------------------------------------------------


def _fleet_conflicts(kube: Connection | None, fleet: FleetFlags) -> None:
    if fleet.contexts and fleet.all_contexts:
        raise UsageError("--contexts and --all-contexts exclude each other")
    if fleet.ignore_unreachable and not fleet.active:
        raise UsageError("--ignore-unreachable goes with --contexts or --all-contexts")
    if kube is None or not fleet.active:
        return
    given = "--all-contexts" if fleet.all_contexts else "--contexts"
    for flag in CONNECTION_FLAGS:
        if flag.one_cluster and getattr(kube, flag.field):
            raise UsageError(
                f"{flag.name} and {given} exclude each other: {flag.name} applies to one cluster"
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
                kwargs["kube"] = replace(kube, context=fleet.contexts[0])
            return f(*args, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate
