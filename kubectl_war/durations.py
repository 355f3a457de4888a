"""Durations and timestamps as kubectl users know them.

`parse_duration` reads flag values in Go's `time.ParseDuration` syntax (what kubectl's
own `--timeout` accepts) and `go_duration` writes them back; `human_duration` prints
ages exactly as kubectl's AGE column does (apimachinery's `HumanDuration`);
`parse_timestamp`/`format_timestamp` read and write the RFC 3339 times the API server
stores. Standard library only: `decode` and `--help` import this and must start fast.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from kubectl_war.errors import UsageError, quote_input

__all__ = [
    "format_timestamp",
    "go_duration",
    "human_age",
    "human_duration",
    "parse_duration",
    "parse_timestamp",
]

# Nanoseconds per unit, as Go's time package spells them (both micro signs included).
_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # MICRO SIGN
    "\u03bcs": 1_000,  # GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}

# Go stores a duration as int64 nanoseconds: anything larger cannot be a kubectl flag value.
_MAX_NS = (1 << 63) - 1

_EXPECTED = "expected a duration such as 30s, 2m or 1h"

# More fraction digits than this cannot change the nanosecond result of any unit.
_FRACTION_DIGITS = 20


_quote = quote_input


def _invalid(text: str, flag: str | None, reason: str) -> UsageError:
    where = ""
    if flag:
        where = " for " + (flag if flag.startswith("-") else "--" + flag)
    return UsageError(f"invalid value {_quote(text)}{where}: {reason}")


def _is_digit(ch: str) -> bool:
    # str.isdigit() accepts non-ASCII digits, which Go does not.
    return "0" <= ch <= "9"


def parse_duration(text: str, *, flag: str | None = None) -> float:
    """Parse a Go duration (`30s`, `2m`, `1h30m`, `1.5h`, `500ms`, `0`) into seconds.

    The syntax is Go's `time.ParseDuration`, so a value works the same here as in
    kubectl's own flags: a sequence of decimal numbers each with a unit (`ns`, `us`,
    `µs`, `ms`, `s`, `m`, `h`), an optional leading `+`, and a bare `0`. Any other bare
    number is an error, as in Go. Unlike Go, negative durations are rejected (a `-0`
    spelling is zero and allowed), since no flag of this tool means anything by them.

    Args:
        text: the flag value as typed.
        flag: the flag's name for the message, such as `--timeout` (`--` is added
            when missing).

    Returns:
        The duration in seconds (never negative).

    Raises:
        UsageError: the value is empty, malformed, negative or larger than Go allows
            (about 292 years).
    """
    if not isinstance(text, str) or text == "":
        raise _invalid(text if isinstance(text, str) else repr(text), flag, _EXPECTED)
    s = text
    negative = False
    if s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if s == "":
        raise _invalid(text, flag, _EXPECTED)

    total = 0
    i = 0
    n = len(s)
    while i < n:
        # A number: digits, optionally a fraction; at least one digit somewhere.
        start = i
        while i < n and _is_digit(s[i]):
            i += 1
        whole = s[start:i]
        fraction = ""
        if i < n and s[i] == ".":
            i += 1
            fstart = i
            while i < n and _is_digit(s[i]):
                i += 1
            fraction = s[fstart:i]
        if whole == "" and fraction == "":
            raise _invalid(text, flag, _EXPECTED)
        # The unit: everything up to the next number.
        ustart = i
        while i < n and s[i] != "." and not _is_digit(s[i]):
            i += 1
        unit_text = s[ustart:i]
        if unit_text == "":
            raise _invalid(text, flag, "missing unit; " + _EXPECTED)
        unit = _UNITS.get(unit_text)
        if unit is None:
            raise _invalid(
                text, flag, f"unknown unit {_quote(unit_text, 16)} (use ns, us, ms, s, m or h)"
            )
        whole = whole.lstrip("0")
        # More than 20 significant digits overflows int64 whatever the unit; stopping
        # here also keeps int() away from pathological inputs.
        if len(whole) > 20:
            raise _invalid(text, flag, "duration too large (at most 2562047h)")
        value = int(whole or "0") * unit
        if fraction:
            fraction = fraction[:_FRACTION_DIGITS]
            value += int(fraction) * unit // 10 ** len(fraction)
        total += value
        if total > _MAX_NS:
            raise _invalid(text, flag, "duration too large (at most 2562047h)")
    if negative and total != 0:
        raise _invalid(text, flag, "a duration cannot be negative")
    return total / 1e9


def go_duration(seconds: float | None) -> str:
    """A duration as Go (and every duration flag here) writes it: `700ms`, `90s` as
    `1m30s`, `5m`, `1h30m`; so a flag value shown in a message can be passed back."""
    ms = round((seconds or 0) * 1000)
    if ms % 1000:
        return f"{ms}ms"
    total = ms // 1000
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec else "")
    return out or "0s"


def human_duration(seconds: float | timedelta) -> str:
    """Format a duration the way kubectl's AGE column does.

    Same output as apimachinery's `duration.HumanDuration`: about two or three
    significant figures, `<invalid>` for durations under -1s (clock skew up to one
    second reads as `0s`), then `119s`, `3m10s`, `70m`, `3h1m`, `47h`, `2d1h`, `367d`,
    `2y1d` and `8y` at the same boundaries. NaN and infinities give `<invalid>`.

    Args:
        seconds: the duration, in seconds or as a `timedelta`.
    """
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    if not math.isfinite(seconds):
        return "<invalid>"
    # Go converts with int(), which truncates toward zero: -1.9s is still "0s".
    s = math.trunc(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    for unit, size, smaller, smaller_size, two_parts_below, one_part_below in _HUMAN_STEPS:
        if s < one_part_below:
            whole, rest = s // size, s % size // smaller_size
            if rest and s < two_parts_below:
                return f"{whole}{unit}{rest}{smaller}"
            return f"{whole}{unit}"
    return f"{s // _YEAR}y"


_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_YEAR = 365 * _DAY
# apimachinery's steps: (unit, its seconds, the next unit down, its seconds, below how
# many seconds both are written, below how many the unit alone is), `119s` to `2y1d`.
_HUMAN_STEPS = (
    ("s", 1, "", 1, 0, 2 * _MINUTE),
    ("m", _MINUTE, "s", 1, 10 * _MINUTE, 3 * _HOUR),
    ("h", _HOUR, "m", _MINUTE, 8 * _HOUR, 2 * _DAY),
    ("d", _DAY, "h", _HOUR, 8 * _DAY, 2 * _YEAR),
    ("y", _YEAR, "d", _DAY, 8 * _YEAR, 8 * _YEAR),
)


def human_age(since: datetime | None, now: datetime) -> str:
    """kubectl's AGE cell: `human_duration(now - since)`, or `<unknown>` without a time.

    Naive datetimes are taken as UTC.
    """
    if since is None:
        return "<unknown>"
    return human_duration((_as_utc(now) - _as_utc(since)).total_seconds())


_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


# The shape the API server writes, and so nearly every timestamp a list reads.
_PLAIN_UTC = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def parse_timestamp(value: object) -> datetime | None:
    """Read an RFC 3339 time as the API server writes it, as an aware UTC datetime.

    Accepts `2021-10-09T10:56:41Z`, fractions of any length (nanoseconds are truncated
    to microseconds, which is all `datetime` holds) and numeric offsets such as
    `+00:00` or `-07:00`. A `datetime` is passed through, converted to UTC (naive ones
    are taken as UTC). Anything else, including impossible dates, gives None: a
    missing or broken timestamp is "unknown", never an error.
    """
    if isinstance(value, datetime):
        try:
            return _as_utc(value)
        except (OverflowError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    if len(value) == 20:
        plain = _PLAIN_UTC.fullmatch(value)
        if plain is not None:
            try:
                year, month, day, hour, minute, second = map(int, plain.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
            except (OverflowError, ValueError):
                return None
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(k)) for k in range(1, 7))
    fraction = m.group(7) or ""
    micro = int((fraction + "000000")[:6])
    if m.group(8):
        tz = timezone.utc
    else:
        off_h, off_m = int(m.group(10)), int(m.group(11))
        if off_h > 23 or off_m > 59:
            return None
        offset = timedelta(hours=off_h, minutes=off_m)
        tz = timezone(-offset if m.group(9) == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).astimezone(
            timezone.utc
        )
    except (OverflowError, ValueError):
        return None


def format_timestamp(dt: datetime) -> str:
    """Write a time as the API server does: RFC 3339 in UTC, whole seconds, `Z`.

    Naive datetimes are taken as UTC; fractions of a second are dropped.
    """
    u = _as_utc(dt)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
