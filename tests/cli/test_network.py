"""What the command line says about the network (issue 13 items 4, 5; issue 14 `--rate`).

* A network error names the method, the full URL (base URL included, no key), the attempts
  made and the last cause; every retry says on stderr what it waits for, at every verbosity.
* A base URL that ends in the path the client adds itself (`.../api/`) is normalized.
* `-v` prints one line per request; `-vv` adds the bodies, masked; no library's debug output.
* `--rate N` paces the requests (the waits are recorded, never slept).

In process (click's CliRunner, the emulator on httpx.ASGITransport); the waits between
retries are recorded by the injected sleep, and their jitter is fixed at half the ceiling.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.runtime.engine import ClientHooks
from tests.conftest import EXAMPLES, AnyEmulator, Cli
from tests.support.secret_scan import MARKERS

KEY = MARKERS["api_key"]
TOKEN = MARKERS["token"]
NUMBER = "+14155550123"
CONNECT_REFUSED = "ConnectError: All connection attempts failed (Connection refused)"


@dataclass
class FixedJitterCli(Cli):
    """The command line in process, its backoff jitter fixed at half the ceiling, so each
    wait is known (0.25 s, 0.5 s, 1 s, 2 s, 4 s), and the pacer's clock standing still (the
    waits are recorded, not slept, so no time passes)."""

    def hooks(self) -> ClientHooks:
        base = super().hooks()
        return ClientHooks(
            transport=base.transport, sleep=base.sleep, random=lambda: 0.5, clock=lambda: 0.0
        )


@pytest.fixture
def cli(cli: Cli) -> FixedJitterCli:
    return FixedJitterCli(env=cli.env, cwd=cli.cwd, apps=cli.apps)


def agents(tmp_path: Path) -> Path:
    target = tmp_path / "agents"
    shutil.copytree(EXAMPLES / "agents", target)
    return target


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- item 4: network errors and retries ---------------------------------------------------------


def test_a_closed_port_names_the_url_the_attempts_and_the_cause(
    cli: FixedJitterCli, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    result = cli("plan", str(agents(tmp_path)), env={"ULTRAVOX_BASE_URL": base})
    assert result.code == 1, result.output
    url = f"{base}/api/agents"
    waits = ["0.25", "0.5", "1", "2", "4"]
    assert result.stderr.splitlines() == [
        "Reading the live account...",
        *(
            f"GET {url}: {CONNECT_REFUSED}, retrying in {wait} s ({n}/5)"
            for n, wait in enumerate(waits, 1)
        ),
        f"Error: GET {url} failed after 6 attempts: {CONNECT_REFUSED}",
    ]
    assert cli.waits == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert KEY not in result.output and cli.env["ULTRAVOX_API_KEY"] not in result.output


def test_429_retries_say_what_they_wait_for(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    emulator.admin.set_faults(status=429, count=2, retry_after="2")
    result = cli("plan", str(agents(tmp_path)))
    assert result.code == 0, result.output
    url = f"{emulator.base_url}/api/agents"
    assert result.stderr.splitlines() == [
        "Reading the live account...",
        f"GET {url}: 429, retrying in 2 s (1/5)",
        f"GET {url}: 429, retrying in 2 s (2/5)",
    ]
    assert cli.waits == [2.0, 2.0]


def test_server_errors_are_retried_then_reported(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    emulator.admin.set_faults(status=503, count=6)
    result = cli("plan", str(agents(tmp_path)))
    assert result.code == 1, result.output
    url = f"{emulator.base_url}/api/agents"
    waits = ["0.25", "0.5", "1", "2", "4"]
    assert result.stderr.splitlines() == [
        "Reading the live account...",
        *(f"GET {url}: 503, retrying in {wait} s ({n}/5)" for n, wait in enumerate(waits, 1)),
        "Error: GET /api/agents -> HTTP 503: Service temporarily unavailable, try again later.",
    ]


@pytest.mark.parametrize("suffix", ["/api", "/api/"])
def test_a_base_url_ending_in_api_is_normalized(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path, suffix: str
) -> None:
    result = cli(
        "-v",
        "plan",
        str(agents(tmp_path)),
        env={"ULTRAVOX_BASE_URL": emulator.base_url + suffix},
    )
    assert result.code == 0, result.output
    assert [e["path"] for e in emulator.admin.requests()] == ["/api/agents"]
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("GET ")]
    assert re.fullmatch(
        rf"GET {re.escape(emulator.base_url)}/api/agents -> 200 \(\d+ ms, attempt 1\)", line
    )


# --- item 5: -v and -vv ------------------------------------------------------------------------


def test_v_prints_one_line_per_request_and_nothing_of_the_libraries(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    emulator.admin.set_faults(status=429, count=1, retry_after="1")
    result = cli("-v", "plan", str(agents(tmp_path)))
    assert result.code == 0, result.output
    url = re.escape(f"{emulator.base_url}/api/agents")
    lines = result.stderr.splitlines()
    assert lines[0] == "Reading the live account..."
    assert re.fullmatch(rf"GET {url} -> 429 \(\d+ ms, attempt 1\)", lines[1]), lines
    assert lines[2] == f"GET {emulator.base_url}/api/agents: 429, retrying in 1 s (1/5)"
    assert re.fullmatch(rf"GET {url} -> 200 \(\d+ ms, attempt 2\)", lines[3]), lines
    assert len(lines) == 4, lines
    # Nothing was set up on the root logger, where httpx's, httpcore's and asyncio's go.
    assert (list(root.handlers), root.level) == before
    assert "body" not in result.stderr


AGENT = f"""\
kind: Agent
name: support
callTemplate:
  systemPrompt: "Call {NUMBER} if the line drops."
  selectedTools:
    - toolName: lookup
      authTokens: {{X-Api-Key: '${{TOOL_TOKEN}}'}}
