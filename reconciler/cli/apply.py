"""`reconciler apply`: plan, show, ask and apply; or apply a saved plan (`--plan FILE`)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from reconciler.cli import common, safety
from reconciler.cli.errors import reported
from reconciler.core.domain import Plan, ResourceKey
from reconciler.core.errors import ApplyError, ApprovalError, ConfigError
from reconciler.core.render import render_text, summary_line
from reconciler.runtime import engine
from reconciler.runtime import saved as saved_plans
from reconciler.runtime.apply import ApplyReport, ChangeResult


@click.command("apply")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@common.env_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for `yes`.")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply exactly this saved plan (no prompt); refused if stale.",
)
@common.prune_option
@common.target_option
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Changes applied at once.",
)
@reported
def command(
    paths: tuple[str, ...],
    env_name: str | None,
    auto_approve: bool,
    plan_file: str | None,
    prune: bool,
    targets: tuple[str, ...],
    concurrency: int,
) -> None:
    """Plan, show the plan, ask, and apply it; or apply a saved plan with --plan FILE.

    Without --auto-approve and without a terminal to ask on, nothing is sent. With --plan the
    saved plan is the review: it is applied to the account it was made against, the live
    objects it read are read again, and if any changed the plan is refused as stale and
    nothing is sent. An environment with `requires: OTHER` is applied only while OTHER's live
    account matches the manifests. Exit 0 on success, 1 on any error.
    """
    if plan_file and paths:
        raise ConfigError("give either PATHS or --plan FILE, not both")
    if not plan_file and not paths:
        raise ConfigError("give the manifests to apply (PATHS), or --plan FILE")
    if plan_file:
        if prune or targets:
            raise ConfigError("--prune and --target shape a plan; with --plan FILE they are fixed")
        saved, recorded = saved_plans.read_plan(
            plan_file, safety.limits(), allow_outside_files=safety.allow_outside_files()
        )
        if env_name is not None and env_name != saved.environment:
            raise ConfigError(
                f"{plan_file} was made for environment {saved.environment!r}, not {env_name!r}"
            )
        common.run(_apply_saved(saved, recorded, concurrency))
        return
    workspace = common.workspace(paths, env_name)
    desired = workspace.desired()
    plan_ = common.run(_plan_for_apply(workspace, desired, prune, common.targets(targets)))
    click.echo(render_text(plan_, color=common.color()))
    if plan_.is_empty:
        return
    # The question is asked outside any event loop: asyncio.run turns Ctrl-C into a
    # cancellation that waits for the blocked read to return, so at a prompt inside the loop
    # the first Ctrl-C did nothing until Enter was pressed.
    _approve(auto_approve)
    # A person may read the plan for minutes: re-read before sending, so a batch that started
    # meanwhile is not replaced (and its recipients dialled again).
    _report(common.run(_apply_planned(workspace, plan_, not auto_approve, concurrency)))


async def _plan_for_apply(
    workspace: engine.Workspace,
    desired: list[Any],
    prune: bool,
    targets: list[ResourceKey],
) -> Plan:
    if workspace.required() is not None:
        common.progress(f"Checking that {workspace.required_name()!r} matches the manifests...")
        await engine.promotion_gate(workspace)
    common.progress("Reading the live account...")
    return await engine.plan_workspace(workspace, desired, engine.plan_options(prune), targets)


async def _apply_planned(
    workspace: engine.Workspace, plan_: Plan, check_stale: bool, concurrency: int
) -> ApplyReport:
    async with workspace.session() as session:
        return await engine.run_apply(
            session, plan_, check_stale=check_stale, concurrency=concurrency, on_result=_on_result
        )


async def _apply_saved(
    plan_: Plan, recorded: saved_plans.Recorded | None, concurrency: int
) -> None:
    click.echo(summary_line(plan_))
    if plan_.is_empty:
        return
    # The file's requests are never sent as such: its manifests are planned again against
    # the live account, and only a plan identical to the file is applied.
    report = await saved_plans.apply_saved(
        plan_,
        recorded,
        os.environ,
        concurrency=concurrency,
        on_result=_on_result,
        on_check=lambda: common.progress(
            "Checking that the live objects the plan read are unchanged..."
        ),
        hooks=common.hooks(),
        limits=safety.limits(),
        allow_outside_files=safety.allow_outside_files(),
    )
    _report(report)


def _result_line(result: ChangeResult) -> str:
    change = result.change
    requests = ", ".join(f"{r.method} {r.path}" for r in change.requests)
    if result.ok:
        return f"ok      {change.action.value:<7} {change.key}  ({requests})"
    return f"FAILED  {change.action.value:<7} {change.key}: {result.error}"


def _on_result(result: ChangeResult) -> None:
    click.echo(_result_line(result))


def _report(report: ApplyReport) -> None:
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not report.failed:
        click.echo(f"Apply complete: {len(report.done)} changed.")
        return
    lines = [
        f"Apply failed: {len(report.done)} done, {len(report.failed)} failed, "
        f"{len(report.not_attempted)} not attempted."
    ]
    for title, items in (
        ("done", [str(r.change.key) for r in report.done]),
        ("failed", [f"{r.change.key}: {r.error}" for r in report.failed]),
        ("not attempted", [str(c.key) for c in report.not_attempted]),
    ):
        lines += [f"  {title}:"] + [f"    - {item}" for item in items] if items else []
    lines.append("Run `reconciler plan` to see what remains; apply again to resume.")
    raise ApplyError("\n".join(lines))


def _approve(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApprovalError(
            "apply needs approval, but there is no terminal to ask on; "
            "pass --auto-approve (or apply a reviewed plan with --plan FILE). Nothing was sent."
        )
    answer = click.prompt(
        "\nDo you want to perform these actions? Only 'yes' will be accepted",
        default="",
        show_default=False,
    )
    if answer.strip() != "yes":
        raise ApprovalError("Apply cancelled; nothing was sent.")
