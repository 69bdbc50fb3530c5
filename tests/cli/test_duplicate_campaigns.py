"""`plan` and `status` see duplicates (issue 10, item 2), through the command in process
against the emulator's virtual clock.

A recipient that two live batches (or parts) of one campaign will call is never "No changes":
the plan removes the copy that has not started (shown as such), or, when both started, stops
with an error naming the batches and the masked numbers; `status` says "duplicate", never
"supplemental". The copy is made the way a concurrent apply makes one: the very submit the
first apply sent, sent once more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.cli.test_batchcall import PRESETS, Preset, batches, campaign, write
from tests.cli.test_batches import (
    START,
    apply,
    assert_empty_plan,
    batch,
    scheduled_numbers,
    write_manifests,
    writes,
)
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator, emulator_env

NUMBERS = [f"+1415555{3000 + i:04d}" for i in range(3)]


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(
        api_key="test-key", max_page_size=500, start_time=START, calls_per_minute=60
    )
    return make_emulator(config)


@pytest.fixture
def cli(make_cli: MakeCli, emulator: AnyEmulator) -> Cli:
    env = {
        **emulator_env(emulator),
        "ELEVENLABS_BASE_URL": emulator.base_url,
        "ELEVENLABS_API_KEY": emulator.api_key,
    }
    return make_cli(env, emulator)


def send_again(emulator: Any, entry: dict[str, Any]) -> dict[str, Any]:
    """The submit of `entry` once more, as a second apply running at the same time sends it."""
    path = entry["path"]
    header = (
        "X-API-Key"
        if path.startswith("/api/")
        else "xi-api-key"
        if "/convai/" in path
        else "x-api-key"
    )
    with emulator.http(headers={header: emulator.api_key}) as http:
        answer = http.post(path, json=entry["body"])
    assert answer.status_code in (200, 201), answer.text
    copy: dict[str, Any] = answer.json()
    return copy


def created(emulator: Any) -> dict[str, Any]:
    """The one batch submit the apply sent."""
    (entry,) = [
        r
        for r in writes(emulator)
        if r["method"] == "POST" and r["path"].endswith(("/scheduled_batches", "/submit"))
    ]
    return entry


def copy_and_kept(ids: list[str]) -> tuple[str, str]:
    """(the copy, the one kept) of two batches created in the same virtual second: the
    lowest id is kept, as every process agrees."""
    low, high = sorted(ids)
    return high, low


def no_number_in(text: str, numbers: list[str]) -> None:
    assert not any(n in text for n in numbers), text


# --- ScheduledBatch ------------------------------------------------------------------------


def test_a_copy_nobody_was_called_from_is_deleted_by_the_next_plan(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    first = created(emulator)
    send_again(emulator, first)
    assert scheduled_numbers(emulator) == dict.fromkeys(NUMBERS, 2)
    copy, kept = copy_and_kept([b["batchId"] for b in emulator.admin.state()["batches"]])

    status = cli("status", str(manifests))
    assert "2 batches (the first and 1 duplicate)" in status.stdout, status.output
    assert "supplemental" not in status.stdout
    assert f"duplicate: batch {copy} repeats 3 recipients of batch {kept}" in status.stdout
    assert "the next plan removes it" in status.stdout
    no_number_in(status.output, NUMBERS)

    plan = cli("plan", "--detailed-exitcode", str(manifests))
    assert plan.code == 2, plan.output
    assert f"duplicate: batch {copy} repeats 3 recipients of batch {kept}" in plan.stdout
    assert "so it is deleted and each is called once" in plan.stdout
    assert f"DELETE {first['path']}/{copy}" in plan.stdout
    no_number_in(plan.output, NUMBERS)

    emulator.admin.clear_requests()
    apply(cli, manifests)
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in writes(emulator)] == [
        ("DELETE", copy)
    ]
    assert scheduled_numbers(emulator) == dict.fromkeys(NUMBERS, 1)
    assert_empty_plan(cli, manifests)
    emulator.admin.advance(6 * 3600)
    assert len(emulator.admin.state()["calls"]) == len(NUMBERS)  # each dialled once


def test_copies_that_both_started_stop_the_plan_naming_batches_and_numbers(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    send_again(emulator, created(emulator))
    copy, kept = copy_and_kept([b["batchId"] for b in emulator.admin.state()["batches"]])
    emulator.admin.advance(3600 + 2)  # the window opened: both batches are dialling
    emulator.admin.clear_requests()
    plan = cli("plan", "--detailed-exitcode", str(manifests))
    assert plan.code == 1, plan.output
    message = plan.stderr
    assert "ScheduledBatch/renewals would call people twice" in message
    assert f"batch {copy} and batch {kept} both hold 1 recipient" in message  # one still to call
    assert "both have started" in message
    assert "+1415***3002" in message
    no_number_in(plan.output, NUMBERS)
    assert writes(emulator) == []
    status = cli("status", str(manifests))
    assert "both started: they may be called twice" in status.stdout


# --- BatchCall, both presets ---------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_a_duplicated_batch_call_is_cancelled_instead_of_refusing_every_plan(
    cli: Cli, emulator: Any, tmp_path: Path, preset: Preset
) -> None:
    manifests = write(tmp_path, campaign(preset, NUMBERS))
    apply(cli, manifests)
    send_again(emulator, created(emulator))
    copy, kept = copy_and_kept([b["id"] for b in batches(emulator, preset)])
    plan = cli("plan", "--detailed-exitcode", str(manifests))
    assert plan.code == 2, plan.output
    assert f"duplicate: batch {copy} repeats 3 recipients of batch {kept}" in plan.stdout
    assert f"POST {preset.prefix}/{copy}/cancel" in plan.stdout
    status = cli("status", str(manifests))
    assert "(the first and 1 duplicate)" in status.stdout and "supplemental" not in status.stdout

    apply(cli, manifests)
    assert {b["id"]: b["status"] for b in batches(emulator, preset)}[copy] == "cancelled"
    assert_empty_plan(cli, manifests)
    emulator.admin.advance(3600 + 60)
    called = [
        r["phone_number"]
        for b in batches(emulator, preset)
        for r in b["recipients"]
        if r["status"] != "cancelled"
    ]
    assert sorted(called) == NUMBERS
