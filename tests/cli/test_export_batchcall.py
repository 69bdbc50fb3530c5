"""`reconciler export` writes BatchCall manifests, for both presets: the manifest with the
batch's own fields, its recipients in a JSONL file beside it (the only place a phone number
is written in full), and a plan of what it wrote is "No changes." A BatchCall a manifest
cannot reproduce is skipped, and the export says why, per resource.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler_apis import elevenlabs as elevenlabs_api
from reconciler_emulator import EmulatorConfig
from reconciler_emulator.batchcalling import batch_calls
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

pytestmark = pytest.mark.usefixtures("checked_requests")

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
NUMBERS = ["+14155555000", "+14155555001", "+14155555002"]

CAMPAIGNS = {
    "threetone": """
        kind: BatchCall
        provider: threetone
        name: spring
        agentId: agent_abc
        scheduledTime: "2030-01-14T16:00:00Z"
        agentPhoneNumberId: phnum_1
        whatsappParams:
          whatsapp_call_permission_request_template_name: consent
          whatsapp_call_permission_request_template_language_code: en
        recipients:
          - phone_number: "+14155555000"
          - id: cust-2
            phone_number: "+14155555001"
            conversation_initiation_client_data:
              dynamic_variables: {name: Ada, visits: 3}
              source_info: {version: "1.2"}
          - whatsapp_user_id: "4915123456789"
        """,
    "elevenlabs": """
        kind: BatchCall
        provider: elevenlabs
        name: autumn
        agentId: agent_xyz
        scheduledTime: "2030-01-14T16:00:00Z"
        timezone: Europe/Berlin
        targetConcurrencyLimit: 2
        telephonyCallConfig:
          ringing_timeout_secs: 25
          twilio_machine_detection: {actions: [{answered_by: [fax]}]}
        retries: 0
        recipients:
          - phone_number: "+14155555002"
            conversation_initiation_client_data:
              conversation_config_override: {agent: {first_message: "Hi!", language: en}}
        """,
}


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(
        api_key="test-key", max_page_size=2, start_time=START, calls_per_minute=60
    )
    return make_emulator(config)


@pytest.fixture
def cli(make_cli: MakeCli, emulator: AnyEmulator) -> Cli:
    env = {}
    for variable in ("ULTRAVOX", "THREETONE", "ELEVENLABS"):
        env[f"{variable}_BASE_URL"] = emulator.base_url
        env[f"{variable}_API_KEY"] = emulator.api_key
    return make_cli(env, emulator)


def ok(result: Any) -> Any:
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    return result


def applied(cli: Cli, tmp_path: Path) -> Path:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for name, text in CAMPAIGNS.items():
        (manifests / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip())
    ok(cli("apply", "--auto-approve", str(manifests)))
    return manifests


def test_export_writes_batchcall_manifests_and_their_recipients_files(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    applied(cli, tmp_path)
    emulator.admin.advance(3600 + 30)  # the campaigns ran: exported as they are now
    out = tmp_path / "exported"
    result = ok(cli("export", "--out", str(out)))
    assert "does not reproduce" not in result.output and "not exported" not in result.output
    spring = yaml.safe_load((out / "batchcalls" / "spring.yaml").read_text())
    assert spring == {
        "kind": "BatchCall",
        "provider": "threetone",
        "name": "spring",
        "agentId": "agent_abc",
        "recipientsFrom": "spring.recipients.jsonl",
        "scheduledTime": "2030-01-14T16:00:00Z",
        "agentPhoneNumberId": "phnum_1",
        "whatsappParams": {
            "whatsapp_call_permission_request_template_name": "consent",
            "whatsapp_call_permission_request_template_language_code": "en",
        },
    }
    lines = (out / "batchcalls" / "spring.recipients.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"phone_number": "+14155555000"},
        {
            "id": "cust-2",
            "phone_number": "+14155555001",
            # What the server filled in (source: unknown, nulls) is left out.
            "conversation_initiation_client_data": {
                "dynamic_variables": {"name": "Ada", "visits": 3},
                "source_info": {"version": "1.2"},
            },
        },
        {"whatsapp_user_id": "4915123456789"},
    ]
    autumn = yaml.safe_load((out / "batchcalls" / "autumn.yaml").read_text())
    assert autumn["timezone"] == "Europe/Berlin" and autumn["targetConcurrencyLimit"] == 2
    assert autumn["telephonyCallConfig"] == {
        "ringing_timeout_secs": 25,
        "twilio_machine_detection": {"actions": [{"answered_by": ["fax"]}]},
    }
    # Numbers in full only in the recipients files: not in a manifest, nor in the output.
    manifests_text = "".join(p.read_text() for p in (out / "batchcalls").glob("*.yaml"))
    for number in (*NUMBERS, "4915123456789"):
        assert number.lstrip("+") not in manifests_text
        assert number.lstrip("+") not in result.output
    plan = cli("plan", "--detailed-exitcode", str(out))
    assert plan.code == 0, plan.output
    assert "No changes." in plan.stdout


def test_a_retried_or_cancelled_campaign_exports_as_it_is(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "c.yaml").write_text(
        textwrap.dedent("""
            kind: BatchCall
            provider: threetone
            name: retried
            agentId: agent_abc
            retries: 1
            recipients:
              - phone_number: "+14155555099"
            ---
            kind: BatchCall
            provider: threetone
            name: stopped
            agentId: agent_abc
            scheduledTime: "2030-01-14T16:00:00Z"
            recipients:
              - phone_number: "+14155555010"
              - phone_number: "+14155555011"
            """).lstrip()
    )
    ok(cli("apply", "--auto-approve", str(manifests)))
    emulator.admin.advance(30)  # the number ending in 99 failed: the next apply retries it
    ok(cli("apply", "--auto-approve", str(manifests)))
    emulator.admin.advance(3600 - 30 + 1)  # `stopped` dialled its first number: then cancel
    text = (manifests / "c.yaml").read_text()
    (manifests / "c.yaml").write_text(
        text.replace("name: stopped\n", "name: stopped\ncancelled: true\n")
    )
    ok(cli("apply", "--auto-approve", str(manifests)))
    out = tmp_path / "exported"
    result = ok(cli("export", "--out", str(out)))
    assert "does not reproduce" not in result.output
    assert yaml.safe_load((out / "batchcalls" / "retried.yaml").read_text())["retries"] == 1
    assert yaml.safe_load((out / "batchcalls" / "stopped.yaml").read_text())["cancelled"] is True
    plan = cli("plan", "--detailed-exitcode", str(out))
    assert plan.code == 0, plan.output


def seed(emulator: Any, api: Any, body: dict[str, Any]) -> None:
    store = emulator.store
    with store.lock:
        batch_calls(store).submit(api, body, store.now, store.interval)


def test_a_batchcall_no_manifest_can_reproduce_is_skipped_with_the_reason(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    # Made in the console: client data a manifest cannot write, and two batches of one name.
    seed(
        emulator,
        elevenlabs_api.API,
        {
            "call_name": "workflow",
            "agent_id": "agent_1",
            "recipients": [
                {
                    "phone_number": "+14155555020",
                    "conversation_initiation_client_data": {"starting_workflow_node_id": "n1"},
                }
            ],
        },
    )
    for _ in range(2):
        seed(
            emulator,
            elevenlabs_api.API,
            {
                "call_name": "twice",
                "agent_id": "agent_1",
                "scheduled_time_unix": int(START.timestamp()) + 600,
                "recipients": [{"phone_number": "+14155555021"}],
            },
        )
    out = tmp_path / "exported"
    result = ok(cli("export", "--out", str(out)))
    assert (
        "BatchCall/workflow (id btcal_" in result.output
        and "was not exported: recipient +1415***5020: "
        "conversation_initiation_client_data.starting_workflow_node_id: Extra inputs are not "
        "permitted (the live batch has what a manifest cannot write)"
        in result.output
    )
    assert "BatchCall/twice" in result.output and "all claim to be 'twice'" in result.output
    assert not (out / "batchcalls").exists()
    assert "4155555020" not in result.output
