"""Issue 12, item 5: `reconciler show PLAN_FILE` renders a saved plan without the network."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeEmulator

pytestmark = pytest.mark.usefixtures("checked_requests")

MANIFESTS = """
    kind: Agent
    name: acme_outbound
    callTemplate:
      systemPrompt: You call {{customerName}} about their renewal.
      voice: Mark
    ---
    kind: ScheduledBatch
    name: renewals
    agent: acme_outbound
    windowStart: "2030-01-14T16:00:00Z"
    windowEnd: "2030-01-14T20:00:00Z"
    calls:
      - medium: {twilio: {outgoing: {to: "+14155550123", from: "+14155550199"}}}
        templateContext: {customerName: Ada}
"""


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    start = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
    return make_emulator(EmulatorConfig(api_key="test-key", start_time=start))


def saved_plan(cli: Cli, tmp_path: Path, *extra: str) -> tuple[Path, dict[str, str]]:
    """A saved plan of MANIFESTS, and what `plan` printed in each format."""
    manifests = tmp_path / "manifests.yaml"
    manifests.write_text(textwrap.dedent(MANIFESTS).lstrip(), encoding="utf-8")
    out = tmp_path / "plan.json"
    printed = {}
    for fmt in ("text", "markdown", "json"):
        result = cli("plan", "--format", fmt, "--out", str(out), *extra, str(manifests))
        assert result.code == 0, result.output
        printed[fmt] = result.stdout
    return out, printed


def test_show_prints_what_plan_printed_in_every_format(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    out, printed = saved_plan(cli, tmp_path)
    emulator.admin.clear_requests()
    # No API key, no base URL: nothing to reach the account with, and nothing is asked of it.
    offline = {k: "" for k in ("ULTRAVOX_API_KEY", "ULTRAVOX_BASE_URL")}
    for fmt, expected in printed.items():
        shown = cli("show", "--format", fmt, str(out), env=offline)
        assert shown.code == 0, shown.output
        assert shown.stdout == expected
    assert cli("show", str(out), env=offline).stdout == printed["text"]
    assert emulator.admin.requests() == []
    text = printed["text"]
    assert text.startswith(f"No environment\n  ultravox: {emulator.base_url} (key from ")
    assert "+ ScheduledBatch/renewals will be created" in text
    # The file holds the number apply sends; what show prints masks it, as plan does.
    assert "+14155550123" in out.read_text(encoding="utf-8")
    assert "+14155550123" not in "".join(printed.values())
    assert json.loads(printed["json"])["summary"]["create"] == 2


def test_show_says_which_file_is_not_a_plan(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    for name, text in (("empty.json", ""), ("list.json", "[]"), ("other.json", '{"a": 1}')):
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = cli("show", str(tmp_path / name))
        assert result.code == 1, result.output
        assert result.stderr.startswith(f"Error: {tmp_path / name}")
        assert "Traceback" not in result.output
    missing = cli("show", str(tmp_path / "nowhere.json"))
    assert missing.code == 1
    assert "nowhere.json" in missing.stderr
    assert emulator.admin.requests() == []


@pytest.mark.e2e
def test_the_executable_shows_a_plan_with_no_account_at_all(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    out, printed = saved_plan(cli, tmp_path)
    # No key, and a base URL nothing listens on: show needs neither.
    nowhere = {"ULTRAVOX_API_KEY": "", "ULTRAVOX_BASE_URL": "http://127.0.0.1:9"}
    shown = cli("show", str(out), env=nowhere)
    assert shown.code == 0, shown.output
    assert shown.stdout == printed["text"]
