"""The one seam between kubectl-war and the API server: `Kube`, a connection to one cluster.

Only the kube package imports the official `kubernetes` client (see kube/lazy.py).
Requests are built as plain data (kube/requests.py) before anything is sent;
responses are read as raw JSON, never deserialised into model objects (which is slow
and loses unknown fields); every failure leaves as a typed `KubeError` (kube/errors.py).
"""

from __future__ import annotations

import builtins
import json
import sys
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, cast

from kubectl_war import __version__
from kubectl_war.errors import quote_input
from kubectl_war.jsondata import child
from kubectl_war.kube import explain
from kubectl_war.kube.clientconfig import resolve
from kubectl_war.kube.config import Connection
from kubectl_war.kube.errors import (
    Gone,
    KubeError,
    NotFound,
)
from kubectl_war.kube.requests import (
    CONTROLPLANE_GROUP,
    EVENTS,
    PODS,
    POLICY_GROUP,
    SERVICES,
    WAR_GROUP,
    WG_GROUP,
    ListResult,
    Request,
    Resource,
    create_request,
    delete_request,
    get_request,
    list_request,
    object_key,
    proxy_get_request,
    service_proxy_request,
    update_request,
)
from kubectl_war.kube.watch import follow as follow_changes
from kubectl_war.kube.wire import Wire, build_wire, first_time, server_warnings, time_bound

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kubernetes.client.api_client import ApiClient
    from urllib3 import HTTPResponse

    from kubectl_war.kube.wire import Bound

# How long one logical request may keep retrying when --request-timeout is not given.
DEFAULT_RETRY_BOUND = 30.0


