"""kubectl's JSONPath template language (client-go `util/jsonpath`), run in Python.

The evaluator follows client-go's rules one by one, quirks included, so that a template
prints the same bytes and fails with the same message as under `kubectl get -o jsonpath`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TextIO

from kubectl_war.printers.gofmt import go_json, go_sprint, json_kind
from kubectl_war.printers.jsonpath_parser import (
    ArrayNode,
    ConstNode,
    FieldNode,
    FilterNode,
    IdentifierNode,
    JSONPathError,
    ListNode,
    RecursiveNode,
    TextNode,
    UnionNode,
    WildcardNode,
    parse,
)

if TYPE_CHECKING:
    from kubectl_war.printers.jsonpath_parser import Node

__all__ = ["INVALID", "JSONPath", "go_type_name"]


class _Invalid:
    """Go's zero `reflect.Value`: what a range body sees for a nil item."""

    def __repr__(self) -> str:
        return "<invalid reflect.Value>"


INVALID = _Invalid()

# -- evaluation -----------------------------------------------------------------------

Result = tuple[list[Any], "str | None"]


# The Go type of each kind of decoded JSON value.
_GO_TYPES = {
    "bool": "bool",
    "int": "int64",
    "float": "float64",
    "string": "string",
    "object": "map[string]interface {}",
    "list": "[]interface {}",
}


def go_type_name(value: Any) -> str:
    """The Go type a decoded JSON value has (for client-go's error messages)."""
    return _GO_TYPES.get(json_kind(value), "invalid")


def _children(value: Any) -> list[Any]:
    """What `*` and `..` see inside a value: map values, list items, a string's bytes."""
    if isinstance(value, dict):
        # Go visits map entries in random order; sorted keys keep the output stable.
        return [value[k] for k in sorted(value)]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return list(value.encode("utf-8"))
    return []


def _comparable(a: Any, b: Any) -> str:
    """The kind two filter operands share, or client-go's error when they cannot be compared."""
    ka, kb = json_kind(a), json_kind(b)
    if ka not in _BASIC_KINDS or kb not in _BASIC_KINDS:
        raise JSONPathError("invalid type for comparison")
    if ka != kb:
        raise JSONPathError("incompatible types for comparison")
    return ka


_BASIC_KINDS = ("bool", "int", "float", "string")


def _less(a: Any, b: Any) -> bool:
    if _comparable(a, b) == "bool":
        raise JSONPathError("invalid type for comparison")
    return bool(a < b)


def _equal(a: Any, b: Any) -> bool:
    _comparable(a, b)
    return bool(a == b)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": _less,
    ">": lambda a, b: not (_less(a, b) or _equal(a, b)),
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<=": lambda a, b: _less(a, b) or _equal(a, b),
    ">=": lambda a, b: not _less(a, b),
}


