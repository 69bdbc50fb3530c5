"""The emulator's ASGI app, assembled: the vendor APIs behind one gateway, and the admin routes.

Owns: `create_emulator` (a fresh emulator: its `Store` with every vendor API's part attached
and the state file loaded, and its Starlette app), `create_app` (just the app), `Emulator` and
`VENDOR_APIS`, the list of vendor API packages and the order their prefixes are tried in.
Every vendor API request goes through the one `gateway.Traffic` (latency, faults, journal);
`/_emulator/` requests do not. Must not import uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from reconciler_emulator import elevenlabs, threetone, ultravox
from reconciler_emulator.admin import shared_routes
from reconciler_emulator.config import EmulatorConfig
from reconciler_emulator.gateway import ALL_METHODS, Dispatch, Traffic, VendorApi
from reconciler_emulator.state import Store

VENDOR_APIS: Sequence[Callable[[Store], VendorApi]] = (
    ultravox.api,  # first: its part comes first in the state file, as it always has
    threetone.api,
    elevenlabs.api,
)


@dataclass(frozen=True)
class Emulator:
    """One emulator, not yet (or already) served: its ASGI app and its state.

    `app` may be served by uvicorn (`server.serve`, `server.running_emulator`) or called in
    process (`httpx.ASGITransport(app=emulator.app)`); `store` is the state both see.
    """

    config: EmulatorConfig
    app: Starlette
    store: Store
    apis: tuple[VendorApi, ...]


def create_emulator(config: EmulatorConfig | None = None) -> Emulator:
    """A fresh emulator: a new store (loaded from the configured state file, if any)."""
    config = config or EmulatorConfig()
    store = Store(config)
    apis = tuple(register(store) for register in VENDOR_APIS)
    store.restore()
    gateway = Traffic(Dispatch(apis), store)
    routes: list[BaseRoute] = list(shared_routes(store))
    for api in apis:
        routes.extend(api.admin_routes)
    mounts: list[str] = []
    for api in apis:
        mounts.extend(path for path in api.mounts if path not in mounts)
    routes.extend(Route(path, gateway, methods=list(ALL_METHODS)) for path in mounts)
    app = Starlette(routes=routes)
    app.state.store = store
    emulator = Emulator(config=config, app=app, store=store, apis=apis)
    app.state.emulator = emulator
    return emulator


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator as an ASGI app; `app.state.store` is its store, `app.state.emulator`
    the whole `Emulator`."""
    return create_emulator(config).app
