"""What the client puts on the wire for a request, and the headers it reads back.

Every request of every command is built here from the resolved connection (`build_wire`), with
the bounds kubectl gives it (`timeout`); the API server's `Warning` headers are read as
client-go reads them and printed once per process (`server_warnings`, `first_time`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from kubectl_war.kube.clientconfig import Resolved
from kubectl_war.kube.private import header_dict
from kubectl_war.kube.requests import Request

if TYPE_CHECKING:
    from typing import Optional, Union

    from kubernetes.client.api_client import ApiClient
    from urllib3 import Timeout
    from urllib3._collections import HTTPHeaderDict

    # A request's time bound as the client takes it: none, whole seconds, or
    # (connect, read).
    Bound = Union[int, tuple[float, Optional[float]], None]

# One warning of a `Warning` header (RFC 7234): code, agent, quoted text, optional date.
_WARNING = re.compile(r'\s*(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*(?:,|$)')
# The API server's warnings already printed: each once per process, as kubectl does.
_warned: set[str] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True)
class Wire:
    """One request as it is put on the wire (`Kube.wire`)."""

    method: str
    url: str
    headers: HTTPHeaderDict  # a name may repeat
    body: str | None
    timeout: Timeout | None


def build_wire(api: ApiClient, resolved: Resolved, target: str, req: Request, limit: Bound) -> Wire:
    """`req` as it goes out to `target` (the server's address and the request's path)
    through the client `api`, with the time bound `limit` (`time_bound`)."""
    import urllib3  # the kubernetes client loads on first use

    plain: dict[str, str] = {"Accept": "application/json", "Content-Type": "application/json"}
    plain.update(api.default_headers)
    if api.cookie:
        plain["Cookie"] = api.cookie
    query = list(req.query)
    if resolved.credentials:
        # The bearer token as the client sends it (an exec plugin's, refreshed when due).
        api.update_params_for_auth(plain, query, ["BearerToken"])
    headers = header_dict()(plain)
    for name, value in resolved.impersonation:
        headers.add(name, value)  # one header per group: a plain dict holds a name once
    url = target
    if query:
        url += "?" + urlencode(query)
    timeout = None
    if isinstance(limit, tuple):
        timeout = urllib3.Timeout(connect=limit[0], read=limit[1])
    elif limit:
        timeout = urllib3.Timeout(total=limit)
    body = json.dumps(req.body) if req.body else None  # as call_api: no empty body
    return Wire(req.method, url, headers, body, timeout)


def time_bound(request_timeout: float | None, req: Request) -> Bound:
    """The time bound the client is given for `req` under `--request-timeout`: none, a
    whole-request bound, or a (connect, read) pair."""
    t = request_timeout
    if req.timeout is not None:
        t = min(t, req.timeout) if t else req.timeout
    if req.stream:
        # A watch stays open until the server ends it at timeoutSeconds; the read
        # bound only catches a server that never does.
        server_end = dict(req.query).get("timeoutSeconds")
        if server_end:
            return (t or 30.0, float(server_end) + 10.0)
        # A body read a chunk at a time (proxy_chunks) keeps its own bound.
        return (t or 30.0, t if req.timeout is not None else None)
    if not t:
        return None
    # A whole-request bound where the client takes one: kubernetes clients before
    # 36 honour an int or a (connect, read) pair and silently ignore a float.
    return int(t) if float(t).is_integer() else (t, t)


def first_time(text: str) -> bool:
    """Whether the server's warning `text` is new to this process (kubectl prints each once)."""
    with _warned_lock:
        if text in _warned:
            return False
        _warned.add(text)
        return True


def server_warnings(values: list[str]) -> list[str]:
    """The texts of the `Warning` header values that client-go prints: code 299, not
    empty, unescaped (what does not parse is left out, as client-go leaves it)."""
    out: list[str] = []
    for value in values:
        pos = 0
        while pos < len(value):
            m = _WARNING.match(value, pos)
            if m is None or m.end() == pos:
                break
            pos = m.end()
            text = re.sub(r"\\(.)", r"\1", m.group(3))
            if m.group(1) == "299" and text:
                out.append(text)
    return out
