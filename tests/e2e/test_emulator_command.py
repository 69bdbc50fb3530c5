"""The emulator as users start it (`reconciler emulator`, `python -m reconciler_emulator`): a
free port, a port file, faults armed from flags, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLES, REPO, reconciler_command

pytestmark = pytest.mark.e2e

KEY = "secret-test-key-123"


def test_emulator_command_with_faults_serves_the_real_command(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    server = subprocess.Popen(
        [
            *reconciler_command(),
            "emulator",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--api-key",
            "cmd-key",
            "--fault",
            "429:2:0",
            "--fault",
            "503:1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port_file.read_text().strip()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ULTRAVOX_")}
        env.update(ULTRAVOX_BASE_URL=base, ULTRAVOX_API_KEY="cmd-key", PYTHONPATH=str(REPO))
        plan = subprocess.run(
            [*reconciler_command(), "plan", str(EXAMPLES / "agents")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert plan.returncode == 0, plan.stderr
        assert "Plan: 3 to create" in plan.stdout
        journal = httpx.get(f"{base}/_emulator/requests").json()
        assert [r["status"] for r in journal] == [429, 429, 503, 200]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    assert server.returncode == 0  # SIGTERM is a clean stop


def test_emulator_command_refuses_a_bad_fault() -> None:
    result = subprocess.run(
        [*reconciler_command(), "emulator", "--fault", "404:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "STATUS is 429, 500, 502 or 503" in result.stderr


def test_serve_announces_writes_the_port_and_stops_cleanly(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "reconciler_emulator", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--port-file", str(port_file), "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"reconciler emulator listening on http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        assert port_file.read_text().strip() == match.group(1)
        url = f"http://127.0.0.1:{match.group(1)}/api/agents"
        assert httpx.get(url, headers={"X-API-Key": KEY}).json()["total"] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line on stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
