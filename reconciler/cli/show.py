"""`reconciler show PLAN_FILE`: render a saved plan again, without touching the network."""

from __future__ import annotations

import click

from reconciler.cli import common, safety
from reconciler.cli.errors import reported
from reconciler.core.render import RENDERERS, render_text
from reconciler.runtime import saved as saved_plans


@click.command("show")
@click.argument("plan_file", metavar="PLAN_FILE", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="text for terminals, markdown for pull-request comments, json for machines.",
)
@common.compact_option
@reported
def command(plan_file: str, fmt: str, compact: bool) -> None:
    """Render a saved plan file again, without touching the network.

    PLAN_FILE is what `plan --out FILE` saved. It is shown as `plan` showed it: where it acts
    (the environment, per provider the base URL and key variable), each change field by field
    with its requests, and the summary. No API key is needed and nothing is read from the
    account; phone numbers are masked and secrets never shown, in every format. Exit 0, or 1
    when the file is not a saved plan.
    """
    # Read as `apply --plan` reads it (bounded, strict JSON); the manifests it records are
    # not read, so where they are does not matter here.
    plan_, _ = saved_plans.read_plan(plan_file, safety.limits(), allow_outside_files=True)
    if fmt == "text":
        text = render_text(plan_, color=common.color(), compact=compact)
    else:
        text = RENDERERS[fmt](plan_)
    click.echo(text)
