"""The package's imports, read statically: no cycles, no private names across modules.

Every `import` in `kubectl_war/` counts, at module level or inside a function (the lazy
imports that keep start-up fast are still edges: a cycle through them is a tangle even
when Python happens to resolve it).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "kubectl_war"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an `ImportFrom` reads from (relative forms resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if node.level > 1:
        package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imports(module: str, path: Path, known: set[str]) -> list[tuple[str, str | None, int]]:
    """(imported module, name taken from it or None, line) for each import in the package.

    `from a import b` names module `a.b` when that is a module, else the name `b` of `a`.
    A string `"kubectl_war.x:name"` (an entry point, as `cli.COMMANDS` loads commands
    with importlib) counts as `from kubectl_war.x import name`.
    """
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.append((alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, path, node)
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    found.append((sub, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            target, colon, name = node.value.partition(":")
            if colon and target in known and name.isidentifier():
                found.append((target, name, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (a package import is its `__init__`)."""
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        for target, _, _ in imports(module, path, known):
            # `import a.b.c` runs a, a.b and a.b.c: the deepest is the one that matters
            # here, the packages above it are light faces.
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != module and target in known:
                edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan): the
    groups of modules that import each other, directly or through others."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def shortest_cycle(start: str, edges: dict[str, set[str]]) -> list[str]:
    """The shortest path of imports from `start` back to itself ([] when none)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return []


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_the_walk_sees_lazy_and_relative_imports() -> None:
    mods = modules()
    edges = graph()
    # Lazy: `war` imports each command's module (named in `COMMANDS`) when it runs.
    assert "kubectl_war.cli.list_wars" in edges["kubectl_war.cli.commands"]
    assert set(mods) == set(edges)
    path = ROOT / "cli" / "x.py"
    tree = ast.parse("from . import options\nfrom ..render import write\nfrom .options import now")
    base = [_base("kubectl_war.cli.x", path, n) for n in tree.body]  # type: ignore[arg-type]
    assert base == ["kubectl_war.cli", "kubectl_war.render", "kubectl_war.cli.options"]


def test_function_level_and_relative_imports_are_read(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        "import os\n"
        "from kubectl_war import render\n"
        "def f():\n"
        "    from kubectl_war.render import _private, write\n"
        "    from . import options\n"
        "    import kubectl_war.fleet\n"
    )
    known = {"kubectl_war.render", "kubectl_war.cli.options", "kubectl_war.fleet"}
    assert imports("kubectl_war.cli.x", source, known) == [
        ("kubectl_war.render", None, 2),
        ("kubectl_war.render", "_private", 4),
        ("kubectl_war.render", "write", 4),
        ("kubectl_war.cli.options", None, 5),
        ("kubectl_war.fleet", None, 6),
    ]


def test_cycles_are_found_and_named() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d", "b"}, "d": set(), "e": {"e"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert shortest_cycle("a", edges) == ["a", "b", "c", "a"]
    assert shortest_cycle("c", edges) == ["c", "b", "c"]
    assert shortest_cycle("d", edges) == []


def test_no_import_cycles() -> None:
    edges = graph()
    tangles = cycles(edges)
    # Every module of a tangle, each with its shortest way round, so that each edge to
    # cut can be seen.
    found = [" -> ".join(shortest_cycle(module, edges)) for group in tangles for module in group]
    assert found == [], "import cycles:\n" + "\n".join(found)


def test_no_private_names_across_modules() -> None:
    mods = modules()
    known = set(mods)
    found = []
    for module, path in mods.items():
        for target, name, line in imports(module, path, known):
            if name is None or not _private(name) or target == module:
                continue
            rel = path.relative_to(ROOT.parent)
            found.append(f"{rel}:{line}: from {target} import {name}")
    assert found == [], "private names imported across modules:\n" + "\n".join(found)
