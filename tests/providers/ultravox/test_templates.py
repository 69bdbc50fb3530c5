"""The `{{variables}}` an agent's call template needs from each call (issue 13, item 3)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.errors import Diagnostic
from reconciler.providers.ultravox.templates import missing_context, needed_variables

TOOL = {
    "temporaryTool": {
        "description": "Looks up {{account}}.",
        "staticParameters": [{"name": "s", "value": "{{ region }}"}, {"name": "n", "value": 3}],
    }
}


@pytest.mark.parametrize(
    ("template", "needed"),
    [
        ({}, {}),
        ({"systemPrompt": "No variables, {single} braces, {{ }} nothing."}, {}),
        (
            {"systemPrompt": "{{a}} {{ b }} {{c.d}} {{a}}"},
            {"a": "systemPrompt", "b": "systemPrompt", "c": "systemPrompt"},
        ),
        (
            {"languageHint": "{{lang}}", "timeExceededMessage": "Bye {{name}}"},
            {"lang": "languageHint", "name": "timeExceededMessage"},
        ),
        (
            {"inactivityMessages": [{"message": "Hi"}, {"message": "{{name}}?"}]},
            {"name": "inactivityMessages[1].message"},
        ),
        (
            {"selectedTools": [{"toolName": "hangUp"}, TOOL]},
            {
                "account": "selectedTools[1].temporaryTool.description",
                "region": "selectedTools[1].temporaryTool.staticParameters[0].value",
            },
        ),
        # Not a templated field: the first message is said as written.
        ({"firstSpeakerSettings": {"agent": {"text": "{{name}}"}}}, {}),
        (
            {
                "systemPrompt": "{{a}} {{b}}",
                "contextSchema": {"properties": {"a": {"type": "string", "default": ""}, "b": {}}},
            },
            {"b": "systemPrompt"},
        ),
    ],
)
def test_needed_variables(template: dict[str, Any], needed: dict[str, str]) -> None:
    assert needed_variables(template) == needed


def test_a_call_with_an_empty_string_has_a_value_and_one_without_context_has_none() -> None:
    calls: list[tuple[str, int, dict[str, Any]]] = [
        ("b.yaml", 7, {"templateContext": {"name": ""}}),
        ("b.yaml", 9, {"templateContext": {"name": None}}),
        ("r.jsonl", 2, {}),
    ]
    found = missing_context("caller", {"systemPrompt": "Hi {{name}}"}, calls)
    message = (
        "no templateContext value for {{name}}, which agent 'caller' uses in "
        "callTemplate.systemPrompt: set templateContext.name on this call, or give name a "
        "default in the agent's callTemplate.contextSchema"
    )
    assert found == [Diagnostic("b.yaml", 9, message), Diagnostic("r.jsonl", 2, message)]


def test_each_missing_variable_of_a_call_is_reported_in_name_order() -> None:
    from types import MappingProxyType

    calls: list[tuple[str, int, Any]] = [
        ("b.yaml", 3, {"templateContext": MappingProxyType({"b": "x"})}),
        ("b.yaml", 5, {"templateContext": "not a mapping"}),
        ("b.yaml", 8, {"templateContext": {"a": "1", "b": "2"}}),
    ]
    found = missing_context("caller", {"systemPrompt": "{{b}} and {{a}}"}, calls)
    assert [(d.line, d.message.split(",")[0]) for d in found] == [
        (3, "no templateContext value for {{a}}"),
        (5, "no templateContext value for {{a}}"),
        (5, "no templateContext value for {{b}}"),
    ]
