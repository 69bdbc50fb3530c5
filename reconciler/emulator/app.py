"""The emulator's HTTP face: the Ultravox `/api` routes, the batch-calling `/v1` routes
(Threetone and ElevenLabs, answered by `batchcalling.handle`) and the `/_emulator` admin routes.

Owns: `create_app`, API-key checks, cursor pagination, JSON parsing, the request journal, fault
injection and added latency (for every API route of either vendor). Every rule about agents and
batches lives in the store and the rule modules. Must not import httpx, uvicorn or any reconciler
module other than reconciler.core.domain and the emulator's own modules.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.core.domain import JSON
from reconciler.emulator import batchcalling
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.drf import ApiProblem, detail, not_found
from reconciler.emulator.state import FAULT_MESSAGES, FaultRule, Store

DEFAULT_PAGE_SIZE = 100
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_SECRET_HEADER_WORDS = ("key", "secret", "token", "auth", "cookie", "password", "signature")
_PUBLIC_HEADERS = frozenset({"idempotency-key"})

Params = dict[str, str]
Handler = Callable[["_Call"], tuple[int, JSON]]


class _Call:
    """One /api request as a handler sees it: the store, path parameters, query and body."""

    def __init__(self, store: Store, request: Request, params: Params, body: JSON) -> None:
        self.store = store
        self.request = request
        self.params = params
        self.body = body

    def page(self, items: list[JSON]) -> tuple[int, JSON]:
        return 200, paginate(self.request.url, items, self.store.config.max_page_size)


# --- pagination ---------------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        key, _, value = text.partition("=")
        offset = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise detail(404, "Invalid cursor") from None
    if key != "o" or offset < 0:
        raise detail(404, "Invalid cursor")
    return offset


def page_size(raw: str | None, maximum: int) -> int:
    """DRF style: a missing or invalid pageSize means the default; too large is clamped."""
    try:
        size = int(raw) if raw is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    if size < 1:
        size = DEFAULT_PAGE_SIZE
    return min(size, maximum)


def paginate(url: URL, items: list[JSON], maximum: int) -> dict[str, JSON]:
    """One page of `items`; `next`/`previous` are full URLs built from the request's own URL."""
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    size = page_size(query.get("pageSize"), maximum)
    offset = decode_cursor(query.get("cursor"))
    end = offset + size
    next_url = (
        str(url.include_query_params(cursor=encode_cursor(end))) if end < len(items) else None
    )
    previous_url: str | None = None
    if offset > 0:
        back = max(0, offset - size)
        previous = (
            url.remove_query_params("cursor")
            if back == 0
            else url.include_query_params(cursor=encode_cursor(back))
        )
        previous_url = str(previous)
    return {
        "next": next_url,
        "previous": previous_url,
        "results": items[offset:end],
        "total": len(items),
    }


# --- the /api routes ----------------------------------------------------------------------------


def _list_agents(call: _Call) -> tuple[int, JSON]:
    return call.page(list(call.store.list_agents()))


def _create_agent(call: _Call) -> tuple[int, JSON]:
    return 201, call.store.create_agent(call.body)


def _get_agent(call: _Call) -> tuple[int, JSON]:
    return 200, call.store.get_agent(call.params["agent_id"])


def _patch_agent(call: _Call) -> tuple[int, JSON]:
    return 200, call.store.patch_agent(call.params["agent_id"], call.body)


def _delete_agent(call: _Call) -> tuple[int, JSON]:
    call.store.delete_agent(call.params["agent_id"])
    return 204, None


def _list_batches(call: _Call) -> tuple[int, JSON]:
    return call.page(list(call.store.list_batches(call.params["agent_id"])))


def _create_batch(call: _Call) -> tuple[int, JSON]:
    return 201, call.store.create_batch(call.params["agent_id"], call.body)


def _get_batch(call: _Call) -> tuple[int, JSON]:
    return 200, call.store.get_batch(call.params["agent_id"], call.params["batch_id"])


