"""A local, stateful, deterministic emulator of the vendor APIs the product talks to: the
Ultravox API as DESIGN.md models it (agents, scheduled batches, created calls) and the
batch-calling APIs of Threetone and ElevenLabs.

It is its own top-level package beside the product, shipped in the same distribution behind
the `emulator` extra (`pip install 'reconciler[emulator]'`: starlette and uvicorn). It imports
nothing from `reconciler`, and the product never imports it: `reconciler emulator` reaches
`cli.command` through the `reconciler.commands` entry point.

Layout:

* shared and vendor-neutral: `app` (assembly of the ASGI app), `server` (uvicorn: `serve`,
  `running_emulator`), `cli` (the one command line), `config`, `clock` (the virtual clock),
  `state` (the store every vendor keeps its part of the account in, and the state file),
  `gateway` (the one middleware every vendor API request goes through), `faults`, `journal`,
  `admin` (the `/_emulator/` routes), `problems`, `jsontypes`;
* one package per vendor API: `ultravox` (`/api`), `threetone` (`/v1/voiceai/batch-calling`)
  and `elevenlabs` (`/v1/convai/batch-calling`); the last two share the batch-calling model
  of `batchcalling` today, each registering its own routes.

Over real HTTP (end-to-end tests, the demo)::

    with running_emulator(EmulatorConfig(api_key="k")) as emu:
        httpx.get(emu.base_url + "/api/agents", headers={"X-API-Key": "k"})
        emu.admin.set_faults(status=429, count=1)

In process, without a socket: `create_emulator(config)` builds one without serving it; pass
its `app` to `httpx.ASGITransport` and read or change its state through `store` (hold
`store.lock` around a change: `with emu.store.lock: emu.store.faults.set([...])`)::

    emu = create_emulator(EmulatorConfig(api_key="k"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://emulator"
    ) as client:
        await client.get("/api/agents", headers={"X-API-Key": "k"})
    emu.store.advance(60)                  # the virtual clock
    emu.store.journal.to_json()            # what the client sent
    await client.put("/_emulator/faults", json=[...])   # or the admin routes themselves

Nothing in the emulator is bound to an event loop (no asyncio lock, event or queue is created
at import or construction), so any loop may serve it, one after another or, holding the store's
`threading.RLock` for every change as the emulator itself does, even at once from two threads:
a `running_emulator`'s `emu.app` and `emu.store` are the very app and state uvicorn serves, so
an in-process client can share the state of a served one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler_emulator.app import Emulator, create_app, create_emulator
    from reconciler_emulator.config import EmulatorConfig
    from reconciler_emulator.server import (
        EmulatorAdmin,
        RunningEmulator,
        running_emulator,
        serve,
    )

# Imported on first use, so `reconciler_emulator.cli` (loaded by `reconciler --help`) costs
# click only, and starlette and uvicorn load when an emulator is built.
_EXPORTS = {
    "Emulator": "reconciler_emulator.app",
    "create_app": "reconciler_emulator.app",
    "create_emulator": "reconciler_emulator.app",
    "EmulatorConfig": "reconciler_emulator.config",
    "EmulatorAdmin": "reconciler_emulator.server",
    "RunningEmulator": "reconciler_emulator.server",
    "running_emulator": "reconciler_emulator.server",
    "serve": "reconciler_emulator.server",
}

__all__ = [
    "Emulator",
    "EmulatorAdmin",
    "EmulatorConfig",
    "RunningEmulator",
    "create_app",
    "create_emulator",
    "running_emulator",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
