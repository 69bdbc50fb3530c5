"""The one masking pass (issue 11, items 1 and 8): known secret values and E.164-looking
numbers in free text are masked; ids, dates, times, counts and unix seconds are left alone."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.safety import RedactingStream
from reconciler.core.masking import REDACTOR, Redactor, mask_numbers_in_text, masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +14155550100 now", "call +1415***0100 now"),
        ("+1 (415) 555-0100.", "+1415***0100."),
        ("+4420 7183 8750", "+4420***8750"),
        ("14155550100", "14155***0100"),
        ("Call 1 (415) 555-0199 if", "Call 14155***0199 if"),
        ("call 415 555 0199.", "call 41555***0199."),
    ],
)
def test_numbers_in_free_text_are_masked(text: str, expected: str) -> None:
    assert mask_numbers_in_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-14T16:00:00Z",
        "id 0f3f4e6a-0000-4000-8000-000000000001",
        "(id 12345678-1234-1234-1234-123456789012)",
        "scheduled_time_unix: 1893456000",
        "192.168.100.200",
        "FUTURE: 0  PENDING: 0  SUCCESS: 40",
        "40/40 completed",
        "x=0.12345678901234",
        "temperature 0.4 -> 0.5",
    ],
)
def test_what_is_not_a_number_is_left_alone(text: str) -> None:
    assert mask_numbers_in_text(text) == text


def test_json_values_are_masked_in_text_and_as_integers() -> None:
    assert masked({"systemPrompt": "dial +14155550100", "phone": 14155550100, "n": 42}) == {
        "systemPrompt": "dial +1415***0100",
        "phone": "14155***0100",
        "n": 42,
    }


def test_the_redactor_masks_known_secrets_wherever_they_appear() -> None:
    redactor = Redactor()
    redactor.add("long-secret-value-123", "abcd", "x", None, 7)
    assert "x" not in redactor and "abcd" in redactor
    assert redactor.text("a long-secret-value-123b") == "a ***b"
    assert redactor.text("abcd abcdef") == "*** abcdef", "short values only as whole words"
    redactor.add_json({"k": ["nested-secret-value"]})
    assert redactor.text("nested-secret-value") == "***"
    redactor.clear()
    assert redactor.text("abcd") == "abcd"


def test_the_stream_masks_whole_lines_even_when_written_in_pieces() -> None:
    inner = io.StringIO()
    stream = RedactingStream(inner)
    REDACTOR.clear()
    REDACTOR.add("split-secret-value-0123")
    stream.write("a split-sec")
    stream.write("ret-value-0123 and +14155550100\nnext")
    stream.flush()
    assert inner.getvalue() == "a *** and +1415***0100\nnext"
    with pytest.raises(TypeError):
        stream.write(b"bytes")  # type: ignore[arg-type]
    REDACTOR.clear()