def _patch_batch(call: _Call) -> tuple[int, JSON]:
    return 200, call.store.patch_batch(call.params["agent_id"], call.params["batch_id"], call.body)


def _delete_batch(call: _Call) -> tuple[int, JSON]:
    call.store.delete_batch(call.params["agent_id"], call.params["batch_id"])
    return 204, None


def _scheduled_calls(call: _Call) -> tuple[int, JSON]:
    status = call.request.query_params.get("status") or None
    items = call.store.scheduled_calls(call.params["agent_id"], call.params["batch_id"], status)
    return call.page(list(items))


def _created_calls(call: _Call) -> tuple[int, JSON]:
    items = call.store.created_calls(call.params["agent_id"], call.params["batch_id"])
    return call.page(list(items))


_AGENTS = "/api/agents"
_AGENT = _AGENTS + "/(?P<agent_id>[^/]+)"
_BATCHES = _AGENT + "/scheduled_batches"
_BATCH = _BATCHES + "/(?P<batch_id>[^/]+)"

API_ROUTES: list[tuple[re.Pattern[str], Mapping[str, Handler]]] = [
    (re.compile(f"^{_AGENTS}/?$"), {"GET": _list_agents, "POST": _create_agent}),
    (
        re.compile(f"^{_AGENT}/?$"),
        {"GET": _get_agent, "PATCH": _patch_agent, "DELETE": _delete_agent},
    ),
    (re.compile(f"^{_BATCHES}/?$"), {"GET": _list_batches, "POST": _create_batch}),
    (
        re.compile(f"^{_BATCH}/?$"),
        {"GET": _get_batch, "PATCH": _patch_batch, "DELETE": _delete_batch},
    ),
    (re.compile(f"^{_BATCH}/scheduled_calls/?$"), {"GET": _scheduled_calls}),
    (re.compile(f"^{_BATCH}/created_calls/?$"), {"GET": _created_calls}),
]


def _resolve(path: str) -> tuple[Mapping[str, Handler], Params]:
    for pattern, handlers in API_ROUTES:
        match = pattern.match(path)
        if match is not None:
            return handlers, match.groupdict()
    raise not_found()


def _authenticate(request: Request, api_key: str) -> None:
    given = request.headers.get("x-api-key")
    if given is None:
        raise detail(403, "Authentication credentials were not provided.")
    if given != api_key:
        raise detail(403, "Invalid API key.")


def _parse_body(raw: bytes, method: str) -> JSON:
    if method not in ("POST", "PUT", "PATCH"):
        return None  # DRF only parses a body when a write handler reads it
    if not raw.strip():
        # DRF reads a missing body of a write as an empty form: every field is absent.
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise detail(400, f"JSON parse error - {exc}") from None


def _journal_body(raw: bytes) -> JSON:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")


def _public_headers(request: Request) -> dict[str, str]:
    """Headers safe to keep: never the API key, nor anything else that looks like a secret."""
    kept: dict[str, str] = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered in _PUBLIC_HEADERS or not any(w in lowered for w in _SECRET_HEADER_WORDS):
            kept[lowered] = value
    return kept


def _fault_response(rule: FaultRule) -> tuple[int, JSON, dict[str, str]]:
    assert rule.status is not None
    message = FAULT_MESSAGES[rule.status]
    headers: dict[str, str] = {}
    if rule.retry_after is not None:
        headers["Retry-After"] = rule.retry_after
        if rule.status == 429 and rule.retry_after.isdigit():
            message = f"Request was throttled. Expected available in {rule.retry_after} seconds."
    return rule.status, {"detail": message}, headers


