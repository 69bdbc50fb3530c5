"""End to end for `BatchCall` on both presets (Threetone, ElevenLabs): the command (and, for a
lost answer, the engine with a short timeout) against the emulator's virtual clock, in process.

The emulator starts at 2030-01-14 15:00Z; the campaigns are scheduled for 16:00Z, so a test
moves time forward to see calls start. Every scenario ends with a plan that must be empty,
and no number is ever submitted twice.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.runtime import engine
from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeEmulator, Result
from tests.support.emulators import hooks_for

# Every request body sent here must fit the vendor schema (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("checked_requests")

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
OPENS = 3600  # seconds from START to the scheduled time
NUMBERS = [f"+1415555{2000 + i:04d}" for i in range(5)]


@dataclass(frozen=True)
class Preset:
    name: str
    prefix: str
    variable: str  # THREETONE or ELEVENLABS: the environment variables' prefix


PRESETS = [
    Preset("threetone", "/v1/voiceai/batch-calling", "THREETONE"),
    Preset("elevenlabs", "/v1/convai/batch-calling", "ELEVENLABS"),
]


@pytest.fixture(params=PRESETS, ids=[p.name for p in PRESETS])
def preset(request: pytest.FixtureRequest) -> Preset:
    chosen: Preset = request.param
    return chosen


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    # A page of two batches, so every listing follows `next_doc`; one call a second.
    config = EmulatorConfig(
        api_key="test-key", max_page_size=2, start_time=START, calls_per_minute=60
    )
    return make_emulator(config)


@pytest.fixture
def env(emulator: Any, preset: Preset) -> dict[str, str]:
    return {
        f"{preset.variable}_BASE_URL": emulator.base_url,
        f"{preset.variable}_API_KEY": emulator.api_key,
    }


def campaign(
    preset: Preset,
    numbers: list[str],
    *,
    extra: str = "",
    name: str = "spring",
    greeting: str = "Hello",
) -> str:
    recipients = "".join(
        f"""  - phone_number: "{n}"
    conversation_initiation_client_data:
      dynamic_variables: {{customer: "C{i}", greeting: "{greeting}"}}
