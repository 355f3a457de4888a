"""Freshness: when a WorkloadGroup's spec last changed and whether a WAR predates it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_war.freshness import (
    Freshness,
    LastChange,
    last_spec_change,
    outdated_by,
    war_freshness,
)

UTC = timezone.utc
CREATED = "2024-05-01T10:00:00Z"
T_CREATED = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def entry(time: Any, fields: Any, **more: Any) -> dict[str, Any]:
    return {
        "manager": "kubectl-client-side-apply",
        "operation": "Update",
        "apiVersion": "networking.istio.io/v1beta1",
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
        **more,
    }


SPEC = {"f:spec": {".": {}, "f:template": {"f:serviceAccount": {}}}}
LABELS = {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
STATUS = {"f:status": {".": {}, "f:conditions": {}}}


def group(*entries: Any, generation: Any = 3, created: Any = CREATED) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "ratings", "namespace": "bookinfo", "generation": generation}
    if created is not None:
        meta["creationTimestamp"] = created
    if entries:
        meta["managedFields"] = list(entries)
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "WorkloadGroup", "metadata": meta}


# --- last_spec_change ---------------------------------------------------------------------


def test_newest_spec_entry_wins() -> None:
    wg = group(
        entry("2024-05-01T10:00:00Z", {**SPEC, **LABELS}),
        entry("2024-05-03T08:30:00Z", SPEC, manager="kubectl-edit"),
        entry("2024-05-02T00:00:00Z", SPEC, manager="helm"),
    )
    assert last_spec_change(wg) == LastChange(
        datetime(2024, 5, 3, 8, 30, tzinfo=UTC), "managedFields"
    )


def test_metadata_only_entries_are_not_spec_changes() -> None:
    wg = group(
        entry("2024-05-01T10:00:00Z", {**SPEC, **LABELS}),
        entry("2024-06-01T00:00:00Z", LABELS, manager="labeller"),
    )
    assert last_spec_change(wg).time == T_CREATED


def test_status_subresource_entries_are_ignored_even_when_they_mention_spec() -> None:
    wg = group(
        entry("2024-05-01T10:00:00Z", SPEC),
        entry("2024-06-01T00:00:00Z", {**STATUS, **SPEC}, subresource="status"),
    )
    assert last_spec_change(wg) == LastChange(T_CREATED, "managedFields")


def test_nested_spec_key_is_not_a_top_level_spec_change() -> None:
    wg = group(
        entry("2024-05-01T10:00:00Z", SPEC),
        entry("2024-06-01T00:00:00Z", {"f:metadata": {"f:spec": {}}}),
    )
    assert last_spec_change(wg).time == T_CREATED


def test_generation_one_means_never_changed_even_with_later_entries() -> None:
    # kubectl apply owns spec and labels in one entry; a later label edit moves its time.
    wg = group(entry("2024-06-01T00:00:00Z", {**SPEC, **LABELS}), generation=1)
    assert last_spec_change(wg) == LastChange(T_CREATED, "creationTimestamp")


def test_no_managed_fields_and_generation_one_is_creation() -> None:
    assert last_spec_change(group(generation=1)) == LastChange(T_CREATED, "creationTimestamp")


def test_no_managed_fields_and_generation_two_is_unknown() -> None:
    assert last_spec_change(group(generation=2)) == LastChange(None, "unknown")


@pytest.mark.parametrize("generation", [None, "1", 1.0, True, 0])
def test_no_managed_fields_and_no_usable_generation_is_unknown(generation: Any) -> None:
    wg = group(generation=generation)
    if generation is None:
        del wg["metadata"]["generation"]
    assert last_spec_change(wg) == LastChange(None, "unknown")


def test_generation_one_without_creation_time_falls_back_to_managed_fields() -> None:
    wg = group(entry("2024-05-02T00:00:00Z", SPEC), generation=1, created=None)
    assert last_spec_change(wg) == LastChange(datetime(2024, 5, 2, tzinfo=UTC), "managedFields")
    assert last_spec_change(group(generation=1, created="yesterday")) == LastChange(None, "unknown")


def test_empty_managed_fields_behave_like_absent_ones() -> None:
    wg = group(generation=1)
    wg["metadata"]["managedFields"] = []
    assert last_spec_change(wg) == LastChange(T_CREATED, "creationTimestamp")
    wg["metadata"]["generation"] = 2
    assert last_spec_change(wg) == LastChange(None, "unknown")


def test_managed_fields_without_spec_entries_and_generation_above_one_is_unknown() -> None:
    wg = group(entry("2024-06-01T00:00:00Z", LABELS), generation=2)
    assert last_spec_change(wg) == LastChange(None, "unknown")


def test_nanosecond_and_offset_times_are_read() -> None:
    wg = group(
        entry("2024-05-03T08:30:00.123456789Z", SPEC),
        entry("2024-05-03T10:30:01+02:00", SPEC),  # 08:30:01Z, the newest
    )
    assert last_spec_change(wg).time == datetime(2024, 5, 3, 8, 30, 1, tzinfo=UTC)


def test_malformed_entries_are_skipped() -> None:
    wg = group(
        None,
        "f:spec",
        42,
        [],
        entry(None, SPEC),
        entry("not a time", SPEC),
        entry(1714557600, SPEC),
        entry("2024-09-01T00:00:00Z", None),
        entry("2024-09-01T00:00:00Z", "f:spec"),
        entry("2024-09-01T00:00:00Z", ["f:spec"]),
        {"time": "2024-09-01T00:00:00Z"},
        entry("2024-05-02T00:00:00Z", SPEC),
    )
    assert last_spec_change(wg) == LastChange(datetime(2024, 5, 2, tzinfo=UTC), "managedFields")


@pytest.mark.parametrize(
    "wg",
    [
        {},
        {"metadata": None},
        {"metadata": "x"},
        {"metadata": {"managedFields": "x", "generation": 3}},
        {"metadata": {"managedFields": {"f:spec": {}}, "generation": 3}},
    ],
)
def test_malformed_groups_are_unknown(wg: Any) -> None:
    assert last_spec_change(wg) == LastChange(None, "unknown")


METADATA_KEYS = [
    *("metadata", "managedFields", "generation", "creationTimestamp"),
    *("time", "fieldsV1", "f:spec", "subresource"),
]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=25),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(METADATA_KEYS),
                c,
                max_size=4,
            )
        ),
        max_leaves=15,
    )
)
def test_last_spec_change_never_raises(wg: Any) -> None:
    result = last_spec_change(wg)
    assert result.source in ("managedFields", "creationTimestamp", "unknown")
    assert (result.time is None) == (result.source == "unknown")


# --- war_freshness ------------------------------------------------------------------------


CHANGED = group(entry("2024-05-03T08:30:00Z", SPEC))
T_CHANGED = datetime(2024, 5, 3, 8, 30, tzinfo=UTC)


def test_no_group() -> None:
    assert war_freshness(T_CHANGED, None) == (Freshness.NO_GROUP, None)
    assert war_freshness(None, None) == (Freshness.NO_GROUP, None)


def test_war_created_before_change_is_outdated() -> None:
    assert war_freshness(T_CHANGED - timedelta(minutes=10), CHANGED) == (
        Freshness.OUTDATED,
        LastChange(T_CHANGED, "managedFields"),
    )


def test_war_created_in_the_same_second_is_outdated() -> None:
    assert war_freshness(T_CHANGED, CHANGED)[0] is Freshness.OUTDATED
    # sub-second parts cannot break the tie: timestamps only have whole seconds
    assert war_freshness(T_CHANGED + timedelta(microseconds=999_999), CHANGED)[0] is (
        Freshness.OUTDATED
    )


def test_war_created_a_second_later_is_up_to_date() -> None:
    assert war_freshness(T_CHANGED + timedelta(seconds=1), CHANGED) == (
        Freshness.UP_TO_DATE,
        LastChange(T_CHANGED, "managedFields"),
    )


def test_naive_and_offset_creation_times_compare_as_utc() -> None:
    naive_before = datetime(2024, 5, 3, 8, 29, 59)
    plus_two_after = datetime(2024, 5, 3, 10, 30, 1, tzinfo=timezone(timedelta(hours=2)))
    assert war_freshness(naive_before, CHANGED)[0] is Freshness.OUTDATED
    assert war_freshness(plus_two_after, CHANGED)[0] is Freshness.UP_TO_DATE


def test_unknown_when_either_time_is_unknown() -> None:
    assert war_freshness(None, CHANGED) == (
        Freshness.UNKNOWN,
        LastChange(T_CHANGED, "managedFields"),
    )
    assert war_freshness(T_CHANGED, group(generation=2)) == (
        Freshness.UNKNOWN,
        LastChange(None, "unknown"),
    )


def test_generation_one_group_judged_by_creation() -> None:
    wg = group(generation=1)
    assert war_freshness(T_CREATED + timedelta(seconds=1), wg)[0] is Freshness.UP_TO_DATE
    assert war_freshness(T_CREATED, wg)[0] is Freshness.OUTDATED


def test_freshness_values_are_the_printed_words() -> None:
    assert [f.value for f in Freshness] == ["Yes", "No", "Unknown", "NoGroup"]
    assert Freshness.OUTDATED == "No"
    assert Freshness("Unknown") is Freshness.UNKNOWN


# --- outdated_by --------------------------------------------------------------------------


def test_outdated_by_counts_whole_seconds_after_joining() -> None:
    last = LastChange(T_CHANGED, "managedFields")
    joined = T_CHANGED - timedelta(minutes=10, microseconds=500_000)
    assert outdated_by(joined, last) == 601.0
    assert outdated_by(T_CHANGED - timedelta(minutes=10), last) == 600.0
    assert outdated_by(T_CHANGED - timedelta(minutes=10), T_CHANGED) == 600.0


def test_outdated_by_same_second_is_zero() -> None:
    assert outdated_by(T_CHANGED + timedelta(microseconds=1), T_CHANGED) == 0.0


def test_outdated_by_none_when_not_outdated_or_unknown() -> None:
    assert outdated_by(T_CHANGED + timedelta(seconds=1), T_CHANGED) is None
    assert outdated_by(None, T_CHANGED) is None
    assert outdated_by(T_CHANGED, None) is None
    assert outdated_by(T_CHANGED, LastChange(None, "unknown")) is None


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_outdated_exactly_when_outdated_by_is_known(joined: datetime, changed: datetime) -> None:
    wg = group(entry(changed.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), SPEC))
    fresh, last = war_freshness(joined, wg)
    assert last is not None
    by = outdated_by(joined, last)
    assert (fresh is Freshness.OUTDATED) == (by is not None)
    assert by is None or by >= 0
