"""Apply reports what it knows (issue 10, item 6), through the command in process.

* A write whose answer was lost says it may have taken effect and the next plan will tell
  (UNKNOWN), never FAILED.
* A DELETE whose retry is answered 404 (the first attempt did it, its answer lost) is done.
* A replace that got halfway says what it removed and that the campaign is absent until the
  next apply, and the summary counts it as partly done, not "0 done".
* A campaign write skipped because the account changed says so and sends nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.cli.test_batches import START, apply, assert_empty_plan, batch, write_manifests, writes
from tests.conftest import AnyEmulator, Cli, MakeEmulator

NUMBERS = [f"+1415555{4200 + i:04d}" for i in range(3)]
SHORT = ("--request-timeout", "0.3")
"""Well under the 1 s an answer is held back, well over an answer in process."""


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(EmulatorConfig(api_key="test-key", start_time=START, calls_per_minute=1))


def test_a_write_whose_answer_was_lost_may_have_taken_effect(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "agent.yaml").write_text(
        (manifests / "agent.yaml").read_text().replace("voice: Mark", "voice: Jessica")
    )
    emulator.admin.set_faults(mode="accept_then_hang", count=1, seconds=1.0, method="PATCH")
    result = cli(*SHORT, "apply", "--auto-approve", str(manifests))
    assert result.code == 1, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("UNKNOWN ")]
    assert line.startswith(f"UNKNOWN update  Agent/caller: PATCH {emulator.base_url}/api/agents/")
    assert "failed after 1 attempt: ReadTimeout: no complete answer within" in line
    assert line.endswith("it may have taken effect; the next plan will tell")
    assert "FAILED" not in result.output
    assert "Apply failed: 0 done, 1 may have taken effect, 0 failed" in result.stderr
    assert "may have taken effect (the next plan will tell):" in result.stderr
    assert_empty_plan(cli, manifests)  # it had: the next plan tells


def test_a_delete_whose_retry_finds_it_gone_counts_as_done(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "batch.yaml").write_text(batch(NUMBERS[:2]))  # nobody called yet: replace
    emulator.admin.set_faults(mode="accept_then_hang", count=1, seconds=1.0, method="DELETE")
    emulator.admin.clear_requests()
    result = cli(*SHORT, "apply", "--auto-approve", str(manifests))
    assert result.code == 0, result.output
    assert re.search(r"^ok +replace +ScheduledBatch/renewals", result.stdout, re.MULTILINE)
    deletes = [r for r in writes(emulator) if r["method"] == "DELETE"]
    assert [r["status"] for r in deletes] == [204, 404]  # done, then found gone: done
    assert "Apply complete: 1 changed." in result.stdout
    assert_empty_plan(cli, manifests)


def test_a_replace_that_got_halfway_says_the_campaign_is_absent_until_the_next_apply(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = write_manifests(tmp_path, batch(NUMBERS))
    apply(cli, manifests)
    (manifests / "batch.yaml").write_text(batch(NUMBERS[:2]))
    # The DELETE goes through; the server fails the new batch's POST (a 500: not done).
    emulator.admin.set_faults(status=500, count=1, method="POST")
    result = cli("apply", "--auto-approve", str(manifests))
    assert result.code == 1, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("PARTIAL ")]
    assert line.startswith("PARTIAL replace ScheduledBatch/renewals: POST ")
    assert "halfway: DELETE /api/agents/" in line and "took effect (the old batch removed)" in line
    assert "ScheduledBatch/renewals is absent until the next apply" in line
    assert "Apply failed: 0 done, 1 partly done, 0 failed, 0 not attempted." in result.stderr
    assert emulator.admin.state()["batches"] == []
    plan = cli("plan", str(manifests))
    assert "+ ScheduledBatch/renewals will be created" in plan.stdout
    apply(cli, manifests)
    assert_empty_plan(cli, manifests)