class JSONPath:
    """One parsed template and its run state (client-go's `*jsonpath.JSONPath`).

    The state (range counters, the node list a range leaves behind) persists between
    runs exactly as in client-go, so a printer reused across objects behaves as kubectl's.
    """

    def __init__(self, name: str, *, allow_missing_keys: bool = False) -> None:
        self.name = name
        self.allow_missing_keys = allow_missing_keys
        self.output_json = False
        self._nodes: list[Node] | None = None
        self._offset = 0
        self._begin_range = self._in_range = self._end_range = 0
        self._last_end: int | None = None

    def parse(self, text: str) -> None:
        self._nodes = None
        self._nodes = parse(text).nodes
        self._offset = 0

    def find_results(self, data: Any) -> list[list[Any]]:
        if self._nodes is None:
            raise JSONPathError(f"{self.name} is an incomplete jsonpath template")
        cur = [data]
        nodes = self._nodes
        base = self._offset
        full: list[list[Any]] = []
        i = base
        while i < len(nodes):
            results, err = self._walk(cur, nodes[i])
            if err is not None:
                raise JSONPathError(err)
            if 0 < self._end_range <= self._in_range:
                self._end_range -= 1
                self._last_end = i
                break
            if self._begin_range > 0:
                self._begin_range -= 1
                self._in_range += 1
                self._offset = i + 1
                if results:
                    for value in results:
                        self._offset = i + 1
                        # a nil item reaches the body as Go's invalid value
                        full.extend(self.find_results(INVALID if value is None else value))
                else:
                    self.find_results(INVALID)
                self._in_range -= 1
                if self._last_end is not None and i < self._last_end < len(nodes):
                    i = self._last_end
                i += 1
                continue
            full.append(results)
            i += 1
        return full

    def print_results(self, out: TextIO, results: list[Any]) -> None:
        if self.output_json:
            out.write(go_json([None if r is INVALID else r for r in results], "    ") + "\n")
            return
        last = len(results) - 1
        for i, r in enumerate(results):
            if isinstance(r, (dict, list)):
                text = go_json(r)
            elif r is INVALID:
                text = "<no value>"
            elif r is None:
                text = "null"
            else:
                text = go_sprint(r)
            out.write(text + " " if i != last else text)

    def execute(self, out: TextIO, data: Any) -> None:
        """Find every result first, then print (nothing is printed when running fails)."""
        for results in self.find_results(data):
            self.print_results(out, results)

    # walkers return (values, error) as client-go does: some callers use the values of a
    # failed walk (an existence filter keeps an item whose walk failed with values left).
    def _walk(self, values: list[Any], node: Node) -> Result:
        if isinstance(node, ListNode):
            return self._eval_list(values, node)
        if isinstance(node, TextNode):
            return [node.text], None
        if isinstance(node, FieldNode):
            return self._eval_field(values, node)
        if isinstance(node, ArrayNode):
            return self._eval_array(values, node)
        if isinstance(node, FilterNode):
            return self._eval_filter(values, node)
        if isinstance(node, ConstNode):
            return [node.value for _ in values], None
        if isinstance(node, WildcardNode):
            return [c for v in values if v is not None for c in _children(v)], None
        if isinstance(node, RecursiveNode):
            return self._eval_recursive(values), None
        if isinstance(node, UnionNode):
            out: list[Any] = []
            for sub in node.lists:
                part, err = self._eval_list(values, sub)
                if err is not None:
                    return values, err
                out.extend(part)
            return out, None
        assert isinstance(node, IdentifierNode)
        return self._eval_identifier(values, node)

    def _eval_list(self, values: list[Any], node: ListNode) -> Result:
        cur = values
        for sub in node.nodes:
            cur, err = self._walk(cur, sub)
            if err is not None:
                return cur, err
        return cur, None

    def _eval_identifier(self, values: list[Any], node: IdentifierNode) -> Result:
        if node.name == "range":
            self._begin_range += 1
            return values, None
        if node.name == "end":
            if self._in_range > 0:
                self._end_range += 1
                return [], None
            return [], "not in range, nothing to end"
        return values, f"unrecognized identifier {node.name}"

    def _eval_field(self, values: list[Any], node: FieldNode) -> Result:
        if not values:
            return [], None
        results = [v[node.name] for v in values if isinstance(v, dict) and node.name in v]
        if not results and not self.allow_missing_keys:
            return results, f"{node.name} is not found"
        return results, None

    def _eval_array(self, values: list[Any], node: ArrayNode) -> Result:
        result: list[Any] = []
        for value in values:
            if value is None:
                continue
            if not isinstance(value, list):
                return values, f"{go_type_name(value)} is not array or slice"
            length = len(value)
            (start, start_known, _), (end, end_known, derived), (step, step_known, _) = node.params
            if not start_known:
                start = 0
            if start < 0:
                start += length
            if not end_known:
                end = length
            if end < 0 or (end == 0 and derived):
                end += length
            if end == start:
                return result, None
            if start >= length or start < 0:
                return values, f"array index out of bounds: index {start}, length {length}"
            if end > length or end < 0:
                return values, f"array index out of bounds: index {end - 1}, length {length}"
            if start > end:
                return values, f"starting index {start} is greater than ending index {end}"
            if step_known and step <= 0:
                return values, "step must be > 0"
            result.extend(value[start : end : step if step_known else 1])
        return result, None

    def _eval_filter(self, values: list[Any], node: FilterNode) -> Result:
        results: list[Any] = []
        for value in values:
            if not isinstance(value, list):
                shown = "<invalid reflect.Value>" if value is INVALID else go_sprint(value)
                return values, f"{shown} is not array or slice and cannot be filtered"
            for item in value:
                if node.op == "exists":
                    lefts, _ = self._eval_list([item], node.left)
                    if lefts:
                        results.append(item)
                    continue
                operands: list[Any] = []
                for side in (node.left, node.right):
                    found, err = self._eval_list([item], side)
                    if err is not None:
                        return values, err
                    if not found:
                        break  # an item with nothing to compare is left out
                    if len(found) > 1:
                        return values, "can only compare one element at a time"
                    operands.append(found[0])
                if len(operands) < 2:
                    continue
                compare = _COMPARE.get(node.op)
                if compare is None:
                    return results, f"unrecognized filter operator {node.op}"
                try:
                    passed = compare(*operands)
                except JSONPathError as exc:
                    return results, str(exc)
                if passed:
                    results.append(item)
        return results, None

    def _eval_recursive(self, values: list[Any]) -> list[Any]:
        result: list[Any] = []
        for value in values:
            if value is None:
                continue
            children = _children(value)
            if children:
                result.append(value)
                result.extend(self._eval_recursive(children))
        return result
