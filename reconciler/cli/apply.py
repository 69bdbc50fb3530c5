"""`reconciler apply`: plan, show, ask and apply; or apply a saved plan (`--plan FILE`).

While changes are applied, Ctrl-C (SIGINT) and SIGTERM stop it the safe way: no change
starts after the signal, the ones in flight finish, and the summary says what was done, what
was in flight and what was not attempted; exit 130 (SIGINT) or 143 (SIGTERM). A second Ctrl-C
aborts at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

from reconciler.cli import common, safety
from reconciler.cli.errors import reported
from reconciler.core.domain import Plan, ResourceKey
from reconciler.core.errors import ApplyError, ApprovalError, ConfigError
from reconciler.core.render import render_json, render_text, summary_line, where_lines
from reconciler.core.wording import count
from reconciler.runtime import engine
from reconciler.runtime import saved as saved_plans
from reconciler.runtime.apply import ApplyReport, ChangeResult, Outcome, Stop


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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text, or json: JSON lines (the plan, one result per change with its id, the end).",
)
@common.compact_option
@reported
def command(
    paths: tuple[str, ...],
    env_name: str | None,
    auto_approve: bool,
    plan_file: str | None,
    prune: bool,
    targets: tuple[str, ...],
    concurrency: int,
    fmt: str,
    compact: bool,
) -> None:
    """Plan, show the plan, ask, and apply it; or apply a saved plan with --plan FILE.

    Without --auto-approve and without a terminal to ask on, nothing is sent. With --plan the
    saved plan is the review: it is applied to the account it was made against, the live
    objects it read are read again, and if any changed the plan is refused as stale and
    nothing is sent. An environment with `requires: OTHER` is applied only while OTHER's live
    account matches the manifests. Exit 0 on success, 1 on any error.

    Every result line names the object's id (a create's from the server's answer) and the
    requests as sent, references resolved; --format json prints the same as JSON lines. The
    plan shown before the question prints request bodies whole; --compact cuts long ones.
    """
    click.get_current_context().meta[_FORMAT] = fmt
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
    _show_plan(plan_, compact)
    if plan_.is_empty:
        return
    # The question is asked outside any event loop: asyncio.run turns Ctrl-C into a
    # cancellation that waits for the blocked read to return, so at a prompt inside the loop
    # the first Ctrl-C did nothing until Enter was pressed.
    _approve(auto_approve, plan_)
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


EXIT_ON_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}
"""128 + the signal's number, as shells report a process a signal ended."""


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Stop]:
    """A `Stop` that SIGINT and SIGTERM request while the block runs (in the running loop);
    after the first, the signals act as usual again, so a second Ctrl-C aborts at once."""
    stop = Stop()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def release() -> None:
        while installed:
            loop.remove_signal_handler(installed.pop())

    def stopping(name: str) -> None:
        stop.request(name)
        release()
        click.echo(
            f"\n{name}: stopping. No change starts now; the ones in flight finish (Ctrl-C "
            "again aborts at once).",
            err=True,
        )

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stopping, sig.name)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # no signals here (not the main thread, or not this platform)
        installed.append(sig)
    try:
        yield stop
    finally:
        release()


async def _apply_planned(
    workspace: engine.Workspace, plan_: Plan, check_stale: bool, concurrency: int
) -> ApplyReport:
    # The clients carry as many requests at once as changes are applied at once.
    async with workspace.session(concurrency=concurrency) as session:
        with _stop_on_signals() as stop:
            return await engine.run_apply(
                session,
                plan_,
                check_stale=check_stale,
                concurrency=concurrency,
                on_result=_on_result,
                stop=stop,
            )


async def _apply_saved(
    plan_: Plan, recorded: saved_plans.Recorded | None, concurrency: int
) -> None:
    if _json():
        _show_plan(plan_, compact=False)
    else:
        # Where it acts first (issue 12), then what it will do.
        click.echo("\n".join([*where_lines(plan_), "", summary_line(plan_)]))
    if plan_.is_empty:
        return
    # The file's requests are never sent as such: its manifests are planned again against
    # the live account, and only a plan identical to the file is applied.
    with _stop_on_signals() as stop:
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
            stop=stop,
        )
    _report(report)


def _result_line(result: ChangeResult) -> str:
    change = result.change
    requests = ", ".join(f"{r.method} {r.path}" for r in change.requests)
    outcome = result.outcome
    notes = "".join(f"\n        {note}" for note in result.notes)
    if outcome is Outcome.DONE:
        # The id the object has now (a create's, from the answer) and the requests as sent,
        # references resolved (issue 12).
        named = (
            f"{change.key} (renamed from {change.renamed_from})"
            if change.renamed_from
            else str(change.key)
        )
        ident = f"  id {result.resource_id}" if result.resource_id else ""
        sent = ", ".join(result.requests) or requests
        return f"ok  {change.action.value:<7} {named}{ident}  ({sent}){notes}"
    why = result.skipped if outcome is Outcome.SKIPPED else result.error
    return f"{outcome.value:<8}{change.action.value:<7} {change.key}: {why}{notes}"


