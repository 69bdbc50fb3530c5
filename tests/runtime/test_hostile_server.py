"""A hostile or broken API server against the client (issue 11, items 3, 6, 7 and 8).

Every case runs `ApiClient` over `httpx.MockTransport`: no network, no real sleeping beyond a
fraction of a second, bounded loops. Each asserts a clear `ApiError`/`TransportError` (never
another exception), and where the key matters, that it was not sent where it must not go.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler.core.domain import Request
from reconciler.core.errors import ApiError, ReconcilerError, TransportError
from reconciler.core.limits import Limits
from reconciler.core.masking import REDACTOR
from reconciler.providers.base import ProviderSettings
from reconciler.providers.batchcalling.pagination import LastDocPagination
from reconciler.providers.ultravox.pagination import NextUrlPagination
from reconciler.runtime.client import ApiClient

KEY = "uvx-hostile-0123456789abcdef"
BASE = "http://127.0.0.1:8765"

ULTRAVOX = ProviderSettings(
    name="ultravox",
    base_url_env="ULTRAVOX_BASE_URL",
    default_base_url="https://api.ultravox.ai",
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
    page_size=500,
    path_prefix="/v1/voiceai/batch-calling",
)

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class Recorder:
    """The requests a handler saw, and whether each carried the key."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.handler(request)
        if asyncio.iscoroutine(answer):
            answer = await answer
        assert isinstance(answer, httpx.Response)
        return answer

    def keyed(self) -> list[str]:
        return [str(r.url) for r in self.requests if r.headers.get("X-API-Key") == KEY]


def run(
    handler: Handler,
    call: Callable[[ApiClient], Awaitable[Any]],
    *,
    settings: ProviderSettings = ULTRAVOX,
    limits: Limits | None = None,
    timeout: float = 5.0,
    max_attempts: int = 1,
) -> tuple[Recorder, Any]:
    recorder = Recorder(handler)

    async def go() -> Any:
        async def no_sleep(_: float) -> None:
            return None

        async with ApiClient(
            settings,
            base_url=BASE,
            api_key=KEY,
            transport=httpx.MockTransport(recorder),
            timeout=timeout,
            max_attempts=max_attempts,
            sleep=no_sleep,
            limits=limits or Limits(),
        ) as api:
            return await call(api)

    return recorder, asyncio.run(go())


def refused(handler: Handler, call: Callable[[ApiClient], Awaitable[Any]], **options: Any) -> Any:
    """The error `call` ends in, and the recorder: always a ReconcilerError, never another."""
    recorder = Recorder(handler)
    with pytest.raises(ReconcilerError) as caught:
        run(recorder, call, **options)
    return caught.value, recorder


class Trickle(httpx.AsyncByteStream):
    """A body sent one byte at a time with a pause between bytes (a slow-loris server)."""

    def __init__(self, body: bytes, pause: float) -> None:
        self.body, self.pause = body, pause

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for byte in self.body:
            await asyncio.sleep(self.pause)
            yield bytes([byte])


