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
    parts, depth, cur = [], 0, []
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
