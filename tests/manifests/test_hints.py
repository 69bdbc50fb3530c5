"""Issue 13, item 2: a hint works when followed. Each case applies the hint the message gives
to the manifest and validates again: the problem is gone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.core.errors import ManifestError
from reconciler.manifests.loader import parse_manifests
from reconciler.providers.registry import kinds

AGENT = "kind: Agent\nname: a1\ncallTemplate:\n  systemPrompt: hi\n  {line}\n"


def _problem(path: Path) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifests([str(path)], kinds())
    [diagnostic] = caught.value.diagnostics
    return diagnostic.message


@pytest.mark.parametrize(
    ("line", "message", "fixed"),
    [
        (
            "maxDuration: 30",
            'callTemplate.maxDuration: expected a duration like "30s", got 30; write "30s" '
            "(30 seconds)",
            'maxDuration: "30s"',
        ),
        (
            "joinTimeout: 0.5",
            'callTemplate.joinTimeout: expected a duration like "30s", got 0.5; write "0.5s" '
            "(0.5 seconds)",
            'joinTimeout: "0.5s"',
        ),
        (
            "voice: 42",
            "callTemplate.voice: expected a string, got 42 (quote it to make it a string)",
            'voice: "42"',
        ),
    ],
)
def test_following_the_hint_fixes_the_manifest(
    tmp_path: Path, line: str, message: str, fixed: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(AGENT.format(line=line))
    assert _problem(path) == message
    # Do what the message says: the written value replaced by the one it names.
    written = re.search(r'write ("[^"]+")', message)
    key = line.split(":")[0]
    repaired = f"{key}: {written.group(1)}" if written else f'{key}: "{line.split(": ")[1]}"'
    assert repaired == fixed
    path.write_text(AGENT.format(line=repaired))
    assert [r.key.name for r in parse_manifests([str(path)], kinds())] == ["a1"]
