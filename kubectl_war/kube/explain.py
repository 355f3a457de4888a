"""Turning what went wrong into kubectl's words: the typed error for an API answer
(a 401 names whose credentials, a 403 the RBAC rule that would allow the request)
and for a request that got no answer at all (refused, reset, timed out, TLS)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubectl_war.kube.errors import (
    Forbidden,
    KubeError,
    Unauthorized,
    Unreachable,
    api_error,
    one_line,
)
from kubectl_war.kube.requests import Request

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException


def answer_error(
    req: Request, exc: ApiException, *, host: str, who: str, plain_http: bool = False
) -> KubeError:
    """The error for the client's ApiException answering `req`.

    Args:
        host: the API server's address, for the message.
        who: whose credentials were used (`the credentials of context "x"`), for a 401.
        plain_http: the server is plain http, so no credentials were sent at all
            (a 401 then says why).
    """
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
    if status == 0:
        err: KubeError = tls_error(str(exc.reason), host=host)
    elif status == 401:
        why = f"{who} were rejected by {host}"
        if plain_http:
            why = (
                f"{who} were not sent (credentials are sent only over https; the server is {host})"
            )
        err = Unauthorized(
            f"You must be logged in to the server (Unauthorized): {why}",
            reason="Unauthorized",
            body=body,
        )
    elif status == 403:
        err = Forbidden(_forbidden(req, server_msg), reason="Forbidden", body=body)
        err.needs = needed_permission(req)
    else:
        msg = server_msg or f"{req.method} {req.path}: HTTP {status} {exc.reason or ''}".strip()
        err = api_error(
            status,
            f"Error from server ({reason or 'Unknown'}): {msg}",
            reason=reason,
            body=body,
        )
    headers = getattr(exc, "headers", None) or {}
    retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
    if retry_after is not None:
        with contextlib.suppress(ValueError):
            err.retry_after = min(max(float(retry_after), 0.0), 10.0)
    return err


def needed_permission(req: Request) -> str:
    """The RBAC rule that would allow `req`, in the words every refusal uses."""
    plural, _, api_group = req.resource.partition(".")
    return (
        f'RBAC needs verb "{req.verb}" on resource "{plural}" in API group "{api_group}" '
        + _scope(req)
    )


def _scope(req: Request) -> str:
    return f'in namespace "{req.namespace}"' if req.namespace else "at the cluster scope"


def _forbidden(req: Request, server_msg: str) -> str:
    line = f"forbidden: cannot {req.verb} {req.resource or req.path}"
    if req.name:
        line += f' "{req.name}"'
    line += f" {_scope(req)} ({needed_permission(req)})"
    if server_msg:
        line += f": {server_msg}"
    cluster_wide = req.namespace is None and req.name is None and req.resource != "namespaces"
    if cluster_wide and req.verb in ("list", "watch"):
        # Only -A lists a namespaced resource at the cluster scope; a Role in one
        # namespace allows reading that namespace.
        line += "; -A reads every namespace at once: try -n NAMESPACE"
    return line


def transport_error(exc: BaseException, *, host: str, request_timeout: float | None) -> KubeError:
    """The error for a request that got no answer (refused, reset, timed out, TLS)."""
    import urllib3.exceptions as u3  # the kubernetes client loads on first use

    inner = _root_cause(exc)
    if isinstance(inner, u3.MaxRetryError) and inner.reason is not None:
        inner = inner.reason
    reason = getattr(inner, "reason", "")
    if getattr(inner, "status", None) == 0 and "SSL" in str(reason):
        # The client reports TLS failures as an ApiException with status 0.
        return tls_error(str(reason), host=host)
    if _no_such_host(inner):
        name = urlsplit(host).hostname or host
        return Unreachable(
            f"dial tcp: lookup {name}: no such host (the server {host} has no address: "
            "is the name right, and reachable from here?)"
        )
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first.
    if isinstance(inner, (u3.NewConnectionError, ConnectionRefusedError)):
        return Unreachable(
            f"the connection to the server {host} was refused - "
            "did you specify the right host or port?"
        )
    if isinstance(inner, (ConnectionError, u3.ProtocolError)):
        err = Unreachable(f"the connection to the server {host} was reset")
        err.retryable = True
        return err
    if isinstance(inner, (u3.ConnectTimeoutError, u3.ReadTimeoutError, TimeoutError)):
        after = f" after {request_timeout:g}s" if request_timeout else ""
        return Unreachable(f"timed out{after} waiting for the API server at {host}")
    if isinstance(inner, u3.SSLError):
        return tls_error(str(inner), host=host)
    if isinstance(inner, u3.LocationValueError) or "No host" in str(inner):
        return Unreachable(f"invalid server address {host!r}")
    return Unreachable(f"cannot talk to the API server at {host}: {one_line(inner)}")


def _no_such_host(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve."""
    import urllib3.exceptions as u3  # the kubernetes client loads on first use

    resolution = getattr(u3, "NameResolutionError", None)  # urllib3 2
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror) or (resolution and isinstance(seen, resolution)):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return "Name or service not known" in text or "nodename nor servname" in text


def tls_error(reason: str, *, host: str) -> Unreachable:
    """A TLS handshake that failed, in the words of kubectl's (Go's) x509 errors where
    the cause is one of theirs, with what to do about it."""
    text = one_line(reason)
    mismatch = re.search(
        r"(?:Hostname|IP address) mismatch, certificate is not valid for '([^']*)'", text
    )
    if mismatch:
        return Unreachable(
            f"tls: failed to verify certificate: x509: certificate is not valid for "
            f"{mismatch.group(1)} (the server at {host}; --tls-server-name or the "
            "kubeconfig's tls-server-name names the name to check)"
        )
    if re.search(r"unable to get local issuer certificate|self[- ]signed certificate", text):
        return Unreachable(
            "tls: failed to verify certificate: x509: certificate signed by unknown authority "
            f"(the server at {host}; trust its CA with --certificate-authority or the "
            "kubeconfig's certificate-authority)"
        )
    if "certificate has expired" in text:
        return Unreachable(
            "tls: failed to verify certificate: x509: certificate has expired "
            f"(the server at {host})"
        )
    return Unreachable(f"TLS failure talking to {host}: {text}")


def _root_cause(exc: BaseException) -> BaseException:
    """The transport error behind `exc`.

    The generated client sometimes fails while handling a transport error (a TLS
    failure surfaces as an AttributeError about a missing body); the original
    error is then in the exception's context.
    """
    import urllib3.exceptions as u3  # the kubernetes client loads on first use

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (u3.HTTPError, OSError)) or getattr(seen, "status", None) == 0:
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc
