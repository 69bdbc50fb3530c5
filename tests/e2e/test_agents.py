"""`plan`, `apply` and `apply --plan` as the real executable, against the emulator served over
loopback HTTP (the other agent scenarios run in process: tests/cli/test_agents.py).
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
    write,
    writes,
)
from tests.conftest import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("checked_requests")]


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
