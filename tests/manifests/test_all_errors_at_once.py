"""Issue 13, item 1: every problem of every document in one run, each at its own line.

Rules across fields (one-of groups, window order, time zones, a call's medium and numbers, a
BatchCall recipient's destination) and across documents (an `agent:` reference, a recipient
listed twice, the template variables of a call's agent) are reported together with the field
errors of the same document, at the line of the key or list item they are about; a recipients
file's problems at its rows, every row; a path that cannot be read is named without a line
(never `:0`). Each `tests/data/bad/*_at_once.yaml` has its case here.
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


def test_the_file_that_took_four_runs_takes_one() -> None:
    case = str(BAD / "four_runs_at_once.yaml")
    assert _errors(case) == [
        f"{case}:4: ScheduledBatch/four_runs: agent 'nobody' is not an Agent in these "
        "manifests; name one, or use agentId: for an agent the manifests do not manage",
        f"{case}:5: windowStart: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f"{case}:6: windowEnd: must be after windowStart",
        f"{case}:6: windowEnd: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f"{case}:9: recipient +1415***0100 is listed twice in batch 'four_runs' (first at "
        f"{case}:8)",
    ]


def test_each_naive_window_end_and_the_webhook_rule_at_their_keys() -> None:
    case = str(BAD / "batch_time_zones_at_once.yaml")
    assert _errors(case) == [
        f"{case}:4: windowStart: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f"{case}:5: windowEnd: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f"{case}:6: webhookUrl is not allowed when every call has an outgoing medium "
        "(the API refuses it)",
        f"{case}:9: calls[0].metadata.ultravox.x: reserved key (keys may not start with "
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


def test_a_calls_own_rules_are_at_their_keys_with_the_batch_rules() -> None:
    case = str(BAD / "call_rules_at_once.yaml")
    assert _errors(case) == [
        f"{case}:5: windowEnd: must be after windowStart",
        f"{case}:10: calls[0].medium.telnyx: set exactly one medium, found 2",
        f"{case}:15: calls[1].medium.twilio.outgoing.to: '+1415***5010' is not an E.164 number: "
        "no numbering plan of +1 has numbers of its length",
        f"{case}:16: calls[1].medium.twilio.outgoing.from: caller '***' is not an E.164 number "
        "like +14155550100 (no country code): write it with +<country code>, or set "
        "defaultRegion (e.g. US) on the campaign or in the environment file to read national "
        "numbers",
        f"{case}:19: calls[1].metadata.reconciler.batch: reserved key (keys may not start with "
        "'ultravox.' or 'reconciler.')",
        f"{case}:22: calls[2].colour: unknown field",
    ]


def test_batch_call_rules_come_together_with_its_field_errors() -> None:
    # A recipient with two destinations no longer hides the preset's missing fields; an inline
    # recipient listed again in the file is named at its own line; a missing file at its key.
    case = str(BAD / "batchcall_rules_at_once.yaml")
    csv = str(BAD / "batchcall_rules_at_once.csv")
    assert _errors(case) == [
        f"{csv}:3: recipient +1415***0200 is listed twice in BatchCall 'from_file' (first at "
        f"{case}:21)",
        f"{csv}:4: more cells than the header has columns",
        f"{csv}:5: set exactly one of phone_number or whatsapp_user_id",
        f"{case}:5: timezone: the threetone API has no timezone (seed 002 (Threetone, Submit A "
        "Batch Call Request): its submit takes call_name, agent_id, recipients, "
        "scheduled_time_unix, agent_phone_number_id, whatsapp_params); remove timezone, or use "
        "a provider whose API has it (elevenlabs)",
        f"{case}:6: scheduledTime: scheduledTime needs a time zone, e.g. 2030-01-14T16:00:00Z",
        f"{case}:10: recipients[1].whatsapp_user_id: conflicts with phone_number: set exactly "
        "one of phone_number or whatsapp_user_id",
        f"{case}:11: recipients[2]: recipient +1415***0100 is listed twice (first as "
        "recipients[0]); nobody is called twice",
        f"{case}:13: recipients[3].colour: unknown field",
        f"{case}:19: targetConcurrencyLimit: 0 is out of range: must be at least 1",
        f"{case}:28: retries: 11 is out of range: must be at most 10",
        f"{case}:29: recipientsFrom: no such file {BAD / 'nowhere.csv'}",
    ]


def test_every_row_of_a_recipients_file_is_checked_at_its_line() -> None:
    # A bad row (bad JSON, too many cells, no object) no longer stops the reading of the file.
    case = str(BAD / "recipient_rows_at_once.yaml")
    csv, jsonl = (str(BAD / f"recipient_rows_at_once.{suffix}") for suffix in ("csv", "jsonl"))
    # A header problem that leaves the rows readable comes with the rows' problems.
    header = str(BAD / "recipient_rows_header_at_once.csv")
    assert _errors(case) == [
        f"{csv}:3: medium.twilio.outgoing.to: '+1415***5010' is not an E.164 number: no "
        "numbering plan of +1 has numbers of its length",
        f"{csv}:4: more cells than the header has columns",
        f"{csv}:5: recipient +1415***0100 is listed twice in batch 'from_csv' (first at {csv}:2)",
        f"{csv}:6: medium.twilio.outgoing.from: caller '***' is not an E.164 number like "
        "+14155550100 (no country code): write it with +<country code>, or set defaultRegion "
        "(e.g. US) on the campaign or in the environment file to read national numbers",
        f"{jsonl}:2: colour: unknown field",
        f"{jsonl}:2: medium.twilio.outgoing.to: expected a string, got the number 14155***0101: "
        'write the phone number in quotes with its + ("+1415***0101", masked here)',
        f"{jsonl}:3: not valid JSON: Expecting value: line 1 column 1 (char 0)",
        f"{jsonl}:4: metadata.ultravox.x: reserved key (keys may not start with 'ultravox.' or "
        "'reconciler.')",
        f"{jsonl}:6: each line must be a JSON object (one call)",
        f"{jsonl}:7: recipient +1415***0100 is listed twice in batch 'from_jsonl' (first at "
        f"{jsonl}:1)",
        f"{case}:4: windowStart: needs a time zone, e.g. 2026-12-01T09:00:00Z",
        f'{case}:10: paused: expected true or false, got "maybe"',
        f"{header}:1: no 'from' column and no callsFrom.from caller number",
        f"{header}:1: unknown columns ['nickname']; use to, from, context.<name>, metadata.<name>",
        f"{header}:3: medium.twilio.outgoing.to: '+1415***5010' is not an E.164 number: no "
        "numbering plan of +1 has numbers of its length",
    ]


def _unfilled(where: str, name: str, field: str) -> str:
    fix = (
        f"fill in this row's context.{name} cell"
        if ".csv:" in where
        else f"set templateContext.{name} on this call"
    )
    return (
        f"{where}: no templateContext value for {{{{{name}}}}}, which agent 'renewals_agent' "
        f"uses in callTemplate.{field}: {fix}, or give {name} a default in the agent's "
        "callTemplate.contextSchema"
    )


def test_each_call_and_row_without_a_template_variable_is_named() -> None:
    # `{{company.name}}` has a default in the contextSchema; the agentId batch is not checked
    # (its agent is not in the manifests), but its own error comes in the same run.
    case = str(BAD / "template_variables_at_once.yaml")
    csv = str(BAD / "template_variables_at_once.csv")
    prompt, inactivity = "systemPrompt", "inactivityMessages[0].message"
    assert _errors(case) == [
        _unfilled(f"{csv}:3", "customerName", prompt),
        _unfilled(f"{csv}:4", "nickname", inactivity),
        _unfilled(f"{csv}:4", "plan", prompt),
        _unfilled(f"{case}:22", "nickname", inactivity),
        _unfilled(f"{case}:22", "plan", prompt),
        _unfilled(f"{case}:24", "customerName", prompt),
        _unfilled(f"{case}:24", "nickname", inactivity),
        _unfilled(f"{case}:24", "plan", prompt),
        f"{case}:29: windowEnd: needs a time zone, e.g. 2026-12-01T09:00:00Z",
    ]


def test_every_several_errors_file_of_the_corpus_has_a_case_here() -> None:
    source = Path(__file__).read_text()
    for path in BAD.glob("*_at_once.yaml"):
        assert f'BAD / "{path.name}"' in source, path.name


def test_a_path_without_manifests_is_an_error_next_to_paths_with_some(tmp_path: Path) -> None:
    good, empty, broken = (tmp_path / n for n in ("good.yaml", "empty.yaml", "broken.yaml"))
    good.write_text("kind: Agent\nname: a\n")
    empty.write_text("# to be written\n")
    broken.write_text("kind: [\n")
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "a.yml").write_text("---\n")
    paths = [str(good), str(empty), str(broken), str(tmp_path / "blank"), str(good)]
    # The broken file is reported for what it is, not also as holding no manifests.
    assert _errors(*paths) == [
        f"{tmp_path / 'blank'}: no manifests found: no YAML document with a kind in it",
        f"{broken}:2: YAML syntax error: expected the node content, but found '<stream end>' "
        "(while parsing a flow node)",
        f"{empty}: no manifests found: no YAML document with a kind in it",
    ]
