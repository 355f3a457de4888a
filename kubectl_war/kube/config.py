"""Connection settings, and the one place kubeconfig files are found and read.

kubectl's rules: `--kubeconfig`, else each file of `KUBECONFIG` (joined by the path
separator; missing files skipped), else `~/.kube/config`; when files are merged the
first definition of a name wins, and so does the first `current-context`;
`--context`, `--cluster` and `--user` then override the selection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kubectl_war.kube.errors import KubeError, one_line

# kubectl's --chunk-size default: list in pages of this many objects.
DEFAULT_CHUNK_SIZE = 500
# kubectl's own wording when no configuration can be found at all.
NO_CONFIG = (
    "no configuration has been provided, try setting KUBECONFIG or --kubeconfig, or pass --server"
)
# The name of the private context that holds a --cluster/--user mix.
_OVERRIDE_CONTEXT = "kubectl-war/override"


@dataclass(frozen=True)
class Connection:
    """How to reach one cluster: kubectl's connection flags, as the user gave them.

    One value per invocation (`cli.options.kube_options` builds it); the fleet runner
    makes one per context with `dataclasses.replace(conn, context=name)`, and
    `kube.Kube(conn)` connects.
    """

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    as_user: str | None = None
    as_groups: tuple[str, ...] = ()
    as_uid: str | None = None
    as_user_extra: tuple[str, ...] = ()
    request_timeout: float | None = None
    server: str | None = None
    proxy_url: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    tls_server_name: str | None = None
    insecure_skip_tls_verify: bool = False
    disable_compression: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    debug: bool = False

    @classmethod
    def from_flags(cls, values: Mapping[str, Any]) -> Connection:
        """The connection named by `values` (flag name → value); names that are no
        connection setting, and values of None, are left out (the default holds)."""
        given = {f.name: values.get(f.name) for f in fields(cls)}
        kwargs = {name: value for name, value in given.items() if value is not None}
        for name in ("as_groups", "as_user_extra"):
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        return cls(**kwargs)


#: The connection settings' names: exactly the flags `kube_options` adds.
CONNECTION_FIELDS = tuple(f.name for f in fields(Connection))


def kubeconfig_paths(explicit: str | None) -> list[str]:
    """The kubeconfig files kubectl would read: --kubeconfig, else each file of
    KUBECONFIG, else ~/.kube/config."""
    if explicit:
        return [os.path.expanduser(explicit)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")]


def entry_names(kubeconfig: str | None, section: str, *, strict: bool = False) -> list[str]:
    """The names of one section (`contexts`, `clusters`, `users`) across the files, in
    file then entry order, each once where it first appears (the definition kubectl's
    merge keeps). Files that do not exist are skipped.

    Args:
        strict: a missing --kubeconfig, or a file that cannot be read or parsed, is a
            KubeError; otherwise such a file adds nothing.
    """
    import yaml  # PyYAML only where YAML is read or written

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    paths = kubeconfig_paths(kubeconfig)
    if strict and kubeconfig and not os.path.exists(paths[0]):
        raise KubeError(f"stat {kubeconfig}: no such file or directory")
    names: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.load(f, Loader=loader)
        except OSError as exc:
            if not strict:
                continue
            raise KubeError(f"cannot read kubeconfig {path}: {exc.strerror or exc}") from None
        except (ValueError, yaml.YAMLError) as exc:
            if not strict:
                continue
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KubeError(f"invalid kubeconfig {path}: {first}") from None
        entries = data.get(section) if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def context_names(kubeconfig: str | None) -> list[str]:
    """Every context in the kubeconfig (for --all-contexts), in the order the files and
    their entries list them.

    Raises:
        KubeError: --kubeconfig does not exist, a file cannot be read or parsed, or
            no file holds any context.
    """
    names = entry_names(kubeconfig, "contexts", strict=True)
    if not names:
        paths = kubeconfig_paths(kubeconfig)
        raise KubeError(f"no contexts in the kubeconfig ({os.pathsep.join(paths)})")
    return names


@dataclass
class Resolved:
    """A connection made concrete: everything a request to the cluster is built from.

    Attributes:
        configuration: the kubernetes client's `Configuration`: TLS settings, proxy and
            the credentials (refreshed by the client when they expire). Its cluster
            settings are pinned (see `_pin_cluster_settings`).
        host: the API server's address, fixed here once: requests are built from this,
            never from the configuration, whose host a credential refresh may rewrite.
        impersonation: the `Impersonate-*` headers, in order (a group may repeat).
        context: the kubeconfig context used (None with --server and no context).
        context_namespace: that context's namespace, if it sets one.
        credentials: whether the user's credentials go with each request: only to an
            https:// server (see `sends_credentials`).
        withheld: the user has credentials (kubeconfig or flags) that are not sent,
            because the server is plain http.
    """

    configuration: Any
    host: str = ""
    impersonation: tuple[tuple[str, str], ...] = ()
    context: str | None = None
    context_namespace: str | None = None
    credentials: bool = True
    withheld: bool = False


def sends_credentials(server: str) -> bool:
    """kubectl's rule: user credentials (bearer tokens, token files, exec plugins,
    auth providers, basic auth, client certificates) go only to an https:// server.

    client-go applies the user's credentials only when the transport is TLS
    (`IsConfigTransportTLS`): to an http:// server, or an address without a scheme,
    kubectl sends no `Authorization` header and runs no credential plugin, while
    impersonation headers still go.
    """
    from urllib.parse import urlsplit  # `urllib.parse` stays off the start-up path

    return urlsplit(server.strip()).scheme.lower() == "https"


def resolve(conn: Connection) -> Resolved:
    """The client configuration kubectl would use for `conn` (imports the client now).

    Raises:
        KubeError: no configuration at all, an unreadable or invalid kubeconfig, or a
            context, cluster, user or CA file that does not exist.
    """
    from kubectl_war.kube.lazy import load  # the kubernetes client loads on first use

    load()
    _quiet_client_logs(conn.debug)
    # the kubernetes client loads on first use
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigMerger

    cfg = Configuration()
    resolved = Resolved(cfg, credentials=sends_credentials(conn.server or ""))
    paths = os.pathsep.join(kubeconfig_paths(conn.kubeconfig))
    if conn.kubeconfig and not os.path.exists(os.path.expanduser(conn.kubeconfig)):
        raise KubeError(f"stat {conn.kubeconfig}: no such file or directory")
    try:
        merged = KubeConfigMerger(paths)
    except (OSError, ValueError, ConfigException) as exc:
        raise KubeError(f"cannot read kubeconfig {paths}: {one_line(exc)}") from None
    except Exception as exc:  # yaml errors and malformed structures
        raise KubeError(f"invalid kubeconfig {paths}: {one_line(exc)}") from None
    config = merged.config
    has_config = config is not None and bool(config.value.get("contexts"))
    if not has_config and not conn.server:
        raise KubeError(NO_CONFIG)
    if has_config:
        try:
            _load_context(conn, merged, resolved, _first_current_context(merged))
        except ConfigException as exc:
            raise KubeError(one_line(exc)) from None
        except KubeError:
            raise
        except Exception as exc:  # a malformed kubeconfig shape
            raise KubeError(f"invalid kubeconfig {paths}: {one_line(exc)}") from None
    _apply_flags(conn, cfg, credentials=resolved.credentials)
    # Retries are the client's own (with backoff and a bound); urllib3 must not add its own.
    cfg.retries = False
    _pin_cluster_settings(cfg)
    resolved.host = str(cfg.host).rstrip("/")
    # The server the credentials were decided for is the one requests go to.
    resolved.credentials = resolved.credentials and sends_credentials(resolved.host)
    if not resolved.credentials:
        resolved.withheld = resolved.withheld or bool(
            conn.token or conn.client_certificate or conn.client_key
        )
    resolved.impersonation = _impersonation(conn, resolved.impersonation)
    return resolved


def _apply_flags(conn: Connection, cfg: Any, *, credentials: bool) -> None:
    """The connection flags over what the kubeconfig said, as kubectl's overrides go
    (`--token` only where credentials are sent at all)."""
    if conn.server:
        cfg.host = conn.server.rstrip("/")
    if conn.proxy_url:
        cfg.proxy = conn.proxy_url
        cfg.no_proxy = None
    if conn.token and credentials:
        # "authorization" is the key before client 36 and an alias for it since.
        cfg.api_key = {"authorization": f"Bearer {conn.token}"}
        cfg.refresh_api_key_hook = None
    for path, flag, attr in (
        (conn.certificate_authority, "certificate-authority", "ssl_ca_cert"),
        (conn.client_certificate, "client-certificate", "cert_file"),
        (conn.client_key, "client-key", "key_file"),
    ):
        if path:
            if not os.path.exists(path):
                raise KubeError(f"unable to read {flag} {path}: no such file or directory")
            setattr(cfg, attr, path)
    if conn.tls_server_name:
        cfg.tls_server_name = conn.tls_server_name
    if conn.insecure_skip_tls_verify:
        cfg.verify_ssl = False
        if not conn.certificate_authority:
            # kubectl: the flag replaces the kubeconfig's CA rather than adding to it.
            cfg.ssl_ca_cert = None


def _impersonation(
    conn: Connection, from_kubeconfig: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The `Impersonate-*` headers: the flags', else the kubeconfig user's (`as`,
    `as-groups`, `as-uid`, `as-user-extra`); kubectl takes them as one set."""
    if not (conn.as_user or conn.as_groups or conn.as_uid or conn.as_user_extra):
        return from_kubeconfig
    headers: list[tuple[str, str]] = []
    if conn.as_user:
        headers.append(("Impersonate-User", conn.as_user))
    headers += [("Impersonate-Group", group) for group in conn.as_groups]
    if conn.as_uid:
        headers.append(("Impersonate-Uid", conn.as_uid))
    for item in conn.as_user_extra:
        key, _, value = item.partition("=")
        headers.append((f"Impersonate-Extra-{_extra_key(key)}", value))
    return tuple(headers)


