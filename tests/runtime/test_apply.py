"""Apply against a small in-memory fake of the vendor API (a stateful fake, not a mock)."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from reconciler.core.domain import JSON, Action, Change, Plan, Request, ResourceKey
from reconciler.core.errors import ApiError, ConfigError
from reconciler.providers import registry
from reconciler.providers.ultravox.agents import AgentType
from reconciler.runtime.apply import (
    ApplyReport,
    ChangeResult,
    apply_plan,
    check_secrets,
    secret_names,
)


class FakeAgentsApi:
    """Just enough of `/api/agents` to apply plans: ids, the PATCH merge model, failures.

    `sticky` keys are kept by the server although a PATCH sends them as `null` (the case
    `verify` must report); `fail` maps "METHOD path" to the HTTP status the server answers.
    """

    def __init__(
        self,
        *,
        fail: Mapping[str, int] | None = None,
        sticky: tuple[str, ...] = (),
        delay: float = 0.0,
        agents: Mapping[str, dict[str, Any]] | None = None,
        first_id: int = 1,
    ) -> None:
        self.settings = registry.provider("ultravox").settings  # the `Api` protocol's
        self.agents: dict[str, dict[str, Any]] = copy.deepcopy(dict(agents or {}))
        self.sent: list[Request] = []
        self.fail = dict(fail or {})
        self.sticky = sticky
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(first_id)

    async def list_all(self, path: str, params: Mapping[str, str] | None = None) -> list[JSON]:
        return copy.deepcopy(list(self.agents.values()))

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        return copy.deepcopy(self.agents[path.rsplit("/", 1)[-1]])

    async def send(self, request: Request) -> JSON:
        self.sent.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return self._handle(request)
        finally:
            self.in_flight -= 1

    def _handle(self, request: Request) -> JSON:
        status = self.fail.get(f"{request.method} {request.path}")
        if status is not None:
            raise ApiError(request.method, request.path, status, '{"detail": "boom"}')
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts == ["api", "agents"]:
            agent_id = f"a-{next(self._ids)}"
            body = copy.deepcopy(request.body)
            self.agents[agent_id] = {"agentId": agent_id, **body}
            return copy.deepcopy(self.agents[agent_id])
        agent_id = parts[2]
        if request.method == "DELETE":
            del self.agents[agent_id]
            return None
        if request.method == "PATCH":
            template = self.agents[agent_id].setdefault("callTemplate", {})
            for key, value in (request.body or {}).get("callTemplate", {}).items():
                if value is None and key not in self.sticky:
                    template.pop(key, None)
                elif value is not None:
                    template[key] = copy.deepcopy(value)
            return copy.deepcopy(self.agents[agent_id])
        if request.method == "GET":
            return copy.deepcopy(self.agents[agent_id])
        raise AssertionError(f"unexpected request {request}")


TYPES = {"Agent": AgentType()}


def change(
    name: str,
    *requests: Request,
    action: Action = Action.CREATE,
    order: int = 10,
    kind: str = "Agent",
) -> Change:
    return Change(ResourceKey(kind, name), "ultravox", action, requests=requests, order=order)


def create(name: str, order: int = 10, **template: Any) -> Change:
    body: dict[str, Any] = {"name": name}
    if template:
        body["callTemplate"] = template
    return change(name, Request("POST", "/api/agents", body, capture="agentId"), order=order)


def run(
    plan: Plan,
    api: FakeAgentsApi,
    environ: Mapping[str, str] | None = None,
    concurrency: int = 4,
    seen: list[ChangeResult] | None = None,
) -> ApplyReport:
    return asyncio.run(
        apply_plan(
            plan,
            {"ultravox": api},
            TYPES,
            environ=environ or {},
            concurrency=concurrency,
            on_result=(seen.append if seen is not None else lambda _: None),
        )
    )


def names(changes: list[Change] | list[ChangeResult]) -> list[str]:
    return [str(c.key if isinstance(c, Change) else c.change.key) for c in changes]


# --- order -----------------------------------------------------------------------------------


def test_phases_run_in_order() -> None:
    api = FakeAgentsApi(agents={"a-9": {"agentId": "a-9", "name": "gone"}})
    plan = Plan(
        changes=(
            create("b1", order=10),
            create("b2", order=10),
            change("c1", Request("GET", "/api/agents/{ref:Agent/b1}"), order=20),
            change("gone", Request("DELETE", "/api/agents/a-9"), action=Action.DELETE, order=990),
        )
    )
    seen: list[ChangeResult] = []
    report = run(plan, api, seen=seen)
    assert [(r.method, r.path) for r in api.sent] == [
        ("POST", "/api/agents"),
        ("POST", "/api/agents"),
        ("GET", "/api/agents/a-1"),
        ("DELETE", "/api/agents/a-9"),
    ]
    assert names(report.done) == ["Agent/b1", "Agent/b2", "Agent/c1", "Agent/gone"]
    assert report.failed == [] and report.not_attempted == [] and report.warnings == []
    assert all(r.sent == 1 for r in report.results)
    assert sorted(names(seen)) == sorted(names(report.results))
    assert sorted(a["name"] for a in api.agents.values()) == ["b1", "b2"]


def test_empty_plan_sends_nothing() -> None:
    api = FakeAgentsApi()
    report = run(Plan(), api)
    assert api.sent == [] and report.results == [] and report.not_attempted == []


# --- references ------------------------------------------------------------------------------


def test_reference_substituted_from_captured_id() -> None:
    api = FakeAgentsApi(first_id=42)
    plan = Plan(
        changes=(
            create("parent"),
            change(
                "child",
                Request(
                    "PATCH",
                    "/api/agents/{ref:Agent/parent}",
                    {"callTemplate": {"metadata": {"parent": "{ref:Agent/parent}", "x": "y"}}},
                ),
                action=Action.UPDATE,
                order=20,
            ),
        )
    )
    report = run(plan, api)
    assert report.failed == []
    patch = api.sent[1]
    assert patch.path == "/api/agents/a-42"
    assert patch.body == {"callTemplate": {"metadata": {"parent": "a-42", "x": "y"}}}
    assert api.agents["a-42"]["callTemplate"]["metadata"]["parent"] == "a-42"


def test_reference_to_something_not_created_fails_that_change() -> None:
    api = FakeAgentsApi()
    plan = Plan(changes=(change("x", Request("GET", "/api/agents/{ref:Agent/nowhere}")),))
    report = run(plan, api)
    (failed,) = report.failed
    assert "Agent/nowhere" in (failed.error or "")
    assert api.sent == []


def test_create_response_without_the_captured_id_fails_that_change() -> None:
    class NoIdApi(FakeAgentsApi):
        def _handle(self, request: Request) -> JSON:
            return {"name": "x"}

    api = NoIdApi()
    later = change("y", Request("GET", "/api/agents/{ref:Agent/x}"), order=20)
    plan = Plan(changes=(create("x"), later))
    report = run(plan, api)
    (failed,) = report.failed
    assert failed.sent == 1  # the POST went out: the report must say so
    assert "agentId" in (failed.error or "")
    assert names(report.not_attempted) == ["Agent/y"]


# --- secrets ---------------------------------------------------------------------------------

SECRET_PLAN = Plan(
    changes=(
        create("x", sharedSecrets={"token": {"$secret": "TOKEN"}}),
        create("y", order=20, sharedSecrets=[{"$secret": "OTHER"}, "plain"]),
    )
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"$secret": "A"}, {"A"}),
        ({"a": [{"$secret": "A"}, {"b": {"$secret": "B"}}]}, {"A", "B"}),
        ({"$secret": "A", "other": 1}, set()),  # not a secret reference
        ([], set()),
        ({}, set()),
        (None, set()),
        ("$secret", set()),
    ],
)
def test_secret_names(value: Any, expected: set[str]) -> None:
    assert secret_names(value) == expected


def test_secrets_resolved_from_environ() -> None:
    api = FakeAgentsApi()
    report = run(SECRET_PLAN, api, environ={"TOKEN": "s3cret", "OTHER": "0ther"})
    assert report.failed == []
    assert api.sent[0].body == {"name": "x", "callTemplate": {"sharedSecrets": {"token": "s3cret"}}}
    assert api.sent[1].body == {"name": "y", "callTemplate": {"sharedSecrets": ["0ther", "plain"]}}
    # The plan itself still holds only the references.
    assert SECRET_PLAN.changes[0].requests[0].body["callTemplate"]["sharedSecrets"] == {
        "token": {"$secret": "TOKEN"}
    }


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ["$OTHER", "$TOKEN"]),
        ({"TOKEN": "s3cret"}, ["$OTHER"]),
        ({"TOKEN": "", "OTHER": "0ther"}, ["$TOKEN"]),
    ],
)
def test_missing_secret_stops_before_anything_is_sent(
    environ: dict[str, str], missing: list[str]
) -> None:
    api = FakeAgentsApi()
    with pytest.raises(ConfigError) as caught:
        run(SECRET_PLAN, api, environ=environ)
    assert api.sent == []
    message = str(caught.value)
    for name in missing:
        assert name in message
    for value in environ.values():
        if value:
            assert value not in message
    with pytest.raises(ConfigError):
        check_secrets(SECRET_PLAN, environ)


# --- failures --------------------------------------------------------------------------------


def test_failure_stops_later_phases_and_reports() -> None:
    api = FakeAgentsApi(
        fail={"PATCH /api/agents/a-5": 400},
        agents={
            "a-5": {"agentId": "a-5", "name": "bad"},
            "a-6": {"agentId": "a-6", "name": "good"},
            "a-8": {"agentId": "a-8", "name": "gone"},
        },
    )
    patch = {"callTemplate": {"voice": "Mark"}}
    plan = Plan(
        changes=(
            create("first", order=10),
            change(
                "bad", Request("PATCH", "/api/agents/a-5", patch), action=Action.UPDATE, order=20
            ),
            change(
                "good", Request("PATCH", "/api/agents/a-6", patch), action=Action.UPDATE, order=20
            ),
            create("later", order=30),
            change("gone", Request("DELETE", "/api/agents/a-8"), action=Action.DELETE, order=990),
        )
    )
    seen: list[ChangeResult] = []
    report = run(plan, api, seen=seen)
    assert names(report.done) == ["Agent/first", "Agent/good"]
    (failed,) = report.failed
    assert str(failed.change.key) == "Agent/bad"
    assert failed.error == 'PATCH /api/agents/a-5 -> HTTP 400: {"detail": "boom"}'
    assert failed.sent == 0 and not failed.ok
    assert names(report.not_attempted) == ["Agent/later", "Agent/gone"]
    sent = [(r.method, r.path) for r in api.sent]
    assert ("DELETE", "/api/agents/a-8") not in sent
    assert sent.count(("POST", "/api/agents")) == 1
    assert "a-8" in api.agents
    assert len(seen) == 3


def test_failure_in_the_middle_of_a_change_counts_what_was_sent() -> None:
    api = FakeAgentsApi(fail={"GET /api/agents/a-1": 503})
    plan = Plan(
        changes=(
            change(
                "x",
                Request("POST", "/api/agents", {"name": "x"}, capture="agentId"),
                Request("GET", "/api/agents/{ref:Agent/x}"),
                Request("GET", "/api/agents/{ref:Agent/x}"),
            ),
        )
    )
    report = run(plan, api)
    (failed,) = report.failed
    assert failed.sent == 1
    assert len(api.sent) == 2
    assert "HTTP 503" in (failed.error or "")


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.parametrize(("concurrency", "count"), [(1, 4), (3, 10), (8, 5)])
def test_concurrency_bound(concurrency: int, count: int) -> None:
    api = FakeAgentsApi(delay=0.005)
    plan = Plan(changes=tuple(create(f"bot_{i}") for i in range(count)))
    report = run(plan, api, concurrency=concurrency)
    assert len(report.done) == count
    assert api.max_in_flight == min(concurrency, count)


def test_a_freed_slot_is_taken_at_once_not_after_the_slowest_of_a_batch() -> None:
    """Exactly `concurrency` requests in flight while there are more to send: the answer to
    one starts the next, however long the others take (no batches that wait for the slowest)."""
    started: list[str] = []
    answers: dict[str, asyncio.Future[JSON]] = {}
    released: list[bool] = []

    class HeldApi(FakeAgentsApi):
        async def send(self, request: Request) -> JSON:
            started.append(request.path)
            answers[request.path] = asyncio.get_running_loop().create_future()
            if released:
                answers[request.path].set_result({})
            return await answers[request.path]

    async def scenario() -> list[list[str]]:
        plan = Plan(
            changes=tuple(
                change(f"bot_{i}", Request("PATCH", f"/api/agents/a-{i}", {}), action=Action.UPDATE)
                for i in range(5)
            )
        )
        applying = asyncio.create_task(
            apply_plan(plan, {"ultravox": HeldApi()}, TYPES, environ={}, concurrency=2)
        )
        seen = []
        for path in ("/api/agents/a-1", "/api/agents/a-2", "/api/agents/a-0", "/api/agents/a-3"):
            for _ in range(50):  # bounded: a change that never starts fails the test below
                if path in answers:
                    break
                await asyncio.sleep(0)
            seen.append(list(started))
            if path not in answers:
                break
            answers[path].set_result({})
            for _ in range(20):  # let the freed slot start its next change
                await asyncio.sleep(0)
        seen.append(list(started))
        released.append(True)  # from now on every request is answered at once
        for future in answers.values():
            if not future.done():
                future.set_result({})
        report = await applying
        assert len(report.done) == 5
        return seen

    seen = asyncio.run(scenario())
    assert seen == [
        ["/api/agents/a-0", "/api/agents/a-1"],
        # a-1 answered while a-0 still waits: a-2 starts at once, then a-3, a-4 likewise.
        ["/api/agents/a-0", "/api/agents/a-1", "/api/agents/a-2"],
        ["/api/agents/a-0", "/api/agents/a-1", "/api/agents/a-2", "/api/agents/a-3"],
        [f"/api/agents/a-{i}" for i in range(5)],
        [f"/api/agents/a-{i}" for i in range(5)],
    ]


# --- verify ----------------------------------------------------------------------------------


def _update(patch: dict[str, Any]) -> Plan:
    return Plan(
        changes=(
            Change(
                ResourceKey("Agent", "bot"),
                "ultravox",
                Action.UPDATE,
                requests=(Request("PATCH", "/api/agents/a-1", {"callTemplate": patch}),),
                resource_id="a-1",
                order=10,
            ),
        )
    )


LIVE_BOT = {
    "a-1": {
        "agentId": "a-1",
        "name": "bot",
        "callTemplate": {"voice": "Mark", "temperature": 0.3, "joinTimeout": "45s"},
    }
}


@pytest.mark.parametrize(
    ("patch", "sticky", "warnings"),
    [
        pytest.param({"voice": None}, (), [], id="cleared"),
        pytest.param(
            {"voice": None},
            ("voice",),
            ["Agent/bot: the server kept callTemplate.voice although the plan cleared it"],
            id="kept",
        ),
        pytest.param(
            {"voice": None, "temperature": None, "joinTimeout": None},
            ("voice", "joinTimeout"),
            [
                "Agent/bot: the server kept callTemplate.voice although the plan cleared it",
                "Agent/bot: the server kept callTemplate.joinTimeout although the plan cleared it",
            ],
            id="two-kept",
        ),
        pytest.param({"temperature": 0.5}, ("temperature",), [], id="set-not-cleared"),
    ],
)
def test_verify_warnings_surfaced(
    patch: dict[str, Any], sticky: tuple[str, ...], warnings: list[str]
) -> None:
    api = FakeAgentsApi(sticky=sticky, agents=LIVE_BOT)
    report = run(_update(patch), api)
    assert report.failed == []
    assert report.warnings == warnings
    assert list(report.done[0].warnings) == warnings


def test_verify_ignores_a_key_the_server_keeps_at_its_default() -> None:
    agents = {"a-1": {"agentId": "a-1", "name": "bot", "callTemplate": {"joinTimeout": "30s"}}}
    api = FakeAgentsApi(sticky=("joinTimeout",), agents=agents)
    report = run(_update({"joinTimeout": None}), api)
    assert report.warnings == []
