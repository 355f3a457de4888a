"""A loopback Kubernetes API server that speaks the real wire protocol.

Real ``kubectl`` and the official Python client talk to it over HTTP on
127.0.0.1: discovery (aggregated and legacy), list/get/create/update/patch/
delete, the status subresource, chunked lists with continue tokens, watches,
server-side tables, pod proxy, and ``Status`` errors with the real messages.
Tests drive it through :class:`FakeKube`'s Python API.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote

from .clock import utcnow
from .patch import PatchError, json_patch, merge_patch
from .rbac import Rbac
from .resources import AGE_COLUMN, ResourceType, default_resource_types
from .selectors import SelectorError, parse_field_selector, parse_label_selector
from .store import (
    ApiError,
    Filter,
    LogEvent,
    Store,
    Stored,
    decode_continue,
    encode_continue,
    object_key,
    paused_gc,
)

__all__ = ["FakeKube", "ProxyHandler", "RecordedRequest", "ServerTiming"]

ProxyHandler = Callable[[str, "dict[str, list[str]]"], "tuple[int, str, bytes]"]

DEFAULT_USER = "system:serviceaccount:default:tester"
VERSION_INFO = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "9edcffcde5595e8a5b1a35f88c421764e575afce",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)
JSON = "application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"
_PROXY_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/(pods|services)/([^/]+)/proxy(/.*)?$")
# Services are not served as objects here; their proxy subresource is (see
# ``register_service_proxy``), and RBAC and errors name them as the API server does.
_SERVICES = ResourceType(
    group="",
    versions=("v1",),
    plural="services",
    singular="service",
    kind="Service",
    namespaced=True,
    short_names=("svc",),
    subresources=("proxy",),
)


@dataclass
class RecordedRequest:
    """One request as the server saw it; ``path`` is percent-decoded, ``body`` parsed JSON."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_path: str = ""
    raw_body: bytes = b""
    # Every (name, value) as sent, in order: a header may come more than once.
    header_list: list[tuple[str, str]] = field(default_factory=list)
    # The CN of the client certificate the request came with (TLS servers only).
    client_cert: str | None = None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header sent more than once (e.g. Impersonate-Group)."""
        lowered = name.lower()
        return [v for k, v in self.header_list if k.lower() == lowered]

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by case-insensitive name."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default


@dataclass
class Response:
    code: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ServerTiming:
    """How long the server took to build one answer, sending it not included.

    ``table`` marks a server-side Table (what ``kubectl get`` asks for): building
    one costs the server more than plain JSON, so benchmarks report the two apart.
    """

    method: str
    path: str
    table: bool
    seconds: float
    size: int


@dataclass
class Stream:
    """A chunked response (watch): ``chunks`` yields bytes until the stream ends."""

    chunks: Iterator[bytes]
    content_type: str = JSON


@dataclass
class Request:
    method: str
    raw_path: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    client_gone: Callable[[], bool] = lambda: False
    # Who the request authenticated as (set by FakeKube._route).
    user: str = ""
    # The CN of a verified client certificate (TLS servers only).
    client_cert: str | None = None

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default


def _media_params(accept: str) -> Iterator[tuple[str, dict[str, str]]]:
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip()
        yield pieces[0].lower(), params


def _wanted(accept: str, group: str, kind: str, versions: Sequence[str]) -> str | None:
    """The first version of ``kind`` in ``group`` the Accept header asks for, in its order."""
    for media, params in _media_params(accept):
        if media in ("application/json", "*/*") and params.get("as") == kind:
            if params.get("g") == group and params.get("v") in versions:
                return params["v"]
        elif media in ("application/json", "*/*", "application/*"):
            return None
    return None


def _typed_dumps(obj: Any) -> bytes:
    # Typed API structs (Status, Table, discovery) serialize in field order, not sorted.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def warning_header(text: str) -> str:
    """A ``Warning`` header value as the API server writes it (NewWarningHeader in
    k8s.io/apimachinery/pkg/util/net): code 299, agent ``-``, the text quoted with ``"``
    and ``\\`` escaped. Go's server turns CR and LF in header values into spaces."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return '299 - "' + quoted.replace("\r", " ").replace("\n", " ") + '"'