def _extra_key(key: str) -> str:
    """An `Impersonate-Extra-` key as client-go sends it: each byte a header name cannot
    hold percent-encoded (`example.com/scope` → `example.com%2Fscope`)."""
    from urllib.parse import quote  # `urllib.parse` stays off the start-up path

    return quote(key, safe="!#$&'*+-.^_`|~")


# What the client's token refresh hook copies from the kubeconfig into the configuration
# every time it runs (its loader's `_set_config`), undoing -s and the TLS flags.
_CLUSTER_SETTINGS = (
    "host",
    "ssl_ca_cert",
    "cert_file",
    "key_file",
    "verify_ssl",
    "tls_server_name",
)


def _pin_cluster_settings(cfg: Any) -> None:
    """Keep the cluster settings `resolve` chose through every credential refresh.

    The client refreshes a kubeconfig token before each request (the loader's
    `refresh_api_key_hook`) and, doing so, writes the kubeconfig's server and TLS
    settings back over the configuration: a request would go to the kubeconfig's
    cluster whatever `--server` said. The hook is wrapped so that only credentials
    change when it runs.
    """
    hook = cfg.refresh_api_key_hook
    if hook is None:
        return
    pinned = {key: getattr(cfg, key, None) for key in _CLUSTER_SETTINGS}

    def refresh(configuration: Any) -> None:
        hook(configuration)
        for key, value in pinned.items():
            setattr(configuration, key, value)

    cfg.refresh_api_key_hook = refresh


