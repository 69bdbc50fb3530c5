"""`diff-env` as the real executable, against two served emulators standing for staging and
prod (the other environment scenarios run in process: tests/cli/test_environments.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_environments import PROD, STAGING, environments_cli, layout
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture
def staging(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(STAGING)


@pytest.fixture
def prod(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(PROD)


@pytest.fixture
def cli(make_cli: MakeCli, staging: AnyEmulator, prod: AnyEmulator) -> Cli:
    return environments_cli(make_cli, staging, prod)


def test_diff_env_desired_and_live(cli: Cli, staging: Any, prod: Any, tmp_path: Path) -> None:
    manifests = layout(tmp_path, staging, prod)
    desired = cli("diff-env", "staging", "prod", str(manifests))
    assert desired.code == 0, desired.output
    assert "- Agent/canary only in staging" in desired.stdout
    assert "~ Agent/support differs" in desired.stdout
    assert 'callTemplate.voice: "Mark" -> "Jessica"' in desired.stdout
    assert "Hello from staging" in desired.stdout and "Welcome" in desired.stdout
    assert staging.admin.requests() == [] and prod.admin.requests() == []

    assert cli("apply", "--env", "staging", "--auto-approve", str(manifests)).code == 0
    live = cli("diff-env", "--live", "--detailed-exitcode", "staging", "prod", str(manifests))
    assert live.code == 2, live.output
    assert "- Agent/support only in staging" in live.stdout
    assert "- Agent/canary only in staging" in live.stdout
    assert {r["method"] for r in prod.admin.requests()} == {"GET"}
