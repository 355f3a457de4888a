"""Label and field selectors, parsed and matched the way apimachinery does."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Callable

__all__ = [
    "FieldRequirement",
    "LabelRequirement",
    "SelectorError",
    "match_fields",
    "match_labels",
    "parse_field_selector",
    "parse_label_selector",
]


class SelectorError(ValueError):
    """A selector the real API server would refuse with 400 BadRequest."""


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.op
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        if op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        if op in ("!=", "notin"):
            return self.key not in labels or labels[self.key] not in self.values
        if self.key not in labels:
            return False
        try:
            have = int(labels[self.key])
        except ValueError:
            return False
        want = int(self.values[0])
        return have > want if op == "gt" else have < want


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    op: str  # "=" or "!="
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.op == "=" else have != self.value


_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_RE = re.compile(rf"^{_NAME}$")
_VALUE_RE = re.compile(rf"^({_NAME})?$")
_DNS1123_SUBDOMAIN_RE = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_SPECIAL = set("!=,()<>")


def _validate_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN_RE.match(prefix)):
        raise SelectorError(
            f'unable to parse requirement: key: Invalid value: "{key}": prefix part must be '
            "a lowercase RFC 1123 subdomain"
        )
    if not name or len(name) > 63 or not _NAME_RE.match(name):
        raise SelectorError(
            f'unable to parse requirement: key: Invalid value: "{key}": name part must consist '
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            f"validation is '{_NAME}')"
        )


def _validate_value(key: str, index: int, value: str) -> None:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise SelectorError(
            f'unable to parse requirement: values[{index}][{key}]: Invalid value: "{value}": '
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            f"'({_NAME})?')"
        )


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens as (kind, text); kind is the operator itself, "id", "in" or "notin"."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        two = text[i : i + 2]
        if two in ("!=", "=="):
            tokens.append((two, two))
            i += 2
            continue
        if ch in _SPECIAL:
            tokens.append((ch, ch))
            i += 1
            continue
        start = i
        while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
            i += 1
        word = text[start:i]
        tokens.append((word if word in ("in", "notin") else "id", word))
    return tokens


def parse_label_selector(text: str) -> list[LabelRequirement]:
    """Parse the full selector syntax: ``a=b,c==d,e!=f,g in (h,i),j notin (k),l,!m,n>1``."""
    tokens = _lex(text)
    pos = 0
    reqs: list[LabelRequirement] = []

    def peek() -> tuple[str, str]:
        return tokens[pos] if pos < len(tokens) else ("end", "")

    def expected(what: str) -> SelectorError:
        kind, word = peek()
        shown = word if kind != "end" else "EOS"
        return SelectorError(f"unable to parse requirement: found '{shown}', expected: {what}")

    if not tokens:
        return reqs
    while True:
        kind, word = peek()
        if kind == "!":
            pos += 1
            kind, word = peek()
            if kind != "id":
                raise expected("identifier")
            pos += 1
            _validate_key(word)
            reqs.append(LabelRequirement(word, "!"))
        elif kind == "id":
            key = word
            pos += 1
            _validate_key(key)
            kind, word = peek()
            if kind in ("end", ","):
                reqs.append(LabelRequirement(key, "exists"))
            elif kind in ("=", "==", "!="):
                pos += 1
                vkind, value = peek()
                if vkind == "id":
                    pos += 1
                elif vkind in ("end", ","):
                    value = ""
                else:
                    raise expected("identifier")
                _validate_value(key, 0, value)
                reqs.append(LabelRequirement(key, "!=" if kind == "!=" else "=", (value,)))
            elif kind in ("in", "notin"):
                pos += 1
                if peek()[0] != "(":
                    raise expected("'('")
                pos += 1
                values: list[str] = []
                while True:
                    vkind, value = peek()
                    if vkind == ")":
                        pos += 1
                        break
                    if vkind == "id":
                        pos += 1
                        values.append(value)
                    elif vkind in (",", ")"):
                        values.append("")
                    else:
                        raise expected("',', ')' or identifier")
                    vkind, _ = peek()
                    if vkind == ",":
                        pos += 1
                    elif vkind != ")":
                        raise expected("',' or ')'")
                if not values:
                    raise SelectorError(
                        'unable to parse requirement: values: Invalid value: "": '
                        "for 'in', 'notin' operators, values set can't be empty"
                    )
                for index, value in enumerate(values):
                    _validate_value(key, index, value)
                reqs.append(LabelRequirement(key, kind, tuple(values)))
            elif kind in (">", "<"):
                pos += 1
                vkind, value = peek()
                if vkind != "id":
                    raise expected("identifier")
                pos += 1
                try:
                    int(value)
                except ValueError:
                    raise SelectorError(
                        f'unable to parse requirement: values[0]: Invalid value: "{value}": '
                        "for 'Gt', 'Lt' operators, the value must be an integer"
                    ) from None
                reqs.append(LabelRequirement(key, "gt" if kind == ">" else "lt", (value,)))
            else:
                raise expected("'=', '!=', '==', 'in', notin'")
        else:
            raise expected("'!', identifier")
        kind, word = peek()
        if kind == "end":
            return reqs
        if kind != ",":
            raise expected("','")
        pos += 1


def match_labels(reqs: Sequence[LabelRequirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(req.matches(labels) for req in reqs)


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    start = 0
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _unescape(value: str) -> str:
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped {ch} in {value}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: unterminated escape sequence")
    return "".join(out)


def parse_field_selector(
    text: str, supported: Callable[[str], bool] | None = None
) -> list[FieldRequirement]:
    """Parse ``a=b,c==d,e!=f``; ``supported(field)`` False gives the server's 400 message."""
    reqs: list[FieldRequirement] = []
    if not text.strip():
        return reqs
    for term in _split_terms(text):
        if not term:
            continue
        for i in range(len(term)):
            rest = term[i:]
            op = next((o for o in ("!=", "==", "=") if rest.startswith(o)), None)
            if op is not None:
                field, value = term[:i], term[i + len(op) :]
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field = field.strip()
        if supported is not None and not supported(field):
            raise SelectorError(f"field label not supported: {field}")
        reqs.append(FieldRequirement(field, "!=" if op == "!=" else "=", _unescape(value)))
    return reqs


def match_fields(reqs: Sequence[FieldRequirement], fields: Mapping[str, str]) -> bool:
    return all(req.matches(fields) for req in reqs)
