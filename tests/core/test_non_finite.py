"""`_has_non_finite`: NaN and infinity anywhere in a body's dicts and lists, nowhere else."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.planning import _has_non_finite, _walked_non_finite


class Number(float):
    pass


class Table(dict[str, Any]):
    pass


CASES: list[tuple[Any, bool]] = [
    (None, False),
    (1.5, False),
    (math.nan, True),
    (-math.inf, True),
    (Number("inf"), True),
    ({"a": [1, "x", {"b": math.nan}]}, True),
    ([[[[math.inf]]]], True),
    (Table(t=math.nan), True),
    ({"calls": [{"n": i, "w": 0.5} for i in range(1000)]}, False),
    ({"calls": [{"n": i} for i in range(1000)] + [{"w": math.nan}]}, True),
    ({math.nan: 1}, False),  # keys are not looked at
    ((math.nan,), False),  # nor tuples: JSON values from YAML are lists
    ("nan", False),
    ({"s": "x", "d": {"s": "y", "t": Table(f=-math.inf)}}, True),
]


@pytest.mark.parametrize(("value", "found"), CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_non_finite_values(value: Any, found: bool) -> None:
    assert _has_non_finite(value) is found


VALUES = st.recursive(
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(alphabet="a\x7fÿ🙂", max_size=3)
    | st.sampled_from(["x" * 127, "x" * 255, -1, -256, 0x7FF0, 1e308])
    | st.booleans()
    | st.none(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=2), inner, max_size=4)
        | st.tuples(inner)
        | st.dictionaries(st.text(max_size=2), inner, max_size=3).map(Table)
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_marshal_first_says_what_the_walk_says(value: Any) -> None:
    # marshal's bytes only rule NaN and infinity out; the walk says where they may be.
    assert _has_non_finite(value) is _walked_non_finite(value)


@pytest.mark.parametrize("value", [[-1, 2.5], ["x" * 127], {"a": [-(2**40)]}, [Number(1.0)]])
def test_bytes_that_look_non_finite_are_walked(value: Any) -> None:
    assert _has_non_finite(value) is False
    assert _has_non_finite([*value, math.nan] if isinstance(value, list) else [value, math.inf])
