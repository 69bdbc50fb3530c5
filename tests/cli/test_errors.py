"""Every error a user can reach through the command line: clear message, exit code, no trace.

(The interactive approval, on a real pseudo-terminal, is in tests/e2e/test_real_process.py.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Cli

# Every request body sent here must fit the vendor schema (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("checked_requests")


def copy_agents(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "agents", target)
    return target


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ULTRAVOX_BASE_URL": "http://127.0.0.1:9"},
            "GET http://127.0.0.1:9/api/agents failed after 6 attempts: ConnectError",
        ),
        ({"ULTRAVOX_BASE_URL": "ftp://example.com"}, "ULTRAVOX_BASE_URL"),
        ({"ULTRAVOX_API_KEY": ""}, "ULTRAVOX_API_KEY is not set"),
    ],
    ids=["connection-refused", "bad-base-url", "missing-key"],
)
def test_network_and_settings_errors(
    cli: Cli, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = cli("plan", str(copy_agents(tmp_path)), env=env)
    assert result.code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read a saved plan"),
        ('{"changes": []}', "not a saved reconciler plan"),
        ('{"format_version": 99, "changes": [], "reads": []}', "format_version 99"),
        ('{"format_version": 1, "changes": [{"kind": "Agent"}], "reads": []}', "malformed"),
    ],
    ids=["not-json", "no-version", "future-version", "malformed"],
)
def test_bad_saved_plans(
    cli: Cli, emulator: Any, tmp_path: Path, content: str, message: str
) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(content)
    result = cli("apply", "--plan", str(plan_file))
    assert result.code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert emulator.admin.requests() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apply"], "give the manifests to apply"),
        (["apply", "--plan", "PLAN", "manifests"], "not both"),
        (["apply", "--plan", "PLAN", "--prune"], "--prune and --target shape a plan"),
    ],
)
def test_apply_argument_errors(cli: Cli, tmp_path: Path, args: list[str], message: str) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"format_version": 1, "changes": [], "reads": []}))
    result = cli(*[str(plan_file) if a == "PLAN" else a for a in args])
    assert result.code == 1
    assert message in result.stderr


def test_usage_errors_exit_2(cli: Cli) -> None:
    result = cli("plan")
    assert result.code == 2
    assert "Missing argument" in result.stderr
    assert cli("plan", "--format", "yaml", "x").code == 2


def test_secret_missing_at_apply_time_sends_nothing(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = copy_agents(tmp_path)
    (manifests / "batch.yaml").write_text(
        "kind: ScheduledBatch\nname: hooks\nagent: acme_web_chat\n"
        "webhookUrl: https://hooks.example.com/x\nwebhookSecret: ${HOOK}\n"
        "calls:\n  - medium: {serverWebSocket: {inputSampleRate: 16000}}\n"
        "    templateContext: {companyName: Acme}\n"
    )
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file), str(manifests), env={"HOOK": "x"}).code == 0
    emulator.admin.clear_requests()
    result = cli("apply", "--plan", str(plan_file))
    assert result.code == 1
    assert "$HOOK" in result.stderr and "nothing was sent" in result.stderr
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []
