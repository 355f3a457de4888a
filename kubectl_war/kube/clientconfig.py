"""The kubernetes client's configuration for a connection, as kubectl would resolve it.

`resolve` turns a `Connection` (kubectl's flags) and the kubeconfig files into the
client's `Configuration`, the impersonation headers and whether credentials are sent.
It loads the kubernetes client; `kube.config` (the flags and the kubeconfig files' names)
does not, so `--help` and completion never import this module.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from kubectl_war.kube import auth
from kubectl_war.kube.config import NO_CONFIG, Connection, kubeconfig_paths
from kubectl_war.kube.errors import KubeError, one_line
from kubectl_war.kube.lazy import load

if TYPE_CHECKING:
    from kubernetes.client import Configuration
    from kubernetes.config.kube_config import KubeConfigMerger

# The name of the private context that holds a --cluster/--user mix.
_OVERRIDE_CONTEXT = "kubectl-war/override"


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

    configuration: Configuration
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
    return urlsplit(server.strip()).scheme.lower() == "https"


def resolve(conn: Connection) -> Resolved:
    """The client configuration kubectl would use for `conn` (imports the client now).

    Raises:
        KubeError: no configuration at all, an unreadable or invalid kubeconfig, or a
            context, cluster, user or CA file that does not exist.
    """
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


def _apply_flags(conn: Connection, cfg: Configuration, *, credentials: bool) -> None:
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


def _pin_cluster_settings(cfg: Configuration) -> None:
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

    def refresh(configuration: Configuration) -> None:
        hook(configuration)
        for key, value in pinned.items():
            setattr(configuration, key, value)

    cfg.refresh_api_key_hook = refresh


def _load_context(
    conn: Connection, merged: KubeConfigMerger, resolved: Resolved, current: str | None
) -> None:
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
    root = logging.getLogger()
    if debug:
        if not root.handlers:
            logging.basicConfig(format="debug: %(name)s: %(message)s")
        return
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        # A handler on the root logger keeps logging from adding its own to stderr.
        root.addHandler(logging.NullHandler())


def _first_current_context(merged: KubeConfigMerger) -> str | None:
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
