"""`status` as the real executable, on a campaign the emulator dials on its virtual clock
(the other campaign scenarios run in process: tests/cli/test_batches.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_batches import CONFIG, NUMBERS, apply, batch, write_manifests
from tests.conftest import AnyEmulator, Cli, MakeEmulator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("checked_requests")]


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(CONFIG)


def test_status_reports_progress_with_masked_numbers(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    numbers = [*NUMBERS[:3], "+14155550199"]  # a number ending in 99 fails in the emulator
    manifests = write_manifests(tmp_path, batch(numbers))
    before = cli("status", str(manifests))
    assert before.code == 0, before.output
    assert "ScheduledBatch/renewals: not created" in before.stdout
    apply(cli, manifests)
    emulator.admin.advance(3600 + 5 * 60)  # four calls at one a minute: all made
    emulator.admin.clear_requests()

    text = cli("status", str(manifests))
    assert text.code == 0, text.output
    assert "ScheduledBatch/renewals: ended" in text.stdout
    assert "4/4 completed" in text.stdout
    assert "SUCCESS: 3" in text.stdout
    assert "ERROR: 1" in text.stdout
    assert "+1415***1000" in text.stdout
    for number in numbers:
        assert number not in text.output
    assert {r["method"] for r in emulator.admin.requests()} == {"GET"}

    report = json.loads(cli("status", "--format", "json", str(manifests)).stdout)
    campaign = report["campaigns"][0]
    assert campaign["statuses"] == {
        "FUTURE": 0,
        "PENDING": 0,
        "SUCCESS": 3,
        "EXPIRED": 0,
        "ERROR": 1,
    }
    assert campaign["total"] == 4
    assert sum(campaign["endReasons"].values()) == 3
    assert len(campaign["calls"]) == 3
    assert all(c["endReason"] for c in campaign["calls"])
