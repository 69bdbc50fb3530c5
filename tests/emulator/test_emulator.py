"""The bundled Ultravox emulator, driven over real loopback HTTP with httpx.

One emulator serves the whole module (reset before every test) so the file stays fast; tests that
need other settings (latency, a state file) start their own; the blocking `serve`, a process
of its own, is in tests/e2e/test_emulator_command.py.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler_emulator import EmulatorConfig, RunningEmulator, running_emulator

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KEY = "secret-test-key-123"
MISSING = "00000000-0000-4000-8000-000000000000"  # fixed: xdist workers must agree on test ids
CONFIG = EmulatorConfig(api_key=KEY, max_page_size=3, calls_per_minute=60, start_time=START)


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(CONFIG) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(emu: RunningEmulator) -> None:
    emu.admin.reset()


@pytest.fixture(scope="module")
def bare(emu: RunningEmulator) -> Iterator[httpx.Client]:
    """A client that sends no API key unless told to (one client: new ones are slow to make)."""
    with httpx.Client(base_url=emu.base_url, timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def api(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, headers={"X-API-Key": KEY}, timeout=5) as client:
        yield client


def create_agent(api: httpx.Client, name: str = "support", **template: Any) -> dict[str, Any]:
    response = api.post("/api/agents", json={"name": name, "callTemplate": template})
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    return agent


def twilio(to: str) -> dict[str, Any]:
    return {"twilio": {"outgoing": {"to": to, "from": "+14155550000"}}}


def phone_call(to: str = "+14155550100", **extra: Any) -> dict[str, Any]:
    return {"medium": twilio(to), **extra}


def batches_path(agent_id: str) -> str:
    return f"/api/agents/{agent_id}/scheduled_batches"


def create_batch(api: httpx.Client, agent_id: str, **body: Any) -> dict[str, Any]:
    body.setdefault("calls", [phone_call()])
    response = api.post(batches_path(agent_id), json=body)
    assert response.status_code == 201, response.text
    batch: dict[str, Any] = response.json()
    return batch


def statuses(api: httpx.Client, agent_id: str, batch_id: str) -> list[str]:
    path = f"{batches_path(agent_id)}/{batch_id}/scheduled_calls"
    return [call["status"] for call in walk(api, path)]


def walk(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following `next` until it is null."""
    items: list[dict[str, Any]] = []
    response = api.get(path, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["results"]
        if page["next"] is None:
            return items
        response = api.get(page["next"])


# --- authentication, routing, parsing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authentication credentials were not provided."),
        ({"X-API-Key": "wrong"}, "Invalid API key."),
        ({"X-API-Key": ""}, "Invalid API key."),
    ],
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/api/agents"), ("POST", "/api/agents")])
def test_a_missing_or_wrong_key_is_403_and_changes_nothing(
    emu: RunningEmulator,
    bare: httpx.Client,
    headers: dict[str, str],
    message: str,
    method: str,
    path: str,
) -> None:
    response = bare.request(method, path, headers=headers, json={"name": "x"})
    assert response.status_code == 403
    assert response.json() == {"detail": message}
    assert emu.admin.state()["agents"] == []


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", f"/api/agents/{MISSING}", 404, {"detail": "Not found."}),
        ("PATCH", f"/api/agents/{MISSING}", 404, {"detail": "Not found."}),
        ("DELETE", f"/api/agents/{MISSING}", 404, {"detail": "Not found."}),
        ("GET", f"/api/agents/{MISSING}/scheduled_batches", 404, {"detail": "Not found."}),
        ("GET", "/api/nothing-here", 404, {"detail": "Not found."}),
        ("PUT", "/api/agents", 405, {"detail": 'Method "PUT" not allowed.'}),
    ],
)
def test_unknown_objects_and_methods(
    api: httpx.Client, method: str, path: str, status: int, body: dict[str, Any]
) -> None:
    response = api.request(method, path, json={})
    assert (response.status_code, response.json()) == (status, body)


