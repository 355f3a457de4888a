"""The one seam between kubectl-war and the API server.

Only this module imports the official `kubernetes` client. Requests are built as
plain data (`Request`) before anything is sent, so their exact URLs and query
parameters are testable without a network; responses are read as raw JSON, never
deserialised into model objects (which is slow and loses unknown fields); every
failure leaves this module as a `KubeError` carrying one line for the user.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable
from urllib.parse import quote, urlencode

from kubectl_war.errors import UsageError, WarError, quote_input
from kubectl_war.names import path_segment_problem

WAR_GROUP = "runtime.onboarding.tetrate.io"
WG_GROUP = "networking.istio.io"
DEFAULT_CHUNK_SIZE = 500
# Answers worth sending the same request again for: throttling and passing server trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# How long one logical request may keep retrying when --request-timeout is not given.
DEFAULT_RETRY_BOUND = 30.0
# kubectl's own wording when no configuration can be found at all.
NO_CONFIG = (
    "no configuration has been provided, try setting KUBECONFIG or --kubeconfig, or pass --server"
)


class KubeError(WarError):
    """Anything that went wrong talking to the cluster, with a one-line message.

    Attributes:
        status: the HTTP status when the server answered, else None.
        reason: the Status reason (`NotFound`, `Conflict`, ...) when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = dict(body or {})
        # Set by the seam: whether sending again may succeed, how long the server asked
        # us to wait first, and whether this answer came to a request sent more than once.
        self.retryable = status in RETRY_STATUSES
        self.retry_after: float | None = None
        self.retried = False


@dataclass(frozen=True)
class Resource:
    """A served API resource: where it lives and how to name it to a user."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def qualified(self) -> str:
        """`workloadautoregistrations.runtime.onboarding.tetrate.io`, as kubectl names it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            # An empty name would make this the collection URL (GET lists, DELETE is
            # deletecollection): refuse it however the name got here.
            problem = path_segment_problem(name)
            if problem is not None:
                raise UsageError(problem)
            base += f"/{quote(name, safe='')}"
        return base


EVENTS = Resource("", "v1", "events", "Event")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
PODS = Resource("", "v1", "pods", "Pod")


