"""Import the official kubernetes client's working parts without its package __init__s.

`import kubernetes` (and `kubernetes.client`) executes an `__init__` that imports
every generated API class and about a thousand model classes: roughly 0.3-0.4 s
before the first request, for code the kube package never calls (it reads raw JSON and
never builds model objects). The modules it does use (the configuration, the
urllib3 REST layer, `ApiClient`'s headers and credentials, the kubeconfig loader)
are ordinary submodules that need none of that.

`load()` registers the four packages involved (`kubernetes`, `kubernetes.client`,
`kubernetes.config`, `kubernetes.client.models`) as real but not yet executed
modules, with their true `__spec__` and `__path__`, and imports only the
submodules. Each such package finishes itself the first time anyone asks it for
a name it does not have yet (PEP 562 `__getattr__` runs the real `__init__` into
the same module), so other code in the process that uses the client the usual
way (`kubernetes.client.CoreV1Api`, `from kubernetes import watch`) still gets
the whole package, and the classes are the same objects either way.

Those submodules also import, at their top, third-party modules they call into
only on paths kubectl-war does not take by default: an OIDC token refresh
(`requests_oauthlib`, `oauthlib.oauth2`), an HTTP proxy check (`requests.utils`),
asynchronous requests (`multiprocessing.pool`), date parsing for model objects
(`dateutil.parser`), urllib3's HTTP/2 opt-in (`importlib.metadata`), temporary files
(`tempfile`) and a CPU count (`multiprocessing`, answered with `os.cpu_count`): about
40 ms of imports, a fifth of `list`'s run at 1,000 WARs. While the submodules load, each
of those modules is a stand-in whose names import the real module when first
called (or, for any other name, when first read); once the submodules are loaded
the stand-ins leave `sys.modules`, so any later `import requests` anywhere gets
the real module as usual.

When the installed client is laid out differently, or anything in the light path
fails, the client is imported the ordinary way instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any, Callable

# Parents before children: a package must be registered before its subpackages.
_PACKAGES = ("kubernetes", "kubernetes.client", "kubernetes.config", "kubernetes.client.models")
# The submodules the kube package needs, in an order where each finds what it imports from
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

# Module -> the names the client's submodules take from it with `from M import name`.
# An empty tuple: the module is used as a module (`oauthlib.oauth2.rfc6749...`).
_DEFERRED: dict[str, tuple[str, ...]] = {
    "requests.utils": ("should_bypass_proxies",),
    "requests_oauthlib": ("OAuth2Session",),
    "oauthlib.oauth2": (),
    "multiprocessing.pool": ("ThreadPool",),
    "dateutil.parser": ("parse",),
    # urllib3 asks it for h2's version only when HTTP/2 is switched on.
    "importlib.metadata": ("version",),
    # Files for downloads and for inline certificate data (`tempfile.mkstemp`).
    "tempfile": (),
    # `Configuration()` asks it for `cpu_count()` (see `_OWN`); nothing else is used.
    "multiprocessing": (),
}


def _cpu_count() -> int:
    """`multiprocessing.cpu_count()` (it is `os.cpu_count()` with an error for None),
    without importing multiprocessing: its pickle, socket and contexts are some 5 ms
    of every command's start, for the pool size of every `Configuration()`."""
    count = os.cpu_count()
    if count is None:
        raise NotImplementedError("cannot determine number of cpus")
    return count


# Names a stand-in answers itself, every time, instead of importing the real module.
_OWN: dict[str, dict[str, Callable[..., Any]]] = {"multiprocessing": {"cpu_count": _cpu_count}}

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
    stand_ins = [
        _Deferred(name, names) for name, names in _DEFERRED.items() if name not in sys.modules
    ]
    try:
        for module in stand_ins:
            sys.modules[module.__name__] = module
        for name in _PACKAGES:
            _register_unfinished(name)
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
        _drop_stand_ins(stand_ins)
        for name in [m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes.")]:
            del sys.modules[name]
        importlib.import_module("kubernetes")
        mode = "full"
        return
    _drop_stand_ins(stand_ins)
    mode = "light"


class _Deferred(ModuleType):
    """Stands in for a module the client imports but kubectl-war rarely needs.

    Its listed names are callables that import the real module when first called,
    and those in `_OWN` are answered without it; reading any other name imports the
    real module at once.
    """

    def __init__(self, name: str, names: tuple[str, ...]) -> None:
        super().__init__(name, f"{name}, imported when first used")
        for attr in names:
            setattr(self, attr, _on_first_call(name, attr))
        for attr, own in _OWN.get(name, {}).items():
            setattr(self, attr, own)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_real(self.__name__), attr)


def _real(name: str) -> ModuleType:
    """The real module `name`, imported now if need be."""
    if isinstance(sys.modules.get(name), _Deferred):
        del sys.modules[name]
    return importlib.import_module(name)


def _on_first_call(module: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"`{module}.{name}`, imported when first called."
    return call


def _drop_stand_ins(stand_ins: list[_Deferred]) -> None:
    """Take the stand-ins out of `sys.modules`: later imports get the real modules.

    A stand-in the client reaches as a package attribute (`import oauthlib.oauth2`,
    then `oauthlib.oauth2.x`) stays that attribute until the real module replaces it.
    """
    for module in stand_ins:
        name = module.__name__
        if sys.modules.get(name) is module:
            del sys.modules[name]
        parent, _, child = name.rpartition(".")
        holder = sys.modules.get(parent) if parent else None
        if holder is not None and not isinstance(holder, _Deferred) and child not in vars(holder):
            setattr(holder, child, module)


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


def deferred() -> list[str]:
    """The deferred modules not imported yet (for tests)."""
    return [name for name in _DEFERRED if name not in sys.modules]


def unfinished() -> list[str]:
    """The client packages whose __init__ has not run (for tests)."""
    return [n for n in _PACKAGES if n in sys.modules and _is_unfinished(sys.modules[n])]