def test_invalid_json_is_a_parse_error(api: httpx.Client) -> None:
    response = api.post(
        "/api/agents", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


# --- agents -------------------------------------------------------------------------------------


def test_pagination_clamps_page_size_and_next_walks_every_page(
    emu: RunningEmulator, api: httpx.Client
) -> None:
    names = [f"agent_{i}" for i in range(7)]
    for name in names:
        create_agent(api, name)

    first = api.get("/api/agents", params={"pageSize": 50}).json()
    assert len(first["results"]) == 3  # clamped to max_page_size
    assert first["total"] == 7
    assert first["previous"] is None
    assert first["next"].startswith(emu.base_url + "/api/agents?")
    assert "pageSize=50" in first["next"]

    second = api.get(first["next"]).json()
    assert [a["name"] for a in second["results"]] == names[3:6]
    assert api.get(second["previous"]).json()["results"] == first["results"]

    assert [a["name"] for a in walk(api, "/api/agents", pageSize=2)] == names
    assert [a["name"] for a in walk(api, "/api/agents")] == names
    assert api.get("/api/agents", params={"cursor": "garbage!"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": None}, {"name": ["This field may not be null."]}),
        ({"name": "has space"}, {"name": ["Agent names must match ^[a-zA-Z0-9_-]{1,64}$."]}),
        ({"name": "x" * 65}, {"name": ["Agent names must match ^[a-zA-Z0-9_-]{1,64}$."]}),
        ({"name": "taken"}, {"name": ["agent with this name already exists."]}),
        (
            {"name": "ok", "callTemplate": {"joinTimeout": "30"}},
            {"callTemplate": ["Failed to parse joinTimeout field: invalid duration '30'."]},
        ),
        (
            {"name": "ok", "callTemplate": {"temperature": 3}},
            {"callTemplate": ["Failed to parse temperature field: expected a number from 0 to 1."]},
        ),
        ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_agent_create_rules(api: httpx.Client, body: Any, errors: dict[str, Any]) -> None:
    create_agent(api, "taken")
    response = api.post("/api/agents", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert api.get("/api/agents").json()["total"] == 1


def test_agent_response_has_read_only_defaults_and_computed_fields(api: httpx.Client) -> None:
    agent = create_agent(
        api,
        "support",
        systemPrompt="Help {{ customerName }} of {{company}}.",
        languageHint="{{lang}}",
        inactivityMessages=[{"duration": "5s", "message": "Still there, {{customerName}}?"}],
        voice="Mark",
    )
    uuid.UUID(agent["agentId"], version=4)
    uuid.UUID(agent["publishedRevisionId"])
    assert agent["created"] == "2026-12-01T08:00:00Z"
    assert agent["statistics"] == {"calls": 0}
    template = agent["callTemplate"]
    assert (template["name"], template["created"], template["updated"]) == (
        "support",
        agent["created"],
        agent["created"],
    )
    assert template["model"] == "fixie-ai/ultravox"
    assert template["joinTimeout"] == "30s"
    assert template["maxDuration"] == "3600s"
    assert template["initialOutputMedium"] == "MESSAGE_MEDIUM_VOICE"
    assert template["firstSpeakerSettings"] == {"agent": {}}
    assert template["contextSchema"] == {
        "type": "object",
        "properties": {
            "company": {"type": "string"},
            "customerName": {"type": "string"},
            "lang": {"type": "string"},
        },
        "required": ["company", "customerName", "lang"],
    }
    assert api.get(f"/api/agents/{agent['agentId']}").json() == agent


def test_set_values_win_over_defaults_and_no_variables_means_no_schema(api: httpx.Client) -> None:
    template = create_agent(
        api,
        "plain",
        systemPrompt="No variables here.",
        model="ultravox-v0.7",
        joinTimeout="10s",
        firstSpeakerSettings={"user": {}},
    )["callTemplate"]
    assert "contextSchema" not in template
    assert template["model"] == "ultravox-v0.7"
    assert template["joinTimeout"] == "10s"
    assert template["firstSpeakerSettings"] == {"user": {}}
    explicit = {"type": "object", "properties": {}, "required": []}
    schema = create_agent(api, "own", systemPrompt="{{x}}", contextSchema=explicit)
    assert schema["callTemplate"]["contextSchema"] == explicit


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("0.5s", "0.500s"),
        ("1.0s", "1s"),
        ("30.000s", "30s"),
        ("0.25s", "0.250s"),
        ("0.384s", "0.384s"),
        ("0.0001s", "0.000100s"),
        ("1.5000001s", "1.500000100s"),
        ("0s", "0s"),
    ],
)
def test_durations_read_back_the_way_protobuf_prints_them(
    api: httpx.Client, sent: str, shown: str
) -> None:
    template = create_agent(
        api,
        joinTimeout=sent,
        maxDuration=sent,
        vadSettings={"turnEndpointDelay": sent, "minimumTurnDuration": sent},
        firstSpeakerSettings={
            "agent": {"delay": sent},
            "user": {"fallback": {"delay": sent}},
        },
        inactivityMessages=[{"duration": sent, "message": "hello?"}],
        selectedTools=[{"temporaryTool": {"modelToolName": "t", "timeout": sent}}],
    )["callTemplate"]
    assert template["joinTimeout"] == template["maxDuration"] == shown
    assert template["vadSettings"] == {"turnEndpointDelay": shown, "minimumTurnDuration": shown}
    assert template["firstSpeakerSettings"]["agent"]["delay"] == shown
    assert template["firstSpeakerSettings"]["user"]["fallback"]["delay"] == shown
    assert template["inactivityMessages"][0]["duration"] == shown
    assert template["selectedTools"][0]["temporaryTool"]["timeout"] == shown


def test_zero_values_unknown_keys_and_write_only_secrets_are_not_returned(
    emu: RunningEmulator, api: httpx.Client
) -> None:
    agent = create_agent(
        api,
        temperature=0,
        recordingEnabled=False,
        voice="",
        selectedTools=[],
        initialOutputMedium="MESSAGE_MEDIUM_UNSPECIFIED",
        voise="Mark",  # a typo: dropped silently like a protobuf server does
        sharedSecrets=["s3cr3t"],
        vadSettings={"frameActivationThreshold": 0, "turnEndpointDelay": "0.5s"},
        selectedToolz=[{"toolName": "hangUp"}],
    )
    template = agent["callTemplate"]
    for key in ("temperature", "recordingEnabled", "voice", "selectedTools", "voise"):
        assert key not in template
    assert "sharedSecrets" not in template
    assert "selectedToolz" not in template
    assert template["initialOutputMedium"] == "MESSAGE_MEDIUM_VOICE"
    assert template["vadSettings"] == {"turnEndpointDelay": "0.500s"}
    listed = api.get("/api/agents").json()["results"][0]["callTemplate"]
    patched = api.patch(f"/api/agents/{agent['agentId']}", json={"callTemplate": {"voice": "M"}})
    for body in (listed, patched.json()["callTemplate"]):
        assert "sharedSecrets" not in body
    stored = emu.admin.state()["agents"][0]["callTemplate"]
    assert stored["sharedSecrets"] == ["s3cr3t"]  # stored, only never returned


def test_patch_merges_top_level_keys_replaces_values_whole_and_null_clears(
    emu: RunningEmulator, api: httpx.Client
) -> None:
    agent = create_agent(
        api,
        systemPrompt="Hello",
        voice="Mark",
        joinTimeout="10s",
        vadSettings={"turnEndpointDelay": "0.5s", "minimumTurnDuration": "0.1s"},
        selectedTools=[{"toolName": "hangUp"}, {"toolName": "queryCorpus"}],
    )
    path = f"/api/agents/{agent['agentId']}"
    emu.admin.advance(60)
    response = api.patch(
        path,
        json={
            "agentId": "ignored",
            "statistics": {"calls": 99},
            "callTemplate": {
                "name": "ignored-too",
                "voice": "Jessica",
                "vadSettings": {"turnEndpointDelay": "0.64s"},
                "selectedTools": [{"toolName": "queryCorpus"}],
                "joinTimeout": None,
                "bogus": 1,
            },
        },
    )
    assert response.status_code == 200, response.text
    after = response.json()
    template = after["callTemplate"]
    assert template["systemPrompt"] == "Hello"  # untouched key kept
    assert template["voice"] == "Jessica"
    assert template["vadSettings"] == {"turnEndpointDelay": "0.640s"}  # replaced whole
    assert template["selectedTools"] == [{"toolName": "queryCorpus"}]
    assert template["joinTimeout"] == "30s"  # null: back to the default
    assert template["name"] == "support"
    assert "bogus" not in template
    assert after["agentId"] == agent["agentId"]
    assert after["statistics"] == {"calls": 0}
    assert after["publishedRevisionId"] != agent["publishedRevisionId"]
    assert after["created"] == agent["created"]
    assert template["updated"] == "2026-12-01T08:01:00Z"
    assert api.get(path).json() == after

    cleared = api.patch(path, json={"callTemplate": {"voice": None}}).json()["callTemplate"]
    assert "voice" not in cleared
    renamed = api.patch(path, json={"name": "renamed"}).json()
    assert renamed["name"] == renamed["callTemplate"]["name"] == "renamed"
    assert renamed["callTemplate"]["systemPrompt"] == "Hello"


def test_patch_rejects_a_taken_name_and_delete_removes(api: httpx.Client) -> None:
    first = create_agent(api, "first")
    create_agent(api, "second")
    path = f"/api/agents/{first['agentId']}"
    response = api.patch(path, json={"name": "second"})
    assert (response.status_code, response.json()) == (
        400,
        {"name": ["agent with this name already exists."]},
    )
    assert api.patch(path, json={"name": "first"}).status_code == 200  # its own name is fine
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert [a["name"] for a in walk(api, "/api/agents")] == ["second"]
    create_agent(api, "first")  # the name is free again


def test_console_edit_and_seed_are_not_journaled(emu: RunningEmulator, api: httpx.Client) -> None:
    agent = create_agent(api, voice="Mark")
    emu.admin.clear_requests()
    edited = emu.admin.console_patch_agent(
        agent["agentId"], {"callTemplate": {"voice": "Jessica", "recordingEnabled": True}}
    )
    assert edited["callTemplate"]["voice"] == "Jessica"
    seeded = emu.admin.seed_agent(
        {"name": "support", "callTemplate": {"joinTimeout": "0.5s", "weird": True}}
    )
    assert emu.admin.requests() == []
    live = api.get(f"/api/agents/{agent['agentId']}").json()["callTemplate"]
    assert (live["voice"], live["recordingEnabled"]) == ("Jessica", True)
    # Seeded state bypasses every rule (a duplicate name here) and reads back verbatim.
    odd = api.get(f"/api/agents/{seeded['agentId']}").json()
    assert odd["callTemplate"] == {"joinTimeout": "0.5s", "weird": True}
    assert [a["name"] for a in walk(api, "/api/agents")] == ["support", "support"]


# --- scheduled batches --------------------------------------------------------------------------

WEB: dict[str, Any] = {"medium": {"webRtc": {}}}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"calls": None}, {"calls": ["This field is required."]}),
        ({"calls": []}, {"calls": ["Ensure this field has at least 1 elements."]}),
        (
            {"calls": [phone_call()], "webhookUrl": "https://example.com/hook"},
            {"webhookUrl": ["Not allowed when every call has an outgoing medium."]},
        ),
        (
            {"calls": [phone_call(), WEB]},
            {"webhookUrl": ["Required when any call has a non-outgoing medium."]},
        ),
        (
            {"calls": [{}]},  # no medium: WebRTC, the default
            {"webhookUrl": ["Required when any call has a non-outgoing medium."]},
        ),
        (
            {"windowStart": "2026-12-01T10:00:00Z", "windowEnd": "2026-12-01T09:00:00Z"},
            {"windowEnd": ["windowEnd must be after windowStart."]},
        ),
        (
            {
                "windowStart": "2026-12-01T09:00:00Z",
                "windowEnd": "2026-12-01T09:00:04Z",
                "calls": [phone_call()] * 5,
            },
            {"windowEnd": ["Window too short for 5 calls: at least 5s is needed."]},
        ),
        (
            {"windowEnd": "2026-12-01T07:00:00Z"},  # already over
            {"windowEnd": ["Window too short for 1 calls: at least 1s is needed."]},
        ),
        (
            {"windowStart": "tomorrow"},
            {
                "windowStart": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"calls": [phone_call(metadata={"n": 42})]},
            {"calls": [{"metadata": ["All metadata values must be strings."]}]},
        ),
        (
            {"calls": [phone_call(), phone_call(metadata={"ultravox.x": "1"})]},
            {"calls": [{}, {"metadata": ['Metadata keys may not start with "ultravox.".']}]},
        ),
        (
            {"calls": [{"medium": {**twilio("+1"), "webRtc": {}}}]},
            {"calls": [{"medium": ["At most one call medium may be set."]}]},
        ),
    ],
)
def test_batch_create_rules(api: httpx.Client, body: dict[str, Any], errors: Any) -> None:
    agent = create_agent(api)
    body = {"calls": [phone_call()], **body}
    if body["calls"] is None:
        del body["calls"]
    response = api.post(batches_path(agent["agentId"]), json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert api.get(batches_path(agent["agentId"])).json()["total"] == 0


def test_batch_window_at_the_estimate_and_webhook_batches_are_accepted(api: httpx.Client) -> None:
    agent = create_agent(api)
    exact = create_batch(
        api,
        agent["agentId"],
        windowStart="2026-12-01T09:00:00+01:00",  # = 08:00Z, now
        windowEnd="2026-12-01T08:00:05Z",
        calls=[phone_call()] * 5,
    )
    assert exact["windowStart"] == "2026-12-01T08:00:00Z"
    hooked = create_batch(
        api, agent["agentId"], webhookUrl="https://example.com/hook", calls=[WEB, phone_call()]
    )
    assert hooked["webhookUrl"] == "https://example.com/hook"
    assert hooked["webhookSecret"]  # "chosen for you" when unset
    own = create_batch(
        api, agent["agentId"], webhookUrl="https://example.com/h", webhookSecret="mine", calls=[WEB]
    )
    assert own["webhookSecret"] == "mine"


def test_batch_shape_and_scheduled_calls(api: httpx.Client) -> None:
    agent = create_agent(api)
    calls = [
        phone_call(f"+1415555010{i}", metadata={"customerId": str(i)}, templateContext={"n": i})
        for i in range(4)
    ]
    batch = create_batch(
        api,
        agent["agentId"],
        windowStart="2026-12-01T09:00:00Z",
        windowEnd="2026-12-01T17:00:00Z",
        calls=calls,
    )
    uuid.UUID(batch["batchId"])
    assert batch == {
        "batchId": batch["batchId"],
        "created": "2026-12-01T08:00:00Z",
        "windowStart": "2026-12-01T09:00:00Z",
        "windowEnd": "2026-12-01T17:00:00Z",
        "throttle": None,
        "webhookUrl": None,
        "webhookSecret": None,
        "paused": False,
        "totalCount": 4,
        "completedCount": 0,
        "endedAt": None,
    }
    path = f"{batches_path(agent['agentId'])}/{batch['batchId']}"
    assert api.get(path).json() == batch
    assert walk(api, batches_path(agent["agentId"])) == [batch]
    scheduled = walk(api, path + "/scheduled_calls")
    assert len(scheduled) == 4  # over two pages of at most 3
    assert scheduled[2] == {
        "status": "FUTURE",
        "batchId": batch["batchId"],
        "callId": None,
        "error": None,
        "medium": twilio("+14155550102"),
        "metadata": {"customerId": "2"},
        "templateContext": {"n": 2},
        "experimentalSettings": None,
    }
    assert walk(api, path + "/scheduled_calls", status="PENDING") == []
    bad = api.get(path + "/scheduled_calls", params={"status": "DONE"})
    assert bad.status_code == 400
    assert walk(api, path + "/created_calls") == []


def test_pausing_is_one_way_and_an_ended_batch_is_frozen(
    emu: RunningEmulator, api: httpx.Client
) -> None:
    agent = create_agent(api)
    batch = create_batch(api, agent["agentId"], windowEnd="2026-12-01T09:00:00Z")
    path = f"{batches_path(agent['agentId'])}/{batch['batchId']}"
    assert api.patch(path, json={"paused": False}).json()["paused"] is False  # not paused: no-op
    assert api.patch(path, json={"paused": True}).json()["paused"] is True
    for resume in (False, None):
        response = api.patch(path, json={"paused": resume})
        assert (response.status_code, response.json()) == (
            400,
            {"paused": ["A paused batch cannot be resumed."]},
        )
    moved = api.patch(path, json={"paused": True, "windowEnd": "2026-12-01T10:00:00Z"})
    assert moved.json()["windowEnd"] == "2026-12-01T10:00:00Z"
    emu.admin.advance(600)
    assert statuses(api, agent["agentId"], batch["batchId"]) == ["PENDING"]  # paused: no dial
    emu.admin.advance(2 * 3600)
    ended = api.get(path).json()
    assert ended["endedAt"] == "2026-12-01T10:00:00Z"
    assert statuses(api, agent["agentId"], batch["batchId"]) == ["EXPIRED"]
    response = api.patch(path, json={"windowEnd": "2026-12-02T10:00:00Z"})
    assert (response.status_code, response.json()) == (400, {"detail": "Batch has ended."})


def test_patch_batch_rules(api: httpx.Client) -> None:
    agent = create_agent(api)
    batch = create_batch(api, agent["agentId"], calls=[phone_call()] * 3)
    path = f"{batches_path(agent['agentId'])}/{batch['batchId']}"
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (
            {"windowEnd": "2026-12-01T08:00:02Z"},
            {"windowEnd": ["Window too short for 3 calls: at least 3s is needed."]},
        ),
        (
            {"webhookUrl": "https://example.com/hook"},
            {"webhookUrl": ["Not allowed when every call has an outgoing medium."]},
        ),
        (
            {"calls": [phone_call("+14155550999")]},
            {"calls": ["The calls of a batch cannot be changed after it is created."]},
        ),
        ({"paused": "yes"}, {"paused": ["Must be a valid boolean."]}),
    ]
    for body, errors in cases:
        response = api.patch(path, json=body)
        assert (response.status_code, response.json()) == (400, errors), body
    ok = api.patch(path, json={"windowEnd": "2026-12-01T08:00:03Z", "throttle": "slow"})
    assert ok.status_code == 200
    assert (ok.json()["windowEnd"], ok.json()["throttle"]) == ("2026-12-01T08:00:03Z", "slow")


