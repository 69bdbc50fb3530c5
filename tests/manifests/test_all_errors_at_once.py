"""Issue 13, item 1: every problem of every document in one run, each at its own line.

Rules across fields (one-of groups, window order, time zones) and across documents (an
`agent:` reference, a recipient listed twice) are reported together with the field errors of
the same document, at the line of the key or list item they are about; a path that cannot be
read is named without a line (never `:0`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import ManifestError
from reconciler.manifests.loader import parse_manifests
from reconciler.providers.registry import kinds

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def _errors(*paths: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifests(list(paths), kinds())
    return [str(d) for d in caught.value.diagnostics]


def test_a_bad_field_does_not_hide_the_rules_of_the_same_document() -> None:
    case = str(BAD / "agent_rules_at_once.yaml")
    assert _errors(case) == [
        f"{case}:6: callTemplate.temperature: 5 is out of range: must be between 0 and 1",
        f"{case}:7: callTemplate.externalVoice: conflicts with voice: set at most one of "
        "voice, externalVoice",
        f"{case}:10: callTemplate.joinTimeout: a duration cannot be negative",
        f'{case}:11: callTemplate.voise: unknown field; did you mean "voice"?',
    ]


def test_batch_rules_and_references_come_in_one_run_at_their_own_lines() -> None:
    case = str(BAD / "batch_rules_at_once.yaml")
    assert _errors(case) == [
        f"{case}:8: ScheduledBatch/spring_campaign: agent 'nobody' is not an Agent in these "
        "manifests; name one, or use agentId: for an agent the manifests do not manage",
        f"{case}:10: windowEnd: must be after windowStart",
        f'{case}:11: paused: expected true or false, got "maybe"',
        f"{case}:15: recipient +1415***0100 is listed twice in batch 'spring_campaign' "
        f"(first at {case}:13)",
        f"{case}:18: calls[2].maxDuration: unknown field",
    ]


def test_each_naive_window_end_and_the_webhook_rule_at_their_keys() -> None:
    case = str(BAD / "batch_time_zones_at_once.yaml")
    assert _errors(case) == [
        f"{case}:4: windowStart: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f"{case}:5: windowEnd: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f"{case}:6: webhookUrl is not allowed when every call has an outgoing medium "
        "(the API refuses it)",
        f"{case}:8: calls[0]: metadata key 'ultravox.x' is reserved (keys may not start with "
        "'ultravox.' or 'reconciler.')",
    ]


def test_a_rule_about_a_value_that_failed_is_not_reported_twice(tmp_path: Path) -> None:
    # `calls` holds an item that is no mapping: the batch is not also told it has no calls.
    path = tmp_path / "b.yaml"
    path.write_text("kind: ScheduledBatch\nname: b\nagentId: a1\ncalls:\n  - just a string\n")
    assert _errors(str(path)) == [f'{path}:5: calls[0]: expected a mapping, got "just a string"']


def test_a_batch_with_both_agent_and_agent_id_is_told_with_its_other_errors(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(
        "kind: ScheduledBatch\nname: b\nagent: x\nagentId: a1\n"
        'calls:\n  - medium: {twilio: {outgoing: {to: "+14155550100"}}}\n    colour: red\n'
    )
    assert _errors(str(path)) == [
        f"{path}:3: ScheduledBatch/b: agent 'x' is not an Agent in these manifests; name one, "
        "or use agentId: for an agent the manifests do not manage",
        f"{path}:4: agentId: set exactly one of agent (an Agent manifest's name) or agentId",
        f"{path}:7: calls[0].colour: unknown field",
    ]


def test_a_path_that_cannot_be_read_is_named_without_a_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert _errors(str(tmp_path / "nope.yaml"), str(tmp_path / "empty")) == [
        f"{tmp_path / 'empty'}: no *.yaml or *.yml files in directory",
        f"{tmp_path / 'nope.yaml'}: no such file or directory",
    ]
