"""Issue 12, planning without the network: what --prune may touch, renames that keep the id.

Checked on the real Agent and ScheduledBatch types with hand-made live objects.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import (
    Action,
    DesiredResource,
    LiveResource,
    Read,
    ResourceKey,
    SourceRef,
    Unmanaged,
    fingerprint,
)
from reconciler.core.errors import PlanError
from reconciler.core.ownership import Ownership, document_text, merged, suggested_claims
from reconciler.core.planfile import plan_from_json, plan_to_json
from reconciler.core.planning import PlanOptions, build_plan, restrict
from reconciler.manifests.loader import load_manifests
from reconciler.providers import registry
from reconciler.providers.ultravox.agents import AgentType

AGENTS = AgentType()
TYPES = registry.resource_types()
ACME = Ownership("acme", {"Agent": ("acme_*",), "ScheduledBatch": ("*",)})


def desired(name: str, *, previous: tuple[str, ...] = (), protect: bool = False) -> DesiredResource:
    return DesiredResource(
        key=ResourceKey("Agent", name),
        provider="ultravox",
        spec={"name": name, "callTemplate": {"voice": "Mark"}},
        source=SourceRef("agents.yaml", 1),
        prevent_destroy=protect,
        previous_names=previous,
    )


def live(name: str, agent_id: str, voice: str = "Mark") -> LiveResource:
    body: dict[str, Any] = {
        "agentId": agent_id,
        "name": name,
        "created": "2030-01-01T00:00:00Z",
        "callTemplate": {"voice": voice, "model": "fixie-ai/ultravox"},
    }
    return LiveResource(ResourceKey("Agent", name), "ultravox", agent_id, body, fingerprint(body))


def prune(ownership: Ownership | None = ACME) -> PlanOptions:
    return PlanOptions(prune=True, ownership=ownership)


# --- ownership: what --prune may touch ------------------------------------------------------


def test_claims_are_shell_patterns_per_kind() -> None:
    owner = Ownership("acme", {"Agent": ("acme_*", "shared_[ab]")})
    assert owner.owns(ResourceKey("Agent", "acme_support"))
    assert owner.owns(ResourceKey("Agent", "shared_a"))
    assert not owner.owns(ResourceKey("Agent", "shared_c"))
    assert not owner.owns(ResourceKey("Agent", "ACME_support"))  # case-sensitive
    assert not owner.owns(ResourceKey("ScheduledBatch", "acme_support"))  # another kind


def test_prune_deletes_only_claimed_objects_and_lists_the_rest_once() -> None:
    have = [live("acme_old", "a-1"), live("beta_support", "b-1"), live("beta_sales", "b-2")]
    plan = build_plan(TYPES, [], have, prune())
    assert [(str(c.key), c.action) for c in plan.changes] == [("Agent/acme_old", Action.DELETE)]
    assert plan.unmanaged == (
        Unmanaged(ResourceKey("Agent", "beta_sales"), "ultravox", "b-2"),
        Unmanaged(ResourceKey("Agent", "beta_support"), "ultravox", "b-1"),
    )
    # What is left alone is not read for the saved plan either: it cannot make it stale.
    assert [str(r.key) for r in plan.reads] == ["Agent/acme_old"]


def test_prune_without_ownership_is_refused_by_the_core_too() -> None:
    with pytest.raises(PlanError, match="Ownership"):
        build_plan(TYPES, [], [live("acme_old", "a-1")], prune(None))


def test_without_prune_nothing_is_listed_as_unmanaged() -> None:
    plan = build_plan(TYPES, [], [live("beta_support", "b-1")], PlanOptions(ownership=ACME))
    assert plan.is_empty and plan.unmanaged == ()


def test_objects_in_the_manifests_are_managed_whatever_the_claims() -> None:
    plan = build_plan(TYPES, [desired("beta_support")], [live("beta_support", "b-1", "X")], prune())
    assert [c.action for c in plan.changes] == [Action.UPDATE]
    assert plan.unmanaged == ()


def test_several_ownership_documents_add_up() -> None:
    first = Ownership("acme", {"Agent": ("acme_*",)}, (SourceRef("a/ownership.yaml", 1),))
    second = Ownership("beta", {"Agent": ("beta_*",), "BatchCall": ("*",)})
    both = merged([first, second])
    assert both is not None and both.name == "acme+beta"
    assert both.claims == {"Agent": ("acme_*", "beta_*"), "BatchCall": ("*",)}
    assert merged([]) is None


def test_the_suggested_document_covers_the_manifests() -> None:
    keys = [ResourceKey("Agent", n) for n in ("acme_support", "acme_sales")]
    keys.append(ResourceKey("ScheduledBatch", "renewals"))
    claims = suggested_claims(keys)
    assert claims == {"Agent": ["acme_*"], "ScheduledBatch": ["renewals"]}
    assert document_text("acme", claims) == (
        'kind: Ownership\nname: acme\nclaims:\n  Agent: ["acme_*"]\n'
        '  ScheduledBatch: ["renewals"]\n'
    )


def test_unmanaged_objects_survive_the_json_round_trip() -> None:
    plan = build_plan(TYPES, [], [live("beta_support", "b-1")], prune())
    again = plan_from_json(plan_to_json(plan), "plan.json")
    assert again.unmanaged == plan.unmanaged


# --- renames: previousNames keep the id -----------------------------------------------------


def test_a_rename_is_one_patch_of_the_name_on_the_same_id() -> None:
    plan = build_plan(
        TYPES,
        [desired("acme_new", previous=("acme_old",))],
        [live("acme_old", "a-1")],
        PlanOptions(),
    )
    (change,) = plan.changes
    assert change.key == ResourceKey("Agent", "acme_new")
    assert change.action is Action.UPDATE
    assert change.renamed_from == "acme_old"
    assert change.resource_id == "a-1"
    assert [(r.method, r.path, r.body) for r in change.requests] == [
        ("PATCH", "/api/agents/a-1", {"name": "acme_new"})
    ]
    # The object as read under its old name, and the new name as absent: a saved plan is stale
    # when either moves.
    assert plan.reads == (
        Read(ResourceKey("Agent", "acme_old"), "ultravox", "a-1", live("acme_old", "a-1").digest),
        Read(ResourceKey("Agent", "acme_new"), "ultravox", None, None),
    )


def test_a_rename_carries_the_other_changes_in_the_same_patch() -> None:
    plan = build_plan(
        TYPES,
        [desired("acme_new", previous=("acme_old",))],
        [live("acme_old", "a-1", voice="Jessica")],
        PlanOptions(),
    )
    (change,) = plan.changes
    assert change.requests[0].body == {"name": "acme_new", "callTemplate": {"voice": "Mark"}}


def test_a_rename_under_prune_deletes_nothing() -> None:
    plan = build_plan(
        TYPES, [desired("acme_new", previous=("acme_old",))], [live("acme_old", "a-1")], prune()
    )
    assert [c.action for c in plan.changes] == [Action.UPDATE]


def test_when_both_names_live_the_plan_is_an_error_naming_both_ids() -> None:
    have = [live("acme_old", "a-1"), live("acme_new", "a-2")]
    with pytest.raises(PlanError) as caught:
        build_plan(TYPES, [desired("acme_new", previous=("acme_old",))], have, PlanOptions())
    message = str(caught.value)
    assert "a-1" in message and "a-2" in message
    assert "acme_old" in message and "acme_new" in message


def test_two_previous_names_live_is_an_error_too() -> None:
    have = [live("acme_a", "a-1"), live("acme_b", "a-2")]
    with pytest.raises(PlanError, match="several of its previous names"):
        build_plan(TYPES, [desired("acme_new", previous=("acme_a", "acme_b"))], have, PlanOptions())


def test_prevent_destroy_protects_the_previous_names() -> None:
    # Both names live: the old one is not the resource (an error), and --prune would delete
    # it: the resource's preventDestroy refuses that as well.
    have = [live("acme_old", "a-1"), live("acme_new", "a-2")]
    wanted = [desired("acme_new", previous=("acme_old",), protect=True)]
    with pytest.raises(PlanError) as caught:
        build_plan(TYPES, wanted, have, prune())
    message = str(caught.value)
    assert "Agent/acme_old (a previous name of Agent/acme_new) has lifecycle.preventDestroy" in (
        message
    )
    assert "both exist" in message


def test_a_batch_on_a_renamed_agent_follows_it(tmp_path: Path) -> None:
    loaded = _load_text(
        tmp_path,
        """
        kind: Agent
        name: acme_new
        previousNames: [acme_old]
        callTemplate: {voice: Mark}
        ---
        kind: ScheduledBatch
        name: renewals
        agent: acme_new
        windowStart: "2030-01-14T16:00:00Z"
        windowEnd: "2030-01-15T01:00:00Z"
        calls:
          - medium: {twilio: {outgoing: {to: "+14155550123", from: "+14155550199"}}}
        """,
    )
    plan = build_plan(TYPES, loaded, [live("acme_old", "a-1")], PlanOptions())
    assert [(str(c.key), c.action) for c in plan.changes] == [
        ("Agent/acme_new", Action.UPDATE),
        ("ScheduledBatch/renewals", Action.CREATE),
    ]
    # The batch is created on the agent's id as it is, not on a reference to a new agent.
    assert plan.changes[1].requests[0].path == "/api/agents/a-1/scheduled_batches"


def test_target_keeps_the_read_under_the_previous_name() -> None:
    wanted = [desired("acme_new", previous=("acme_old",)), desired("acme_other")]
    plan = build_plan(TYPES, wanted, [live("acme_old", "a-1")], PlanOptions())
    narrowed = restrict(plan, [ResourceKey("Agent", "acme_new")], wanted)
    assert {str(r.key) for r in narrowed.reads} == {"Agent/acme_old", "Agent/acme_new"}


def test_renamed_from_survives_the_json_round_trip_and_old_plans_still_load() -> None:
    plan = build_plan(
        TYPES,
        [desired("acme_new", previous=("acme_old",))],
        [live("acme_old", "a-1")],
        PlanOptions(),
    )
    data = plan_to_json(plan)
    assert data["changes"][0]["renamed_from"] == "acme_old"
    assert plan_from_json(data, "plan.json").changes[0].renamed_from == "acme_old"
    # A plan saved before issue 12 has neither key: it loads as before.
    del data["changes"][0]["renamed_from"]
    del data["unmanaged"]
    old = plan_from_json(data, "plan.json")
    assert old.changes[0].renamed_from is None and old.unmanaged == ()


def _write(tmp_path: Path, text: str, name: str = "manifests.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _load_text(folder: Path, text: str) -> list[DesiredResource]:
    return load_manifests([str(_write(folder, text))], registry.kinds()).desired
