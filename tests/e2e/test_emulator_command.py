"""`reconciler emulator` as users start it: a free port, a port file, faults armed from flags."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLES, REPO, reconciler_command

pytestmark = pytest.mark.e2e


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