class Kube:
    """A connection to one cluster, configured the way kubectl would configure it."""

    def __init__(self, conn: Connection, *, log: Callable[[str], None] | None = None) -> None:
        self.conn = conn
        self._log = log or (lambda line: print(line, file=sys.stderr))
        self.sleep: Callable[[float], None] = time.sleep
        self._client: ApiClient | None = None
        self._client_lock = threading.Lock()
        self._versions: dict[str, str | None] = {}
        self._resolved = resolve(conn)
        self.context_name: str | None = self._resolved.context
        self._context_namespace = self._resolved.context_namespace
        self.host: str = self._resolved.host
        if self._resolved.withheld:
            self.debug_log(
                f"debug: credentials not sent to {self.host}: it is plain HTTP, and "
                "credentials are sent only over https (as kubectl does)"
            )

    @property
    def namespace(self) -> str:
        """`-n`, else the context's namespace, else `default` (kubectl's rule)."""
        return self.conn.namespace or self._context_namespace or "default"

    def debug_log(self, line: str) -> None:
        """Log `line` on stderr with --debug."""
        if self.conn.debug:
            self._log(line)

    def _api(self) -> ApiClient:
        if self._client is None:
            with self._client_lock:  # one client (and connection pool) for every thread
                if self._client is None:
                    # the kubernetes client loads on first use
                    from kubernetes.client.api_client import ApiClient

                    if not self._resolved.configuration.verify_ssl:
                        # Asked for (--insecure-skip-tls-verify or the kubeconfig's): no
                        # Python warning on every request, as kubectl prints none.
                        import urllib3

                        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
                    client = ApiClient(self._resolved.configuration)
                    client.user_agent = f"kubectl-war/{_version()}"
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
        from a request sent more than once says so (`retried`), because a NotFound or a
        Conflict then means the first attempt already did the work.
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
                self.debug_log(
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
        return self.conn.request_timeout or DEFAULT_RETRY_BOUND

    def _send_once(self, req: Request) -> Any:
        # the kubernetes client loads on first use
        from kubernetes.client.exceptions import ApiException

        start = time.monotonic()
        try:
            resp = self._urlopen(req)
        except ApiException as exc:
            self._debug(req, exc.status, start)
            self._server_warnings(getattr(exc, "headers", None))
            raise explain.answer_error(
                req,
                exc,
                host=self.host,
                who=self._who(),
                plain_http=not self._resolved.credentials,
            ) from None
        except KubeError:
            # Credentials that could not be had (an exec plugin or OIDC refresh that
            # failed when a token expired) say so themselves.
            raise
        except Exception as exc:
            self._debug(req, None, start)
            raise self._transport_error(exc) from None
        self._server_warnings(getattr(resp, "headers", None))
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
        return self.decode(req, data, json.loads)

    def decode(self, req: Request, data: bytes, decoder: Callable[[bytes], Any]) -> Any:
        """An answer's body as `decoder` reads its JSON (an empty body: `{}`)."""
        try:
            return decoder(data) if data else {}
        except ValueError:
            raise KubeError(
                f"the server at {self.host} answered {req.method} {req.path} "
                "with something that is not JSON"
            ) from None

    def _urlopen(self, req: Request) -> HTTPResponse:
        """Put `req` on the wire through the client's connection pool (its TLS and proxy
        settings), answering urllib3's response unread.

        Not through `ApiClient.call_api`: it serialises every header, parameter and body
        generically for models this package never uses, an eighth of a DELETE's CPU time,
        and a rollout batch sends hundreds of them at once.
        """
        # the kubernetes client loads on first use
        import urllib3
        from kubernetes.client.exceptions import ApiException

        wire = self.wire(req)
        try:
            resp: HTTPResponse = self._api().rest_client.pool_manager.urlopen(
                wire.method,
                wire.url,
                body=wire.body,
                headers=wire.headers,
                preload_content=False,
                timeout=wire.timeout,
            )
        except urllib3.exceptions.SSLError as exc:
            # As the client reports a TLS failure: an ApiException with status 0.
            raise ApiException(status=0, reason=f"{type(exc).__name__}\n{exc}") from None
        if not 200 <= resp.status <= 299:
            error = ApiException(http_resp=resp)
            if isinstance(error.body, bytes):
                error.body = error.body.decode("utf-8", "replace")
            raise error
        return resp

    def wire(self, req: Request) -> Wire:
        """The request exactly as it goes out: the one place every request of every
        command is built from the resolved connection (server, credentials, refreshed
        when due, impersonation, timeout).

        Credentials go only to an https:// server (`clientconfig.sends_credentials`): to a
        plain http one no `Authorization` header is sent, as with kubectl, while
        impersonation headers are.
        """
        target = self.host + req.path
        return build_wire(self._api(), self._resolved, target, req, self._timeout(req))

    def _server_warnings(self, headers: Mapping[str, str] | None) -> None:
        """Print each `Warning` the API server sent (deprecations, admission warnings) as
        kubectl does, `Warning: text` on stderr, once per process."""
        if not headers or not hasattr(headers, "get"):
            return
        getlist = getattr(headers, "getlist", None)
        values = getlist("Warning") if getlist is not None else [headers.get("Warning")]
        for text in server_warnings([v for v in values if v]):
            if first_time(text):
                self._log(f"Warning: {text}")

    def _transport_error(self, exc: BaseException) -> KubeError:
        return explain.transport_error(
            exc, host=self.host, request_timeout=self.conn.request_timeout
        )

    def _timeout(self, req: Request) -> Bound:
        return time_bound(self.conn.request_timeout, req)

    def _debug(self, req: Request, status: int | None, start: float) -> None:
        if self.conn.debug:
            ms = (time.monotonic() - start) * 1000
            self._log(
                f"debug: {req.method} {self.host}{req.url_path} -> {status or 'no answer'} "
                f"in {ms:.0f}ms"
            )

    def _who(self) -> str:
        if self.context_name:
            return f'the credentials of context "{self.context_name}"'
        return "the given credentials"

    # ---- discovery -----------------------------------------------------------------

    def served_version(self, group: str) -> str | None:
        """The version of `group` the cluster prefers, or None when it serves none."""
        if group not in self._versions:
            try:
                data = self.send(Request("GET", f"/apis/{group}", resource=group))
            except NotFound:
                self._versions[group] = None
                return None
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

    def policy_resource(self) -> Resource | None:
        """TSB's OnboardingPolicies, or None when the cluster does not serve them."""
        version = self.served_version(POLICY_GROUP)
        if not version:
            return None
        return Resource(POLICY_GROUP, version, "onboardingpolicies", "OnboardingPolicy")

    def controlplane_resource(self) -> Resource | None:
        """TSB's ControlPlane (its onboarding JWT issuers), or None when not served."""
        version = self.served_version(CONTROLPLANE_GROUP)
        if not version:
            return None
        return Resource(CONTROLPLANE_GROUP, version, "controlplanes", "ControlPlane")

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
        beginning once; if the restart's token expires too, everything is fetched in
        one unpaged request (client-go's pager does the same). Objects already
        collected are not collected twice.
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
        decoder: Callable[[bytes], Any] | None = None,
    ) -> str:
        """`list`, handing each object to `each` as its page arrives and keeping none.

        A caller that reduces objects to what it shows holds one page of raw objects at
        a time, however long the list. Answers the list's resourceVersion. `decoder`
        decodes each page's bytes instead of `kube.decode.loads` (one that leaves out
        what the caller never reads, see `kube.decode`).
        """
        seen: set[str] = set()
        token: str | None = None
        expired = 0  # continue tokens that expired: 1 restarts paged, 2 lists unpaged
        while True:
            req = list_request(
                res,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=self.conn.chunk_size if expired < 2 else 0,
                continue_token=token,
            )
            try:
                if decoder is None:
                    page = self.send(req)
                else:
                    page = self.decode(req, self.send(replace(req, raw=True)), decoder)
            except Gone:
                if not token:
                    raise
                expired += 1
                self.debug_log(
                    "debug: continue token expired; listing again from the start"
                    if expired == 1
                    else "debug: continue token expired again; listing everything at once"
                )
                token = None
                continue
            if not isinstance(page, dict):
                raise KubeError(f"the server answered a list of {res.qualified} with no object")
            raw_items = page.get("items") or []
            for obj in raw_items if isinstance(raw_items, list) else []:
                if not isinstance(obj, dict):
                    continue
                key = object_key(obj.get("metadata"))
                if expired and key in seen:
                    continue
                seen.add(key)
                each(obj)
            meta = child(page, "metadata")
            token = meta.get("continue") or None
            # Let the page go before the next one arrives.
            page = raw_items = None
            if not token:
                return str(meta.get("resourceVersion") or "")

    def events(self, namespace: str | None, *, about_kind: str) -> ListResult:
        """The Events about objects of one kind, in one list call."""
        return self.list(EVENTS, namespace, field_selector="involvedObject.kind=" + about_kind)

    def pods(
        self, namespace: str, label_selector: str, *, timeout: float | None = None
    ) -> builtins.list[dict[str, Any]]:  # `list` here is the method above
        """The pods matching a label selector, in one unpaged request of at most `timeout`."""
        req = list_request(PODS, namespace, label_selector=label_selector, limit=0)
        page = self.send(replace(req, timeout=timeout))
        items = page.get("items") if isinstance(page, dict) else None
        return [o for o in items if isinstance(o, dict)] if isinstance(items, list) else []

    def proxy_chunks(
        self,
        namespace: str,
        pod: str,
        port: int,
        path: str,
        *,
        timeout: float | None = None,
        limit: int,
    ) -> Generator[bytes, None, None]:
        """The body a pod's port answers to GET `path`, through the API server's pod proxy,
        as it arrives: a chunk of at most 1 MiB at a time, and at most `limit + 1` bytes in
        all, so a caller tells an answer over its bound by the length, and one that reads
        a large answer as it comes never holds it whole. The request goes out when the
        first chunk is asked for; close the iterator (or read it to the end) to free the
        connection.

        Raises:
            KubeError: the request failed, or the body broke off (while iterating).
        """
        req = proxy_get_request(namespace, pod, port, path, timeout=timeout)
        resp = self.send(replace(req, stream=True))
        read = 0
        try:
            while read <= limit:
                try:
                    chunk = resp.read(min(1024 * 1024, limit + 1 - read))
                except Exception as exc:
                    raise self._transport_error(exc) from None
                if not chunk:
                    break
                read += len(chunk)
                yield chunk
        finally:
            resp.release_conn()

    def service(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Service, or None when there is none."""
        return self.get(SERVICES, namespace, name)

    def service_proxy_get(
        self,
        namespace: str,
        service: str,
        port: int,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        *,
        timeout: float | None = None,
    ) -> bytes:
        """The body a Service's port answers to GET `path`, through the API server's
        service proxy. Raises KubeError (its `body` the answer's JSON, when it was JSON)."""
        req = service_proxy_request(namespace, service, port, path, tuple(query), timeout=timeout)
        return cast(bytes, self.send(req))

    def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist.

        An answer that is not that very object (a List, another kind, another name)
        is an error: nothing may go on to act on it as if it were the object.
        """
        try:
            obj = self.send(get_request(res, namespace, name))
        except NotFound:
            return None
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

    def delete(self, res: Resource, namespace: str | None, name: str, **options: Any) -> None:
        """DELETE one object; `options` are `delete_request`'s (uid, resource_version, dry_run).

        The answer (the object as deleted, some 12 KB for a WAR) is read but not decoded:
        nothing needs it, and a rollout's batch sends hundreds at once.
        """
        self.send(replace(delete_request(res, namespace, name, **options), raw=True))

    def create(self, res: Resource, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        """POST `obj`; answers the object as stored (`AlreadyExists` is a `Conflict`)."""
        return _object(self.send(create_request(res, namespace, obj)))

    def update(self, res: Resource, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT `obj` (with its resourceVersion: `Conflict` when it changed since); answers
        the object as stored."""
        return _object(self.send(update_request(res, namespace, obj)))

    # Changes after a list, resumed and re-listed as needed: `kube.follow(res, ...)` is
    # kube/watch.py's `follow(kube, res, ...)`.
    follow = follow_changes


def _object(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise KubeError("the server answered a write with no object")
    return answer


def _version() -> str:
    return __version__
