"""The OpenAPI contract checker itself: which bodies it lets through and which it refuses.

Skipped (with the reason) when Ultravox's schema file is not available.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.openapi_contract import (
    SHARED_DIR_ENV,
    OpenApiContract,
    default_location,
    skip_reason,
)

AGENT = "/api/agents/3f2b1c4e-7d6a-4e0b-9c1d-5a8f2e6b7c90"
BATCHES = f"{AGENT}/scheduled_batches"
BATCH = f"{BATCHES}/9a1e6c2d-4b3f-4a5e-8d7c-1f2e3d4c5b6a"


@pytest.fixture(scope="module")
def schema() -> OpenApiContract:
    contract = OpenApiContract.load_default()
    if contract is None:
        pytest.skip(skip_reason())
    return contract


TWILIO = {"twilio": {"outgoing": {"to": "+14155550100", "from": "+14155550199"}}}

VALID: list[tuple[str, str, Any]] = [
    ("POST", "/api/agents", {"name": "support_bot"}),
    (
        "POST",
        "/api/agents",
        {
            "name": "support_bot",
            "callTemplate": {
                "systemPrompt": "You are the support agent for {{companyName}}.",
                "voice": "Mark",
                "temperature": 0.4,
                "model": "ultravox-v0.7",
                "joinTimeout": "30s",
                "maxDuration": "3600s",
                "initialOutputMedium": "MESSAGE_MEDIUM_VOICE",
                "recordingEnabled": True,
                "selectedTools": [
                    {"toolName": "hangUp"},
                    {"toolName": "lookup", "parameterOverrides": {"x": [1, {"y": None}]}},
                ],
                "inactivityMessages": [
                    {"duration": "30s", "message": "Still there?"},
                    {"duration": "0.5s", "endBehavior": "END_BEHAVIOR_HANG_UP_SOFT"},
                ],
                "vadSettings": {"turnEndpointDelay": "0.384s", "frameActivationThreshold": 0.2},
                "firstSpeakerSettings": {"agent": {"uninterruptible": True, "text": "Hi"}},
                "medium": {"webRtc": {}},
                # free-form objects stay open, whatever keys they hold
                "contextSchema": {"type": "object", "properties": {"companyName": {}}},
                "sharedSecrets": ["s1"],
            },
        },
    ),
    ("PATCH", AGENT, {"callTemplate": {"voice": "Jessica"}}),
    ("PATCH", AGENT, {"name": "renamed"}),
    # null clears a key back to its default: allowed for any property inside a PATCH body
    ("PATCH", AGENT, {"callTemplate": {"temperature": None, "vadSettings": None}}),
    ("PATCH", AGENT, {"callTemplate": {"selectedTools": None, "firstSpeakerSettings": None}}),
    ("PATCH", AGENT, {"callTemplate": {"vadSettings": {"turnEndpointDelay": None}}}),
    ("PATCH", AGENT, {"callTemplate": None}),
    (
        "POST",
        BATCHES,
        {
            "windowStart": "2026-12-01T09:00:00Z",
            "windowEnd": "2026-12-01T17:00:00+00:00",
            "calls": [
                {
                    "medium": TWILIO,
                    "templateContext": {"customerName": "Ada", "nested": {"any": ["thing"]}},
                    "metadata": {"customerId": "42"},
                },
                {"medium": {"twilio": {"outgoing": {"to": "+1", "additionalParams": {"k": 1}}}}},
            ],
        },
    ),
    (
        "POST",
        BATCHES,
        {
            "webhookUrl": "https://hooks.example.com/ultravox",
            "throttle": None,  # nullable in the schema itself
            "calls": [{"medium": {"sip": {"incoming": {}}}}],
        },
    ),
    ("PATCH", BATCH, {"paused": True}),
    ("PATCH", BATCH, {"windowEnd": "2026-12-02T17:00:00Z", "throttle": None}),
    ("PATCH", BATCH, {"webhookUrl": None, "webhookSecret": None}),
    # a plan's path may still hold an unresolved reference; a query string is not the path
    ("POST", "/api/agents/{ref:Agent/support_bot}/scheduled_batches", {"calls": [{}]}),
    ("GET", "/api/agents?pageSize=100&cursor=abc", None),
    ("DELETE", BATCH, None),
    ("PATCH", AGENT, None),  # the PATCH body is optional in the schema
]


@pytest.mark.parametrize(("method", "path", "body"), VALID)
def test_valid_bodies_pass(schema: OpenApiContract, method: str, path: str, body: Any) -> None:
    assert schema.problems(method, path, body) == []


INVALID: list[tuple[str, str, Any, list[str]]] = [
    # closed objects: the real API would silently ignore these keys
    (
        "POST",
        "/api/agents",
        {"name": "x", "callTemplate": {"voise": "Mark"}},
        ["POST /api/agents: callTemplate.voise: additional property not allowed"],
    ),
    (
        "POST",
        "/api/agents",
        {"name": "x", "systemPrompt": "misplaced at the top level"},
        ["POST /api/agents: systemPrompt: additional property not allowed"],
    ),
    (
        "PATCH",
        AGENT,
        {"callTemplate": {"vadSettings": {"turnEndpointDelay": "1s", "voice": "Mark"}}},
        [f"PATCH {AGENT}: callTemplate.vadSettings.voice: additional property not allowed"],
    ),
    (
        "PATCH",
        AGENT,
        {"callTemplate": {"selectedTools": [{"toolName": "hangUp", "name": "hangUp"}]}},
        [f"PATCH {AGENT}: callTemplate.selectedTools[0].name: additional property not allowed"],
    ),
    # read-only fields (the schema's, and the ones DESIGN.md adds)
    (
        "PATCH",
        AGENT,
        {"agentId": "3f2b1c4e-7d6a-4e0b-9c1d-5a8f2e6b7c90", "name": "x"},
        [f"PATCH {AGENT}: agentId: read-only property not allowed in a request"],
    ),
    (
        "PATCH",
        AGENT,
        {"callTemplate": {"created": "2026-01-01T00:00:00Z", "voice": "Mark"}},
        [f"PATCH {AGENT}: callTemplate.created: read-only property not allowed in a request"],
    ),
    (
        "POST",
        "/api/agents",
        {"name": "x", "statistics": {"calls": 3}, "publishedRevisionId": None},
        [
            "POST /api/agents: publishedRevisionId: read-only property not allowed",
            "POST /api/agents: statistics: read-only property not allowed",
        ],
    ),
    # enums, patterns, types
    (
        "PATCH",
        AGENT,
        {"callTemplate": {"initialOutputMedium": "VOICE"}},
        [f"PATCH {AGENT}: callTemplate.initialOutputMedium: 'VOICE' is not one of"],
    ),
    (
        "POST",
        "/api/agents",
        {"callTemplate": {"inactivityMessages": [{"endBehavior": "HANG_UP"}]}},
        ["callTemplate.inactivityMessages[0].endBehavior: 'HANG_UP' is not one of"],
    ),
    (
        "POST",
        "/api/agents",
        {"callTemplate": {"joinTimeout": "30", "temperature": "hot"}},
        [
            "callTemplate.joinTimeout: '30' does not match",
            "callTemplate.temperature: 'hot' is not of type 'number'",
        ],
    ),
    # null outside a PATCH body only where the schema says nullable
    (
        "POST",
        "/api/agents",
        {"name": "x", "callTemplate": {"voice": None}},
        ["POST /api/agents: callTemplate.voice: null is not allowed here"],
    ),
    (
        "PATCH",
        AGENT,
        {"callTemplate": {"selectedTools": [None]}},
        [f"PATCH {AGENT}: callTemplate.selectedTools[0]: null is not allowed here"],
    ),
    # scheduled batches
    (
        "POST",
        BATCHES,
        {"windowStart": "2026-12-01T09:00:00Z"},
        ["calls: required property missing"],
    ),
    ("POST", BATCHES, {"calls": []}, ["calls: [] should be non-empty"]),
    (
        "POST",
        BATCHES,
        {"calls": [{"medium": {"twilio": {"to": "+14155550100"}}}]},
        [f"POST {BATCHES}: calls[0].medium.twilio.to: additional property not allowed"],
    ),
    (
        "POST",
        BATCHES,
        {"calls": [{"medium": TWILIO, "status": "FUTURE", "callId": None}]},
        [
            "calls[0].status: read-only property not allowed",
            "calls[0].callId: read-only property not allowed",
        ],
    ),
    (
        "POST",
        BATCHES,
        {"calls": [{"medium": TWILIO, "templateContex": {}}]},
        ["calls[0].templateContex: additional property not allowed"],
    ),
    (
        "POST",
        BATCHES,
        {"windowStart": "tomorrow", "windowEnd": "2026-12-01T17:00:00", "calls": [{}]},
        [
            "windowStart: 'tomorrow' is not a 'date-time'",
            "windowEnd: '2026-12-01T17:00:00' is not a 'date-time'",  # no offset
        ],
    ),
    ("POST", BATCHES, {"webhookUrl": "hooks.example.com", "calls": [{}]}, ["is not a 'uri'"]),
    ("PATCH", BATCH, {"pause": True}, [f"PATCH {BATCH}: pause: additional property not allowed"]),
    (
        "PATCH",
        BATCH,
        {"batchId": "9a1e6c2d-4b3f-4a5e-8d7c-1f2e3d4c5b6a", "totalCount": 3},
        ["batchId: read-only property not allowed", "totalCount: read-only property not allowed"],
    ),
    ("PATCH", BATCH, {"paused": "yes"}, ["paused: 'yes' is not of type 'boolean'"]),
    # operations the schema does not have
    ("POST", "/api/agentz", {}, ["POST /api/agentz: no such path in the Ultravox OpenAPI schema"]),
    ("PUT", AGENT, {"name": "x"}, [f"PUT {AGENT}: /api/agents/{{agent_id}} has no PUT operation"]),
    ("DELETE", AGENT, {"name": "x"}, ["this operation takes no request body"]),
    ("POST", BATCHES, None, ["a request body is required"]),
    ("POST", "/api/agents", ["not", "an", "object"], ["(body): ['not', 'an', 'object'] is not of"]),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), INVALID)
def test_invalid_bodies_are_refused_with_a_readable_message(
    schema: OpenApiContract, method: str, path: str, body: Any, expected: list[str]
) -> None:
    problems = schema.problems(method, path, body)
    assert len(problems) == len(expected), problems
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)


def test_path_templates_prefer_literal_segments(schema: OpenApiContract) -> None:
    assert schema.match("/api/agents/usage") == "/api/agents/usage"
    assert schema.match(AGENT) == "/api/agents/{agent_id}"
    assert schema.match(f"{BATCH}/scheduled_calls") == (
        "/api/agents/{agent_id}/scheduled_batches/{batch_id}/scheduled_calls"
    )
    assert schema.match("/api/schema") == "/api/schema/"  # trailing slash tolerated
    assert schema.match("/api/nothing/here") is None


def test_every_request_schema_of_the_document_compiles(schema: OpenApiContract) -> None:
    # Guards the OpenAPI -> JSON Schema conversion against constructs the tests above miss.
    for template in schema._templates:
        concrete = template.template.replace("{", "").replace("}", "")
        for method in template.operations:
            problems = schema.problems(method, concrete, {})
            assert all("no such path" not in p and "has no" not in p for p in problems)


def test_load_default_follows_the_shared_dir_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_DIR_ENV, str(tmp_path))
    assert default_location() == tmp_path / "api" / "ultravox-openapi.yaml"
    assert OpenApiContract.load_default() is None
    assert skip_reason() == (
        f"Ultravox OpenAPI schema not found at {tmp_path / 'api' / 'ultravox-openapi.yaml'}: "
        "contract check skipped"
    )
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "ultravox-openapi.yaml").write_text(
        "openapi: 3.0.3\n"
        "paths:\n"
        "  /api/things/{id}:\n"
        "    patch:\n"
        "      requestBody:\n"
        "        content:\n"
        "          application/json:\n"
        "            schema: {$ref: '#/components/schemas/Thing'}\n"
        "components:\n"
        "  schemas:\n"
        "    Thing:\n"
        "      type: object\n"
        "      properties: {label: {type: string}, id: {type: string, readOnly: true}}\n"
    )
    contract = OpenApiContract.load_default()
    assert contract is not None
    assert contract.problems("PATCH", "/api/things/1", {"label": None}) == []
    assert contract.problems("PATCH", "/api/things/1", {"id": "1", "lable": "x"}) == [
        "PATCH /api/things/1: id: read-only property not allowed in a request",
        "PATCH /api/things/1: lable: additional property not allowed",
    ]
