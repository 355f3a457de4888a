"""Flags shared by many commands, as decorator factories (one definition each)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kubectl_war.cli.fleet import FleetFlags, split_contexts
from kubectl_war.durations import parse_duration, parse_timestamp
from kubectl_war.errors import UsageError, WarError, quote_input
from kubectl_war.kube.config import CONNECTION_FIELDS, Connection
from kubectl_war.listing import agent_flag
from kubectl_war.names import check_object_name
from kubectl_war.outputs import GO_TEMPLATES, TEMPLATE_FORMATS
from kubectl_war.render import to_document, write
from kubectl_war.sidecars import kinds as source_kinds
from kubectl_war.sidecars.limits import parse_size

if TYPE_CHECKING:
    from kubectl_war.cli.fleet import FleetFlags
    from kubectl_war.kube.client import Kube
    from kubectl_war.sidecars.sources import SidecarSource
    from kubectl_war.war import AgentState

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
    seconds = parse_duration(text, flag="--request-timeout")
    return seconds or None


def _chunk_size(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 0:
        raise UsageError(f"invalid value {value} for --chunk-size: must be 0 (no paging) or more")
    return value


def object_names(
    what: str,
) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], tuple[str, ...]]:
    """A callback that refuses, before any request, names no `what` can have (exit 1)."""

    def check(
        ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
    ) -> tuple[str, ...]:
        return tuple(check_object_name(name, what) for name in value)

    return check


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


# Not `click.Choice[str]`: click 8.1 (the last for Python 3.9) has no generic Choice.
class OutputFormat(click.Choice):  # type: ignore[type-arg]
    """An `-o` value: one of the command's own formats or, with `templates`, one of kubectl's
    template printers (`jsonpath=TEMPLATE`, `custom-columns=SPEC`, ...).

    A template is parsed here, so a bad one fails before any request; the printer itself
    is built when the output is written (`printer`), with the flags that shape it.
    """

    def __init__(self, formats: Sequence[str], *, templates: bool) -> None:
        # kubectl 1.34+ prints -o kyaml wherever it prints -o yaml.
        shown: list[str] = []
        for name in formats:
            shown += [name, "kyaml"] if name == "yaml" and "kyaml" not in formats else [name]
        self.formats = tuple(shown)
        self.templates = templates
        # The choices are what completion offers: `jsonpath=` and the like end with `=`.
        super().__init__([*self.formats, *(f"{t}=" for t in TEMPLATE_FORMATS if templates)])

    def get_metavar(self, param: click.Parameter, ctx: Any = None) -> str:
        shown = [*self.formats, *(("jsonpath=...", "custom-columns=...") if self.templates else ())]
        return "[" + "|".join(shown) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.startswith("="):
            value = value[1:]  # `-o=json`, kubectl's spelling: click keeps the `=`
        if value in self.formats:
            return value
        name = str(value).partition("=")[0]
        if self.templates and (name in TEMPLATE_FORMATS or name in GO_TEMPLATES):
            # kubectl's printers load only for the output that needs them
            from kubectl_war.printers import make_printer

            make_printer(str(value))
            return str(value)
        allowed = sorted([*self.formats, *(TEMPLATE_FORMATS if self.templates else ())])
        # kubectl's words, and as kubectl it points at no help: the formats are listed.
        raise UsageError(
            f"unable to match a printer suitable for the output format {quote_input(str(value))}, "
            f"allowed formats are: {','.join(allowed)}"
        )


_ALLOW_MISSING = "allow_missing_template_keys"


def _keep_allow_missing(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta[_ALLOW_MISSING] = value


def output_option(
    choices: tuple[str, ...] = OUTPUTS,
    *,
    help: str = "Output format.",
    templates: bool = False,
    no_headers: bool = False,
) -> Callable[[F], F]:
    """`-o/--output`: one of `choices` (the first is the default); `templates` also takes
    kubectl's jsonpath and custom-columns printers (see `printer`), and adds kubectl's
    `--allow-missing-template-keys`, which `printer` reads (the command never sees it).
    `no_headers` puts kubectl's `--no-headers` (the command's `no_headers`) before `-o`."""
    if templates:
        help = (
            f"{help}\nAlso kubectl's jsonpath=TEMPLATE, jsonpath-file=FILE, "
            "jsonpath-as-json=TEMPLATE, custom-columns=HEADER:PATH,... and "
            "custom-columns-file=FILE, applied to the -o json document."
        )
    option = click.option(
        "-o",
        "--output",
        type=OutputFormat(choices, templates=templates),
        default=choices[0],
        show_default=True,
        help=help,
    )
    printing = [_NO_HEADERS] if no_headers else []
    printing.append(option)
    if templates:
        printing.append(_ALLOW_MISSING_OPTION)
    if len(printing) == 1:
        return option

    def decorate(f: F) -> F:
        for each in reversed(printing):
            f = each(f)
        return f

    return decorate


_NO_HEADERS = click.option("--no-headers", is_flag=True, help="Do not print the header line.")
_ALLOW_MISSING_OPTION = click.option(
    "--allow-missing-template-keys",
    type=click.BOOL,
    default=True,
    flag_value=True,
    is_flag=False,
    show_default=True,
    metavar="BOOL",
    expose_value=False,
    callback=_keep_allow_missing,
    help="With -o jsonpath: print nothing for a key that is missing, instead of failing.",
)


def is_template(output: str) -> bool:
    """Whether an `-o` value names one of kubectl's template printers."""
    return output.partition("=")[0] in TEMPLATE_FORMATS


def printer(output: str, *, no_headers: bool = False, sort_by: str | None = None) -> Any:
    """The `printers.Printer` for a template `-o` value, or None for the command's own
    formats. Loads the printers only when one is chosen."""
    if not is_template(output):
        return None
    # kubectl's printers load only for the output that needs them
    from kubectl_war.printers import make_printer

    ctx = click.get_current_context(silent=True)
    allow = True if ctx is None else ctx.meta.get(_ALLOW_MISSING, True)
    return make_printer(output, no_headers=no_headers, sort_by=sort_by, allow_missing_keys=allow)


def write_document(
    data: Any, output: str, *, rows: str = "items", no_headers: bool = False
) -> None:
    """Print a command's `-o json` document as `-o json`, `-o yaml`, `-o kyaml` or a template
    printer; `rows` names the list custom-columns prints a row for (a `List`'s `items`)."""
    chosen = printer(output, no_headers=no_headers)
    if chosen is not None:
        chosen.print(data, sys.stdout, rows=rows)
    else:
        write(to_document(data, output))


class SortKey(click.Choice):  # type: ignore[type-arg]  # as OutputFormat
    """`--sort-by`: one of the `words` (shortcuts with their own order) or, as kubectl takes
    it, a JSONPath expression (`.metadata.name`, `{.spec.identity.aws.zone}`)."""

    def get_metavar(self, param: click.Parameter, ctx: Any = None) -> str:
        return "[" + "|".join(self.choices) + "|JSONPATH]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if text in self.choices or text.startswith(("{", ".")) or "." in text:
            return text
        self.fail(
            f"{quote_input(text)} is neither one of {', '.join(self.choices)} nor a JSONPath "
            "expression such as .metadata.name or {.spec.identity.aws.zone}",
            param,
            ctx,
        )


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
        # proxy-status sources (threads, subprocesses) stay off --help
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
            unpassable=istioctl_cannot_take(kube),
        )


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
