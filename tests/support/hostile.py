"""The command line in process against a scripted server (`httpx.MockTransport`), for the
hostile-server, leak and fuzz tests of issue 11.

`run(args, handler, env=..., cwd=...)` runs one `reconciler` command through click's
`CliRunner`, its API clients reaching `handler` instead of the network (through
`ClientHooks`, as the suite's `Cli` does) and never sleeping between retries. It returns what
the command printed, its exit code, the exception that escaped (if any) and every request
the handler saw.
"""

from __future__ import annotations

import asyncio
import os
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from click.testing import CliRunner

from reconciler.cli.main import cli as reconciler_group
from reconciler.runtime.client import ClientHooks

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]

BASE_ENV = {
    "ULTRAVOX_BASE_URL": "https://api.ultravox.ai",
    "ULTRAVOX_API_KEY": "uvx-hostile-key-0123456789",
    "THREETONE_BASE_URL": "https://api.threetone.in",
    "THREETONE_API_KEY": "tt-hostile-key-0123456789",
    "ELEVENLABS_API_KEY": "xi-hostile-key-0123456789",
    "NO_COLOR": "1",
}


class RawStream(httpx.AsyncByteStream):
    """A body as a server sends it: httpx reads (and decodes) nothing in advance, so the
    client under test meets the bytes, encodings and sizes as they come."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for chunk in self.chunks:
            yield chunk


def raw(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """A response whose body reaches the client undecoded, like one from the network."""
    return httpx.Response(status, headers=dict(headers or {}), stream=RawStream(body))


def empty_lists(request: httpx.Request) -> httpx.Response:
    """An account with nothing in it, in each vendor's list shape."""
    if "batch-calling" in request.url.path:
        return httpx.Response(200, json={"batch_calls": [], "has_more": False})
    return httpx.Response(200, json={"results": [], "next": None, "total": 0})


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def traceback(self) -> str:
        if self.exception is None or isinstance(self.exception, SystemExit):
            return ""
        return "".join(traceback.format_exception(self.exception))

    def writes(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method != "GET"]


def run(
    args: list[str],
    handler: Handler = empty_lists,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input: str = "",
) -> Outcome:
    seen: list[httpx.Request] = []

    async def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = handler(request)
        if asyncio.iscoroutine(answer):
            answer = await answer
        assert isinstance(answer, httpx.Response)
        return answer

    async def no_sleep(_: float) -> None:
        return None

    wanted = {**BASE_ENV, **(env or {})}
    overrides: dict[str, str | None] = {k: None for k in os.environ if k not in wanted}
    overrides.update(wanted)
    before = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(
            reconciler_group,
            args,
            input=input,
            env=overrides,
            obj=ClientHooks(transport=httpx.MockTransport(transport), sleep=no_sleep),
            prog_name="reconciler",
        )
    finally:
        os.chdir(before)
    return Outcome(result.exit_code, result.stdout, result.stderr, result.exception, seen)