@dataclass(frozen=True)
class Request:
    """One API request as plain data: what `Kube.send` will put on the wire."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, Any] | None = None
    stream: bool = False
    # What the request was trying to do, for error messages: verb, resource, namespace, name.
    verb: str = "get"
    resource: str = ""
    namespace: str | None = None
    name: str | None = None
    # The body as bytes instead of decoded JSON (pod proxy answers are not API objects).
    raw: bool = False
    # Seconds for this request alone, when shorter than --request-timeout.
    timeout: float | None = None

    @property
    def url_path(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")


def _selectors(label_selector: str | None, field_selector: str | None) -> list[tuple[str, str]]:
    query = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    return query


def list_request(
    res: Resource,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    limit: int = DEFAULT_CHUNK_SIZE,
    continue_token: str | None = None,
) -> Request:
    """A one-page list request (`limit`/`continue`, like kubectl's chunked lists)."""
    query = _selectors(label_selector, field_selector)
    if limit > 0:
        query.append(("limit", str(limit)))
    if continue_token:
        query.append(("continue", continue_token))
    return Request(
        "GET",
        res.path(namespace),
        tuple(query),
        verb="list",
        resource=res.qualified,
        namespace=namespace,
    )


def get_request(res: Resource, namespace: str | None, name: str) -> Request:
    return Request(
        "GET",
        res.path(namespace, name),
        verb="get",
        resource=res.qualified,
        namespace=namespace,
        name=name,
    )


def delete_request(
    res: Resource,
    namespace: str | None,
    name: str,
    *,
    uid: str,
    resource_version: str | None = None,
    dry_run: bool = False,
) -> Request:
    """A DELETE that can only remove the very object the user selected.

    The uid precondition makes the server refuse (409 Conflict) when the name now
    belongs to a re-created object; the resourceVersion precondition, when given,
    also refuses when the object changed since it was read.
    """
    preconditions: dict[str, str] = {"uid": uid}
    if resource_version:
        preconditions["resourceVersion"] = resource_version
    body: dict[str, Any] = {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": preconditions,
    }
    query: tuple[tuple[str, str], ...] = ()
    if dry_run:
        body["dryRun"] = ["All"]
        query = (("dryRun", "All"),)
    return Request(
        "DELETE",
        res.path(namespace, name),
        query,
        body,
        verb="delete",
        resource=res.qualified,
        namespace=namespace,
        name=name,
    )


def proxy_get_request(
    namespace: str, pod: str, port: int, path: str, *, timeout: float | None = None
) -> Request:
    """GET `path` from a pod's port through the API server (`kubectl get --raw` style).

    The API server forwards `/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH` to the
    pod, so a debug port can be read without a port-forward or a route to the pod.
    """
    target = f"{quote(pod, safe='')}:{int(port)}"
    return Request(
        "GET",
        f"{PODS.path(namespace, None)}/{target}/proxy/{path.lstrip('/')}",
        verb="get",
        resource="pods/proxy",
        namespace=namespace,
        name=pod,
        raw=True,
        timeout=timeout,
    )


def watch_request(
    res: Resource,
    namespace: str | None,
    *,
    resource_version: str,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int | None = None,
) -> Request:
    query = _selectors(label_selector, field_selector)
    query += [("watch", "1"), ("allowWatchBookmarks", "true")]
    if resource_version:
        query.append(("resourceVersion", resource_version))
    if timeout_seconds:
        query.append(("timeoutSeconds", str(timeout_seconds)))
    return Request(
        "GET",
        res.path(namespace),
        tuple(query),
        stream=True,
        verb="watch",
        resource=res.qualified,
        namespace=namespace,
    )


@dataclass
class KubeOptions:
    """The kubectl-style connection flags, as the user gave them."""

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    as_user: str | None = None
    as_groups: Sequence[str] = ()
    request_timeout: float | None = None
    server: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    insecure_skip_tls_verify: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    debug: bool = False


@dataclass
class ListResult:
    items: list[dict[str, Any]]
    resource_version: str = ""


@dataclass
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any] = field(default_factory=dict)


class _Expired(Exception):
    """The server forgot the resourceVersion or continue token we asked about (410)."""


def _kubeconfig_paths(explicit: str | None) -> str:
    if explicit:
        return explicit
    env = os.environ.get("KUBECONFIG")
    if env:
        return env
    return os.path.join(os.path.expanduser("~"), ".kube", "config")


