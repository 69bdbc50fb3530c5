"""What the commands share: the common flags, the workspace a command works on, the API-client
hooks of the click context, and how a command runs its coroutine and reports progress.

Knows no command in particular; must not import httpx or deepdiff.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

import click

from reconciler.cli import safety, verbosity
from reconciler.core.domain import ResourceKey
from reconciler.core.errors import ConfigError
from reconciler.core.limits import MAX_BODY_CHARS
from reconciler.runtime import engine

T = TypeVar("T")

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))

env_option = click.option(
    "--env",
    "env_name",
    metavar="NAME",
    help="Use environments/NAME.yaml inside the manifest directory (base URL, API-key "
    "variable, variables, overrides).",
)
target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="KIND/NAME",
    help="Limit to this resource (and what it depends on); repeatable.",
)
compact_option = click.option(
    "--compact",
    is_flag=True,
    help=f"Text: cut request bodies after {MAX_BODY_CHARS:,} characters (else printed whole).",
)
prune_option = click.option(
    "--prune",
    is_flag=True,
    help="Also delete live resources absent from the manifests that their kind: Ownership "
    "document claims; everything else is left alone.",
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, under the command's deadline (--timeout): no server can hold
    a run forever. The HTTP log lines (-v, -vv, retries) are set up here, by the first run."""
    verbosity.activate()
    return safety.run(coro)


def color() -> bool:
    """Whether a command's output is coloured: only on a terminal (a log, a pipe or a CI
    file gets no escape codes), and never while `NO_COLOR` is set to anything but the empty
    string, whatever its value (https://no-color.org)."""
    return wants_color(stdout_is_terminal(), os.environ)


def wants_color(terminal: bool, environ: Mapping[str, str]) -> bool:
    return terminal and not environ.get("NO_COLOR")


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def progress(message: str) -> None:
    click.echo(message, err=True)


def targets(values: tuple[str, ...]) -> list[ResourceKey]:
    keys = []
    for value in values:
        try:
            keys.append(ResourceKey.parse(value))
        except ValueError as exc:
            raise ConfigError(f"--target {value!r}: {exc}") from exc
    return keys


def hooks() -> engine.ClientHooks:
    """What the caller put in the click context's `obj` for the API clients (tests inject a
    transport and a sleep this way, as `cli.main(args, obj=ClientHooks(...))`); production
    passes nothing and gets the network and real waits."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(engine.ClientHooks) if ctx is not None else None
    return found if found is not None else engine.NO_HOOKS


def _given_hooks() -> engine.ClientHooks | None:
    """`hooks()` when the caller put anything in the context (tests), else None: a command
    that never opens a session (`validate`) then never imports the client and httpx."""
    node = click.get_current_context(silent=True)
    while node is not None:
        if node.obj is not None:
            return hooks()
        node = node.parent
    return None


def workspace(paths: tuple[str, ...], env_name: str | None) -> engine.Workspace:
    return engine.Workspace.open(
        paths,
        os.environ,
        env_name,
        _given_hooks(),
        limits=safety.limits(),
        allow_outside_files=safety.allow_outside_files(),
    )
