"""The server's clock, as its `Date` answers tell it (issue 10).

When a batch scheduled "now" starts dialling, and whether a window has closed, is the
server's business: the client keeps the time of the latest `Date` answer, a plan judges
windows by it, and the emulator answers with its virtual clock's time (as a vendor's server
answers with its own), over loopback as in process.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from reconciler.providers.base import server_now
from reconciler.providers.ultravox import SETTINGS as ULTRAVOX
from reconciler.runtime.client import ApiClient
from reconciler_emulator import EmulatorConfig
from tests.conftest import MakeEmulator

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)


def test_the_client_keeps_the_servers_date() -> None:
    dates = iter(["Mon, 14 Jan 2030 15:00:00 GMT", "not a date", "Mon, 14 Jan 2030 15:00:07 GMT"])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"results": [], "next": None}, headers={"Date": next(dates)}
        )

    async def run() -> list[datetime | None]:
        client = ApiClient(
            ULTRAVOX,
            base_url="https://api.example",
            api_key="k",
            transport=httpx.MockTransport(answer),
        )
        async with client:
            seen = [client.server_now()]
            for _ in range(3):
                await client.get("/api/agents")
                seen.append(server_now(client))
            return seen

    before, first, unreadable, last = asyncio.run(run())
    assert before is None
    assert first is not None and abs(first - START) < timedelta(seconds=1)
    assert unreadable is not None and abs(unreadable - START) < timedelta(seconds=1)  # kept
    assert last is not None and abs(last - (START + timedelta(seconds=7))) < timedelta(seconds=1)


def test_an_api_that_cannot_tell_says_none() -> None:
    assert server_now(object()) is None


@pytest.mark.parametrize("served", [False, pytest.param(True, marks=pytest.mark.e2e)])
def test_the_emulator_answers_with_its_virtual_clock(
    make_emulator: MakeEmulator, served: bool
) -> None:
    emulator = make_emulator(EmulatorConfig(api_key="k", start_time=START))
    emulator.admin.advance(90)
    with emulator.http(headers={"X-API-Key": "k"}) as http:
        answer = http.get("/api/agents")
    assert answer.status_code == 200
    assert answer.headers.get_list("date") == ["Mon, 14 Jan 2030 15:01:30 GMT"]
