"""End to end for `reconciler export`: the command against the emulator, in process (the test
marked e2e runs the real executable against the emulator over loopback HTTP).

The promise under test: whatever shape the account is in, `export` then `plan` of what it
wrote is "No changes." Accounts are built two ways: by applying the example manifests with
the command, and by hand, as someone in the console would (seeded agents of odd shapes,
a batch scheduled without the tool).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.manifests.jsonschema import SCHEMA_FILE
from reconciler.providers.ultravox.manifests import AgentCallTemplate
from reconciler_emulator import EmulatorConfig
from tests.conftest import EXAMPLES, REPO, AnyEmulator, Cli, MakeEmulator

# Every request body sent here must fit the vendor schema (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("checked_requests")

SECRET = {"ACME_WEBHOOK_SECRET": "whsec-example-value"}
START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)


# The example campaigns open at 16:00Z on 2030-01-14: start the clock just before.
CONFIG = EmulatorConfig(api_key="test-key", max_page_size=2, start_time=START)


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(CONFIG)


def ok(result: Any) -> Any:
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    return result


def assert_empty_plan(cli: Cli, path: Path, *args: str, env: dict[str, str] | None = None) -> None:
    result = cli("plan", "--detailed-exitcode", *args, str(path), env=env)
    assert result.code == 0, result.output
    assert "No changes." in result.stdout


def apply_examples(cli: Cli, tmp_path: Path) -> Path:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    ok(cli("apply", "--auto-approve", str(manifests), env=SECRET))
    return manifests


def files_under(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def api(emulator: AnyEmulator) -> httpx.Client:
    return emulator.http(headers={"X-API-Key": emulator.api_key})


def test_export_of_the_applied_examples_plans_empty(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    apply_examples(cli, tmp_path)
    emulator.admin.clear_requests()
    result = ok(cli("export", "--out", "exported"))
    assert {r["method"] for r in emulator.admin.requests()} == {"GET"}
    assert "Exported 7 resources (Agent: 3, BatchCall: 1, ScheduledBatch: 3)" in result.stdout
    assert "Warning" not in result.stderr

    out = tmp_path / "exported"
    written = files_under(out)
    assert sorted(written) == [
        "agents/acme_renewals_outbound.yaml",
        "agents/acme_support.yaml",
        "agents/acme_web_chat.yaml",
        # The Threetone campaign, its numbers only in the recipients file beside it.
        "batchcalls/winback_2030_01.recipients.jsonl",
        "batchcalls/winback_2030_01.yaml",
        "campaigns/chat_followups_2030_01.yaml",
        "campaigns/renewals_2030_01.yaml",
        "campaigns/vip_callbacks_2030_01.yaml",
        "ownership.yaml",  # claims what was exported (issue 12)
        SCHEMA_FILE,
    ]
    for path, text in written.items():
        if path.endswith(".yaml") and path != "ownership.yaml":
            lines = text.splitlines()
            assert lines[0] == f"# yaml-language-server: $schema=../{SCHEMA_FILE}"
            assert (out / path).parent.joinpath(lines[0].split("=", 1)[1]).resolve().is_file()
            assert emulator.base_url in lines[1]
            assert emulator.api_key not in text
    support = written["agents/acme_support.yaml"]
    assert "  systemPrompt: |\n    You are Ava, the friendly support agent" in support
    assert "joinTimeout" not in support  # 30s is the default
    support_body = support.split("\nkind:", 1)[1]
    assert "  model:" not in support_body and "contextSchema" not in support_body
    assert "callTemplate.model, callTemplate.contextSchema" in support  # said in the header
    chat = written["campaigns/chat_followups_2030_01.yaml"]
    assert SECRET["ACME_WEBHOOK_SECRET"] not in chat
    assert "webhookSecret" in chat.split("kind:")[0]  # named in the header only
    assert "reconciler.recipient" not in chat and "reconciler.batch" not in chat
    renewals = yaml.safe_load(written["campaigns/renewals_2030_01.yaml"])
    assert renewals["agent"] == "acme_renewals_outbound"
    assert len(renewals["calls"]) == 40  # rebuilt from the scheduled calls of the CSV

    # The plan needs no secret: the server's webhook secret is accepted as it is.
    assert_empty_plan(cli, out)
    assert ok(cli("validate", str(out))).stdout.startswith("Valid: 7 resources")

    # Exporting again gives the same bytes, and refuses to overwrite without --force.
    refused = cli("export", "--out", "exported")
    assert refused.code == 1
    assert "already exist" in refused.stderr and "--force" in refused.stderr
    assert files_under(out) == written
    ok(cli("export", "--out", "exported", "--force"))
    assert files_under(out) == written


def test_export_joins_supplemental_parts_and_survives_calls_in_progress(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = apply_examples(cli, tmp_path)
    emulator.admin.advance(60)  # the supplemental batch is created a minute after the first
    vip = manifests / "campaigns" / "renewals.yaml"
    vip.write_text(
        vip.read_text().replace(
            "---\n# Web-chat",
            '  - medium: {twilio: {outgoing: {to: "+14155550125", from: "+14155550199"}}}\n'
            '    templateContext: {companyName: Acme Telecom, accountNumber: "AC-1003"}\n'
            '    metadata: {crmId: "1003"}\n---\n# Web-chat',
        )
    )
    applied = ok(cli("apply", "--auto-approve", str(manifests), env=SECRET))
    assert "supplemental" in applied.stdout
    emulator.admin.advance(2 * 3600)  # calls of the first window are made meanwhile

    ok(cli("export", "--out", "out"))
    exported = yaml.safe_load((tmp_path / "out/campaigns/vip_callbacks_2030_01.yaml").read_text())
    assert [c["medium"]["twilio"]["outgoing"]["to"] for c in exported["calls"]] == [
        "+14155550123",
        "+14155550124",
        "+14155550125",
    ]
    assert_empty_plan(cli, tmp_path / "out")


SEEDED: list[dict[str, Any]] = [
    {"name": "bare"},
    {"name": "null_template", "callTemplate": None},
    {
        "name": "odd_shapes",
        "callTemplate": {
            "name": "odd_shapes",
            "created": "2029-12-01T10:00:00Z",
            "updated": "2029-12-02T10:00:00Z",
            "model": "ultravox-v0.7",
            "contextSchema": {"type": "object", "properties": {}},
            "systemPrompt": "Prices use ${CURRENCY}; keep $${RAW}.\n  Indented line\nÚltima.\n",
            "joinTimeout": "30.000s",
            "maxDuration": "600.500s",
            "temperature": 0,
            "recordingEnabled": False,
            "languageHint": "",
            "initialOutputMedium": "MESSAGE_MEDIUM_UNSPECIFIED",
            "firstSpeakerSettings": {"user": {}},
            "vadSettings": {"turnEndpointDelay": "0.384s", "minimumTurnDuration": "0.100s"},
            "inactivityMessages": [{"duration": "8.000s", "message": "Still there?"}],
            "medium": {"webRtc": {}},
            "voice": "yes",
            "timeExceededMessage": "1.10",
        },
        "statistics": {"calls": 42},
    },
    {
        "name": "with_secret",
        "callTemplate": {
            "voice": "Mark",
            "selectedTools": [{"toolName": "crm", "authTokens": {"X-Api-Key": "sk-live-77"}}],
        },
    },
]


def test_a_hand_built_account_exports_and_plans_empty(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    for agent in SEEDED:
        emulator.admin.seed_agent(agent)
    with api(emulator) as client:
        made = client.post("/api/agents", json={"name": "console", "callTemplate": {"voice": "A"}})
        agent_id = made.json()["agentId"]
        # A batch scheduled in the console, without the tool's metadata: not the tool's.
        batch = client.post(
            f"/api/agents/{agent_id}/scheduled_batches",
            json={
                "windowStart": "2030-01-14T16:00:00Z",
                "windowEnd": "2030-01-14T20:00:00Z",
                "calls": [{"medium": {"twilio": {"outgoing": {"to": "+14155550100"}}}}],
            },
        )
        assert batch.status_code == 201, batch.text

    result = ok(cli("export", "--out", "acct"))
    assert "Exported 5 resources (Agent: 5)" in result.stdout
    variable = "WITH_SECRET_SELECTEDTOOLS_0_AUTHTOKENS_X_API_KEY"
    assert variable in result.stderr
    out = tmp_path / "acct"
    texts = files_under(out)
    assert not (out / "campaigns").exists()
    assert all("sk-live-77" not in text for text in texts.values())
    assert f"X-Api-Key: ${{{variable}}}" in texts["agents/with_secret.yaml"]
    odd = yaml.safe_load(texts["agents/odd_shapes.yaml"])
    assert odd["callTemplate"] == {
        "medium": {"webRtc": {}},
        "maxDuration": "600.5s",
        "vadSettings": {"minimumTurnDuration": "0.1s"},
        "firstSpeakerSettings": {"user": {}},
        "systemPrompt": "Prices use $${CURRENCY}; keep $$${RAW}.\n  Indented line\nÚltima.\n",
        "voice": "yes",
        "timeExceededMessage": "1.10",
        "inactivityMessages": [{"duration": "8s", "message": "Still there?"}],
    }
    schema_order = [f.alias or n for n, f in AgentCallTemplate.model_fields.items()]
    assert list(odd["callTemplate"]) == sorted(odd["callTemplate"], key=schema_order.index)
    assert_empty_plan(cli, out, env={variable: "sk-live-77"})


def test_what_cannot_be_reproduced_is_written_and_warned_about(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    # A field this version of the tool does not know (the API grew one, say).
    emulator.admin.seed_agent({"name": "future", "callTemplate": {"voice": "A", "newField": 1}})
    result = ok(cli("export"))
    assert "newField: 1" in (tmp_path / "exported" / "agents" / "future.yaml").read_text()
    assert "Warning: a plan of the exported files would fail" in result.stderr
    assert "callTemplate.newField: unknown field" in result.stderr


def test_schema_found_above_the_directory_is_pointed_at_not_copied(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    emulator.admin.seed_agent({"name": "one"})
    (tmp_path / SCHEMA_FILE).write_text((REPO / SCHEMA_FILE).read_text())
    ok(cli("export", "--out", "deep/inside"))
    out = tmp_path / "deep" / "inside"
    assert not (out / SCHEMA_FILE).exists()
    first = (out / "agents" / "one.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../../../{SCHEMA_FILE}"


def test_export_errors_are_clear(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    no_key = cli("export", env={"ULTRAVOX_API_KEY": ""})
    assert no_key.code == 1
    assert "ULTRAVOX_API_KEY" in no_key.stderr
    assert "Traceback" not in no_key.output
    assert not (tmp_path / "exported").exists()

    emulator.admin.seed_agent({"name": "a"})
    (tmp_path / "exported" / "agents").mkdir(parents=True)
    (tmp_path / "exported" / "agents" / "a.yaml").write_text("")  # empty: may be overwritten
    (tmp_path / "exported" / "agents" / "gone.yaml").write_text("kind: Agent\nname: gone\n")
    result = ok(cli("export"))
    assert "kind: Agent" in (tmp_path / "exported" / "agents" / "a.yaml").read_text()
    assert "gone.yaml is not from this export" in result.stderr


def test_help_texts(cli: Cli) -> None:
    for command in ("export", "schema"):
        shown = ok(cli(command, "--help"))
        assert "Usage: reconciler " + command in shown.stdout
    assert "--force" in cli("export", "--help").stdout
