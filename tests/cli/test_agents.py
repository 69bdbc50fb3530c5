"""End to end: the `reconciler` command against the emulator, in process (`cli`); the tests
marked e2e run the real executable against the emulator over loopback HTTP instead.

Every scenario ends with a plan that must be empty, and every request body the tool sent is
checked against Ultravox's OpenAPI schema (`checked_requests`).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Cli

pytestmark = pytest.mark.usefixtures("checked_requests")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def writes(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.requests() if r["method"] != "GET"]


def agents(emulator: Any) -> dict[str, dict[str, Any]]:
    state = emulator.admin.state()
    return (
        {a["name"]: a for a in state["agents"].values()}
        if isinstance(state["agents"], dict)
        else {a["name"]: a for a in state["agents"]}
    )


def copy_examples(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "agents", target)
    return target


def assert_empty_plan(cli: Cli, path: Path) -> None:
    result = cli("plan", "--detailed-exitcode", str(path))
    assert result.code == 0, result.output
    assert "No changes." in result.stdout


ONE_AGENT = """
    kind: Agent
    name: support
    callTemplate:
      systemPrompt: |
        You help customers of {{company}}.
        Be brief.
      voice: Mark
      temperature: 0.4
      joinTimeout: 30s
      vadSettings:
        turnEndpointDelay: 0.5s
      selectedTools:
        - toolName: hangUp
