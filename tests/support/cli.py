"""Running `reconciler` commands in tests: in process (the default) or as the real executable.

`Cli` runs a command in this process, through click's `CliRunner`, against the very click group
the console script runs (`reconciler.cli.main:cli`): same parsing, same error handling, same
exit codes. What differs from a real process is injected the way httpx lets one swap a
transport, through click's context `obj` (a `reconciler.runtime.engine.ClientHooks`):

* `transport`: requests to a base URL in `apps` go to that ASGI app in process
  (`httpx.ASGITransport`); every other URL goes to the network as usual (a refused port is
  still refused);
* `sleep`: the waits between retries are recorded in `Cli.waits` instead of slept.

`RealCli` starts the installed `reconciler` executable per command (`subprocess.run`), for the
tests marked `e2e`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from reconciler.cli.main import cli as reconciler_group
from reconciler.runtime.engine import ClientHooks


def reconciler_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m reconciler`."""
    script = Path(sys.executable).parent / "reconciler"
    if script.exists():
        return [str(script)]
    found = shutil.which("reconciler")
    return [found] if found else [sys.executable, "-m", "reconciler"]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class RoutingTransport(httpx.AsyncBaseTransport):
    """Requests to the origins of `apps` go to those ASGI apps in process; any other request
    goes to the network, over a connection of its own (read in full and closed at once, so
    nothing outlives the event loop of the command that sent it)."""

    def __init__(self, apps: Mapping[str, Any]) -> None:
        self._apps = {
            _origin(httpx.URL(url)): httpx.ASGITransport(app=app) for url, app in apps.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        app = self._apps.get(_origin(request.url))
        if app is not None:
            return await self._in_process(app, request)
        async with httpx.AsyncHTTPTransport() as network:
            response = await network.handle_async_request(request)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    @staticmethod
    async def _in_process(app: httpx.ASGITransport, request: httpx.Request) -> httpx.Response:
        # ASGITransport knows no timeouts; the client's read timeout is kept here, so a server
        # that answers too late times out as it would over a socket. As a server would, the app
        # carries on with the request the client gave up on (until this event loop ends).
        async def answer() -> httpx.Response:
            response = await app.handle_async_request(request)
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            return httpx.Response(
                response.status_code, headers=response.headers, stream=httpx.ByteStream(raw)
            )

        served = asyncio.ensure_future(answer())
        served.add_done_callback(lambda task: task.cancelled() or task.exception())
        limit = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(asyncio.shield(served), limit)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out (in process)", request=request) from None


def _help_width(env: Mapping[str, str]) -> int:
    """The width click wraps help to in a process whose output is a pipe: $COLUMNS, else the
    80 columns `shutil.get_terminal_size` falls back to, less 2, at most 78 and at least 50
    (`click.formatting.HelpFormatter`; CliRunner would force 80)."""
    try:
        columns = int(env.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    return max(min(columns if columns > 0 else 80, 80) - 2, 50)


@dataclass
class Cli:
    """`reconciler` in process; call it like the executable: `cli("plan", "manifests")`.

    `env` is the whole environment the command sees (os.environ is swapped for the call), `cwd`
    its working directory, `apps` the base URLs served in process. `waits` collects, in order,
    every wait between retries the commands asked for (none is slept).
    """

    env: dict[str, str]
    cwd: Path
    apps: Mapping[str, Any] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)

    def hooks(self) -> ClientHooks:
        async def record(seconds: float) -> None:
            self.waits.append(seconds)

        transport = RoutingTransport(self.apps) if self.apps else None
        return ClientHooks(transport=transport, sleep=record)

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Result:
        wanted = {**self.env, **(env or {})}
        # CliRunner applies overrides to os.environ: unset what the command must not see.
        overrides: dict[str, str | None] = {k: None for k in os.environ if k not in wanted}
        overrides.update(wanted)
        runner = CliRunner()
        before = os.getcwd()
        os.chdir(self.cwd)
        try:
            result = runner.invoke(
                reconciler_group,
                list(args),
                input=input if input is not None else "",
                env=overrides,
                obj=self.hooks(),
                prog_name="reconciler",
                terminal_width=_help_width(wanted),
            )
        finally:
            os.chdir(before)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            # What the interpreter prints for an uncaught exception (and exits 1 with).
            stderr += "".join(traceback.format_exception(result.exception))
        return Result(result.exit_code, result.stdout, stderr)


@dataclass
class RealCli(Cli):
    """The installed `reconciler` executable, one process per command (tests marked e2e)."""

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Result:
        proc = subprocess.run(
            [*reconciler_command(), *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)
