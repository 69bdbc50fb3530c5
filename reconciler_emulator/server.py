"""Running the emulator: as a blocking loopback server (`serve`, behind the emulator's command
line) or in a background thread for tests (`running_emulator`), with a small sync admin client.

Owns: `serve`, `running_emulator`, `RunningEmulator` and `EmulatorAdmin`. Vendor-neutral: it
serves whatever `app.create_emulator` assembles. httpx is imported only inside `EmulatorAdmin`
(a test helper), never by the server itself. Must not import anything of the product.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from reconciler_emulator.app import Emulator, create_emulator
from reconciler_emulator.config import EmulatorConfig
from reconciler_emulator.jsontypes import JSON

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from reconciler_emulator.state import Store

READY_TIMEOUT = 10.0


class _Server(uvicorn.Server):
    """uvicorn, told when it is accepting, and stopping on SIGINT/SIGTERM with a clean exit."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None = None):
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit and self._on_ready is not None:
            self._on_ready()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn re-raises the captured signal once it has shut down, which turns a requested
        # stop into a KeyboardInterrupt or a death by SIGTERM; the emulator exits 0 instead.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._stop) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The explicit protocol matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto is IPPROTO_TCP, and without it every response waits ~40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(emulator: Emulator, graceful: int) -> uvicorn.Config:
    return uvicorn.Config(
        emulator.app,
        log_config=None,  # leave the host process's logging alone
        access_log=False,  # stdout carries exactly one line: the listening announcement
        lifespan="off",
        timeout_graceful_shutdown=graceful,
        # Answers carry the virtual clock's `Date` (the gateway's), not the host's.
        date_header=False,
    )


def _write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".emulator-port-", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def serve(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    port_file: str | None = None,
) -> None:
    """Serve the emulator until SIGINT/SIGTERM. Port 0 picks a free port; once accepting, prints
    `reconciler emulator listening on http://HOST:PORT` and writes PORT to `port_file`."""
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host

    def announce() -> None:
        if port_file is not None:
            _write_atomically(port_file, f"{bound}\n")
        sys.stdout.write(f"reconciler emulator listening on http://{shown}:{bound}\n")
        sys.stdout.flush()

    emulator = create_emulator(config)
    server = _Server(_uvicorn_config(emulator, graceful=5), on_ready=announce)
    server.run(sockets=[sock])


class EmulatorAdmin:
    """Sync client of the `/_emulator` admin routes (httpx; tests and demos only)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        import httpx

        self._http: httpx.Client = httpx.Client(base_url=base_url, timeout=timeout)

    def _send(self, method: str, path: str, body: JSON = None) -> JSON:
        response = self._http.request(
            method, "/_emulator" + path, json=body if body is not None else None
        )
        response.raise_for_status()
        return None if response.status_code == 204 else response.json()

    def requests(self) -> list[dict[str, Any]]:
        """The journal of every /api request so far, oldest first."""
        entries: list[dict[str, Any]] = self._send("GET", "/requests")
        return entries

    def clear_requests(self) -> None:
        self._send("DELETE", "/requests")

    def set_faults(
        self, rules: Sequence[Mapping[str, JSON]] | None = None, **rule: JSON
    ) -> list[dict[str, Any]]:
        """Replace the fault rules: a list of rules, or one rule as keywords
        (`set_faults(status=429, count=1, retry_after="1")`); no arguments clears them."""
        chosen = [dict(r) for r in rules or ()]
        if rule:
            chosen.append(dict(rule))
        armed: list[dict[str, Any]] = self._send("PUT", "/faults", chosen)
        return armed

    def faults(self) -> list[dict[str, Any]]:
        armed: list[dict[str, Any]] = self._send("GET", "/faults")
        return armed

    def advance(self, seconds: float) -> str:
        """Move the virtual clock; returns the new time."""
        answer: dict[str, str] = self._send("POST", "/advance", {"seconds": seconds})
        return answer["now"]

    def clock(self) -> str:
        answer: dict[str, str] = self._send("GET", "/clock")
        return answer["now"]

    def reset(self) -> None:
        self._send("POST", "/reset")

    def seed_agent(self, agent: Mapping[str, JSON]) -> dict[str, Any]:
        seeded: dict[str, Any] = self._send("POST", "/seed/agents", dict(agent))
        return seeded

    def console_patch_agent(self, agent_id: str, body: Mapping[str, JSON]) -> dict[str, Any]:
        """Edit an agent as someone in the web console would: not journaled."""
        patched: dict[str, Any] = self._send("PATCH", f"/agents/{agent_id}", dict(body))
        return patched

    def state(self) -> dict[str, Any]:
        dumped: dict[str, Any] = self._send("GET", "/state")
        return dumped

    def close(self) -> None:
        self._http.close()


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator being served on `base_url`. `emulator.app` is the very app being served and
    `emulator.store` its state, for in-process requests beside the HTTP ones."""

    base_url: str
    api_key: str
    admin: EmulatorAdmin
    config: EmulatorConfig
    emulator: Emulator

    @property
    def app(self) -> Starlette:
        return self.emulator.app

    @property
    def store(self) -> Store:
        return self.emulator.store


@contextlib.contextmanager
def running_emulator(config: EmulatorConfig | None = None) -> Iterator[RunningEmulator]:
    """An emulator on a free loopback port in a background thread, ready when this yields and
    stopped on exit."""
    config = config or EmulatorConfig()
    emulator = create_emulator(config)
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    # A short graceful period: a hanging fault must not hold up a test suite's teardown.
    server = _Server(_uvicorn_config(emulator, graceful=1))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"emulator:{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
    base_url = f"http://127.0.0.1:{port}"
    admin = EmulatorAdmin(base_url)
    try:
        yield RunningEmulator(
            base_url=base_url, api_key=config.api_key, admin=admin, config=config, emulator=emulator
        )
    finally:
        admin.close()
        server.should_exit = True
        thread.join(timeout=READY_TIMEOUT)
