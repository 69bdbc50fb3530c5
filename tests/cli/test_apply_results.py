"""Issue 12, item 4: apply's result lines name the ids, references resolved; `--format json`
gives the same as JSON lines; `apply --plan` says where it acts first too."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeEmulator

pytestmark = pytest.mark.usefixtures("checked_requests")

AGENT = """
    kind: Agent
    name: acme_outbound
    callTemplate:
      systemPrompt: You call {{customerName}} about their renewal.
      voice: Mark
"""
BATCH = """
    kind: ScheduledBatch
    name: renewals
    agent: acme_outbound
    windowStart: "2030-01-14T16:00:00Z"
    windowEnd: "2030-01-14T20:00:00Z"
    calls:
      - medium: {twilio: {outgoing: {to: "+14155550123", from: "+14155550199"}}}
        templateContext: {customerName: Ada}
"""


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    start = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
    return make_emulator(EmulatorConfig(api_key="test-key", start_time=start))


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def ok(result: Any) -> Any:
    assert result.code == 0, result.output
    return result


def live_ids(emulator: Any) -> tuple[str, str]:
    state = emulator.admin.state()
    agents = state["agents"]
    (agent,) = agents.values() if isinstance(agents, dict) else agents
    (batch,) = state["batches"]
    return str(agent["agentId"]), str(batch["batchId"])


def test_result_lines_name_the_ids_with_references_resolved(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "agent.yaml", AGENT)
    write(manifests, "batch.yaml", BATCH)
    applied = ok(cli("apply", "--auto-approve", str(manifests))).stdout
    agent_id, batch_id = live_ids(emulator)
    assert f"ok  create  Agent/acme_outbound  id {agent_id}  (POST /api/agents)\n" in applied
    assert (
        f"ok  create  ScheduledBatch/renewals  id {batch_id}  "
        f"(POST /api/agents/{agent_id}/scheduled_batches)\n"
    ) in applied
    # The plan above them still shows the reference; the result lines never do.
    results = applied.split("Plan: 2 to create", 1)[1]
    assert "{ref:" not in results

    write(manifests, "agent.yaml", AGENT.replace("voice: Mark", "voice: Jessica"))
    updated = ok(cli("apply", "--auto-approve", str(manifests))).stdout
    assert f"ok  update  Agent/acme_outbound  id {agent_id}  (PATCH /api/agents/{agent_id})" in (
        updated
    )
    write(
        manifests,
        "agent.yaml",
        AGENT.replace(
            "name: acme_outbound", "name: acme_renewals\n    previousNames: [acme_outbound]"
        ),
    )
    write(manifests, "batch.yaml", BATCH.replace("agent: acme_outbound", "agent: acme_renewals"))
    renamed = ok(cli("apply", "--auto-approve", str(manifests))).stdout
    assert (
        f"ok  update  Agent/acme_renewals (renamed from acme_outbound)  id {agent_id}  "
        f"(PATCH /api/agents/{agent_id})"
    ) in renamed


def test_json_lines_say_the_same(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "agent.yaml", AGENT)
    write(manifests, "batch.yaml", BATCH)
    applied = ok(cli("apply", "--auto-approve", "--format", "json", str(manifests)))
    events = [json.loads(line) for line in applied.stdout.splitlines()]
    agent_id, batch_id = live_ids(emulator)
    assert [e["event"] for e in events] == ["plan", "result", "result", "complete"]
    plan = events[0]
    # Where it acts comes first in the plan, as in `plan --format json`.
    assert list(plan)[:5] == ["event", "format_version", "tool", "environment", "endpoints"]
    assert plan["environment"] is None
    assert plan["endpoints"]["ultravox"]["baseUrl"] == emulator.base_url
    assert "+14155550123" not in applied.stdout  # masked, as in every plan shown
    assert events[1] == {
        "event": "result",
        "status": "ok",
        "action": "create",
        "kind": "Agent",
        "name": "acme_outbound",
        "id": agent_id,
        "renamed_from": None,
        "requests": ["POST /api/agents"],
        "error": None,
        "notes": [],
    }
    assert events[2]["kind"] == "ScheduledBatch"
    assert events[2]["id"] == batch_id
    assert events[2]["requests"] == [f"POST /api/agents/{agent_id}/scheduled_batches"]
    assert events[3]["event"] == "complete"
    assert events[3]["ok"] == 2 and events[3]["not_attempted"] == []
    nothing = ok(cli("apply", "--auto-approve", "--format", "json", str(manifests)))
    (only,) = [json.loads(line) for line in nothing.stdout.splitlines()]
    assert only["event"] == "plan" and only["changes"] == []


def test_a_saved_plan_says_where_before_it_applies(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "agent.yaml", AGENT)
    saved = str(tmp_path / "plan.json")
    ok(cli("plan", "--out", saved, str(manifests)))
    applied = ok(cli("apply", "--plan", saved)).stdout.splitlines()
    assert applied[:4] == [
        "No environment",
        f"  ultravox: {emulator.base_url} (key from $ULTRAVOX_API_KEY)",
        "",
        "Plan: 1 to create, 0 to update, 0 to delete.",
    ]
    assert any(line.startswith("ok  create  Agent/acme_outbound  id ") for line in applied)


BATCH_CALL = """
    kind: BatchCall
    provider: threetone
    name: winback
    agentId: agent_acme_winback
    scheduledTime: "2030-01-20T15:00:00Z"
    recipients:
      - id: crm-5001
        phone_number: "+14155553001"
"""


def test_a_batch_call_names_the_id_the_vendor_gave_it(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "winback.yaml", BATCH_CALL)
    applied = ok(cli("apply", "--auto-approve", "--format", "json", str(manifests)))
    (result,) = [e for e in map(json.loads, applied.stdout.splitlines()) if e["event"] == "result"]
    assert result["kind"] == "BatchCall" and result["status"] == "ok"
    listed = emulator.http(headers={"x-api-key": emulator.api_key}).get(
        "/v1/voiceai/batch-calling/workspace"
    )
    (batch,) = listed.json()["batch_calls"]
    assert result["id"] == batch["id"]
    assert result["requests"] == ["POST /v1/voiceai/batch-calling/submit"]
