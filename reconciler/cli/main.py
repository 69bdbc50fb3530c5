"""The `reconciler` command line: the only place that reads flags, prints and exits.

Owns the commands, their help texts, approval prompts, output streams and exit codes; each
command is a thin shell over `reconciler.runtime.engine`. Errors arrive as
`ReconcilerError`s carrying their exit code; no user error ever shows a traceback.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import click

from reconciler import __version__
from reconciler.cli import safety
from reconciler.cli.adopt import export_command, schema_command
from reconciler.core.domain import Plan, ResourceKey
from reconciler.core.errors import ApplyError, ApprovalError, ConfigError, ReconcilerError
from reconciler.core.render import (
    RENDERERS,
    render_state_differences,
    render_status,
    render_text,
    summary_line,
)
from reconciler.runtime import engine
from reconciler.runtime import saved as saved_plans
from reconciler.runtime.apply import ApplyReport, ChangeResult

T = TypeVar("T")

EXIT_CHANGES_PENDING = 2


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # Under the command's deadline (--timeout): no server can hold a run forever.
    return safety.run(coro)


def _fail(error: ReconcilerError) -> NoReturn:
    click.echo(f"Error: {error.render()}", err=True)
    sys.exit(error.exit_code)


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _handle_errors(func: Callable[..., None]) -> Callable[..., None]:
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except ReconcilerError as error:
            _fail(error)
        except (click.exceptions.Abort, click.exceptions.Exit, click.ClickException):
            raise  # click's own: Ctrl-C at a prompt, usage errors
        except Exception as error:
            # A bug, never a user's error: one clear line, no traceback (-v shows it).
            _fail(safety.internal_error(error))

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))


# --- commands from outside the product (the emulator), found through entry points ----------

COMMAND_ENTRY_POINTS = "reconciler.commands"
"""Entry-point group of `reconciler` commands that live in other packages. The product never
imports them: a command is loaded by name when it is asked for (or listed by --help), so the
other commands never pay for it. `reconciler emulator` is `reconciler_emulator.cli:command`."""
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
    """The `reconciler` group: its own commands, then those of the `reconciler.commands`
    entry points, looked up only when a name is not one of its own."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return sorted({*own, *_command_entry_points(), *EXTRA_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or load_plugin_command(cmd_name)


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", is_flag=True, help="Log every HTTP request (never headers).")
@safety.options
def cli(
    verbose: bool, timeout: float | None, request_timeout: float | None, allow_outside_files: bool
) -> None:
    """Declarative plans and applies for Ultravox agents and call campaigns.

    Manifests (YAML) describe the desired state; `plan` shows, field by field, what would
    change and the exact requests; `apply` sends only those.

    Settings come from the environment: ULTRAVOX_API_KEY (required for plan and apply) and
    ULTRAVOX_BASE_URL (default https://api.ultravox.ai).
    """
    # Everything printed from here on, logs included, goes through one masking pass.
    ctx = click.get_current_context()
    safety.install(ctx)
    safety.configure(ctx, timeout, request_timeout, allow_outside_files, verbose=verbose)
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        logging.getLogger("reconciler.http").setLevel(logging.DEBUG)


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


def _targets(values: tuple[str, ...]) -> list[ResourceKey]:
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


def _workspace(paths: tuple[str, ...], env_name: str | None) -> engine.Workspace:
    return engine.Workspace.open(
        paths,
        os.environ,
        env_name,
        hooks(),
        limits=safety.limits(),
        allow_outside_files=safety.allow_outside_files(),
    )


@cli.command()
@paths_argument
@env_option
@_handle_errors
def validate(paths: tuple[str, ...], env_name: str | None) -> None:
    """Parse and validate manifests, without any network access.

    PATHS are files or directories (read recursively for *.yaml and *.yml; a directory's
    environments/ folder holds environment files, not manifests). Every problem of every file
    is reported, each with its file and line. Secret variables (`${NAME}` in secret fields)
    need not be set to validate. Exit 0 when valid, 1 otherwise.
    """
    # Validation needs no secrets (a pre-commit hook has none); plan and apply do.
    desired = _workspace(paths, env_name).desired(require_secrets=False)
    kinds: dict[str, int] = {}
    for resource in desired:
        kinds[resource.key.kind] = kinds.get(resource.key.kind, 0) + 1
    detail = ", ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items()))
    where = f" in environment {env_name!r}" if env_name else ""
    click.echo(f"Valid: {len(desired)} resources{where} ({detail or 'none'}).")


def _write_plan(
    plan: Plan, out: str, paths: tuple[str, ...], prune: bool, targets: list[ResourceKey]
) -> None:
    # 0600, and with what it was made from, so `apply --plan` can re-plan and compare.
    saved_plans.write_plan(plan, saved_plans.Recorded.made(paths, prune, targets), out)


