"""kubectl_war.printers on its own: the template engine, Go's formatting, sorting, alignment."""

from __future__ import annotations

import io
import subprocess
import sys
from fractions import Fraction
from typing import Any

import pytest

from kubectl_war.errors import UsageError, WarError
from kubectl_war.printers import make_printer, sort_objects
from kubectl_war.printers.gofmt import go_float, go_json, go_sharp, go_sprint
from kubectl_war.printers.jsonpath import JSONPath
from kubectl_war.printers.jsonpath_parser import JSONPathError
from kubectl_war.printers.sort import go_sort, parse_quantity, sort_items
from kubectl_war.printers.tabwriter import TabWriter

DOC: dict[str, Any] = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a", "labels": {"x": "1"}}, "n": 2, "tags": ["p", "q"]},
        {"metadata": {"name": "b"}, "n": 1.5, "z": None},
    ],
}


def run(template: str, doc: Any = DOC, *, missing: bool = True) -> str:
    path = JSONPath("out", allow_missing_keys=missing)
    path.parse(template)
    out = io.StringIO()
    path.execute(out, doc)
    return out.getvalue()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.items[*].metadata.name}", "a b"),
        ('{range .items[*]}{.metadata.name}{"\\n"}{end}', "a\nb\n"),
        ("{.items[0].metadata.labels}", '{"x":"1"}'),
        ("{.items[0].tags}", '["p","q"]'),
        ("{.items[*].n}", "2 1.5"),
        ("{.items[1].z}", "null"),
        ("{range .items[*].z}{@}{end}", "<no value>"),
        ("{.items[-1].metadata.name}", "b"),
        ("{.items[0,1].n}", "2 1.5"),
        ("{.items[?(@.metadata.name=='a')].n}", "2"),
        ("{.items[?(@.z)].metadata.name}", "b"),
        ("{..name}", "a b"),
        ("{.items[0].metadata.name.*}", "97"),
        ("x{.nothing}y", "xy"),
        ("{.items[*]['metadata.name']}", "a b"),
    ],
)
def test_templates(template: str, expected: str) -> None:
    assert run(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.items[", "unterminated array"),
        ("{.items[?(@.a}", "unterminated filter"),
        ("{.items[?(@.a)", "unclosed array expect ]"),
        ("{.items", "unclosed action"),
        ("{....a}", "invalid multiple recursive descent"),
        ("{.a\t}", "unrecognized character in action: U+0009"),
        ("{*}", "unrecognized character in action: U+002A '*'"),
        ("{1.2.3}", "cannot parse number 1.2.3"),
        ("{.items[x]}", "invalid array index x"),
        ('{"\\q"}', 'unquote string "\\q" error invalid syntax'),
    ],
)
def test_parse_errors(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as err:
        JSONPath("out").parse(template)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.items[5]}", "array index out of bounds: index 5, length 2"),
        ("{.kind[0]}", "string is not array or slice"),
        ("{.items[::0]}", "step must be > 0"),
        ("{end}", "not in range, nothing to end"),
        ("{foo}", "unrecognized identifier foo"),
        ("{.items[?(@.n>1)]}", "incompatible types for comparison"),
        ("{.kind[?(@.a)]}", "List is not array or slice and cannot be filtered"),
    ],
)
def test_run_errors(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as err:
        run(template)
    assert str(err.value) == message


def test_missing_keys_refused_when_asked() -> None:
    with pytest.raises(JSONPathError) as err:
        run("{.items[*].nothing}", missing=False)
    assert str(err.value) == "nothing is not found"


def test_a_range_leaves_its_state_for_the_next_object_as_kubectl_does() -> None:
    path = JSONPath("out", allow_missing_keys=True)
    path.parse("{range .tags[*]}{@}{end}!")
    first, second = io.StringIO(), io.StringIO()
    path.execute(first, DOC["items"][0])
    assert first.getvalue() == "pq!"
    # client-go keeps the node list the range left behind: the next object meets `{end}`
    with pytest.raises(JSONPathError, match="not in range, nothing to end"):
        path.execute(second, DOC["items"][0])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.5, "1.5"), (1e6, "1e+06"), (123456.0, "123456"), (1e-5, "1e-05"), (0.0001, "0.0001")],
)
def test_go_float(value: float, expected: str) -> None:
    assert go_float(value) == expected


