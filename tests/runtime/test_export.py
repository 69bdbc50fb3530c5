"""Export, the pure part: live resources -> manifest files (no network, no emulator).

Tables of live bodies and the exact YAML they become; then the properties every export must
have: stable bytes whatever order the account lists things in, literal blocks for prompts,
defaults left out, no secret value, and files that a real plan finds identical to the account.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core.domain import LiveResource, ResourceKey
from reconciler.core.planning import PlanOptions, build_plan
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from reconciler.providers.campaigns.state import LiveCampaign, LiveRecipient, Part
from reconciler.providers.ultravox.agents import AgentType, secret_variable
from reconciler.providers.ultravox.batch_manifest import recipient_key
from reconciler.providers.ultravox.batches import ScheduledBatchType
from reconciler.runtime.export import (
    MODELINE,
    directory,
    exports,
    file_stem,
    render_export,
)

KINDS = registry.kinds()
BASE = {"ultravox": "https://api.ultravox.example"}
AGENT_ID = "7c0e0000-0000-0000-0000-000000000001"


def agent(name: str, template: dict[str, Any] | None, **extra: Any) -> LiveResource:
    body: dict[str, Any] = {
        "agentId": extra.pop("agentId", AGENT_ID),
        "publishedRevisionId": "rev-1",
        "created": "2030-01-01T00:00:00Z",
        "name": name,
        "statistics": {"calls": 12},
        **extra,
    }
    if template is not None:
        body["callTemplate"] = template
    return AgentType().live_from(body)


def body_of(text: str) -> str:
    """The YAML after the header comments."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))


def export_one(live: LiveResource, *known: LiveResource) -> str:
    files = render_export([live, *known], KINDS, base_urls=BASE).texts()
    return body_of(files[f"{directory(registry.kinds()[live.key.kind])}/{live.key.name}.yaml"])


# --- agents: live body -> YAML ------------------------------------------------------------

AGENT_CASES: list[tuple[str, dict[str, Any] | None, str]] = [
    (
        "read-only, server-computed, defaults and proto3 zeros are all left out",
        {
            "name": "support",
            "created": "2030-01-01T00:00:00Z",
            "updated": "2030-01-02T00:00:00Z",
            "model": "fixie-ai/ultravox",
            "contextSchema": {"type": "object", "properties": {"x": {"type": "string"}}},
            "joinTimeout": "30s",
            "maxDuration": "3600.000s",
            "initialOutputMedium": "MESSAGE_MEDIUM_VOICE",
            "firstSpeakerSettings": {"agent": {}},
            "vadSettings": {"turnEndpointDelay": "0.384s", "minimumTurnDuration": "0s"},
            "temperature": 0,
            "recordingEnabled": False,
            "languageHint": "",
            "selectedTools": [],
            "voice": "Mark",
        },
        "kind: Agent\nname: support\ncallTemplate:\n  voice: Mark\n",
    ),
    ("no callTemplate at all", None, "kind: Agent\nname: support\n"),
    (
        "a template of nothing but defaults",
        {"joinTimeout": "30s", "model": "ultravox-v0.7"},
        "kind: Agent\nname: support\n",
    ),
    (
        "multi-line prompt as a literal block; keys in schema order whatever the live order",
        {
            "voice": "Jessica",
            "temperature": 0.4,
            "systemPrompt": "You help {{company}}.\nBe brief.\n",
            "maxDuration": "600s",
            "medium": {"webRtc": {}},
        },
        textwrap.dedent(
            """\
            kind: Agent
            name: support
            callTemplate:
              medium:
                webRtc: {}
              maxDuration: 600s
              systemPrompt: |
                You help {{company}}.
                Be brief.
              temperature: 0.4
              voice: Jessica
            """
        ),
    ),
    (
        "a prompt without a final newline keeps it that way (|-)",
        {"systemPrompt": "Line one.\nLine two."},
        "kind: Agent\nname: support\ncallTemplate:\n  systemPrompt: |-\n    Line one.\n"
        "    Line two.\n",
    ),
    (
        "durations are canonical; a non-default VAD value stays, the defaults beside it go",
        {"vadSettings": {"turnEndpointDelay": "0.500s", "minimumInterruptionDuration": "0.09s"}},
        "kind: Agent\nname: support\ncallTemplate:\n  vadSettings:\n    turnEndpointDelay: 0.5s\n",
    ),
    (
        "a literal ${ in a live string is escaped so interpolation gives it back",
        {"systemPrompt": "Prices are in ${CURRENCY} and $${X}."},
        "kind: Agent\nname: support\ncallTemplate:\n"
        "  systemPrompt: Prices are in $${CURRENCY} and $$${X}.\n",
    ),
    (
        "nested objects and list items in their models' order, lists indented",
        {
            "selectedTools": [
                {
                    "temporaryTool": {
                        "http": {"httpMethod": "POST", "baseUrlPattern": "https://x.example"},
                        "description": "Look up.",
                        "modelToolName": "lookup",
                    }
                },
                {"toolName": "hangUp"},
            ]
        },
        textwrap.dedent(
            """\
            kind: Agent
            name: support
            callTemplate:
              selectedTools:
                - temporaryTool:
                    modelToolName: lookup
                    description: Look up.
                    http:
                      baseUrlPattern: https://x.example
                      httpMethod: POST
                - toolName: hangUp
            """
        ),
    ),
    (
        "a first speaker other than the default, and a presence-only member, are kept",
        {"firstSpeakerSettings": {"user": {}}, "initialOutputMedium": "MESSAGE_MEDIUM_TEXT"},
        "kind: Agent\nname: support\ncallTemplate:\n  initialOutputMedium: MESSAGE_MEDIUM_TEXT\n"
        "  firstSpeakerSettings:\n    user: {}\n",
    ),
]


