"""The saved plan: `plan_to_json` and `plan_from_json` are inverse, bad files are ConfigErrors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from reconciler.core.domain import (
    Action,
    Change,
    FieldChange,
    FieldOp,
    Plan,
    Read,
    Request,
    ResourceKey,
)
from reconciler.core.errors import ConfigError
from reconciler.core.planfile import FORMAT_VERSION, SENSITIVE, plan_from_json, plan_to_json

BOT = ResourceKey("Agent", "bot")
OLD = ResourceKey("Agent", "old")
NEW = ResourceKey("Agent", "new")

FULL_PLAN = Plan(
    changes=(
        Change(
            key=NEW,
            provider="ultravox",
            action=Action.CREATE,
            fields=(
                FieldChange(
                    "callTemplate", FieldOp.ADD, after={"voice": "Mark", "temperature": 0.4}
                ),
                FieldChange("name", FieldOp.ADD, after="new"),
            ),
            requests=(
                Request(
                    "POST",
                    "/api/agents",
                    {"name": "new", "callTemplate": {"sharedSecrets": [{"$secret": "TOKEN"}]}},
                    description="create the agent",
                    capture="agentId",
                ),
            ),
            order=10,
        ),
        Change(
            key=BOT,
            provider="ultravox",
            action=Action.UPDATE,
            fields=(
                FieldChange(
                    "callTemplate.inactivityMessages[0].duration", FieldOp.CHANGE, "5s", "9s"
                ),
                FieldChange("callTemplate.voice", FieldOp.REMOVE, before="Mark"),
            ),
            requests=(
                Request("PATCH", "/api/agents/a-1", {"callTemplate": {"voice": None}}),
                Request("GET", "/api/agents/{ref:Agent/new}"),
            ),
            resource_id="a-1",
            notes=("a note",),
            order=10,
        ),
        Change(
            key=OLD,
            provider="ultravox",
            action=Action.DELETE,
            requests=(Request("DELETE", "/api/agents/a-2"),),
            resource_id="a-2",
            order=990,
        ),
    ),
    reads=(
        Read(NEW, "ultravox", None, None),
        Read(BOT, "ultravox", "a-1", "sha256:abc"),
        Read(OLD, "ultravox", "a-2", "sha256:def"),
    ),
    warnings=("the server kept something",),
)


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param(Plan(), id="empty"),
        pytest.param(FULL_PLAN, id="full"),
        pytest.param(Plan(reads=FULL_PLAN.reads), id="reads-only"),
        pytest.param(Plan(changes=FULL_PLAN.changes[2:]), id="delete-only"),
    ],
)
def test_round_trip(plan: Plan) -> None:
    data = plan_to_json(plan)
    # Through real JSON text, as `plan --out` writes it and `apply --plan` reads it.
    assert plan_from_json(json.loads(json.dumps(data)), "plan.json") == plan


def test_json_shape() -> None:
    data = plan_to_json(FULL_PLAN)
    assert data["format_version"] == FORMAT_VERSION
    assert data["summary"] == {"create": 1, "update": 1, "delete": 1, "replace": 0}
    assert [(c["kind"], c["name"], c["action"]) for c in data["changes"]] == [
        ("Agent", "new", "create"),
        ("Agent", "bot", "update"),
        ("Agent", "old", "delete"),
    ]
    create = data["changes"][0]
    assert create["requests"] == [
        {
            "method": "POST",
            "path": "/api/agents",
            "body": {"name": "new", "callTemplate": {"sharedSecrets": [{"$secret": "TOKEN"}]}},
            "description": "create the agent",
            "capture": "agentId",
        }
    ]
    assert create["fields"][1] == {"path": "name", "op": "add", "after": "new"}
    update = data["changes"][1]
    assert update["fields"][1] == {"path": "callTemplate.voice", "op": "remove", "before": "Mark"}
    assert update["requests"][1] == {"method": "GET", "path": "/api/agents/{ref:Agent/new}"}
    assert data["reads"][0] == {
        "kind": "Agent",
        "name": "new",
        "provider": "ultravox",
        "id": None,
        "digest": None,
    }


def test_sensitive_values_never_written() -> None:
    plan = Plan(
        changes=(
            Change(
                BOT,
                "ultravox",
                Action.UPDATE,
                fields=(
                    FieldChange("t.secret", FieldOp.CHANGE, "old-pw", "new-pw", sensitive=True),
                ),
            ),
        )
    )
    data = plan_to_json(plan)
    text = json.dumps(data)
    assert "old-pw" not in text and "new-pw" not in text
    assert data["changes"][0]["fields"] == [
        {
            "path": "t.secret",
            "op": "change",
            "before": SENSITIVE,
            "after": SENSITIVE,
            "sensitive": True,
        }
    ]
    (field,) = plan_from_json(data, "p").changes[0].fields
    assert field.sensitive and field.before == SENSITIVE


def _broken(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(plan_to_json(FULL_PLAN))
    edit(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(None, "no format_version", id="null"),
        pytest.param([], "no format_version", id="list"),
        pytest.param("a plan", "no format_version", id="string"),
        pytest.param({"changes": []}, "no format_version", id="no-version"),
        pytest.param({**plan_to_json(Plan()), "format_version": 2}, "format_version 2", id="v2"),
        pytest.param({**plan_to_json(Plan()), "format_version": "1"}, "format_version", id="v-str"),
        pytest.param(_broken(lambda d: d.pop("changes")), "malformed", id="no-changes"),
        pytest.param(_broken(lambda d: d.pop("reads")), "malformed", id="no-reads"),
        pytest.param(_broken(lambda d: d.update(changes=[1])), "malformed", id="change-int"),
        pytest.param(_broken(lambda d: d.update(reads=[None])), "malformed", id="read-null"),
        pytest.param(
            _broken(lambda d: d["changes"][0].update(action="explode")), "malformed", id="action"
        ),
        pytest.param(_broken(lambda d: d["changes"][0].pop("kind")), "malformed", id="no-kind"),
        pytest.param(
            _broken(lambda d: d["changes"][1]["fields"][0].update(op="?")), "malformed", id="op"
        ),
        pytest.param(
            _broken(lambda d: d["changes"][1]["requests"][0].pop("path")), "malformed", id="req"
        ),
        pytest.param(
            _broken(lambda d: d["changes"][0].update(order="first")), "malformed", id="order"
        ),
        pytest.param(_broken(lambda d: d.update(warnings=5)), "malformed", id="warnings"),
    ],
)
def test_bad_files_are_config_errors(data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_json(data, "saved/plan.json")
    assert str(caught.value).startswith("saved/plan.json: ")
    assert message in str(caught.value)
    assert caught.value.exit_code == 1
