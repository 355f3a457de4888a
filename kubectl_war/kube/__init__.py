"""Talking to Kubernetes: connection settings, requests, typed errors, the client, watches.

The names commands use, each from the module that defines it:

    config.py    Connection, and finding and reading kubeconfig files
    requests.py  Resource, Request and the request builders (plain data)
    errors.py    KubeError and its typed subclasses (NotFound, Conflict, Gone, ...)
    client.py    Kube: sending, retries, discovery, paging, get/delete/pods/proxy_get
    watch.py     watch, follow, and `until` (list, then watch until a condition holds)
    lazy.py      importing only the kubernetes client's working parts

Each name is imported when first asked for, so that importing one module of the
package (the CLI's `kube.config` at start-up) does not import all of them; none of
them imports the kubernetes client before `Kube` connects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube, client_version
    from kubectl_war.kube.config import Connection
    from kubectl_war.kube.errors import (
        Conflict,
        Forbidden,
        Gone,
        KubeError,
        NotFound,
        ServerError,
        TooManyRequests,
        Unauthorized,
        Unreachable,
    )
    from kubectl_war.kube.requests import (
        EVENTS,
        NAMESPACES,
        PODS,
        WAR_GROUP,
        WG_GROUP,
        ListResult,
        Request,
        Resource,
        WatchEvent,
    )
    from kubectl_war.kube.watch import Store, until

# Where each public name is defined.
_MODULE_OF = {
    "Kube": "client",
    "client_version": "client",
    "Connection": "config",
    "KubeError": "errors",
    "Conflict": "errors",
    "Forbidden": "errors",
    "Gone": "errors",
    "NotFound": "errors",
    "ServerError": "errors",
    "TooManyRequests": "errors",
    "Unauthorized": "errors",
    "Unreachable": "errors",
    "EVENTS": "requests",
    "NAMESPACES": "requests",
    "PODS": "requests",
    "WAR_GROUP": "requests",
    "WG_GROUP": "requests",
    "ListResult": "requests",
    "Request": "requests",
    "Resource": "requests",
    "WatchEvent": "requests",
    "Store": "watch",
    "until": "watch",
}

__all__ = [
    "EVENTS",
    "NAMESPACES",
    "PODS",
    "WAR_GROUP",
    "WG_GROUP",
    "Conflict",
    "Connection",
    "Forbidden",
    "Gone",
    "Kube",
    "KubeError",
    "ListResult",
    "NotFound",
    "Request",
    "Resource",
    "ServerError",
    "Store",
    "TooManyRequests",
    "Unauthorized",
    "Unreachable",
    "WatchEvent",
    "client_version",
    "until",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
