"""ApiClient against httpx.MockTransport: pagination, retries, errors, secrecy, settings.

No network and no real sleeping: every client gets a fake `sleep` that records the delays it
was asked to wait, and (where the delay matters) a fixed `random`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from reconciler.core.domain import Request
from reconciler.core.errors import ApiError, ConfigError, TransportError
from reconciler.providers.base import ProviderSettings
from reconciler.providers.batchcalling.pagination import LastDocPagination
from reconciler.providers.ultravox.pagination import NextUrlPagination
from reconciler.runtime.client import ApiClient, settings_from_env

KEY = "uvx-test-Zq81secretKEY"
BASE = "https://api.ultravox.ai"

ULTRAVOX = ProviderSettings(
    name="ultravox",
    base_url_env="ULTRAVOX_BASE_URL",
    default_base_url=BASE,
    api_key_env="ULTRAVOX_API_KEY",
    api_key_header="X-API-Key",
    pagination=NextUrlPagination(),
    page_size=100,
)
THREETONE = ProviderSettings(
    name="threetone",
    base_url_env="THREETONE_BASE_URL",
    default_base_url="https://api.threetone.in",
    api_key_env="THREETONE_API_KEY",
    api_key_header="x-api-key",
    pagination=LastDocPagination(),
    page_size=1000,
)

Reply = Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None) -> Reply:
    """A fresh response per request (a Response's stream cannot be shared between requests)."""

    def make(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return make


def fail(exc_type: type[httpx.TransportError]) -> Reply:
    def make(request: httpx.Request) -> httpx.Response:
        raise exc_type("simulated", request=request)

    return make


class Server:
    """Answers with the scripted replies in order; the last one repeats forever."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        current = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return current(request)


class Harness:
    def __init__(
        self,
        server: Callable[[httpx.Request], Any],
        settings: ProviderSettings = ULTRAVOX,
        *,
        randoms: Iterable[float] | None = None,
        base_url: str = BASE,
        **kwargs: Any,
    ) -> None:
        self.delays: list[float] = []
        values = iter(randoms) if randoms is not None else None

        async def sleep(delay: float) -> None:
            self.delays.append(delay)

        def rand() -> float:
            return next(values) if values is not None else 1.0

        self.client = ApiClient(
            settings,
            base_url=base_url,
            api_key=KEY,
            transport=httpx.MockTransport(server),
            sleep=sleep,
            random=rand,
            **kwargs,
        )

    def run(self, use: Callable[[ApiClient], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            async with self.client as api:
                return await use(api)

        return asyncio.run(main())


def get(path: str = "/api/agents") -> Callable[[ApiClient], Awaitable[Any]]:
    return lambda api: api.get(path)


def post(body: Any = None, path: str = "/api/agents") -> Callable[[ApiClient], Awaitable[Any]]:
    return lambda api: api.send(Request("POST", path, body if body is not None else {"name": "x"}))


# -- pagination ---------------------------------------------------------------------------------


def test_next_url_follows_full_links_until_null_one_request_per_page() -> None:
    # The server clamps pageSize=100 to 2 items; the client must not care.
    server = Server(
        reply(200, {"results": [{"n": 1}, {"n": 2}], "next": f"{BASE}/api/agents?cursor=c1"}),
        reply(200, {"results": [{"n": 3}, {"n": 4}], "next": f"{BASE}/api/agents?cursor=c2"}),
        reply(200, {"results": [{"n": 5}], "next": None, "previous": "x", "total": 5}),
    )
    harness = Harness(server)
    items = harness.run(lambda api: api.list_all("/api/agents", {"search": "bot"}))
    assert [item["n"] for item in items] == [1, 2, 3, 4, 5]
    assert len(server.requests) == 3
    assert harness.client.stats == {"GET": 3}
    first, second, third = (request.url for request in server.requests)
    assert first.path == "/api/agents"
    assert dict(first.params) == {"search": "bot", "pageSize": "100"}
    assert str(second) == f"{BASE}/api/agents?cursor=c1"  # used as given, nothing added
    assert str(third) == f"{BASE}/api/agents?cursor=c2"
    assert all(request.headers["X-API-Key"] == KEY for request in server.requests)


def test_next_url_on_base_with_path_prefix_and_loopback_port() -> None:
    base = "http://127.0.0.1:8765/prefix"
    server = Server(
        reply(200, {"results": [1], "next": "http://127.0.0.1:8765/prefix/api/agents?cursor=a"}),
        reply(200, {"results": [2], "next": None}),
    )
    items = Harness(server, base_url=base + "/").run(lambda api: api.list_all("/api/agents"))
    assert items == [1, 2]
    assert [str(r.url) for r in server.requests] == [
        "http://127.0.0.1:8765/prefix/api/agents?pageSize=100",
        "http://127.0.0.1:8765/prefix/api/agents?cursor=a",
    ]


def test_next_url_downgraded_to_http_by_a_proxy_is_followed_over_https() -> None:
    server = Server(
        reply(200, {"results": [1], "next": "http://api.ultravox.ai/api/agents?cursor=a"}),
        reply(200, {"results": [2], "next": None}),
    )
    assert Harness(server).run(lambda api: api.list_all("/api/agents")) == [1, 2]
    assert str(server.requests[1].url) == f"{BASE}/api/agents?cursor=a"


def test_next_url_to_another_host_is_refused_and_gets_no_key() -> None:
    server = Server(
        reply(200, {"results": [1], "next": "https://evil.example/api/agents?cursor=a"}),
    )
    with pytest.raises(ApiError, match="another host"):
        Harness(server).run(lambda api: api.list_all("/api/agents"))
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([{"items": []}], "expected `results`"),
        ([["not", "paginated"]], None),
        (
            [
                {"results": [1], "next": f"{BASE}/api/agents?cursor=a"},
                {"results": [2], "next": f"{BASE}/api/agents?cursor=a"},
            ],
            "pagination loop",
        ),
    ],
)
def test_next_url_odd_pages(pages: list[Any], message: str | None) -> None:
    server = Server(*(reply(200, page) for page in pages))
    harness = Harness(server)
    if message is None:  # an unpaginated endpoint answers with the whole list
        assert harness.run(lambda api: api.list_all("/api/accounts")) == ["not", "paginated"]
    else:
        with pytest.raises(ApiError, match=message):
            harness.run(lambda api: api.list_all("/api/agents"))


@pytest.mark.parametrize(("page_size", "limit"), [(1000, "500"), (500, "500"), (50, "50")])
def test_last_doc_clamps_limit_and_follows_next_doc(page_size: int, limit: str) -> None:
    path = "/v1/voiceai/batch-calling/workspace"
    server = Server(
        reply(200, {"batch_calls": [{"id": "a"}, {"id": "b"}], "next_doc": "d1", "has_more": True}),
        reply(200, {"batch_calls": [{"id": "c"}], "next_doc": "d2", "has_more": True}),
        reply(200, {"batch_calls": [{"id": "d"}], "next_doc": None, "has_more": False}),
    )
    settings = dataclasses.replace(THREETONE, page_size=page_size)
    harness = Harness(server, settings, base_url="https://api.threetone.in")
    items = harness.run(lambda api: api.list_all(path))
    assert [item["id"] for item in items] == ["a", "b", "c", "d"]
    assert harness.client.stats == {"GET": 3}
    queries = [dict(request.url.params) for request in server.requests]
    assert queries == [
        {"limit": limit},
        {"limit": limit, "last_doc": "d1"},
        {"limit": limit, "last_doc": "d2"},
    ]
    assert all(r.headers["x-api-key"] == KEY for r in server.requests)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"batch_calls": [], "next_doc": None, "has_more": True}, "next_doc is missing"),
        ({"results": []}, "expected `batch_calls`"),
    ],
)
def test_last_doc_never_returns_a_partial_list(page: dict[str, Any], message: str) -> None:
    harness = Harness(Server(reply(200, page)), THREETONE)
    with pytest.raises(ApiError, match=message):
        harness.run(lambda api: api.list_all("/v1/voiceai/batch-calling/workspace"))


# -- retries ------------------------------------------------------------------------------------


def http_date(delta: timedelta) -> str:
    return email.utils.format_datetime(datetime.now(UTC) + delta, usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("7", 7.0, 7.0),
        ("0", 0.0, 0.0),
        ("3600", 30.0, 30.0),  # capped at max_backoff
        (timedelta(seconds=20), 15.0, 20.0),
        (timedelta(hours=2), 30.0, 30.0),
        (timedelta(seconds=-60), 0.0, 0.0),  # already past: go now
        ("soon", 0.5, 0.5),  # unreadable: first backoff step (random fixed at 1.0)
    ],
    # Stable ids: xdist workers must collect the same names.
    ids=["seconds", "zero", "capped", "date-20s", "date-2h", "date-past", "unreadable"],
)
def test_retry_after_seconds_and_http_date(
    retry_after: str | timedelta, low: float, high: float
) -> None:
    # An HTTP date is made when the test runs, not when it is collected: under load the two
    # can be seconds apart.
    if isinstance(retry_after, timedelta):
        retry_after = http_date(retry_after)
    server = Server(reply(429, {"detail": "slow down"}, headers={"Retry-After": retry_after}))
    server.replies.append(reply(200, {"ok": True}))
    harness = Harness(server)
    assert harness.run(get()) == {"ok": True}
    assert len(harness.delays) == 1
    assert low <= harness.delays[0] <= high
    assert harness.client.retries == 1


def test_backoff_doubles_from_half_a_second_and_is_capped() -> None:
    server = Server(reply(503, "busy"))
    harness = Harness(server, max_backoff=3.0, max_attempts=6)
    with pytest.raises(ApiError) as caught:
        harness.run(get())
    assert harness.delays == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert caught.value.status == 503
    assert caught.value.message == "busy"
    assert harness.client.stats == {"GET": 6}
    assert harness.client.retries == 5


def test_jitter_is_full_jitter_within_bounds() -> None:
    harness = Harness(Server(reply(503)), randoms=[0.0, 0.5, 0.25, 0.999], max_attempts=5)
    with pytest.raises(ApiError):
        harness.run(get())
    assert harness.delays == [0.0, 0.5, 0.5, 0.999 * 4.0]


def test_jitter_with_the_real_random_stays_below_the_ceiling() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    client = ApiClient(
        ULTRAVOX,
        base_url=BASE,
        api_key=KEY,
        transport=httpx.MockTransport(Server(reply(429))),
        sleep=sleep,
        max_attempts=8,
        max_backoff=4.0,
    )
    with pytest.raises(ApiError):
        asyncio.run(client.get("/api/agents"))
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert len(delays) == len(ceilings)
    assert all(0.0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))


def test_a_burst_of_429_is_survived() -> None:
    server = Server(*[reply(429, headers={"Retry-After": "1"})] * 5, reply(200, {"agentId": "a"}))
    harness = Harness(server)
    assert harness.run(get()) == {"agentId": "a"}
    assert harness.delays == [1.0] * 5
    assert harness.client.stats == {"GET": 6}


# What happens to each failure, per method: (method, failure, retried?, error type, ambiguous)
FAILURES = [
    ("POST", reply(503, {"detail": "unavailable"}), True, None, None),
    ("POST", reply(429, {"detail": "throttled"}), True, None, None),
    ("PATCH", reply(503), True, None, None),
    ("POST", reply(500, {"detail": "boom"}), False, ApiError, None),
    ("PATCH", reply(502), False, ApiError, None),
    ("GET", reply(500), True, None, None),
    ("GET", reply(504), True, None, None),
    ("DELETE", reply(500), True, None, None),
    ("PUT", reply(502), True, None, None),
    ("GET", fail(httpx.ConnectError), True, None, None),
    ("GET", fail(httpx.ReadTimeout), True, None, None),
    ("GET", fail(httpx.RemoteProtocolError), True, None, None),
    ("DELETE", fail(httpx.ReadTimeout), True, None, None),
    ("POST", fail(httpx.ReadTimeout), False, TransportError, True),
    ("POST", fail(httpx.WriteTimeout), False, TransportError, True),
    ("POST", fail(httpx.ReadError), False, TransportError, True),
    ("POST", fail(httpx.RemoteProtocolError), False, TransportError, True),
    ("PATCH", fail(httpx.ReadTimeout), False, TransportError, True),
    # never left this machine: not retried (non-idempotent), but known not to have happened
    ("POST", fail(httpx.ConnectError), False, TransportError, False),
    ("POST", fail(httpx.ConnectTimeout), False, TransportError, False),
]


@pytest.mark.parametrize(("method", "failure", "retried", "error", "ambiguous"), FAILURES)
def test_failure_handling_per_method(
    method: str,
    failure: Reply,
    retried: bool,
    error: type[Exception] | None,
    ambiguous: bool | None,
) -> None:
    server = Server(failure, reply(200, {"ok": True}))
    harness = Harness(server)
    body = None if method in ("GET", "DELETE") else {"name": "x"}
    if retried:
        result = harness.run(lambda api: api.send(Request(method, "/api/agents/1", body)))
        assert result == {"ok": True}
        assert harness.client.stats == {method: 2}
        assert harness.client.retries == 1
        assert len(harness.delays) == 1
    else:
        assert error is not None
        with pytest.raises(error) as caught:
            harness.run(lambda api: api.send(Request(method, "/api/agents/1", body)))
        assert harness.client.stats == {method: 1}
        assert harness.delays == []
        if ambiguous is not None:
            assert caught.value.ambiguous is ambiguous  # type: ignore[attr-defined]
            assert caught.value.path == "/api/agents/1"  # type: ignore[attr-defined]


def test_get_that_never_connects_gives_up_after_max_attempts_not_ambiguous() -> None:
    harness = Harness(Server(fail(httpx.ConnectError)), max_attempts=3)
    with pytest.raises(TransportError) as caught:
        harness.run(get())
    assert caught.value.ambiguous is False
    assert "ConnectError" in caught.value.reason
    assert harness.client.stats == {"GET": 3}
    assert len(harness.delays) == 2


def test_delete_that_keeps_timing_out_is_ambiguous() -> None:
    harness = Harness(Server(fail(httpx.ReadTimeout)), max_attempts=2)
    with pytest.raises(TransportError) as caught:
        harness.run(lambda api: api.send(Request("DELETE", "/api/agents/1")))
    assert caught.value.ambiguous is True


def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return httpx.Response(200, json={"path": request.url.path})

    harness = Harness(handler, concurrency=3)

    async def many(api: ApiClient) -> list[Any]:
        return await asyncio.gather(*(api.get(f"/api/agents/{i}") for i in range(12)))

    results = harness.run(many)
    assert [r["path"] for r in results] == [f"/api/agents/{i}" for i in range(12)]
    assert peak == 3
    assert harness.client.stats == {"GET": 12}


# -- bodies and errors --------------------------------------------------------------------------


def test_send_posts_json_and_parses_the_answer() -> None:
    server = Server(reply(201, {"agentId": "a1"}))
    body = {"name": "support_bot", "callTemplate": {"systemPrompt": "Hé {{x}}"}}
    result = Harness(server).run(lambda api: api.send(Request("POST", "/api/agents", body)))
    assert result == {"agentId": "a1"}
    sent = server.requests[0]
    assert sent.method == "POST"
    assert sent.url.path == "/api/agents"
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.content) == body


@pytest.mark.parametrize(
    ("status", "text"), [(204, None), (200, ""), (202, "  \n")], ids=["204", "empty", "blank"]
)
def test_no_content_is_none(status: int, text: str | None) -> None:
    server = Server(reply(status, text))
    result = Harness(server).run(lambda api: api.send(Request("DELETE", "/api/agents/1")))
    assert result is None
    assert server.requests[0].content == b""


LONG = "x" * 5000

ERROR_BODIES = [
    ({"detail": "Not found."}, "Not found."),
    ({"detail": "Throttled.", "code": "throttled"}, "Throttled."),
    (
        {"name": ["Agent with this name already exists."]},
        "name: Agent with this name already exists.",
    ),
    ({"name": ["too long", "bad chars"]}, "name: too long; name: bad chars"),
    (
        {"windowEnd": ["Window too small: estimated 2h."], "calls": ["minItems"]},
        "windowEnd: Window too small: estimated 2h.; calls: minItems",
    ),
    (
        {"callTemplate": {"voice": ["Unknown voice: Marc"]}},
        "callTemplate.voice: Unknown voice: Marc",
    ),
    (
        {"calls": [{}, {"metadata": ["values must be strings"]}]},
        "calls[1].metadata: values must be strings",
    ),
    (["Batch is paused."], "Batch is paused."),
    ({"error": {"code": 7, "message": "é"}}, '{"error":{"code":7,"message":"é"}}'),
    ({"count": 3}, '{"count":3}'),
    ("<html>Bad gateway</html>", "<html>Bad gateway</html>"),
    (LONG, "x" * 2000 + "..."),
    (None, "Bad Request"),  # empty body: the reason phrase
]


@pytest.mark.parametrize(("body", "message"), ERROR_BODIES)
def test_error_message_is_the_servers_verbatim(body: Any, message: str) -> None:
    harness = Harness(Server(reply(400, body)))
    with pytest.raises(ApiError) as caught:
        harness.run(post())
    err = caught.value
    assert (err.method, err.path, err.status, err.message) == ("POST", "/api/agents", 400, message)
    assert str(err) == f"POST /api/agents -> HTTP 400: {message}"


def test_error_path_has_no_host_and_no_query() -> None:
    server = Server(
        reply(200, {"results": [], "next": f"{BASE}/api/agents?cursor=SECRETCURSOR"}),
        reply(404, {"detail": "Invalid cursor"}),
    )
    with pytest.raises(ApiError) as caught:
        Harness(server).run(lambda api: api.list_all("/api/agents"))
    assert caught.value.path == "/api/agents"
    assert "SECRETCURSOR" not in str(caught.value)
    assert "ultravox.ai" not in str(caught.value)


def test_redirects_are_errors_not_followed() -> None:
    server = Server(reply(301, headers={"Location": f"{BASE}/api/agents/?x=1"}))
    with pytest.raises(ApiError, match="unexpected redirect to /api/agents/"):
        Harness(server).run(get())
    assert len(server.requests) == 1


def test_non_json_success_is_an_error() -> None:
    with pytest.raises(ApiError, match="not JSON"):
        Harness(Server(reply(200, "<html>"))).run(get())


# -- the API key stays secret -------------------------------------------------------------------


def test_api_key_is_sent_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server(
        reply(200, {"ok": 1}),
        reply(403, {"detail": f"Invalid API key {KEY}"}),
        fail(httpx.ReadTimeout),
    )
    harness = Harness(server)
    client = harness.client
    assert KEY not in repr(client)
    assert "X-API-Key" in repr(client)
    assert KEY not in str(client)

    async def scenario(api: ApiClient) -> list[str]:
        shown = [str(await api.get("/api/agents"))]
        for request in (Request("GET", "/api/agents"), Request("POST", "/api/agents", {})):
            try:
                await api.send(request)
            except (ApiError, TransportError) as err:
                shown += [str(err), repr(err), err.render(), str(err.args)]
        return shown

    shown = harness.run(scenario)
    assert len(shown) == 9
    assert "Invalid API key ***" in shown[1]
    assert all(KEY not in text for text in shown)
    assert all(request.headers["X-API-Key"] == KEY for request in server.requests)
    records = [r.getMessage() for r in caplog.records if r.name == "reconciler.http"]
    assert any(f"GET {BASE}/api/agents -> 200 (" in line for line in records)
    assert all(KEY not in line for line in records)
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_api_key_is_not_in_the_clients_default_headers() -> None:
    harness = Harness(Server(reply(200, {})))
    assert KEY not in repr(harness.client._http.headers)


def test_unsendable_api_key_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        ApiClient(ULTRAVOX, base_url=BASE, api_key="abc\ndef")
    assert "abc" not in str(caught.value)


# -- settings from the environment --------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "kwargs", "expected"),
    [
        ({"ULTRAVOX_API_KEY": "k1"}, {}, (BASE, "k1")),
        ({"ULTRAVOX_API_KEY": " k1\n"}, {}, (BASE, "k1")),
        (
            {"ULTRAVOX_API_KEY": "k1", "ULTRAVOX_BASE_URL": "http://127.0.0.1:8000/"},
            {},
            ("http://127.0.0.1:8000", "k1"),
        ),
        ({"ULTRAVOX_API_KEY": "k1", "ULTRAVOX_BASE_URL": ""}, {}, (BASE, "k1")),
        (
            {"ULTRAVOX_API_KEY": "k1", "ULTRAVOX_BASE_URL": "http://a.example"},
            {"base_url": "https://b.example/"},
            ("https://b.example", "k1"),
        ),
        ({"PROD_ULTRAVOX_KEY": "k2"}, {"api_key_env": "PROD_ULTRAVOX_KEY"}, (BASE, "k2")),
    ],
)
def test_settings_from_env(
    environ: dict[str, str], kwargs: dict[str, str], expected: tuple[str, str]
) -> None:
    assert settings_from_env(ULTRAVOX, environ, **kwargs) == expected


@pytest.mark.parametrize(
    ("environ", "kwargs", "names", "hidden"),
    [
        ({}, {}, ["ULTRAVOX_API_KEY is not set", "Ultravox API key"], []),
        ({"ULTRAVOX_API_KEY": "  "}, {}, ["ULTRAVOX_API_KEY is not set"], []),
        (
            {"ULTRAVOX_API_KEY": "k1"},
            {"api_key_env": "STAGING_KEY"},
            ["STAGING_KEY is not set"],
            ["k1"],
        ),
        (
            {"ULTRAVOX_API_KEY": "k1", "ULTRAVOX_BASE_URL": "api.ultravox.ai"},
            {},
            ["ULTRAVOX_BASE_URL", "http:// or https://"],
            ["k1"],
        ),
        (
            {"ULTRAVOX_API_KEY": "k1"},
            {"base_url": "ftp://x.example"},
            ["--base-url", "http:// or https://"],
            ["k1"],
        ),
        (
            {"ULTRAVOX_API_KEY": "sec ret"},
            {},
            ["ULTRAVOX_API_KEY contains characters"],
            ["sec ret", "sec"],
        ),
    ],
)
def test_settings_from_env_errors(
    environ: dict[str, str], kwargs: dict[str, str], names: list[str], hidden: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_env(ULTRAVOX, environ, **kwargs)
    message = str(caught.value)
    assert all(name in message for name in names), message
    assert all(value not in message for value in hidden), message
