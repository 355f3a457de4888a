"""API requests and answers as plain data: what will go on the wire, built before sending.

Building a request sends nothing, so tests assert exact paths, query parameters and
bodies without a network; `Kube.send` (kube/client.py) is what puts them on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from kubectl_war.errors import UsageError
from kubectl_war.kube.config import DEFAULT_CHUNK_SIZE
from kubectl_war.names import path_segment_problem

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON

WAR_GROUP = "runtime.onboarding.tetrate.io"
WG_GROUP = "networking.istio.io"
POLICY_GROUP = "authorization.onboarding.tetrate.io"
CONTROLPLANE_GROUP = "install.tetrate.io"


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
SERVICES = Resource("", "v1", "services", "Service")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")


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
    # The body as bytes instead of decoded JSON (pod proxy answers are not API objects;
    # a DELETE's answer is read and dropped).
    raw: bool = False
    # Seconds for this request alone, when shorter than --request-timeout.
    timeout: float | None = None

    @property
    def url_path(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")


@dataclass
class ListResult:
    """Every object of a list, and the resourceVersion a watch resumes from."""

    items: list[JSON]
    resource_version: str = ""


@dataclass
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    object: JSON = field(default_factory=dict)


def object_key(meta: Any) -> str:
    """A stable key for an object: namespace/name/uid (uid tells re-created objects apart)."""
    if not isinstance(meta, dict):
        return ""
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}/{meta.get('uid') or ''}"


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
    return _resource_request("list", res, namespace, query=query)


def get_request(res: Resource, namespace: str | None, name: str) -> Request:
    return _resource_request("get", res, namespace, name)


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
    body: JSON = {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": preconditions,
    }
    query = []
    if dry_run:
        body["dryRun"] = ["All"]
        query.append(("dryRun", "All"))
    return _resource_request("delete", res, namespace, name, query, body=body)


def proxy_get_request(
    namespace: str, pod: str, port: int, path: str, *, timeout: float | None = None
) -> Request:
    """GET `path` from a pod's port through the API server (`kubectl get --raw` style).

    The API server forwards `/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH` to the
    pod, so a debug port can be read without a port-forward or a route to the pod.
    """
    return _proxy_request(PODS, namespace, pod, port, path, (), timeout)


def service_proxy_request(
    namespace: str,
    service: str,
    port: int,
    path: str,
    query: tuple[tuple[str, str], ...] = (),
    *,
    timeout: float | None = None,
) -> Request:
    """GET `path` from a Service's port through the API server's service proxy
    (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`): how a Prometheus inside the
    cluster is asked with the kubeconfig's credentials."""
    return _proxy_request(SERVICES, namespace, service, port, path, query, timeout)


def _proxy_request(
    res: Resource,
    namespace: str,
    name: str,
    port: int,
    path: str,
    query: tuple[tuple[str, str], ...],
    timeout: float | None,
) -> Request:
    """GET through the `proxy` subresource of a pod or Service: `NAME:PORT/proxy/PATH`."""
    target = f"{quote(name, safe='')}:{int(port)}"
    return Request(
        "GET",
        f"{res.path(namespace, None)}/{target}/proxy/{path.lstrip('/')}",
        query=query,
        verb="get",
        resource=f"{res.plural}/proxy",
        namespace=namespace,
        name=name,
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
    return _resource_request("watch", res, namespace, query=query, stream=True)


def create_request(res: Resource, namespace: str | None, obj: Mapping[str, Any]) -> Request:
    """POST a new object to its collection (409 AlreadyExists when the name is taken)."""
    return _resource_request("create", res, namespace, body=obj)


def update_request(res: Resource, namespace: str | None, obj: Mapping[str, Any]) -> Request:
    """PUT an object whole: with `metadata.resourceVersion` set, the server refuses (409
    Conflict) when it changed since that version was read, so two writers never both win."""
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return _resource_request("update", res, namespace, str(name or ""), body=obj)


_METHODS = {"delete": "DELETE", "create": "POST", "update": "PUT"}


def _resource_request(
    verb: str,
    res: Resource,
    namespace: str | None,
    name: str | None = None,
    query: list[tuple[str, str]] | None = None,
    **fields: Any,
) -> Request:
    """A request on a collection of `res` (on one object of it when `name` is given)."""
    return Request(
        _METHODS.get(verb, "GET"),
        res.path(namespace, name),
        tuple(query or ()),
        verb=verb,
        resource=res.qualified,
        namespace=namespace,
        name=name,
        **fields,
    )
