"""Applies running at the same time, in process (issue 10, item 1): the engine's own steps.

* Right before a campaign write, the campaign is listed again: a plan the account no longer
  matches (another apply created the campaign meanwhile) is skipped, nothing sent.
* A batch is submitted held: its start is moved to the hold after the server's clock, so no
  call can start before the copies are sorted out.
* Right after the write, the campaign is listed again and the copy another apply made at the
  same moment is removed before anyone is dialled from it; every number is dialled once.

A `Racing` API stands for the other apply: it sends the very same submit just before ours.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import JSON, Request
from reconciler.core.planning import PlanOptions
from reconciler.providers import registry
from reconciler.providers.base import Api, server_now
from reconciler.runtime import engine
from reconciler.runtime.apply import ApplyReport, Outcome, apply_plan
from reconciler_emulator import EmulatorConfig
from tests.support.emulators import InProcessEmulator, hooks_for

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
NUMBERS = [f"+1415555{4100 + i:04d}" for i in range(4)]
HOLD = 60.0


def ultravox(agent_id: str) -> str:
    calls = "".join(
        f'  - medium: {{twilio: {{outgoing: {{to: "{n}", from: "+14155550199"}}}}}}\n'
        for n in NUMBERS
    )
    # The window opens now: without a hold, the first call would be due in a second.
    return (
        f"kind: ScheduledBatch\nname: now\nagentId: {agent_id}\n"
        'windowStart: "2030-01-14T15:00:00Z"\nwindowEnd: "2030-01-14T20:00:00Z"\n'
        "calls:\n" + calls
    )


def batch_call(provider: str) -> str:
    recipients = "".join(f'  - phone_number: "{n}"\n' for n in NUMBERS)
    # No scheduledTime: without a hold, the batch would start dialling on submission.
    return f"kind: BatchCall\nprovider: {provider}\nname: now\nagentId: agent_x\nrecipients:\n" + (
        recipients
    )


class Racing:
    """An `Api` whose every batch submit is preceded by the same submit from "another apply"."""

    def __init__(self, inner: Api, creates: Any) -> None:
        self.inner = inner
        self.settings = inner.settings
        self.creates = creates
        self.copies = 0

    async def list_all(self, path: str, params: Mapping[str, str] | None = None) -> list[JSON]:
        return await self.inner.list_all(path, params)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        return await self.inner.get(path, params)

    async def send(self, request: Request) -> JSON:
        if self.creates(request) and not self.copies:
            self.copies += 1
            await self.inner.send(request)  # the other apply got there a moment before
        return await self.inner.send(request)

    def server_now(self) -> datetime | None:
        return server_now(self.inner)


@pytest.fixture
def emulator() -> InProcessEmulator:
    config = EmulatorConfig(api_key="k", start_time=START, calls_per_minute=60)
    return InProcessEmulator.create(config)


def environ(emulator: InProcessEmulator) -> dict[str, str]:
    return {
        f"{vendor}_{what}": value
        for vendor in ("ULTRAVOX", "THREETONE", "ELEVENLABS")
        for what, value in (("BASE_URL", emulator.base_url), ("API_KEY", emulator.api_key))
    }


def manifests(tmp_path: Path, emulator: InProcessEmulator, kind: str) -> Path:
    if kind == "ScheduledBatch":
        agent = emulator.admin.seed_agent({"name": "caller", "callTemplate": {}})
        text = ultravox(agent["agentId"])
    else:
        text = batch_call(kind.split("/")[1])
    path = tmp_path / "campaign.yaml"
    path.write_text(text)
    return path


async def plan(path: Path, env: dict[str, str], emulator: InProcessEmulator) -> Any:
    desired = engine.Workspace.open([str(path)], env, None).desired()
    async with engine.Session(env, hooks=hooks_for(emulator)) as session:
        return await engine.make_plan(session, desired, PlanOptions(hold=HOLD))


async def racing_apply(
    made: Any, env: dict[str, str], emulator: InProcessEmulator
) -> tuple[ApplyReport, Racing]:
    async with engine.Session(env, hooks=hooks_for(emulator)) as session:
        (change,) = made.changes
        provider = registry.provider(change.provider)
        rt = registry.kinds()[change.key.kind]
        racing = Racing(await session.api(provider), rt.creates_batch)
        report = await apply_plan(made, {provider.name: racing}, registry.kinds(), environ=env)
        return report, racing


def live_batches(emulator: InProcessEmulator) -> list[dict[str, Any]]:
    state = emulator.admin.state()
    ultravox = [{"start": b["windowStart"], "id": b["batchId"]} for b in state["batches"]]
    calling = [
        {"start": b["scheduled_time_unix"], "id": b["id"]}
        for b in state["batch_calls"]
        if b["status"] != "cancelled"
    ]
    return ultravox + calling


def dialled(emulator: InProcessEmulator) -> Counter[str]:
    state = emulator.admin.state()
    found: Counter[str] = Counter()
    for call in state["calls"]:
        found[call["medium"]["twilio"]["outgoing"]["to"]] += 1
    for batch in state["batch_calls"]:
        for r in batch["recipients"]:
            if r.get("dispatched") or r["status"] not in ("pending", "cancelled"):
                found[r["phone_number"]] += 1
    return found


KINDS = ["ScheduledBatch", "BatchCall/threetone", "BatchCall/elevenlabs"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_copy_made_at_the_same_moment_is_removed_before_anyone_is_dialled(
    emulator: InProcessEmulator, tmp_path: Path, kind: str
) -> None:
    env = environ(emulator)
    path = manifests(tmp_path, emulator, kind)
    made = asyncio.run(plan(path, env, emulator))
    (change,) = made.changes
    assert any("held: no call of a new batch starts within 60 s" in n for n in change.notes)
    report, racing = asyncio.run(racing_apply(made, env, emulator))
    assert racing.copies == 1
    (result,) = report.results
    assert result.outcome is Outcome.DONE, result
    assert any("an apply running at the same time made a copy" in n for n in result.notes)
    (kept,) = live_batches(emulator)  # the copy is gone (deleted, or cancelled: history)
    # Held: nobody can be dialled before the hold is over.
    start = kept["start"]
    moment = (
        datetime.fromtimestamp(start, UTC)
        if isinstance(start, int)
        else datetime.fromisoformat(start.replace("Z", "+00:00"))
    )
    assert START + timedelta(seconds=HOLD) < moment <= START + timedelta(seconds=HOLD + 2)
    emulator.admin.advance(HOLD - 1)
    assert dialled(emulator) == Counter()
    emulator.admin.advance(600)
    assert dialled(emulator) == dict.fromkeys(NUMBERS, 1)
    assert asyncio.run(plan(path, env, emulator)).is_empty


@pytest.mark.parametrize("kind", KINDS)
def test_a_plan_the_account_no_longer_matches_is_skipped_before_anything_is_sent(
    emulator: InProcessEmulator, tmp_path: Path, kind: str
) -> None:
    env = environ(emulator)
    path = manifests(tmp_path, emulator, kind)
    first, second = asyncio.run(plan(path, env, emulator)), asyncio.run(plan(path, env, emulator))

    async def run(made: Any) -> ApplyReport:
        async with engine.Session(env, hooks=hooks_for(emulator)) as session:
            return await engine.run_apply(
                session, made, check_stale=False, concurrency=4, on_result=lambda _: None
            )

    assert asyncio.run(run(first)).complete
    emulator.admin.clear_requests()
    report = asyncio.run(run(second))
    (result,) = report.results
    assert result.outcome is Outcome.SKIPPED
    assert result.skipped is not None and "in a live batch already" in result.skipped
    assert "another apply may be running" in result.skipped
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []
    assert len(live_batches(emulator)) == 1


def test_without_a_hold_the_body_is_the_manifests(
    emulator: InProcessEmulator, tmp_path: Path
) -> None:
    env = environ(emulator)
    path = manifests(tmp_path, emulator, "BatchCall/threetone")

    async def unheld() -> Any:
        desired = engine.Workspace.open([str(path)], env, None).desired()
        async with engine.Session(env, hooks=hooks_for(emulator)) as session:
            return await engine.make_plan(session, desired, PlanOptions(hold=0))

    (change,) = asyncio.run(unheld()).changes
    assert [r.hold for r in change.requests] == [None]
    assert not any(n.startswith("held:") for n in change.notes)
