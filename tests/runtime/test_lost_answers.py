"""What apply makes of answers it never got, and of held starts (issue 10, items 1 and 6).

* A DELETE retried after an attempt that may have reached the server, answered 404, is done;
  a first-attempt 404 is still an error.
* A held start (`Hold`) is moved to the hold after the server's clock only when the body asks
  for earlier, in ISO 8601 or unix seconds, never earlier than the manifest says.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from reconciler.core.domain import JSON, Hold, Request
from reconciler.core.errors import ApiError
from reconciler.providers.ultravox import SETTINGS
from reconciler.runtime.apply import held_body
from reconciler.runtime.client import ApiClient

NOW = datetime(2030, 1, 14, 15, 0, 0, 250_000, tzinfo=UTC)


def deleting(answers: list[object]) -> JSON:
    calls = iter(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        step = next(calls)
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, int)
        return httpx.Response(step, json={"detail": "Not found."} if step == 404 else None)

    async def run() -> JSON:
        client = ApiClient(
            SETTINGS,
            base_url="https://api.example",
            api_key="k",
            transport=httpx.MockTransport(answer),
            sleep=lambda _: asyncio.sleep(0),
        )
        async with client:
            return await client.send(Request("DELETE", "/api/agents/a1/scheduled_batches/b1"))

    return asyncio.run(run())


def test_a_delete_retried_after_a_lost_answer_and_found_gone_is_done() -> None:
    lost = httpx.ReadTimeout("no answer")
    assert deleting([lost, 404]) is None
    assert deleting([502, 404]) is None


def test_a_delete_of_something_that_was_never_there_is_still_an_error() -> None:
    with pytest.raises(ApiError, match="404"):
        deleting([404])


ISO = Hold("windowStart", 60)
UNIX = Hold("scheduled_time_unix", 60, unix=True)


@pytest.mark.parametrize(
    ("hold", "body", "expected"),
    [
        (ISO, {}, "2030-01-14T15:01:02Z"),
        (ISO, {"windowStart": "2030-01-14T14:00:00Z"}, "2030-01-14T15:01:02Z"),
        (ISO, {"windowStart": "2030-01-14T16:00:00Z"}, "2030-01-14T16:00:00Z"),
        (UNIX, {}, 1894633262),
        (UNIX, {"scheduled_time_unix": 1894629600}, 1894633262),
        (UNIX, {"scheduled_time_unix": 1894640000}, 1894640000),
    ],
    ids=["iso-now", "iso-past", "iso-later-kept", "unix-now", "unix-past", "unix-later-kept"],
)
def test_a_held_start_is_never_earlier_than_asked_nor_within_the_hold(
    hold: Hold, body: dict[str, JSON], expected: JSON
) -> None:
    held = held_body({"calls": [], **body}, hold, NOW)
    assert isinstance(held, dict) and held[hold.field] == expected
    assert held["calls"] == []


def test_a_hold_survives_the_plan_file() -> None:
    request = Request("POST", "/v1/voiceai/batch-calling/submit", {"x": 1}, hold=UNIX)
    assert Request.from_json(request.to_json()) == request
    assert request.to_json()["hold"] == {
        "field": "scheduled_time_unix",
        "seconds": 60,
        "unix": True,
    }
