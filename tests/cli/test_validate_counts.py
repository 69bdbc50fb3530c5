"""Issue 13, items 3 and 8: no manifests is an error, and counts are in the right number."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import AnyEmulator, Cli


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


def test_one_call_not_outgoing_without_a_webhook_is_singular(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "kind: ScheduledBatch\n"
        "name: chats\n"
        "agentId: 3c90c3cc-0d44-4b50-8888-8dd25736052a\n"
        'windowStart: "2030-01-14T16:00:00Z"\n'
        'windowEnd: "2030-01-14T23:00:00Z"\n'
        "calls:\n"
        "  - medium: {serverWebSocket: {inputSampleRate: 16000, outputSampleRate: 16000}}\n"
    )
    result = cli("validate", str(tmp_path))
    assert result.code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'a.yaml'}:1: webhookUrl is required: batch 'chats' has 1 call "
        "whose medium is not outgoing\n"
        "1 error in manifests; nothing was sent.\n"
    )


def test_an_export_of_one_agent_is_singular(
    cli: Cli, emulator: AnyEmulator, tmp_path: Path
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text("kind: Agent\nname: only_one\n")
    assert cli("apply", "--auto-approve", str(tmp_path / "m")).code == 0
    out = tmp_path / "exported"
    result = cli("export", "--out", str(out))
    assert result.code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Exported 1 resource (Agent: 1) from {emulator.base_url} to {out}."
    )
    # Exported again: one file of the export is there already (ownership.yaml is the other).
    (out / "ownership.yaml").unlink()
    refused = cli("export", "--out", str(out))
    assert refused.code == 1
    assert refused.stderr.splitlines()[-1] == (
        f"Error: {out / 'agents' / 'only_one.yaml'} already exists; nothing was written. Pass "
        "--force to overwrite, or choose another --out directory."
    )


def test_one_second_is_singular_in_the_duration_hint(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "kind: Agent\nname: a1\ncallTemplate:\n  systemPrompt: hi\n  maxDuration: 1\n"
    )
    result = cli("validate", str(tmp_path))
    assert result.code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'a.yaml'}:5: callTemplate.maxDuration: expected a duration like "
        '"30s", got 1; write "1s" (1 second)\n'
        "1 error in manifests; nothing was sent.\n"
    )
