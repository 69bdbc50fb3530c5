"""`export` as the real executable, reading the account an environment file points at (the
other export scenarios run in process: tests/cli/test_export.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_export import CONFIG, assert_empty_plan, ok
from tests.conftest import AnyEmulator, Cli, MakeEmulator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("checked_requests")]


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(CONFIG)


def test_env_reads_the_account_of_the_environment_file(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    emulator.admin.seed_agent({"name": "staging_only", "callTemplate": {"voice": "Mark"}})
    out = tmp_path / "staging"
    (out / "environments").mkdir(parents=True)
    (out / "environments" / "staging.yaml").write_text(
        textwrap.dedent(f"""
        providers:
          ultravox:
            baseUrl: {emulator.base_url}
            apiKeyEnv: STAGING_KEY
        """).lstrip()
    )
    # The process environment points elsewhere: only the environment file can find the account.
    elsewhere = {
        "ULTRAVOX_BASE_URL": "http://127.0.0.1:9",
        "ULTRAVOX_API_KEY": "wrong",
        "STAGING_KEY": emulator.api_key,
        # A base URL from a file goes only where the operator allows it (issue 11).
        "RECONCILER_ALLOWED_HOSTS": emulator.base_url,
    }
    result = ok(cli("export", "--env", "staging", "--out", str(out), env=elsewhere))
    assert f"from {emulator.base_url}" in result.stdout
    text = (out / "agents" / "staging_only.yaml").read_text()
    assert emulator.base_url in text.splitlines()[1]
    assert emulator.api_key not in text
    assert_empty_plan(cli, out, "--env", "staging", env=elsewhere)

    missing = cli("export", "--env", "prod", "--out", str(out), env=elsewhere)
    assert missing.code == 1
    assert "prod" in missing.stderr and "environments" in missing.stderr
    assert "Traceback" not in missing.output