def _load_context(conn: Connection, merged: Any, resolved: Resolved, current: str | None) -> None:
    from kubectl_war.kube import auth  # credentials code loads with a kubeconfig, not at start-up

    value = merged.config.value
    name = conn.context or current or value.get("current-context")
    if not name:
        if conn.server:
            return
        raise KubeError(
            "no context is selected: set current-context in the kubeconfig or pass --context"
        )
    contexts = _named(value.get("contexts"))
    if name not in contexts:
        raise KubeError(f'context "{name}" does not exist')
    ctx = dict(_plain(contexts[name].get("context")) or {})
    resolved.context_namespace = ctx.get("namespace") or None
    resolved.context = name
    if conn.cluster or conn.user:
        # --cluster/--user replace one half of the context, as in kubectl: a
        # private context holds the mix, the user's kubeconfig is never written.
        clusters = _named(value.get("clusters"))
        users = _named(value.get("users"))
        if conn.cluster:
            if conn.cluster not in clusters:
                raise KubeError(f'cluster "{conn.cluster}" does not exist in the kubeconfig')
            ctx["cluster"] = conn.cluster
        if conn.user:
            if conn.user not in users:
                raise KubeError(f'user "{conn.user}" does not exist in the kubeconfig')
            ctx["user"] = conn.user
        name = _OVERRIDE_CONTEXT
        value["contexts"] = [c for c in value["contexts"] if _plain(c).get("name") != name]
        value["contexts"].append({"name": name, "context": ctx})
    cluster = _plain(_named(value.get("clusters")).get(ctx.get("cluster") or "", {}).get("cluster"))
    user = _plain(_named(value.get("users")).get(ctx.get("user") or "", {}).get("user"))
    user = user if isinstance(user, dict) else {}
    server = conn.server or (cluster.get("server") if isinstance(cluster, dict) else None)
    resolved.credentials = sends_credentials(str(server or ""))
    if not resolved.credentials:
        resolved.withheld = any(user.get(key) for key in _CREDENTIAL_KEYS)
    # Over plain http no credential is got at all: no exec plugin runs, no OIDC token
    # is refreshed, as with kubectl.
    loader = auth.loader(merged, active_context=name, credentials=resolved.credentials)
    loader.load_and_set(resolved.configuration)
    resolved.impersonation = _kubeconfig_impersonation(user)
    proxy = cluster.get("proxy-url") if isinstance(cluster, dict) else None
    if proxy:
        # kubectl sends this cluster's requests through proxy-url whatever NO_PROXY says.
        resolved.configuration.proxy = str(proxy)
        resolved.configuration.no_proxy = None


