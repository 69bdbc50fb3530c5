"""Rendering a plan: text for terminals, markdown for pull requests, json for machines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from reconciler.core.domain import (
    Action,
    Change,
    DesiredResource,
    FieldChange,
    FieldOp,
    Plan,
    Read,
    Request,
    ResourceKey,
    SourceRef,
)
from reconciler.core.masking import mask_phone, masked
from reconciler.core.planning import PlanOptions
from reconciler.core.render import (
    RENDERERS,
    render_json,
    render_markdown,
    render_text,
    summary_line,
)
from reconciler.providers.ultravox.agents import AgentType

ANSI = re.compile(r"\x1b\[[0-9;]*m")

CREATE = Change(
    ResourceKey("Agent", "new_bot"),
    "ultravox",
    Action.CREATE,
    fields=(
        FieldChange("callTemplate", FieldOp.ADD, after={"voice": "Mark"}),
        FieldChange("name", FieldOp.ADD, after="new_bot"),
    ),
    requests=(
        Request(
            "POST",
            "/api/agents",
            {"name": "new_bot", "callTemplate": {"voice": "Mark"}},
            capture="agentId",
        ),
    ),
    order=10,
)
UPDATE = Change(
    ResourceKey("Agent", "support_bot"),
    "ultravox",
    Action.UPDATE,
    fields=(
        FieldChange(
            "callTemplate.systemPrompt",
            FieldOp.CHANGE,
            "You are a bot.\nBe kind.\nSay goodbye.\n",
            "You are a bot.\nBe brief.\nSay goodbye.\n",
        ),
        FieldChange("callTemplate.temperature", FieldOp.CHANGE, 0.2, 0.4),
        FieldChange("callTemplate.voice", FieldOp.REMOVE, before="Mark"),
    ),
    requests=(
        Request(
            "PATCH",
            "/api/agents/a-1",
            {"callTemplate": {"systemPrompt": "You are a bot.\nBe brief.\nSay goodbye.\n"}},
        ),
    ),
    resource_id="a-1",
    order=10,
)
DELETE = Change(
    ResourceKey("Agent", "old_bot"),
    "ultravox",
    Action.DELETE,
    fields=(FieldChange("name", FieldOp.REMOVE, before="old_bot"),),
    requests=(Request("DELETE", "/api/agents/a-2"),),
    resource_id="a-2",
    order=990,
)
PLAN = Plan(changes=(CREATE, UPDATE, DELETE), warnings=("Agent/x: mind the gap",))


# --- summary ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ((), "No changes. The live state matches the manifests."),
        ((CREATE,), "Plan: 1 to create, 0 to update, 0 to delete."),
        ((CREATE, UPDATE, DELETE), "Plan: 1 to create, 1 to update, 1 to delete."),
        ((UPDATE, UPDATE, DELETE), "Plan: 0 to create, 2 to update, 1 to delete."),
        (
            (Change(ResourceKey("Agent", "r"), "ultravox", Action.REPLACE),),
            "Plan: 0 to create, 0 to update, 0 to delete, 1 to replace.",
        ),
    ],
)
def test_summary_is_the_last_line(changes: tuple[Change, ...], expected: str) -> None:
    plan = Plan(changes=changes)
    assert summary_line(plan) == expected
    assert render_text(plan).splitlines()[-1] == expected
    assert render_text(plan, color=True).splitlines()[-1] == expected


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "+ Agent/new_bot will be created",
        '    + name: "new_bot"',
        '    + callTemplate: {"voice": "Mark"}',
        '    => POST /api/agents {"name": "new_bot", "callTemplate": {"voice": "Mark"}}',
        "~ Agent/support_bot will be updated in place (id a-1)",
        "    ~ callTemplate.temperature: 0.2 -> 0.4",
        '    - callTemplate.voice: "Mark" -> (unset)',
        "    ~ callTemplate.systemPrompt:",
        '    => PATCH /api/agents/a-1 {"callTemplate": '
        '{"systemPrompt": "You are a bot.\\nBe brief.\\nSay goodbye.\\n"}}',
        "- Agent/old_bot will be deleted (id a-2)",
        "    => DELETE /api/agents/a-2",
        "Warning: Agent/x: mind the gap",
    ],
)
def test_text_lines(line: str) -> None:
    assert line in render_text(PLAN).splitlines()


def test_text_multiline_string_is_a_unified_diff() -> None:
    lines = render_text(PLAN).splitlines()
    start = lines.index("    ~ callTemplate.systemPrompt:")
    block = [line.strip() for line in lines[start + 1 : start + 6]]
    assert block[:2] == ["@@ -1,3 +1,3 @@", "You are a bot."]
    # Each changed line is marked once, by the row's own +/- column.
    assert block[2].split() == ["-", "Be", "kind."]
    assert block[3].split() == ["+", "Be", "brief."]
    assert block[4] == "Say goodbye."
    # Unchanged lines are context, not shown as changes.
    assert not lines[start + 2].lstrip().startswith(("+", "-"))


def test_text_order_follows_the_plan() -> None:
    text = render_text(PLAN)
    positions = [text.index(s) for s in ("Agent/new_bot", "Agent/support_bot", "Agent/old_bot")]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("color", "has_escapes"),
    [(False, False), (True, True)],
)
def test_color(color: bool, has_escapes: bool) -> None:
    text = render_text(PLAN, color=color)
    assert ("\x1b[" in text) is has_escapes
    # Colour changes the look, never the words.
    assert ANSI.sub("", text) == render_text(PLAN, color=False)


def test_color_per_action() -> None:
    lines = render_text(PLAN, color=True).splitlines()
    assert "\x1b[32m+ Agent/new_bot will be created\x1b[0m" in lines
    assert "\x1b[33m~ Agent/support_bot will be updated in place (id a-1)\x1b[0m" in lines
    assert "\x1b[31m- Agent/old_bot will be deleted (id a-2)\x1b[0m" in lines


def test_no_changes_text() -> None:
    # Where the plan acts comes first (issue 12).
    assert render_text(Plan()) == (
        "No environment\n\nNo changes. The live state matches the manifests."
    )


def test_long_request_body_is_cut_when_compact() -> None:
    prompt = "x" * 5000
    change = Change(
        ResourceKey("Agent", "a"),
        "ultravox",
        Action.UPDATE,
        requests=(Request("PATCH", "/api/agents/1", {"callTemplate": {"systemPrompt": prompt}}),),
    )
    plan = Plan(changes=(change,))
    (line,) = [x for x in render_text(plan, compact=True).splitlines() if "=>" in x]
    assert prompt not in line
    assert line.endswith("characters in all)")


# --- secrets and phone numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+14155550100", "+1415***0100"),
        ("+442071838750", "+4420***8750"),
        ("+1234567", "+1234***4567"),
        ("14155550100", "14155550100"),  # not E.164 (no +)
        ("+1415", "+1415"),  # too short to be a number
        ("call +14155550100", "call +14155550100"),  # only whole values
        ("Mark", "Mark"),
    ],
)
def test_mask_phone(text: str, expected: str) -> None:
    assert mask_phone(text) == expected


def test_masked_walks_json() -> None:
    value = {
        "medium": {"twilio": {"outgoing": {"to": "+14155550100", "from": "+14155550199"}}},
        "calls": [{"to": "+14155550101"}, "+14155550102", 7, None],
        "token": {"$secret": "API_TOKEN"},
    }
    assert masked(value) == {
        "medium": {"twilio": {"outgoing": {"to": "+1415***0100", "from": "+1415***0199"}}},
        "calls": [{"to": "+1415***0101"}, "+1415***0102", 7, None],
        "token": "(secret from $API_TOKEN)",
    }


PRIVATE = Plan(
    changes=(
        Change(
            ResourceKey("Agent", "dialer"),
            "ultravox",
            Action.UPDATE,
            fields=(
                FieldChange(
                    "callTemplate.medium.twilio.outgoing.to",
                    FieldOp.CHANGE,
                    "+14155550100",
                    "+14155550177",
                ),
                FieldChange(
                    "callTemplate.sharedSecrets",
                    FieldOp.CHANGE,
                    "hunter2",
                    "correct-horse",
                    sensitive=True,
                ),
                FieldChange(
                    "callTemplate.medium.sip.outgoing.password",
                    FieldOp.ADD,
                    after="p@ss\nword",
                    sensitive=True,
                ),
            ),
            requests=(
                Request(
                    "PATCH",
                    "/api/agents/a-9",
                    {
                        "callTemplate": {
                            "medium": {"twilio": {"outgoing": {"to": "+14155550177"}}},
                            "sharedSecrets": {"$secret": "SHARED"},
                        }
                    },
                ),
            ),
            resource_id="a-9",
        ),
    )
)


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(lambda p: render_text(p), id="text"),
        pytest.param(lambda p: render_text(p, color=True), id="text-color"),
        pytest.param(lambda p: render_markdown(p), id="markdown"),
    ],
)
def test_no_phone_number_or_secret_in_human_output(render: Callable[[Plan], str]) -> None:
    out = render(PRIVATE)
    for secret in ("+14155550100", "+14155550177", "hunter2", "correct-horse", "p@ss"):
        assert secret not in out
    assert "+1415***0100" in out and "+1415***0177" in out
    assert "callTemplate.sharedSecrets: (sensitive value)" in out
    assert "callTemplate.medium.sip.outgoing.password: (sensitive value)" in out


def test_text_request_body_masks_numbers_and_names_secrets() -> None:
    (line,) = [x for x in render_text(PRIVATE).splitlines() if "=>" in x]
    assert line == (
        '    => PATCH /api/agents/a-9 {"callTemplate": {"medium": {"twilio": {"outgoing": '
        '{"to": "+1415***0177"}}}, "sharedSecrets": "(secret from $SHARED)"}}'
    )


def test_json_never_carries_sensitive_values() -> None:
    out = render_json(PRIVATE)
    assert "hunter2" not in out and "correct-horse" not in out and "p@ss" not in out


# --- markdown --------------------------------------------------------------------------------


def test_markdown_layout() -> None:
    md = render_markdown(PLAN)
    lines = md.splitlines()
    assert lines[0] == "No environment"  # where the plan acts comes first (issue 12)
    assert lines[2] == "**Plan: 1 to create, 1 to update, 1 to delete.**"
    assert "> Agent/x: mind the gap" in lines
    assert "Destroys: `Agent/old_bot`" in lines
    # A section per resource, and a collapsed block per request body (POST and PATCH).
    assert md.count("<details>") == 5 and md.count("</details>") == 5
    assert md.count("```diff") == 3 and md.count("```json") == 2
    # The summary comes before any resource detail.
    assert md.index("Plan: 1 to create") < md.index("<details>")
    for name in ("new_bot", "support_bot", "old_bot"):
        assert f"<b>Agent/{name}</b>" in md
    assert "<details><summary><code>PATCH /api/agents/a-1</code> (body)</summary>" in lines
    assert "- `DELETE /api/agents/a-2`" in lines
    assert "! callTemplate.temperature: 0.2 -> 0.4" in lines
    assert '- callTemplate.voice: "Mark" -> (unset)' in lines
    assert "\x1b[" not in md


def test_markdown_no_changes() -> None:
    md = render_markdown(Plan())
    assert "**No changes. The live state matches the manifests.**" in md
    assert "<details>" not in md


@pytest.mark.parametrize("count", [5, 40])
def test_markdown_cut_to_limit(count: int) -> None:
    changes = tuple(
        Change(
            ResourceKey("Agent", f"bot_{i:02}"),
            "ultravox",
            Action.UPDATE,
            fields=(
                FieldChange("callTemplate.systemPrompt", FieldOp.CHANGE, "a" * 300, "b" * 300),
            ),
            resource_id=f"a-{i}",
        )
        for i in range(count)
    )
    plan = Plan(changes=(*changes, DELETE), warnings=("keep me",))
    limit = 1500 + 60 * count  # room for the table, a row per resource, and a section or two
    md = render_markdown(plan, limit=limit)
    assert len(md) <= limit
    assert f"**Plan: 0 to create, {count} to update, 1 to delete.**" in md
    assert "> keep me" in md
    assert "Destroys: `Agent/old_bot`" in md
    kept = md.count("<details>")
    assert 0 < kept < count + 1
    assert f"_{count + 1 - kept} of {count + 1} resource details were cut" in md
    # Whole sections only: nothing is cut mid-block.
    assert md.count("```diff") == kept and md.count("</details>") == kept
    # The table keeps every resource and its action.
    for i in range(count):
        assert f"| `~` | `Agent/bot_{i:02}` | update (id `a-{i}`) |" in md.splitlines()
    assert "| `-` | `Agent/old_bot` | delete (id `a-2`) |" in md.splitlines()
    # Without a limit nothing is cut.
    full = render_markdown(plan)
    assert full.count("<details>") == count + 1 and "were cut" not in full


# --- json ------------------------------------------------------------------------------------


def test_json_render() -> None:
    plan = Plan(
        changes=PLAN.changes,
        reads=(Read(ResourceKey("Agent", "new_bot"), "ultravox", None, None),),
    )
    data = json.loads(render_json(plan))
    assert data["format_version"] == 1
    assert data["summary"] == {"create": 1, "update": 1, "delete": 1, "replace": 0}
    assert [(c["kind"], c["name"], c["action"]) for c in data["changes"]] == [
        ("Agent", "new_bot", "create"),
        ("Agent", "support_bot", "update"),
        ("Agent", "old_bot", "delete"),
    ]
    update = data["changes"][1]
    assert update["fields"][1] == {
        "path": "callTemplate.temperature",
        "op": "change",
        "before": 0.2,
        "after": 0.4,
    }
    assert update["requests"] == [
        {
            "method": "PATCH",
            "path": "/api/agents/a-1",
            "body": {"callTemplate": {"systemPrompt": "You are a bot.\nBe brief.\nSay goodbye.\n"}},
        }
    ]
    assert data["changes"][0]["requests"][0]["capture"] == "agentId"
    assert json.loads(render_json(Plan()))["changes"] == []


@pytest.mark.parametrize("name", ["text", "markdown", "json"])
def test_renderers_registry(name: str) -> None:
    out = RENDERERS[name](PLAN)
    assert isinstance(out, str) and "support_bot" in out


def test_planned_create_renders_field_by_field_without_secrets() -> None:
    template = {
        "systemPrompt": "You are the agent.\nBe kind.\n",
        "externalVoice": {
            "generic": {"url": "https://tts.example", "headers": {"Authorization": "Bearer sk-1"}}
        },
    }
    wanted = DesiredResource(
        ResourceKey("Agent", "voice_bot"),
        "ultravox",
        {"name": "voice_bot", "callTemplate": template},
        SourceRef("agents.yaml", 1),
    )
    change = AgentType().plan(wanted, None, PlanOptions())
    assert change is not None
    field_lines = render_text(Plan(changes=(change,))).split("    =>")[0].splitlines()
    assert field_lines[:3] == ["No environment", "", "+ Agent/voice_bot will be created"]
    start = field_lines.index("    + callTemplate.systemPrompt: |")
    # A new multi-line string is shown whole, one added line per line.
    assert [x.split() for x in field_lines[start + 1 : start + 3]] == [
        ["+", "You", "are", "the", "agent."],
        ["+", "Be", "kind."],
    ]
    assert "    + callTemplate.externalVoice.generic.headers.Authorization: (sensitive value)" in (
        field_lines
    )
    assert '    + callTemplate.externalVoice.generic.url: "https://tts.example"' in field_lines
    assert not any("Bearer" in line for line in field_lines)


def test_status_shows_a_progress_bar_only_when_asked() -> None:
    from reconciler.core.render import render_status

    report = {
        "kind": "ScheduledBatch",
        "name": "renewals",
        "state": "running",
        "total": 4,
        "completed": 1,
        "statuses": {"FUTURE": 2, "PENDING": 1, "SUCCESS": 1, "EXPIRED": 0, "ERROR": 0},
        "endReasons": {"hangup": 1},
        "calls": [{"callId": "c1", "to": "+1415***0100", "endReason": "hangup"}],
    }
    plain = render_status([report])
    assert "1/4 completed" in plain
    assert "[" not in plain
    barred = render_status([report], bars=True)
    assert "[########......................]  25.0%" in barred
    assert render_status([]) == "No campaigns in these manifests."
