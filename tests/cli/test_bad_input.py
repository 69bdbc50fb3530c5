"""Bad input through the real command: exit 1, file and line named, no traceback, nothing sent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
CASES = sorted(BAD.glob("*.yaml"))


# Every case through `validate`; a sample through `plan` and `apply` too (they share the loader,
# and each run of the real command costs a process start).
MATRIX = [(case, "validate") for case in CASES] + [
    (case, command)
    for case in CASES
    if case.stem in {"unknown_field", "two_voices", "yaml_syntax", "bad_duration"}
    for command in ("plan", "apply")
]


@pytest.mark.parametrize(
    ("case", "command"), MATRIX, ids=[f"{command}-{case.stem}" for case, command in MATRIX]
)
def test_bad_manifest_is_refused_before_any_request(
    cli: Cli, emulator: Any, case: Path, command: str
) -> None:
    args = [command, str(case)] + (["--auto-approve"] if command == "apply" else [])
    result = cli(*args)
    assert result.code == 1, result.output
    assert re.search(rf"{re.escape(str(case))}:\d+: ", result.stderr), result.stderr
    assert "Traceback" not in result.output
    assert "nothing was sent" in result.stderr
    assert emulator.admin.requests() == []


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 7, f"bad-input corpus missing from {BAD}"


def test_all_errors_of_a_run_are_reported_together(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: ok_one\ncallTemplate:\n  voise: Mark\n")
    (tmp_path / "b.yaml").write_text("kind: Agent\nname: bad name!\n")
    result = cli("validate", str(tmp_path))
    assert result.code == 1
    assert f"{tmp_path / 'a.yaml'}:4: " in result.stderr
    assert f"{tmp_path / 'b.yaml'}:2: " in result.stderr
    assert "2 errors in manifests" in result.stderr


def test_missing_path_is_an_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "nope.yaml"))
    assert result.code == 1
    assert "nope.yaml" in result.stderr
    assert "Traceback" not in result.output