def test_lifecycle_future_pending_success_error_and_created_calls(
    emu: RunningEmulator, api: httpx.Client
) -> None:
    agent = create_agent(api, systemPrompt="Hi {{name}}", voice="Mark")
    destinations = ["+14155550101", "+14155550199", "+14155550102", "+14155550103"]
    batch = create_batch(
        api,
        agent["agentId"],
        windowStart="2026-12-01T08:01:00Z",
        windowEnd="2026-12-01T09:00:00Z",
        calls=[
            phone_call(to, metadata={"row": str(i)}, templateContext={"name": f"N{i}"})
            for i, to in enumerate(destinations)
        ],
    )
    agent_id, batch_id = agent["agentId"], batch["batchId"]
    path = f"{batches_path(agent_id)}/{batch_id}"
    assert statuses(api, agent_id, batch_id) == ["FUTURE"] * 4
    emu.admin.advance(59)
    assert statuses(api, agent_id, batch_id) == ["FUTURE"] * 4
    assert emu.admin.advance(1) == "2026-12-01T08:01:00Z"
    assert statuses(api, agent_id, batch_id) == ["PENDING"] * 4
    emu.admin.advance(1)  # one call a second at 60 calls per minute
    assert statuses(api, agent_id, batch_id) == ["SUCCESS", "PENDING", "PENDING", "PENDING"]
    emu.admin.advance(1)
    scheduled = walk(api, path + "/scheduled_calls")
    assert scheduled[1]["status"] == "ERROR"
    assert scheduled[1]["error"] == "Destination unreachable."
    assert scheduled[1]["callId"] is None
    assert api.get(path).json()["endedAt"] is None
    emu.admin.advance(30)
    assert statuses(api, agent_id, batch_id) == ["SUCCESS", "ERROR", "SUCCESS", "SUCCESS"]
    done = api.get(path).json()
    assert (done["completedCount"], done["endedAt"]) == (4, "2026-12-01T08:01:04Z")

    created = walk(api, path + "/created_calls")
    scheduled = walk(api, path + "/scheduled_calls")
    assert [c["callId"] for c in created] == [s["callId"] for s in scheduled if s["callId"]]
    assert [c["metadata"] for c in created] == [{"row": "0"}, {"row": "2"}, {"row": "3"}]
    assert [c["created"] for c in created] == [
        "2026-12-01T08:01:01Z",
        "2026-12-01T08:01:03Z",
        "2026-12-01T08:01:04Z",
    ]
    first = created[0]
    assert first["medium"] == twilio("+14155550101")
    assert first["agent"] == {"agentId": agent_id, "name": "support"}
    assert first["systemPrompt"] == "Hi N0"
    assert first["voice"] == "Mark"
    assert first["joined"] == "2026-12-01T08:01:03Z"
    assert (first["ended"], first["endReason"]) == (None, None)  # still talking at 08:01:34
    emu.admin.advance(600)
    created = walk(api, path + "/created_calls")
    assert [c["endReason"] for c in created] == ["hangup", "agent_hangup", "unjoined"]
    assert created[0]["ended"] == "2026-12-01T08:01:48Z"
    assert created[2]["joined"] is None
    assert api.get(f"/api/agents/{agent_id}").json()["statistics"] == {"calls": 3}


