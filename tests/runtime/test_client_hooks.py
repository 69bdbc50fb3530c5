"""What a caller may swap in the product's API clients (`ClientHooks`), and how it gets there:
click context `obj` -> command -> `Workspace`/`Session` -> every `ApiClient`.

Production passes nothing and gets the network and `asyncio.sleep`; tests pass a transport and
a sleep that records instead of waiting.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from reconciler.cli import common as cli_common
from reconciler.cli import main as cli_main
from reconciler.providers import registry
from reconciler.runtime import engine
from reconciler.runtime.client import ApiClient

AGENT = "kind: Agent\nname: one\ncallTemplate:\n  systemPrompt: Hi.\n"
ENV = {"ULTRAVOX_API_KEY": "k", "ULTRAVOX_BASE_URL": "https://ultravox.test"}


class Server:
    """Two 429s (one with Retry-After: 7), then an empty list; remembers what it was sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url}")
        if len(self.seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        if len(self.seen) == 2:
            return httpx.Response(429)
        return httpx.Response(200, json={"results": [], "next": None})


def test_production_swaps_nothing() -> None:
    assert engine.NO_HOOKS.client_options() == {}
    assert engine.Session(ENV).hooks is engine.NO_HOOKS
    assert engine.Workspace.open(["x"], ENV, None).session().hooks is engine.NO_HOOKS
    assert cli_common.hooks() is engine.NO_HOOKS  # outside any click context


def test_a_session_gives_every_client_the_transport_and_the_sleep() -> None:
    server, waits = Server(), []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    hooks = engine.ClientHooks(transport=httpx.MockTransport(server), sleep=record)

    async def run() -> None:
        async with engine.Workspace.open(["x"], ENV, None, hooks).session() as session:
            api = await session.api(registry.provider("ultravox"))
            assert isinstance(api, ApiClient)
            assert await api.list_all("/api/agents") == []
            assert api.retries == 2

    asyncio.run(run())
    assert server.seen[0].startswith("GET https://ultravox.test/api/agents")
    assert len(server.seen) == 3
    assert waits[0] == 7.0 and len(waits) == 2  # recorded, not slept


def test_the_command_line_takes_the_hooks_from_the_click_context(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(AGENT)
    server, waits = Server(), []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    hooks = engine.ClientHooks(transport=httpx.MockTransport(server), sleep=record)
    result = CliRunner().invoke(
        cli_main.cli,
        ["plan", "--format", "json", str(tmp_path / "agent.yaml")],
        env=ENV,
        obj=hooks,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["create"] == 1
    assert len(server.seen) == 3 and len(waits) == 2