"""
        for i, n in enumerate(numbers)
    )
    head = textwrap.dedent(f"""
        kind: BatchCall
        provider: {preset.name}
        name: {name}
        agentId: agent_abc
        scheduledTime: "2030-01-14T16:00:00Z"
        """).lstrip()
    return head + textwrap.dedent(extra) + "recipients:\n" + recipients


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "campaign.yaml").write_text(text)
    return directory


def writes(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.requests() if r["method"] != "GET"]


def batches(emulator: Any, preset: Preset) -> list[dict[str, Any]]:
    return [b for b in emulator.admin.state()["batch_calls"] if b["vendor"] == preset.name]


def submitted(emulator: Any) -> Counter[str]:
    """How often each number was submitted, across every batch of both workspaces."""
    return Counter(
        r["phone_number"] for b in emulator.admin.state()["batch_calls"] for r in b["recipients"]
    )


def plan(cli: Cli, env: dict[str, str], path: Path, *args: str) -> Result:
    result = cli("plan", *args, str(path), env=env)
    assert result.code in (0, 2), result.output
    return result


def apply(cli: Cli, env: dict[str, str], path: Path) -> str:
    result = cli("apply", "--auto-approve", str(path), env=env)
    assert result.code == 0, result.output
    return result.stdout


def assert_empty_plan(cli: Cli, env: dict[str, str], path: Path) -> None:
    result = cli("plan", "--detailed-exitcode", str(path), env=env)
    assert result.code == 0, result.output
    assert "No changes." in result.stdout


def test_submit_then_replan_is_empty_even_from_a_fresh_checkout(
    cli: Cli, emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    manifests = write(tmp_path / "a", campaign(preset, NUMBERS))
    shown = plan(cli, env, manifests)
    assert "+ BatchCall/spring will be created" in shown.stdout
    assert "5 recipients: +1415***2000" in shown.stdout
    assert "scheduled for 2030-01-14T16:00:00Z" in shown.stdout
    assert f"POST {preset.prefix}/submit" in shown.stdout
    assert not any(number in shown.output for number in NUMBERS)
    for fmt in ("markdown", "json"):
        output = cli("plan", "--format", fmt, str(manifests), env=env).output
        assert "+1415***2000" in output
        assert not any(number in output for number in NUMBERS), fmt
    apply(cli, env, manifests)
    posted = writes(emulator)
    assert [(r["method"], r["path"]) for r in posted] == [("POST", f"{preset.prefix}/submit")]
    body = posted[0]["body"]
    assert body["call_name"] == "spring"
    assert body["scheduled_time_unix"] == int(START.timestamp()) + OPENS
    assert all(r["id"].startswith("r-") for r in body["recipients"])  # hashed, never the number
    assert submitted(emulator) == dict.fromkeys(NUMBERS, 1)

    # CI keeps no state: a fresh checkout recognises the batch from the workspace alone.
    fresh = tmp_path / "fresh-checkout"
    shutil.copytree(manifests, fresh)
    emulator.admin.clear_requests()
    assert_empty_plan(cli, env, fresh)
    assert {r["method"] for r in emulator.admin.requests()} == {"GET"}


def test_a_change_while_pending_is_a_replace(
    cli: Cli, emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    apply(cli, env, manifests)
    (manifests / "campaign.yaml").write_text(campaign(preset, NUMBERS[:4], greeting="Hi"))
    emulator.admin.clear_requests()
    shown = apply(cli, env, manifests)  # apply prints the plan it runs
    assert "-/+ BatchCall/spring will be replaced" in shown
    assert "recipients: 0 added, 1 removed, 4 changed" in shown
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 to replace." in shown
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in writes(emulator)] == [
        ("POST", "cancel"),
        ("POST", "submit"),
    ]
    assert [b["status"] for b in batches(emulator, preset)] == ["cancelled", "pending"]
    assert_empty_plan(cli, env, manifests)


def test_recipients_added_after_start_go_to_a_supplemental_batch(
    cli: Cli, emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    apply(cli, env, manifests)
    emulator.admin.advance(OPENS + 2)  # three calls dialled, two waiting
    more = [*NUMBERS, "+14155553000", "+14155553001"]
    (manifests / "campaign.yaml").write_text(campaign(preset, more))
    emulator.admin.clear_requests()
    shown = apply(cli, env, manifests)
    assert "~ BatchCall/spring will be updated in place" in shown
    assert "2 recipients added after calls started, submitted as 'spring~2'" in shown
    posted = writes(emulator)
    assert len(posted) == 1
    assert posted[0]["body"]["call_name"] == "spring~2"
    # The campaign runs: the new part starts once the hold (60 s) is over (issue 10).
    opened = int(START.timestamp()) + OPENS + 2
    assert opened + 60 < posted[0]["body"]["scheduled_time_unix"] <= opened + 62
    assert [r["phone_number"] for r in posted[0]["body"]["recipients"]] == more[5:]
    assert submitted(emulator) == dict.fromkeys(more, 1)
    assert_empty_plan(cli, env, manifests)

    # Anything else after the start is refused, every reason at once, with nothing sent.
    emulator.admin.clear_requests()
    edited = campaign(preset, [*more[:3], *more[4:]], greeting="Hi")
    (manifests / "campaign.yaml").write_text(edited.replace("16:00:00Z", "17:00:00Z"))
    refused = cli("apply", "--auto-approve", str(manifests), env=env)
    assert refused.code == 1, refused.output
    for message in (
        "1 recipient was removed from the manifest after calls started (+1415***2003)",
        "6 recipients changed after calls started",
        "scheduledTime cannot change",
    ):
        assert message in refused.stderr
    assert "Traceback" not in refused.output
    assert writes(emulator) == []
    (manifests / "campaign.yaml").write_text(campaign(preset, more))
    assert_empty_plan(cli, env, manifests)


def test_cancel_is_one_post_and_one_way(
    cli: Cli, emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    apply(cli, env, manifests)
    emulator.admin.advance(OPENS + 1)
    (manifests / "campaign.yaml").write_text(campaign(preset, NUMBERS, extra="cancelled: true\n"))
    emulator.admin.clear_requests()
    shown = apply(cli, env, manifests)
    assert "cancelled: false -> true" in shown
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in writes(emulator)] == [
        ("POST", "cancel")
    ]
    (only,) = batches(emulator, preset)
    assert only["status"] == "cancelled"
    # The vendor cancels every recipient; the counters keep the two already dialled.
    assert Counter(r["status"] for r in only["recipients"])["cancelled"] == 5
    assert sum(r["dispatched"] for r in only["recipients"]) == 2

    (manifests / "campaign.yaml").write_text(campaign(preset, NUMBERS))
    refused = cli("plan", str(manifests), env=env)
    assert refused.code == 1
    assert "cancelled batch cannot be resumed" in refused.stderr
    (manifests / "campaign.yaml").write_text(campaign(preset, NUMBERS, extra="cancelled: true\n"))
    assert_empty_plan(cli, env, manifests)


def test_retries_until_the_retry_count_is_reached_and_status_counts(
    cli: Cli, emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    numbers = [*NUMBERS[:3], "+14155550199", "+14155550198"]  # 99 fails, 98 gets voicemail
    manifests = write(tmp_path, campaign(preset, numbers, extra="retries: 1\n"))
    apply(cli, env, manifests)
    emulator.admin.advance(OPENS + 30)
    assert [b["status"] for b in batches(emulator, preset)] == ["completed"]

    report = json.loads(cli("status", "--format", "json", str(manifests), env=env).stdout)
    counts = report["campaigns"][0]["statuses"]
    assert counts["completed"] == 3 and counts["failed"] == 1 and counts["voicemail"] == 1
    assert set(counts) == {
        "pending",
        "dispatched",
        "initiated",
        "in_progress",
        "completed",
        "failed",
        "cancelled",
        "voicemail",
    }
    assert report["campaigns"][0]["state"] == "ended"
    assert "+1415***0199" in json.dumps(report)
    assert not any(number in json.dumps(report) for number in numbers)

    emulator.admin.clear_requests()
    shown = apply(cli, env, manifests)
    assert "2 failed or voicemail calls; retry 1 of 1" in shown
    assert [r["path"].rsplit("/", 1)[-1] for r in writes(emulator)] == ["retry"]
    assert_empty_plan(cli, env, manifests)  # running again
    emulator.admin.advance(30)
    (only,) = batches(emulator, preset)
    assert (only["status"], only["retry_count"]) == ("completed", 1)
    assert_empty_plan(cli, env, manifests)  # retry_count reached: done
    assert submitted(emulator) == dict.fromkeys(numbers, 1)


def test_a_submit_whose_answer_was_lost_is_not_repeated(
    emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    # The server takes the batch, then answers after the client gave up.
    emulator.admin.set_faults(
        mode="accept_then_hang",
        count=1,
        seconds=1.5,
        method="POST",
        path_prefix=f"{preset.prefix}/submit",
    )

    async def plan_and_apply() -> tuple[bool, list[str]]:
        desired = engine.Workspace.open([str(manifests)], env, None).desired()
        async with engine.Session(env, timeout=0.5, hooks=hooks_for(emulator)) as session:
            made = await engine.make_plan(session, desired, engine.plan_options(False))
            if made.is_empty:
                return True, []
            report = await engine.run_apply(
                session, made, check_stale=False, concurrency=4, on_result=lambda _: None
            )
            return False, [str(r.error) for r in report.failed] + [
                n for r in report.results for n in r.notes
            ]

    empty, said = asyncio.run(plan_and_apply())
    assert not empty
    # Not repeated, and not reported as failed either: apply lists the workspace again and
    # sees that the submit took effect (issue 10).
    assert said == ["the answer to the submit was lost, but the batch is there"], said
    assert len(batches(emulator, preset)) == 1  # the server did take it

    # The next run lists the workspace again, sees the batch and submits nothing.
    empty, errors = asyncio.run(plan_and_apply())
    assert empty and not errors
    submits = [r for r in emulator.admin.requests() if r["path"].endswith("/submit")]
    assert len(submits) == 1
    assert submitted(emulator) == dict.fromkeys(NUMBERS, 1)


ULTRAVOX = """
kind: Agent
name: caller
callTemplate:
  systemPrompt: You call {{customerName}} about their renewal.
