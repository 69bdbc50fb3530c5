"""The HTTP face of the batch-calling model, for any vendor API of that shape.

Owns `vendor_api(store, api)`, which registers one vendor's batch-calling API (a
`reconciler_apis.batchcalling.BatchCallingApi`: its name, path prefix, API-key header, the
operations it has and its response tables) with the emulator: authentication by the vendor's
header, the `submit`, `workspace`, `{id}`, `{id}/cancel`, `{id}/retry` routes (and
`{id}/export` where the vendor has it), FastAPI-style errors. The vendor packages
(`threetone`, `elevenlabs`) each call this with their own table; what one answers differently
from the other is in its table, not here. Latency, faults and the journal are the gateway's.
Must not import uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from reconciler_apis.batchcalling import BatchCallingApi
from reconciler_emulator.batchcalling.model import BatchCalls, invalid
from reconciler_emulator.gateway import Endpoint, VendorApi, asgi, respond
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem, detail
from reconciler_emulator.state import Store

PART = "batch_calls"
"""The name of the one `BatchCalls` part every batch-calling vendor shares in the store."""


@dataclass(frozen=True)
class Csv:
    """A text/csv answer (the export)."""

    text: str


def batch_calls(store: Store) -> BatchCalls:
    """The batch-calling model of this emulator, shared by every batch-calling vendor API."""
    return store.part(PART, lambda _store: BatchCalls())


def _authenticate(headers: Mapping[str, str], api: BatchCallingApi, api_key: str) -> None:
    given = headers.get(api.key_header)
    if given is None:
        raise ApiProblem(
            401,
            {"detail": {"status": "needs_authorization", "message": f"Missing {api.key_header}"}},
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
    api: BatchCallingApi,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    raw: bytes,
    store: Store,
) -> tuple[int, JSON | Csv]:
    """Answer one request under the vendor's prefix: (status, JSON body, CSV or None)."""
    config = store.config
    now, interval = store.now, store.interval
    try:
        rest = [part for part in path[len(api.prefix) :].split("/") if part]
        _authenticate(headers, api, config.api_key)
        if rest == ["submit"]:
            _allow(method, "POST")
            return 200, calls.render(api, calls.submit(api, _parse(raw), now, interval))
        if rest == ["workspace"]:
            _allow(method, "GET")
            return 200, calls.page(api, query, config.max_page_size)
        if len(rest) == 1:
            if method == "GET":
                return 200, calls.render_detailed(api, calls.record(api, rest[0]))
            _allow(method, "DELETE")
            calls.delete(api, rest[0])
            return 204, None
        if len(rest) == 2 and rest[1] == "cancel":
            _allow(method, "POST")
            return 200, calls.render(api, calls.cancel(api, rest[0], now))
        if len(rest) == 2 and rest[1] == "retry":
            _allow(method, "POST")
            return 200, calls.render(api, calls.retry(api, rest[0], now, interval))
        if len(rest) == 2 and rest[1] == "export" and api.has_export:
            _allow(method, "GET")
            return 200, Csv(calls.export(api, rest[0], query))
        raise detail(404, "Not Found")
    except ApiProblem as problem:
        return problem.status, problem.body


def _endpoint(store: Store, calls: BatchCalls, api: BatchCallingApi) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        with store.lock:
            status, payload = handle(
                calls,
                api,
                method=request.method,
                path=request.url.path,
                headers=request.headers,
                query=request.query_params,
                raw=raw,
                store=store,
            )
            if request.method != "GET":
                store.save()
        if isinstance(payload, Csv):
            return Response(payload.text, status_code=status, media_type="text/csv")
        return respond(status, payload)

    return endpoint


def _root(prefix: str) -> str:
    return "/" + prefix.strip("/").split("/")[0]


def vendor_api(store: Store, api: BatchCallingApi) -> VendorApi:
    """`api` on this emulator, its batches in the shared batch-calling model."""
    return VendorApi(
        name=api.vendor,
        prefix=api.prefix,
        # The whole first segment (/v1) reaches the gateway: a path there that no vendor
        # claims is answered, and journaled, as the gateway's 404.
        mounts=(_root(api.prefix) + "/{rest:path}",),
        app=asgi(_endpoint(store, batch_calls(store), api)),
    )
