"""`reconciler diff-env`: how two environments differ, desired or (--live) live."""

from __future__ import annotations

import os

import click

from reconciler.cli import common, safety
from reconciler.cli.errors import EXIT_CHANGES_PENDING, reported
from reconciler.core.render import render_state_differences
from reconciler.runtime import engine


@click.command("diff-env")
@click.argument("left", metavar="FROM")
@click.argument("right", metavar="TO")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--live", is_flag=True, help="Compare the two live accounts instead of the desired states."
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when the environments differ, 0 when not."
)
@reported
def command(
    left: str, right: str, paths: tuple[str, ...], live: bool, detailed_exitcode: bool
) -> None:
    """How two environments differ, resource by resource and field by field.

    Compares the desired state of FROM and TO (the manifests under PATHS, default
    `manifests`, with environments/FROM.yaml and environments/TO.yaml applied): what a
    promotion from FROM to TO would carry. With --live, compares what the two live accounts
    hold instead (GET requests only). Secrets and phone numbers are never shown.
    """
    chosen = paths or ("manifests",)
    differences = common.run(
        engine.diff_environments(
            chosen,
            os.environ,
            left,
            right,
            live,
            common.hooks(),
            limits=safety.limits(),
            allow_outside_files=safety.allow_outside_files(),
        )
    )
    click.echo(render_state_differences(differences, (left, right), color=common.color()))
    if detailed_exitcode and differences:
        click.get_current_context().exit(EXIT_CHANGES_PENDING)