@pytest.mark.parametrize(
    ("template", "expected"),
    [(t, e) for _, t, e in AGENT_CASES],
    ids=[c[0] for c in AGENT_CASES],
)
def test_agent_export(template: dict[str, Any] | None, expected: str) -> None:
    assert export_one(agent("support", template)) == expected


def test_agent_secrets_become_references_and_no_value_is_written() -> None:
    live = agent(
        "support",
        {
            "selectedTools": [
                {"toolName": "crm", "authTokens": {"X-Api-Key": "sk-live-123"}},
            ],
            "externalVoice": {
                "generic": {"url": "https://tts.example", "headers": {"Authorization": "Bearer z"}}
            },
        },
    )
    result = render_export([live], KINDS, base_urls=BASE)
    (item,) = result.files
    assert "sk-live-123" not in item.text and "Bearer z" not in item.text
    assert "X-Api-Key: ${SUPPORT_SELECTEDTOOLS_0_AUTHTOKENS_X_API_KEY}" in item.text
    assert "Authorization: ${SUPPORT_EXTERNALVOICE_GENERIC_HEADERS_AUTHORIZATION}" in item.text
    assert item.variables == (
        "SUPPORT_EXTERNALVOICE_GENERIC_HEADERS_AUTHORIZATION",
        "SUPPORT_SELECTEDTOOLS_0_AUTHTOKENS_X_API_KEY",
    )
    assert result.variables == item.variables
    assert "set these environment variables" in item.text


@pytest.mark.parametrize(
    ("name", "path", "variable"),
    [
        (
            "support",
            ("callTemplate", "medium", "sip", "outgoing", "password"),
            "SUPPORT_MEDIUM_SIP_OUTGOING_PASSWORD",
        ),
        (
            "9-lives",
            ("callTemplate", "selectedTools", 2, "authTokens", "x-key"),
            "AGENT_9_LIVES_SELECTEDTOOLS_2_AUTHTOKENS_X_KEY",
        ),
    ],
)
def test_secret_variable_names(name: str, path: tuple[Any, ...], variable: str) -> None:
    assert secret_variable(name, path) == variable
    assert variable.isidentifier()


# --- campaigns: parts -> one manifest ----------------------------------------------------


