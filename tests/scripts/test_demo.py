"""scripts/demo.sh (`make demo`), in pieces: running the whole demo starts an emulator and four
commands (seconds), so this checks the script's steps as text, and runs its `step` helper,
cut out of the script, in bash with stdout a pipe and a pseudo-terminal (issue 13, item 8):
each plan is printed once, and a log of the demo has no escape codes.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "demo.sh"
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="no bash on this machine")


def steps() -> list[str]:
    return [line for line in SCRIPT.read_text().splitlines() if line.startswith("step ")]


def test_each_plan_is_printed_once() -> None:
    """One plan, saved; apply runs the saved plan (printing where and the summary, not the
    plan again); the last plan shows `No changes.`."""
    assert steps() == [
        'step "$BIN/reconciler" validate manifests/',
        'step "$BIN/reconciler" plan --out "$WORK/plan.json" manifests/',
        'step "$BIN/reconciler" apply --plan "$WORK/plan.json"',
        'step "$BIN/reconciler" plan --detailed-exitcode manifests/',
    ]


def helper() -> str:
    """The script's colour settings and `step` function, as the script has them."""
    text = SCRIPT.read_text()
    start = text.index("if [ -t 1 ]")
    end = text.index("\n", text.index("step() {"))
    return text[start:end]


def run_step(*, terminal: bool, no_color: str | None = None) -> bytes:
    assert BASH is not None
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    command = [BASH, "-c", helper() + "\nstep echo hi"]
    if not terminal:
        return subprocess.run(command, env=env, capture_output=True, check=True).stdout
    main, child = pty.openpty()
    try:
        subprocess.run(command, env=env, stdout=child, stderr=child, check=True)
        os.close(child)
        child = -1
        out = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the other end is closed: everything was read
                break
            if not chunk:
                break
            out += chunk
        return out.replace(b"\r\n", b"\n")
    finally:
        os.close(main)
        if child != -1:
            os.close(child)


def test_a_log_of_the_demo_has_no_escape_codes() -> None:
    assert run_step(terminal=False) == b"\n$ echo hi\nhi\n"


def test_a_terminal_shows_each_command_in_bold() -> None:
    assert run_step(terminal=True) == b"\n\x1b[1m$ echo hi\x1b[0m\nhi\n"


@pytest.mark.parametrize("value", ["1", "0"])
def test_no_color_turns_bold_off_on_a_terminal(value: str) -> None:
    assert run_step(terminal=True, no_color=value) == b"\n$ echo hi\nhi\n"


def test_nothing_else_in_the_script_prints_an_escape_code() -> None:
    """The only escape codes are the two the terminal check sets."""
    codes = re.findall(r".*\\033.*", SCRIPT.read_text())
    assert codes == ["  BOLD=$'\\033[1m' PLAIN=$'\\033[0m'"]
