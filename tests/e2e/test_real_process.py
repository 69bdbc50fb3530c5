"""What only a real `reconciler` process shows: its entry points, the approval prompt on a
pseudo-terminal, signals, its own environment, and that the in-process `cli` fixture answers
exactly as the executable does (exit codes and both streams).
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, REPO, AnyEmulator, Cli, RealCli, clean_environ
from tests.support.cli import reconciler_command

pytestmark = pytest.mark.e2e


def copy_agents(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "agents", target)
    return target


def test_python_dash_m_is_the_console_script(tmp_path: Path) -> None:
    env = clean_environ()
    version = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"], env=env, capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("reconciler, version ")
    # A usage error: the program is named `reconciler` either way.
    for args in (["plan"],):
        script = subprocess.run(
            [*reconciler_command(), *args], env=env, capture_output=True, text=True, timeout=60
        )
        module = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (module.returncode, module.stdout) == (script.returncode, script.stdout), args
        assert module.stderr == script.stderr, args
        assert "Usage: reconciler plan" in module.stderr


def waiting_for_input(pid: int) -> bool:
    """Whether the process sleeps (blocked in a read), where /proc says; else assume so."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S"
    except (OSError, IndexError):
        return True


def test_an_interrupt_at_the_prompt_aborts_and_sends_nothing(
    real_cli: RealCli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    manifests = copy_agents(tmp_path)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*reconciler_command(), "apply", str(manifests)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=real_cli.env,
        cwd=tmp_path,
        close_fds=True,
        # A child inherits an ignored SIGINT (some other test of this worker may have left
        # it so), and Python then never raises KeyboardInterrupt: give it the default, as a
        # terminal does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(follower)
    output, interrupts, last, deadline = b"", 0, 0.0, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
            asked = b"Only 'yes' is accepted" in output and b"Aborted!" not in output
            # Ctrl-C once the process waits at the prompt. (One that landed between the prompt
            # and the read would only be seen once the read is interrupted: pressed again after
            # 10 s, so that the test fails on `interrupts` instead of hanging.)
            if asked and waiting_for_input(proc.pid) and time.monotonic() - last > 10:
                proc.send_signal(signal.SIGINT)
                interrupts, last = interrupts + 1, time.monotonic()
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    shown = output.decode(errors="replace")
    assert interrupts == 1, shown  # one Ctrl-C is enough
    assert code == 1, shown
    assert "Aborted!" in shown
    assert "Traceback" not in shown
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []


# Commands whose answer does not depend on where the emulator is: they must come out of the
# in-process fixture exactly as out of the executable (code, stdout and stderr).
SAME_EITHER_WAY = [
    ["--help"],  # 0, and help wrapped as in a piped process
    ["nope"],  # 2: click's usage errors
    ["plan"],
    ["validate", "missing.yaml"],  # 1: a ReconcilerError
    ["plan", "MANIFESTS"],  # 0
    ["plan", "--detailed-exitcode", "MANIFESTS"],  # 2: changes pending, not an error
    ["apply", "MANIFESTS"],  # 1: no terminal to ask on
    ["status", "MANIFESTS"],
    ["diff-env", "a", "b", "MANIFESTS"],
    ["schema"],
    ["export", "--env", "nope"],
    ["emulator", "--fault", "404:1"],  # 2: a plugin command's usage error
]


@pytest.mark.parametrize("args", SAME_EITHER_WAY, ids=" ".join)
def test_in_process_answers_as_the_executable(
    real_cli: RealCli, emulator: AnyEmulator, tmp_path: Path, args: list[str]
) -> None:
    manifests = copy_agents(tmp_path)
    argv = [str(manifests) if a == "MANIFESTS" else a for a in args]
    in_process = Cli(env=real_cli.env, cwd=tmp_path)
    expected = real_cli(*argv)
    got = in_process(*argv)
    assert (got.code, got.stdout, got.stderr) == (expected.code, expected.stdout, expected.stderr)
    assert expected.code in (0, 1, 2)


def test_the_environment_of_the_process_is_all_it_reads(tmp_path: Path) -> None:
    """No setting leaks in from elsewhere: without the variable, the key is missing."""
    bare = RealCli(env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)}, cwd=tmp_path)
    result = bare("plan", str(copy_agents(tmp_path)))
    assert result.code == 1
    assert "ULTRAVOX_API_KEY is not set" in result.stderr
    assert "Traceback" not in result.output


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
            if not answered and b"Only 'yes' is accepted" in output:
                os.write(leader, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return output.decode(errors="replace")


def test_apply_asks_on_a_terminal(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_agents(tmp_path)
    declined = run_in_terminal(["apply", str(manifests)], cli.env, "no", tmp_path)
    assert "Apply cancelled; nothing was sent." in declined
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []
    accepted = run_in_terminal(["apply", str(manifests)], cli.env, "yes", tmp_path)
    assert "Apply complete: 3 changed." in accepted
    assert len(emulator.admin.state()["agents"]) == 3
