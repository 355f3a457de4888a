"""Field ownership for ``metadata.managedFields``, close enough to structured-merge-diff.

A field set is a set of paths; a path is a tuple of ``f:<key>`` elements. A map
node is itself a member of the set (the ``.`` marker in FieldsV1) when a manager
set it; lists are atomic leaves. The server keeps, per (manager, operation,
subresource), the set of fields that manager last changed, and moves that
entry's ``time`` only when the manager changes one of its fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "Path",
    "changed_fields",
    "fields_of",
    "fieldsv1_to_paths",
    "flatten",
    "paths_to_fieldsv1",
]

Path = tuple[str, ...]

# metadata the client owns; everything else in metadata the server writes.
_CLIENT_METADATA = ("labels", "annotations", "ownerReferences", "finalizers")
_MAP = object()  # flatten() value for a map node, so two map nodes compare equal


def managed_view(obj: dict[str, Any], *, status: bool) -> dict[str, Any]:
    """The part of an object whose fields are tracked: status alone, or all but status."""
    if status:
        return {"status": obj["status"]} if "status" in obj else {}
    view: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            meta = {k: value[k] for k in _CLIENT_METADATA if k in value}
            if meta:
                view["metadata"] = meta
            continue
        view[key] = value
    return view


def flatten(value: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Every tracked path under ``value`` mapped to its leaf value (map nodes to a marker)."""
    out: dict[Path, Any] = {}
    _flatten_into(value, prefix, out)
    return out


def _flatten_into(value: Any, prefix: Path, out: dict[Path, Any]) -> None:
    if isinstance(value, dict) and value:
        # The metadata struct itself is never owned, only fields inside it.
        if prefix and prefix != ("f:metadata",):
            out[prefix] = _MAP
        for key, child in value.items():
            _flatten_into(child, (*prefix, "f:" + key), out)
    elif prefix:
        out[prefix] = value


def fields_of(view: dict[str, Any]) -> set[Path]:
    return set(flatten(view))


def changed_fields(
    old_view: dict[str, Any], new_view: dict[str, Any]
) -> tuple[set[Path], set[Path]]:
    """Paths set or changed by going from old to new, and paths removed."""
    old_flat = flatten(old_view)
    new_flat = flatten(new_view)
    changed = {p for p, v in new_flat.items() if p not in old_flat or not _same(old_flat[p], v)}
    removed = set(old_flat) - set(new_flat)
    return changed, removed


def _same(a: Any, b: Any) -> bool:
    if a is _MAP or b is _MAP:
        return a is b
    return type(a) is type(b) and a == b


def paths_to_fieldsv1(paths: Iterable[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    members = set(paths)
    for path in sorted(members):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in members:
        node = tree
        for element in path:
            node = node[element]
        if node:
            node["."] = {}
    return _sorted_tree(tree)


def _sorted_tree(tree: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted_tree(tree[key]) for key in sorted(tree)}


def fieldsv1_to_paths(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, child in tree.items():
        if key == ".":
            if prefix:
                out.add(prefix)
            continue
        path = (*prefix, key)
        if isinstance(child, dict) and child:
            out |= fieldsv1_to_paths(child, path)
        else:
            out.add(path)
    return out
