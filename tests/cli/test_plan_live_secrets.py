"""A secret the live account holds (an agent's shared secret set in the console) is masked in
everything a plan prints, wherever the value appears: the plan's reader collects them page by
page in its worker thread (issue 14), and the masking learns them before the plan is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Cli

SECRET = "live-shared-0123456789"


def test_a_secret_the_account_holds_is_masked_in_the_plan(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    emulator.admin.seed_agent(
        {"name": "holder", "callTemplate": {"voice": "Mark", "sharedSecrets": [SECRET]}}
    )
    (tmp_path / "agents.yaml").write_text(
        "kind: Agent\nname: echo\ncallTemplate:\n"
        f"  systemPrompt: The shared value is {SECRET}, said aloud.\n  voice: Mark\n"
    )
    for fmt in ("text", "json"):
        result = cli("plan", "--format", fmt, str(tmp_path))
        assert result.code == 0, result.output
        assert SECRET not in result.output
        assert "The shared value is ***, said aloud." in result.stdout
