"""The plural helper every count in a message goes through (issue 13, item 8)."""

from __future__ import annotations

import pytest

from reconciler.core.wording import count


@pytest.mark.parametrize(
    ("number", "singular", "plural", "expected"),
    [
        (0, "resource", None, "0 resources"),
        (1, "resource", None, "1 resource"),
        (2, "resource", None, "2 resources"),
        (1, "batch", "batches", "1 batch"),
        (3, "batch", "batches", "3 batches"),
        (1, "recipient was", "recipients were", "1 recipient was"),
        (2, "recipient was", "recipients were", "2 recipients were"),
        (-1, "second", None, "-1 seconds"),
        (1000, "call", None, "1000 calls"),
        (0.5, "second", None, "0.5 seconds"),
        (1.0, "second", None, "1.0 second"),
    ],
)
def test_count_agrees_with_its_number(
    number: float, singular: str, plural: str | None, expected: str
) -> None:
    assert count(number, singular, plural) == expected
