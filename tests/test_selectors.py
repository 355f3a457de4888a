"""Local label-selector matching agrees with the API server's syntax."""

from __future__ import annotations

import pytest

from kubectl_war.errors import UsageError
from kubectl_war.selectors import matches

LABELS = {"app": "ratings", "version": "v5", "tier": "backend"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=ratings", True),
        ("app==ratings", True),
        ("app=reviews", False),
        ("app!=reviews", True),
        ("app!=ratings", False),
        ("missing!=x", True),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("missing", False),
        ("version in (v4,v5)", True),
        ("version in (v4, v6)", False),
        ("version notin (v4,v6)", True),
        ("missing notin (a)", True),
        ("app=ratings,version in (v5),!missing", True),
        ("app=ratings,tier=frontend", False),
        ("", True),
    ],
)
def test_matches(selector: str, expected: bool) -> None:
    assert matches(selector, LABELS) is expected


@pytest.mark.parametrize("selector", ["app in v1", "a b", "!a in (x)", "=x"])
def test_unparseable_selectors_are_usage_errors(selector: str) -> None:
    with pytest.raises(UsageError, match="unable to parse requirement"):
        matches(selector, LABELS)