"""


def test_vv_adds_the_bodies_masked(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    (tmp_path / "agent.yaml").write_text(AGENT)
    result = cli(
        "-vv", "apply", "--auto-approve", str(tmp_path / "agent.yaml"), env={"TOOL_TOKEN": TOKEN}
    )
    assert result.code == 0, result.output
    bodies = [x for x in result.stderr.splitlines() if " body: " in x]
    url = f"{emulator.base_url}/api/agents"
    sent = [x for x in bodies if x.startswith(f"POST {url} request body: ")]
    assert len(sent) == 1, bodies
    assert '"systemPrompt":"Call +1415***0123 if the line drops."' in sent[0]
    assert '"X-Api-Key":"***"' in sent[0]
    answers = [x for x in bodies if " response body: " in x]
    assert any(x.startswith(f"GET {url} response body: {{") for x in answers), bodies
    assert any(x.startswith(f"POST {url} response body: {{") for x in answers), bodies
    for secret in (emulator.api_key, TOKEN, NUMBER, "4155550123"):
        assert secret not in result.output


# --- issue 14: --rate ---------------------------------------------------------------------------


def test_rate_paces_the_requests(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    (tmp_path / "agents").mkdir()
    for index in range(3):
        (tmp_path / "agents" / f"a{index}.yaml").write_text(
            f"kind: Agent\nname: a{index}\ncallTemplate:\n  systemPrompt: hello {index}\n"
        )
    result = cli("--rate", "4", "apply", "--auto-approve", "--concurrency", "3", "agents")
    assert result.code == 0, result.output
    assert len(emulator.admin.requests()) == 4  # one list, three creates
    # Recorded, not slept (the clock stands still). The plan's list came first, from the
    # plan's client; the apply's own client starts its three creates 1/4 s apart.
    assert cli.waits == [0.25, 0.5]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "--rate must be 0 (no cap) or a positive number of requests per second, not -1.0"),
        ("inf", "--rate must be 0 (no cap) or a positive number of requests per second, not inf"),
    ],
)
def test_a_bad_rate_is_refused(cli: FixedJitterCli, value: str, message: str) -> None:
    result = cli("--rate", value, "validate", str(EXAMPLES / "agents"))
    assert result.code == 1
    assert result.stderr == f"Error: {message}\n"


def test_a_bad_rate_variable_is_refused(cli: FixedJitterCli) -> None:
    result = cli("validate", str(EXAMPLES / "agents"), env={"RECONCILER_RATE": "fast"})
    assert result.code == 1
    assert (
        result.stderr
        == "Error: RECONCILER_RATE must be a number of requests per second, not 'fast'\n"
    )


# --- issue 14: --concurrency reaches the client ------------------------------------------------


class InFlight:
    """ASGI middleware: holds each PATCH until `wanted` are in flight together (or a bounded
    number of event-loop turns passed), and keeps the most seen at once. No time passes."""

    def __init__(self, app: Any, wanted: int) -> None:
        self.app = app
        self.wanted = wanted
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("method") != "PATCH":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            for _ in range(2000):
                if self.most >= self.wanted:
                    break
                await asyncio.sleep(0)  # a turn of the loop, not a wait
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@pytest.mark.parametrize("saved", [False, True], ids=["planned", "saved-plan"])
@pytest.mark.parametrize("concurrency", [1, 16])
def test_apply_carries_as_many_requests_at_once_as_concurrency(
    cli: FixedJitterCli, emulator: AnyEmulator, tmp_path: Path, concurrency: int, saved: bool
) -> None:
    (tmp_path / "agents").mkdir()

    def write(prompt: str) -> None:
        for index in range(20):
            (tmp_path / "agents" / f"a{index}.yaml").write_text(
                f"kind: Agent\nname: a{index}\ncallTemplate:\n  systemPrompt: {prompt} {index}\n"
            )

    write("hello")
    assert cli("apply", "--auto-approve", "agents").code == 0
    write("goodbye")
    counting = InFlight(emulator.app, wanted=concurrency)
    paced = FixedJitterCli(env=cli.env, cwd=cli.cwd, apps={emulator.base_url: counting})
    if saved:
        assert cli("plan", "--out", "plan.json", "agents").code == 0
        result = paced("apply", "--plan", "plan.json", "--concurrency", str(concurrency))
    else:
        result = paced("apply", "--auto-approve", "--concurrency", str(concurrency), "agents")
    assert result.code == 0, result.output
    assert counting.most == concurrency
