"""Durations and timestamps: Go's ParseDuration syntax, kubectl's AGE, RFC 3339."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_war.durations import (
    format_timestamp,
    go_duration,
    human_age,
    human_duration,
    parse_duration,
    parse_timestamp,
)
from kubectl_war.errors import UsageError

MS = 0.001
MIN = 60
HOUR = 3600
DAY = 24 * HOUR
YEAR = 365 * DAY
UTC = timezone.utc


# --- parse_duration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        ("0", 0.0),
        ("0s", 0.0),
        ("+0", 0.0),
        ("-0", 0.0),
        ("-0s", 0.0),
        ("+5s", 5.0),
        ("1m30s", 90.0),
        ("1h1m1s", 3661.0),
        ("2h45m", 9900.0),
        ("1s1s", 2.0),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("0.25m", 15.0),
        ("007s", 7.0),
        ("1000ns", 1e-6),
        ("1us", 1e-6),
        ("1\u00b5s", 1e-6),
        ("1\u03bcs", 1e-6),
        ("1.000000000000000000000000001s", 1.0),
        ("2562047h47m16.854775807s", 9223372036.854775807),
    ],
)
def test_parse_duration_accepts_go_syntax(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'invalid value "" for --timeout: expected a duration such as 30s, 2m or 1h'),
        ("x", 'invalid value "x" for --timeout: expected a duration such as 30s, 2m or 1h'),
        (
            "5",
            'invalid value "5" for --timeout: missing unit; '
            "expected a duration such as 30s, 2m or 1h",
        ),
        (
            "00",
            'invalid value "00" for --timeout: missing unit; '
            "expected a duration such as 30s, 2m or 1h",
        ),
        (
            "1h5",
            'invalid value "1h5" for --timeout: missing unit; '
            "expected a duration such as 30s, 2m or 1h",
        ),
        ("-5s", 'invalid value "-5s" for --timeout: a duration cannot be negative'),
        ("-1ns", 'invalid value "-1ns" for --timeout: a duration cannot be negative'),
        ("1d", 'invalid value "1d" for --timeout: unknown unit "d" (use ns, us, ms, s, m or h)'),
        (
            "1 s",
            'invalid value "1 s" for --timeout: unknown unit " s" (use ns, us, ms, s, m or h)',
        ),
        ("-", 'invalid value "-" for --timeout: expected a duration such as 30s, 2m or 1h'),
        ("+", 'invalid value "+" for --timeout: expected a duration such as 30s, 2m or 1h'),
        (".s", 'invalid value ".s" for --timeout: expected a duration such as 30s, 2m or 1h'),
        ("s", 'invalid value "s" for --timeout: expected a duration such as 30s, 2m or 1h'),
        (
            "2562048h",
            'invalid value "2562048h" for --timeout: duration too large (at most 2562047h)',
        ),
        (
            "1" + "0" * 40 + "s",
            'invalid value "1' + "0" * 40 + 's" for --timeout: '
            "duration too large (at most 2562047h)",
        ),
        ("nan", 'invalid value "nan" for --timeout: expected a duration such as 30s, 2m or 1h'),
        ("inf", 'invalid value "inf" for --timeout: expected a duration such as 30s, 2m or 1h'),
        (
            "1e3s",
            'invalid value "1e3s" for --timeout: unknown unit "e" (use ns, us, ms, s, m or h)',
        ),
        (
            "1s\n",
            'invalid value "1s\\x0a" for --timeout: unknown unit "s\\x0a" '
            "(use ns, us, ms, s, m or h)",
        ),
    ],
)
def test_parse_duration_rejects_with_one_line_message(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text, flag="--timeout")
    assert info.value.message == message
    assert info.value.exit_code == 1
    assert "\n" not in info.value.message


def test_parse_duration_message_adds_dashes_or_omits_flag() -> None:
    with pytest.raises(UsageError) as info:
        parse_duration("x", flag="grace-period")
    assert info.value.message.startswith('invalid value "x" for --grace-period: ')
    with pytest.raises(UsageError) as info:
        parse_duration("x")
    assert info.value.message == 'invalid value "x": expected a duration such as 30s, 2m or 1h'


def test_parse_duration_shortens_huge_values_in_messages() -> None:
    with pytest.raises(UsageError) as info:
        parse_duration("x" * 1000)
    assert len(info.value.message) < 150


def test_parse_duration_rejects_non_ascii_digits() -> None:
    with pytest.raises(UsageError):
        parse_duration("\u0661s")  # ARABIC-INDIC DIGIT ONE


@given(st.text())
def test_parse_duration_any_text_is_non_negative_or_usage_error(text: str) -> None:
    try:
        value = parse_duration(text, flag="--timeout")
    except UsageError as e:
        assert "\n" not in e.message
        return
    assert isinstance(value, float)
    assert math.isfinite(value)
    assert value >= 0


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(["h", "m", "s", "ms", "us", "ns"])),
        min_size=1,
        max_size=4,
    )
)
def test_parse_duration_sums_components(parts: list[tuple[int, str]]) -> None:
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    text = "".join(f"{n}{unit}" for n, unit in parts)
    expected = sum(n * scale[unit] for n, unit in parts)
    assert parse_duration(text) == pytest.approx(expected, rel=1e-9, abs=1e-9)


# --- go_duration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "0s"),
        (0, "0s"),
        (0.7, "700ms"),
        (1.5, "1500ms"),
        (30, "30s"),
        (90, "1m30s"),
        (300, "5m"),
        (3600, "1h"),
        (5400, "1h30m"),
        (3661, "1h1m1s"),
    ],
)
def test_go_duration_writes_what_a_duration_flag_reads(seconds: float | None, text: str) -> None:
    assert go_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_go_duration_round_trips_through_parse_duration(ms: int) -> None:
    assert parse_duration(go_duration(ms / 1000)) == ms / 1000


# --- human_duration -------------------------------------------------------------------


# apimachinery's TestHumanDuration and TestHumanDurationBoundaries, plus the edges
# between them, in seconds.
@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-2, "<invalid>"),
        (-1000, "<invalid>"),
        (-2 + 1e-9, "0s"),
        (-1, "0s"),
        (-0.5, "0s"),
        (0, "0s"),
        (1 - MS, "0s"),
        (1, "1s"),
        (70, "70s"),
        (119, "119s"),
        (2 * MIN - MS, "119s"),
        (2 * MIN, "2m"),
        (2 * MIN + 1, "2m1s"),
        (190, "3m10s"),
        (3 * MIN, "3m"),
        (599, "9m59s"),
        (10 * MIN - MS, "9m59s"),
        (10 * MIN, "10m"),
        (10 * MIN + 1, "10m"),
        (70 * MIN, "70m"),
        (10799, "179m"),
        (3 * HOUR - MS, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + MIN, "3h1m"),
        (3 * HOUR + MIN + 59, "3h1m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR - MS, "7h59m"),
        (8 * HOUR, "8h"),
        (8 * HOUR + 59 * MIN, "8h"),
        (47 * HOUR, "47h"),
        (48 * HOUR - 1, "47h"),
        (2 * DAY - MS, "47h"),
        (2 * DAY, "2d"),
        (49 * HOUR, "2d1h"),
        (2 * DAY + HOUR, "2d1h"),
        (8 * DAY - MS, "7d23h"),
        (8 * DAY, "8d"),
        ((8 * 24 + 2) * HOUR, "8d"),
        (8 * DAY + 23 * HOUR, "8d"),
        (367 * DAY, "367d"),
        (2 * YEAR - MS, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + 23 * HOUR, "2y"),
        (2 * YEAR + 23 * HOUR + 59 * MIN, "2y"),
        (2 * YEAR + DAY - MS, "2y"),
        (2 * YEAR + DAY, "2y1d"),
        ((365 * 2 * 24 + 25) * HOUR, "2y1d"),
        (3 * YEAR, "3y"),
        (4 * YEAR, "4y"),
        (5 * YEAR, "5y"),
        (6 * YEAR, "6y"),
        (7 * YEAR, "7y"),
        (8 * YEAR - MS, "7y364d"),
        (8 * YEAR, "8y"),
        ((365 * 8 * 24 + 2) * HOUR, "8y"),
        (8 * YEAR + 364 * DAY, "8y"),
        (9 * YEAR, "9y"),
        (300 * YEAR, "300y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_human_duration_takes_timedelta_and_rejects_non_finite() -> None:
    assert human_duration(timedelta(minutes=3, seconds=10)) == "3m10s"
    assert human_duration(math.nan) == "<invalid>"
    assert human_duration(math.inf) == "<invalid>"
    assert human_duration(-math.inf) == "<invalid>"


def test_human_age_is_unknown_without_a_time() -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert human_age(None, now) == "<unknown>"
    assert human_age(now - timedelta(seconds=190), now) == "3m10s"
    assert human_age(datetime(2024, 1, 2, 3, 4, 0), now) == "5s"  # naive means UTC
    assert human_age(now + timedelta(seconds=5), now) == "<invalid>"


@given(st.floats(min_value=0, max_value=100 * YEAR))
def test_human_duration_never_empty_for_non_negative(seconds: float) -> None:
    text = human_duration(seconds)
    assert text[-1] in "smhdy"
    assert text[0].isdigit()


# --- timestamps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-10-09T10:56:41Z", datetime(2021, 10, 9, 10, 56, 41, tzinfo=UTC)),
        (
            "2021-10-09T10:56:41.380102645Z",
            datetime(2021, 10, 9, 10, 56, 41, 380102, tzinfo=UTC),
        ),
        ("2021-10-09T10:56:41.5Z", datetime(2021, 10, 9, 10, 56, 41, 500000, tzinfo=UTC)),
        ("2021-10-09T10:56:41+00:00", datetime(2021, 10, 9, 10, 56, 41, tzinfo=UTC)),
        ("2021-10-09T10:56:41-07:00", datetime(2021, 10, 9, 17, 56, 41, tzinfo=UTC)),
        ("2021-10-09T01:56:41+02:30", datetime(2021, 10, 8, 23, 26, 41, tzinfo=UTC)),
        ("2021-10-09t10:56:41z", datetime(2021, 10, 9, 10, 56, 41, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_reads_rfc3339(text: str, expected: datetime) -> None:
    got = parse_timestamp(text)
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "2021-10-09",
        "2021-10-09T10:56:41",  # no zone: ambiguous
        "2021-10-09 10:56:41Z",
        "2021-10-09T10:56Z",
        "2021-13-09T10:56:41Z",
        "2023-02-29T00:00:00Z",
        "2021-10-09T24:00:00Z",
        "2021-10-09T10:56:60Z",
        "2021-10-09T10:56:41+24:00",
        "2021-10-09T10:56:41+0000",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
        "9999-12-31T23:59:59-01:00",  # after datetime.max once in UTC
        "2021-10-09T10:56:41.Z",
        " 2021-10-09T10:56:41Z",
        "\u0662021-10-09T10:56:41Z",
        1633776,
        1.5,
        True,
        b"2021-10-09T10:56:41Z",
        ["2021-10-09T10:56:41Z"],
        {},
    ],
)
def test_parse_timestamp_gives_none_for_anything_else(value: object) -> None:
    assert parse_timestamp(value) is None


def test_parse_timestamp_passes_datetimes_through_as_utc() -> None:
    aware = datetime(2021, 10, 9, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_timestamp(aware) == datetime(2021, 10, 9, 10, 0, tzinfo=UTC)
    assert parse_timestamp(datetime(2021, 10, 9, 10, 0)) == datetime(2021, 10, 9, 10, 0, tzinfo=UTC)


def test_format_timestamp_writes_utc_seconds_with_z() -> None:
    assert format_timestamp(datetime(2021, 10, 9, 10, 56, 41, 999999, tzinfo=UTC)) == (
        "2021-10-09T10:56:41Z"
    )
    assert format_timestamp(
        datetime(2021, 10, 9, 3, 56, 41, tzinfo=timezone(timedelta(hours=-7)))
    ) == ("2021-10-09T10:56:41Z")
    assert format_timestamp(datetime(2021, 10, 9, 10, 56, 41)) == "2021-10-09T10:56:41Z"
    assert format_timestamp(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"


@given(st.datetimes(timezones=st.just(UTC)))
def test_timestamps_round_trip_at_whole_seconds(dt: datetime) -> None:
    assert parse_timestamp(format_timestamp(dt)) == dt.replace(microsecond=0)
