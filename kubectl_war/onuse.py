"""Package names that load their module when first asked for (a module `__getattr__`).

`kube`, `printers` and `sidecars` name what their modules define, so that callers write
`kube.Kube` or `sidecars.open_source`; each module loads the first time one of its names
is asked for, and the package keeps the value from then on. Importing the package, or a
light module of it, stays free for the commands that never use the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def names_loaded_on_use(
    package: str, namespace: MutableMapping[str, Any], module_of: Mapping[str, str]
) -> Callable[[str], Any]:
    """The `__getattr__` of `package` (whose globals are `namespace`): a name in
    `module_of` is read from `package.<module_of[name]>`, imported then."""

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
