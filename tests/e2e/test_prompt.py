"""Issue 12, item 3 on a real terminal: the `yes` prompt repeats the environment.

Only a process on a pseudo-terminal asks (without a terminal, apply refuses), so these run the
real executable against the served emulator.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Cli
from tests.e2e.test_real_process import run_in_terminal

pytestmark = pytest.mark.e2e


def manifests_with_prod(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "agents", target)
    (target / "environments").mkdir()
    (target / "environments" / "prod.yaml").write_text(
        "description: the production account\n", encoding="utf-8"
    )
    return target


def test_the_prompt_names_the_environment(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = manifests_with_prod(tmp_path)
    shown = run_in_terminal(["apply", "--env", "prod", str(manifests)], cli.env, "no", tmp_path)
    assert "Apply 3 changes to prod? Only 'yes' is accepted: " in shown
    # The plan above it said where as well, before anything else it printed.
    assert re.search(r"^Environment: prod\r?$", shown, re.M)
    assert shown.index("Environment: prod") < shown.index("+ Agent/")
    assert "Apply cancelled; nothing was sent." in shown
    assert [r for r in emulator.admin.requests() if r["method"] != "GET"] == []


def test_without_env_the_prompt_says_so(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = manifests_with_prod(tmp_path)
    (manifests / "text.yaml").unlink()
    (manifests / "sales.yaml").unlink()
    shown = run_in_terminal(["apply", str(manifests)], cli.env, "yes", tmp_path)
    assert "Apply 1 change (no environment)? Only 'yes' is accepted: " in shown
    assert re.search(
        r"^ok  create  Agent/acme_support  id [0-9a-f-]{36}  \(POST /api/agents\)", shown, re.M
    )
    assert "Apply complete: 1 changed." in shown
