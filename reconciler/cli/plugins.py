"""Commands from outside the product (the emulator), found through entry points.

Owns `PluginGroup`, the click group class of `reconciler`: its own commands first, then those
of the `reconciler.commands` entry points, each loaded by name only when it is asked for (or
listed by --help), so the other commands never pay for it; `reconciler emulator` is
`reconciler_emulator.cli:command`. An extra's command that is not installed is a stand-in that
says what to install. The product never imports a plugin's package.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import importlib.metadata

COMMAND_ENTRY_POINTS = "reconciler.commands"
"""Entry-point group of `reconciler` commands that live in other packages."""
EXTRA_COMMANDS = {"emulator": "reconciler[emulator]"}
"""Commands an extra of this distribution provides, and the requirement that installs it."""


def _command_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    # Imported here: it costs every command start-up a few milliseconds (with email and
    # zipfile), and only --help and a command that is not the product's own look plugins up.
    import importlib.metadata

    found = importlib.metadata.entry_points(group=COMMAND_ENTRY_POINTS)
    return {entry.name: entry for entry in found}


def _not_installed(name: str, reason: str) -> click.Command:
    """A stand-in for an extra's command that is not installed: it fails, saying what to do."""
    requirement = EXTRA_COMMANDS[name]

    def fail() -> None:
        raise click.ClickException(
            f"`reconciler {name}` is not installed ({reason}); install it with: "
            f"pip install '{requirement}'"
        )

    return click.Command(
        name,
        callback=fail,
        help=f"Not installed: pip install '{requirement}'.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


def load_plugin_command(name: str) -> click.Command | None:
    """The command `name` of the `reconciler.commands` entry points; for an extra's command
    that is not installed, a stand-in that says how to install it; else None."""
    entry = _command_entry_points().get(name)
    if entry is None:
        if name in EXTRA_COMMANDS:
            return _not_installed(name, "no installed package provides it")
        return None
    try:
        loaded = entry.load()
    except ImportError as missing:
        if name not in EXTRA_COMMANDS:
            raise
        return _not_installed(name, f"{missing.name or 'a module it needs'} is missing")
    if not isinstance(loaded, click.Command):
        raise click.ClickException(f"entry point {entry.value!r} is not a click command")
    return loaded


@dataclass(frozen=True)
class LazyCommand:
    """A command of the product known by name and summary; its module
    (`reconciler.cli.<module>`, attribute `command`) is imported when the command runs."""

    name: str
    summary: str
    module: str = ""

    def load(self) -> click.Command:
        loaded = importlib.import_module(f"reconciler.cli.{self.module or self.name}")
        command = loaded.command
        assert isinstance(command, click.Command)
        return command


class PluginGroup(click.Group):
    """A group of its own commands (imported when asked for), then those of the
    `reconciler.commands` entry points, looked up only when a name is not one of its own."""

    def __init__(self, *args: Any, lazy_commands: Sequence[LazyCommand] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = {c.name: c for c in lazy_commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return sorted({*own, *self.lazy_commands, *_command_entry_points(), *EXTRA_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in self.lazy_commands:
            found = self.lazy_commands[cmd_name].load()
            self.add_command(found, cmd_name)
        return found or load_plugin_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help, from the summaries: no command module is imported."""
        rows: list[tuple[str, str]] = []
        limit = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        for name in self.list_commands(ctx):
            lazy = self.lazy_commands.get(name)
            if lazy is not None and name not in self.commands:
                rows.append(
                    (name, click.Command(name, help=lazy.summary).get_short_help_str(limit))
                )
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
