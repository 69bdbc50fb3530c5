"""`RedactingStream` hands its inner stream what it did before it stopped copying a text that
ends in a newline: the same writes, each through the redactor, whatever the pieces."""

from __future__ import annotations

import io
import random

from reconciler.cli.safety import RedactingStream
from reconciler.core.masking import REDACTOR


class Recorder(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


def reference(pieces: list[str]) -> list[str]:
    """The stream as it was: everything pending, then split at its last newline."""
    writes, pending = [], ""
    for text in pieces:
        pending += text
        if "\n" in pending:
            lines, _, pending = pending.rpartition("\n")
            writes.append(REDACTOR.text(lines + "\n"))
    if pending:
        writes.append(REDACTOR.text(pending))
    return writes


def test_the_same_writes_as_before() -> None:
    rng = random.Random(1414)
    REDACTOR.clear()
    REDACTOR.add("secret-value-0123")
    try:
        alphabet = ["a", "\n", "+14155550100", "secret-", "value-0123", " ", "\n\n"]
        for _ in range(2_000):
            pieces = ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(5)]
            inner = Recorder()
            stream = RedactingStream(inner)
            for text in pieces:
                assert stream.write(text) == len(text)
            stream.flush()
            assert inner.writes == reference(pieces), pieces
    finally:
        REDACTOR.clear()


def test_a_text_ending_in_its_newline_is_handed_on_as_it_is() -> None:
    inner = Recorder()
    stream = RedactingStream(inner)
    REDACTOR.clear()
    text = "plan line without numbers\n" * 3
    stream.write(text)
    assert inner.writes == [text]
    assert inner.writes[0] is text
