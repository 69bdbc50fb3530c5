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


# --- phone numbers: YAML reads `+14155550100` as the number 14155550100 -----------------------

BATCH = (
    "kind: ScheduledBatch\nname: b1\nagentId: a1\n"
    "calls:\n  - medium: {{twilio: {{outgoing: {{to: {to}, from: '+14155550199'}}}}}}\n"
)
BATCH_CALL = (
    "kind: BatchCall\nprovider: threetone\nname: b2\nagentId: a1\n"
    "recipients:\n  - phone_number: {to}\n"
)
AGENT_DIALS = (
    "kind: Agent\nname: a2\ncallTemplate:\n  medium: {{twilio: {{outgoing: {{to: {to}}}}}}}\n"
)


@pytest.mark.parametrize(
    ("template", "where"),
    [
        (BATCH, "calls[0].medium.twilio.outgoing.to"),
        (BATCH_CALL, "recipients[0].phone_number"),
        (AGENT_DIALS, "callTemplate.medium.twilio.outgoing.to"),
    ],
    ids=["ScheduledBatch", "BatchCall", "Agent"],
)
def test_an_unquoted_phone_number_is_to_be_quoted_with_its_plus(
    tmp_path: Path, template: str, where: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(template.format(to="+14155550100"))
    assert _problem(path) == (
        f"{where}: expected a string, got the number 14155***0100: write the phone number in "
        'quotes with its + ("+1415***0100", masked here)'
    )
    # Quoting alone ("14155550100") would be a number without its country code; with its +:
    path.write_text(template.format(to='"+14155550100"'))
    assert len(parse_manifests([str(path)], kinds())) == 1


def test_quoting_without_the_plus_is_what_the_hint_prevents(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(BATCH.format(to='"14155550100"'))
    assert "no country code" in _problem(path)


# --- template variables: a call's templateContext covers its agent's {{variables}} -----------

AGENT_USES = (
    "kind: Agent\nname: caller\ncallTemplate:\n  systemPrompt: Hi {{{{customerName}}}}.\n{schema}"
    "---\n"
    "kind: ScheduledBatch\nname: b3\nagent: caller\ncallsFrom: calls.csv\n"
    "calls:\n  - medium: {{twilio: {{outgoing: {{to: '+14155550100', from: '+14155550199'}}}}}}\n"
    "{context}"
)
CSV_HEADER = "to,from,context.customerName\n"


def test_the_template_variable_hint_works_either_way(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    (tmp_path / "calls.csv").write_text(CSV_HEADER + "+14155550101,+14155550199,\n")
    path.write_text(AGENT_USES.format(schema="", context=""))
    with pytest.raises(ManifestError) as caught:
        parse_manifests([str(path)], kinds())
    fixes = [d.message for d in caught.value.diagnostics]
    assert [(Path(d.file).name, d.line) for d in caught.value.diagnostics] == [
        ("a.yaml", 11),
        ("calls.csv", 2),
    ]
    assert all(
        "or give customerName a default in the agent's callTemplate.contextSchema" in f
        for f in fixes
    )
    assert "set templateContext.customerName on this call" in fixes[0]
    assert "fill in this row's context.customerName cell" in fixes[1]
    # Done as said: a value on the call and in the row's cell...
    (tmp_path / "calls.csv").write_text(CSV_HEADER + "+14155550101,+14155550199,Bob\n")
    path.write_text(
        AGENT_USES.format(schema="", context="    templateContext: {customerName: Ada}\n")
    )
    assert len(parse_manifests([str(path)], kinds())) == 2
    # ... or a default in the agent's contextSchema instead.
    (tmp_path / "calls.csv").write_text(CSV_HEADER + "+14155550101,+14155550199,\n")
    schema = (
        "  contextSchema:\n    type: object\n"
        "    properties: {customerName: {type: string, default: there}}\n"
    )
    path.write_text(AGENT_USES.format(schema=schema, context=""))
    assert len(parse_manifests([str(path)], kinds())) == 2


# --- every other hint: the message, and the document done as it says -------------------------

A = "kind: Agent\nname: a\ncallTemplate:\n"
B = "kind: ScheduledBatch\nname: b\nagentId: a1\ncalls:\n  - medium: {twilio: {outgoing: "
THREETONE = "kind: BatchCall\nprovider: {provider}\nname: b\nagentId: a1\n{extra}"
ONE = 'recipients:\n  - phone_number: "+14155550100"\n'

HINTS = [
    (
        A + "  voise: Mark\n",
        'callTemplate.voise: unknown field; did you mean "voice"?',
        A + "  voice: Mark\n",
    ),
    (
        A + "  systemprompt: hi\n",
        'callTemplate.systemprompt: unknown field; did you mean "systemPrompt"?',
        A + "  systemPrompt: hi\n",
    ),
    (
        "kind: Agnet\nname: a\n",
        'unknown kind "Agnet"; did you mean "Agent"?',
        "kind: Agent\nname: a\n",
    ),
    (
        A + "  initialOutputMedium: MESSAGE_MEDIUM_VOIC\n",
        'callTemplate.initialOutputMedium: "MESSAGE_MEDIUM_VOIC" is not one of '
        "MESSAGE_MEDIUM_UNSPECIFIED, MESSAGE_MEDIUM_VOICE, MESSAGE_MEDIUM_TEXT; did you mean "
        '"MESSAGE_MEDIUM_VOICE"?',
        A + "  initialOutputMedium: MESSAGE_MEDIUM_VOICE\n",
    ),
    (
        A + "  voice: no\n",
        "callTemplate.voice: expected a string, got false (quote it to make it a string)",
        A + '  voice: "no"\n',
    ),
    (
        A + '  created: "2020"\n',
        "callTemplate.created: read-only field: the server sets it; remove it from the manifest",
        A + "  voice: Mark\n",
    ),
    (
        B + '{to: "(415) 555-0100", from: "+14155550199"}}}\n',
        "calls[0].medium.twilio.outgoing.to: '(415)***0100' is not an E.164 number like "
        "+14155550100 (no country code): write it with +<country code>, or set defaultRegion "
        "(e.g. US) on the campaign or in the environment file to read national numbers",
        "defaultRegion: US\n" + B + '{to: "(415) 555-0100", from: "+14155550199"}}}\n',
    ),
    (
        THREETONE.format(provider="threetone", extra="timezone: Europe/Berlin\n" + ONE),
        "timezone: the threetone API has no timezone (seed 002 (Threetone, Submit A Batch Call "
        "Request): its submit takes call_name, agent_id, recipients, scheduled_time_unix, "
        "agent_phone_number_id, whatsapp_params); remove timezone, or use a provider whose API "
        "has it (elevenlabs)",
        THREETONE.format(provider="elevenlabs", extra="timezone: Europe/Berlin\n" + ONE),
    ),
    (
        B.replace("agentId: a1", "agent: nobody") + '{to: "+14155550100"}}}\n',
        "ScheduledBatch/b: agent 'nobody' is not an Agent in these manifests; name one, or use "
        "agentId: for an agent the manifests do not manage",
        B + '{to: "+14155550100"}}}\n',
    ),
]


@pytest.mark.parametrize(("broken", "message", "fixed"), HINTS, ids=[h[1][:40] for h in HINTS])
def test_each_hint_done_as_it_says_validates(
    tmp_path: Path, broken: str, message: str, fixed: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(broken)
    assert _problem(path) == message
    path.write_text(fixed)
    assert len(parse_manifests([str(path)], kinds())) == 1