def test_calls_not_dialled_by_window_end_expire() -> None:
    slow = EmulatorConfig(api_key=KEY, calls_per_minute=1, start_time=START)
    with (
        running_emulator(slow) as other,
        httpx.Client(base_url=other.base_url, headers={"X-API-Key": KEY}) as client,
    ):
        agent = create_agent(client)
        batch = create_batch(
            client,
            agent["agentId"],
            windowEnd="2026-12-01T08:03:00Z",  # room for 3 calls at 1 a minute
            calls=[phone_call()] * 3,
        )
        other.admin.advance(120)
        assert statuses(client, agent["agentId"], batch["batchId"]) == [
            "SUCCESS",
            "SUCCESS",
            "PENDING",
        ]
        other.admin.advance(3600)  # the last dial is due exactly at windowEnd: still made
        assert statuses(client, agent["agentId"], batch["batchId"]) == ["SUCCESS"] * 3

        late = create_batch(
            client,
            agent["agentId"],
            windowStart="2026-12-01T10:00:00Z",
            windowEnd="2026-12-01T10:05:00Z",
            calls=[phone_call()] * 5,
        )
        late_path = f"{batches_path(agent['agentId'])}/{late['batchId']}"
        other.admin.advance(3630)  # 10:02:30: two dialled, then paused for good
        client.patch(late_path, json={"paused": True})
        other.admin.advance(3600)
        assert statuses(client, agent["agentId"], late["batchId"]) == [
            "SUCCESS",
            "SUCCESS",
            "EXPIRED",
            "EXPIRED",
            "EXPIRED",
        ]
        ended = client.get(late_path).json()
        assert (ended["endedAt"], ended["completedCount"]) == ("2026-12-01T10:05:00Z", 2)