class Chunks(httpx.AsyncByteStream):
    """A body in given chunks, produced lazily (httpx does not read it in advance)."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += len(chunk)
            yield chunk


# --- item 3: credentials go only to the origin they are for ------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:9999/api/agents?cursor=a",  # another port of the same host
        "https://127.0.0.1:8765/api/agents?cursor=a",  # another scheme
        "http://localhost:8765/api/agents?cursor=a",  # another host name
        "http://evil.example/api/agents?cursor=a",
    ],
    ids=["port", "scheme", "host-name", "host"],
)
def test_a_next_link_to_another_origin_gets_no_key(link: str) -> None:
    pages = iter([{"results": [{"agentId": "a"}], "next": link}])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(pages, {"results": [], "next": None}))

    error, recorder = refused(handler, lambda api: api.list_all("/api/agents"))
    assert isinstance(error, ApiError)
    assert "refusing to follow a link to another host, scheme or port" in str(error)
    assert recorder.keyed() == [f"{BASE}/api/agents?pageSize=100"]


def test_a_next_link_to_the_same_origin_is_followed() -> None:
    pages = iter(
        [
            {"results": [{"n": 1}], "next": f"{BASE}/api/agents?cursor=b"},
            {"results": [{"n": 2}], "next": None},
        ]
    )
    recorder, items = run(
        lambda r: httpx.Response(200, json=next(pages)), lambda api: api.list_all("/api/agents")
    )
    assert items == [{"n": 1}, {"n": 2}]
    assert len(recorder.keyed()) == 2


# --- item 6: pages, sizes and time are bounded ---------------------------------------------------


def test_fresh_cursors_forever_stop_at_the_page_bound() -> None:
    counter = iter(range(10**6))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"results": [], "next": f"{BASE}/api/agents?cursor={next(counter)}"},
        )

    error, recorder = refused(
        handler, lambda api: api.list_all("/api/agents"), limits=Limits(max_pages=25)
    )
    assert "beyond 25 pages" in str(error) and "RECONCILER_MAX_PAGES" in str(error)
    assert len(recorder.requests) == 25


def test_fresh_last_doc_cursors_forever_stop_too() -> None:
    counter = iter(range(10**6))

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"batch_calls": [], "has_more": True, "next_doc": f"d{next(counter)}"}
        return httpx.Response(200, json=body)

    error, recorder = refused(
        handler,
        lambda api: api.list_all("/v1/voiceai/batch-calling/workspace"),
        settings=THREETONE,
        limits=Limits(max_pages=10),
    )
    assert "beyond 10 pages" in str(error)
    assert len(recorder.requests) == 10


def test_a_server_sending_one_byte_at_a_time_meets_the_request_deadline() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle(b'{"results": [], "next": null}', 0.05))

    error, _ = refused(handler, lambda api: api.get("/api/agents"), timeout=0.2)
    assert isinstance(error, TransportError)
    assert "no complete answer within 0.2 s" in str(error)


def test_a_slow_write_is_ambiguous_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle(b"{}", 0.3))

    error, recorder = refused(
        handler,
        lambda api: api.send(Request("POST", "/api/agents", {"name": "a"})),
        timeout=0.1,
        max_attempts=3,
    )
    assert isinstance(error, TransportError) and error.ambiguous
    assert len(recorder.requests) == 1


def test_a_gzip_bomb_stops_at_the_response_bound() -> None:
    bomb = gzip.compress(b"\x00" * (20 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 64 * 1024
    stream = Chunks(*(bomb[i : i + 4096] for i in range(0, len(bomb), 4096)))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=stream)

    error, _ = refused(
        handler,
        lambda api: api.get("/api/agents"),
        limits=Limits(max_response_bytes=1024 * 1024),
    )
    assert "larger than 1,048,576 bytes" in str(error)
    assert "RECONCILER_MAX_RESPONSE_BYTES" in str(error)
    assert stream.sent < len(bomb), "decoding stops as soon as the bound is crossed"


def test_a_deflate_answer_within_the_bound_is_decoded() -> None:
    body = json.dumps({"results": [{"n": 1}], "next": None}).encode()
    for data in (zlib.compress(body), zlib.compress(body)[2:-4]):  # zlib-wrapped and raw

        def handler(request: httpx.Request, data: bytes = data) -> httpx.Response:
            return httpx.Response(200, headers={"Content-Encoding": "deflate"}, stream=Chunks(data))

        _, items = run(handler, lambda api: api.list_all("/api/agents"))
        assert items == [{"n": 1}]


def test_a_body_over_the_bound_is_refused_as_sent_too() -> None:
    stream = Chunks(*([b" " * 65536] * 64))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream)

    error, _ = refused(
        handler, lambda api: api.get("/api/agents"), limits=Limits(max_response_bytes=100_000)
    )
    assert "larger than 100,000 bytes" in str(error)
    assert stream.sent <= 100_000 + 65536


def test_a_declared_length_over_the_bound_is_refused_before_reading() -> None:
    stream = Chunks(b"{}")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(10**12)}, stream=stream)

    error, _ = refused(handler, lambda api: api.get("/api/agents"))
    assert "larger than" in str(error)
    assert stream.sent == 0


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({"Content-Encoding": "br"}, b"\x8b\x00", "Content-Encoding 'br'"),
        ({"Content-Encoding": "gzip"}, b"not gzip at all", "gzip data is corrupt"),
    ],
    ids=["unsupported-encoding", "corrupt-gzip"],
)
def test_encodings_the_client_cannot_read(
    headers: dict[str, str], body: bytes, message: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=Chunks(body))

    error, _ = refused(handler, lambda api: api.get("/api/agents"))
    assert message in str(error)


# --- item 7: no traceback for any answer ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (200, json.dumps(json.loads("[" * 80 + "]" * 80)), "nested deeper than 64 levels"),
        (200, '{"results": [NaN], "next": null}', "not JSON"),
        (200, '{"results": [Infinity], "next": null}', "not JSON"),
        (400, "[" * 100_000 + "]" * 100_000, "HTTP 400"),
        (400, json.dumps(json.loads("[" * 80 + '"deep"' + "]" * 80)), "HTTP 400"),
    ],
    ids=["json-recursion", "json-depth", "nan", "infinity", "deep-error", "deep-drf-error"],
)
def test_answers_that_used_to_raise_tracebacks(status: int, body: str, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=body)

    error, _ = refused(handler, lambda api: api.get("/api/agents"))
    assert isinstance(error, ApiError) and message in str(error)


# --- item 8: what reaches a URL path is checked ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/agents/../accounts",
        "/api/agents/%2e%2e/accounts",
        "/api/agents/a%2Fb",
        "//evil.example/api/agents",
        "/api/agents/a b",
        "api/agents",
    ],
)
def test_a_path_that_would_move_the_request_is_never_sent(path: str) -> None:
    error, recorder = refused(
        lambda r: httpx.Response(200, json={}), lambda api: api.send(Request("DELETE", path))
    )
    assert "refused to send" in str(error)
    assert recorder.requests == []


def test_the_api_key_is_registered_for_masking() -> None:
    run(lambda r: httpx.Response(200, json={}), lambda api: api.get("/api/agents"))
    assert REDACTOR.text(f"echo {KEY}") == "echo ***"
