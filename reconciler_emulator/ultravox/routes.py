"""The Ultravox API's HTTP face in the emulator: the `/api` routes and its admin routes.

Owns: `api(store)`, which registers the Ultravox API with the emulator (prefix `/api`), the
route table, `X-API-Key` checks, DRF-style JSON parsing and cursor pagination (`pageSize`
clamped to the configured maximum, `next`/`previous` as full URLs), and the Ultravox admin
routes (`POST /_emulator/seed/agents`, `PATCH /_emulator/agents/{id}`, a console edit). Every
rule about agents and batches lives in `account`, `agents` and `batches`; latency, faults and
the journal are the gateway's, shared with the other vendor APIs. Must not import uvicorn,
httpx or anything of the product.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler_emulator.admin import PREFIX as ADMIN_PREFIX
from reconciler_emulator.admin import admin_endpoint
from reconciler_emulator.gateway import Endpoint, VendorApi, asgi, respond
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.state import Store
from reconciler_emulator.ultravox import batches as batch_rules
from reconciler_emulator.ultravox.account import UltravoxAccount
from reconciler_emulator.ultravox.drf import ApiProblem, detail, not_found

PREFIX = "/api"
DEFAULT_PAGE_SIZE = 100
VERBATIM_HEADER = "x-emulator-verbatim"
"""Set on an answer that carries an agent seeded with `POST /_emulator/seed/agents`, which reads
back exactly as seeded (odd live state), not as the API's response model."""

Params = dict[str, str]
Handler = Callable[["_Call"], tuple[int, JSON]]


class _Call:
    """One /api request as a handler sees it: the account, path parameters, query and body."""

    def __init__(
        self, account: UltravoxAccount, request: Request, params: Params, body: JSON
    ) -> None:
        self.account = account
        self.request = request
        self.params = params
        self.body = body

    def page(
        self, items: Sequence[Any], render: Callable[[Any], JSON] | None = None
    ) -> tuple[int, JSON]:
        return 200, paginate(self.request.url, items, self.account.config.max_page_size, render)


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


def paginate(
    url: URL,
    items: Sequence[Any],
    maximum: int,
    render: Callable[[Any], JSON] | None = None,
) -> dict[str, JSON]:
    """One page of `items`, each shown by `render` (only those of the page: showing all 1,000
    agents of an account for each page of 100 was most of a plan's wait on the emulator);
    `next`/`previous` are full URLs built from the request's own URL."""
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
        "results": [render(item) if render else item for item in items[offset:end]],
        "total": len(items),
    }


# --- the /api routes ----------------------------------------------------------------------------


def _list_agents(call: _Call) -> tuple[int, JSON]:
    return call.page(list(call.account.agents.values()), call.account.render_agent)


def _create_agent(call: _Call) -> tuple[int, JSON]:
    return 201, call.account.create_agent(call.body)


def _get_agent(call: _Call) -> tuple[int, JSON]:
    return 200, call.account.get_agent(call.params["agent_id"])


def _patch_agent(call: _Call) -> tuple[int, JSON]:
    return 200, call.account.patch_agent(call.params["agent_id"], call.body)


def _delete_agent(call: _Call) -> tuple[int, JSON]:
    call.account.delete_agent(call.params["agent_id"])
    return 204, None


def _list_batches(call: _Call) -> tuple[int, JSON]:
    return call.page(list(call.account.list_batches(call.params["agent_id"])))


def _create_batch(call: _Call) -> tuple[int, JSON]:
    return 201, call.account.create_batch(call.params["agent_id"], call.body)


def _get_batch(call: _Call) -> tuple[int, JSON]:
    return 200, call.account.get_batch(call.params["agent_id"], call.params["batch_id"])


def _patch_batch(call: _Call) -> tuple[int, JSON]:
    return 200, call.account.patch_batch(
        call.params["agent_id"], call.params["batch_id"], call.body
    )


def _delete_batch(call: _Call) -> tuple[int, JSON]:
    call.account.delete_batch(call.params["agent_id"], call.params["batch_id"])
    return 204, None


def _scheduled_calls(call: _Call) -> tuple[int, JSON]:
    status = call.request.query_params.get("status") or None
    items = call.account.scheduled_calls(call.params["agent_id"], call.params["batch_id"], status)
    return call.page(items, batch_rules.render_scheduled_call)


def _created_calls(call: _Call) -> tuple[int, JSON]:
    items = call.account.created_calls(call.params["agent_id"], call.params["batch_id"])
    return call.page(items, call.account.render_call)


_AGENTS = PREFIX + "/agents"
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


def _endpoint(store: Store, account: UltravoxAccount) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        method = request.method
        try:
            handlers, params = _resolve(request.url.path)
            _authenticate(request, store.config.api_key)
            handler = handlers.get(method)
            if handler is None:
                raise detail(405, f'Method "{method}" not allowed.')
            body = _parse_body(raw, method)
            with store.lock:
                account.served_verbatim = False
                status, payload = handler(_Call(account, request, params, body))
                verbatim = account.served_verbatim
        except ApiProblem as problem:
            status, payload, verbatim = problem.status, problem.body, False
        # An answer carrying an agent seeded "as is" is not the API's model: tests that hold
        # answers to the OpenAPI schema skip it (the header reaches the journal).
        return respond(status, payload, {VERBATIM_HEADER: "seeded"} if verbatim else None)

    return endpoint


# --- registration -------------------------------------------------------------------------------


def api(store: Store) -> VendorApi:
    """The Ultravox API of this emulator, its account kept in `store` as the "ultravox" part."""
    account = store.part("ultravox", UltravoxAccount)

    def seed_agent(request: Request, body: JSON) -> tuple[int, JSON]:
        return 201, account.seed_agent(body)

    def console_patch(request: Request, body: JSON) -> tuple[int, JSON]:
        return 200, account.patch_agent(request.path_params["agent_id"], body)

    return VendorApi(
        name="ultravox",
        prefix=PREFIX,
        mounts=(PREFIX, PREFIX + "/{rest:path}"),
        app=asgi(_endpoint(store, account)),
        admin_routes=(
            Route(
                ADMIN_PREFIX + "/seed/agents",
                admin_endpoint(store, seed_agent),
                methods=["POST"],
            ),
            Route(
                ADMIN_PREFIX + "/agents/{agent_id}",
                admin_endpoint(store, console_patch),
                methods=["PATCH"],
            ),
        ),
    )
