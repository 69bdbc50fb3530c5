"""Issue 13, item 6: `plan`, `show` and `apply` print request bodies whole, `--compact` cuts
them, and the field list names the defaults a create sends."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.usefixtures("checked_requests")

PROMPT = "You help callers of Acme with their orders, one step at a time. " * 25

MANIFEST = f"""
    kind: Agent
    name: long_prompt
    callTemplate:
      systemPrompt: "{PROMPT}"
      joinTimeout: 30s
      recordingEnabled: false
"""

BODY = {
    "name": "long_prompt",
    "callTemplate": {"systemPrompt": PROMPT, "joinTimeout": "30s", "recordingEnabled": False},
}


def request_line(stdout: str) -> str:
    (line,) = [x for x in stdout.splitlines() if x.startswith("    => ")]
    return line


def test_bodies_whole_unless_compact(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(textwrap.dedent(MANIFEST).lstrip(), encoding="utf-8")
    saved = tmp_path / "plan.json"

    plan = cli("plan", "--out", str(saved), str(manifest))
    assert plan.code == 0, plan.output
    # The body apply sends, in the order it sends its keys.
    (request,) = json.loads(saved.read_text(encoding="utf-8"))["changes"][0]["requests"]
    assert request["body"] == BODY
    whole = json.dumps(request["body"], ensure_ascii=False)
    assert len(whole) > 1200
    assert request_line(plan.stdout) == f"    => POST /api/agents {whole}"
    assert plan.stdout.splitlines()[3:7] == [
        "+ Agent/long_prompt will be created",
        '    + callTemplate.joinTimeout: "30s" (default)',
        "    + callTemplate.recordingEnabled: false (default)",
        f"    + callTemplate.systemPrompt: {json.dumps(PROMPT)}",
    ]

    compact = cli("plan", "--compact", str(manifest))
    assert compact.code == 0, compact.output
    cut = f"{whole[:1200]}... ({len(whole):,} characters in all)"
    assert request_line(compact.stdout) == f"    => POST /api/agents {cut}"
    # Only the body line differs.
    assert compact.stdout.replace(cut, whole) == plan.stdout

    # show renders the saved plan as plan printed it, whole or compact.
    assert cli("show", str(saved)).stdout == plan.stdout
    assert cli("show", "--compact", str(saved)).stdout == compact.stdout

    # apply shows the same plan before it acts, whole or, with --compact, cut.
    applied = cli("apply", "--auto-approve", "--compact", str(manifest))
    assert applied.code == 0, applied.output
    assert applied.stdout.startswith(compact.stdout)
    assert whole not in applied.stdout

    markdown = cli("show", "--format", "markdown", str(saved)).stdout
    assert json.dumps(request["body"], indent=2, ensure_ascii=False) in markdown
    assert '+ callTemplate.joinTimeout: "30s" (default)' in markdown.splitlines()


@pytest.mark.parametrize("command", ["plan", "show", "apply"])
def test_compact_is_documented(cli: Cli, command: str) -> None:
    shown = cli(command, "--help")
    assert shown.code == 0
    assert (
        " ".join(shown.stdout.split()).count(
            "--compact Text: cut request bodies after 1,200 characters (else printed whole)."
        )
        == 1
    )


def test_markdown_bodies_hold_references_and_masked_numbers_only(tmp_path: Path) -> None:
    from tests.cli.test_security_cli import ENV, clean, echoing, layout
    from tests.support.hostile import run

    result = run(["plan", "--format", "markdown", str(layout(tmp_path))], echoing, env=ENV)
    assert result.code == 0, result.output
    clean(result.output)
    bodies = result.stdout.split("```json\n")[1:]
    assert len(bodies) == 2  # the agent's POST and the batch's
    agent, batch = (json.loads(block.split("\n```")[0]) for block in bodies)
    assert agent["callTemplate"]["sharedSecrets"] == ["(secret from $SHARED)"]
    assert agent["callTemplate"]["selectedTools"][0]["authTokens"] == {
        "X-Api-Key": "(secret from $TOOL_TOKEN)"
    }
    # Numbers in free text masked too (how much of one stays is the masker's, not pinned here).
    prompt = agent["callTemplate"]["systemPrompt"]
    assert prompt.startswith("Call +1415***0123 or ") and "***0199 if the line drops." in prompt
    assert batch["webhookSecret"] == "(secret from $HOOK_SECRET)"
    assert batch["calls"][0]["templateContext"] == {"callback": "+1415***0123"}
