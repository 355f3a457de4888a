"""KYAML's numbers: Go's encoding/json float64 form, read from Python's shortest `repr`."""

from __future__ import annotations

import random
import struct
from decimal import Decimal

import pytest

from kubectl_war.kyaml import go_float


def reference(value: float) -> str:
    """The same rule, written with `decimal`: positional from 1e-6 to below 1e21, else
    exponent notation with at least two exponent digits when positive (`1e+21`, `1e-07`
    written `1e-7`)."""
    number = Decimal(repr(value))
    if number == 0:
        return "-0" if str(number).startswith("-") else "0"
    if 1e-6 <= abs(value) < 1e21:
        return format(number.normalize(), "f")
    sign, digits, exponent = number.normalize().as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits))
    power = exponent + len(shown) - 1
    mantissa = shown[0] + ("." + shown[1:] if len(shown) > 1 else "")
    exp = f"{'-' if power < 0 else '+'}{abs(power):02d}"
    if exp.startswith("-0"):
        exp = "-" + exp[2:]
    return f"{'-' if sign else ''}{mantissa}e{exp}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (0.1, "0.1"),
        (123.456, "123.456"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (-2.5e-10, "-2.5e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_go_float(value: float, expected: str) -> None:
    assert go_float(value) == expected


def test_go_float_agrees_with_the_decimal_reading_of_any_float() -> None:
    rnd = random.Random(20261207)
    values = []
    for _ in range(20000):
        (value,) = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))
        if value == value and abs(value) != float("inf"):
            values.append(value)
        values.append(rnd.random() * 10 ** rnd.randint(-25, 25))
    assert [go_float(v) for v in values] == [reference(v) for v in values]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_float_json_cannot_hold_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="has no JSON form"):
        go_float(value)
