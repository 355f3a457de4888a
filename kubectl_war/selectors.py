"""Label selectors evaluated locally, with the API server's syntax (pure).

The server applies `-l` to lists; this is for objects fetched by name, which a GET
does not filter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kubectl_war.errors import UsageError

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside `( )`."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def matches(selector: str, labels: Mapping[str, str]) -> bool:
    """Whether `labels` satisfy every requirement of `selector` (AND)."""
    for req in _split(selector):
        eq = _EQ.match(req)
        if eq:
            key, op, value = eq.groups()
            have = labels.get(key)
            if op == "!=":
                if have == value:
                    return False
            elif have != value:
                return False
            continue
        st = _SET.match(req)
        if not st:
            raise UsageError(
                f"unable to parse requirement: {req.strip()!r} in selector {selector!r}"
            )
        neg, key, op, values = st.groups()
        if op is None:
            present = key in labels
            if present == bool(neg):
                return False
            continue
        if neg:
            raise UsageError(
                f"unable to parse requirement: {req.strip()!r} in selector {selector!r}"
            )
        wanted = {v.strip() for v in values.split(",") if v.strip()}
        inside = labels.get(key) in wanted
        if (op == "in") != inside:
            return False
    return True


#: The operators of a LabelSelector's matchExpressions.
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """A LabelSelector object that is not one (wrong types, unknown operator)."""


def check_label_selector(selector: object, where: str) -> dict[str, object]:
    """`selector` as a Kubernetes LabelSelector object, or SelectorError naming `where`.

    An empty object selects everything; what does not parse is refused, never guessed.
    """
    if not isinstance(selector, dict):
        raise SelectorError(f"{where}: want an object, got {type(selector).__name__}")
    labels = selector.get("matchLabels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise SelectorError(f"{where}.matchLabels: want a map of strings")
    exprs = selector.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise SelectorError(f"{where}.matchExpressions: want a list")
    for i, expr in enumerate(exprs):
        at = f"{where}.matchExpressions[{i}]"
        if not isinstance(expr, dict) or not isinstance(expr.get("key"), str):
            raise SelectorError(f"{at}: want an object with a key")
        op, values = expr.get("operator"), expr.get("values") or []
        if op not in _OPERATORS:
            raise SelectorError(f"{at}.operator: {op!r} is not one of {', '.join(_OPERATORS)}")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SelectorError(f"{at}.values: want a list of strings")
        if (op in ("In", "NotIn")) != bool(values):
            raise SelectorError(
                f"{at}.values: {op} needs values"
                if op in ("In", "NotIn")
                else f"{at}.values: {op} takes no values"
            )
    return selector


def selects(selector: Mapping[str, object], labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector object (checked by `check_label_selector`) selects `labels`:
    every matchLabels pair and every matchExpression must hold; `{}` selects everything."""
    wanted = selector.get("matchLabels") or {}
    assert isinstance(wanted, dict)
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    exprs = selector.get("matchExpressions") or []
    assert isinstance(exprs, list)
    for expr in exprs:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
    return True


def selector_text(selector: Mapping[str, object]) -> str:
    """A LabelSelector in `-l`'s syntax (`app=ratings,tier in (a,b)`); `<all>` for `{}`."""
    labels = selector.get("matchLabels")
    parts = [f"{k}={v}" for k, v in (labels if isinstance(labels, Mapping) else {}).items()]
    exprs = selector.get("matchExpressions")
    for expr in exprs if isinstance(exprs, list) else []:
        key, op = expr["key"], expr["operator"]
        if op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
        else:
            parts.append(f"{key} {op.lower()} ({','.join(expr.get('values') or [])})")
    return ",".join(parts) or "<all>"