"""


def test_one_changed_field_is_one_patch_with_only_that_key(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifest = write(tmp_path, "agent.yaml", ONE_AGENT)
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    manifest.write_text(manifest.read_text().replace("temperature: 0.4", "temperature: 0.7"))
    emulator.admin.clear_requests()

    plan = cli("plan", str(manifest))
    assert "~ Agent/support will be updated in place" in plan.stdout
    assert "callTemplate.temperature: 0.4 -> 0.7" in plan.stdout
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.stdout

    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    sent = writes(emulator)
    assert len(sent) == 1
    assert sent[0]["method"] == "PATCH"
    assert sent[0]["body"] == {"callTemplate": {"temperature": 0.7}}
    assert_empty_plan(cli, manifest)


def test_nested_change_sends_the_whole_top_level_key(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifest = write(tmp_path, "agent.yaml", ONE_AGENT)
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    manifest.write_text(
        manifest.read_text().replace(
            "turnEndpointDelay: 0.5s", "turnEndpointDelay: 0.64s\n    minimumTurnDuration: 0.1s"
        )
    )
    emulator.admin.clear_requests()
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    sent = writes(emulator)
    assert [s["body"] for s in sent] == [
        {
            "callTemplate": {
                "vadSettings": {"turnEndpointDelay": "0.64s", "minimumTurnDuration": "0.1s"}
            }
        }
    ]
    assert_empty_plan(cli, manifest)


def test_console_edit_is_detected_and_repaired(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifest = write(tmp_path, "agent.yaml", ONE_AGENT)
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    agent = agents(emulator)["support"]
    emulator.admin.console_patch_agent(
        agent["agentId"], {"callTemplate": {"voice": "Jessica", "recordingEnabled": True}}
    )
    emulator.admin.clear_requests()

    plan = cli("plan", "--detailed-exitcode", str(manifest))
    assert plan.code == 2, plan.output
    assert 'callTemplate.voice: "Jessica" -> "Mark"' in plan.stdout
    assert "callTemplate.recordingEnabled: true -> (unset)" in plan.stdout

    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    sent = writes(emulator)
    assert len(sent) == 1
    assert sent[0]["body"] == {"callTemplate": {"recordingEnabled": None, "voice": "Mark"}}
    assert_empty_plan(cli, manifest)


def test_removing_a_field_clears_it(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifest = write(tmp_path, "agent.yaml", ONE_AGENT)
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    manifest.write_text(
        manifest.read_text().replace("  selectedTools:\n    - toolName: hangUp\n", "")
    )
    emulator.admin.clear_requests()

    plan = cli("plan", str(manifest))
    assert "- callTemplate.selectedTools" in plan.stdout
    assert cli("apply", "--auto-approve", str(manifest)).code == 0
    assert [s["body"] for s in writes(emulator)] == [{"callTemplate": {"selectedTools": None}}]
    assert "selectedTools" not in agents(emulator)["support"]["callTemplate"]
    assert_empty_plan(cli, manifest)


def test_a_burst_of_429s_is_survived(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    emulator.admin.set_faults([{"status": 429, "count": 4, "retry_after": "0"}])
    applied = cli("apply", "--auto-approve", str(manifests))
    assert applied.code == 0, applied.output
    statuses = [r["status"] for r in emulator.admin.requests()]
    assert statuses.count(429) == 4
    assert cli.waits == [0.0] * 4  # as Retry-After said, each answered with one retry
    assert len(agents(emulator)) == 3
    assert_empty_plan(cli, manifests)


def test_no_terminal_and_no_approval_sends_nothing(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    result = cli("apply", str(manifests))
    assert result.code == 1
    assert "--auto-approve" in result.stderr
    assert "Nothing was sent" in result.stderr
    assert writes(emulator) == []


def test_wrong_key_is_a_clear_error(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    result = cli("plan", str(manifests), env={"ULTRAVOX_API_KEY": "not-the-key"})
    assert result.code == 1
    assert "GET /api/agents -> HTTP 403" in result.stderr
    assert "Invalid API key." in result.stderr
    assert "not-the-key" not in result.output
    assert "Traceback" not in result.output


def test_prune_deletes_only_with_the_flag(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    # --prune deletes only what an Ownership document claims (issue 12).
    write(manifests, "ownership.yaml", 'kind: Ownership\nname: acme\nclaims: {Agent: ["acme_*"]}\n')
    assert cli("apply", "--auto-approve", str(manifests)).code == 0
    (manifests / "text.yaml").unlink()
    assert_empty_plan(cli, manifests)
    plan = cli("plan", "--prune", str(manifests))
    assert "- Agent/acme_web_chat will be deleted" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 1 to delete." in plan.stdout
    emulator.admin.clear_requests()
    assert cli("apply", "--auto-approve", "--prune", str(manifests)).code == 0
    assert [r["method"] for r in writes(emulator)] == ["DELETE"]
    assert set(agents(emulator)) == {"acme_support", "acme_renewals_outbound"}


def test_markdown_and_json_formats(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    markdown = cli("plan", "--format", "markdown", str(manifests))
    assert markdown.code == 0
    assert "**Plan: 3 to create, 0 to update, 0 to delete.**" in markdown.stdout
    # A section per agent, and its POST body collapsed in a block of its own.
    assert markdown.stdout.count("<details>") == 6
    assert markdown.stdout.count("<details><summary><code>POST /api/agents</code> (body)") == 3
    as_json = json.loads(cli("plan", "--format", "json", str(manifests)).stdout)
    assert as_json["summary"] == {"create": 3, "update": 0, "delete": 0, "replace": 0}
    assert {c["action"] for c in as_json["changes"]} == {"create"}
    assert all(c["requests"][0]["method"] == "POST" for c in as_json["changes"])


def test_contract_schema_is_present(contract: Any) -> None:
    if contract is None:
        pytest.skip("../shared/api/ultravox-openapi.yaml is absent: request bodies are not checked")
    assert contract.problems("POST", "/api/agents", {"name": "x", "callTemplate": {"voise": "a"}})


def test_a_failure_mid_apply_says_what_was_done_and_next_plan_resumes(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = copy_examples(tmp_path)
    write(
        manifests,
        "batch.yaml",
        """
        kind: ScheduledBatch
        name: callbacks
        agent: acme_web_chat
        windowStart: "2031-01-01T09:00:00Z"
        windowEnd: "2031-01-01T17:00:00Z"
        calls:
          - medium: {twilio: {outgoing: {to: "+14155550100", from: "+14155550199"}}}
            templateContext: {companyName: Acme}
        """,
    )
    # The server fails one agent create outright (a 500 on a POST is never retried).
    emulator.admin.set_faults([{"status": 500, "count": 1, "method": "POST"}])
    failed = cli("apply", "--auto-approve", "--concurrency", "1", str(manifests))
    assert failed.code == 1
    assert "Apply failed: 2 done, 1 failed, 1 not attempted." in failed.stderr
    assert "HTTP 500" in failed.stderr
    assert "not attempted:\n    - ScheduledBatch/callbacks" in failed.stderr
    assert "FAILED" in failed.stdout and failed.stdout.count("ok  create  ") == 2

    resumed = cli("plan", str(manifests))
    assert "Plan: 2 to create, 0 to update, 0 to delete." in resumed.stdout
    assert cli("apply", "--auto-approve", str(manifests)).code == 0
    assert_empty_plan(cli, manifests)


def test_create_three_agents_then_replan_is_empty(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    assert cli("validate", str(manifests)).code == 0

    plan = cli("plan", str(manifests))
    assert plan.code == 0, plan.output
    assert "Plan: 3 to create, 0 to update, 0 to delete." in plan.stdout
    assert [r["method"] for r in emulator.admin.requests()] == ["GET"]

    applied = cli("apply", "--auto-approve", str(manifests))
    assert applied.code == 0, applied.output
    assert "Apply complete: 3 changed." in applied.stdout
    posts = [r for r in writes(emulator)]
    assert [r["method"] for r in posts] == ["POST"] * 3
    assert {r["body"]["name"] for r in posts} == {
        "acme_support",
        "acme_renewals_outbound",
        "acme_web_chat",
    }
    emulator.admin.clear_requests()
    assert_empty_plan(cli, manifests)
    # With pageSize clamped to 2 by this emulator, listing 3 agents takes 2 pages, no GET per agent.
    assert [(r["method"], r["path"]) for r in emulator.admin.requests()] == [
        ("GET", "/api/agents"),
        ("GET", "/api/agents"),
    ]


def test_missing_key_names_the_variable(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = copy_examples(tmp_path)
    result = cli("plan", str(manifests), env={"ULTRAVOX_API_KEY": ""})
    assert result.code == 1
    assert "ULTRAVOX_API_KEY" in result.stderr
    assert emulator.admin.requests() == []