def test_deleting_a_batch_removes_it_but_not_its_created_calls(
    emu: RunningEmulator, api: httpx.Client
) -> None:
    agent = create_agent(api)
    batch = create_batch(api, agent["agentId"], calls=[phone_call()] * 3)
    emu.admin.advance(1)
    path = f"{batches_path(agent['agentId'])}/{batch['batchId']}"
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.get(path + "/scheduled_calls").status_code == 404
    state = emu.admin.state()
    assert state["batches"] == []
    assert len(state["calls"]) == 1


# --- faults, journal, clock, reset --------------------------------------------------------------


def test_429_burst_with_retry_after_then_success(emu: RunningEmulator, api: httpx.Client) -> None:
    emu.admin.set_faults([{"status": 429, "count": 2, "retry_after": "1", "method": "POST"}])
    for _ in range(2):
        response = api.post("/api/agents", json={"name": "support"})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.json() == {
            "detail": "Request was throttled. Expected available in 1 seconds."
        }
    assert api.get("/api/agents").json()["total"] == 0  # GETs do not match; nothing was created
    assert api.post("/api/agents", json={"name": "support"}).status_code == 201
    journal = emu.admin.requests()
    assert [(r["method"], r["status"]) for r in journal] == [
        ("POST", 429),
        ("POST", 429),
        ("GET", 200),
        ("POST", 201),
    ]


