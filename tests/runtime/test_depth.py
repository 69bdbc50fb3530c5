"""`_depth` (the nesting bound of an answer) goes level by level (issue 14); it gives the
nesting of any JSON value exactly up to its limit, and a value beyond the limit past it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.runtime.client import _depth

JSONS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=2)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=30,
)


def nesting(value: Any) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list) or not value:
        return 0
    return 1 + max(map(nesting, value))


@settings(max_examples=150, deadline=None)
@given(value=JSONS, limit=st.integers(min_value=0, max_value=6))
def test_depth_is_the_nesting_up_to_the_limit(value: Any, limit: int) -> None:
    found, exact = _depth(value, limit), nesting(value)
    assert found == (exact if exact <= limit else limit + 1)


def test_empty_containers_and_scalars() -> None:
    values: list[Any] = [1, "x", None, [], {}, [[]], {"a": 1}, [{"a": [2]}]]
    assert [_depth(v, 64) for v in values] == [0, 0, 0, 0, 0, 1, 1, 3]
