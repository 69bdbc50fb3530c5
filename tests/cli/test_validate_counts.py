"""Issue 13, items 3 and 8: no manifests is an error, and counts are in the right number."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli


def test_an_empty_file_is_no_manifests_not_valid(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here yet\n")
    result = cli("validate", str(empty))
    assert result.code == 1
    assert result.stderr == (
        f"Error: {empty}: no manifests found: no YAML document with a kind in it\n"
        "1 error in manifests; nothing was sent.\n"
    )


def test_a_directory_of_empty_files_is_no_manifests(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("")
    (tmp_path / "b.yml").write_text("---\n")
    result = cli("validate", str(tmp_path))
    assert result.code == 1
    assert f"Error: {tmp_path}: no manifests found: no YAML document with a kind in it" in (
        result.stderr
    )


def test_one_resource_is_singular(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: only_one\n")
    assert cli("validate", str(tmp_path)).stdout == "Valid: 1 resource (Agent: 1).\n"


def test_two_resources_are_plural(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: one\n---\nkind: Agent\nname: two\n")
    assert cli("validate", str(tmp_path)).stdout == "Valid: 2 resources (Agent: 2).\n"
