"""`validate`, `plan`, `apply` and `apply --plan` as the real executable, against the emulator
served over loopback HTTP (the scenarios themselves run in process: tests/cli/test_agents.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_agents import (
    ONE_AGENT,
    agents,
    assert_empty_plan,
    copy_examples,
    write,
    writes,
)
from tests.conftest import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("checked_requests")]


def test_create_three_agents_then_replan_is_empty(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    assert cli("validate", str(manifests)).code == 0

    plan = cli("plan", str(manifests))
    assert plan.code == 0, plan.output
    assert "Plan: 3 to create, 0 to update, 0 to delete." in plan.stdout
    assert [r["method"] for r in emulator.admin.requests()] == ["GET"]

    applied = cli("apply", "--auto-approve", str(manifests))
    assert applied.code == 0, applied.output
    assert "Apply complete: 3 changed." in applied.stdout
    posts = [r for r in writes(emulator)]
    assert [r["method"] for r in posts] == ["POST"] * 3
    assert {r["body"]["name"] for r in posts} == {
        "acme_support",
        "acme_renewals_outbound",
        "acme_web_chat",
    }
    emulator.admin.clear_requests()
    assert_empty_plan(cli, manifests)
    # With pageSize clamped to 2 by this emulator, listing 3 agents takes 2 pages, no GET per agent.
    assert [(r["method"], r["path"]) for r in emulator.admin.requests()] == [
        ("GET", "/api/agents"),
        ("GET", "/api/agents"),
    ]


def test_saved_plan_applies_exactly_and_a_stale_one_is_refused(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifest = write(tmp_path, "agent.yaml", ONE_AGENT)
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    manifest.write_text(manifest.read_text().replace("voice: Mark", "voice: Emily"))
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file), str(manifest)).code == 0
    saved = json.loads(plan_file.read_text())
    assert saved["format_version"] == 1
    assert saved["summary"]["update"] == 1

    # Someone edits the agent in the console after the review: the plan is now stale.
    agent = agents(emulator)["support"]
    emulator.admin.console_patch_agent(agent["agentId"], {"callTemplate": {"temperature": 0.9}})
    emulator.admin.clear_requests()
    stale = cli("apply", "--plan", str(plan_file))
    assert stale.code == 1
    assert "stale" in stale.stderr
    assert "Agent/support" in stale.stderr
    assert writes(emulator) == []

    # A fresh plan applies exactly the saved requests, without asking.
    assert cli("plan", "--out", str(plan_file), str(manifest)).code == 0
    saved = json.loads(plan_file.read_text())
    emulator.admin.clear_requests()
    applied = cli("apply", "--plan", str(plan_file))
    assert applied.code == 0, applied.output
    sent = [{"method": r["method"], "body": r["body"]} for r in writes(emulator)]
    expected = [
        {"method": q["method"], "body": q.get("body")}
        for c in saved["changes"]
        for q in c["requests"]
    ]
    assert sent == expected
    assert_empty_plan(cli, manifest)


def test_missing_key_names_the_variable(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    result = cli("plan", str(manifests), env={"ULTRAVOX_API_KEY": ""})
    assert result.code == 1
    assert "ULTRAVOX_API_KEY" in result.stderr
    assert emulator.admin.requests() == []