class Kube:
    """A connection to one cluster, configured the way kubectl would configure it."""

    def __init__(self, opts: KubeOptions, *, log: Callable[[str], None] | None = None) -> None:
        self.opts = opts
        self._log = log or (lambda line: print(line, file=sys.stderr))
        self.sleep: Callable[[float], None] = time.sleep
        self._client: Any = None
        self._versions: dict[str, str | None] = {}
        self.context_name: str | None = None
        self.host: str = ""
        self._context_namespace: str | None = None
        self._configure()

    # ---- configuration -------------------------------------------------------------

    def _configure(self) -> None:
        from kubectl_war import kubeclient

        kubeclient.load()
        from kubernetes.client.configuration import Configuration
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

        opts = self.opts
        cfg = Configuration()
        paths = _kubeconfig_paths(opts.kubeconfig)
        if opts.kubeconfig and not os.path.exists(os.path.expanduser(opts.kubeconfig)):
            raise KubeError(f"stat {opts.kubeconfig}: no such file or directory")
        try:
            merged = KubeConfigMerger(paths)
        except (OSError, ValueError, ConfigException) as exc:
            raise KubeError(f"cannot read kubeconfig {paths}: {_one_line(exc)}") from None
        except Exception as exc:  # yaml errors and malformed structures
            raise KubeError(f"invalid kubeconfig {paths}: {_one_line(exc)}") from None
        config = merged.config
        has_config = config is not None and bool(config.value.get("contexts"))
        if not has_config and not opts.server:
            raise KubeError(NO_CONFIG)
        if has_config:
            try:
                self._load_context(config, cfg, KubeConfigLoader, _first_current_context(merged))
            except ConfigException as exc:
                raise KubeError(_one_line(exc)) from None
            except KubeError:
                raise
            except Exception as exc:  # a malformed kubeconfig shape
                raise KubeError(f"invalid kubeconfig {paths}: {_one_line(exc)}") from None
        if opts.server:
            cfg.host = opts.server.rstrip("/")
        if opts.token:
            # "authorization" is the key before client 36 and an alias for it since.
            cfg.api_key = {"authorization": f"Bearer {opts.token}"}
            cfg.refresh_api_key_hook = None
        if opts.certificate_authority:
            if not os.path.exists(opts.certificate_authority):
                raise KubeError(
                    f"unable to read certificate-authority {opts.certificate_authority}: "
                    "no such file or directory"
                )
            cfg.ssl_ca_cert = opts.certificate_authority
        if opts.insecure_skip_tls_verify:
            cfg.verify_ssl = False
        # Retries are ours (with backoff and a bound); urllib3 must not add its own.
        cfg.retries = False
        self.host = cfg.host
        self._cfg = cfg

    def _load_context(
        self, config: Any, cfg: Any, loader_cls: Any, current: str | None = None
    ) -> None:
        opts = self.opts
        value = config.value
        name = opts.context or current or value.get("current-context")
        if not name:
            if opts.server:
                return
            raise KubeError(
                "no context is selected: set current-context in the kubeconfig or pass --context"
            )
        contexts = _named(value.get("contexts"))
        if name not in contexts:
            raise KubeError(f'context "{name}" does not exist')
        ctx = dict(_plain(contexts[name].get("context")) or {})
        self._context_namespace = ctx.get("namespace") or None
        self.context_name = name
        if opts.cluster or opts.user:
            # --cluster/--user replace one half of the context, as in kubectl: a
            # private context holds the mix, the user's kubeconfig is never written.
            clusters = _named(value.get("clusters"))
            users = _named(value.get("users"))
            if opts.cluster:
                if opts.cluster not in clusters:
                    raise KubeError(f'cluster "{opts.cluster}" does not exist in the kubeconfig')
                ctx["cluster"] = opts.cluster
            if opts.user:
                if opts.user not in users:
                    raise KubeError(f'user "{opts.user}" does not exist in the kubeconfig')
                ctx["user"] = opts.user
            name = "kubectl-war/override"
            value["contexts"] = [c for c in value["contexts"] if _plain(c).get("name") != name]
            value["contexts"].append({"name": name, "context": ctx})
        loader = loader_cls(config_dict=config, active_context=name, config_base_path=None)
        loader.load_and_set(cfg)

    @property
    def namespace(self) -> str:
        """`-n`, else the context's namespace, else `default` (kubectl's rule)."""
        return self.opts.namespace or self._context_namespace or "default"

    def _api(self) -> Any:
        if self._client is None:
            from kubernetes.client.api_client import ApiClient

            client = ApiClient(self._cfg)
            client.user_agent = f"kubectl-war/{_version()}"
            if self.opts.as_user:
                client.set_default_header("Impersonate-User", self.opts.as_user)
            if self.opts.as_groups:
                _add_group_headers(client, list(self.opts.as_groups))
            self._client = client
        return self._client

    # ---- sending -------------------------------------------------------------------

    def send(self, req: Request) -> Any:
        """Send a request, retrying throttling (429), server errors (5xx) and reset
        connections with capped exponential backoff, honouring Retry-After, for at most
        `retry_bound` seconds in all; answer the decoded JSON (or the raw response when
        streaming).

        DELETEs are retried too: each carries a uid precondition, so a second attempt
        can never remove anything but the object the first one aimed at. A KubeError
        from a request sent more than once says so (`retried`), because a 404 or a 409
        then means the first attempt already did the work.
        """
        bound = self.retry_bound
        if req.timeout is not None:
            # A request with its own time limit keeps to it, retries included.
            bound = min(bound, req.timeout)
        deadline = time.monotonic() + bound
        delay = 0.2
        attempt = 1
        while True:
            try:
                return self._send_once(req)
            except KubeError as exc:
                exc.retried = attempt > 1
                wait = exc.retry_after if exc.retry_after is not None else delay
                if not exc.retryable or time.monotonic() + wait > deadline:
                    raise
                if self.opts.debug:
                    self._log(
                        f"debug: retrying {req.method} {req.url_path} after "
                        f"{exc.status or 'a broken connection'} "
                        f"(attempt {attempt + 1}, waiting {wait:.1f}s)"
                    )
                self.sleep(wait)
                delay = min(delay * 2, 5.0)
                attempt += 1

    @property
    def retry_bound(self) -> float:
        """How long one request may keep retrying: --request-timeout, else 30 s."""
        return self.opts.request_timeout or DEFAULT_RETRY_BOUND

    def _send_once(self, req: Request) -> Any:
        from kubernetes.client.exceptions import ApiException

        start = time.monotonic()
        try:
            resp = self._api().call_api(
                req.path,
                req.method,
                query_params=list(req.query),
                header_params={"Accept": "application/json", "Content-Type": "application/json"},
                body=dict(req.body) if req.body is not None else None,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=self._timeout(req),
                # Clients before 36 answer (response, status, headers) without this.
                _return_http_data_only=True,
            )
        except ApiException as exc:
            self._debug(req, exc.status, start)
            raise self._api_error(req, exc) from None
        except Exception as exc:
            self._debug(req, None, start)
            raise self._transport_error(exc) from None
        if req.stream:
            self._debug(req, resp.status, start)
            return resp
        try:
            data = resp.data
        except Exception as exc:
            raise self._transport_error(exc) from None
        self._debug(req, resp.status, start)
        if req.raw:
            return bytes(data or b"")
        try:
            return json.loads(data) if data else {}
        except ValueError:
            raise KubeError(
                f"the server at {self.host} answered {req.method} {req.path} "
                "with something that is not JSON"
            ) from None

    def _timeout(self, req: Request) -> Any:
        t = self.opts.request_timeout
        if req.timeout is not None:
            t = min(t, req.timeout) if t else req.timeout
        if req.stream:
            # A watch stays open until the server ends it at timeoutSeconds; the read
            # bound only catches a server that never does.
            server_end = dict(req.query).get("timeoutSeconds")
            return (t or 30.0, float(server_end) + 10.0 if server_end else None)
        if not t:
            return None
        # A whole-request bound where the client takes one: kubernetes clients before
        # 36 honour an int or a (connect, read) pair and silently ignore a float.
        return int(t) if float(t).is_integer() else (t, t)

    def _debug(self, req: Request, status: int | None, start: float) -> None:
        if self.opts.debug:
            ms = (time.monotonic() - start) * 1000
            self._log(
                f"debug: {req.method} {self.host}{req.url_path} -> {status or 'no answer'} "
                f"in {ms:.0f}ms"
            )

    def _api_error(self, req: Request, exc: Any) -> KubeError:
        status = int(exc.status or 0)
        body: dict[str, Any] = {}
        raw = exc.body
        if raw:
            try:
                loaded = json.loads(raw)
                if isinstance(loaded, dict):
                    body = loaded
            except ValueError:
                pass
        reason = body.get("reason") or exc.reason or ""
        server_msg = str(body.get("message") or "").strip()
        err = self._api_error_for(req, exc, status, body, reason, server_msg)
        headers = getattr(exc, "headers", None) or {}
        retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                err.retry_after = min(max(float(retry_after), 0.0), 10.0)
        return err

    def _api_error_for(
        self,
        req: Request,
        exc: Any,
        status: int,
        body: dict[str, Any],
        reason: str,
        server_msg: str,
    ) -> KubeError:
        if status == 0:
            return KubeError(f"TLS failure talking to {self.host}: {_one_line(exc.reason)}")
        if status == 401:
            return KubeError(
                "You must be logged in to the server (Unauthorized): the credentials of "
                f"{self._who()} were rejected by {self.host}",
                status=401,
                reason="Unauthorized",
                body=body,
            )
        if status == 403:
            return KubeError(
                self._forbidden(req, server_msg), status=403, reason="Forbidden", body=body
            )
        msg = server_msg or f"{req.method} {req.path}: HTTP {status} {exc.reason or ''}".strip()
        return KubeError(
            f"Error from server ({reason or 'Unknown'}): {msg}",
            status=status,
            reason=reason,
            body=body,
        )

    def _who(self) -> str:
        if self.context_name:
            return f'context "{self.context_name}"'
        return "the given credentials"

    def _forbidden(self, req: Request, server_msg: str) -> str:
        plural, _, api_group = req.resource.partition(".")
        scope = f'in namespace "{req.namespace}"' if req.namespace else "at the cluster scope"
        missing = (
            f'RBAC needs verb "{req.verb}" on resource "{plural}" '
            f'in API group "{api_group}" {scope}'
        )
        line = f"forbidden: cannot {req.verb} {req.resource or req.path}"
        if req.name:
            line += f' "{req.name}"'
        line += f" {scope} ({missing})"
        if server_msg:
            line += f": {server_msg}"
        return line

    def _transport_error(self, exc: BaseException) -> KubeError:
        import urllib3.exceptions as u3

        inner = _root_cause(exc)
        if isinstance(inner, u3.MaxRetryError) and inner.reason is not None:
            inner = inner.reason
        if getattr(inner, "status", None) == 0 and "SSL" in str(getattr(inner, "reason", "")):
            # The client reports TLS failures as an ApiException with status 0.
            return KubeError(f"TLS failure talking to {self.host}: {_one_line(inner.reason)}")
        # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first.
        if isinstance(inner, (u3.NewConnectionError, ConnectionRefusedError)):
            return KubeError(
                f"the connection to the server {self.host} was refused - "
                "did you specify the right host or port?"
            )
        if isinstance(inner, (ConnectionError, u3.ProtocolError)):
            err = KubeError(f"the connection to the server {self.host} was reset")
            err.retryable = True
            return err
        if isinstance(inner, (u3.ConnectTimeoutError, u3.ReadTimeoutError, TimeoutError)):
            limit = self.opts.request_timeout
            after = f" after {limit:g}s" if limit else ""
            return KubeError(f"timed out{after} waiting for the API server at {self.host}")
        if isinstance(inner, u3.SSLError):
            return KubeError(f"TLS failure talking to {self.host}: {_one_line(inner)}")
        if isinstance(inner, u3.LocationValueError) or "No host" in str(inner):
            return KubeError(f"invalid server address {self.host!r}")
        return KubeError(f"cannot talk to the API server at {self.host}: {_one_line(inner)}")

    # ---- discovery -----------------------------------------------------------------

    def served_version(self, group: str) -> str | None:
        """The version of `group` the cluster prefers, or None when it serves none."""
        if group not in self._versions:
            try:
                data = self.send(Request("GET", f"/apis/{group}", resource=group))
            except KubeError as exc:
                if exc.status == 404:
                    self._versions[group] = None
                    return None
                raise
            version = None
            if isinstance(data, dict):
                preferred = data.get("preferredVersion") or {}
                version = preferred.get("version") if isinstance(preferred, dict) else None
                versions = data.get("versions")
                if not version and isinstance(versions, list) and versions:
                    first = versions[0]
                    version = first.get("version") if isinstance(first, dict) else None
            self._versions[group] = version
        return self._versions[group]

    def war_resource(self) -> Resource:
        version = self.served_version(WAR_GROUP)
        if not version:
            raise KubeError(
                f"the cluster does not serve {WAR_GROUP}: is TSB workload onboarding installed?"
            )
        return Resource(WAR_GROUP, version, "workloadautoregistrations", "WorkloadAutoRegistration")

    def workloadgroup_resource(self) -> Resource | None:
        version = self.served_version(WG_GROUP)
        if not version:
            return None
        return Resource(WG_GROUP, version, "workloadgroups", "WorkloadGroup")

    # ---- reading -------------------------------------------------------------------

    def list(
        self,
        res: Resource,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> ListResult:
        """Every object, fetched in pages of `--chunk-size`.

        A continue token that expires mid-way (410) restarts the list from the
        beginning; objects already collected are not collected twice.
        """
        items: list[dict[str, Any]] = []
        rv = self.list_each(
            res,
            namespace,
            items.append,
            label_selector=label_selector,
            field_selector=field_selector,
        )
        return ListResult(items, rv)

    def list_each(
        self,
        res: Resource,
        namespace: str | None,
        each: Callable[[dict[str, Any]], None],
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> str:
        """`list`, handing each object to `each` as its page arrives and keeping none.

        A caller that reduces objects to what it shows holds one page of raw objects at
        a time, however long the list. Answers the list's resourceVersion.
        """
        seen: set[str] = set()
        token: str | None = None
        restarted = False
        while True:
            req = list_request(
                res,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=self.opts.chunk_size,
                continue_token=token,
            )
            try:
                page = self.send(req)
            except KubeError as exc:
                if exc.status == 410 and token:
                    if self.opts.debug:
                        self._log("debug: continue token expired; listing again from the start")
                    token = None
                    restarted = True
                    continue
                raise
            if not isinstance(page, dict):
                raise KubeError(f"the server answered a list of {res.qualified} with no object")
            raw_items = page.get("items") or []
            for obj in raw_items if isinstance(raw_items, list) else []:
                if not isinstance(obj, dict):
                    continue
                meta = obj.get("metadata")
                key = _identity_key(meta)
                if restarted and key in seen:
                    continue
                seen.add(key)
                each(obj)
            meta = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
            token = meta.get("continue") or None
            # Let the page go before the next one arrives.
            page = raw_items = None
            if not token:
                return str(meta.get("resourceVersion") or "")

    def pods(
        self, namespace: str, label_selector: str, *, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """The pods matching a label selector, in one unpaged request of at most `timeout`."""
        req = list_request(PODS, namespace, label_selector=label_selector, limit=0)
        page = self.send(replace(req, timeout=timeout))
        items = page.get("items") if isinstance(page, dict) else None
        return [o for o in items if isinstance(o, dict)] if isinstance(items, list) else []

    def proxy_get(
        self, namespace: str, pod: str, port: int, path: str, *, timeout: float | None = None
    ) -> bytes:
        """The body a pod's port answers to GET `path`, through the API server's pod proxy."""
        data = self.send(proxy_get_request(namespace, pod, port, path, timeout=timeout))
        return data if isinstance(data, bytes) else b""

    def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist.

        An answer that is not that very object (a List, another kind, another name)
        is an error: nothing may go on to act on it as if it were the object.
        """
        try:
            obj = self.send(get_request(res, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(obj, dict):
            return None
        meta = obj.get("metadata")
        kind = obj.get("kind")
        if (kind is not None and kind != res.kind) or (
            not isinstance(meta, dict) or meta.get("name") != name
        ):
            raise KubeError(
                f"the server answered GET {res.qualified} {quote_input(name)} with "
                f"{'a ' + kind if isinstance(kind, str) else 'something else'}, "
                "not that object: refusing to act on it"
            )
        return obj

    def delete(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        *,
        uid: str,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        obj = self.send(
            delete_request(
                res, namespace, name, uid=uid, resource_version=resource_version, dry_run=dry_run
            )
        )
        return obj if isinstance(obj, dict) else {}

    def watch(
        self,
        res: Resource,
        namespace: str | None,
        resource_version: str,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
    ) -> Iterator[WatchEvent]:
        """Events after `resource_version` until the stream ends.

        A stream the server or the network cuts simply ends: the caller resumes from
        the last resourceVersion it saw. Raises `_Expired` when the server no longer
        has that version.
        """
        try:
            resp = self.send(
                watch_request(
                    res,
                    namespace,
                    resource_version=resource_version,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    timeout_seconds=timeout_seconds,
                )
            )
        except KubeError as exc:
            if exc.status == 410:
                raise _Expired() from None
            raise
        try:
            for line in _safe_lines(resp):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                etype = event.get("type")
                obj = event.get("object") if isinstance(event.get("object"), dict) else {}
                if etype == "ERROR":
                    if obj.get("code") == 410:
                        raise _Expired()
                    raise KubeError(f"watch failed: {obj.get('message') or obj}")
                yield WatchEvent(str(etype), obj)
        finally:
            resp.release_conn()

    def follow(
        self,
        res: Resource,
        namespace: str | None,
        listed: ListResult,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        deadline: float | None = None,
    ) -> Iterator[WatchEvent]:
        """Changes after a list, for as long as the caller iterates (or until `deadline`).

        A stream that ends is resumed from the last resourceVersion seen; a 410 means
        the server forgot that version, so the list is taken again and the difference
        from what the caller already has is yielded as events: nothing is lost and
        nothing is reported twice.
        """
        known: dict[str, dict[str, Any]] = {
            _identity_key(o.get("metadata")): o for o in listed.items
        }
        rv = listed.resource_version
        while deadline is None or time.monotonic() < deadline:
            timeout = None
            if deadline is not None:
                timeout = max(1, int(deadline - time.monotonic()))
            try:
                for event in self.watch(
                    res,
                    namespace,
                    rv,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    timeout_seconds=timeout,
                ):
                    meta = event.object.get("metadata") or {}
                    new_rv = meta.get("resourceVersion")
                    if new_rv:
                        rv = str(new_rv)
                    if event.type == "BOOKMARK":
                        continue
                    key = _identity_key(meta)
                    if event.type == "DELETED":
                        known.pop(key, None)
                    else:
                        known[key] = event.object
                    yield event
            except _Expired:
                if self.opts.debug:
                    self._log("debug: watch resourceVersion expired; listing again")
                fresh = self.list(
                    res, namespace, label_selector=label_selector, field_selector=field_selector
                )
                now = {_identity_key(o.get("metadata")): o for o in fresh.items}
                for key, obj in list(known.items()):
                    if key not in now:
                        del known[key]
                        yield WatchEvent("DELETED", obj)
                for key, obj in now.items():
                    old = known.get(key)
                    if old is None:
                        known[key] = obj
                        yield WatchEvent("ADDED", obj)
                    elif _rv(old) != _rv(obj):
                        known[key] = obj
                        yield WatchEvent("MODIFIED", obj)
                rv = fresh.resource_version


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


def _rv(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


def _identity_key(meta: Any) -> str:
    """A stable key for an object: namespace/name/uid (uid tells re-created objects apart)."""
    if not isinstance(meta, dict):
        return ""
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}/{meta.get('uid') or ''}"


def _lines(resp: Any) -> Iterator[bytes]:
    """Newline-delimited chunks of a streaming response."""
    buf = b""
    for chunk in resp.stream(amt=None, decode_content=False):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line
    if buf.strip():
        yield buf


def _safe_lines(resp: Any) -> Iterator[bytes]:
    """`_lines`, ending quietly when the connection breaks mid-stream."""
    import urllib3.exceptions as u3

    try:
        yield from _lines(resp)
    except (u3.HTTPError, OSError):
        return


def _add_group_headers(client: Any, groups: list[str]) -> None:
    """Send one `Impersonate-Group` header per group.

    The generated client flattens headers into a dict, which can hold a name only
    once, so the groups are added just before urllib3 sends the request.
    """
    from urllib3._collections import HTTPHeaderDict

    pool = client.rest_client.pool_manager
    original = pool.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        headers = HTTPHeaderDict(kwargs.get("headers") or {})
        for group in groups:
            headers.add("Impersonate-Group", group)
        kwargs["headers"] = headers
        return original(method, url, *args, **kwargs)

    pool.request = request


def _root_cause(exc: BaseException) -> BaseException:
    """The transport error behind `exc`.

    The generated client sometimes fails while handling a transport error (a TLS
    failure surfaces as an AttributeError about a missing body); the original
    error is then in the exception's context.
    """
    import urllib3.exceptions as u3

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (u3.HTTPError, OSError)) or getattr(seen, "status", None) == 0:
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def _one_line(exc: object) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text or type(exc).__name__


def _version() -> str:
    from kubectl_war import __version__

    return __version__


def client_version() -> str:
    """The installed kubernetes client's version, without importing the client."""
    try:
        from importlib.metadata import version

        return version("kubernetes")
    except Exception:
        return "unknown"
