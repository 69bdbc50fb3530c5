"""The check right before a campaign write (issue 10, item 1): a conflict, not a difference.

Calls progress all the time in a running campaign, so "anything changed since the plan" would
skip every supplement of a busy campaign. What is checked is whether the change would now
call someone twice: a replace of a batch that has started since, recipients another apply
scheduled since. Engine level, in process, against the emulator's virtual clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import Action, Plan
from reconciler.core.planning import PlanOptions
from reconciler.runtime import engine
from reconciler.runtime.apply import ApplyReport, Outcome
from reconciler_emulator import EmulatorConfig
from tests.support.emulators import InProcessEmulator, hooks_for

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
NUMBERS = [f"+1415555{4300 + i:04d}" for i in range(5)]


def ultravox(agent_id: str, numbers: list[str]) -> str:
    calls = "".join(
        f'  - medium: {{twilio: {{outgoing: {{to: "{n}", from: "+14155550199"}}}}}}\n'
        for n in numbers
    )
    return (
        f"kind: ScheduledBatch\nname: busy\nagentId: {agent_id}\n"
        'windowStart: "2030-01-14T16:00:00Z"\nwindowEnd: "2030-01-14T20:00:00Z"\n'
        "calls:\n" + calls
    )


def threetone(numbers: list[str]) -> str:
    recipients = "".join(f'  - phone_number: "{n}"\n' for n in numbers)
    return (
        "kind: BatchCall\nprovider: threetone\nname: busy\nagentId: agent_x\n"
        'scheduledTime: "2030-01-14T16:00:00Z"\nrecipients:\n' + recipients
    )


@pytest.fixture
def emulator() -> InProcessEmulator:
    return InProcessEmulator.create(
        EmulatorConfig(api_key="k", start_time=START, calls_per_minute=60)
    )


class Run:
    def __init__(self, emulator: InProcessEmulator, tmp_path: Path) -> None:
        self.emulator = emulator
        self.path = tmp_path / "campaign.yaml"
        self.env = {
            f"{vendor}_{what}": value
            for vendor in ("ULTRAVOX", "THREETONE")
            for what, value in (("BASE_URL", emulator.base_url), ("API_KEY", emulator.api_key))
        }

    def plan(self, text: str) -> Plan:
        self.path.write_text(text)

        async def run() -> Plan:
            desired = engine.Workspace.open([str(self.path)], self.env, None).desired()
            async with engine.Session(self.env, hooks=hooks_for(self.emulator)) as session:
                return await engine.make_plan(session, desired, PlanOptions(hold=60))

        return asyncio.run(run())

    def apply(self, plan: Plan) -> ApplyReport:
        async def run() -> ApplyReport:
            async with engine.Session(self.env, hooks=hooks_for(self.emulator)) as session:
                return await engine.run_apply(
                    session, plan, check_stale=False, concurrency=4, on_result=lambda _: None
                )

        return asyncio.run(run())

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.emulator.admin.requests() if r["method"] != "GET"]


def test_calls_progressing_meanwhile_do_not_stop_a_supplement(
    emulator: InProcessEmulator, tmp_path: Path
) -> None:
    agent = emulator.admin.seed_agent({"name": "caller", "callTemplate": {}})["agentId"]
    run = Run(emulator, tmp_path)
    assert run.apply(run.plan(ultravox(agent, NUMBERS[:4]))).complete
    emulator.admin.advance(3600 + 2)  # the window opened: calls are being made
    supplement = run.plan(ultravox(agent, NUMBERS))
    (change,) = supplement.changes
    assert change.action is Action.UPDATE
    emulator.admin.advance(1)  # one more call made between the plan and the apply
    report = run.apply(supplement)
    assert report.complete, report.results
    batches = emulator.admin.state()["batches"]
    scheduled = [c["medium"]["twilio"]["outgoing"]["to"] for b in batches for c in b["calls"]]
    assert sorted(scheduled) == NUMBERS


@pytest.mark.parametrize("kind", ["ScheduledBatch", "BatchCall"])
def test_a_replace_of_a_batch_that_started_meanwhile_is_skipped(
    emulator: InProcessEmulator, tmp_path: Path, kind: str
) -> None:
    run = Run(emulator, tmp_path)
    agent = emulator.admin.seed_agent({"name": "caller", "callTemplate": {}})["agentId"]

    def text(numbers: list[str]) -> str:
        return ultravox(agent, numbers) if kind == "ScheduledBatch" else threetone(numbers)

    assert run.apply(run.plan(text(NUMBERS))).complete
    replace = run.plan(text(NUMBERS[:3]))  # nobody called yet: delete or cancel, then submit
    (change,) = replace.changes
    assert change.action is Action.REPLACE
    emulator.admin.advance(3600 + 2)  # ... but the batch starts before the apply runs
    emulator.admin.clear_requests()
    report = run.apply(replace)
    (result,) = report.results
    assert result.outcome is Outcome.SKIPPED, result
    assert result.skipped is not None
    assert "has started (replacing it would call them again)" in result.skipped
    assert run.writes() == []
