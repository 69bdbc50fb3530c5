"""Shared fixtures: the bundled emulator and the `reconciler` command line.

By default both run in this process: the emulator is never served (`InProcessEmulator`, its
admin reads the store directly) and `cli` runs commands through click's `CliRunner`, its API
clients reaching the emulator through `httpx.ASGITransport` and recording retry waits instead
of sleeping them (tests/support/cli.py).

A test marked `e2e` gets the real thing from the same fixtures: the emulator served over
loopback HTTP in a thread and `cli` starting the installed `reconciler` executable for every
command (`real_cli` is that too, whatever the fixture `cli` is).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from reconciler_emulator.journal import Journal
from tests.support.cli import Cli, RealCli, Result, reconciler_command
from tests.support.emulators import AnyEmulator, InProcessEmulator, emulator_for
from tests.support.openapi_contract import OpenApiContract
from tests.support.secret_scan import no_secret_leaks  # noqa: F401  (every test: issue 11)
from tests.support.vendor_answers import VendorAnswers

__all__ = [
    "EXAMPLES",
    "REPO",
    "AnyEmulator",
    "Cli",
    "MakeCli",
    "MakeEmulator",
    "RealCli",
    "Result",
    "clean_environ",
    "reconciler_command",
]

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "manifests"
VENDOR_PREFIXES = ("ULTRAVOX_", "THREETONE_", "ELEVENLABS_")

MakeEmulator = Callable[[EmulatorConfig], AnyEmulator]
MakeCli = Callable[..., Cli]


def is_e2e(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("e2e") is not None


def clean_environ(*drop: str) -> dict[str, str]:
    """This process's environment without any vendor setting (nor the prefixes in `drop`),
    with colours off and this checkout importable: what every command starts from."""
    env = {k: v for k, v in os.environ.items() if not k.startswith((*VENDOR_PREFIXES, *drop))}
    env.update(NO_COLOR="1", PYTHONPATH=str(REPO))
    return env


@pytest.fixture
def make_emulator(request: pytest.FixtureRequest) -> Iterator[MakeEmulator]:
    """Emulators for this test: in process, or served over loopback when it is marked e2e."""
    with contextlib.ExitStack() as stack:

        def make(config: EmulatorConfig) -> AnyEmulator:
            return stack.enter_context(emulator_for(config, served=is_e2e(request)))

        yield make


@pytest.fixture
def make_cli(request: pytest.FixtureRequest, tmp_path: Path) -> MakeCli:
    """`make_cli(env, *emulators, cwd=tmp_path)`: the command line over `clean_environ()` plus
    `env`, reaching `emulators`; in process, or the real executable when the test is e2e."""

    def make(env: Mapping[str, str], *emulators: AnyEmulator, cwd: Path | None = None) -> Cli:
        full = {**clean_environ(), **env}
        if is_e2e(request):
            return RealCli(env=full, cwd=cwd or tmp_path)
        apps = {e.base_url: e.app for e in emulators if isinstance(e, InProcessEmulator)}
        return Cli(env=full, cwd=cwd or tmp_path, apps=apps)

    return make


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(EmulatorConfig(api_key="test-key", max_page_size=2))


def emulator_env(emulator: AnyEmulator) -> dict[str, str]:
    return {
        "ULTRAVOX_BASE_URL": emulator.base_url,
        "ULTRAVOX_API_KEY": emulator.api_key,
        # The emulator serves Threetone's batch-calling API too (the BatchCall example).
        "THREETONE_BASE_URL": emulator.base_url,
        "THREETONE_API_KEY": emulator.api_key,
    }


@pytest.fixture
def cli(make_cli: MakeCli, emulator: AnyEmulator) -> Cli:
    return make_cli(emulator_env(emulator), emulator)


@pytest.fixture
def real_cli(request: pytest.FixtureRequest, emulator: AnyEmulator, tmp_path: Path) -> RealCli:
    """The installed executable against the served emulator; only for tests marked e2e."""
    if not is_e2e(request):
        raise pytest.UsageError(f"{request.node.nodeid} uses real_cli: mark it e2e")
    return RealCli(env={**clean_environ(), **emulator_env(emulator)}, cwd=tmp_path)


@pytest.fixture(scope="session")
def contract() -> OpenApiContract | None:
    return OpenApiContract.load_default()


@pytest.fixture(scope="session")
def vendor_answers() -> VendorAnswers:
    """The vendors' own definitions of their answers: Ultravox's OpenAPI response schemas, the
    ElevenLabs SDK's types, Threetone's seed 002 (tests/support/vendor_answers.py)."""
    return VendorAnswers.load_default()


@pytest.fixture(autouse=True)
def checked_answers(
    vendor_answers: VendorAnswers, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every answer any emulator of this process gives during the test (served or in process,
    whichever fixture made it) must be what the vendor's own definition says: each journal
    entry is judged as it is recorded, and the test fails on the first one that is not."""
    problems: list[str] = []
    record = Journal.record

    def judged(journal: Journal, **entry: Any) -> None:
        record(journal, **entry)
        problems.extend(vendor_answers.problems(journal.entries[-1]))

    monkeypatch.setattr(Journal, "record", judged)
    yield
    shown = "\n".join(problems[:20]) + (
        f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
    )
    assert not problems, "answers of the emulator that break the vendor's definition:\n" + shown


@pytest.fixture
def checked_requests(
    emulator: AnyEmulator, contract: OpenApiContract | None, vendor_answers: VendorAnswers
) -> Iterator[None]:
    """After the test, every body the tool sent must validate against the vendor's schema:
    Ultravox's OpenAPI request schemas, the ElevenLabs SDK's submit parameters, seed 002's
    submit Body for Threetone."""
    yield
    problems = []
    for entry in emulator.admin.requests():
        problems += vendor_answers.request_problems(entry)
        if contract is None:
            continue
        if entry["method"] in ("POST", "PATCH", "PUT") and entry["path"].startswith("/api/"):
            problems += contract.problems(entry["method"], entry["path"], entry["body"])
    assert not problems, "requests that break the vendor's schema:\n" + "\n".join(problems)