@pytest.mark.parametrize(
    ("rule", "status", "retry_after"),
    [
        ({"status": 503, "retry_after": "Wed, 01 Dec 2026 08:00:05 GMT"}, 503, True),
        ({"status": 500}, 500, False),
        ({"status": 502, "path_prefix": "/api/agents"}, 502, False),
    ],
)
def test_server_error_faults(
    emu: RunningEmulator, api: httpx.Client, rule: dict[str, Any], status: int, retry_after: bool
) -> None:
    emu.admin.set_faults(**rule)
    response = api.get("/api/agents")
    assert response.status_code == status
    assert set(response.json()) == {"detail"}
    assert ("Retry-After" in response.headers) is retry_after
    assert api.get("/api/agents").status_code == 200
    assert emu.admin.faults()[0]["count"] == 0


def test_accept_then_hang_stores_the_object_before_the_client_times_out(
    emu: RunningEmulator, bare: httpx.Client
) -> None:
    emu.admin.set_faults(
        [{"mode": "accept_then_hang", "seconds": 1, "method": "POST", "path_prefix": "/api/agents"}]
    )
    headers = {"X-API-Key": KEY}
    with pytest.raises(httpx.ReadTimeout):
        bare.post("/api/agents", json={"name": "support"}, headers=headers, timeout=0.2)
    listed = bare.get("/api/agents", headers=headers).json()
    assert [a["name"] for a in listed["results"]] == ["support"]
    assert [(r["method"], r["status"]) for r in emu.admin.requests()] == [
        ("POST", 201),
        ("GET", 200),
    ]


