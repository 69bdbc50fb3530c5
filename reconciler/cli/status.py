"""`reconciler status`: the progress of the campaigns in the manifests; GET requests only."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from reconciler.cli import common
from reconciler.cli.errors import reported
from reconciler.core.render import render_status
from reconciler.runtime import engine


@click.command("status")
@common.paths_argument
@common.env_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text (with progress bars on a terminal) or json.",
)
@reported
def command(paths: tuple[str, ...], env_name: str | None, fmt: str) -> None:
    """Progress of the campaigns in the manifests (GET requests only).

    Per batch: its state, totals and completed calls, counts per scheduled-call status
    (FUTURE, PENDING, SUCCESS, EXPIRED, ERROR), and the calls made with their end reasons.
    Phone numbers are masked.
    """
    workspace = common.workspace(paths, env_name)
    reports = common.run(_status(workspace, workspace.desired()))
    if fmt == "json":
        click.echo(json.dumps({"campaigns": reports}, indent=2))
    else:
        click.echo(render_status(reports, bars=sys.stdout.isatty()))


async def _status(workspace: engine.Workspace, desired: list[Any]) -> list[dict[str, Any]]:
    async with workspace.session() as session:
        return await engine.collect_status(session, desired)
