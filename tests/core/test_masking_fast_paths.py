"""`masked`'s fast paths (exact types first; no digit, nothing to do) mask as the general ones did
(each expected value is what `masked` gave before them)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.masking import mask_numbers_in_text, masked


class Text(str):
    pass


CASES: list[tuple[Any, Any]] = [
    ("no digits at all", "no digits at all"),
    ("+14155550100", "+1415***0100"),
    (Text("+14155550100"), "+1415***0100"),
    ("call +1 415 555 0100 now", "call +1415***0100 now"),
    ("superscript ² and Arabic-Indic ٤١٥ digits", "superscript ² and Arabic-Indic ٤١٥ digits"),
    ({"to": "sip:alice@example.com"}, {"to": "sip:a***.com"}),
    ({"to": Text("alice")}, {"to": "***"}),
    ({"$secret": "HOOK_SECRET"}, "(secret from $HOOK_SECRET)"),
    ({"$secret": "A", "other": 1}, {"$secret": "A", "other": 1}),
    ([14155550100, True, 3.5, None], ["14155***0100", True, 3.5, None]),
    (("+14155550100",), ("+14155550100",)),
]


@pytest.mark.parametrize(("value", "shown"), CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_masked(value: Any, shown: Any) -> None:
    assert masked(value) == shown


def test_text_without_a_decimal_digit_is_returned_as_it_is() -> None:
    text = "versions ² ³ only"
    assert mask_numbers_in_text(text) is text
