"""The one path every vendor API request takes through the emulator.

Owns: `VendorApi` (what a vendor API package contributes: the path prefix it answers, its ASGI
app, its admin routes), `Traffic` (the ASGI middleware in front of ALL vendor APIs: the
latency (each answer held until `latency` after its arrival), the fault rules of `faults`, the
request journal of `journal`, the `Date` header from the virtual clock), the dispatch of a
request to the vendor API whose prefix claims it (a 404 `{"detail": "Not found."}` when none
does), and `respond`. Ultravox, Threetone and ElevenLabs requests all pass through the same
`Traffic` instance, so a fault armed with a `path_prefix` of one vendor, or none, and the
journal behave alike for all of them. Vendor-neutral: must not import uvicorn, httpx, any
vendor package or anything of the product.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler_emulator.faults import fault_answer
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.state import Store

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def respond(status: int, payload: JSON, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer, or an empty one for 204."""
    if status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(payload, status_code=status, headers=headers)


Endpoint = Callable[[Request], Awaitable[Response]]


def asgi(endpoint: Endpoint) -> ASGIApp:
    """A Starlette-style endpoint (request in, response out) as an ASGI app."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive))
        await response(scope, receive, send)

    return app


@dataclass(frozen=True)
class VendorApi:
    """One vendor API, as its package registers it with `app.create_emulator`."""

    name: str
    prefix: str
    """It answers this path and every path below it."""
    mounts: tuple[str, ...]
    """Starlette path patterns sent through the gateway for it (`/v1/{rest:path}`: also the
    paths under /v1 that no vendor claims, answered with the gateway's 404)."""
    app: ASGIApp
    """Answers the requests it claims; it reads the body the gateway replays to it."""
    admin_routes: tuple[BaseRoute, ...] = ()
    """Its own routes under `/_emulator/` (seeding, console edits), beside the shared ones."""

    def claims(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


class Dispatch:
    """ASGI app: hands a request to the first vendor API claiming its path."""

    def __init__(self, apis: Sequence[VendorApi]) -> None:
        self.apis = tuple(apis)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = Request(scope).url.path
        for api in self.apis:
            if api.claims(path):
                await api.app(scope, receive, send)
                return
        await respond(404, {"detail": "Not found."})(scope, receive, send)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the already-read body once, then waits for the disconnect."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replayed


async def _answer(app: ASGIApp, scope: Scope, receive: Receive) -> list[Message]:
    """Run `app` and keep its response messages, to send them once the journal has the entry."""
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    return messages


class Traffic:
    """ASGI middleware in front of every vendor API: faults, latency, then the journal.

    For each request: take the first armed fault rule that matches; a "status" rule answers
    in place of the vendor API (nothing is done); otherwise the vendor API answers. The
    answer is held until `latency` seconds after the request arrived, the emulator's own
    work counted inside them (a vendor's latency includes its processing: with eight
    requests in flight, work done after a full sleep would queue each answer behind the
    others' and add to every request; journaling is work too); work that took longer is
    answered at once. The request is journaled with the status and the body it got, and only
    then answered; an "accept_then_hang" rule delays that answer by its `seconds` more (the
    work is already done, so a client timeout fires after the server accepted the request).
    """

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.store = store
        self._sleep = sleep
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        store = self.store
        arrived = self._clock()
        request = Request(scope, receive)
        raw = await request.body()
        method, path = request.method, request.url.path
        with store.lock:
            rule = store.faults.take(method, path)
        if rule is not None and rule.mode == "status":
            status, payload, headers = fault_answer(rule)
            messages = await _answer(respond(status, payload, headers), scope, receive)
        else:
            messages = await _answer(self.app, scope, _replay(raw, receive))
        start = next(m for m in messages if m["type"] == "http.response.start")
        # A server's `Date` is its clock; the emulator's clock is the virtual one.
        start["headers"] = [
            *(h for h in start.get("headers", []) if h[0].lower() != b"date"),
            (b"date", email.utils.format_datetime(store.now, usegmt=True).encode()),
        ]
        answered = b"".join(
            bytes(m.get("body", b"")) for m in messages if m["type"] == "http.response.body"
        )
        # Journaled before the hold: it is the emulator's work too (a page of 100 agents is
        # half a megabyte of JSON to read back, ~5 ms), not latency added to the vendor's.
        with store.lock:
            store.journal.record(
                method=method,
                path=path,
                query=request.query_params,
                raw=raw,
                status=int(start["status"]),
                headers=request.headers.items(),
                response=answered,
                verbatim=any(
                    name.lower() == b"x-emulator-verbatim" for name, _ in start.get("headers", [])
                ),
            )
        held = store.config.latency - (self._clock() - arrived)
        if held > 0:
            await self._sleep(held)
        if rule is not None and rule.mode == "accept_then_hang":
            await self._sleep(rule.seconds)
        for message in messages:
            await send(message)
