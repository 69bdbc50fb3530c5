"""The `--rate` pacer, and the client's network messages (issue 13 items 4, 5; issue 14).

Time is injected everywhere: a fake clock that only the fake sleep moves, so the schedule is
exact and nothing waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import json
import logging
import ssl
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.core.errors import TransportError
from reconciler.core.limits import Limits
from reconciler.providers.base import ProviderSettings
from reconciler.runtime import client as client_module
from reconciler.runtime.client import ApiClient, api_base_url
from reconciler.runtime.pacing import Pacer
from tests.runtime.test_client import BASE, KEY, THREETONE, ULTRAVOX

T = TypeVar("T")

ULTRAVOX_API = dataclasses.replace(ULTRAVOX, api_root="/api")
THREETONE_API = dataclasses.replace(THREETONE, path_prefix="/v1/voiceai/batch-calling")


class FakeTime:
    """Virtual time: the clock stands still while any task can run; when all wait, it jumps
    to the earliest wake-up (`drive`). Overlapping sleeps overlap, as real ones do."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, len(self.sleeps), woken))
        await woken

    def drive(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to its end in virtual time."""

        async def main() -> T:
            task = asyncio.ensure_future(coro)
            while not task.done():
                for _ in range(50):  # every task runs until it waits (MockTransport is sync)
                    await asyncio.sleep(0)
                if not task.done():
                    # Nothing can run and nobody sleeps here: it waits on something else.
                    assert self._sleepers, (
                        "stuck: a task waits on a sleep this clock does not drive"
                    )
                    wake, _, woken = heapq.heappop(self._sleepers)
                    self.now = max(self.now, wake)
                    woken.set_result(None)
            return task.result()

        return asyncio.run(main())


# --- the pacer alone ----------------------------------------------------------------------------


def test_slots_are_one_interval_apart_in_the_order_asked() -> None:
    fake = FakeTime()
    pacer = Pacer(4, sleep=fake.sleep, clock=fake.clock)
    assert [pacer.reserve() for _ in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_a_quiet_spell_is_not_saved_up_for_a_burst() -> None:
    fake = FakeTime()
    pacer = Pacer(2, sleep=fake.sleep, clock=fake.clock)
    assert pacer.reserve() == 0.0
    fake.now += 10  # nothing asked for 10 s: the next starts now, the one after waits
    assert [pacer.reserve(), pacer.reserve()] == [0.0, 0.5]


def test_a_hold_pushes_every_later_slot() -> None:
    fake = FakeTime()
    pacer = Pacer(10, sleep=fake.sleep, clock=fake.clock)
    assert pacer.reserve() == 0.0
    pacer.hold(2.0)
    assert [pacer.reserve(), pacer.reserve()] == [2.0, pytest.approx(2.1)]
    pacer.hold(0.5)  # a shorter hold never pulls slots earlier
    assert pacer.reserve() == pytest.approx(2.2)


def test_concurrent_workers_never_exceed_the_rate() -> None:
    fake = FakeTime()
    pacer = Pacer(5, sleep=fake.sleep, clock=fake.clock)
    starts: list[float] = []

    async def worker() -> None:
        for _ in range(4):
            await pacer.wait()
            starts.append(fake.now)

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(6)))

    fake.drive(main())
    assert len(starts) == 24
    first = min(starts)
    # 24 starts at 5 per second: one every 0.2 s, the last 4.6 s after the first.
    assert sorted(round(s - first, 6) for s in starts) == [round(0.2 * i, 6) for i in range(24)]
    assert pacer.waited > 0


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="rate must be a positive number"):
        Pacer(rate, sleep=FakeTime().sleep)


# --- the pacer in the client --------------------------------------------------------------------


def paced_client(fake: FakeTime, handler: Any, rate: float) -> ApiClient:
    return ApiClient(
        ULTRAVOX,
        base_url=BASE,
        api_key=KEY,
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.5,
        concurrency=8,
        limits=Limits(rate=rate),
    )


def test_the_client_paces_every_attempt_retries_included_and_a_429_holds_everyone() -> None:
    fake = FakeTime()
    arrivals: list[tuple[float, str]] = []
    throttled = {"done": False}

    def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append((fake.now, request.url.path))
        if request.url.path == "/api/agents/a1" and not throttled["done"]:
            throttled["done"] = True
            return httpx.Response(429, headers={"Retry-After": "3"}, json={"detail": "slow"})
        return httpx.Response(200, json={})

    async def main() -> None:
        async with paced_client(fake, handler, rate=10) as api:
            await asyncio.gather(*(api.get(f"/api/agents/a{i}") for i in range(4)))

    fake.drive(main())
    times = [t - 100.0 for t, _ in arrivals]
    paths = [p for _, p in arrivals]
    # a0 and a1 in the first two slots; a1's 429 holds everyone 3 s, then the rest, 0.1 s apart.
    assert paths[:2] == ["/api/agents/a0", "/api/agents/a1"]
    assert times[:2] == [0.0, pytest.approx(0.1)]
    assert sorted(paths[2:]) == ["/api/agents/a1", "/api/agents/a2", "/api/agents/a3"]
    assert [round(t, 6) for t in times[2:]] == [3.1, 3.2, 3.3]


def test_without_a_rate_nothing_is_paced() -> None:
    fake = FakeTime()

    async def main() -> None:
        async with paced_client(fake, lambda r: httpx.Response(200, json={}), rate=0) as api:
            await asyncio.gather(*(api.get(f"/api/agents/a{i}") for i in range(20)))

    asyncio.run(main())
    assert fake.sleeps == []


# --- what the client says -----------------------------------------------------------------------


def test_a_transport_error_names_the_full_url_the_attempts_and_the_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.http")
    fake = FakeTime()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    async def main() -> None:
        client = paced_client(fake, refuse, rate=0)
        client.max_attempts = 3
        async with client as api:
            await api.get("/api/agents", params={"cursor": "SECRETCURSOR"})

    with pytest.raises(TransportError) as caught:
        fake.drive(main())
    error = caught.value
    assert str(error) == (
        f"GET {BASE}/api/agents failed after 3 attempts: ConnectError: All connection "
        "attempts failed"
    )
    assert (error.path, error.url, error.attempts, error.ambiguous) == (
        "/api/agents",
        f"{BASE}/api/agents",
        3,
        False,
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.http"]
    assert lines == [
        f"GET {BASE}/api/agents: ConnectError: All connection attempts failed, "
        "retrying in 0.25 s (1/2)",
        f"GET {BASE}/api/agents: ConnectError: All connection attempts failed, "
        "retrying in 0.5 s (2/2)",
    ]
    assert all("SECRETCURSOR" not in line and KEY not in line for line in lines)


def test_the_system_reason_under_a_connect_error_is_named() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
        except OSError as exc:
            raise httpx.ConnectError("All connection attempts failed", request=request) from exc

    async def main() -> None:
        client = paced_client(FakeTime(), refuse, rate=0)
        client.max_attempts = 1  # no wait at all
        async with client as api:
            await api.get("/api/agents")

    with pytest.raises(TransportError) as caught:
        asyncio.run(main())
    assert caught.value.reason == (
        "ConnectError: All connection attempts failed (Connection refused)"
    )


def test_a_write_that_may_have_arrived_says_one_attempt() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async def main() -> None:
        async with paced_client(FakeTime(), hang, rate=0) as api:
            await api.request("POST", "/api/agents", json={"name": "a"})

    with pytest.raises(TransportError) as caught:
        asyncio.run(main())
    assert (
        str(caught.value)
        == f"POST {BASE}/api/agents failed after 1 attempt: ReadTimeout: timed out"
    )
    assert caught.value.ambiguous


@pytest.mark.parametrize(
    ("settings", "given", "expected"),
    [
        (ULTRAVOX_API, "https://api.ultravox.ai", "https://api.ultravox.ai"),
        (ULTRAVOX_API, "https://api.ultravox.ai/api", "https://api.ultravox.ai"),
        (ULTRAVOX_API, "http://127.0.0.1:8000/api", "http://127.0.0.1:8000"),
        (ULTRAVOX_API, "https://proxy.example/ultravox/api", "https://proxy.example/ultravox"),
        (ULTRAVOX_API, "https://proxy.example/ultravox", "https://proxy.example/ultravox"),
        (ULTRAVOX_API, "https://proxy.example/apis", "https://proxy.example/apis"),
        (THREETONE_API, "https://api.threetone.in/v1", "https://api.threetone.in"),
        (
            THREETONE_API,
            "https://api.threetone.in/v1/voiceai/batch-calling",
            "https://api.threetone.in",
        ),
        (THREETONE_API, "https://api.threetone.in/voiceai", "https://api.threetone.in/voiceai"),
        (ULTRAVOX, "https://api.ultravox.ai/api", "https://api.ultravox.ai/api"),  # no root known
    ],
)
def test_a_base_url_is_cut_before_the_paths_the_client_adds(
    settings: ProviderSettings, given: str, expected: str
) -> None:
    assert api_base_url(given, settings) == expected


def test_settings_from_env_normalizes_a_trailing_api() -> None:
    from reconciler.runtime.client import settings_from_env

    environ = {"ULTRAVOX_API_KEY": "k1", "ULTRAVOX_BASE_URL": "https://api.ultravox.ai/api/"}
    assert settings_from_env(ULTRAVOX_API, environ) == ("https://api.ultravox.ai", "k1")


def test_clients_share_one_tls_context() -> None:
    # Building one reads the whole CA bundle (some 40 ms); a run opens a client per session.
    first = ApiClient(ULTRAVOX, base_url=BASE, api_key=KEY)
    second = ApiClient(ULTRAVOX, base_url=BASE, api_key=KEY)
    contexts = [c._http._transport._pool._ssl_context for c in (first, second)]  # type: ignore[attr-defined]
    assert contexts[0] is contexts[1]
    asyncio.run(first.aclose())
    asyncio.run(second.aclose())


def test_a_client_over_plain_http_builds_no_verifying_context_and_trusts_no_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No request of an http:// client uses TLS (links to another scheme are refused), so it
    # does not read the CA bundle; the context httpx insists on would refuse every server.
    def unread() -> ssl.SSLContext:
        raise AssertionError("the CA bundle was read for a plain-http client")

    monkeypatch.setattr(client_module, "_tls_context", unread)
    plain = ApiClient(ULTRAVOX, base_url="http://127.0.0.1:8765", api_key=KEY)
    context: ssl.SSLContext = plain._http._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats() == {"x509": 0, "crl": 0, "x509_ca": 0}
    asyncio.run(plain.aclose())
    with pytest.raises(AssertionError, match="CA bundle"):
        ApiClient(ULTRAVOX, base_url=BASE, api_key=KEY)


def test_a_delete_gone_after_a_retry_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.http")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:  # sent, its answer lost: the first attempt may have deleted it
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(404, json={"detail": "Not found."})

    fake = FakeTime()

    async def main() -> Any:
        async with paced_client(fake, handler, rate=0) as api:
            return await api.request("DELETE", "/api/agents/a1")

    assert fake.drive(main()) is None
    assert [r.getMessage() for r in caplog.records if r.name == "reconciler.http"] == [
        f"DELETE {BASE}/api/agents/a1: ReadTimeout: timed out, retrying in 0.25 s (1/5)",
        f"DELETE {BASE}/api/agents/a1: gone after a retry; counted as done",
    ]


def test_vv_bodies_are_masked_then_cut() -> None:
    from reconciler.runtime.client import BODY_SHOWN, _shown_body

    body = json.dumps({"to": "+14155550123", "note": "x" * 5000}).encode()
    shown = _shown_body(body)
    masked_text = '{"to":"+1415***0123","note":"' + "x" * 5000 + '"}'
    assert shown == (
        masked_text[:BODY_SHOWN] + f"... ({len(masked_text) - BODY_SHOWN:,} more characters)"
    )
    assert _shown_body(b"not json +14155550123") == "not json +1415***0123"


def test_a_body_one_character_over_says_character() -> None:
    from reconciler.runtime.client import BODY_SHOWN, _shown_body

    text = "y" * (BODY_SHOWN + 1)
    assert _shown_body(text.encode()) == "y" * BODY_SHOWN + "... (1 more character)"
