"""`schema` and `validate` as the real executable, the way editors and the pre-commit hook run
them (the schema itself is tested in process: tests/manifests/test_jsonschema.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, RealCli
from tests.manifests.test_jsonschema import COMMITTED

pytestmark = pytest.mark.e2e


def test_the_real_command_prints_it(tmp_path: Path) -> None:
    cli = RealCli(env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    result = cli("schema")
    assert result.code == 0, result.output
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")


def test_the_pre_commit_hook_validates_the_manifest_directory(tmp_path: Path) -> None:
    import re
    import shlex

    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "reconciler-validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False  # validate needs whole directories (references)
    files = re.compile(hook["files"])
    for path in ("manifests/agents/support.yaml", "manifests/campaigns/renewals_2030_01.csv"):
        assert files.search(path), path
    for path in ("README.md", ".github/workflows/ci.yml", "tests/data/good/agents.yaml"):
        assert not files.search(path), path
    command = [*shlex.split(hook["entry"]), *hook["args"]]
    assert command[:2] == ["reconciler", "validate"]
    cli = RealCli(
        # No API key and no secret: the examples' webhookSecret variable is deliberately unset.
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        cwd=REPO,
    )
    result = cli(*command[1:])
    assert result.code == 0, result.output
    assert result.stdout.startswith("Valid:")
