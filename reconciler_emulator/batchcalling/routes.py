"""The HTTP face of the batch-calling model, for any vendor API of that shape.

Owns: `BatchCallingApi` (one vendor's flavour: its name, path prefix, API-key header, and how
it renders a batch) and `vendor_api(store, flavour)`, which registers such an API with the
emulator: authentication by the vendor's header, the `submit`, `workspace`, `{id}`,
`{id}/cancel` and `{id}/retry` routes, FastAPI-style errors. The vendor packages (`threetone`,
`elevenlabs`) each define their flavour and call this; a vendor whose API comes to differ
changes its flavour (its `render`, say, for extra response fields) or stops using this module,
without touching the other. Latency, faults and the journal are the gateway's. Must not import
uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from reconciler_emulator.batchcalling.model import BatchCalls, Record, invalid
from reconciler_emulator.gateway import Endpoint, VendorApi, asgi, respond
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem, detail
from reconciler_emulator.state import Store

PART = "batch_calls"
"""The name of the one `BatchCalls` part every batch-calling vendor shares in the store."""

Renderer = Callable[[Record, bool], dict[str, JSON]]
"""(batch record, with its recipients?) -> the batch as the vendor's API answers it."""


def _render(record: Record, recipients: bool) -> dict[str, JSON]:
    return BatchCalls.render(record, recipients=recipients)


@dataclass(frozen=True)
class BatchCallingApi:
    """One vendor's batch-calling API."""

    vendor: str
    """Its workspace in the shared model (a batch of one vendor is invisible to the other)."""
    prefix: str
    key_header: str
    """The request header carrying the API key (lower case)."""
    render: Renderer = _render


def batch_calls(store: Store) -> BatchCalls:
    """The batch-calling model of this emulator, shared by every batch-calling vendor API."""
    return store.part(PART, lambda _store: BatchCalls())


def _authenticate(headers: Mapping[str, str], flavour: BatchCallingApi, api_key: str) -> None:
    given = headers.get(flavour.key_header)
    if given is None:
        raise ApiProblem(
            401,
            {
                "detail": {
                    "status": "needs_authorization",
                    "message": f"Missing {flavour.key_header}",
                }
            },
        )
    if given != api_key:
        raise ApiProblem(
            401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}
        )


def _parse(raw: bytes) -> JSON:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid([((), "JSON decode error")]) from None


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise detail(405, "Method Not Allowed")


def handle(
    calls: BatchCalls,
    flavour: BatchCallingApi,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    raw: bytes,
    store: Store,
) -> tuple[int, JSON]:
    """Answer one request under the flavour's prefix: (status, JSON body or None)."""
    config = store.config
    now, interval, render = store.now, store.interval, flavour.render
    try:
        rest = [part for part in path[len(flavour.prefix) :].split("/") if part]
        _authenticate(headers, flavour, config.api_key)
        vendor = flavour.vendor
        if rest == ["submit"]:
            _allow(method, "POST")
            record = calls.submit(vendor, _parse(raw), now, interval)
            return 200, render(record, False)
        if rest == ["workspace"]:
            _allow(method, "GET")
            return 200, calls.page(vendor, query, config.max_page_size)
        if len(rest) == 1:
            if method == "GET":
                return 200, render(calls.record(vendor, rest[0]), True)
            _allow(method, "DELETE")
            calls.delete(vendor, rest[0])
            return 204, None
        if len(rest) == 2 and rest[1] == "cancel":
            _allow(method, "POST")
            return 200, render(calls.cancel(vendor, rest[0], now), False)
        if len(rest) == 2 and rest[1] == "retry":
            _allow(method, "POST")
            return 200, render(calls.retry(vendor, rest[0], now, interval), False)
        raise detail(404, "Not Found")
    except ApiProblem as problem:
        return problem.status, problem.body


def _endpoint(store: Store, calls: BatchCalls, flavour: BatchCallingApi) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        with store.lock:
            status, payload = handle(
                calls,
                flavour,
                method=request.method,
                path=request.url.path,
                headers=request.headers,
                query=request.query_params,
                raw=raw,
                store=store,
            )
            if request.method != "GET":
                store.save()
        return respond(status, payload)

    return endpoint


def _root(prefix: str) -> str:
    return "/" + prefix.strip("/").split("/")[0]


def vendor_api(store: Store, flavour: BatchCallingApi) -> VendorApi:
    """`flavour`'s API on this emulator, its batches in the shared batch-calling model."""
    return VendorApi(
        name=flavour.vendor,
        prefix=flavour.prefix,
        # The whole first segment (/v1) reaches the gateway: a path there that no vendor
        # claims is answered, and journaled, as the gateway's 404.
        mounts=(_root(flavour.prefix) + "/{rest:path}",),
        app=asgi(_endpoint(store, batch_calls(store), flavour)),
    )
