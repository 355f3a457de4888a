"""Import the official kubernetes client's working parts without its package __init__s.

`import kubernetes` (and `kubernetes.client`) executes an `__init__` that imports
every generated API class and about a thousand model classes: roughly 0.3-0.4 s
before the first request, for code `kube.py` never calls (it reads raw JSON and
never builds model objects). The modules it does use (the configuration, the
urllib3 REST layer, `ApiClient.call_api`, the kubeconfig loader) are ordinary
submodules that need none of that.

`load()` registers the four packages involved (`kubernetes`, `kubernetes.client`,
`kubernetes.config`, `kubernetes.client.models`) as real but not yet executed
modules, with their true `__spec__` and `__path__`, and imports only the
submodules. Each such package finishes itself the first time anyone asks it for
a name it does not have yet (PEP 562 `__getattr__` runs the real `__init__` into
the same module), so other code in the process that uses the client the usual
way (`kubernetes.client.CoreV1Api`, `from kubernetes import watch`) still gets
the whole package, and the classes are the same objects either way.

When the installed client is laid out differently, or anything in the light path
fails, the client is imported the ordinary way instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any, Callable

# Parents before children: a package must be registered before its subpackages.
_PACKAGES = ("kubernetes", "kubernetes.client", "kubernetes.config", "kubernetes.client.models")
# The submodules kube.py needs, in an order where each finds what it imports from
# a package (`from kubernetes.client import rest`) already there.
_SUBMODULES = (
    "kubernetes.client.exceptions",
    "kubernetes.client.configuration",
    "kubernetes.client.rest",
    "kubernetes.client.api_client",
    "kubernetes.config.config_exception",
    "kubernetes.config.kube_config",
)
# What `kubernetes.config.kube_config` imports from the `kubernetes.client` package
# itself (`from kubernetes.client import ApiClient, Configuration`): set beforehand,
# so asking for them does not finish the package.
_CLIENT_NAMES = {
    "ApiClient": ("kubernetes.client.api_client", "ApiClient"),
    "Configuration": ("kubernetes.client.configuration", "Configuration"),
}

# How the last load() went: "light", "full" (the client was already imported, or
# the light path failed), for tests and --debug.
mode = ""


def load() -> None:
    """Make the client's submodules importable cheaply; idempotent."""
    global mode
    if "kubernetes" in sys.modules:
        if not mode:
            mode = "full" if not _is_unfinished(sys.modules["kubernetes"]) else "light"
        return
    added: list[str] = []
    try:
        for name in _PACKAGES:
            _register_unfinished(name)
            added.append(name)
        client = sys.modules["kubernetes.client"]
        for module_name in _SUBMODULES:
            # Before each import, the client names it may ask the package for.
            for attr, (source, name) in _CLIENT_NAMES.items():
                if source in sys.modules and attr not in client.__dict__:
                    setattr(client, attr, getattr(sys.modules[source], name))
            importlib.import_module(module_name)
    except Exception:
        # An unexpected layout: forget every module the attempt created, then let
        # the ordinary import build the package (or raise its own error).
        for name in [m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes.")]:
            del sys.modules[name]
        importlib.import_module("kubernetes")
        mode = "full"
        return
    mode = "light"


def _register_unfinished(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package")
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__getattr__"] = _finisher(module)
    module.__dict__["_kubectl_war_unfinished"] = True
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def _finisher(module: ModuleType) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        # Runs once: the real __init__ defines every name the package has.
        module.__dict__.pop("__getattr__", None)
        module.__dict__.pop("_kubectl_war_unfinished", None)
        spec = module.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(module)
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}") from None

    return __getattr__


def _is_unfinished(module: ModuleType) -> bool:
    return bool(module.__dict__.get("_kubectl_war_unfinished"))


def unfinished() -> list[str]:
    """The client packages whose __init__ has not run (for tests)."""
    return [n for n in _PACKAGES if n in sys.modules and _is_unfinished(sys.modules[n])]
