"""Nobody is dialled twice when applies run at the same time (issue 10, item 1), for real.

Pairs of real `reconciler` processes are started together against one emulator served over
loopback: `apply --auto-approve` of the same manifests, and `apply --plan` of one saved plan.
Each pair has its own campaigns, one of each kind (an Ultravox ScheduledBatch, a Threetone and
an ElevenLabs BatchCall), whose calls would start at once without the hold. The virtual clock
stands still while they race; then it moves past the hold and every call, and every number
must have been dialled exactly once, and a plan of everything must be "No changes".

The pairs run a few at a time (the suite runs on two cores); `PAIRS` bounds them.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import MakeEmulator, clean_environ, emulator_env
from tests.support.cli import reconciler_command

pytestmark = pytest.mark.e2e

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
PAIRS = int(os.environ.get("RECONCILER_RACE_PAIRS", "3"))
"""Pairs of processes per way of applying, each racing on three campaigns (one per kind); the
README's figures come from a run with more (`RECONCILER_RACE_PAIRS=48`)."""
AT_ONCE = 3
"""Pairs started at the same moment."""
PER_KIND = 3
"""Recipients of each campaign."""


def numbers(pair: int, kind: int) -> list[str]:
    """Distinct numbers per pair and kind, none ending in the emulator's 98 / 99 (failures)."""
    return [f"+1415556{pair:02d}{kind}{j}" for j in range(PER_KIND)]


def campaigns(label: str, pair: int, agent_id: str) -> str:
    """One campaign of each kind, all due now: without the hold, calls would start at once."""
    name = f"{label}_{pair:02d}"
    calls = "".join(
        f'  - medium: {{twilio: {{outgoing: {{to: "{n}", from: "+14155550190"}}}}}}\n'
        for n in numbers(pair, 0)
    )
    documents = [
        f"kind: ScheduledBatch\nname: {name}\nagentId: {agent_id}\n"
        'windowStart: "2030-01-14T15:00:00Z"\nwindowEnd: "2030-01-14T20:00:00Z"\n'
        f"calls:\n{calls}"
    ]
    for kind, provider in ((1, "threetone"), (2, "elevenlabs")):
        recipients = "".join(f'  - phone_number: "{n}"\n' for n in numbers(pair, kind))
        documents.append(
            f"kind: BatchCall\nprovider: {provider}\nname: {name}_{provider}\n"
            f"agentId: agent_{provider}_{pair:02d}\n"
            f"recipients:\n{recipients}"
        )
    return "---\n".join(documents)


@dataclass(frozen=True)
class Run:
    code: int
    output: str


def run_together(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> list[Run]:
    """Start every command at once (one process each), then wait for all of them."""
    started = [
        subprocess.Popen(
            [*reconciler_command(), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for args in commands
    ]
    runs = []
    for process in started:
        output, _ = process.communicate(timeout=120)
        runs.append(Run(process.returncode, output))
    return runs


def assert_converged(runs: list[Run]) -> None:
    """Each racing apply either did the work, left it to the other (skipped: the account had
    changed), or found nothing to do; never a failure, an unknown or a traceback."""
    for run in runs:
        assert run.code in (0, 1), run.output
        for bad in ("Traceback", "FAILED", "UNKNOWN", "PARTIAL", "would call people twice"):
            assert bad not in run.output, run.output
        if run.code == 1:  # the other one got there first: nothing was sent
            assert (
                "SKIPPED" in run.output and "another apply may be running" in run.output
            ) or "the plan is stale" in run.output, run.output


def dialled(state: dict[str, Any]) -> Counter[str]:
    """How often each number was dialled, over every vendor of the account."""
    found: Counter[str] = Counter()
    for call in state["calls"]:
        found[call["medium"]["twilio"]["outgoing"]["to"]] += 1
    for batch in state["batch_calls"]:
        for recipient in batch["recipients"]:
            if recipient.get("dispatched") or recipient["status"] not in ("pending", "cancelled"):
                found[recipient["phone_number"]] += 1
    return found


def scheduled(state: dict[str, Any]) -> Counter[str]:
    """How often each number is in a live batch (deleted ones are gone; cancelled are not)."""
    found: Counter[str] = Counter()
    for batch in state["batches"]:
        for call in batch["calls"]:
            found[call["medium"]["twilio"]["outgoing"]["to"]] += 1
    for batch in state["batch_calls"]:
        if batch["status"] != "cancelled":
            for recipient in batch["recipients"]:
                found[recipient["phone_number"]] += 1
    return found


def copies_removed(runs: list[Run]) -> int:
    return sum(run.output.count("an apply running at the same time made a copy") for run in runs)


@pytest.fixture
def env(make_emulator: MakeEmulator) -> Any:
    emulator = make_emulator(
        EmulatorConfig(api_key="race-key", max_page_size=500, start_time=START, calls_per_minute=60)
    )
    variables = {
        **clean_environ(),
        **emulator_env(emulator),
        "ELEVENLABS_BASE_URL": emulator.base_url,
        "ELEVENLABS_API_KEY": emulator.api_key,
    }
    return emulator, variables


@pytest.mark.parametrize("label", ["apply", "saved"], ids=["apply", "apply --plan"])
def test_applies_started_together_dial_everyone_exactly_once(
    env: Any, tmp_path: Path, label: str
) -> None:
    emulator, variables = env
    pairs: list[tuple[str, int, Path]] = []
    for pair in range(PAIRS):
        # An agent per pair: each process reads its own pair's batches only.
        seeded = emulator.admin.seed_agent({"name": f"dialler_{pair}", "callTemplate": {}})
        directory = tmp_path / f"{label}_{pair:02d}"
        directory.mkdir()
        (directory / "campaigns.yaml").write_text(campaigns(label, pair, seeded["agentId"]))
        pairs.append((label, pair, directory))

    def race(item: tuple[str, int, Path]) -> list[Run]:
        label, _, directory = item
        if label == "apply":
            command = ["apply", "--auto-approve", "campaigns.yaml"]
            return run_together([command, command], directory, variables)
        made = subprocess.run(
            [*reconciler_command(), "plan", "--out", "plan.json", "campaigns.yaml"],
            cwd=directory,
            env=variables,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        command = ["apply", "--plan", "plan.json"]
        return run_together([command, command], directory, variables)

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        results = dict(zip(pairs, pool.map(race, pairs), strict=True))
    for runs in results.values():
        assert_converged(runs)

    everyone = {n for _, pair, _ in pairs for kind in range(3) for n in numbers(pair, kind)}
    assert len(everyone) == PAIRS * 3 * PER_KIND
    state = emulator.admin.state()
    assert scheduled(state) == dict.fromkeys(everyone, 1)  # each in one live batch
    assert dialled(state) == Counter()  # held: nobody dialled while the clock stands still

    emulator.admin.advance(60 + 600)  # past the hold, then every call made and finished
    state = emulator.admin.state()
    assert dialled(state) == dict.fromkeys(everyone, 1)

    after = subprocess.run(
        [*reconciler_command(), "plan", "--detailed-exitcode", *(str(d) for *_, d in pairs)],
        env=variables,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.returncode == 0, after.stdout + after.stderr
    assert "No changes." in after.stdout
    # The figures the README's safety section quotes: pairs tried, copies the racing applies
    # made and removed themselves, and duplicates left (none: asserted above).
    print(
        f"\n{label}: {len(pairs)} pairs, {len(pairs) * 3} campaign races, copies made and "
        f"removed: {copies_removed([r for runs in results.values() for r in runs])}, "
        "duplicates left: 0"
    )