@cli.command()
@paths_argument
@env_option
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
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending, 0 when none."
)
@click.option("--prune", is_flag=True, help="Also delete live resources absent from the manifests.")
@target_option
@_handle_errors
def plan(
    paths: tuple[str, ...],
    env_name: str | None,
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    prune: bool,
    targets: tuple[str, ...],
) -> None:
    """Show what apply would change; sends GET requests only.

    Exit 0 on success (with --detailed-exitcode: 0 no changes, 2 changes pending), 1 on error.
    """
    workspace = _workspace(paths, env_name)
    desired = workspace.desired()
    _progress("Reading the live account...")
    keys = _targets(targets)
    plan_ = _run(engine.plan_workspace(workspace, desired, engine.plan_options(prune), keys))
    if out:
        _write_plan(plan_, out, paths, prune, keys)
    text = render_text(plan_, color=_color()) if fmt == "text" else RENDERERS[fmt](plan_)
    click.echo(text)
    if out:
        _progress(f"Saved the plan to {out}; apply it with `reconciler apply --plan {out}`.")
    if detailed_exitcode and not plan_.is_empty:
        sys.exit(EXIT_CHANGES_PENDING)


def _result_line(result: ChangeResult) -> str:
    change = result.change
    requests = ", ".join(f"{r.method} {r.path}" for r in change.requests)
    if result.ok:
        return f"ok      {change.action.value:<7} {change.key}  ({requests})"
    return f"FAILED  {change.action.value:<7} {change.key}: {result.error}"


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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@env_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for `yes`.")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply exactly this saved plan (no prompt); refused if stale.",
)
@click.option("--prune", is_flag=True, help="Also delete live resources absent from the manifests.")
@target_option
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Changes applied at once.",
)
@_handle_errors
def apply(
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
        _run(_apply_saved(saved, recorded, concurrency))
        return
    workspace = _workspace(paths, env_name)
    desired = workspace.desired()
    plan_ = _run(_plan_for_apply(workspace, desired, prune, _targets(targets)))
    click.echo(render_text(plan_, color=_color()))
    if plan_.is_empty:
        return
    # The question is asked outside any event loop: asyncio.run turns Ctrl-C into a
    # cancellation that waits for the blocked read to return, so at a prompt inside the loop
    # the first Ctrl-C did nothing until Enter was pressed.
    _approve(auto_approve)
    # A person may read the plan for minutes: re-read before sending, so a batch that started
    # meanwhile is not replaced (and its recipients dialled again).
    _report(_run(_apply_planned(workspace, plan_, not auto_approve, concurrency)))


async def _plan_for_apply(
    workspace: engine.Workspace,
    desired: list[Any],
    prune: bool,
    targets: list[ResourceKey],
) -> Plan:
    if workspace.required() is not None:
        _progress(f"Checking that {workspace.required_name()!r} matches the manifests...")
        await engine.promotion_gate(workspace)
    _progress("Reading the live account...")
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
        on_check=lambda: _progress("Checking that the live objects the plan read are unchanged..."),
        hooks=hooks(),
        limits=safety.limits(),
        allow_outside_files=safety.allow_outside_files(),
    )
    _report(report)


def _on_result(result: ChangeResult) -> None:
    click.echo(_result_line(result))


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


@cli.command()
@paths_argument
@env_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text (with progress bars on a terminal) or json.",
)
@_handle_errors
def status(paths: tuple[str, ...], env_name: str | None, fmt: str) -> None:
    """Progress of the campaigns in the manifests (GET requests only).

    Per batch: its state, totals and completed calls, counts per scheduled-call status
    (FUTURE, PENDING, SUCCESS, EXPIRED, ERROR), and the calls made with their end reasons.
    Phone numbers are masked.
    """
    workspace = _workspace(paths, env_name)
    reports = _run(_status(workspace, workspace.desired()))
    if fmt == "json":
        click.echo(json.dumps({"campaigns": reports}, indent=2))
    else:
        click.echo(render_status(reports, bars=sys.stdout.isatty()))


async def _status(workspace: engine.Workspace, desired: list[Any]) -> list[dict[str, Any]]:
    async with workspace.session() as session:
        return await engine.collect_status(session, desired)


@cli.command("diff-env")
@click.argument("left", metavar="FROM")
@click.argument("right", metavar="TO")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--live", is_flag=True, help="Compare the two live accounts instead of the desired states."
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when the environments differ, 0 when not."
)
@_handle_errors
def diff_env(
    left: str, right: str, paths: tuple[str, ...], live: bool, detailed_exitcode: bool
) -> None:
    """How two environments differ, resource by resource and field by field.

    Compares the desired state of FROM and TO (the manifests under PATHS, default
    `manifests`, with environments/FROM.yaml and environments/TO.yaml applied): what a
    promotion from FROM to TO would carry. With --live, compares what the two live accounts
    hold instead (GET requests only). Secrets and phone numbers are never shown.
    """
    chosen = paths or ("manifests",)
    differences = _run(
        engine.diff_environments(
            chosen,
            os.environ,
            left,
            right,
            live,
            hooks(),
            limits=safety.limits(),
            allow_outside_files=safety.allow_outside_files(),
        )
    )
    click.echo(render_state_differences(differences, (left, right), color=_color()))
    if detailed_exitcode and differences:
        sys.exit(EXIT_CHANGES_PENDING)


cli.add_command(export_command)
cli.add_command(schema_command)


def main() -> None:
    cli(prog_name="reconciler")
