"""The parser of kubectl's JSONPath templates (client-go `util/jsonpath` parser.go rules).

A template becomes a list of text and action nodes; each action is a list of steps.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from kubectl_war.printers.gofmt import go_unicode

__all__ = [
    "ArrayNode",
    "ConstNode",
    "FieldNode",
    "FilterNode",
    "IdentifierNode",
    "JSONPathError",
    "ListNode",
    "RecursiveNode",
    "TextNode",
    "UnionNode",
    "WildcardNode",
    "parse",
]


class JSONPathError(Exception):
    """A template that does not parse, or fails while running (client-go's error text)."""


# -- nodes ----------------------------------------------------------------------------


class ListNode:
    __slots__ = ("nodes",)

    def __init__(self) -> None:
        self.nodes: list[Node] = []


class TextNode:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class FieldNode:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class IdentifierNode:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class ArrayNode:
    """`[a:b:c]`: three (value, known, derived) entries, as client-go's ParamsEntry."""

    __slots__ = ("params",)

    def __init__(self, params: list[tuple[int, bool, bool]]) -> None:
        self.params = params


class FilterNode:
    __slots__ = ("left", "op", "right")

    def __init__(self, left: ListNode, right: ListNode, op: str) -> None:
        self.left, self.right, self.op = left, right, op


class ConstNode:
    """An int, float or bool literal: one copy of the value per input."""

    __slots__ = ("value",)

    def __init__(self, value: int | float | bool) -> None:
        self.value = value


class WildcardNode:
    __slots__ = ()


class RecursiveNode:
    __slots__ = ()


class UnionNode:
    __slots__ = ("lists",)

    def __init__(self, lists: list[ListNode]) -> None:
        self.lists = lists


# -- parser ---------------------------------------------------------------------------

_EOF = ""
_DICT_KEY = re.compile(r"'([^']*)'")
_SLICE = re.compile(r"(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?")
_FILTER = re.compile(r"([^!<>=]+)([!<>=]+)(.+?)\Z")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")
_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")


def _is_digit(r: str) -> bool:
    return r != _EOF and unicodedata.category(r) == "Nd"


def _is_alnum(r: str) -> bool:
    return r == "_" or (r != _EOF and unicodedata.category(r)[0] == "L") or _is_digit(r)


def _is_terminator(r: str) -> bool:
    return r == _EOF or r in _TERMINATORS


def _go_atoi(text: str) -> int | None:
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


def unquote_extend(s: str) -> str:
    """strconv.Unquote for "..." and '...' strings (client-go's UnquoteExtend)."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"'":
        raise ValueError("invalid syntax")
    quote, body = s[0], s[1:-1]
    if "\\" not in body and quote not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == quote:
            raise ValueError("invalid syntax")
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("invalid syntax")
        e = body[i + 1]
        i += 2
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
        elif e in "'\"":
            if e != quote:
                raise ValueError("invalid syntax")
            out.append(ord(e))
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + n]
            if len(digits) < n or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError("invalid syntax")
            i += n
            value = int(digits, 16)
            if e == "x":
                out.append(value)
            elif value > 0x10FFFF or 0xD800 <= value < 0xE000:
                raise ValueError("invalid syntax")
            else:
                out += chr(value).encode("utf-8")
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) < 3 or not re.fullmatch(r"[0-7]{3}", digits):
                raise ValueError("invalid syntax")
            value = int(digits, 8)
            if value > 255:
                raise ValueError("invalid syntax")
            i += 2
            out.append(value)
        else:
            raise ValueError("invalid syntax")
    # Go keeps invalid UTF-8 bytes as they are; a Python string cannot, so they show as U+FFFD.
    return out.decode("utf-8", "replace")


class _Parser:
    def __init__(self) -> None:
        self.input = ""
        self.pos = self.start = self.width = 0
        self.root = ListNode()

    # scanning
    def next(self) -> str:
        if self.pos >= len(self.input):
            self.width = 0
            return _EOF
        self.width = 1
        self.pos += 1
        return self.input[self.pos - 1]

    def peek(self) -> str:
        r = self.next()
        self.pos -= self.width
        return r

    def backup(self) -> None:
        self.pos -= self.width

    def consume(self) -> str:
        value = self.input[self.start : self.pos]
        self.start = self.pos
        return value

    def before_last(self) -> str:
        """The character before the one just read (client-go's escaped-quote check)."""
        return self.input[self.pos - 2] if self.pos >= 2 else ""

    # grammar
    def parse(self, text: str) -> ListNode:
        self.input, self.pos, self.start, self.root = text, 0, 0, ListNode()
        cur: ListNode | None = None
        while True:
            if cur is None:
                idx = self.input.find("{", self.pos)
                if idx < 0:
                    self.pos = len(self.input)
                    if self.pos > self.start:
                        self.root.nodes.append(TextNode(self.consume()))
                    return self.root
                self.pos = idx
                if self.pos > self.start:
                    self.root.nodes.append(TextNode(self.consume()))
                self.pos += 1
                self.consume()
                cur = ListNode()
                self.root.nodes.append(cur)
            elif self.input.startswith("}", self.pos):
                self.pos += 1
                self.consume()
                cur = None
            else:
                self.inside_action(cur)

    def inside_action(self, cur: ListNode) -> None:
        if self.input.startswith("[?(", self.pos):
            return self.parse_filter(cur)
        if self.input.startswith("..", self.pos):
            return self.parse_recursive(cur)
        r = self.next()
        if r == _EOF or r in "\r\n":
            raise JSONPathError("unclosed action")
        if r in " @$":
            self.consume()
        elif r == "[":
            self.parse_array(cur)
        elif r in "\"'":
            self.parse_quote(cur, r)
        elif r == ".":
            self.parse_field(cur)
        elif r in "+-" or _is_digit(r):
            self.backup()
            self.parse_number(cur)
        elif _is_alnum(r):
            self.backup()
            self.parse_identifier(cur)
        else:
            raise JSONPathError(f"unrecognized character in action: {go_unicode(r)}")
        return None

    def parse_identifier(self, cur: ListNode) -> None:
        while not _is_terminator(self.next()):
            pass
        self.backup()
        value = self.consume()
        is_bool = value in ("true", "false")
        cur.nodes.append(ConstNode(value == "true") if is_bool else IdentifierNode(value))

    def parse_recursive(self, cur: ListNode) -> None:
        if cur.nodes and isinstance(cur.nodes[-1], RecursiveNode):
            raise JSONPathError("invalid multiple recursive descent")
        self.pos += 2
        self.consume()
        cur.nodes.append(RecursiveNode())
        if _is_alnum(self.peek()):
            self.parse_field(cur)

    def parse_number(self, cur: ListNode) -> None:
        if self.peek() in ("+", "-"):
            self.next()
        while True:
            r = self.next()
            if r != "." and not _is_digit(r):
                self.backup()
                break
        value = self.consume()
        as_int = _go_atoi(value)
        if as_int is not None:
            cur.nodes.append(ConstNode(as_int))
        elif _FLOAT.fullmatch(value):
            cur.nodes.append(ConstNode(float(value)))
        else:
            raise JSONPathError(f"cannot parse number {value}")

    def parse_array(self, cur: ListNode) -> None:
        while True:
            r = self.next()
            if r in (_EOF, "\n"):
                raise JSONPathError("unterminated array")
            if r == "]":
                break
        text = self.consume()[1:-1]
        if text == "*":
            text = ":"
        parts = text.split(",")
        if len(parts) > 1:
            cur.nodes.append(UnionNode([parse_action(f"[{p.strip(' ')}]") for p in parts]))
            return
        key = _DICT_KEY.fullmatch(text)
        if key:
            cur.nodes.extend(parse_action("." + key.group(1)).nodes)
            return
        m = _SLICE.fullmatch(text)
        if not m:
            raise JSONPathError(f"invalid array index {text}")
        groups = [g or "" for g in m.groups()]
        params: list[tuple[int, bool, bool]] = []
        for i, raw in enumerate(groups):
            if raw:
                if i > 0:
                    raw = raw[1:]
                if i > 0 and raw == "":
                    params.append((0, False, False))
                else:
                    number = _go_atoi(raw)
                    if number is None:
                        raise JSONPathError(f"array index {raw} is not a number")
                    params.append((number, True, False))
            elif i == 1:
                params.append((params[0][0] + 1, True, True))
            else:
                params.append((0, False, False))
        cur.nodes.append(ArrayNode(params))

    def parse_filter(self, cur: ListNode) -> None:
        self.pos += 3
        self.consume()
        begin = end = False
        pair = ""
        while True:
            r = self.next()
            if r in (_EOF, "\n"):
                raise JSONPathError("unterminated filter")
            if r in "\"'":
                if not begin:
                    begin, pair = True, r
                    continue
                if self.before_last() != "\\" and r == pair:
                    end = True
            elif r == ")" and begin == end:
                break
        if self.next() != "]":
            raise JSONPathError("unclosed array expect ]")
        text = self.consume()[:-2]
        m = _FILTER.match(text)
        if m is None:
            cur.nodes.append(FilterNode(parse_action(text), ListNode(), "exists"))
        else:
            left, op, right = m.groups()
            cur.nodes.append(FilterNode(parse_action(left), parse_action(right), op))

    def parse_quote(self, cur: ListNode, end: str) -> None:
        while True:
            r = self.next()
            if r in (_EOF, "\n"):
                raise JSONPathError("unterminated quoted string")
            if r == end and self.before_last() != "\\":
                break
        value = self.consume()
        try:
            cur.nodes.append(TextNode(unquote_extend(value)))
        except ValueError as exc:
            raise JSONPathError(f"unquote string {value} error {exc}") from None

    def parse_field(self, cur: ListNode) -> None:
        self.consume()
        while True:
            r = self.next()
            if r == "\\":
                self.next()
            elif _is_terminator(r):
                self.backup()
                break
        value = self.consume()
        cur.nodes.append(WildcardNode() if value == "*" else FieldNode(value.replace("\\", "")))


def parse_action(text: str) -> ListNode:
    """Parse `{text}` on its own and return its action (client-go's parseAction)."""
    node = _Parser().parse("{" + text + "}").nodes[0]
    assert isinstance(node, ListNode)
    return node


def parse(text: str) -> ListNode:
    """The template's nodes; raises JSONPathError with client-go's message."""
    return _Parser().parse(text)


if TYPE_CHECKING:
    from typing import Union

    # A step of a template: what `_Parser` appends to a ListNode.
    Node = Union[
        ListNode,
        TextNode,
        FieldNode,
        IdentifierNode,
        ArrayNode,
        FilterNode,
        ConstNode,
        WildcardNode,
        RecursiveNode,
        UnionNode,
    ]