---
kind: ScheduledBatch
name: renewals
agent: caller
windowStart: "2030-01-14T16:00:00Z"
windowEnd: "2030-01-14T20:00:00Z"
calls:
  - medium: {twilio: {outgoing: {to: "+14155554000", from: "+14155550199"}}}
    templateContext: {customerName: Ada}
"""


def test_one_plan_covers_ultravox_and_batch_calling(
    cli: Cli, emulator: Any, env: dict[str, str], preset: Preset, tmp_path: Path
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    (manifests / "ultravox.yaml").write_text(ULTRAVOX.lstrip())
    shown = plan(cli, env, manifests)
    for line in (
        "+ Agent/caller will be created",
        "+ ScheduledBatch/renewals will be created",
        "+ BatchCall/spring will be created",
        "Plan: 3 to create, 0 to update, 0 to delete.",
    ):
        assert line in shown.stdout
    apply(cli, env, manifests)
    paths = [r["path"] for r in writes(emulator)]
    assert "/api/agents" in paths and f"{preset.prefix}/submit" in paths
    state = emulator.admin.state()
    assert len(state["agents"]) == 1 and len(state["batches"]) == 1
    assert len(state["batch_calls"]) == 1
    assert_empty_plan(cli, env, manifests)


def test_a_saved_plan_applies_once_then_is_stale(
    cli: Cli,
    emulator: Any,
    env: dict[str, str],
    preset: Preset,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    saved = tmp_path / "plan.json"
    assert cli("plan", "--out", str(saved), str(manifests), env=env).code == 0
    assert all(number in saved.read_text() for number in NUMBERS)  # apply sends exactly it
    first = cli("apply", "--plan", str(saved), env=env)
    assert first.code == 0, first.output
    again = cli("apply", "--plan", str(saved), env=env)
    assert again.code == 1
    assert "BatchCall/spring now exists" in again.stderr
    assert submitted(emulator) == dict.fromkeys(NUMBERS, 1)
    assert_empty_plan(cli, env, manifests)


def test_an_environment_moves_a_preset_to_another_prefix_header_and_key(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    threetone = PRESETS[0]
    # With --env, a campaign runs only in the environments it names (issue 10).
    manifests = write(tmp_path, "environments: [dev]\n" + campaign(threetone, NUMBERS))
    (manifests / "environments").mkdir()
    (manifests / "environments" / "dev.yaml").write_text(
        textwrap.dedent("""
            providers:
              threetone:
                pathPrefix: /v1/convai/batch-calling
                apiKeyHeader: xi-api-key
                apiKeyEnv: DEV_BATCH_KEY
            """).lstrip()
    )
    env = {"THREETONE_BASE_URL": emulator.base_url, "DEV_BATCH_KEY": emulator.api_key}
    applied = cli("apply", "--auto-approve", "--env", "dev", str(manifests), env=env)
    assert applied.code == 0, applied.output
    assert [r["path"] for r in writes(emulator)] == ["/v1/convai/batch-calling/submit"]
    assert [b["vendor"] for b in emulator.admin.state()["batch_calls"]] == ["elevenlabs"]
    result = cli("plan", "--detailed-exitcode", "--env", "dev", str(manifests), env=env)
    assert result.code == 0, result.output