def test_journal_keeps_requests_in_order_without_the_key(
    emu: RunningEmulator, api: httpx.Client, bare: httpx.Client
) -> None:
    api.post("/api/agents", json={"name": "support"}, headers={"Idempotency-Key": "abc"})
    api.get("/api/agents", params={"pageSize": "2"})
    bare.get("/api/agents", headers={"X-API-Key": "wrong-key-456"})
    emu.admin.advance(1)  # admin calls are never journaled
    journal = emu.admin.requests()
    assert [(r["method"], r["path"], r["status"]) for r in journal] == [
        ("POST", "/api/agents", 201),
        ("GET", "/api/agents", 200),
        ("GET", "/api/agents", 403),
    ]
    assert journal[0]["body"] == {"name": "support"}
    assert journal[0]["headers"]["content-type"] == "application/json"
    assert journal[0]["headers"]["idempotency-key"] == "abc"
    assert journal[1]["query"] == {"pageSize": "2"}
    dumped = json.dumps(journal).lower()
    assert "x-api-key" not in dumped
    assert KEY.lower() not in dumped
    assert "wrong-key-456" not in dumped
    emu.admin.clear_requests()
    assert emu.admin.requests() == []


def test_clock_reset_and_admin_validation(
    emu: RunningEmulator, api: httpx.Client, bare: httpx.Client
) -> None:
    assert emu.admin.clock() == "2026-12-01T08:00:00Z"
    create_agent(api)
    emu.admin.set_faults(status=500, count=5)
    assert emu.admin.advance(90.5) == "2026-12-01T08:01:30.500000Z"
    emu.admin.reset()
    assert emu.admin.clock() == "2026-12-01T08:00:00Z"
    assert emu.admin.faults() == []
    assert api.get("/api/agents").json()["total"] == 0
    for method, path, body in [
        ("POST", "/_emulator/advance", {"seconds": -1}),
        ("POST", "/_emulator/advance", {}),
        ("PUT", "/_emulator/faults", [{"status": 404}]),
        ("PUT", "/_emulator/faults", [{"mode": "explode"}]),
    ]:
        assert bare.request(method, path, json=body).status_code == 400