# The keys of a kubeconfig user entry that hold credentials (impersonation is no credential).
_CREDENTIAL_KEYS = (
    "token",
    "tokenFile",
    "exec",
    "auth-provider",
    "username",
    "password",
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
)


def _kubeconfig_impersonation(user: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The impersonation a kubeconfig user entry asks for, as the flags would."""
    groups = _plain(user.get("as-groups")) or []
    extra = _plain(user.get("as-user-extra")) or {}
    flags = Connection(
        as_user=str(user["as"]) if user.get("as") else None,
        as_groups=tuple(str(_plain(g)) for g in groups if _plain(g)),
        as_uid=str(user["as-uid"]) if user.get("as-uid") else None,
        as_user_extra=tuple(
            f"{k}={_plain(v)}"
            for k, values in (extra.items() if isinstance(extra, dict) else [])
            for v in (_plain(values) or [])
        ),
    )
    return _impersonation(flags, ())


def _quiet_client_logs(debug: bool) -> None:
    """The client library logs through the root logger (`ERROR:root:...`): its lines
    reach the terminal only with --debug; failures reach the user as errors instead."""
    import logging  # `logging` stays off the start-up path

    root = logging.getLogger()
    if debug:
        if not root.handlers:
            logging.basicConfig(format="debug: %(name)s: %(message)s")
        return
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        # A handler on the root logger keeps logging from adding its own to stderr.
        root.addHandler(logging.NullHandler())


def _first_current_context(merged: Any) -> str | None:
    """kubectl's rule for KUBECONFIG=a:b: the first file that sets current-context wins
    (the Python client's merger lets the last one win)."""
    for path in getattr(merged, "paths", []):
        data = getattr(merged, "config_files", {}).get(path)
        if isinstance(data, dict) and data.get("current-context"):
            return str(data["current-context"])
    return None


def _plain(node: Any) -> Any:
    """The data inside the client's ConfigNode wrappers (merged kubeconfigs hold them)."""
    return getattr(node, "value", node)


def _named(entries: Any) -> dict[str, dict[str, Any]]:
    """A kubeconfig list (`contexts`, `clusters`, `users`) by entry name."""
    out: dict[str, dict[str, Any]] = {}
    for entry in _plain(entries) or []:
        entry = _plain(entry)
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out[entry["name"]] = entry
    return out
