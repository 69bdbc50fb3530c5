"""`reconciler plan`: show what apply would change; GET requests only."""

from __future__ import annotations

from collections.abc import Callable

import click

from reconciler.cli import common
from reconciler.cli.errors import EXIT_CHANGES_PENDING, reported
from reconciler.core.domain import Plan, ResourceKey
from reconciler.core.render import RENDERERS, render_text
from reconciler.runtime import engine


def write_plan(
    plan: Plan, out: str, paths: tuple[str, ...], prune: bool, keys: list[ResourceKey]
) -> Callable[[], None]:
    # Imported by a plan that is saved: a plan only shown needs neither it nor the apply step.
    from reconciler.runtime import saved as saved_plans

    # 0600, and with what it was made from, so `apply --plan` can re-plan and compare. A large
    # plan is written by a second process while this one renders it: wait before printing.
    return saved_plans.start_writing(plan, saved_plans.Recorded.made(paths, prune, keys), out)


@click.command("plan")
@common.paths_argument
@common.env_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Save the plan (JSON) to FILE for `apply --plan`.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="text for terminals, markdown for pull-request comments, json for machines.",
)
@common.compact_option
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending, 0 when none."
)
@common.prune_option
@common.target_option
@reported
def command(
    paths: tuple[str, ...],
    env_name: str | None,
    out: str | None,
    fmt: str,
    compact: bool,
    detailed_exitcode: bool,
    prune: bool,
    targets: tuple[str, ...],
) -> None:
    """Show what apply would change; sends GET requests only.

    Exit 0 on success (with --detailed-exitcode: 0 no changes, 2 changes pending), 1 on error.
    """
    workspace = common.workspace(paths, env_name)
    desired = workspace.desired()
    common.progress("Reading the live account...")
    keys = common.targets(targets)
    plan_ = common.run(engine.plan_workspace(workspace, desired, engine.plan_options(prune), keys))
    written = write_plan(plan_, out, paths, prune, keys) if out else None
    if fmt == "text":
        text = render_text(plan_, color=common.color(), compact=compact)
    else:
        text = RENDERERS[fmt](plan_)
    if written:
        written()
    click.echo(text)
    if out:
        common.progress(f"Saved the plan to {out}; apply it with `reconciler apply --plan {out}`.")
    if detailed_exitcode and not plan_.is_empty:
        click.get_current_context().exit(EXIT_CHANGES_PENDING)