def test_go_value_forms() -> None:
    value = {"b": [1, None, "x"], "a": {"k": True}, "f": 2.5}
    assert go_sprint(value) == "map[a:map[k:true] b:[1 <nil> x] f:2.5]"
    assert go_json(value) == '{"a":{"k":true},"b":[1,null,"x"],"f":2.5}'
    assert go_json({"s": "<&>\n"}) == '{"s":"\\u003c\\u0026\\u003e\\n"}'
    assert go_json(1e21) == "1e+21" and go_json(1e-7) == "1e-7" and go_json(1e20) == "1" + "0" * 20
    assert go_sharp(value) == (
        'map[string]interface {}{"a":map[string]interface {}{"k":true}, '
        '"b":[]interface {}{1, interface {}(nil), "x"}, "f":2.5}'
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Fraction(1, 2)),
        ("1Gi", Fraction(2**30)),
        ("1e3", Fraction(1000)),
        ("1.5k", Fraction(1500)),
        ("-2", Fraction(-2)),
        ("m", Fraction(0)),
        ("0.0000000001", Fraction(1, 10**9)),
        ("v5", None),
        ("1.9.8", None),
        ("2024-05-16T10:00:00Z", None),
        ("", None),
    ],
)
def test_quantities(text: str, value: Fraction | None) -> None:
    assert parse_quantity(text) == value


def test_sort_numbers_quantities_and_missing_first() -> None:
    items = [{"v": "2"}, {"v": "500m"}, {}, {"v": "1k"}, {"v": "abc"}]
    assert [i.get("v") for i in sort_items(items[:4], ".v")] == [None, "500m", "2", "1k"]
    # a string that is no quantity compares byte-wise with the rest
    assert [i.get("v") for i in sort_items([{"v": "abc"}, {"v": "2"}], "v")] == ["2", "abc"]


def test_sort_errors() -> None:
    with pytest.raises(WarError) as err:
        sort_objects([{"a": 1}, {"a": 2}], ".b")
    assert err.value.message == 'couldn\'t find any field with path "{.b}" in the list of objects'
    with pytest.raises(WarError) as err:
        sort_objects([{"a": 1}, {"a": 2}], "{.a}{.b}")
    assert err.value.message.startswith("unexpected path string, expected a 'name1.name2'")
    assert sort_objects([], "{.a}{.b}") == []


def test_go_sort_orders_ties_as_go_does() -> None:
    # Go's pdqsort on 40 equal-keyed pairs; the expected order was taken from kubectl's output
    # shape: ties are not kept in input order once the list is longer than 12.
    keys = [i % 3 for i in range(40)]
    order = list(range(40))

    def less(i: int, j: int) -> bool:
        return keys[order[i]] < keys[order[j]]

    def swap(i: int, j: int) -> None:
        order[i], order[j] = order[j], order[i]

    go_sort(40, less, swap)
    assert [keys[k] for k in order] == sorted(keys)
    assert order != sorted(range(40), key=lambda k: keys[k])  # not a stable sort


def test_tabwriter_remembers_widths_between_flushes() -> None:
    out = io.StringIO()
    writer = TabWriter(out)
    writer.write("NAME\tAGE\nlong-name-here\t1\n")
    writer.flush()
    writer.write("x\t2\n")
    writer.flush()
    assert out.getvalue() == "NAME             AGE\nlong-name-here   1\nx                2\n"


def test_custom_columns_print_objects_header_once() -> None:
    printer = make_printer("custom-columns=N:.metadata.name,N2:.n")
    assert printer is not None
    out = io.StringIO()
    printer.print_objects(DOC["items"][:1], out)
    printer.print_objects(DOC["items"][1:], out)
    assert out.getvalue() == "N     N2\na     2\nb     1.5\n"


def test_make_printer_choices() -> None:
    assert make_printer("json") is None
    assert make_printer("wide") is None
    with pytest.raises(UsageError) as err:
        make_printer("go-template={{.kind}}")
    assert "-o jsonpath" in err.value.message and "-o json | jq" in err.value.message
    with pytest.raises(WarError) as err2:
        make_printer("jsonpath={.items[")
    assert err2.value.message == "error parsing jsonpath {.items[, unterminated array"
    assert err2.value.exit_code == 1


def test_jsonpath_printer_sorts_and_prints_as_json() -> None:
    printer = make_printer("jsonpath-as-json={.items[*].metadata.name}", sort_by="{.n}")
    assert printer is not None
    out = io.StringIO()
    doc = {"items": [{"metadata": {"name": "a"}, "n": 2}, {"metadata": {"name": "b"}, "n": 1}]}
    printer.print(doc, out)
    assert out.getvalue() == '[\n    "b",\n    "a"\n]\n'


def test_nothing_is_imported_at_start_up() -> None:
    code = (
        "import sys, kubectl_war.cli; "
        "print(any(m.startswith('kubectl_war.printers') for m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
