"""The product's commands are imported only when they run; `--help` lists them all the same."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from reconciler.cli.main import COMMANDS, cli


def test_each_summary_is_the_first_line_of_its_commands_help() -> None:
    for lazy in COMMANDS:
        command = lazy.load()
        assert command.help is not None
        assert command.help.split("\n\n")[0] == lazy.summary, lazy.name


def test_help_lists_every_command_as_the_loaded_commands_would() -> None:
    lazy_help = CliRunner().invoke(cli, ["--help"]).output
    context = click.Context(cli)
    for name in cli.list_commands(context):
        cli.get_command(context, name)  # now every command is loaded
    assert CliRunner().invoke(cli, ["--help"]).output == lazy_help
    for lazy in COMMANDS:
        assert f"  {lazy.name} " in lazy_help


def test_help_imports_no_command_module_nor_the_runtime() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from reconciler.cli.main import cli\n"
        "CliRunner().invoke(cli, ['--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('reconciler.cli.', "
        "'reconciler.runtime', 'httpx')))\n"
        "print(' '.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert not {f"reconciler.cli.{c.module or c.name}" for c in COMMANDS} & loaded
    assert not {m for m in loaded if m.startswith(("reconciler.runtime", "httpx"))}
