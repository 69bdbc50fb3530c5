"""Recipients the manifests want called that can no longer be are never "No changes"
(issue 10, item 5), through the command in process against the emulator's virtual clock.

Added to a campaign whose window has closed, they make `plan` (and `apply`) exit 1, naming the
campaign, the masked numbers and the ways out; nothing is sent. Added to a campaign that ended
early while its window is still open, they are scheduled in a supplemental batch and called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.cli.test_batchcall import PRESETS, campaign, write
from tests.cli.test_batches import (
    START,
    apply,
    assert_empty_plan,
    batch,
    scheduled_numbers,
    write_manifests,
    writes,
)
from tests.conftest import AnyEmulator, MakeEmulator
from tests.support.cli import Cli

NUMBERS = [f"+1415555{3000 + i:04d}" for i in range(3)]


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(
        api_key="test-key", max_page_size=500, start_time=START, calls_per_minute=60
    )
    return make_emulator(config)


def no_number_in(text: str, numbers: list[str]) -> None:
    assert not any(n in text for n in numbers), text


def test_a_recipient_added_after_the_window_closed_is_an_error_not_no_changes(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    emulator.admin.advance(6 * 3600)  # past windowEnd: the batch ended
    (manifests / "batch.yaml").write_text(batch([*NUMBERS, "+14155553888"]))
    emulator.admin.clear_requests()
    for args in (("plan",), ("plan", "--detailed-exitcode"), ("apply", "--auto-approve")):
        result = cli(*args, str(manifests))
        assert result.code == 1, result.output
        assert "No changes" not in result.stdout
        message = result.stderr
        assert "ScheduledBatch/renewals: 1 recipient the manifest wants called" in message
        assert (
            "+1415***3888" in message
            and "windowEnd 2030-01-14T20:00:00Z is already past" in message
        )
        assert "a new window" in message and "a new ScheduledBatch" in message
        assert "remove them from the manifest" in message
        no_number_in(result.output, ["+14155553888"])
    assert writes(emulator) == []


def test_a_recipient_added_after_the_batch_ended_early_is_still_called(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    emulator.admin.advance(3600 + 10)  # three calls at one a second: ended, window open
    assert all(b["endedAt"] for b in emulator.admin.state()["batches"])
    added = "+14155553888"
    (manifests / "batch.yaml").write_text(batch([*NUMBERS, added]))
    plan = cli("plan", str(manifests))
    assert plan.code == 0, plan.output
    assert "1 recipient added after the campaign ended" in plan.stdout
    apply(cli, manifests)
    assert_empty_plan(cli, manifests)
    emulator.admin.advance(120)  # held for 60 s after submission, then dialled
    assert scheduled_numbers(emulator) == dict.fromkeys([*NUMBERS, added], 1)
    assert len(emulator.admin.state()["calls"]) == len(NUMBERS) + 1


def test_a_recipient_added_to_a_batch_call_cancelled_after_calls_started_is_an_error(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    threetone = PRESETS[0]
    manifests = write(tmp_path, campaign(threetone, NUMBERS))
    apply(cli, manifests)
    emulator.admin.advance(3600 + 1)  # scheduled at 16:00: the first calls are under way
    cancelled = campaign(threetone, NUMBERS, extra="cancelled: true\n")
    write(tmp_path, cancelled)
    apply(cli, manifests)
    write(tmp_path, campaign(threetone, [*NUMBERS, "+14155553888"]))
    emulator.admin.clear_requests()
    result = cli("plan", "--detailed-exitcode", str(manifests))
    assert result.code == 1, result.output
    assert "BatchCall/spring: it was cancelled after calls started" in result.stderr
    assert "1 recipient the manifest wants called can no longer be" in result.stderr
    assert "+1415***3888" in result.stderr and "a new BatchCall" in result.stderr
    no_number_in(result.output, ["+14155553888"])
    assert writes(emulator) == []