# --- other configurations: state file, latency -------------------------------------------------


def test_state_file_round_trip(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    config = EmulatorConfig(api_key=KEY, start_time=START, state_file=str(state_file))
    with (
        running_emulator(config) as first,
        httpx.Client(base_url=first.base_url, headers={"X-API-Key": KEY}) as client,
    ):
        agent = create_agent(client, systemPrompt="{{x}}", sharedSecrets=["s"])
        batch = create_batch(client, agent["agentId"], calls=[phone_call()] * 2)
        first.admin.advance(1)
        before = (
            client.get(f"/api/agents/{agent['agentId']}").json(),
            walk(client, f"{batches_path(agent['agentId'])}/{batch['batchId']}/scheduled_calls"),
        )
    saved = json.loads(state_file.read_text())
    assert saved["now"] == "2026-12-01T08:00:01Z"
    assert [a["name"] for a in saved["agents"]] == ["support"]
    with (
        running_emulator(config) as second,
        httpx.Client(base_url=second.base_url, headers={"X-API-Key": KEY}) as client,
    ):
        assert second.admin.clock() == "2026-12-01T08:00:01Z"
        after = (
            client.get(f"/api/agents/{agent['agentId']}").json(),
            walk(client, f"{batches_path(agent['agentId'])}/{batch['batchId']}/scheduled_calls"),
        )
        assert after == before
        second.admin.advance(1)  # the lifecycle carries on from the loaded state
        assert statuses(client, agent["agentId"], batch["batchId"]) == ["SUCCESS", "SUCCESS"]


def test_latency_is_added_to_api_requests_only() -> None:
    with running_emulator(EmulatorConfig(api_key=KEY, latency=0.3)) as slow:
        began = time.monotonic()
        assert httpx.get(slow.base_url + "/api/agents", headers={"X-API-Key": KEY}).is_success
        assert time.monotonic() - began >= 0.3
        began = time.monotonic()
        slow.admin.clock()
        assert time.monotonic() - began < 0.3
