"""Scale: request counts stay one per page, whatever the number of resources."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

# Every request body sent here must fit the vendor schema (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("checked_requests")

AGENTS = 350
PAGE = 100


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(EmulatorConfig(api_key="k", max_page_size=PAGE, latency=0.01))


@pytest.fixture
def cli(make_cli: MakeCli, emulator: AnyEmulator) -> Cli:
    return make_cli({"ULTRAVOX_BASE_URL": emulator.base_url, "ULTRAVOX_API_KEY": "k"}, emulator)


def test_plan_of_hundreds_of_agents_is_one_request_per_page(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    text = "".join(
        f"---\nkind: Agent\nname: agent_{i:04d}\ncallTemplate:\n  systemPrompt: Agent {i}.\n"
        f"  temperature: 0.{i % 10}\n"
        for i in range(AGENTS)
    )
    (tmp_path / "agents.yaml").write_text(text)
    applied = cli("apply", "--auto-approve", "--concurrency", "8", str(tmp_path / "agents.yaml"))
    assert applied.code == 0, applied.output
    assert applied.stdout.count("ok  create  ") == AGENTS

    emulator.admin.clear_requests()
    plan = cli("plan", "--detailed-exitcode", str(tmp_path / "agents.yaml"))
    assert plan.code == 0, plan.output
    requests = emulator.admin.requests()
    assert [r["path"] for r in requests] == ["/api/agents"] * math.ceil(AGENTS / PAGE)
