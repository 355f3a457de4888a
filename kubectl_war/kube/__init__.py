"""Talking to Kubernetes: connection settings, requests, typed errors, the client, watches.

The modules, and what each defines:

    config.py    Connection, and finding kubeconfig files and their entries' names
    clientconfig.py  resolve: a Connection as the client's configuration (loads the client)
    requests.py  Resource, Request and the request builders (plain data)
    errors.py    KubeError and its typed subclasses (NotFound, Conflict, Gone, ...)
    explain.py   the messages of those errors, in kubectl's words
    client.py    Kube: sending, retries, discovery, paging, get/delete/pods/proxy_chunks
    wire.py      a request as it goes on the wire; the server's Warning headers
    watch.py     watch, follow, and `until` (list, then watch until a condition holds)
    auth.py      credentials as kubectl gets them (exec, OIDC refresh, cert and token files)
    lazy.py      importing only the kubernetes client's working parts
    installed.py the installed client's version (package metadata)

The names most used elsewhere can also be imported from the package itself, each when
first asked for, so that importing one module of the package (the CLI's `kube.config`
at start-up) does not import all of them; none of them imports the kubernetes client
before `Kube` connects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_war.onuse import names_loaded_on_use

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.config import Connection
    from kubectl_war.kube.errors import KubeError
    from kubectl_war.kube.installed import client_version
    from kubectl_war.kube.requests import EVENTS, NAMESPACES, ListResult, Resource
    from kubectl_war.kube.watch import Store

# Where each public name is defined.
_MODULE_OF = {
    "Kube": "client",
    "client_version": "installed",
    "Connection": "config",
    "KubeError": "errors",
    "EVENTS": "requests",
    "NAMESPACES": "requests",
    "ListResult": "requests",
    "Resource": "requests",
    "Store": "watch",
}

__all__ = [
    "EVENTS",
    "NAMESPACES",
    "Connection",
    "Kube",
    "KubeError",
    "ListResult",
    "Resource",
    "Store",
    "client_version",
]


__getattr__ = names_loaded_on_use(__name__, globals(), _MODULE_OF)
