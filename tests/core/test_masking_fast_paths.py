"""`masked`'s fast paths (exact types first; no digit, nothing to do) mask as the general ones did
(each expected value is what `masked` gave before them)."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from reconciler.core import masking
from reconciler.core.masking import (
    _NUMBER_IN_TEXT,
    Redactor,
    _masked_text,
    _one_number,
    mask_numbers_in_text,
    mask_phone,
    masked,
)


class Text(str):
    pass


class Mapping(dict[str, Any]):
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
    (("+14155550100",), ["+1415***0100"]),  # a tuple is a JSON array: masked as one
    (
        {"a": {"to": "+14155550100", "n": "1234567", "m": "+1234567"}},
        {"a": {"to": "+1415***0100", "n": "1234567", "m": "+1234***4567"}},
    ),
    (
        {"a": Text("+14155550100"), "b": [{"from": 14155550100}], "c": Mapping({"to": "x"})},
        {"a": "+1415***0100", "b": [{"from": "14155***0100"}], "c": {"to": "***"}},
    ),
    (
        {"a": {"$secret": "KEY"}, "b": (1, {"to": "+14155550100"}), "c": None},
        {"a": "(secret from $KEY)", "b": [1, {"to": "+1415***0100"}], "c": None},
    ),
]


@pytest.mark.parametrize(("value", "shown"), CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_masked(value: Any, shown: Any) -> None:
    assert masked(value) == shown


def test_text_without_a_decimal_digit_is_returned_as_it_is() -> None:
    text = "versions ² ³ only"
    assert mask_numbers_in_text(text) is text


# The pattern as it was before its leading lookahead, as a reference: the lookahead only lets
# the scan skip characters no match starts with, so both must find the same runs.
REFERENCE = re.compile(
    r"(?<![\w+.\-/:#])(?:\+\d(?:[ ().-]{0,2}\d){6,18}|\(?\d[\d ()-]{8,26}\d)(?![\w\-/:])"
)


def _runs(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def test_numbers_in_text_are_the_runs_the_reference_finds() -> None:
    rng = random.Random(14)
    alphabet = "0123456789+()-. /:#_aZ\n٤²"
    texts = [
        "call +1 (415) 555-0100 or 1 415 555 0199, not 2026-12-01T09:00:00 or id 4155550100",
        "(415) 555-0100/+14155550100:+44 20 7946 0000#+1-415-555-0100",
    ] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    for text in texts:
        assert _runs(_NUMBER_IN_TEXT, text) == _runs(REFERENCE, text), text


def test_a_string_is_masked_as_both_patterns_in_turn_mask_it() -> None:
    rng = random.Random(1414)
    alphabet = "0123456789+()-. /:#_aZ\n٤²*"
    texts = (
        [
            "+14155550100",
            "+14155550100\n",
            "+1234567",
            "+123456789012345",
            "+٤١٥٥٥٥٠١٠٠٠",
            "Customer 4155550100",
            "r-ed7f5257ece71d803a8e",
        ]
        + [
            rng.choice(["+", "", "(", "1"]) + "".join(rng.choice(alphabet) for _ in range(n))
            for n in (rng.randint(0, 24) for _ in range(20_000))
        ]
        + [f"+{rng.randrange(10**5, 10**16)}" for _ in range(500)]
    )
    for text in texts:
        assert _masked_text(text) == mask_numbers_in_text(mask_phone(text)), text


@pytest.mark.parametrize("secrets", [1, 16, 17])
def test_a_text_without_a_secret_in_it_is_redacted_as_the_pattern_redacts(secrets: int) -> None:
    redactor = Redactor()
    values = [f"sk-{i:04d}-secret-value" for i in range(secrets - 1)] + ["pw42"]
    redactor.add(*values)
    texts = ["nothing here", "the key sk-0000-secret-value", "pw42 alone", "inpw42word", ""]
    pattern = re.compile(
        "|".join(
            re.escape(v) if len(v) >= 8 else rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])"
            for v in sorted(values, key=len, reverse=True)
        )
    )
    for text in texts:
        assert redactor.secrets(text) == (pattern.sub("***", text) if text else text), text


@pytest.mark.parametrize("piece", [1 << 20, 1_000])
@pytest.mark.parametrize("spacing", [0, 40, 3_000])
def test_a_long_text_is_masked_as_the_pattern_masks_it(
    spacing: int, piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long texts are searched for runs of the pattern's characters first: the result must be
    # the pattern's over the whole text, sparse runs (a masked body) or dense (fallback), with
    # numbers at the very start and end and next to every kind of neighbour.
    monkeypatch.setattr(masking, "_PIECE", piece)  # pieces of 1,000: many end inside a run
    rng = random.Random(spacing)
    pieces = ["+14155550100 "]
    numbers = ["+1 415 555 0100", "(415) 555-0100", "14155550100", "4155550100", "1-415-555"]
    neighbours = ["", " ", "a", "/", ":", "#", "-", ".", "+", "_", "\n", '"', "(", "2026-12-01"]
    while sum(map(len, pieces)) < 60_000:
        pieces.append("y" * rng.randint(0, spacing))
        pieces += (rng.choice(neighbours), rng.choice(numbers), rng.choice(neighbours))
    text = "".join(pieces) + " +14155550199"
    assert mask_numbers_in_text(text) == _NUMBER_IN_TEXT.sub(_one_number, text)
    assert mask_numbers_in_text(text + "٤") == _NUMBER_IN_TEXT.sub(_one_number, text + "٤")


def test_a_long_text_without_a_number_is_returned_as_it_is() -> None:
    text = ("Customer 12345, " * 200 + "2026-12-01T09:00:00 ") * 500
    assert mask_numbers_in_text(text) is text
