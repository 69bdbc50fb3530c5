"""End to end for campaigns: the command, the emulator's virtual clock, nobody dialled twice.

The emulator starts at 2030-01-14 15:00Z; the batches' window opens at 16:00Z, so the tests can
move time forward and watch calls happen.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import textwrap
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeEmulator

pytestmark = pytest.mark.usefixtures("checked_requests")

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)

AGENT = """
kind: Agent
name: caller
callTemplate:
  systemPrompt: You call {{customerName}} about their renewal.
  voice: Mark
"""


def batch(numbers: list[str], *, extra: str = "", name: str = "renewals") -> str:
    calls = "".join(
        f"""  - medium: {{twilio: {{outgoing: {{to: "{n}", from: "+14155550199"}}}}}}
    templateContext: {{customerName: "C{i}"}}
    metadata: {{crmId: "{i}"}}
"""
        for i, n in enumerate(numbers)
    )
    return (
        textwrap.dedent(f"""
        kind: ScheduledBatch
        name: {name}
        agent: caller
        windowStart: "2030-01-14T16:00:00Z"
        windowEnd: "2030-01-14T20:00:00Z"
        """).lstrip()
        + textwrap.dedent(extra)
        + "calls:\n"
        + calls
    )


NUMBERS = [f"+1415555{1000 + i:04d}" for i in range(6)]


# One call a minute, so a few minutes of virtual time leave most calls still waiting.
CONFIG = EmulatorConfig(api_key="test-key", max_page_size=500, start_time=START, calls_per_minute=1)


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(CONFIG)


def write_manifests(directory: Path, batch_text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "agent.yaml").write_text(textwrap.dedent(AGENT).lstrip())
    (directory / "batch.yaml").write_text(batch_text)
    return directory


def writes(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.requests() if r["method"] != "GET"]


def scheduled_numbers(emulator: Any) -> Counter[str]:
    """How often each number is scheduled across every batch of the account."""
    counts: Counter[str] = Counter()
    for item in emulator.admin.state()["batches"]:
        for call in item["calls"]:
            counts[call["medium"]["twilio"]["outgoing"]["to"]] += 1
    return counts


def statuses(emulator: Any) -> Counter[str]:
    return Counter(c["status"] for b in emulator.admin.state()["batches"] for c in b["calls"])


def assert_empty_plan(cli: Cli, path: Path) -> None:
    result = cli("plan", "--detailed-exitcode", str(path))
    assert result.code == 0, result.output
    assert "No changes." in result.stdout


def apply(cli: Cli, path: Path) -> str:
    result = cli("apply", "--auto-approve", str(path))
    assert result.code == 0, result.output
    return result.stdout


def test_create_then_replan_from_a_fresh_directory_is_empty(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path / "a", batch(NUMBERS))
    plan = cli("plan", str(manifests))
    assert "+ ScheduledBatch/renewals will be created" in plan.stdout
    assert "6 recipients: +1415***1000" in plan.stdout
    for number in NUMBERS:
        assert number not in plan.output  # masked, never shown whole
    for fmt in ("markdown", "json"):
        shown = cli("plan", "--format", fmt, str(manifests))
        assert "+1415***1000" in shown.stdout
        assert not any(number in shown.output for number in NUMBERS), fmt
    saved = tmp_path / "plan.json"
    assert cli("plan", "--out", str(saved), str(manifests)).code == 0
    # The saved plan is what apply sends, exactly, so it holds the numbers (a CI artifact).
    assert all(number in saved.read_text() for number in NUMBERS)
    apply(cli, manifests)
    assert scheduled_numbers(emulator) == {n: 1 for n in NUMBERS}
    sent = [r for r in writes(emulator) if "scheduled_batches" in r["path"]]
    assert len(sent) == 1
    assert all("reconciler.recipient" in c["metadata"] for c in sent[0]["body"]["calls"])

    # CI keeps no state: a fresh checkout recognises the batch from the account alone.
    fresh = tmp_path / "fresh-checkout"
    shutil.copytree(manifests, fresh)
    assert_empty_plan(cli, fresh)


def test_one_window_change_is_one_patch_with_only_that_key(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "batch.yaml").write_text(
        batch(NUMBERS).replace("2030-01-14T20:00:00Z", "2030-01-14T21:30:00+00:00")
    )
    emulator.admin.clear_requests()
    plan = cli("plan", str(manifests))
    assert 'windowEnd: "2030-01-14T20:00:00Z" -> "2030-01-14T21:30:00Z"' in plan.stdout
    apply(cli, manifests)
    sent = writes(emulator)
    assert [(r["method"], r["body"]) for r in sent] == [
        ("PATCH", {"windowEnd": "2030-01-14T21:30:00Z"})
    ]
    assert_empty_plan(cli, manifests)


def test_same_instant_in_another_zone_is_no_change(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "batch.yaml").write_text(
        batch(NUMBERS).replace('"2030-01-14T16:00:00Z"', '"2030-01-14T17:00:00+01:00"')
    )
    assert_empty_plan(cli, manifests)


def test_pause_then_unpause_is_refused(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS, extra="paused: true\n"))
    apply(cli, manifests)
    assert_empty_plan(cli, manifests)
    (manifests / "batch.yaml").write_text(batch(NUMBERS, extra="paused: false\n"))
    emulator.admin.clear_requests()
    refused = cli("plan", str(manifests))
    assert refused.code == 1
    assert "one-way" in refused.stderr
    assert "new ScheduledBatch" in refused.stderr
    assert cli("apply", "--auto-approve", str(manifests)).code == 1
    assert writes(emulator) == []


def test_pausing_a_running_batch_is_one_patch(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "batch.yaml").write_text(batch(NUMBERS, extra="paused: true\n"))
    emulator.admin.clear_requests()
    apply(cli, manifests)
    assert [r["body"] for r in writes(emulator)] == [{"paused": True}]
    assert_empty_plan(cli, manifests)


def test_recipients_added_after_calls_were_made_reach_only_the_new_ones(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    emulator.admin.advance(3600 + 150)  # window open for 2.5 minutes: two calls made
    made = statuses(emulator)
    assert made["SUCCESS"] + made["ERROR"] == 2, made

    more = [*NUMBERS, "+14155552000", "+14155552001"]
    (manifests / "batch.yaml").write_text(batch(more))
    emulator.admin.clear_requests()
    plan = cli("plan", str(manifests))
    assert "2 recipients added, scheduled in a supplemental batch" in plan.stdout
    apply(cli, manifests)
    posted = [r for r in writes(emulator) if r["method"] == "POST"]
    assert len(posted) == 1
    assert [c["medium"]["twilio"]["outgoing"]["to"] for c in posted[0]["body"]["calls"]] == [
        "+14155552000",
        "+14155552001",
    ]
    assert scheduled_numbers(emulator) == {n: 1 for n in more}
    assert_empty_plan(cli, manifests)


def test_removal_before_any_call_started_replaces_the_batch(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "batch.yaml").write_text(batch(NUMBERS[:4]))
    emulator.admin.clear_requests()
    plan = cli("plan", str(manifests))
    assert "-/+ ScheduledBatch/renewals will be replaced" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 to replace." in plan.stdout
    apply(cli, manifests)
    assert [r["method"] for r in writes(emulator)] == ["DELETE", "POST"]
    assert scheduled_numbers(emulator) == {n: 1 for n in NUMBERS[:4]}
    assert_empty_plan(cli, manifests)


def test_removal_after_calls_started_is_refused(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    emulator.admin.advance(3600 + 120)
    (manifests / "batch.yaml").write_text(batch(NUMBERS[:4]))
    emulator.admin.clear_requests()
    refused = cli("apply", "--auto-approve", str(manifests))
    assert refused.code == 1
    assert "removed from the manifest after calls started" in refused.stderr
    assert writes(emulator) == []


def test_an_ended_batch_is_history(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    emulator.admin.advance(6 * 3600)  # past windowEnd: every call made
    (manifests / "batch.yaml").write_text(batch(NUMBERS).replace("20:00:00Z", "22:00:00Z"))
    emulator.admin.clear_requests()
    plan = cli("plan", "--detailed-exitcode", str(manifests))
    assert plan.code == 0, plan.output
    assert "has ended" in plan.stdout
    assert "No changes." in plan.stdout
    assert cli("apply", "--auto-approve", str(manifests)).code == 0
    assert writes(emulator) == []


def test_webhook_secret_only_from_the_environment_and_never_shown(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    secret = "very-secret-signing-key-42"
    text = batch(NUMBERS[:1]).replace(
        '  - medium: {twilio: {outgoing: {to: "+14155551000", from: "+14155550199"}}}',
        "  - medium: {serverWebSocket: {inputSampleRate: 16000}}",
    )
    hooked = text.replace(
        "calls:\n",
        "webhookUrl: https://hooks.example.com/uv\nwebhookSecret: ${HOOK_SECRET}\ncalls:\n",
    )
    manifests = write_manifests(tmp_path, hooked)
    env = {"HOOK_SECRET": secret}
    plan_file = tmp_path / "plan.json"
    plan = cli("plan", "--out", str(plan_file), str(manifests), env=env)
    assert plan.code == 0, plan.output
    assert secret not in plan.output
    assert secret not in plan_file.read_text()
    assert "$HOOK_SECRET" in plan.stdout
    markdown = cli("plan", "--format", "markdown", str(manifests), env=env)
    assert secret not in markdown.output

    applied = cli("apply", "--plan", str(plan_file), env=env)
    assert applied.code == 0, applied.output
    assert secret not in applied.output
    posted = [r for r in writes(emulator) if r["method"] == "POST" and "scheduled" in r["path"]]
    assert posted[0]["body"]["webhookSecret"] == secret
    assert_empty_plan(dataclasses.replace(cli, env={**cli.env, **env}), manifests)

    rotated = {"HOOK_SECRET": "rotated-secret"}
    emulator.admin.clear_requests()
    assert cli("apply", "--auto-approve", str(manifests), env=rotated).code == 0
    assert [r["body"] for r in writes(emulator)] == [{"webhookSecret": "rotated-secret"}]

    literal = hooked.replace("${HOOK_SECRET}", "plain-text-secret")
    (manifests / "batch.yaml").write_text(literal)
    refused = cli("validate", str(manifests))
    assert refused.code == 1
    assert "must come from the environment" in refused.stderr
    assert "plain-text-secret" not in refused.output


def test_batch_checks_before_any_request(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    cases = {
        "bad_number": batch(["+1415555"[:-1] + "x0100"]),
        "duplicate": batch([NUMBERS[0], NUMBERS[0]]),
        "window_order": batch(NUMBERS).replace("2030-01-14T20:00:00Z", "2030-01-14T15:00:00Z"),
        "unknown_agent": batch(NUMBERS).replace("agent: caller", "agent: nobody"),
        "reserved_metadata": batch(NUMBERS).replace('crmId: "0"', 'ultravox.id: "0"'),
        "webhook_not_allowed": batch(NUMBERS).replace(
            "calls:\n", "webhookUrl: https://hooks.example.com/x\ncalls:\n"
        ),
    }
    for label, text in cases.items():
        manifests = write_manifests(tmp_path / label, text)
        result = cli("plan", str(manifests))
        assert result.code == 1, (label, result.output)
        assert f"{manifests / 'batch.yaml'}:" in result.stderr, (label, result.stderr)
        assert "Traceback" not in result.output
    assert emulator.admin.requests() == []


def test_ten_thousand_recipients_from_csv(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = tmp_path / "big"
    manifests.mkdir()
    (manifests / "agent.yaml").write_text(textwrap.dedent(AGENT).lstrip())
    rows = ["to,context.customerName,metadata.crmId"]
    rows += [f"+1646{i:07d},Customer {i},{i}" for i in range(10_000)]
    (manifests / "recipients.csv").write_text("\n".join(rows) + "\n")
    (manifests / "batch.yaml").write_text(
        textwrap.dedent("""
        kind: ScheduledBatch
        name: big_campaign
        agent: caller
        windowStart: "2030-01-15T09:00:00Z"
        windowEnd: "2030-01-22T09:00:00Z"
        callsFrom:
          file: recipients.csv
          from: "+14155550199"
        """).lstrip()
    )
    plan = cli("plan", "--format", "json", str(manifests))
    assert plan.code == 0, plan.output
    change = next(c for c in json.loads(plan.stdout)["changes"] if c["kind"] == "ScheduledBatch")
    assert "10000 recipients" in change["notes"][0]
    apply(cli, manifests)
    assert sum(scheduled_numbers(emulator).values()) == 10_000
    assert_empty_plan(cli, manifests)
