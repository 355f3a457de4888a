"""kubectl's `--sort-by` (kubectl `pkg/cmd/get/sorter.go`): a JSONPath key per object.

Items whose key is missing come first; numbers compare as numbers, strings byte-wise unless
both parse as resource quantities (`500m` < `2`); RFC 3339 timestamps are strings, so they
sort in time order. kubectl sorts with Go's unstable `sort.Sort`, so equal keys keep the
order that algorithm leaves: the same algorithm is used here, giving the same order.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any, Callable

from kubectl_war.printers.gofmt import go_quote
from kubectl_war.printers.jsonpath import JSONPath, go_type_name
from kubectl_war.printers.jsonpath_parser import JSONPathError

__all__ = ["SortError", "go_sort", "parse_quantity", "relaxed_jsonpath", "sort_items"]


class SortError(Exception):
    """kubectl's sort failure; `fatal` marks the ones kubectl reports through klog and exit 1."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.fatal = fatal


_RELAXED = re.compile(r"\{\.?([^{}]+)\}|\.?([^{}]+)")


def relaxed_jsonpath(expr: str) -> str:
    """`metadata.name`, `.metadata.name`, `{metadata.name}` -> `{.metadata.name}`."""
    if not expr:
        return expr
    m = _RELAXED.fullmatch(expr)
    if m is None:
        raise ValueError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            "'{name1.name2}' or '{.name1.name2}'"
        )
    return "{.%s}" % (m.group(1) or m.group(2))


# -- resource.Quantity ----------------------------------------------------------------

_DEC_SUFFIX = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15}
_DEC_SUFFIX["E"] = 18
_BIN_SUFFIX = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = "eEinumkKMGTP"
_MAX_INT64 = 2**63 - 1


def _split_quantity(s: str) -> tuple[bool, str, str, str, str] | None:
    """apimachinery's parseQuantityString: (positive, value, numerator, fraction, suffix)."""
    positive, pos, end = True, 0, len(s)
    if s[:1] in ("-", "+"):
        positive = s[0] == "+"
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    i = pos
    while i < end and s[i] in "0123456789":
        i += 1
    if i >= end:
        return positive, s, s[pos:], "", ""
    num, pos = s[pos:i] or "0", i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and s[i] in "0123456789":
            i += 1
        if i >= end:
            return positive, s, num, s[pos:], ""
        denom, pos = s[pos:i], i
    value, suffix_start = s[:pos], pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos >= end:
        return positive, value, num, denom, s[suffix_start:]
    if s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in "0123456789":
        pos += 1
    if pos < end:
        return None
    return positive, value, num, denom, s[suffix_start:]


def parse_quantity(s: str) -> Fraction | None:
    """The value of a Kubernetes quantity string (`1.5Gi`, `100m`, `1e3`), or None."""
    if not s:
        return None
    parts = _split_quantity(s)
    if parts is None:
        return None
    positive, _, num, denom, suffix = parts
    if suffix in _DEC_SUFFIX:
        base, exponent, binary = 10, _DEC_SUFFIX[suffix], False
    elif suffix in _BIN_SUFFIX:
        base, exponent, binary = 2, _BIN_SUFFIX[suffix], True
    elif len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        base, exponent, binary = 10, int(suffix[1:]), False
        if not -(2**63) <= exponent < 2**63:
            return None
    else:
        return None
    magnitude = Fraction(int(num + denom), 10 ** len(denom)) * Fraction(base) ** exponent
    # Values finer than a nano-unit are rounded up (away from zero), as apimachinery does.
    scaled = magnitude * 10**9
    if scaled.denominator != 1:
        magnitude = Fraction(math.ceil(scaled), 10**9)
    if binary and magnitude > _MAX_INT64:
        magnitude = Fraction(_MAX_INT64)
    return magnitude if positive else -magnitude


# -- comparison -----------------------------------------------------------------------


def _unsortable(value: Any) -> SortError:
    return SortError(f"unsortable type: {go_type_name(value)}")


