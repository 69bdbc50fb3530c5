"""Shared fixtures: the bundled emulator over real HTTP, and the real `reconciler` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig, running_emulator
from tests.support.openapi_contract import OpenApiContract

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "manifests"


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


@dataclass
class Cli:
    env: dict[str, str]
    cwd: Path

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


@pytest.fixture
def emulator() -> Iterator[Any]:
    with running_emulator(EmulatorConfig(api_key="test-key", max_page_size=2)) as emu:
        yield emu


@pytest.fixture
def cli(emulator: Any, tmp_path: Path) -> Cli:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ULTRAVOX_", "THREETONE_", "ELEVENLABS_"))
    }
    env.update(
        ULTRAVOX_BASE_URL=emulator.base_url,
        ULTRAVOX_API_KEY=emulator.api_key,
        # The emulator serves Threetone's batch-calling API too (the BatchCall example).
        THREETONE_BASE_URL=emulator.base_url,
        THREETONE_API_KEY=emulator.api_key,
        NO_COLOR="1",
        PYTHONPATH=str(REPO),
    )
    return Cli(env=env, cwd=tmp_path)


@pytest.fixture(scope="session")
def contract() -> OpenApiContract | None:
    return OpenApiContract.load_default()


@pytest.fixture
def checked_requests(emulator: Any, contract: OpenApiContract | None) -> Iterator[None]:
    """After the test, every body the tool sent must validate against the vendor schema."""
    yield
    if contract is None:
        return
    problems = []
    for entry in emulator.admin.requests():
        if entry["method"] in ("POST", "PATCH", "PUT") and entry["path"].startswith("/api/"):
            problems += contract.problems(entry["method"], entry["path"], entry["body"])
    assert not problems, "requests that break the Ultravox OpenAPI schema:\n" + "\n".join(problems)