# kube-apiserver gzips an answer when the client accepts gzip and the answer is over
# 128 KiB, at level 1 (k8s.io/apiserver responsewriters: defaultGzipThresholdBytes,
# defaultGzipContentEncodingLevel). kubectl (Go's transport) asks for gzip; the Python
# client (urllib3) does not.
GZIP_THRESHOLD = 128 * 1024
GZIP_LEVEL = 1


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _compressed(req: Request, res: Response) -> Response:
    """``res`` as kube-apiserver sends it to ``req``: gzipped when large and accepted."""
    if len(res.body) <= GZIP_THRESHOLD or "Content-Encoding" in res.headers:
        return res
    if not _accepts_gzip(req.header("Accept-Encoding")):
        return res
    body = gzip.compress(res.body, compresslevel=GZIP_LEVEL, mtime=0)
    headers = {**res.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(res.code, body, res.content_type, headers)


def _json_response(obj: Any, code: int = 200, content_type: str = JSON) -> Response:
    return Response(code, _typed_dumps(obj) + b"\n", content_type)


def _fault_error(code: int) -> ApiError:
    reasons = {
        429: (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        500: (
            "InternalError",
            'an error on the server ("injected fault") has prevented the request from succeeding',
        ),
        502: ("InternalError", "bad gateway"),
        503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504: ("Timeout", "the server was unable to return a response in the time allotted"),
    }
    reason, message = reasons.get(code, ("InternalError", "injected fault"))
    return ApiError(code, reason, message)


def _list_body(rt: ResourceType, av: str, items: Iterable[Any], meta: dict[str, Any]) -> bytes:
    """A list answer from objects' cached JSON, without decoding and encoding them again."""
    return b"".join(
        (
            b'{"apiVersion":',
            json.dumps(av).encode(),
            b',"items":[',
            b",".join(s.json(av) for s in items),
            b'],"kind":',
            json.dumps(rt.list_kind).encode(),
            b',"metadata":',
            _typed_dumps(meta),
            b"}\n",
        )
    )


def _error_response(err: ApiError) -> Response:
    return _json_response(err.status(), err.code)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class FakeKube:
    """A fake Kubernetes API server for tests, on 127.0.0.1.

    Serves core v1 namespaces/events/pods, ``runtime.onboarding.tetrate.io/v1alpha1``
    WorkloadAutoRegistrations, ``networking.istio.io`` WorkloadGroups, and TSB's
    ``authorization.onboarding.tetrate.io`` OnboardingPolicies and ``install.tetrate.io``
    ControlPlanes (unless ``serve_wars=False``).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        token: str | None = None,
        serve_wars: bool = True,
        wg_versions: Sequence[str] = ("v1", "v1beta1", "v1alpha3"),
        watch_window: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
        server_version: str = "v1.31.0",
        tls: bool = False,
        certs: Any = None,
    ) -> None:
        self.tls = tls or certs is not None
        # With tls: the tests.fakekube.tls.Certs to serve with (several servers signed by
        # one CA, as clusters under one company CA are); a CA of its own when None.
        self._certs = certs
        # With tls=True: the CA file that signed the server's certificate, and a client
        # certificate and key it signed (tls.CLIENT_USER).
        self.ca_file: str | None = None
        self.client_cert_file: str | None = None
        self.client_key_file: str | None = None
        self.clock: Callable[[], datetime] = clock or utcnow
        # A steppable clock (tests.fakekube.Clock) when one was given: tests advance it.
        self.clock_ctl: Any = clock if hasattr(clock, "advance") else None
        self.token = token
        self.user = DEFAULT_USER
        major, minor = [*server_version.lstrip("v").split("."), "0"][:2]
        self.version_info = {
            **VERSION_INFO,
            "major": major,
            "minor": minor,
            "gitVersion": server_version,
        }
        self.serve_wars = serve_wars
        self.wg_versions = tuple(wg_versions)
        self.store = Store(
            default_resource_types(serve_wars=serve_wars, wg_versions=self.wg_versions),
            self.clock,
            watch_window,
        )
        self.requests: list[RecordedRequest] = []
        # Called with each request before it is handled: lets a test change the world
        # at an exact point of a client's conversation (say, between a list and a delete).
        self.request_hooks: list[Callable[[RecordedRequest], None]] = []
        # Set to a tests.fakekube.faults.Faults to make the server misbehave on purpose.
        self.faults: Any = None
        # Tokens, users, grants and denials: see add_user, grant, deny and forbid.
        self.rbac = Rbac()
        # (text, method, path prefix) of each Warning header to send: see warn().
        self._warnings: list[tuple[str, str | None, str | None]] = []
        # Set while stopping: answers held back on purpose (Faults) give up at once.
        self.stopping = threading.Event()
        self._proxies: dict[tuple[str, str, int], ProxyHandler] = {}
        self._service_proxies: dict[tuple[str, str, int], ProxyHandler] = {}
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conn_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        # Handlers holding an answer back, with the Faults that holds it.
        self._holding: dict[threading.Thread, Any] = {}
        self._bookmarks = 0
        self._watch_epoch = 0
        self.url = ""
        # Set to a list to record a ServerTiming per answer (benchmarks): a slow
        # server must not hide a slow client.
        self.timings: list[ServerTiming] | None = None

    # -- life cycle -----------------------------------------------------------------

    def start(self) -> FakeKube:
        if self._server is not None:
            return self
        fake = self
        self.store.closed = False
        self.stopping.clear()

        class Handler(_Handler):
            kube = fake

        self._server = _Server((self._host, self._port), Handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        if self.tls:
            import ssl

            from .tls import make_certs

            if self._certs is None:
                # Made once, kept across restarts (kubeconfigs name its CA file), and
                # removed with this server object or at exit at the latest.
                directory = tempfile.mkdtemp(prefix="fakekube-tls-")
                weakref.finalize(self, shutil.rmtree, directory, True)
                self._certs = make_certs(directory)
            certs = self._certs
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certs.cert_file, certs.key_file)
            # Client certificates the CA signed authenticate as their CN, as the API
            # server's x509 authenticator does; without one a request is anonymous.
            ctx.load_verify_locations(certs.ca_file)
            ctx.verify_mode = ssl.CERT_OPTIONAL
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            self.ca_file = certs.ca_file
            self.client_cert_file = certs.client_cert_file
            self.client_key_file = certs.client_key_file
            self.url = f"https://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakekube-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: end every watch stream, close connections, join the threads."""
        server = self._server
        if server is None:
            return
        self.stopping.set()
        with self._conn_lock:
            held = [*self._holding.values(), self.faults]
        for faults in held:
            if faults is not None:
                faults.release_slow_answers()  # held answers end now, unanswered
        with self.store.lock:
            self.store.closed = True
            self.store.changed.notify_all()
        server.shutdown()
        server.server_close()
        # Idle keep-alive connections block their handler in a read: end the read
        # side so they finish, while a response being written still completes.
        with self._conn_lock:
            conns = list(self._conns)
            handlers = list(self._handlers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RD)
        deadline = time.monotonic() + 2.0
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(2.0)
        self._server = None
        self._thread = None

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until no connection is open but those holding an answer back on purpose
        (Faults): once the clients are gone (say, a command that has exited), every
        request they sent is in ``requests`` and carried out."""
        deadline = time.monotonic() + timeout
        while True:
            with self._conn_lock:
                if self._handlers <= self._holding.keys():
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"fakekube: connections still open after {timeout:g}s")
            time.sleep(0.01)

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1]) if self.url else 0

    def write_kubeconfig(
        self,
        path: str | Path,
        *,
        context: str = "fake",
        namespace: str | None = None,
        token: str | None = None,
        trust: bool = True,
    ) -> str:
        """Write a kubeconfig for this server (token defaults to the server's own;
        with TLS, `trust=False` leaves out the CA so the server is not trusted)."""
        if not self.url:
            raise RuntimeError("start the server before writing a kubeconfig")
        token = token if token is not None else self.token

        def q(text: str) -> str:
            return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar

        lines = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            f"- name: {q(context)}",
            "  cluster:",
            f"    server: {q(self.url)}",
            *([f"    certificate-authority: {q(self.ca_file)}"] if self.ca_file and trust else []),
            "contexts:",
            f"- name: {q(context)}",
            "  context:",
            f"    cluster: {q(context)}",
            f"    user: {q(context)}",
        ]
        if namespace:
            lines.append(f"    namespace: {q(namespace)}")
        lines += [f"current-context: {q(context)}", "users:", f"- name: {q(context)}"]
        lines += ["  user:", f"    token: {q(token)}"] if token else ["  user: {}"]
        lines.append("preferences: {}")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n")
        return str(target)

    # -- the Python API -------------------------------------------------------------

    def _type_of(self, obj: dict[str, Any]) -> ResourceType:
        kind = obj.get("kind")
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        for rt in self.store.types.values():
            if rt.kind == kind and rt.group == group:
                return rt
        raise ValueError(f"{obj.get('apiVersion')}/{kind} is not served by this FakeKube")

    def add(self, obj: dict[str, Any], *, manager: str = "test") -> dict[str, Any]:
        """Create server-side; keeps any given uid, stamps, generation and managedFields."""
        rt = self._type_of(obj)
        with self.store.lock:
            stored = self.store.create(
                rt,
                obj,
                manager=manager,
                api_version=str(obj.get("apiVersion") or rt.api_version()),
                seed=True,
            )
            return stored.copy()

    def add_all(self, objs: Iterable[dict[str, Any]], *, manager: str = "test") -> None:
        """``add`` many objects at once (no copies returned): fast seeding."""
        with self.store.lock, paused_gc():
            for obj in objs:
                rt = self._type_of(obj)
                self.store.create(
                    rt,
                    obj,
                    manager=manager,
                    api_version=str(obj.get("apiVersion") or rt.api_version()),
                    seed=True,
                )

    def get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        rt = self.store.type_for(plural)
        with self.store.lock:
            stored = self.store.get(plural, object_key(rt, namespace, name))
            return stored.copy() if stored else None

    def objects(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        rt = self.store.type_for(plural)
        with self.store.lock:
            return [s.copy() for s in self.store.scan(Filter(rt, namespace))]

    def update(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        mutate: Callable[[dict[str, Any]], None],
        *,
        subresource: str | None = None,
        manager: str = "test",
    ) -> dict[str, Any]:
        """Change an object server-side as ``manager`` would with PUT (or PUT /status)."""
        rt = self.store.type_for(plural)
        key = object_key(rt, namespace, name)
        with self.store.lock:
            old = self.store.get(plural, key)
            if old is None:
                raise KeyError(f'{rt.qualified} "{name}" not found')
            before = old.load()
            obj = old.load()
            mutate(obj)
            if rt.has_status and subresource is None and obj.get("status") != before.get("status"):
                raise ValueError("status changes go through subresource='status'")
            if subresource == "status":
                rest = {k: v for k, v in obj.items() if k != "status"}
                if rest != {k: v for k, v in before.items() if k != "status"}:
                    raise ValueError("a status write changes nothing but status")
            stored = self.store.update(
                rt,
                key,
                obj,
                manager=manager,
                api_version=rt.api_version(),
                subresource=subresource,
            )
            return stored.copy()

    def delete(self, plural: str, namespace: str | None, name: str) -> None:
        """Delete server-side (dependents and namespace contents go too); emits DELETED."""
        rt = self.store.type_for(plural)
        with self.store.lock:
            try:
                self.store.delete(rt, object_key(rt, namespace, name))
            except ApiError as err:
                raise KeyError(err.message) from None

    def forbid(self, verb: str, plural: str, namespace: str | None = None) -> None:
        """Answer 403 to ``verb`` on ``plural`` (``"*"`` matches any; ``"pods/proxy"`` style
        names a subresource) in ``namespace``; None means everywhere, "" cluster-scope only.
        Applies to every user: ``deny(None, verb, plural, namespace)``."""
        self.rbac.deny(None, verb, plural, namespace)

    def allow_all(self) -> None:
        """Forget every denial and grant: every user may do everything again."""
        self.rbac.clear()

    def add_user(self, token: str, name: str) -> None:
        """Accept bearer ``token`` as user ``name`` (also when the server has a ``token``
        of its own). Requests without a known token are the default user, ``self.user``.
        ``write_kubeconfig(path, token=token)`` writes a kubeconfig for that user; kubectl
        sends bearer tokens only over https, so give kubectl a ``FakeKube(tls=True)``."""
        self.rbac.add_user(token, name)

    def grant(
        self,
        user: str,
        verbs: str | Iterable[str],
        resources: str | Iterable[str],
        namespace: str | None = None,
        names: str | Iterable[str] = (),
    ) -> None:
        """Let ``user`` do ``verbs`` on ``resources``; once a user has a grant, it may do
        only what its grants allow (a Role bound to it), anything else is answered 403.

        verbs: RBAC verbs (get, list, watch, create, update, patch, delete,
            deletecollection) or ``"*"``; one string or several.
        resources: plurals (``"workloadautoregistrations"``), subresources
            (``"pods/proxy"``, ``"workloadautoregistrations/status"``), ``"pods/*"`` or
            ``"*"`` (everything, subresources too); one string or several.
        namespace: None grants in every namespace and at the cluster scope (a
            ClusterRoleBinding); a name grants in that namespace only (a RoleBinding), so
            a cluster-scope list (``-A``) stays forbidden.
        names: resourceNames: only requests for these objects (never list or watch).
        """
        self.rbac.grant(user, verbs, resources, namespace, names)

    def deny(
        self, user: str | None, verb: str, resource: str, namespace: str | None = None
    ) -> None:
        """Answer 403 to ``user`` (None: everyone) for ``verb`` (``"*"``: any) on ``resource``
        (a plural, ``"pods/proxy"``, ``"pods/*"`` or ``"*"``), whatever its grants say.
        namespace: None everywhere, ``""`` the cluster scope only, a name that namespace."""
        self.rbac.deny(user, verb, resource, namespace)

    def warn(self, text: str, method: str | None = None, path_prefix: str | None = None) -> None:
        """Send ``Warning: 299 - "text"`` with every answer (errors and watches too) to
        requests of ``method`` (None: any) whose percent-decoded path starts with
        ``path_prefix`` (None: any), as the API server sends deprecation and admission
        warnings. Several warnings may match one answer: each is its own header, in the
        order given, a text only once (the API server de-duplicates them too)."""
        self._warnings.append((text, method.upper() if method else None, path_prefix))

    def clear_warnings(self) -> None:
        self._warnings.clear()

    def warnings_for(self, method: str, path: str) -> list[str]:
        """The Warning header values an answer to ``method path`` carries."""
        out: list[str] = []
        for text, w_method, prefix in list(self._warnings):
            if w_method not in (None, method) or not path.startswith(prefix or ""):
                continue
            value = warning_header(text)
            if value not in out:
                out.append(value)
        return out

    def register_pod_proxy(
        self, namespace: str, pod_name: str, port: int, handler: ProxyHandler
    ) -> None:
        """Serve ``/api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH`` by ``handler(path, query)``."""
        self._proxies[(namespace, pod_name, int(port))] = handler

    def register_service_proxy(
        self, namespace: str, service: str, port: int, handler: ProxyHandler
    ) -> None:
        """Serve ``/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`` by
        ``handler(path, query)``, its answer passed on whatever its status, as the API
        server passes on a backend's."""
        self._service_proxies[(namespace, service, int(port))] = handler

    def expire_continue_tokens(self) -> None:
        """Every continue token issued so far now answers 410 Expired."""
        with self.store.lock:
            self.store.continue_floor = self.store.bump()

    def compact(self) -> None:
        """Compact history: watches (and continue tokens) from any resourceVersion issued
        so far become too old. Like etcd's compaction, this is itself a write."""
        with self.store.lock:
            self.store.compact_floor = self.store.bump()

    def end_watches(self) -> None:
        """End every open watch stream cleanly, as an API server does when its watch
        timeout passes or it restarts; clients must resume from the last version."""
        with self.store.lock:
            self._watch_epoch += 1
            self.store.changed.notify_all()

    def send_bookmarks(self) -> None:
        """Send a BOOKMARK now on every open watch that allowed bookmarks."""
        with self.store.lock:
            self._bookmarks += 1
            self.store.changed.notify_all()

    def max_unavailable(self, namespace: str, group: str | None) -> int:
        """The most WARs of WorkloadGroup ``namespace/group`` that were unavailable at the
        same time, as the server saw its own writes: deleted (while connected or joining)
        and not re-created yet, or present with no connected agent (AgentConnected absent
        or Unknown). Disconnected (False) WARs never count. A high-water mark since the
        server started or ``reset_availability``; every writer counts, the fake's own
        Python API included. Group None: WARs without a WorkloadGroup owner."""
        with self.store.lock:
            return self.store.availability.max_unavailable(namespace, group)

    def max_missing(self, namespace: str, group: str | None) -> int:
        """Like ``max_unavailable``, counting only WARs deleted and not re-created yet."""
        with self.store.lock:
            return self.store.availability.max_missing(namespace, group)

    def unavailable(self, namespace: str, group: str | None) -> list[str]:
        """Names of the WARs of ``namespace/group`` unavailable now (see max_unavailable)."""
        with self.store.lock:
            return self.store.availability.unavailable(namespace, group)

    def reset_availability(self, namespace: str | None = None, group: str | None = None) -> None:
        """Restart the high-water marks from what is unavailable now: of every group
        (``namespace`` None) or of ``namespace/group`` only."""
        with self.store.lock:
            where = None if namespace is None else [(namespace, group)]
            self.store.availability.reset(where)

    def seed_fleet(self) -> None:
        from .fleet import build_fleet

        self.add_all(build_fleet(self.clock()), manager="onboarding-plane")

    def seed_large_fleet(self, n: int) -> None:
        from .fleet import admitting_policies, iter_large_fleet

        wars: list[dict[str, Any]] = []

        def noted(objs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for obj in objs:
                if obj.get("kind") == "WorkloadAutoRegistration":
                    wars.append(obj)
                yield obj

        fleet = iter_large_fleet(self.clock(), n, shared=True)
        self.add_all(noted(fleet), manager="onboarding-plane")
        # The policies that admitted them, as a real cluster has.
        self.add_all(admitting_policies(self.clock(), wars))

    @property
    def resource_version(self) -> str:
        with self.store.lock:
            return str(self.store.rv)

    def clear_requests(self) -> None:
        self.requests.clear()

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.path == path and (method is None or r.method == method)
        ]

    # -- HTTP ------------------------------------------------------------------------

    def _user(self, req: Request) -> str:
        return req.header("Impersonate-User") or req.user or self.user

    def _authorize(
        self,
        req: Request,
        verb: str,
        rt: ResourceType,
        sub: str | None,
        ns: str | None,
        name: str | None,
    ) -> None:
        resource = f"{rt.plural}/{sub}" if sub else rt.plural
        user = self._user(req)
        if self.rbac.allowed(user, verb, resource, ns, name):
            return
        # The authorization filter's message (forbiddenMessage in k8s.io/apiserver) inside
        # apierrors.NewForbidden: details name the resource without its subresource.
        where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
        subject = f'{rt.qualified} "{name}"' if name else rt.qualified
        raise ApiError(
            403,
            "Forbidden",
            f'{subject} is forbidden: User "{user}" cannot {verb} resource '
            f'"{resource}" in API group "{rt.group}" {where}',
            ApiError.details_for(rt, name),
        )

    def _manager(self, req: Request) -> str:
        manager = req.q("fieldManager")
        if manager:
            return manager
        agent = req.header("User-Agent")
        return agent.split("/", 1)[0][:128] if agent else "unknown"

    def handle(self, req: Request) -> Response | Stream:
        timings = self.timings
        if timings is None:
            result = self._route(req)
            return _compressed(req, result) if isinstance(result, Response) else result
        start = time.perf_counter()
        result = self._route(req)
        if isinstance(result, Response):
            result = _compressed(req, result)
            table = "as=Table" in req.header("Accept")
            timings.append(
                ServerTiming(
                    req.method, req.path, table, time.perf_counter() - start, len(result.body)
                )
            )
        return result

    def _route(self, req: Request) -> Response | Stream:
        auth = req.header("Authorization")
        token = auth[7:] if auth.startswith("Bearer ") else None
        user = self.rbac.user_for(token)
        if user is None and token is None and req.client_cert:
            user = req.client_cert  # the x509 authenticator: the certificate's CN
        if user is None and self.token is not None and token != self.token:
            return _json_response(ApiError(401, "Unauthorized", "Unauthorized").status(), 401)
        req.user = user or self.user
        match = _PROXY_PATH.match(req.raw_path)
        if match:
            return self._pod_proxy(req, match)
        segs = [unquote(s) for s in req.raw_path.split("/") if s]
        if not segs:
            return _json_response({"paths": self._paths()})
        head = segs[0]
        if head == "version" and len(segs) == 1:
            return _json_response(self.version_info)
        if head in ("healthz", "livez", "readyz") and len(segs) == 1:
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "api":
            if len(segs) == 1:
                return self._discovery_core(req)
            if segs[1] != "v1":
                raise ApiError.not_found_path()
            if len(segs) == 2:
                return _json_response(self._resource_list("", "v1"))
            return self._resource_request(req, "", "v1", segs[2:])
        if head == "apis":
            if len(segs) == 1:
                return self._discovery_groups(req)
            group = segs[1]
            versions = self._group_versions(group)
            if not versions:
                raise ApiError.not_found_path()
            if len(segs) == 2:
                return _json_response(self._api_group(group))
            if segs[2] not in versions:
                raise ApiError.not_found_path()
            if len(segs) == 3:
                return _json_response(self._resource_list(group, segs[2]))
            return self._resource_request(req, group, segs[2], segs[3:])
        raise ApiError.not_found_path()

    # discovery

    def _paths(self) -> list[str]:
        paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]
        for group in self._groups():
            paths.append(f"/apis/{group}")
            paths += [f"/apis/{group}/{v}" for v in self._group_versions(group)]
        return sorted(paths)

    def _groups(self) -> list[str]:
        groups: list[str] = []
        for rt in self.store.types.values():
            if rt.group and rt.group not in groups:
                groups.append(rt.group)
        return groups

    def _group_versions(self, group: str) -> list[str]:
        versions: list[str] = []
        for rt in self.store.types.values():
            if rt.group == group:
                versions += [v for v in rt.versions if v not in versions]
        return versions

    def _types_at(self, group: str, version: str) -> list[ResourceType]:
        return [
            rt for rt in self.store.types.values() if rt.group == group and version in rt.versions
        ]

    def _api_group(self, group: str) -> dict[str, Any]:
        versions = [
            {"groupVersion": f"{group}/{v}", "version": v} for v in self._group_versions(group)
        ]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": versions,
            "preferredVersion": versions[0],
        }

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        for rt in self._types_at(group, version):
            entry: dict[str, Any] = {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(rt.verbs),
            }
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            if rt.categories:
                entry["categories"] = list(rt.categories)
            if rt.storage_hash:
                entry["storageVersionHash"] = rt.storage_hash
            resources.append(entry)
            for sub in rt.subresources:
                resources.append(
                    {
                        "name": f"{rt.plural}/{sub}",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": _subresource_kind(rt, sub),
                        "verbs": list(rt.subresource_verbs(sub)),
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    def _aggregated_versions(self, group: str) -> list[dict[str, Any]]:
        out = []
        versions = self._group_versions(group) if group else ["v1"]
        for version in versions:
            resources = []
            for rt in self._types_at(group, version):
                gvk = {"group": rt.group, "version": version, "kind": rt.kind}
                entry: dict[str, Any] = {
                    "resource": rt.plural,
                    "responseKind": gvk,
                    "scope": "Namespaced" if rt.namespaced else "Cluster",
                    "singularResource": rt.singular,
                    "verbs": list(rt.verbs),
                }
                if rt.short_names:
                    entry["shortNames"] = list(rt.short_names)
                if rt.categories:
                    entry["categories"] = list(rt.categories)
                if rt.subresources:
                    entry["subresources"] = [
                        {
                            "subresource": sub,
                            "responseKind": {**gvk, "kind": _subresource_kind(rt, sub)},
                            "verbs": list(rt.subresource_verbs(sub)),
                        }
                        for sub in rt.subresources
                    ]
                resources.append(entry)
            out.append({"version": version, "resources": resources, "freshness": "Current"})
        return out

    def _aggregated(self, version: str, items: list[dict[str, Any]]) -> Response:
        body = {
            "kind": "APIGroupDiscoveryList",
            "apiVersion": f"apidiscovery.k8s.io/{version}",
            "metadata": {},
            "items": items,
        }
        return _json_response(body, content_type=AGGREGATED.format(v=version))

    def _discovery_core(self, req: Request) -> Response:
        wanted = _wanted(
            req.header("Accept"), "apidiscovery.k8s.io", "APIGroupDiscoveryList", ("v2", "v2beta1")
        )
        if wanted:
            item = {
                "metadata": {"creationTimestamp": None},
                "versions": self._aggregated_versions(""),
            }
            return self._aggregated(wanted, [item])
        return _json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": self.url.split("//", 1)[-1]}
                ],
            }
        )

    def _discovery_groups(self, req: Request) -> Response:
        wanted = _wanted(
            req.header("Accept"), "apidiscovery.k8s.io", "APIGroupDiscoveryList", ("v2", "v2beta1")
        )
        if wanted:
            items = [
                {
                    "metadata": {"name": group, "creationTimestamp": None},
                    "versions": self._aggregated_versions(group),
                }
                for group in self._groups()
            ]
            return self._aggregated(wanted, items)
        groups = []
        for group in self._groups():
            info = self._api_group(group)
            groups.append({k: info[k] for k in ("name", "versions", "preferredVersion")})
        return _json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    # resources

    def _resource_request(
        self, req: Request, group: str, version: str, rest: list[str]
    ) -> Response | Stream:
        served = {rt.plural: rt for rt in self._types_at(group, version)}
        namespace: str | None = None
        if (
            len(rest) >= 3
            and rest[0] == "namespaces"
            and rest[2] in served
            and served[rest[2]].namespaced
        ):
            namespace = rest[1]
            rest = rest[2:]
        rt = served.get(rest[0])
        if rt is None or len(rest) > 3 or (rt.namespaced and namespace is None and len(rest) > 1):
            raise ApiError.not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and (sub not in rt.subresources or sub in ("proxy", "log", "finalize")):
            raise ApiError.not_found_path()
        method = req.method
        if name is None:
            if method == "GET":
                verb = "watch" if req.q("watch", "").lower() in ("1", "true") else "list"
            elif method == "POST":
                verb = "create"
            elif method == "DELETE":
                verb = "deletecollection"
            else:
                raise _method_not_allowed()
        else:
            verbs = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
            verb = verbs.get(method, "")
            if not verb or (sub is not None and verb == "delete"):
                raise _method_not_allowed()
        self._authorize(req, verb, rt, sub, namespace, name)
        av = rt.api_version(version)
        if verb == "list":
            return self._list(req, rt, av, namespace)
        if verb == "watch":
            return self._watch(req, rt, av, namespace)
        if verb == "create":
            return self._create(req, rt, av, namespace)
        if verb == "deletecollection":
            return self._delete_collection(req, rt, av, namespace)
        assert name is not None
        key = object_key(rt, namespace, name)
        if verb == "get":
            with self.store.lock:
                stored = self.store.get(rt.plural, key)
            if stored is None:
                raise ApiError.not_found(rt, name)
            table = _wanted(req.header("Accept"), "meta.k8s.io", "Table", ("v1", "v1beta1"))
            if table:
                return _json_response(
                    self._table(req, rt, av, [stored], {"resourceVersion": str(stored.rv)}, table)
                )
            return Response(200, stored.json(av) + b"\n")
        if verb == "update":
            return self._update(req, rt, av, namespace, name, sub)
        if verb == "patch":
            return self._patch(req, rt, av, namespace, name, sub)
        return self._delete(req, rt, av, key, name)

    def _filter(self, req: Request, rt: ResourceType, namespace: str | None) -> Filter:
        try:
            labels = parse_label_selector(req.q("labelSelector", "") or "")
            fields = parse_field_selector(req.q("fieldSelector", "") or "", rt.supports_field)
        except SelectorError as err:
            raise ApiError.bad_request(str(err)) from None
        return Filter(rt, namespace, labels, fields)

    def _list(self, req: Request, rt: ResourceType, av: str, namespace: str | None) -> Response:
        flt = self._filter(req, rt, namespace)
        try:
            limit = max(0, int(req.q("limit", "0") or 0))
        except ValueError:
            raise ApiError.bad_request(f'limit: Invalid value: "{req.q("limit")}"') from None
        token = req.q("continue")
        with self.store.lock:
            store = self.store
            snapshot: int | None = None
            after: str | None = None
            if token:
                if req.q("resourceVersion"):
                    raise ApiError.bad_request(
                        "specifying resource version is not allowed when using continue"
                    )
                snapshot, after = decode_continue(token)
                floor = max(store.log_floor, store.compact_floor, store.continue_floor)
                if snapshot < floor:
                    return self.expired_continue(token)
                if snapshot > store.rv:
                    raise ApiError.bad_request(
                        f"continue key is not valid: rv {snapshot} is in the future"
                    )
            items, last, remaining, rv = store.list_page(
                flt, snapshot=snapshot, after=after, limit=limit
            )
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if last is not None:
            meta["continue"] = encode_continue(rv, last)
            if remaining is not None:
                meta["remainingItemCount"] = remaining
        table = _wanted(req.header("Accept"), "meta.k8s.io", "Table", ("v1", "v1beta1"))
        if table:
            page = self._table_page(req, rt, items, meta, table)
            if page is not None:
                return Response(200, page)
            return _json_response(self._table(req, rt, av, items, meta, table))
        body = _list_body(rt, av, items, meta)
        return Response(200, body)

    def expired_continue(self, token: str) -> Response:
        """The API server's 410 to a continue token that is too old: its Status carries
        a fresh token for the rest of the list at the current resourceVersion (which
        would give an inconsistent list)."""
        _, after = decode_continue(token)
        body = ApiError(410, "Expired", INCONSISTENT_CONTINUE).status()
        with self.store.lock:
            body["metadata"] = {"continue": encode_continue(self.store.rv, after)}
        return _json_response(body, 410)

    def _table(
        self,
        req: Request,
        rt: ResourceType,
        av: str,
        items: list[Stored],
        meta: dict[str, Any],
        version: str,
    ) -> dict[str, Any]:
        include = req.q("includeObject", "Metadata") or "Metadata"
        now = self.clock()
        rows = []
        for stored in items:
            obj = stored.load()
            row: dict[str, Any] = {"cells": [col.cell(obj, now) for col in rt.columns]}
            if include == "Object":
                obj["apiVersion"] = av
                row["object"] = obj
            elif include != "None":
                row["object"] = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": f"meta.k8s.io/{version}",
                    "metadata": obj.get("metadata", {}),
                }
            rows.append(row)
        return {
            "kind": "Table",
            "apiVersion": f"meta.k8s.io/{version}",
            "metadata": meta,
            "columnDefinitions": [col.definition() for col in rt.columns],
            "rows": rows,
        }

    def _table_page(
        self,
        req: Request,
        rt: ResourceType,
        items: list[Stored],
        meta: dict[str, Any],
        version: str,
    ) -> bytes | None:
        """The bytes of ``_json_response(self._table(...))`` for the Table ``kubectl get``
        asks for (``includeObject=Metadata``), or None when another shape is asked for.

        Parsing and re-serialising every object on every page made the fake server, not
        kubectl, the slow part of ``kubectl get war -A`` (about 0.1 ms a row); each
        stored version keeps its row's pieces instead, and only AGE is computed per page.
        """
        include = req.q("includeObject", "Metadata") or "Metadata"
        columns = rt.columns
        if include != "Metadata" or any(c.type == "date" and c is not AGE_COLUMN for c in columns):
            return None
        now = self.clock()
        head = b'],"object":{"kind":"PartialObjectMetadata","apiVersion":%s,"metadata":' % (
            _typed_dumps(f"meta.k8s.io/{version}")
        )
        rows = []
        for stored in items:
            cached = stored.table_row
            if cached is None or cached[0] is not columns:
                obj = stored.load()
                cells = tuple(
                    None if c is AGE_COLUMN else _typed_dumps(c.cell(obj, now)) for c in columns
                )
                metadata = obj.get("metadata", {})
                stamp = {"creationTimestamp": metadata.get("creationTimestamp")}
                cached = (columns, cells, {"metadata": stamp}, _typed_dumps(metadata))
                stored.table_row = cached
            _, cells, stamp_obj, metadata_bytes = cached
            parts = [
                _typed_dumps(AGE_COLUMN.cell(stamp_obj, now)) if cell is None else cell
                for cell in cells
            ]
            rows.append(b'{"cells":[' + b",".join(parts) + head + metadata_bytes + b"}}")
        return b"".join(
            (
                b'{"kind":"Table","apiVersion":',
                _typed_dumps(f"meta.k8s.io/{version}"),
                b',"metadata":',
                _typed_dumps(meta),
                b',"columnDefinitions":',
                _typed_dumps([col.definition() for col in columns]),
                b',"rows":[',
                b",".join(rows),
                b"]}\n",
            )
        )

    def _body_object(self, req: Request) -> dict[str, Any]:
        if not isinstance(req.body, dict):
            raise ApiError.bad_request("the body of the request is not a JSON object")
        return json.loads(json.dumps(req.body))

    def _check_type(self, obj: dict[str, Any], rt: ResourceType, av: str) -> None:
        if obj.get("apiVersion") and obj["apiVersion"] != av:
            raise ApiError.bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                f"API version ({av})"
            )
        if obj.get("kind") and obj["kind"] != rt.kind:
            raise ApiError.bad_request(
                f"the kind in the data ({obj['kind']}) does not match the expected kind ({rt.kind})"
            )

    def _check_namespace(self, obj: dict[str, Any], namespace: str | None) -> None:
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError.bad_request("metadata must be an object")
        if namespace is not None:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace

    def _dry_run(self, req: Request, options: dict[str, Any] | None = None) -> bool:
        values = list(req.query.get("dryRun", []))
        if options and isinstance(options.get("dryRun"), list):
            values += options["dryRun"]
        for value in values:
            if value != "All":
                raise ApiError.bad_request(
                    f'dryRun: Unsupported value: "{value}": supported values: "All"'
                )
        return bool(values)

    def _create(self, req: Request, rt: ResourceType, av: str, namespace: str | None) -> Response:
        obj = self._body_object(req)
        self._check_type(obj, rt, av)
        self._check_namespace(obj, namespace)
        dry_run = self._dry_run(req)
        with self.store.lock:
            if namespace is not None and self.store.get("namespaces", namespace) is None:
                raise ApiError.not_found(self.store.types["namespaces"], namespace)
            stored = self.store.create(
                rt, obj, manager=self._manager(req), api_version=av, dry_run=dry_run
            )
        return Response(201, stored.json(av) + b"\n")

    def _update(
        self,
        req: Request,
        rt: ResourceType,
        av: str,
        namespace: str | None,
        name: str,
        sub: str | None,
    ) -> Response:
        obj = self._body_object(req)
        self._check_type(obj, rt, av)
        self._check_namespace(obj, namespace)
        body_name = obj["metadata"].get("name")
        if body_name != name:
            raise ApiError.bad_request(
                f"the name of the object ({body_name or ''}) does not match the name on the URL "
                f"({name})"
            )
        with self.store.lock:
            stored = self.store.update(
                rt,
                object_key(rt, namespace, name),
                obj,
                manager=self._manager(req),
                api_version=av,
                subresource=sub,
                dry_run=self._dry_run(req),
            )
        return Response(200, stored.json(av) + b"\n")

    def _patch(
        self,
        req: Request,
        rt: ResourceType,
        av: str,
        namespace: str | None,
        name: str,
        sub: str | None,
    ) -> Response:
        ctype = req.header("Content-Type").split(";")[0].strip().lower()
        key = object_key(rt, namespace, name)
        dry_run = self._dry_run(req)
        manager = self._manager(req)
        if ctype == "application/apply-patch+yaml":
            return self._apply(req, rt, av, namespace, name, sub, dry_run)
        if ctype not in (
            "application/merge-patch+json",
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
        ) or (ctype == "application/strategic-merge-patch+json" and rt.custom):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml"
                + ("" if rt.custom else ", application/strategic-merge-patch+json"),
            )
        if req.body is None:
            raise ApiError.bad_request("the body of the request is not valid JSON")
        with self.store.lock:
            old = self.store.get(rt.plural, key)
            if old is None:
                raise ApiError.not_found(rt, name)
            current = old.copy()
            if ctype == "application/json-patch+json":
                try:
                    patched = json_patch(current, req.body)
                except PatchError as err:
                    raise ApiError(422, "Invalid", str(err)) from None
            else:
                # Strategic merge patch on built-in types: plain merge semantics suffice here.
                patched = merge_patch(current, req.body)
            if not isinstance(patched, dict):
                raise ApiError.bad_request("the patch must produce an object")
            meta = patched.get("metadata") or {}
            if meta.get("name", name) != name:
                raise ApiError.bad_request(
                    "metadata.name: Invalid value: the name cannot be changed"
                )
            stored = self.store.update(
                rt, key, patched, manager=manager, api_version=av, subresource=sub, dry_run=dry_run
            )
        return Response(200, stored.json(av) + b"\n")

    def _apply(
        self,
        req: Request,
        rt: ResourceType,
        av: str,
        namespace: str | None,
        name: str,
        sub: str | None,
        dry_run: bool,
    ) -> Response:
        manager = req.q("fieldManager")
        if not manager:
            raise ApiError.bad_request(
                "PATCH, application/apply-patch+yaml requests must have a fieldManager"
            )
        config = req.body
        if config is None:
            try:
                import yaml  # type: ignore[import-untyped]

                config = yaml.safe_load(req.raw_body.decode())
            except Exception as exc:
                raise ApiError.bad_request(f"error decoding YAML: {exc}") from None
        if not isinstance(config, dict):
            raise ApiError.bad_request("an apply configuration must be an object")
        config = json.loads(json.dumps(config))
        self._check_type(config, rt, av)
        self._check_namespace(config, namespace)
        if config["metadata"].get("name", name) != name:
            raise ApiError.bad_request("the name of the object does not match the name on the URL")
        config["metadata"]["name"] = name
        key = object_key(rt, namespace, name)
        with self.store.lock:
            old = self.store.get(rt.plural, key)
            if old is None:
                if sub:
                    raise ApiError.not_found(rt, name)
                if namespace is not None and self.store.get("namespaces", namespace) is None:
                    raise ApiError.not_found(self.store.types["namespaces"], namespace)
                stored = self.store.create(
                    rt, config, manager=manager, api_version=av, dry_run=dry_run, operation="Apply"
                )
                return Response(201, stored.json(av) + b"\n")
            patched = merge_patch(old.copy(), config)
            stored = self.store.update(
                rt,
                key,
                patched,
                manager=manager,
                api_version=av,
                subresource=sub,
                operation="Apply",
                dry_run=dry_run,
                applied=config,
            )
        return Response(200, stored.json(av) + b"\n")

    def _delete_options(self, req: Request) -> dict[str, Any]:
        options = req.body if isinstance(req.body, dict) else {}
        policy = req.q("propagationPolicy") or options.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError.bad_request(
                f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                '"Foreground", "Background", "Orphan", "nil"'
            )
        grace = req.q("gracePeriodSeconds")
        if grace is not None:
            try:
                int(grace)
            except ValueError:
                raise ApiError.bad_request(
                    f'gracePeriodSeconds: Invalid value: "{grace}"'
                ) from None
        preconditions = options.get("preconditions") or {}
        return {
            "uid": preconditions.get("uid"),
            "resource_version": preconditions.get("resourceVersion"),
            "dry_run": self._dry_run(req, options),
            "cascade": policy != "Orphan" and options.get("orphanDependents") is not True,
        }

    def _delete(self, req: Request, rt: ResourceType, av: str, key: str, name: str) -> Response:
        options = self._delete_options(req)
        with self.store.lock:
            stored = self.store.delete(rt, key, **options)
        return Response(200, stored.json(av) + b"\n")

    def _delete_collection(
        self, req: Request, rt: ResourceType, av: str, namespace: str | None
    ) -> Response:
        flt = self._filter(req, rt, namespace)
        options = self._delete_options(req)
        options.pop("uid")
        options.pop("resource_version")
        with self.store.lock:
            doomed = [s for s in self.store.scan(flt) if flt.matches(s)]
            for stored in doomed:
                if self.store.get(rt.plural, stored.key) is not None:
                    self.store.delete(rt, stored.key, **options)
            rv = self.store.rv
        body = _list_body(rt, av, doomed, {"resourceVersion": str(rv)})
        return Response(200, body)

    # watch

    def _watch(self, req: Request, rt: ResourceType, av: str, namespace: str | None) -> Stream:
        flt = self._filter(req, rt, namespace)
        rv_param = req.q("resourceVersion", "") or ""
        bookmarks = (req.q("allowWatchBookmarks", "") or "").lower() in ("1", "true")
        initial_events = (req.q("sendInitialEvents", "") or "").lower() in ("1", "true")
        table = _wanted(req.header("Accept"), "meta.k8s.io", "Table", ("v1", "v1beta1"))
        timeout: float | None = None
        if req.q("timeoutSeconds"):
            try:
                timeout = float(req.q("timeoutSeconds") or 0)
            except ValueError:
                raise ApiError.bad_request("timeoutSeconds: Invalid value") from None
        start: int | None = None
        if rv_param not in ("", "0") and not initial_events:
            try:
                start = int(rv_param)
            except ValueError:
                raise ApiError.bad_request(
                    f'resourceVersion: Invalid value: "{rv_param}": must be a valid resourceVersion'
                ) from None
        if self.faults is not None and self.faults.expire_watch(req.method, req.path):
            with self.store.lock:
                now = self.store.rv
            asked = now if start is None else start
            return Stream(iter([_too_old(asked, max(asked, now) + 1)]))
        return Stream(
            self._watch_events(req, rt, av, flt, start, bookmarks, initial_events, table, timeout)
        )

    def _event_bytes(
        self, kind: str, stored: Stored, rt: ResourceType, av: str, req: Request, table: str | None
    ) -> bytes:
        if table:
            meta = {"resourceVersion": str(stored.rv)}
            obj = _typed_dumps(self._table(req, rt, av, [stored], meta, table))
        else:
            obj = stored.json(av)
        return b'{"type":"' + kind.encode() + b'","object":' + obj + b"}\n"

    def _bookmark(self, rt: ResourceType, av: str, rv: int, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": rt.kind, "apiVersion": av, "metadata": meta}
        return b'{"type":"BOOKMARK","object":' + _typed_dumps(obj) + b"}\n"

    def _watch_events(
        self,
        req: Request,
        rt: ResourceType,
        av: str,
        flt: Filter,
        start: int | None,
        bookmarks: bool,
        initial_events: bool,
        table: str | None,
        timeout: float | None,
    ) -> Iterator[bytes]:
        store = self.store
        deadline = None if timeout is None else time.monotonic() + timeout
        oldest = 0
        with store.lock:
            seen_bookmarks = self._bookmarks
            epoch = self._watch_epoch
            if start is None:
                initial = [s for s in store.scan(flt) if flt.matches(s)]
                last = store.rv
            else:
                initial = []
                last = start
                oldest = max(store.log_floor, store.compact_floor)
        # Never yield while holding the lock: the consumer writes to a socket.
        if start is not None and start < oldest:
            yield _too_old(start, oldest)
            return
        first = b"".join(self._event_bytes("ADDED", s, rt, av, req, table) for s in initial)
        if initial_events and bookmarks:
            first += self._bookmark(rt, av, last, initial_end=True)
        if first:
            yield first
        while True:
            with store.lock:
                while True:
                    if store.closed or self._watch_epoch != epoch:
                        return
                    if store.log_rvs and store.log_rvs[-1] > last:
                        break
                    if bookmarks and self._bookmarks != seen_bookmarks:
                        break
                    wait = 0.5
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        wait = min(wait, left)
                    store.changed.wait(wait)
                    if req.client_gone():
                        return
                behind = store.log_floor if last < store.log_floor else None
                events = [] if behind is not None else store.events_after(last)
                if events:
                    last = events[-1].rv
                want_bookmark = bookmarks and self._bookmarks != seen_bookmarks
                seen_bookmarks = self._bookmarks
                now_rv = store.rv
            if behind is not None:
                # Fell behind the window: what a real watch cache does to a slow watcher.
                yield _too_old(last, behind)
                return
            out = [b for ev in events if (b := self._visible(ev, rt, av, flt, req, table))]
            if want_bookmark:
                out.append(self._bookmark(rt, av, max(last, now_rv)))
            timed_out = deadline is not None and time.monotonic() >= deadline
            if timed_out and bookmarks:
                out.append(self._bookmark(rt, av, max(last, now_rv)))
            if out:
                yield b"".join(out)
            if timed_out:
                return

    def _visible(
        self, ev: LogEvent, rt: ResourceType, av: str, flt: Filter, req: Request, table: str | None
    ) -> bytes | None:
        if ev.plural != rt.plural or not flt.in_scope(ev.key):
            return None
        now_match = flt.matches(ev.new)
        if ev.type == "ADDED":
            kind = "ADDED" if now_match else None
        elif ev.type == "DELETED":
            kind = "DELETED" if ev.prev is not None and flt.matches(ev.prev) else None
        else:
            was_match = ev.prev is not None and flt.matches(ev.prev)
            if now_match and was_match:
                kind = "MODIFIED"
            elif now_match:
                kind = "ADDED"
            elif was_match:
                kind = "DELETED"
            else:
                kind = None
        return None if kind is None else self._event_bytes(kind, ev.new, rt, av, req, table)

    # pod proxy

    def _pod_proxy(self, req: Request, match: re.Match[str]) -> Response:
        namespace = unquote(match.group(1))
        target = unquote(match.group(3))
        path = unquote(match.group(4) or "/")
        services = match.group(2) == "services"
        parts = target.split(":")
        if len(parts) == 3:  # scheme:name:port
            parts = parts[1:]
        pod = parts[0]
        try:
            port = int(parts[1]) if len(parts) > 1 and parts[1] else 80
        except ValueError:
            raise ApiError.bad_request(f"invalid port in {target!r}") from None
        pods = _SERVICES if services else self.store.types["pods"]
        verbs = {
            "GET": "get",
            "HEAD": "get",
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
        }
        # The object's name, for RBAC and the 403, is the path segment: "pod:port" too.
        self._authorize(req, verbs.get(req.method, "get"), pods, "proxy", namespace, target)
        handler = (self._service_proxies if services else self._proxies).get((namespace, pod, port))
        if handler is None:
            raise ApiError.not_found(pods, pod)
        query = {k: v for k, v in req.query.items()}
        code, content_type, body = handler(path, query)
        return Response(code, body, content_type)


def _subresource_kind(rt: ResourceType, sub: str) -> str:
    return {"proxy": "PodProxyOptions"}.get(sub, rt.kind) if rt.plural == "pods" else rt.kind


def _method_not_allowed() -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


def _too_old(rv: int, oldest: int) -> bytes:
    status = ApiError(410, "Expired", f"too old resource version: {rv} ({oldest})").status()
    return b'{"type":"ERROR","object":' + _typed_dumps(status) + b"}\n"


def _client_cert(conn: Any) -> str | None:
    """The CN of the verified client certificate on a TLS connection, if any."""
    getpeercert = getattr(conn, "getpeercert", None)
    cert = getpeercert() if getpeercert is not None else None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


class _Handler(BaseHTTPRequestHandler):
    kube: FakeKube
    protocol_version = "HTTP/1.1"
    server_version = "fakekube"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY the body
        # waits for the client's delayed ACK (40 ms a request). Go's net/http, and so
        # the real API server, sets it on every connection.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.kube._conn_lock:
            self.kube._conns.add(self.connection)
            self.kube._handlers.add(threading.current_thread())

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.kube._conn_lock:
                self.kube._conns.discard(self.connection)
                self.kube._handlers.discard(threading.current_thread())

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _serve(self) -> None:
        raw_path, _, qs = self.path.partition("?")
        raw_body = self._read_body()
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = None
        headers = dict(self.headers.items())
        query = parse_qs(qs, keep_blank_values=True)
        recorded = RecordedRequest(
            self.command,
            unquote(raw_path),
            query,
            headers,
            body,
            raw_path,
            raw_body,
            list(self.headers.items()),
            _client_cert(self.connection),
        )
        self.kube.requests.append(recorded)
        for hook in list(self.kube.request_hooks):
            hook(recorded)
        req = Request(
            self.command,
            raw_path,
            unquote(raw_path),
            query,
            headers,
            body,
            raw_body,
            self._client_gone,
            client_cert=recorded.client_cert,
        )
        faults = self.kube.faults
        fault = None
        if faults is not None:
            if faults.latency and self.kube.stopping.wait(faults.latency):
                self._drop()
                return
            fault = faults.decide(self.command, req.path, "continue" in query)
        if fault == "drop":
            self._drop()
            return
        try:
            if isinstance(fault, int):
                raise _fault_error(fault)
            if fault == "expire":
                result: Response | Stream = self.kube.expired_continue(req.q("continue") or "")
            else:
                result = self.kube.handle(req)
        except ApiError as err:
            result = _error_response(err)
            if err.code == 429 and faults is not None:
                result.headers["Retry-After"] = faults.retry_after
        except Exception:
            traceback.print_exc(file=sys.stderr)
            result = _error_response(ApiError(500, "InternalError", "fakekube: internal error"))
        if fault == "drop-after":
            self._drop()
            return
        delay = faults.answer_delay(self.command, req.path) if faults is not None else 0.0
        if delay > 0:
            faults.note("slow", self.command, req.path)
            # Carried out already; the answer waits, unless the server is stopping.
            with self.kube._conn_lock:
                self.kube._holding[threading.current_thread()] = faults
            try:
                faults.hold_answer(delay)
                stopping = self.kube.stopping.is_set()
            finally:
                with self.kube._conn_lock:
                    self.kube._holding.pop(threading.current_thread(), None)
            if stopping:
                self._drop()
                return
        warnings = self.kube.warnings_for(self.command, req.path)
        try:
            if isinstance(result, Stream):
                cut = faults.cut_watch_after if faults is not None else None
                self._stream(result, cut_after=cut, warnings=warnings)
            else:
                self._send(result, warnings)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection without a word, as a crashed proxy or a network fault does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_warnings(self, warnings: Sequence[str]) -> None:
        for value in warnings:
            # Header bytes go out as latin-1: UTF-8 text must reach the wire as UTF-8.
            self.send_header("Warning", value.encode().decode("latin-1"))

    def _send(self, res: Response, warnings: Sequence[str] = ()) -> None:
        self.send_response(res.code)
        self.send_header("Content-Type", res.content_type)
        self.send_header("Content-Length", str(len(res.body)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in res.headers.items():
            self.send_header(key, value)
        self._send_warnings(warnings)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(res.body)
        self.wfile.flush()

    def _stream(
        self, res: Stream, cut_after: int | None = None, warnings: Sequence[str] = ()
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", res.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self._send_warnings(warnings)
        self.end_headers()
        self.wfile.flush()
        try:
            if cut_after == 0:
                self.kube.faults.note("cut-watch", self.command, self.path)
                self._drop()
                return
            for sent, chunk in enumerate(res.chunks, 1):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if cut_after is not None and sent >= cut_after:
                    self.kube.faults.note("cut-watch", self.command, self.path)
                    self._drop()
                    return
        finally:
            close = getattr(res.chunks, "close", None)
            if close is not None:
                close()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_HEAD = _serve
