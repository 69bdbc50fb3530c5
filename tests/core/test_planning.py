"""Planning agents: creates, minimal PATCHes, no perpetual diffs, deletes, order and reads."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest

from reconciler.core.domain import (
    Action,
    DesiredResource,
    FieldOp,
    LiveResource,
    Read,
    Request,
    ResourceKey,
    SourceRef,
    fingerprint,
)
from reconciler.core.errors import PlanError
from reconciler.core.ownership import Ownership
from reconciler.core.planning import PlanOptions, build_plan
from reconciler.providers.ultravox.agents import AgentType

AGENTS = AgentType()
KEEP = PlanOptions()
# Pruning needs an Ownership (issue 12); this one claims every name of the kinds used here.
PRUNE = PlanOptions(prune=True, ownership=Ownership("all", {"Agent": ("*",), "Child": ("*",)}))


def desired(
    template: dict[str, Any] | None,
    name: str = "bot",
    ignore: tuple[str, ...] = (),
    kind: str = "Agent",
) -> DesiredResource:
    spec: dict[str, Any] = {"name": name}
    if template is not None:
        spec["callTemplate"] = template
    return DesiredResource(
        key=ResourceKey(kind, name),
        provider="ultravox",
        spec=spec,
        source=SourceRef("agents.yaml", 1),
        ignore_changes=ignore,
    )


def server(template: dict[str, Any], name: str = "bot", agent_id: str = "a-1") -> dict[str, Any]:
    """An agent as the API returns it: read-only fields in, documented defaults filled."""
    filled = {
        "joinTimeout": "30s",
        "maxDuration": "3600s",
        "initialOutputMedium": "MESSAGE_MEDIUM_VOICE",
        "firstSpeakerSettings": {"agent": {}},
        "model": "fixie-ai/ultravox",
        "name": name,
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-02T00:00:00.123456Z",
        **template,
    }
    return {
        "agentId": agent_id,
        "publishedRevisionId": "rev-1",
        "name": name,
        "created": "2026-01-01T00:00:00Z",
        "callTemplate": filled,
        "statistics": {"calls": 3},
    }


def live_body(
    body: dict[str, Any], name: str = "bot", agent_id: str = "a-1", kind: str = "Agent"
) -> LiveResource:
    return LiveResource(
        key=ResourceKey(kind, name),
        provider="ultravox",
        id=agent_id,
        body=body,
        digest=fingerprint(body),
    )


def live(
    template: dict[str, Any], name: str = "bot", agent_id: str = "a-1", kind: str = "Agent"
) -> LiveResource:
    return live_body(server(template, name, agent_id), name, agent_id, kind)


# --- create ----------------------------------------------------------------------------------


def test_create_posts_the_manifest_as_written() -> None:
    template = {
        "systemPrompt": "You help {{companyName}}.",
        "joinTimeout": "30.000s",
        "temperature": 0.4,
        "sharedSecrets": {"$secret": "SHARED"},
    }
    change = AGENTS.plan(desired(template), None, KEEP)
    assert change is not None
    assert change.action is Action.CREATE
    assert change.key == ResourceKey("Agent", "bot")
    assert change.requests == (
        Request(
            "POST", "/api/agents", {"name": "bot", "callTemplate": template}, capture="agentId"
        ),
    )
    assert change.resource_id is None
    # The fields a reviewer sees: all the POST sends (issue 13, item 6), a default as written
    # and marked, a write-only secret flagged sensitive.
    assert [(f.path, f.op, f.after, f.default, f.sensitive) for f in change.fields] == [
        ("callTemplate.joinTimeout", FieldOp.ADD, "30.000s", True, False),
        ("callTemplate.sharedSecrets", FieldOp.ADD, {"$secret": "SHARED"}, False, True),
        ("callTemplate.systemPrompt", FieldOp.ADD, "You help {{companyName}}.", False, False),
        ("callTemplate.temperature", FieldOp.ADD, 0.4, False, False),
        ("name", FieldOp.ADD, "bot", False, False),
    ]


def test_create_without_template() -> None:
    change = AGENTS.plan(desired(None), None, KEEP)
    assert change is not None
    assert change.requests == (Request("POST", "/api/agents", {"name": "bot"}, capture="agentId"),)
    assert [(f.path, f.op) for f in change.fields] == [("name", FieldOp.ADD)]


# --- no perpetual diffs ----------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"companyName": {"type": "string"}}}
VAD_DEFAULTS = {
    "turnEndpointDelay": "0.384s",
    "minimumTurnDuration": "0s",
    "minimumInterruptionDuration": "0.090s",
    "frameActivationThreshold": 0.1,
}


@pytest.mark.parametrize(
    ("manifest", "returned"),
    [
        pytest.param({}, {}, id="empty-vs-defaults-filled"),
        pytest.param({"systemPrompt": "Hi"}, {"systemPrompt": "Hi"}, id="same-prompt"),
        pytest.param({"joinTimeout": "30s"}, {}, id="joinTimeout-default"),
        pytest.param({"joinTimeout": "30.000s"}, {"joinTimeout": "30s"}, id="joinTimeout-padded"),
        pytest.param({"joinTimeout": "0.5s"}, {"joinTimeout": "0.500s"}, id="joinTimeout-0.5"),
        pytest.param({"joinTimeout": "12s"}, {"joinTimeout": "12.0s"}, id="joinTimeout-12"),
        pytest.param({"maxDuration": "3600.000s"}, {}, id="maxDuration-default"),
        pytest.param({"maxDuration": "600s"}, {"maxDuration": "600.000s"}, id="maxDuration"),
        pytest.param({"temperature": 0}, {}, id="temperature-zero"),
        pytest.param({"temperature": 0.0}, {"temperature": 0}, id="temperature-zero-float"),
        pytest.param({"temperature": 0.4}, {"temperature": 0.4}, id="temperature"),
        pytest.param({"recordingEnabled": False}, {}, id="recording-false"),
        pytest.param({}, {"recordingEnabled": False}, id="recording-false-returned"),
        pytest.param({"recordingEnabled": True}, {"recordingEnabled": True}, id="recording-true"),
        pytest.param({"initialOutputMedium": "MESSAGE_MEDIUM_VOICE"}, {}, id="medium-voice"),
        pytest.param(
            {}, {"initialOutputMedium": "MESSAGE_MEDIUM_UNSPECIFIED"}, id="medium-unspecified"
        ),
        pytest.param(
            {"initialOutputMedium": "MESSAGE_MEDIUM_TEXT"},
            {"initialOutputMedium": "MESSAGE_MEDIUM_TEXT"},
            id="medium-text",
        ),
        pytest.param({"firstSpeakerSettings": {"agent": {}}}, {}, id="first-speaker-agent"),
        pytest.param(
            {"firstSpeakerSettings": {"agent": {"uninterruptible": False}}},
            {},
            id="first-speaker-agent-false",
        ),
        pytest.param(
            {"firstSpeakerSettings": {"user": {}}},
            {"firstSpeakerSettings": {"user": {}}},
            id="first-speaker-user",
        ),
        pytest.param(
            {"firstSpeakerSettings": {"agent": {"delay": "1.000s", "text": "Hello"}}},
            {"firstSpeakerSettings": {"agent": {"delay": "1s", "text": "Hello"}}},
            id="first-speaker-agent-delay",
        ),
        pytest.param({}, {"vadSettings": VAD_DEFAULTS}, id="vad-defaults-returned"),
        pytest.param({"vadSettings": {"turnEndpointDelay": "0.384s"}}, {}, id="vad-default-set"),
        pytest.param(
            {"vadSettings": {"turnEndpointDelay": "0.5s"}},
            {"vadSettings": {**VAD_DEFAULTS, "turnEndpointDelay": "0.500s"}},
            id="vad-one-set",
        ),
        pytest.param({"medium": {"webRtc": {}}}, {"medium": {"webRtc": {}}}, id="medium-webRtc"),
        pytest.param(
            {"medium": {"twilio": {}}}, {"medium": {"twilio": {"outgoing": None}}}, id="twilio"
        ),
        pytest.param({"sharedSecrets": {"$secret": "S"}}, {}, id="write-only-shared-secrets"),
        pytest.param({}, {"contextSchema": SCHEMA}, id="context-schema-computed"),
        pytest.param(
            {"systemPrompt": "For {{companyName}}"},
            {"systemPrompt": "For {{companyName}}", "contextSchema": SCHEMA},
            id="context-schema-from-variables",
        ),
        pytest.param({}, {"model": "ultravox-v0.7"}, id="model-computed"),
        pytest.param(
            {"model": "fixie-ai/ultravox"}, {"model": "fixie-ai/ultravox"}, id="model-same"
        ),
        pytest.param({"selectedTools": []}, {}, id="tools-empty"),
        pytest.param(
            {"selectedTools": [{"toolName": "hangUp"}]},
            {"selectedTools": [{"toolName": "hangUp", "parameterOverrides": {}}]},
            id="tools-server-shape",
        ),
        pytest.param(
            {"inactivityMessages": [{"duration": "5s", "message": "Hello?"}]},
            {
                "inactivityMessages": [
                    {
                        "duration": "5.000s",
                        "message": "Hello?",
                        "endBehavior": "END_BEHAVIOR_UNSPECIFIED",
                    }
                ]
            },
            id="inactivity-messages",
        ),
        pytest.param({"languageHint": ""}, {}, id="empty-string"),
        pytest.param({"metadata": {}}, {}, id="empty-object"),
        pytest.param({"voice": None}, {}, id="null"),
        pytest.param({}, {"dataRetentionPolicy": "CALL_RETENTION_POLICY_UNSPECIFIED"}, id="enum"),
    ],
)
def test_no_perpetual_diff(manifest: dict[str, Any], returned: dict[str, Any]) -> None:
    assert AGENTS.plan(desired(manifest), live(returned), KEEP) is None
    assert AGENTS.plan(desired(manifest), live(returned), PRUNE) is None


def test_no_diff_when_server_omits_everything() -> None:
    body = {"agentId": "a-1", "name": "bot"}
    assert AGENTS.plan(desired({"joinTimeout": "30s"}), live_body(body), KEEP) is None
    assert AGENTS.plan(desired(None), live_body(body), KEEP) is None


# --- minimal PATCH ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "returned", "patch", "paths"),
    [
        pytest.param(
            {"systemPrompt": "Hi", "temperature": 0.4},
            {"systemPrompt": "Hi", "temperature": 0.2},
            {"temperature": 0.4},
            ["callTemplate.temperature"],
            id="scalar",
        ),
        pytest.param(
            {"systemPrompt": "New"},
            {"systemPrompt": "Old"},
            {"systemPrompt": "New"},
            ["callTemplate.systemPrompt"],
            id="prompt",
        ),
        pytest.param(
            {"joinTimeout": "45.0s"},
            {"joinTimeout": "30s"},
            {"joinTimeout": "45.0s"},
            ["callTemplate.joinTimeout"],
            id="duration-as-written",
        ),
        pytest.param(
            {"vadSettings": {"turnEndpointDelay": "0.5s", "minimumTurnDuration": "0.1s"}},
            {"vadSettings": {**VAD_DEFAULTS, "minimumTurnDuration": "0.100s"}},
            {"vadSettings": {"turnEndpointDelay": "0.5s", "minimumTurnDuration": "0.1s"}},
            ["callTemplate.vadSettings.turnEndpointDelay"],
            id="nested-key-sent-whole",
        ),
        pytest.param(
            {"firstSpeakerSettings": {"user": {}}},
            {},
            {"firstSpeakerSettings": {"user": {}}},
            ["callTemplate.firstSpeakerSettings.user"],
            id="oneof-switch",
        ),
        pytest.param(
            {"selectedTools": [{"toolName": "hangUp"}, {"toolName": "lookup"}]},
            {"selectedTools": [{"toolName": "hangUp"}]},
            {"selectedTools": [{"toolName": "hangUp"}, {"toolName": "lookup"}]},
            ["callTemplate.selectedTools[1].toolName"],
            id="list-sent-whole",
        ),
        pytest.param(
            {"inactivityMessages": [{"duration": "5s"}, {"duration": "9s"}]},
            {"inactivityMessages": [{"duration": "5s"}, {"duration": "10s"}]},
            {"inactivityMessages": [{"duration": "5s"}, {"duration": "9s"}]},
            ["callTemplate.inactivityMessages[1].duration"],
            id="list-element-field",
        ),
        pytest.param(
            {"systemPrompt": "Hi"},
            {"systemPrompt": "Hi", "voice": "Mark"},
            {"voice": None},
            ["callTemplate.voice"],
            id="removed-key-is-null",
        ),
        pytest.param(
            {},
            {"joinTimeout": "45s"},
            {"joinTimeout": None},
            ["callTemplate.joinTimeout"],
            id="removed-non-default-duration",
        ),
        pytest.param(
            {"joinTimeout": "30s"},
            {"joinTimeout": "45s"},
            {"joinTimeout": "30s"},
            ["callTemplate.joinTimeout"],
            id="back-to-default-as-written",
        ),
        pytest.param(
            {},
            {"vadSettings": {**VAD_DEFAULTS, "turnEndpointDelay": "1s"}},
            {"vadSettings": None},
            ["callTemplate.vadSettings.turnEndpointDelay"],
            id="removed-object-is-null",
        ),
        pytest.param(
            {"model": "ultravox-v0.7"},
            {"model": "fixie-ai/ultravox"},
            {"model": "ultravox-v0.7"},
            ["callTemplate.model"],
            id="server-computed-set-in-manifest",
        ),
        pytest.param(
            {"voice": "Mark", "temperature": 0.4, "joinTimeout": "30s"},
            {"voice": "Jessica", "temperature": 0.4, "maxDuration": "60s"},
            {"voice": "Mark", "maxDuration": None},
            ["callTemplate.maxDuration", "callTemplate.voice"],
            id="two-keys",
        ),
    ],
)
def test_update_patches_only_changed_keys(
    manifest: dict[str, Any], returned: dict[str, Any], patch: dict[str, Any], paths: list[str]
) -> None:
    change = AGENTS.plan(desired(manifest), live(returned), KEEP)
    assert change is not None
    assert change.action is Action.UPDATE
    assert change.resource_id == "a-1"
    # What changes; the rest the PATCH sends is listed as KEEP (tests/core/test_render_sent.py).
    assert [f.path for f in change.fields if f.op is not FieldOp.KEEP] == paths
    (request,) = change.requests
    assert (request.method, request.path) == ("PATCH", "/api/agents/a-1")
    assert request.body == {"callTemplate": patch}
    assert "name" not in request.body


def test_update_does_not_alias_the_manifest() -> None:
    template = {"vadSettings": {"turnEndpointDelay": "0.5s"}}
    change = AGENTS.plan(desired(template), live({}), KEEP)
    assert change is not None
    change.requests[0].body["callTemplate"]["vadSettings"]["turnEndpointDelay"] = "9s"
    assert template == {"vadSettings": {"turnEndpointDelay": "0.5s"}}


@pytest.mark.parametrize(
    ("manifest", "body", "patch"),
    [
        pytest.param(
            None,
            {
                "agentId": "a-1",
                "name": "bot",
                "callTemplate": {"voice": "Mark", "temperature": 0.3},
            },
            {"temperature": None, "voice": None},
            id="manifest-without-template-clears-each-key",
        ),
        pytest.param(
            {"voice": "Mark"},
            {"agentId": "a-1", "name": "bot", "callTemplate": {"joinTimeout": "30s"}},
            {"voice": "Mark"},
            id="live-template-all-defaults",
        ),
        pytest.param(
            {"voice": "Mark"},
            {"agentId": "a-1", "name": "bot"},
            {"voice": "Mark"},
            id="live-without-template",
        ),
    ],
)
def test_update_when_one_side_has_no_template(
    manifest: dict[str, Any] | None, body: dict[str, Any], patch: dict[str, Any]
) -> None:
    change = AGENTS.plan(desired(manifest), live_body(body), KEEP)
    assert change is not None
    assert change.requests[0].body == {"callTemplate": patch}


# --- ignoreChanges in PATCH bodies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "returned", "ignore", "patch"),
    [
        pytest.param(
            {"vadSettings": {"turnEndpointDelay": "1s", "minimumTurnDuration": "0.2s"}},
            {"vadSettings": {"turnEndpointDelay": "2s", "minimumTurnDuration": "0.1s"}},
            ("callTemplate.vadSettings.turnEndpointDelay",),
            {"vadSettings": {"turnEndpointDelay": "2s", "minimumTurnDuration": "0.2s"}},
            id="nested-keeps-live-value",
        ),
        pytest.param(
            {"vadSettings": {"turnEndpointDelay": "1s", "minimumTurnDuration": "0.2s"}},
            {"vadSettings": {"minimumTurnDuration": "0.1s"}},
            ("callTemplate.vadSettings.turnEndpointDelay",),
            {"vadSettings": {"minimumTurnDuration": "0.2s"}},
            id="nested-stays-unset",
        ),
        pytest.param(
            {},
            {"vadSettings": {"turnEndpointDelay": "2s", "minimumTurnDuration": "0.1s"}},
            ("callTemplate.vadSettings.turnEndpointDelay",),
            {"vadSettings": {"turnEndpointDelay": "2s"}},
            id="key-cleared-but-ignored-value-kept",
        ),
        pytest.param(
            {"voice": "Mark"},
            {"voice": "Jessica", "temperature": 0.5},
            ("callTemplate.voice",),
            {"temperature": None},
            id="ignored-key-never-written",
        ),
    ],
)
def test_ignore_changes_in_patch(
    manifest: dict[str, Any],
    returned: dict[str, Any],
    ignore: tuple[str, ...],
    patch: dict[str, Any],
) -> None:
    change = AGENTS.plan(desired(manifest, ignore=ignore), live(returned), KEEP)
    assert change is not None
    assert change.requests[0].body == {"callTemplate": patch}
    # No change at an ignored path (what the PATCH sends there is the live value, as KEEP).
    assert all(not f.path.startswith(ignore) for f in change.fields if f.op is not FieldOp.KEEP)


def test_only_ignored_differences_means_no_change() -> None:
    d = desired({"voice": "Mark"}, ignore=("callTemplate.voice",))
    assert AGENTS.plan(d, live({"voice": "Jessica"}), KEEP) is None


# --- delete ----------------------------------------------------------------------------------


def test_delete_only_with_prune() -> None:
    found = live({"voice": "Mark"}, name="old", agent_id="a-9")
    assert AGENTS.plan(None, found, KEEP) is None
    change = AGENTS.plan(None, found, PRUNE)
    assert change is not None
    assert change.action is Action.DELETE
    assert change.key == ResourceKey("Agent", "old")
    assert change.resource_id == "a-9"
    assert change.requests == (Request("DELETE", "/api/agents/a-9"),)
    assert [(f.path, f.before) for f in change.fields] == [
        ("callTemplate.model", "fixie-ai/ultravox"),
        ("callTemplate.voice", "Mark"),
        ("name", "old"),
    ]
    assert all(f.op is FieldOp.REMOVE for f in change.fields)


# --- build_plan ------------------------------------------------------------------------------


class ChildType(AgentType):
    """A second kind that runs after agents (as batches do), to check the order of phases."""

    kind: ClassVar[str] = "Child"
    order: ClassVar[int] = 20


TYPES = (AGENTS, ChildType())


def test_two_live_objects_with_one_name() -> None:
    twins = [live({}, agent_id="a-1"), live({}, agent_id="a-2")]
    with pytest.raises(PlanError) as caught:
        build_plan(TYPES, [desired({})], twins, KEEP)
    message = str(caught.value)
    assert "a-1" in message and "a-2" in message and "'bot'" in message


def test_same_name_in_different_kinds_is_fine() -> None:
    plan = build_plan(
        TYPES, [], [live({}, agent_id="a-1"), live({}, agent_id="c-1", kind="Child")], KEEP
    )
    assert plan.is_empty


def test_order_creates_parents_first_deletes_children_first() -> None:
    want = [
        desired({"voice": "A"}, name="new_child", kind="Child"),
        desired({"voice": "A"}, name="new_b"),
        desired({"voice": "A"}, name="new_a"),
        desired({"voice": "B"}, name="changed"),
        desired({"voice": "B"}, name="changed_child", kind="Child"),
        desired({"voice": "S"}, name="same"),
    ]
    have = [
        live({"voice": "A"}, name="changed", agent_id="a-1"),
        live({"voice": "A"}, name="changed_child", agent_id="c-1", kind="Child"),
        live({"voice": "S"}, name="same", agent_id="a-2"),
        live({}, name="gone", agent_id="a-3"),
        live({}, name="gone_child", agent_id="c-2", kind="Child"),
    ]
    # The order of the types passed in does not matter; their `order` does.
    plan = build_plan(tuple(reversed(TYPES)), want, have, PRUNE)
    assert [(str(c.key), c.action.value) for c in plan.changes] == [
        ("Agent/changed", "update"),
        ("Agent/new_a", "create"),
        ("Agent/new_b", "create"),
        ("Child/changed_child", "update"),
        ("Child/new_child", "create"),
        ("Child/gone_child", "delete"),
        ("Agent/gone", "delete"),
    ]
    orders = [c.order for c in plan.changes]
    assert orders == sorted(orders)
    assert plan.summary() == {"create": 3, "update": 2, "delete": 2, "replace": 0}


def test_without_prune_live_extras_are_left_alone() -> None:
    plan = build_plan(TYPES, [], [live({}, name="gone", agent_id="a-3")], KEEP)
    assert plan.is_empty and plan.reads == ()


def test_reads_fingerprint_every_object_the_plan_depends_on() -> None:
    have = [
        live({"voice": "A"}, name="changed", agent_id="a-1"),
        live({"voice": "S"}, name="same", agent_id="a-2"),
        live({}, name="gone", agent_id="a-3"),
        live({}, name="other_child", agent_id="c-9", kind="Child"),
    ]
    want = [
        desired({"voice": "B"}, name="changed"),
        desired({"voice": "S"}, name="same"),
        desired({"voice": "N"}, name="new"),
    ]
    by_id = {item.id: item for item in have}

    plan = build_plan(TYPES, want, have, PRUNE)
    assert set(plan.reads) == {
        Read(ResourceKey("Agent", "changed"), "ultravox", "a-1", by_id["a-1"].digest),
        Read(ResourceKey("Agent", "same"), "ultravox", "a-2", by_id["a-2"].digest),
        Read(ResourceKey("Agent", "new"), "ultravox", None, None),
        Read(ResourceKey("Agent", "gone"), "ultravox", "a-3", by_id["a-3"].digest),
        Read(ResourceKey("Child", "other_child"), "ultravox", "c-9", by_id["c-9"].digest),
    }
    assert len(plan.reads) == 5

    kept = build_plan(TYPES, want, have, KEEP)
    assert {str(r.key) for r in kept.reads} == {"Agent/changed", "Agent/same", "Agent/new"}


def test_plan_does_not_mutate_its_inputs() -> None:
    want = [desired({"vadSettings": {"turnEndpointDelay": "0.5s"}, "voice": "B"})]
    have = [live({"voice": "A", "vadSettings": VAD_DEFAULTS})]
    snapshot = copy.deepcopy((want, have))
    build_plan(TYPES, want, have, PRUNE)
    assert (want, have) == snapshot


def test_apply_then_plan_is_empty() -> None:
    """A PATCH merged into the live object per the API model leaves nothing to do."""
    manifest = {"voice": "Mark", "vadSettings": {"turnEndpointDelay": "0.5s"}}
    before = server({"voice": "Jessica", "temperature": 0.3, "vadSettings": VAD_DEFAULTS})
    change = AGENTS.plan(desired(manifest), live_body(before), KEEP)
    assert change is not None
    after = copy.deepcopy(before)
    for key, value in change.requests[0].body["callTemplate"].items():
        if value is None:
            after["callTemplate"].pop(key, None)
        else:
            after["callTemplate"][key] = value
    assert AGENTS.plan(desired(manifest), live_body(after), KEEP) is None


def test_restrict_keeps_targets_and_their_dependencies() -> None:
    from reconciler.core.domain import Action, Change, DesiredResource, Plan, ResourceKey, SourceRef
    from reconciler.core.errors import PlanError
    from reconciler.core.planning import restrict

    agent, batch, other = (
        ResourceKey("Agent", "a"),
        ResourceKey("ScheduledBatch", "b"),
        ResourceKey("Agent", "z"),
    )
    source = SourceRef("m.yaml", 1)
    desired = [
        DesiredResource(agent, "ultravox", {}, source),
        DesiredResource(batch, "ultravox", {}, source, depends_on=(agent,)),
        DesiredResource(other, "ultravox", {}, source),
    ]
    plan = Plan(changes=tuple(Change(k, "ultravox", Action.CREATE) for k in (agent, batch, other)))
    assert [c.key for c in restrict(plan, [batch], desired).changes] == [agent, batch]
    assert [c.key for c in restrict(plan, [other], desired).changes] == [other]
    with pytest.raises(PlanError, match="Agent/ghost"):
        restrict(plan, [ResourceKey("Agent", "ghost")], desired)


def test_compare_states_normalizes_both_sides() -> None:
    from reconciler.core.domain import ResourceKey
    from reconciler.core.planning import compare_states
    from reconciler.providers.ultravox.agents import AgentType

    types = {"Agent": AgentType()}
    same, changed = ResourceKey("Agent", "same"), ResourceKey("Agent", "changed")
    left: dict[ResourceKey, dict[str, Any]] = {
        same: {"name": "same", "callTemplate": {"joinTimeout": "30s", "voice": "Mark"}},
        changed: {"name": "changed", "callTemplate": {"voice": "Mark"}},
        ResourceKey("Agent", "left_only"): {"name": "left_only"},
    }
    right: dict[ResourceKey, dict[str, Any]] = {
        same: {"name": "same", "callTemplate": {"voice": "Mark", "temperature": 0}},
        changed: {"name": "changed", "callTemplate": {"voice": "Jessica"}},
        ResourceKey("Agent", "right_only"): {"name": "right_only"},
    }
    found = {d.key.name: d for d in compare_states(types, left, right, ("dev", "prod"))}
    assert set(found) == {"changed", "left_only", "right_only"}
    assert found["left_only"].only_in == "dev"
    assert found["right_only"].only_in == "prod"
    assert [(f.path, f.before, f.after) for f in found["changed"].fields] == [
        ("callTemplate.voice", "Mark", "Jessica")
    ]
