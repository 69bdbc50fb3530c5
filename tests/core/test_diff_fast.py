"""`diff`'s answer without deepdiff (objects and scalars, no list against a list) must be the
one deepdiff's report gives, leaf for leaf: generated pairs, and the cases that are decided by
deepdiff's own rules (lists, a bool against a number) must still go to it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.diff import _deep_changes, _differing, _without_lists, diff, same
from reconciler.core.domain import FieldChange, FieldOp

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 0.5, 1.0, 2.5, -1.0])
    | st.sampled_from(["", "a", "b", "0.5s", "1"])
)
KEYS = st.sampled_from(["a", "b", "c", "voice", "temperature"])
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=4)


def _answer(found: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(found, key=repr)


@settings(max_examples=150, deadline=None)
@given(OBJECTS, OBJECTS)
def test_the_answer_without_deepdiff_is_deepdiffs(live: dict[str, Any], desired: Any) -> None:
    if same(live, desired):
        return
    before, after = _differing(live, desired)
    found = _without_lists(before, after, ())
    if found is not None:
        assert _answer(found) == _answer(_deep_changes(before, after))


CASES: list[tuple[dict[str, Any], dict[str, Any], tuple[FieldChange, ...] | None]] = [
    (
        {"temperature": 0.4, "voice": "Jessica"},
        {"temperature": 0.5, "voice": "Jessica"},
        (FieldChange("temperature", FieldOp.CHANGE, 0.4, 0.5),),
    ),
    (
        {"a": {"b": 1}},
        {"a": {"c": {"d": "x"}}},
        (
            FieldChange("a.b", FieldOp.REMOVE, 1, None),
            FieldChange("a.c.d", FieldOp.ADD, None, "x"),
        ),
    ),
    ({"a": {"b": 1}}, {"a": "flat"}, (FieldChange("a", FieldOp.CHANGE, {"b": 1}, "flat"),)),
    ({"a": None}, {"a": [1]}, (FieldChange("a", FieldOp.CHANGE, None, [1]),)),
    ({"a": [1, 2]}, {"a": [1, 3]}, None),  # a list against a list: deepdiff, by index
    ({"a": True}, {"a": 1}, None),  # a bool against a number: deepdiff's numeric rules
    ({"a": {"b": [1]}}, {"a": {"b": [2]}, "c": 1}, None),  # one list pair is enough
]


@pytest.mark.parametrize(("live", "desired", "expected"), CASES)
def test_which_pairs_deepdiff_decides(
    live: dict[str, Any], desired: dict[str, Any], expected: tuple[FieldChange, ...] | None
) -> None:
    before, after = _differing(live, desired)
    found = _without_lists(before, after, ())
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert diff(live, desired) == expected
        assert _answer(found) == _answer(_deep_changes(before, after))
