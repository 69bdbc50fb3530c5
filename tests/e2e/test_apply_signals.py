"""Ctrl-C (SIGINT) and SIGTERM during an apply (issue 10, item 6), on the real executable.

The signal stops new writes, lets the ones in flight finish, and the summary says what was
done, what was in flight and what was not attempted; the exit code is 130 for SIGINT and 143
for SIGTERM (128 + the signal), not "Aborted!".
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import MakeEmulator, clean_environ, emulator_env
from tests.support.cli import reconciler_command

pytestmark = pytest.mark.e2e

AGENTS = 12
LATENCY = 0.05
"""Seconds per API request: twelve creates one at a time take over half a second."""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_new_writes_waits_for_those_in_flight_and_says_what_is_what(
    make_emulator: MakeEmulator, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    emulator = make_emulator(EmulatorConfig(api_key="k", latency=LATENCY))
    manifests = tmp_path / "agents.yaml"
    manifests.write_text(
        "---\n".join(
            f"kind: Agent\nname: agent_{i:02d}\ncallTemplate:\n  systemPrompt: Hi.\n"
            for i in range(AGENTS)
        )
    )
    process = subprocess.Popen(
        [*reconciler_command(), "apply", "--auto-approve", "--concurrency", "1", str(manifests)],
        env={**clean_environ(), **emulator_env(emulator)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The default SIGINT disposition, whatever this worker inherited (see test_real_process).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not any(r["method"] == "POST" for r in emulator.admin.requests()):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, stdout + stderr
    assert f"{sig.name}: stopping" in stderr and "Aborted!" not in stderr
    created = [r for r in emulator.admin.requests() if r["method"] == "POST"]
    done = stdout.count(" create  Agent/")
    assert done == len(created) < AGENTS  # what was in flight finished; nothing else started
    summary = next(line for line in stderr.splitlines() if "Apply stopped by" in line)
    assert summary.endswith(f"{AGENTS - done} not attempted.")
    # The signal follows the first POST the emulator journals, so the next one is usually under
    # way then; on a loaded machine it may not have started yet. Either way it is said.
    in_flight = 1 if f"{done} done, 1 in flight" in summary else 0
    assert f"Apply stopped by {sig.name}: {done} done, {in_flight} in flight, 0 failed" in summary
    if in_flight:
        assert "in flight when it stopped (each finished as above):" in stderr
    assert "not attempted:\n    - Agent/agent_" in stderr
