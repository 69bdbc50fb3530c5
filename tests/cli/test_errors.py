"""Every error a user can reach through the command line: clear message, exit code, no trace.

Also the interactive approval, driven through a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Cli, reconciler_command

# Every request body sent here must fit the vendor schema (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("checked_requests")


def copy_agents(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "agents", target)
    return target


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ULTRAVOX_BASE_URL": "http://127.0.0.1:9"}, "GET /api/agents failed"),
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
    )
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file), str(manifests), env={"HOOK": "x"}).code == 0
    emulator.admin.clear_requests()
    result = cli("apply", "--plan", str(plan_file))
    assert result.code == 1
    assert "$HOOK" in result.stderr and "nothing was sent" in result.stderr
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []


def run_in_terminal(args: list[str], env: dict[str, str], answer: str, cwd: Path) -> str:
    """Run the real command on a pseudo-terminal, answer its prompt, return what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*reconciler_command(), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=cwd,
        close_fds=True,
    )
    os.close(follower)
    output, answered, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Only 'yes' will be accepted" in output:
                os.write(leader, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return output.decode(errors="replace")


@pytest.mark.e2e
def test_apply_asks_on_a_terminal(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_agents(tmp_path)
    declined = run_in_terminal(["apply", str(manifests)], cli.env, "no", tmp_path)
    assert "Apply cancelled; nothing was sent." in declined
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []
    accepted = run_in_terminal(["apply", str(manifests)], cli.env, "yes", tmp_path)
    assert "Apply complete: 3 changed." in accepted
    assert len(emulator.admin.state()["agents"]) == 3
