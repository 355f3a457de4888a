"""The house rules for `kubectl_war/`, read statically (docs/architecture.md, "House rules").

- Imports sit at the top of their module. A function may import only at the two
  boundaries that pay for start-up: the start-up modules themselves (`kubectl_war.cli`
  and `kubectl_war.cli.quick`, which answer `--help` and `decode` before click exists),
  and the third-party libraries a command loads only when it uses them (`BOUNDARY`).
  The command table loads each command's module with importlib (`cli.group`), not with
  an import statement.
- No function over 80 lines; no command function (a click command's body) over 40.
- No module over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "kubectl_war"

#: The modules that run before click is imported: they choose what to import per line.
STARTUP_MODULES = {"cli/__init__.py", "cli/quick.py"}

#: Third-party libraries imported where they are used, each for start-up's sake.
BOUNDARY = {
    # The client: the kubernetes client and the HTTP libraries under it (urllib3 for the
    # API server, requests for OIDC refreshes and Prometheus) load on a command's first
    # request, so that `--help`, completion and usage errors never pay for them.
    "kubernetes": "the kubernetes client, loaded on first request (kube/lazy.py)",
    "urllib3": "the kubernetes client's HTTP library",
    "requests": "OIDC refreshes and Prometheus queries only",
    # Output only some runs produce.
    "rich": "the live views and colour on a terminal; piped output never loads it",
    "yaml": "YAML read or written (kubeconfigs, -o yaml); not on --help or decode",
    "orjson": "optional: used where installed, its absence is not an error",
}

FUNCTION_LINES = 80
COMMAND_LINES = 40
MODULE_LINES = 600


def sources() -> list[tuple[str, ast.Module, list[str]]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.append(
            (path.relative_to(ROOT).as_posix(), ast.parse(text, str(path)), text.splitlines())
        )
    return found


def functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def is_command(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A click command's body: decorated with `click.command(...)` / `group.command(...)`."""
    for deco in fn.decorator_list:
        call = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(call, ast.Attribute) and call.attr in ("command", "group"):
            return True
    return False


def length(node: ast.AST) -> int:
    end = getattr(node, "end_lineno", None)
    assert end is not None
    return end - getattr(node, "lineno", end) + 1


def function_imports(rel: str, tree: ast.Module) -> list[str]:
    """`file:line: statement` for each import inside a function that the rules refuse."""
    if rel in STARTUP_MODULES:
        return []
    found = []
    for fn in functions(tree):
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            for name in names:
                if name.split(".")[0] not in BOUNDARY:
                    found.append(f"{rel}:{node.lineno}: {fn.name}: {name}")
    return sorted(set(found))


def test_the_rules_read_what_they_mean() -> None:
    tree = ast.parse(
        "import os\n"
        "def f():\n"
        "    import json\n"
        "    import urllib3.exceptions as u3\n"
        "    from rich.text import Text\n"
        "    from kubectl_war.render import write\n"
        "    from . import options\n"
        "@click.command('x')\n"
        "def x_cmd():\n"
        "    pass\n"
        "@rollout.command('y')\n"
        "def y_cmd():\n"
        "    pass\n"
        "def z():\n"
        "    pass\n"
    )
    assert function_imports("cli/x.py", tree) == [
        "cli/x.py:3: f: json",
        "cli/x.py:6: f: kubectl_war.render",
        "cli/x.py:7: f: .",
    ]
    assert function_imports("cli/quick.py", tree) == []
    assert [(fn.name, is_command(fn), length(fn)) for fn in functions(tree)] == [
        ("f", False, 6),
        ("x_cmd", True, 2),
        ("y_cmd", True, 2),
        ("z", False, 2),
    ]


def test_imports_are_at_the_top_except_at_the_start_up_boundaries() -> None:
    found = [line for rel, tree, _ in sources() for line in function_imports(rel, tree)]
    assert found == [], "imports inside functions (move them to the top):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("kind", "limit"), [("function", FUNCTION_LINES), ("command", COMMAND_LINES)]
)
def test_no_function_is_too_long(kind: str, limit: int) -> None:
    found = [
        f"{rel}:{fn.lineno}: {fn.name} is {length(fn)} lines"
        for rel, tree, _ in sources()
        for fn in functions(tree)
        if (kind == "function" or is_command(fn)) and length(fn) > limit
    ]
    assert found == [], f"{kind}s over {limit} lines:\n" + "\n".join(found)


def test_no_module_is_too_long() -> None:
    found = [
        f"{rel} is {len(lines)} lines" for rel, _, lines in sources() if len(lines) > MODULE_LINES
    ]
    assert found == [], f"modules over {MODULE_LINES} lines:\n" + "\n".join(found)
