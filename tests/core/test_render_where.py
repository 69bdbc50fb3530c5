"""Issue 12 in the renderings: where a plan acts comes first, renames and what --prune left
alone are shown."""

from __future__ import annotations

import json

from reconciler.core.domain import Action, Change, Plan, Request, ResourceKey, Unmanaged
from reconciler.core.render import render_json, render_markdown, render_text

ENDPOINTS = {
    "ultravox": {"baseUrl": "https://api.ultravox.ai", "apiKeyEnv": "ULTRAVOX_API_KEY_PROD"},
    "threetone": {"baseUrl": "https://api.threetone.in", "apiKeyEnv": "THREETONE_API_KEY"},
}
RENAME = Change(
    ResourceKey("Agent", "acme_new"),
    "ultravox",
    Action.UPDATE,
    requests=(Request("PATCH", "/api/agents/a-1", {"name": "acme_new"}),),
    resource_id="a-1",
    renamed_from="acme_old",
)


def test_text_starts_with_the_environment_and_each_account() -> None:
    lines = render_text(Plan(environment="prod", endpoints=ENDPOINTS)).splitlines()
    assert lines[:3] == [
        "Environment: prod",
        "  threetone: https://api.threetone.in (key from $THREETONE_API_KEY)",
        "  ultravox: https://api.ultravox.ai (key from $ULTRAVOX_API_KEY_PROD)",
    ]
    assert render_text(Plan()).splitlines()[0] == "No environment"


def test_markdown_starts_with_where_then_the_summary() -> None:
    lines = render_markdown(Plan(environment="prod", endpoints=ENDPOINTS)).splitlines()
    assert lines[0] == (
        "Environment: prod · `threetone: https://api.threetone.in (key from $THREETONE_API_KEY)`"
        " · `ultravox: https://api.ultravox.ai (key from $ULTRAVOX_API_KEY_PROD)`"
    )
    assert lines[2] == "**No changes. The live state matches the manifests.**"


def test_json_starts_with_the_environment_and_the_endpoints() -> None:
    data = json.loads(render_json(Plan(environment=None, endpoints=ENDPOINTS)))
    assert list(data)[:4] == ["format_version", "tool", "environment", "endpoints"]
    assert data["environment"] is None


def test_a_rename_names_both_names() -> None:
    plan = Plan(changes=(RENAME,))
    assert "~ Agent/acme_new (renamed from acme_old) will be updated in place (id a-1)" in (
        render_text(plan)
    )
    assert "<b>Agent/acme_new (renamed from acme_old)</b> will be updated in place" in (
        render_markdown(plan)
    )
    assert json.loads(render_json(plan))["changes"][0]["renamed_from"] == "acme_old"


def test_what_prune_left_alone_is_one_collapsed_summary() -> None:
    agents = [
        Unmanaged(ResourceKey("Agent", f"beta_{i:02d}"), "ultravox", str(i)) for i in range(25)
    ]
    batch = Unmanaged(ResourceKey("ScheduledBatch", "beta_renewals"), "ultravox", "s-1")
    unmanaged = (*agents, batch)
    plan = Plan(unmanaged=unmanaged)
    text = render_text(plan)
    assert (
        "Not managed here: 26 live objects (Agent: 25, ScheduledBatch: 1) that no Ownership "
        "claim covers; --prune leaves them alone"
    ) in text
    shown = ", ".join(f"beta_{i:02d}" for i in range(20))
    assert f"    Agent: {shown} and 5 more" in text
    assert "    ScheduledBatch: beta_renewals" in text
    markdown = render_markdown(plan)
    assert "<details><summary>Not managed here: 26 live objects" in markdown
    assert "beta_24" in markdown  # the collapsed section lists every one
    assert markdown.count("Not managed here") == 1