def _on_result(result: ChangeResult) -> None:
    click.echo(json.dumps(_result_event(result)) if _json() else _result_line(result))


_FORMAT = "reconciler.apply.format"
"""Key of the click context's `meta` holding `--format` for the result lines."""


def _json() -> bool:
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.meta.get(_FORMAT) == "json"


def _show_plan(plan_: Plan, compact: bool) -> None:
    """The plan as `plan` shows it (`compact`: long bodies cut); with --format json, one JSON
    line (where it acts first)."""
    if _json():
        click.echo(json.dumps({"event": "plan", **json.loads(render_json(plan_))}))
    else:
        click.echo(render_text(plan_, color=common.color(), compact=compact))


def _result_event(result: ChangeResult) -> dict[str, Any]:
    """A result line as JSON: the same facts, the id and the requests as sent."""
    change = result.change
    return {
        "event": "result",
        "status": result.outcome.value.lower(),
        "action": change.action.value,
        "kind": change.key.kind,
        "name": change.key.name,
        "id": result.resource_id,
        "renamed_from": change.renamed_from,
        "requests": list(result.requests),
        "error": result.skipped if result.outcome is Outcome.SKIPPED else result.error,
        "notes": list(result.notes),
    }


_TITLES = {
    Outcome.DONE: "done",
    Outcome.PARTIAL: "partly done",
    Outcome.UNKNOWN: "may have taken effect (the next plan will tell)",
    Outcome.FAILED: "failed",
    Outcome.SKIPPED: "skipped (nothing sent)",
}


def _report(report: ApplyReport) -> None:
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if _json():
        click.echo(json.dumps(_end_event(report)))
    if report.complete:
        if not _json():
            click.echo(f"Apply complete: {len(report.done)} changed.")
        return
    counts = [f"{len(report.done)} done"]
    if report.stopped:
        counts.append(f"{len(report.in_flight)} in flight")
    for outcome in (Outcome.PARTIAL, Outcome.UNKNOWN, Outcome.SKIPPED):
        if report.having(outcome):
            counts.append(f"{len(report.having(outcome))} {_TITLES[outcome].split(' (')[0]}")
    counts.append(f"{len(report.having(Outcome.FAILED))} failed")
    head = f"Apply stopped by {report.stopped}" if report.stopped else "Apply failed"
    lines = [f"{head}: {', '.join(counts)}, {len(report.not_attempted)} not attempted."]
    sections = [(_TITLES[o], [_item(r) for r in report.having(o)]) for o in Outcome]
    if report.stopped:
        flying = [str(r.change.key) for r in report.in_flight]
        sections.insert(1, ("in flight when it stopped (each finished as above)", flying))
    sections.append(("not attempted", [str(c.key) for c in report.not_attempted]))
    for title, items in sections:
        lines += [f"  {title}:"] + [f"    - {item}" for item in items] if items else []
    lines.append("Run `reconciler plan` to see what remains; apply again to resume.")
    error = ApplyError("\n".join(lines))
    if report.stopped:
        error.exit_code = EXIT_ON_SIGNAL.get(report.stopped, 1)
    raise error


def _end_event(report: ApplyReport) -> dict[str, Any]:
    counts = {o.value.lower(): len(report.having(o)) for o in Outcome}
    return {
        "event": "complete" if report.complete else "incomplete",
        **counts,
        "not_attempted": [str(c.key) for c in report.not_attempted],
        "stopped": report.stopped,
        "warnings": list(report.warnings),
    }


def _item(result: ChangeResult) -> str:
    if result.outcome is Outcome.DONE:
        return str(result.change.key)
    why = result.skipped if result.outcome is Outcome.SKIPPED else result.error
    return f"{result.change.key}: {why}"


def _approve(auto_approve: bool, plan_: Plan) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApprovalError(
            "apply needs approval, but there is no terminal to ask on; "
            "pass --auto-approve (or apply a reviewed plan with --plan FILE). Nothing was sent."
        )
    # The question says where, again: the plan above may be long (issue 12).
    what = count(len(plan_.changes), "change")
    where = f" to {plan_.environment}" if plan_.environment else " (no environment)"
    answer = click.prompt(
        f"\nApply {what}{where}? Only 'yes' is accepted",
        default="",
        show_default=False,
        err=_json(),
    )
    if answer.strip() != "yes":
        raise ApprovalError("Apply cancelled; nothing was sent.")
