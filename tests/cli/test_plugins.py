"""`reconciler` loads commands from the `reconciler.commands` entry points, by name, on demand;
the emulator is one, and its absence is a clear error naming the extra to install."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main as cli_main
from reconciler.cli import plugins
from tests.conftest import REPO


def _no_entry_points(**selection: Any) -> list[importlib.metadata.EntryPoint]:
    return []


def test_help_lists_the_emulator_command() -> None:
    result = CliRunner().invoke(cli_main.cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "emulator" in result.output.split("Commands:")[1]


def test_the_emulator_command_is_the_emulator_packages_own() -> None:
    from reconciler_emulator.cli import command

    assert plugins.load_plugin_command("emulator") is command
    with click.Context(cli_main.cli) as ctx:
        assert cli_main.cli.get_command(ctx, "emulator") is command


def test_without_the_extra_the_emulator_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.metadata, "entry_points", _no_entry_points)
    result = CliRunner().invoke(cli_main.cli, ["emulator", "--port", "0"])
    assert result.exit_code == 1
    assert "pip install 'reconciler[emulator]'" in result.output
    assert "Traceback" not in result.output
    # Still listed, so that --help tells the same story.
    listed = CliRunner().invoke(cli_main.cli, ["--help"])
    assert "Not installed: pip install 'reconciler[emulator]'" in listed.output


def test_an_entry_point_whose_dependencies_are_missing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken(importlib.metadata.EntryPoint):
        def load(self) -> Any:
            raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    broken = Broken("emulator", "reconciler_emulator.cli:command", plugins.COMMAND_ENTRY_POINTS)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **selection: [broken])
    result = CliRunner().invoke(cli_main.cli, ["emulator"])
    assert result.exit_code == 1
    assert "uvicorn is missing" in result.output
    assert "pip install 'reconciler[emulator]'" in result.output


def test_an_unknown_command_is_still_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "entry_points", _no_entry_points)
    result = CliRunner().invoke(cli_main.cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_other_commands_never_load_the_emulator() -> None:
    code = (
        "import sys\n"
        "from reconciler.cli.main import cli\n"
        "try:\n"
        "    cli(['validate', 'manifests'], prog_name='reconciler')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('reconciler_emulator'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
