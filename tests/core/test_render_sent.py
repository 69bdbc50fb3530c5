"""Issue 13, item 6: a plan lists every field its create or update sends, defaults marked.

The field list of a planned agent (from `AgentType.plan`, planning's `additions` and
`update_fields`) and the lines text and markdown render from it, asserted exactly; then the
property behind them: every leaf of every request body is in the field list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.core import fieldpaths as paths
from reconciler.core.domain import (
    Action,
    Change,
    DesiredResource,
    FieldChange,
    FieldOp,
    LiveResource,
    Plan,
    ResourceKey,
    SourceRef,
)
from reconciler.core.planfile import plan_from_json, plan_to_json
from reconciler.core.planning import PlanOptions
from reconciler.core.render import render_markdown, render_text
from reconciler.providers.ultravox.agents import AgentType

AGENTS = AgentType()


def desired(template: dict[str, Any], ignore: tuple[str, ...] = ()) -> DesiredResource:
    return DesiredResource(
        ResourceKey("Agent", "bot"),
        "ultravox",
        {"name": "bot", "callTemplate": template},
        SourceRef("agents.yaml", 1),
        ignore_changes=ignore,
    )


def live(template: dict[str, Any]) -> LiveResource:
    body = {"agentId": "a-1", "name": "bot", "callTemplate": template}
    return LiveResource(ResourceKey("Agent", "bot"), "ultravox", "a-1", body, "sha256:x")


def planned(template: dict[str, Any], returned: dict[str, Any] | None, **kw: Any) -> Change:
    change = AGENTS.plan(
        desired(template, **kw), None if returned is None else live(returned), PlanOptions()
    )
    assert change is not None
    return change


def field_lines(change: Change) -> list[str]:
    """The rendered field lines of one change (between its header and its requests)."""
    lines = render_text(Plan(changes=(change,))).splitlines()
    return [line for line in lines[3:] if line and not line.startswith("    =>")][:-1]


CASES = [
    pytest.param(
        {"voice": "Mark", "joinTimeout": "30s", "recordingEnabled": False},
        None,
        (),
        [
            '    + callTemplate.joinTimeout: "30s" (default)',
            "    + callTemplate.recordingEnabled: false (default)",
            '    + callTemplate.voice: "Mark"',
            '    + name: "bot"',
        ],
        id="create-sends-defaults-as-written",
    ),
    pytest.param(
        {"joinTimeout": "30.000s", "sharedSecrets": {"$secret": "SHARED"}},
        None,
        (),
        [
            '    + callTemplate.joinTimeout: "30.000s" (default)',
            "    + callTemplate.sharedSecrets: (sensitive value)",
            '    + name: "bot"',
        ],
        id="create-write-only-secret-is-not-a-default",
    ),
    pytest.param(
        {"joinTimeout": "30s"},
        {"joinTimeout": "45s"},
        (),
        ['    ~ callTemplate.joinTimeout: "45s" -> "30s" (default)'],
        id="update-back-to-default-shows-the-value-sent",
    ),
    pytest.param(
        {},
        {"joinTimeout": "45s"},
        (),
        ['    - callTemplate.joinTimeout: "45s" -> (unset)'],
        id="update-removed-key-is-unset",
    ),
    pytest.param(
        {"vadSettings": {"turnEndpointDelay": "0.6s", "minimumTurnDuration": "0.1s"}},
        {"vadSettings": {"turnEndpointDelay": "0.5s", "minimumTurnDuration": "0.100s"}},
        (),
        [
            '      callTemplate.vadSettings.minimumTurnDuration: "0.1s" (unchanged)',
            '    ~ callTemplate.vadSettings.turnEndpointDelay: "0.5s" -> "0.6s"',
        ],
        id="update-key-sent-whole-lists-its-unchanged-parts",
    ),
    pytest.param(
        {"vadSettings": {"turnEndpointDelay": "0.384s", "minimumTurnDuration": "0.2s"}},
        {"vadSettings": {"minimumTurnDuration": "0.1s"}},
        (),
        [
            '    ~ callTemplate.vadSettings.minimumTurnDuration: "0.1s" -> "0.2s"',
            '      callTemplate.vadSettings.turnEndpointDelay: "0.384s" (unchanged, default)',
        ],
        id="update-unchanged-default-sent-whole",
    ),
    pytest.param(
        {"selectedTools": [{"toolName": "hangUp"}, {"toolName": "lookup"}]},
        {"selectedTools": [{"toolName": "hangUp"}]},
        (),
        [
            '      callTemplate.selectedTools[0].toolName: "hangUp" (unchanged)',
            '    + callTemplate.selectedTools[1].toolName: "lookup"',
        ],
        id="update-list-sent-whole",
    ),
    pytest.param(
        {"vadSettings": {"turnEndpointDelay": "1s", "minimumTurnDuration": "0.2s"}},
        {"vadSettings": {"turnEndpointDelay": "2s", "minimumTurnDuration": "0.1s"}},
        ("callTemplate.vadSettings.turnEndpointDelay",),
        [
            '    ~ callTemplate.vadSettings.minimumTurnDuration: "0.1s" -> "0.2s"',
            '      callTemplate.vadSettings.turnEndpointDelay: "2s" (unchanged)',
        ],
        id="update-ignored-path-sent-as-live-holds-it",
    ),
]


@pytest.mark.parametrize(("template", "returned", "ignore", "expected"), CASES)
def test_field_list_is_what_the_request_sends(
    template: dict[str, Any],
    returned: dict[str, Any] | None,
    ignore: tuple[str, ...],
    expected: list[str],
) -> None:
    change = planned(template, returned, ignore=ignore)
    assert change.action is (Action.CREATE if returned is None else Action.UPDATE)
    assert field_lines(change) == expected
    # Every leaf a body sends is in the field list (at its path or below a field's path).
    listed = [paths.parse(f.path) for f in change.fields]
    for request in change.requests:
        for leaf in _leaves((), request.body):
            assert any(paths.is_prefix(p, leaf) or paths.is_prefix(leaf, p) for p in listed), leaf


@pytest.mark.parametrize(("template", "returned", "ignore", "expected"), CASES)
def test_saved_plan_keeps_the_marks(
    template: dict[str, Any],
    returned: dict[str, Any] | None,
    ignore: tuple[str, ...],
    expected: list[str],
) -> None:
    plan = Plan(changes=(planned(template, returned, ignore=ignore),))
    again = plan_from_json(plan_to_json(plan), "plan.json")
    assert render_text(again) == render_text(plan)
    assert render_markdown(again) == render_markdown(plan)


def test_plans_are_the_same_on_every_run() -> None:
    template = {
        "joinTimeout": "30s",
        "vadSettings": {"turnEndpointDelay": "1s", "minimumTurnDuration": "0.2s"},
    }
    returned = {
        "joinTimeout": "45s",
        "vadSettings": {"turnEndpointDelay": "2s", "minimumTurnDuration": "0.2s"},
    }
    runs = [
        json.dumps(plan_to_json(Plan(changes=(planned(template, returned),)))) for _ in range(2)
    ]
    assert runs[0] == runs[1]
    fields = json.loads(runs[0])["changes"][0]["fields"]
    assert [(f["op"], f.get("default", False)) for f in fields] == [
        ("change", True),
        ("keep", False),
        ("change", False),
    ]


def _leaves(path: paths.Path, value: Any) -> Iterator[paths.Path]:
    if isinstance(value, dict) and value and set(value) != {"$secret"}:
        for key, item in value.items():
            yield from _leaves((*path, key), item)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from _leaves((*path, i), item)
    elif path:
        yield path


# --- how each kind of field renders ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "markdown"),
    [
        (
            FieldChange("joinTimeout", FieldOp.ADD, after="30s", default=True),
            '    + joinTimeout: "30s" (default)',
            '+ joinTimeout: "30s" (default)',
        ),
        (
            FieldChange("joinTimeout", FieldOp.CHANGE, "45s", "30s", default=True),
            '    ~ joinTimeout: "45s" -> "30s" (default)',
            '! joinTimeout: "45s" -> "30s" (default)',
        ),
        (
            FieldChange("vad.delay", FieldOp.KEEP, after="0.1s"),
            '      vad.delay: "0.1s" (unchanged)',
            '  vad.delay: "0.1s" (unchanged)',
        ),
        (
            FieldChange("vad.delay", FieldOp.KEEP, after="0.384s", default=True),
            '      vad.delay: "0.384s" (unchanged, default)',
            '  vad.delay: "0.384s" (unchanged, default)',
        ),
        (
            FieldChange("tools[0].authTokens.x", FieldOp.KEEP, after="tok-1", sensitive=True),
            "      tools[0].authTokens.x: (sensitive value) (unchanged)",
            "  tools[0].authTokens.x: (sensitive value) (unchanged)",
        ),
        (
            FieldChange("medium.to", FieldOp.KEEP, after="+14155550100"),
            '      medium.to: "+1415***0100" (unchanged)',
            '  medium.to: "+1415***0100" (unchanged)',
        ),
        (
            FieldChange("tools[0].description", FieldOp.KEEP, after="Two\nlines"),
            '      tools[0].description: "Two\\nlines" (unchanged)',
            '  tools[0].description: "Two\\nlines" (unchanged)',
        ),
        (
            FieldChange("greeting", FieldOp.ADD, after="", default=True),
            '    + greeting: "" (default)',
            '+ greeting: "" (default)',
        ),
    ],
)
def test_field_marks(field: FieldChange, text: str, markdown: str) -> None:
    change = Change(ResourceKey("Agent", "bot"), "ultravox", Action.UPDATE, fields=(field,))
    assert field_lines(change) == [text]
    block = render_markdown(Plan(changes=(change,))).split("```diff\n")[1].split("\n```")[0]
    assert block == markdown
    assert "tok-1" not in render_text(Plan(changes=(change,)))


def test_a_body_is_shown_with_the_cycle_collector_paused_and_resumed_after() -> None:
    import gc

    from reconciler.core import render

    seen: list[bool] = []

    def show(body: object) -> str:
        seen.append(gc.isenabled())
        return "{}"

    was = gc.isenabled()
    gc.enable()
    try:
        assert render._unwalked(show, {}) == "{}"
        assert gc.isenabled()
        gc.disable()
        assert render._unwalked(show, {}) == "{}"
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
    assert seen == [False, False]
