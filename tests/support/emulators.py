"""The bundled emulator in tests: in process (the default) or served over loopback HTTP (e2e).

Both kinds offer the same face: `base_url`, `api_key`, `config`, `app` (the ASGI app), `store`
and `admin`, whose methods are those of `reconciler_emulator.EmulatorAdmin` (the journal, the
state, the virtual clock, faults, seeding and console edits) and answer with the same JSON.

* `InProcessEmulator` is never served: its `base_url` is a name no resolver knows, which the
  in-process `Cli` routes to `app` (`httpx.ASGITransport`), and its admin reads and changes the
  store directly, holding the store's lock as the admin routes do.
* `ServedEmulator` is a `running_emulator` (uvicorn in a thread, a free loopback port) and its
  admin is the HTTP client of the `/_emulator/` routes: what the real executable talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette

from reconciler.runtime.engine import ClientHooks
from reconciler_emulator import (
    Emulator,
    EmulatorAdmin,
    EmulatorConfig,
    create_emulator,
    running_emulator,
)
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.state import Store
from reconciler_emulator.ultravox.account import UltravoxAccount
from tests.support.cli import RoutingTransport

_NUMBERS = itertools.count(1)


def _as_sent(value: Any) -> Any:
    """`value` as it would arrive over HTTP: JSON, copied (nothing shared with the store)."""
    return json.loads(json.dumps(value))


class SyncASGITransport(httpx.BaseTransport):
    """A sync httpx transport onto an ASGI app: each request runs the app in an event loop of
    its own, in this thread."""

    def __init__(self, app: Starlette) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            return httpx.Response(
                response.status_code, headers=response.headers, stream=httpx.ByteStream(raw)
            )

        return asyncio.run(send())


class Admin(Protocol):
    """What tests use of an emulator's admin (`reconciler_emulator.EmulatorAdmin`'s methods)."""

    def requests(self) -> list[dict[str, Any]]: ...
    def clear_requests(self) -> None: ...
    def set_faults(
        self, rules: Sequence[Mapping[str, JSON]] | None = None, **rule: JSON
    ) -> list[dict[str, Any]]: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def advance(self, seconds: float) -> str: ...
    def clock(self) -> str: ...
    def reset(self) -> None: ...
    def seed_agent(self, agent: Mapping[str, JSON]) -> dict[str, Any]: ...
    def console_patch_agent(self, agent_id: str, body: Mapping[str, JSON]) -> dict[str, Any]: ...
    def state(self) -> dict[str, Any]: ...


class DirectAdmin:
    """`EmulatorAdmin`'s interface over the store itself, no request involved."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def requests(self) -> list[dict[str, Any]]:
        """The journal of every vendor API request so far, oldest first."""
        with self._store.lock:
            entries: list[dict[str, Any]] = _as_sent(self._store.journal.to_json())
        return entries

    def clear_requests(self) -> None:
        with self._store.lock:
            self._store.journal.clear()

    def set_faults(
        self, rules: Sequence[Mapping[str, JSON]] | None = None, **rule: JSON
    ) -> list[dict[str, Any]]:
        """Replace the fault rules, as `EmulatorAdmin.set_faults` does."""
        chosen: list[JSON] = [dict(r) for r in rules or ()]
        if rule:
            chosen.append(dict(rule))
        with self._store.lock:
            armed: list[dict[str, Any]] = _as_sent(self._store.faults.set(chosen))
        return armed

    def faults(self) -> list[dict[str, Any]]:
        with self._store.lock:
            armed: list[dict[str, Any]] = _as_sent(self._store.faults.to_json())
        return armed

    def advance(self, seconds: float) -> str:
        """Move the virtual clock; returns the new time."""
        return self._store.advance(float(seconds))

    def clock(self) -> str:
        with self._store.lock:
            return self._store.clock.iso()

    def reset(self) -> None:
        self._store.reset()

    def _ultravox(self) -> UltravoxAccount:
        return self._store.part("ultravox", UltravoxAccount)

    def seed_agent(self, agent: Mapping[str, JSON]) -> dict[str, Any]:
        with self._store.lock:
            seeded: dict[str, Any] = _as_sent(self._ultravox().seed_agent(dict(agent)))
        return seeded

    def console_patch_agent(self, agent_id: str, body: Mapping[str, JSON]) -> dict[str, Any]:
        """Edit an agent as someone in the web console would: not journaled."""
        with self._store.lock:
            patched: dict[str, Any] = _as_sent(self._ultravox().patch_agent(agent_id, dict(body)))
        return patched

    def state(self) -> dict[str, Any]:
        dumped: dict[str, Any] = _as_sent(self._store.dump())
        return dumped


class _EmulatorHandle:
    """What both kinds of test emulator derive from the `Emulator` they wrap."""

    emulator: Emulator

    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    @property
    def app(self) -> Starlette:
        return self.emulator.app

    @property
    def store(self) -> Store:
        return self.emulator.store


@dataclass(frozen=True)
class InProcessEmulator(_EmulatorHandle):
    """An emulator that is never served; the in-process `Cli` reaches it at `base_url`."""

    base_url: str
    emulator: Emulator
    admin: DirectAdmin

    @classmethod
    def create(cls, config: EmulatorConfig) -> InProcessEmulator:
        emulator = create_emulator(config)
        # `.invalid` never resolves (RFC 2606): a request that misses the in-process route fails.
        base_url = f"http://emulator-{next(_NUMBERS)}.invalid"
        return cls(base_url=base_url, emulator=emulator, admin=DirectAdmin(emulator.store))

    def http(self, **options: Any) -> httpx.Client:
        """A sync HTTP client of the emulator (the vendor APIs and `/_emulator/`)."""
        return httpx.Client(
            transport=SyncASGITransport(self.app), base_url=self.base_url, **options
        )


@dataclass(frozen=True)
class ServedEmulator(_EmulatorHandle):
    """A `running_emulator`: uvicorn on a free loopback port, in a thread."""

    base_url: str
    emulator: Emulator
    admin: EmulatorAdmin

    def http(self, **options: Any) -> httpx.Client:
        """A sync HTTP client of the emulator, over loopback."""
        return httpx.Client(base_url=self.base_url, **options)


AnyEmulator = InProcessEmulator | ServedEmulator


@contextlib.contextmanager
def served_emulator(config: EmulatorConfig) -> Iterator[ServedEmulator]:
    with running_emulator(config) as running:
        yield ServedEmulator(
            base_url=running.base_url, emulator=running.emulator, admin=running.admin
        )


@contextlib.contextmanager
def emulator_for(config: EmulatorConfig, *, served: bool) -> Iterator[AnyEmulator]:
    """An emulator served over loopback (`served`), else one in process."""
    if served:
        with served_emulator(config) as emu:
            yield emu
    else:
        yield InProcessEmulator.create(config)


def hooks_for(*emulators: AnyEmulator, waits: list[float] | None = None) -> ClientHooks:
    """Client hooks for engine-level tests: requests to the in-process ones of `emulators` go
    to their apps (served ones over loopback), retry waits are recorded in `waits`, not slept."""

    async def record(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    apps = {e.base_url: e.app for e in emulators if isinstance(e, InProcessEmulator)}
    return ClientHooks(transport=RoutingTransport(apps) if apps else None, sleep=record)