def _respond(status: int, payload: JSON, headers: Mapping[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(payload, status_code=status, headers=headers)


def _api_endpoint(store: Store) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        config = store.config
        if config.latency:
            await asyncio.sleep(config.latency)
        raw = await request.body()
        method, path = request.method, request.url.path
        rule = store.take_fault(method, path)
        headers: dict[str, str] = {}
        if rule is not None and rule.mode == "status":
            status, payload, headers = _fault_response(rule)
        elif batchcalling.serves(path):
            status, payload = batchcalling.handle(
                store.batch_calls,
                method=method,
                path=path,
                headers=request.headers,
                query=request.query_params,
                raw=raw,
                api_key=config.api_key,
                now=store.now,
                interval=store.interval,
                max_limit=config.max_page_size,
            )
            if method != "GET":
                store.save()
        else:
            try:
                handlers, params = _resolve(path)
                _authenticate(request, config.api_key)
                handler = handlers.get(method)
                if handler is None:
                    raise detail(405, f'Method "{method}" not allowed.')
                body = _parse_body(raw, method)
                status, payload = handler(_Call(store, request, params, body))
            except ApiProblem as problem:
                status, payload = problem.status, problem.body
        store.journal.append(
            {
                "method": method,
                "path": path,
                "query": dict(request.query_params),
                "body": _journal_body(raw),
                "status": status,
                "headers": _public_headers(request),
            }
        )
        if rule is not None and rule.mode == "accept_then_hang":
            # The write is done and journaled; only the answer is late, so a client timeout
            # fires after the server accepted the request.
            await asyncio.sleep(rule.seconds)
        return _respond(status, payload, headers)

    return endpoint


# --- the /_emulator admin routes ----------------------------------------------------------------


def _admin(handler: Callable[[Request, JSON], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            return JSONResponse({"detail": f"JSON parse error - {exc}"}, status_code=400)
        try:
            status, payload = handler(request, body)
        except ApiProblem as problem:
            status, payload = problem.status, problem.body
        return _respond(status, payload)

    return endpoint


def _admin_routes(store: Store) -> list[Route]:
    def requests(request: Request, body: JSON) -> tuple[int, JSON]:
        if request.method == "DELETE":
            store.journal.clear()
            return 204, None
        return 200, list(store.journal)

    def reset(request: Request, body: JSON) -> tuple[int, JSON]:
        store.reset()
        return 200, {"now": store.dump()["now"]}

    def advance(request: Request, body: JSON) -> tuple[int, JSON]:
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ApiProblem(400, {"seconds": ["A number of seconds is required."]})
        return 200, {"now": store.advance(float(seconds))}

    def clock(request: Request, body: JSON) -> tuple[int, JSON]:
        return 200, {"now": store.dump()["now"]}

    def faults(request: Request, body: JSON) -> tuple[int, JSON]:
        if request.method == "PUT":
            return 200, store.set_faults(body)
        return 200, store.fault_list()

    def seed_agent(request: Request, body: JSON) -> tuple[int, JSON]:
        return 201, store.seed_agent(body)

    def console_patch(request: Request, body: JSON) -> tuple[int, JSON]:
        return 200, store.patch_agent(request.path_params["agent_id"], body)

    def state(request: Request, body: JSON) -> tuple[int, JSON]:
        return 200, store.dump()

    return [
        Route("/_emulator/requests", _admin(requests), methods=["GET", "DELETE"]),
        Route("/_emulator/reset", _admin(reset), methods=["POST"]),
        Route("/_emulator/advance", _admin(advance), methods=["POST"]),
        Route("/_emulator/clock", _admin(clock), methods=["GET"]),
        Route("/_emulator/faults", _admin(faults), methods=["GET", "PUT"]),
        Route("/_emulator/seed/agents", _admin(seed_agent), methods=["POST"]),
        Route("/_emulator/agents/{agent_id}", _admin(console_patch), methods=["PATCH"]),
        Route("/_emulator/state", _admin(state), methods=["GET"]),
    ]


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator (its own store) as an ASGI app; `app.state.store` is the store."""
    config = config or EmulatorConfig()
    store = Store(config)
    if config.faults:
        store.set_faults(list(config.faults))
    routes = [
        *_admin_routes(store),
        Route("/api", _api_endpoint(store), methods=ALL_METHODS),
        Route("/api/{rest:path}", _api_endpoint(store), methods=ALL_METHODS),
        Route("/v1/{rest:path}", _api_endpoint(store), methods=ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    app.state.store = store
    return app