def scheduled(number: str, recipient_name: str, batch: str, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {
        "medium": {"twilio": {"outgoing": {"to": number, "from": "+14155550199"}}},
        "templateContext": {"customerName": recipient_name},
        "metadata": {"crmId": recipient_name.lower()},
        **fields,
    }
    key = recipient_key(call)
    call["metadata"] = {**call["metadata"], "reconciler.batch": batch, "reconciler.recipient": key}
    return call


def batch_resource(
    name: str,
    parts: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    agent_id: str = AGENT_ID,
) -> LiveResource:
    live_parts = tuple(
        Part(
            id=str(batch["batchId"]),
            number=number,
            name=name,
            recipients=tuple(
                LiveRecipient(c["metadata"]["reconciler.recipient"], "FUTURE", sent=c)
                for c in calls
            ),
            batch=batch,
            agent_id=agent_id,
        )
        for number, (batch, calls) in enumerate(parts, start=1)
    )
    return LiveResource(
        key=ResourceKey("ScheduledBatch", name),
        provider="ultravox",
        id=str(parts[0][0]["batchId"]),
        body=parts[0][0],
        digest="sha256:x",
        detail=LiveCampaign(parts=live_parts, agent_id=agent_id),
    )


def batch_body(batch_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "batchId": batch_id,
        "created": "2030-01-14T15:00:00Z",
        "windowStart": "2030-01-14T17:00:00+01:00",
        "windowEnd": "2030-01-14T21:00:00Z",
        "throttle": None,
        "webhookUrl": None,
        "webhookSecret": "server-chosen-secret",
        "paused": False,
        "totalCount": 1,
        "completedCount": 0,
        "endedAt": None,
        **fields,
    }


def test_campaign_parts_join_into_one_manifest_without_reserved_keys() -> None:
    first = [scheduled("+14155550123", "Ada", "renewals")]
    second = [scheduled("+14155550124", "Grace", "renewals")]
    live = batch_resource(
        "renewals",
        [(batch_body("b-1"), first), (batch_body("b-2", created="2030-01-14T15:05Z"), second)],
    )
    text = export_one(live, agent("caller", {"voice": "Mark"}))
    assert text == textwrap.dedent(
        """\
        kind: ScheduledBatch
        name: renewals
        agent: caller
        windowStart: '2030-01-14T16:00:00Z'
        windowEnd: '2030-01-14T21:00:00Z'
        calls:
          - medium:
              twilio:
                outgoing:
                  to: '+14155550123'
                  from: '+14155550199'
            templateContext:
              customerName: Ada
            metadata:
              crmId: ada
          - medium:
              twilio:
                outgoing:
                  to: '+14155550124'
                  from: '+14155550199'
            templateContext:
              customerName: Grace
            metadata:
              crmId: grace
        """
    )


def test_campaign_header_says_why_the_webhook_secret_is_left_out() -> None:
    live = batch_resource("renewals", [(batch_body("b-1"), [scheduled("+14155550123", "A", "r")])])
    (item,) = render_export([live], KINDS, base_urls=BASE).files
    assert "server-chosen-secret" not in item.text
    assert "webhookSecret" not in body_of(item.text)
    header = " ".join(line[2:] for line in item.text.splitlines() if line.startswith("# "))
    assert "Not exported, being secret: webhookSecret" in header
    assert "accepts the value the server holds" in header


@pytest.mark.parametrize(
    ("fields", "known", "expected"),
    [
        ({"paused": True}, True, ["agent: caller", "paused: true"]),
        ({}, False, [f"agentId: {AGENT_ID}"]),
        (
            {"webhookUrl": "https://hooks.example/x"},
            True,
            ["webhookUrl: https://hooks.example/x"],
        ),
    ],
    ids=["paused is kept", "an agent not in the account is named by id", "webhookUrl"],
)
def test_campaign_fields(fields: dict[str, Any], known: bool, expected: list[str]) -> None:
    live = batch_resource(
        "r", [(batch_body("b-1", **fields), [scheduled("+14155550123", "A", "r")])]
    )
    others = [agent("caller", None)] if known else []
    text = export_one(live, *others)
    for line in expected:
        assert line in text.splitlines()
    assert "paused: false" not in text


def test_campaign_fields_come_from_the_part_still_running() -> None:
    ended = batch_body("b-1", endedAt="2030-01-14T18:00:00Z", windowEnd="2030-01-14T18:00:00Z")
    running = batch_body("b-2", windowEnd="2030-01-14T22:00:00Z")
    live = batch_resource(
        "r",
        [
            (ended, [scheduled("+14155550123", "A", "r")]),
            (running, [scheduled("+14155550124", "B", "r")]),
        ],
    )
    text = export_one(live, agent("caller", None))
    assert "windowEnd: '2030-01-14T22:00:00Z'" in text
    assert text.count("- medium:") == 2


def test_a_call_that_is_not_outgoing_keeps_its_shape() -> None:
    call: dict[str, Any] = {
        "medium": {"serverWebSocket": {"inputSampleRate": 16000, "outputSampleRate": 16000}},
        "metadata": {"chatSession": "cs-1"},
        "experimentalSettings": {"b": 1, "a": [2, {"z": 0, "y": None}]},
    }
    call["metadata"] = {
        **call["metadata"],
        "reconciler.batch": "chat",
        "reconciler.recipient": recipient_key(call),
    }
    live = batch_resource(
        "chat", [(batch_body("b-1", webhookUrl="https://hooks.example/x"), [call])]
    )
    text = export_one(live, agent("caller", None))
    expected = textwrap.dedent(
        """\
        calls:
          - medium:
              serverWebSocket:
                inputSampleRate: 16000
                outputSampleRate: 16000
            metadata:
              chatSession: cs-1
            experimentalSettings:
              a:
                - 2
                - y: null
                  z: 0
              b: 1
        """
    )
    assert expected in text


# --- files: layout, header, order ---------------------------------------------------------


def account() -> list[LiveResource]:
    return [
        agent("support", {"systemPrompt": "Hi.\nBye.\n", "voice": "Mark"}),
        agent("sales", {"voice": "Jessica"}, agentId="a-2"),
        batch_resource(
            "renewals", [(batch_body("b-1"), [scheduled("+14155550123", "Ada", "renewals")])]
        ),
    ]


def test_layout_header_and_modeline() -> None:
    result = render_export(account(), KINDS, base_urls=BASE, schema="../reconciler.schema.json")
    assert [f.path for f in result.files] == [
        "agents/sales.yaml",
        "agents/support.yaml",
        "campaigns/renewals.yaml",
    ]
    for item in result.files:
        lines = item.text.splitlines()
        assert lines[0] == MODELINE + "../../reconciler.schema.json"
        assert "Exported by `reconciler export` from https://api.ultravox.example" in lines[1]
        assert all(len(line) <= 100 for line in lines if line.startswith("#"))
        yaml.safe_load(item.text)  # comments and all, it is one YAML document
    support = result.texts()["agents/support.yaml"]
    assert "callTemplate.model, callTemplate.contextSchema" in support.replace("\n# ", " ")
    assert result.warnings == ()


def test_output_is_stable_whatever_order_the_account_lists() -> None:
    forward = render_export(account(), KINDS, base_urls=BASE)
    backward = render_export(list(reversed(account())), KINDS, base_urls=BASE)
    assert forward == backward
    reordered = agent("support", {"voice": "Mark", "systemPrompt": "Hi.\nBye.\n"})
    again = render_export([reordered, *account()[1:]], KINDS, base_urls=BASE)
    assert again.texts() == forward.texts()


def test_odd_names_and_duplicates_are_written_apart_and_warned() -> None:
    live = [
        agent("same", {"voice": "A"}, agentId="a-1"),
        agent("same", {"voice": "B"}, agentId="a-2"),
        agent("bad name!", None, agentId="a-3"),
        agent("Same", None, agentId="a-4"),
    ]
    result = render_export(live, KINDS, base_urls=BASE)
    assert [f.path for f in result.files] == [
        "agents/Same.yaml",
        "agents/bad_name_.yaml",
        "agents/same-2.yaml",
        "agents/same-3.yaml",
    ]
    assert any("not a valid manifest name" in w for w in result.warnings)
    assert any("file name is taken by Agent/Same" in w for w in result.warnings)
    assert any("same name" in w and "a-2" in w for w in result.warnings)


def test_kinds_without_export_are_skipped() -> None:
    assert exports(AgentType()) and exports(ScheduledBatchType())
    assert directory(registry.kinds()["Agent"]) == "agents"
    assert directory(registry.kinds()["ScheduledBatch"]) == "campaigns"
    assert directory(registry.kinds()["BatchCall"]) == "batchcalls"
    assert file_stem("ok_name-1") == "ok_name-1"
    unknown = LiveResource(ResourceKey("Nothing", "x"), "ultravox", "1", {}, "sha256:x")
    assert render_export([unknown], KINDS, base_urls=BASE).files == ()


# --- the promise: a real plan of the files finds nothing to do ------------------------------

ROUND_TRIP_TEMPLATES: list[Any] = [
    None,
    {"systemPrompt": "  indented first line\nsecond  \n\n\nlast", "voice": "Mark"},
    {"systemPrompt": "Olá — ¿qué tal? 👋\n", "temperature": 0.7, "languageHint": "pt-BR"},
    # protobuf JSON prints a whole float as `1`; the manifest model reads it back as 1.0.
    {"temperature": 1},
    {"systemPrompt": "Costs ${PRICE} or $${X}; {{customerName}}", "maxDuration": "90.500s"},
    {"systemPrompt": "yes", "voice": "no", "timeExceededMessage": "1.10"},
    {
        "inactivityMessages": [{"duration": "8.000s", "message": "Still there?"}],
        "selectedTools": [{"toolName": "hangUp", "authTokens": {"k": "secret"}}],
    },
]


@pytest.mark.parametrize("template", ROUND_TRIP_TEMPLATES)
def test_a_plan_of_the_exported_files_is_empty(
    template: dict[str, Any] | None, tmp_path: Path
) -> None:
    live = [
        agent("support", template),
        batch_resource(
            "renewals", [(batch_body("b-1"), [scheduled("+14155550123", "Ada", "renewals")])]
        ),
    ]
    result = render_export(live, KINDS, base_urls=BASE)
    for item in result.files:
        (tmp_path / item.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / item.path).write_text(item.text, encoding="utf-8")
    environ = {"SUPPORT_SELECTEDTOOLS_0_AUTHTOKENS_K": "secret"}
    desired = parse_manifests([str(tmp_path)], KINDS, environ)
    plan = build_plan(registry.resource_types(), desired, live, PlanOptions())
    assert plan.is_empty, plan.changes
