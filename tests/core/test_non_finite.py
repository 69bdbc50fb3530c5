"""`_has_non_finite`: NaN and infinity anywhere in a body's dicts and lists, nowhere else."""

from __future__ import annotations

import math
from typing import Any

import pytest

from reconciler.core.planning import _has_non_finite


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
