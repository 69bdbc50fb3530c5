"""What a plan reads, per kind, counted from the emulator's request journal: exactly what the
README's promise 1 and its "How a plan is computed" section state (issue 13, item 8).

The account holds the applied examples (3 agents; ScheduledBatches of 40, 2 and 2 calls; a
Threetone BatchCall) and, made elsewhere, an agent with a batch of 3 calls and a batch in the
batch-calling workspace that no manifest declares. Pages hold 2 items, so every list counts
its pages.
"""

from __future__ import annotations

import math
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import EXAMPLES, AnyEmulator, Cli, MakeEmulator

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
PAGE = 2
SECRET = {"ACME_WEBHOOK_SECRET": "demo-webhook-secret"}
ID = r"[^/]+"
BATCHCALLS = "/v1/voiceai/batch-calling"

# Each request of a plan, by what it reads (the README's words), from its path and query.
KINDS = [
    ("agent list", re.compile(r"/api/agents"), None),
    ("batch list of an agent", re.compile(rf"/api/agents/{ID}/scheduled_batches"), None),
    (
        "first call of a batch",
        re.compile(rf"/api/agents/{ID}/scheduled_batches/{ID}/scheduled_calls"),
        "1",
    ),
    (
        "calls of a batch",
        re.compile(rf"/api/agents/{ID}/scheduled_batches/{ID}/scheduled_calls"),
        "1000",
    ),
    ("workspace batch list", re.compile(rf"{BATCHCALLS}/workspace"), None),
    ("one batch", re.compile(rf"{BATCHCALLS}/{ID}"), None),
]


def kind_of(entry: dict[str, Any]) -> str:
    size = (entry.get("query") or {}).get("pageSize")
    for name, path, page_size in KINDS:
        if path.fullmatch(entry["path"]) and page_size in (None, size):
            return name
    raise AssertionError(f"a plan read something no kind states: {entry['path']}")


def pages(items: int) -> int:
    """Requests to list `items` things: one per page, and one for an empty list."""
    return max(1, math.ceil(items / PAGE))


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(api_key="test-key", max_page_size=PAGE, start_time=START)
    return make_emulator(config)


def made_elsewhere(emulator: AnyEmulator) -> None:
    """An agent with a batch of 3 calls made in the console, and a batch-calling batch that
    no manifest declares (a copy of the example's submit under another name)."""
    agent = emulator.admin.seed_agent({"name": "console_bot", "callTemplate": {"voice": "Mark"}})
    submit = next(r for r in emulator.admin.requests() if r["path"] == f"{BATCHCALLS}/submit")[
        "body"
    ]
    calls = [
        {"medium": {"twilio": {"outgoing": {"to": f"+1415555011{i}", "from": "+14155550199"}}}}
        for i in range(3)
    ]
    with emulator.http(headers={"X-API-Key": emulator.api_key}) as api:
        made = api.post(
            f"/api/agents/{agent['agentId']}/scheduled_batches",
            json={
                "windowStart": "2030-01-14T16:00:00Z",
                "windowEnd": "2030-01-14T20:00:00Z",
                "calls": calls,
            },
        )
        assert made.status_code == 201, made.text
        other = api.post(f"{BATCHCALLS}/submit", json={**submit, "call_name": "made_elsewhere"})
        assert other.status_code == 200, other.text


def test_a_plan_reads_what_the_readme_says_per_kind(
    cli: Cli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    applied = cli("apply", "--auto-approve", str(manifests), env=SECRET)
    assert applied.code == 0, applied.output
    made_elsewhere(emulator)
    emulator.admin.clear_requests()

    plan = cli("plan", "--detailed-exitcode", str(manifests), env=SECRET)

    assert plan.code == 0, plan.output
    journal = emulator.admin.requests()
    assert {r["method"] for r in journal} == {"GET"}
    agents, batches_per_agent = 4, [1, 1, 1, 1]
    tool_batches_calls = [40, 2, 2]  # the examples' ScheduledBatches; console_bot's is not
    workspace_batches, declared_batches = 2, 1
    assert Counter(kind_of(r) for r in journal) == {
        # Agent: the agent list, one request per page.
        "agent list": pages(agents),
        # ScheduledBatch: per agent of the account, its batch list; for each batch, a page of
        # one call (whose metadata says whether the tool made it); for each batch the tool
        # made that holds more than one call, all its calls.
        "batch list of an agent": sum(pages(b) for b in batches_per_agent),
        "first call of a batch": sum(batches_per_agent),
        "calls of a batch": sum(pages(n) for n in tool_batches_calls if n > 1),
        # BatchCall: the workspace's batch list, and one GET of each batch of a BatchCall the
        # manifests declare (the list carries no recipients).
        "workspace batch list": pages(workspace_batches),
        "one batch": declared_batches,
    }
