"""`diff.same`, the shortcut that decides "no change" without deepdiff: it may only say
"equal" where deepdiff finds no difference."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.diff import diff, same

CASES: list[tuple[Any, Any, bool]] = [
    ({}, {}, True),
    ({"a": 1}, {"a": 1.0}, True),  # one JSON number type
    ({"a": True}, {"a": 1}, False),  # but true is not 1
    ({"a": False}, {"a": 0.0}, False),
    ({"a": None}, {}, False),
    ({"a": [1, 2]}, {"a": [2, 1]}, False),  # lists are ordered
    ({"a": [1, {"b": "x"}]}, {"a": [1, {"b": "x"}]}, True),
    ({"a": "1"}, {"a": 1}, False),
    ({"a": float("nan")}, {"a": float("nan")}, False),  # left to deepdiff
    ({"a": {"b": {"c": "0.5s"}}}, {"a": {"b": {"c": "0.5s"}}}, True),
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, False),
]


@pytest.mark.parametrize(("left", "right", "expected"), CASES)
def test_same_only_where_diff_finds_nothing(left: Any, right: Any, expected: bool) -> None:
    assert same(left, right) is expected
    if expected:
        assert diff(left, right) == ()
