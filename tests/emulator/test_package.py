"""The emulator as its own package: it imports nothing of the product, its one command line,
one gateway (latency, faults, journal) for all three vendor APIs, and in-process use of its
ASGI app through httpx.ASGITransport, from any event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
import pytest

from reconciler_emulator import EmulatorConfig, create_app, create_emulator, running_emulator
from reconciler_emulator.cli import command
from reconciler_emulator.state import Store

REPO = Path(__file__).resolve().parents[2]
KEY = "package-test-key"
START = datetime(2030, 1, 14, 16, 0, tzinfo=UTC)
VENDORS = {
    "ultravox": ("/api/agents", "x-api-key"),
    "threetone": ("/v1/voiceai/batch-calling/workspace", "x-api-key"),
    "elevenlabs": ("/v1/convai/batch-calling/workspace", "xi-api-key"),
}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_the_emulator_imports_nothing_of_the_product() -> None:
    result = _python(
        "import importlib, pkgutil, sys\n"
        "import reconciler_emulator as package\n"
        "for info in pkgutil.walk_packages(package.__path__, 'reconciler_emulator.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "from reconciler_emulator import create_emulator\n"
        "create_emulator()\n"
        "product = sorted(m for m in sys.modules if m.split('.')[0] == 'reconciler')\n"
        "assert not product, product\n"
    )
    assert result.returncode == 0, result.stderr


def test_the_command_line_module_costs_click_only() -> None:
    result = _python(
        "import sys\n"
        "import reconciler_emulator.cli\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn'))\n"
        "assert not heavy, heavy\n"
    )
    assert result.returncode == 0, result.stderr


def _params(*args: str) -> dict[str, Any]:
    with command.make_context("emulator", list(args)) as ctx:
        return dict(ctx.params)


def test_one_command_line_takes_the_flags_of_both_former_ones() -> None:
    params = _params(
        "--host",
        "::1",
        "--port",
        "0",
        "--port-file",
        "p",
        "--api-key",
        "k",
        "--state",
        "s.json",
        "--latency",
        "0.5",
        "--max-page-size",
        "7",
        "--calls-per-minute",
        "30",
        "--fault",
        "429:2:1",
        "--fault",
        "503:1",
        "--start-time",
        "2030-01-14T16:00:00Z",
    )
    assert params == {
        "host": "::1",
        "port": 0,
        "port_file": "p",
        "api_key": "k",
        "state_file": "s.json",
        "latency": 0.5,
        "max_page_size": 7,
        "calls_per_minute": 30,
        "faults": (
            {"status": 429, "count": 2, "retry_after": "1"},
            {"status": 503, "count": 1},
        ),
        "start_time": START,
    }
    assert _params("--state-file", "other.json")["state_file"] == "other.json"
    assert _params()["port"] == 8765


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler_emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m reconciler_emulator [OPTIONS]" in result.stdout
    for flag in ("--host", "--state", "--state-file", "--fault", "--start-time", "--port-file"):
        assert flag in result.stdout


def test_a_bad_start_time_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler_emulator", "--start-time", "soon"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is not an ISO 8601 date and time" in result.stderr


async def _get_all(app: Any, headers_key: str = KEY) -> dict[str, httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        return {
            vendor: await client.get(path, headers={header: headers_key})
            for vendor, (path, header) in VENDORS.items()
        }


def test_every_vendor_api_goes_through_the_one_fault_mechanism_and_journal() -> None:
    emulator = create_emulator(EmulatorConfig(api_key=KEY, start_time=START))

    async def scenario() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=emulator.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            armed = await client.put("/_emulator/faults", json=[{"status": 503, "count": 3}])
            assert armed.status_code == 200
        return await _get_all(emulator.app)

    faulted = asyncio.run(scenario())
    assert {vendor: r.status_code for vendor, r in faulted.items()} == dict.fromkeys(VENDORS, 503)
    assert all(
        r.json() == {"detail": faulted["ultravox"].json()["detail"]} for r in faulted.values()
    )
    answered = asyncio.run(_get_all(emulator.app))
    assert {vendor: r.status_code for vendor, r in answered.items()} == dict.fromkeys(VENDORS, 200)
    journal = emulator.store.journal.to_json()
    assert [(e["path"], e["status"]) for e in journal] == [
        *((path, 503) for path, _ in VENDORS.values()),
        *((path, 200) for path, _ in VENDORS.values()),
    ]
    assert all(not {"x-api-key", "xi-api-key"} & set(e["headers"]) for e in journal)


def test_a_fault_for_one_vendors_prefix_spares_the_others() -> None:
    emulator = create_emulator(
        EmulatorConfig(
            api_key=KEY,
            faults=({"status": 429, "count": 5, "path_prefix": "/v1/convai/"},),
        )
    )
    answers = asyncio.run(_get_all(emulator.app))
    assert {vendor: r.status_code for vendor, r in answers.items()} == {
        "ultravox": 200,
        "threetone": 200,
        "elevenlabs": 429,
    }


def test_the_app_serves_one_event_loop_after_another() -> None:
    emulator = create_emulator(EmulatorConfig(api_key=KEY, start_time=START))

    async def create() -> int:
        transport = httpx.ASGITransport(app=emulator.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            made = await client.post(
                "/api/agents", json={"name": "support"}, headers={"X-API-Key": KEY}
            )
            return made.status_code

    async def count() -> int:
        transport = httpx.ASGITransport(app=emulator.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            listed = await client.get("/api/agents", headers={"X-API-Key": KEY})
            total: int = listed.json()["total"]
            return total

    assert asyncio.run(create()) == 201
    assert asyncio.run(count()) == 1  # a new loop, the same state
    with emulator.store.lock:
        assert emulator.store.advance(60) == "2030-01-14T16:01:00Z"
        assert [a["name"] for a in emulator.store.dump()["agents"]] == ["support"]


def test_create_app_keeps_its_store_on_the_app() -> None:
    app = create_app(EmulatorConfig(api_key=KEY))
    assert isinstance(app.state.store, Store)
    assert app.state.emulator.app is app and app.state.emulator.store is app.state.store


def test_a_running_emulator_shares_its_app_and_state_with_in_process_clients() -> None:
    with running_emulator(EmulatorConfig(api_key=KEY)) as emu:
        made = httpx.post(
            emu.base_url + "/api/agents", json={"name": "served"}, headers={"X-API-Key": KEY}
        )
        assert made.status_code == 201
        answers = asyncio.run(_get_all(emu.app))
        assert answers["ultravox"].json()["results"][0]["name"] == "served"
        # Both the served and the in-process requests are in the one journal.
        assert [e["method"] for e in emu.admin.requests()] == ["POST", "GET", "GET", "GET"]
        with emu.store.lock:
            assert len(emu.store.journal.to_json()) == 4


def test_two_threads_with_their_own_loops_share_one_store() -> None:
    emulator = create_emulator(EmulatorConfig(api_key=KEY))
    failures: list[BaseException] = []

    async def create_many(prefix: str) -> None:
        transport = httpx.ASGITransport(app=emulator.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            for index in range(20):
                made = await client.post(
                    "/api/agents", json={"name": f"{prefix}{index}"}, headers={"X-API-Key": KEY}
                )
                assert made.status_code == 201, made.text

    def run(prefix: str) -> None:
        try:
            asyncio.run(create_many(prefix))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in ("a", "b")]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert time.monotonic() - began < 60
    assert len(emulator.store.dump()["agents"]) == 40
    assert len(emulator.store.journal.to_json()) == 40


@pytest.mark.parametrize("path", ["/v1/unknown", "/api", "/api/nothing/here"])
def test_paths_no_vendor_claims_are_journaled_404s(path: str) -> None:
    emulator = create_emulator(EmulatorConfig(api_key=KEY))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=emulator.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            return await client.get(path)

    answer = asyncio.run(get())
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not found."})
    assert [e["path"] for e in emulator.store.journal.to_json()] == [path]


# --- latency: the answer comes `latency` after the request arrived, the work inside it -----------


@pytest.mark.parametrize(
    ("latency", "work", "fault", "waits"),
    [
        (0.05, 0.02, None, [0.03]),  # the work is counted inside the latency
        (0.05, 0.0, None, [0.05]),
        (0.05, 0.08, None, []),  # work longer than the latency: answered at once
        (0.0, 0.01, None, []),
        # A request accepted and then answered late: the latency, then the hang on top.
        (0.05, 0.02, {"mode": "accept_then_hang", "seconds": 2.0, "count": 1}, [0.03, 2.0]),
        (0.05, 0.0, {"status": 503, "count": 1}, [0.05]),
    ],
)
def test_an_answer_is_held_until_latency_after_arrival_the_work_counted_inside(
    latency: float, work: float, fault: dict[str, Any] | None, waits: list[float]
) -> None:
    from reconciler_emulator.gateway import Dispatch, Traffic

    emulator = create_emulator(EmulatorConfig(api_key=KEY, latency=latency))
    if fault is not None:
        emulator.store.faults.set([fault])
    now = [100.0]
    slept: list[float] = []
    journaled_before: list[int] = []

    async def sleep(seconds: float) -> None:
        journaled_before.append(len(emulator.store.journal.entries))
        slept.append(seconds)
        now[0] += seconds

    async def working(scope: Any, receive: Any, send: Any) -> None:
        now[0] += work  # the vendor API's own processing, on the fake clock
        await Dispatch(emulator.apis)(scope, receive, send)

    gateway = Traffic(working, emulator.store, sleep=sleep, clock=lambda: now[0])

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            return await client.get("/api/agents", headers={"x-api-key": KEY})

    answer = asyncio.run(get())
    assert answer.status_code == (503 if fault and "status" in fault else 200)
    assert slept == pytest.approx(waits)
    # The answer (and its journal entry) no sooner than the latency after the arrival.
    assert now[0] - 100.0 == pytest.approx(max(latency, work) + sum(waits[1:]))
    # Journaled before the hold (journaling is the emulator's work, inside the latency), so
    # before any wait: the answer follows the latency, and a hang comes after the entry.
    assert journaled_before == [1, 1][: len(waits)]
    assert len(emulator.store.journal.entries) == 1


def test_the_latency_flag_says_the_work_is_counted_inside() -> None:
    latency = next(p for p in command.params if p.name == "latency")
    assert isinstance(latency, click.Option)
    assert latency.help == (
        "Seconds from an API request's arrival to its answer, the emulator's own work counted "
        "inside them (as in a vendor's latency); work that takes longer is answered at once."
    )
