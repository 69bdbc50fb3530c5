"""Commands from outside the product (the emulator), found through entry points.

Owns `PluginGroup`, the click group class of `reconciler`: its own commands first, then those
of the `reconciler.commands` entry points, each loaded by name only when it is asked for (or
listed by --help), so the other commands never pay for it; `reconciler emulator` is
`reconciler_emulator.cli:command`. An extra's command that is not installed is a stand-in that
says what to install. The product never imports a plugin's package.
"""

from __future__ import annotations

import importlib.metadata

import click

COMMAND_ENTRY_POINTS = "reconciler.commands"
"""Entry-point group of `reconciler` commands that live in other packages."""
EXTRA_COMMANDS = {"emulator": "reconciler[emulator]"}
"""Commands an extra of this distribution provides, and the requirement that installs it."""


def _command_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
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


class PluginGroup(click.Group):
    """A group of its own commands, then those of the `reconciler.commands` entry points,
    looked up only when a name is not one of its own."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return sorted({*own, *_command_entry_points(), *EXTRA_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or load_plugin_command(cmd_name)