def is_less(a: Any, b: Any) -> bool:
    """sorter.go's isLess for two values taken from decoded JSON (interface values)."""
    if a is None and b is None:
        return False
    if a is None:
        return True
    if b is None:
        return False
    if isinstance(a, (bool, dict, list)):
        raise _unsortable(a)
    if type(a) is not type(b) or isinstance(b, bool):
        raise SortError("unsortable interface: interface")
    if isinstance(a, str):
        other: str = b  # the same type as `a`
        qa = parse_quantity(a)
        qb = parse_quantity(other) if qa is not None else None
        if qa is not None and qb is not None:
            return qa < qb
        return a.encode("utf-8", "surrogatepass") < other.encode("utf-8", "surrogatepass")
    return bool(a < b)


# -- Go's sort.Sort (pattern-defeating quicksort) ---------------------------------------


class _Sorter:
    """Go's sort.Sort over a less(i, j)/swap(i, j) pair, step for step."""

    def __init__(self, less: Callable[[int, int], bool], swap: Callable[[int, int], None]):
        self.less, self.swap = less, swap

    def insertion(self, a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and self.less(j, j - 1):
                self.swap(j, j - 1)
                j -= 1

    def sift_down(self, lo: int, hi: int, first: int) -> None:
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and self.less(first + child, first + child + 1):
                child += 1
            if not self.less(first + root, first + child):
                return
            self.swap(first + root, first + child)
            root = child

    def heap(self, a: int, b: int) -> None:
        hi = b - a
        for i in range((hi - 1) // 2, -1, -1):
            self.sift_down(i, hi, a)
        for i in range(hi - 1, -1, -1):
            self.swap(a, a + i)
            self.sift_down(0, i, a)

    def pdqsort(self, a: int, b: int, limit: int) -> None:
        was_balanced = was_partitioned = True
        while True:
            length = b - a
            if length <= 12:
                self.insertion(a, b)
                return
            if limit == 0:
                self.heap(a, b)
                return
            if not was_balanced:
                self.break_patterns(a, b)
                limit -= 1
            pivot, hint = self.choose_pivot(a, b)
            if hint == "decreasing":
                self.reverse(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = "increasing"
            sorted_already = was_balanced and was_partitioned and hint == "increasing"
            if sorted_already and self.partial_insertion(a, b):
                return
            if a > 0 and not self.less(a - 1, pivot):
                a = self.partition_equal(a, b, pivot)
                continue
            mid, was_partitioned = self.partition(a, b, pivot)
            left, right = mid - a, b - mid
            threshold = length // 8
            if left < right:
                was_balanced = left >= threshold
                self.pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right >= threshold
                self.pdqsort(mid + 1, b, limit)
                b = mid

    def partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while i <= j and self.less(i, a):
            i += 1
        while i <= j and not self.less(j, a):
            j -= 1
        if i > j:
            self.swap(j, a)
            return j, True
        self.swap(i, j)
        i, j = i + 1, j - 1
        while True:
            while i <= j and self.less(i, a):
                i += 1
            while i <= j and not self.less(j, a):
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i, j = i + 1, j - 1
        self.swap(j, a)
        return j, False

    def partition_equal(self, a: int, b: int, pivot: int) -> int:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while True:
            while i <= j and not self.less(a, i):
                i += 1
            while i <= j and self.less(a, j):
                j -= 1
            if i > j:
                return i
            self.swap(i, j)
            i, j = i + 1, j - 1

    def partial_insertion(self, a: int, b: int) -> bool:
        i = a + 1
        for _ in range(5):
            while i < b and not self.less(i, i - 1):
                i += 1
            if i == b:
                return True
            if b - a < 50:
                return False
            self.swap(i, i - 1)
            if i - a >= 2:
                for j in range(i - 1, 0, -1):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
            if b - i >= 2:
                for j in range(i + 1, b):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
        return False

    def break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length < 8:
            return
        state = length
        modulus = 1 << length.bit_length()
        mask64 = (1 << 64) - 1
        for idx in range(a + (length // 4) * 2 - 1, a + (length // 4) * 2 + 2):
            state ^= (state << 13) & mask64
            state ^= state >> 7
            state ^= (state << 17) & mask64
            other = state & (modulus - 1)
            if other >= length:
                other -= length
            self.swap(idx, a + other)

    def choose_pivot(self, a: int, b: int) -> tuple[int, str]:
        length = b - a
        swaps = [0]
        i, j, k = a + length // 4, a + length // 4 * 2, a + length // 4 * 3
        if length >= 8:
            if length >= 50:
                i = self.median(i - 1, i, i + 1, swaps)
                j = self.median(j - 1, j, j + 1, swaps)
                k = self.median(k - 1, k, k + 1, swaps)
            j = self.median(i, j, k, swaps)
        if swaps[0] == 0:
            return j, "increasing"
        if swaps[0] == 12:
            return j, "decreasing"
        return j, "unknown"

    def median(self, a: int, b: int, c: int, swaps: list[int]) -> int:
        a, b = self.order2(a, b, swaps)
        b, c = self.order2(b, c, swaps)
        a, b = self.order2(a, b, swaps)
        return b

    def order2(self, a: int, b: int, swaps: list[int]) -> tuple[int, int]:
        if self.less(b, a):
            swaps[0] += 1
            return b, a
        return a, b

    def reverse(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i, j = i + 1, j - 1


def go_sort(n: int, less: Callable[[int, int], bool], swap: Callable[[int, int], None]) -> None:
    """Go's `sort.Sort` on n elements reached through less and swap."""
    if n > 1:
        _Sorter(less, swap).pdqsort(0, n, n.bit_length())


def sort_items(items: list[Any], sort_by: str, *, table: bool = False) -> list[Any]:
    """The items in kubectl's `--sort-by` order (a new list; the items are not copied).

    `table=False` is the path of `kubectl get -o json|yaml|jsonpath|custom-columns`;
    `table=True` the one of kubectl's table output, which words errors differently (the
    pinned kubectl sorts a table's rows once, in the same order). Raises SortError with
    kubectl's message when the expression is not a path, does not parse, finds nothing in
    any item, or meets values that cannot be compared.
    """
    if not items and not table:
        return []
    try:
        field = relaxed_jsonpath(sort_by)
    except ValueError as exc:
        if not table:
            raise SortError(str(exc)) from None
        field = sort_by
    parser = JSONPath("sorting", allow_missing_keys=True)
    try:
        parser.parse(field)
    except JSONPathError as exc:
        raise SortError(f"sorting error: {exc}" if table else str(exc)) from None
    keys: list[tuple[bool, Any]] = []
    found = False
    for item in items:
        try:
            values = parser.find_results(item)
        except JSONPathError as exc:
            if table:
                raise SortError(
                    f"Failed to get values for [][]reflect.Value(nil) using {field} "
                    f"(&errors.errorString{{s:{go_quote(str(exc))}}})"
                ) from None
            if not found:
                raise SortError(str(exc)) from None
            # kubectl meets this one only while sorting, where klog ends the process
            raise SortError(f"Failed to get values using {field} ({exc})", fatal=True) from None
        has = bool(values) and bool(values[0])
        found = found or has
        keys.append((has, values[0][0] if has else None))
    if items and not found:
        raise SortError(
            f"couldn't find any field with path {go_quote(field)} in the list of objects"
        )
    order = list(range(len(items)))

    def less(i: int, j: int) -> bool:
        (has_i, key_i), (has_j, key_j) = keys[order[i]], keys[order[j]]
        if not has_i:
            return True
        if not has_j:
            return False
        try:
            return is_less(key_i, key_j)
        except SortError as exc:
            where = "[][][]reflect.Value" if table else "*unstructured.Unstructured"
            raise SortError(
                f"Field {field} in {where} is an unsortable type: interface, err: {exc.message}",
                fatal=True,
            ) from None

    def swap(i: int, j: int) -> None:
        order[i], order[j] = order[j], order[i]

    go_sort(len(items), less, swap)
    return [items[k] for k in order]
