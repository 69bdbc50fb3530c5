"""The emulator's own routes under `/_emulator/`, for tests and demos (no API key).

Owns: the shared admin routes (`GET|DELETE /requests` the journal, `GET|PUT /faults`,
`POST /advance` and `GET /clock` the virtual clock, `POST /reset`, `GET /state`) and
`admin_endpoint`, which vendor API packages use for their own admin routes (Ultravox adds
`POST /seed/agents` and `PATCH /agents/{id}`). Admin requests are never journaled, delayed or
faulted. Vendor-neutral: must not import uvicorn, httpx, any vendor package or anything of
the product.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler_emulator.gateway import respond
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem
from reconciler_emulator.state import Store

PREFIX = "/_emulator"

AdminHandler = Callable[[Request, JSON], tuple[int, JSON]]


def admin_endpoint(store: Store, handler: AdminHandler) -> Callable[[Request], Any]:
    """A Starlette endpoint: the JSON body (None when empty) to `handler`, run holding the
    store's lock; an `ApiProblem` becomes its answer."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            return JSONResponse({"detail": f"JSON parse error - {exc}"}, status_code=400)
        try:
            with store.lock:
                status, payload = handler(request, body)
        except ApiProblem as problem:
            status, payload = problem.status, problem.body
        return respond(status, payload)

    return endpoint


def shared_routes(store: Store) -> list[BaseRoute]:
    def requests(request: Request, body: JSON) -> tuple[int, JSON]:
        if request.method == "DELETE":
            store.journal.clear()
            return 204, None
        return 200, store.journal.to_json()

    def reset(request: Request, body: JSON) -> tuple[int, JSON]:
        store.reset()
        return 200, {"now": store.clock.iso()}

    def advance(request: Request, body: JSON) -> tuple[int, JSON]:
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ApiProblem(400, {"seconds": ["A number of seconds is required."]})
        return 200, {"now": store.advance(float(seconds))}

    def clock(request: Request, body: JSON) -> tuple[int, JSON]:
        return 200, {"now": store.clock.iso()}

    def faults(request: Request, body: JSON) -> tuple[int, JSON]:
        if request.method == "PUT":
            return 200, store.faults.set(body)
        return 200, store.faults.to_json()

    def state(request: Request, body: JSON) -> tuple[int, JSON]:
        return 200, store.dump()

    def route(path: str, handler: AdminHandler, methods: list[str]) -> Route:
        return Route(PREFIX + path, admin_endpoint(store, handler), methods=methods)

    return [
        route("/requests", requests, ["GET", "DELETE"]),
        route("/reset", reset, ["POST"]),
        route("/advance", advance, ["POST"]),
        route("/clock", clock, ["GET"]),
        route("/faults", faults, ["GET", "PUT"]),
        route("/state", state, ["GET"]),
    ]
