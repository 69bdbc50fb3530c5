"""Plans carry secret references, never values, and only safe requests (issue 11, 1 and 8).

`build_plan` puts `{"$secret": NAME}` at every secret path of every request body, whatever
the kind built the body from, and refuses a request whose path an id moved (`..`, `//`) or
whose body holds a number JSON cannot carry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.core.domain import (
    Action,
    Change,
    DesiredResource,
    LiveResource,
    Request,
    ResourceKey,
    SourceRef,
)
from reconciler.core.errors import PlanError
from reconciler.core.normalize import NormalizationTable
from reconciler.core.planfile import plan_to_json
from reconciler.core.planning import PlanOptions, build_plan
from reconciler.core.render import render_json, render_markdown, render_text
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry

SIG = "sig-value-0123456789abcdef"
TOKEN = "tool-token-0123456789abcdef"

AGENT = """\
kind: Agent
name: support
callTemplate:
  systemPrompt: Hello
  sharedSecrets: ['${SIG}']
  selectedTools:
    - toolName: lookup
      authTokens: {X-Api-Key: '${TOKEN}'}
"""


def desired(tmp_path: Path, text: str = AGENT) -> list[DesiredResource]:
    (tmp_path / "m.yaml").write_text(text)
    return parse_manifests([str(tmp_path)], registry.kinds(), {"SIG": SIG, "TOKEN": TOKEN})


def test_a_create_sends_references_and_no_output_shows_a_value(tmp_path: Path) -> None:
    plan = build_plan(registry.resource_types(), desired(tmp_path), [], PlanOptions())
    (change,) = plan.changes
    body = change.requests[0].body
    assert body["callTemplate"]["sharedSecrets"] == [{"$secret": "SIG"}]
    assert body["callTemplate"]["selectedTools"][0]["authTokens"] == {
        "X-Api-Key": {"$secret": "TOKEN"}
    }
    saved = json.dumps(plan_to_json(plan))
    for shown in (render_text(plan), render_markdown(plan), render_json(plan), saved):
        assert SIG not in shown and TOKEN not in shown
    assert "(secret from $SIG)" in render_text(plan)


def test_a_patch_of_a_tool_list_carries_its_tokens_as_references(tmp_path: Path) -> None:
    (want,) = desired(tmp_path)
    live = LiveResource(
        ResourceKey("Agent", "support"),
        "ultravox",
        "0f3f4e6a-0000-4000-8000-000000000001",
        {
            "agentId": "0f3f4e6a-0000-4000-8000-000000000001",
            "name": "support",
            "callTemplate": {"systemPrompt": "Hello", "selectedTools": [{"toolName": "other"}]},
        },
        "sha256:x",
    )
    plan = build_plan(registry.resource_types(), [want], [live], PlanOptions())
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    tools = change.requests[0].body["callTemplate"]["selectedTools"]
    assert tools[0]["authTokens"]["X-Api-Key"] == {"$secret": "TOKEN"}
    assert TOKEN not in render_text(plan)


class _Unsafe:
    """A kind that plans whatever request it is given (ids straight from an account)."""

    kind = "Unsafe"
    order = 10
    table = NormalizationTable()

    def __init__(self, request: Request) -> None:
        self.request = request

    def plan(self, desired: object, live: object, options: PlanOptions) -> Change:
        return Change(
            ResourceKey("Unsafe", "x"), "ultravox", Action.CREATE, requests=(self.request,)
        )

    def warnings(self, desired: object, live: object, options: PlanOptions) -> list[str]:
        return []


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (Request("DELETE", "/api/agents/../accounts/1"), "would move the request"),
        (Request("DELETE", "/api/agents/%2e%2e"), "would move the request"),
        (Request("GET", "//evil.example/x"), "single /"),
        (Request("POST", "/api/agents", {"temperature": float("nan")}), "not finite"),
    ],
    ids=["dotdot", "encoded-dotdot", "other-host", "nan"],
)
def test_unsafe_requests_are_refused_at_plan_time(request_: Request, message: str) -> None:
    wanted = DesiredResource(ResourceKey("Unsafe", "x"), "ultravox", {}, SourceRef("m.yaml", 1))
    with pytest.raises(PlanError, match=message):
        build_plan([_Unsafe(request_)], [wanted], [], PlanOptions())


def test_a_reference_to_an_id_created_in_the_same_run_is_a_safe_segment() -> None:
    request = Request("POST", "/api/agents/{ref:Agent/support}/scheduled_batches", {})
    wanted = DesiredResource(ResourceKey("Unsafe", "x"), "ultravox", {}, SourceRef("m.yaml", 1))
    plan = build_plan([_Unsafe(request)], [wanted], [], PlanOptions())
    assert plan.changes[0].requests[0].path.endswith("/scheduled_batches")
