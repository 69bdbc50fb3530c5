"""The `reconciler` command line: the group every command hangs off, and the console script.

Owns the group (`cli`: version, `-v`/`-vv`, `--rate`, the safety options) and `main`, the
entry point of the `reconciler` console script and of `python -m reconciler`. Each command
lives in a module of its own beside this one (validate, plan, apply, show, status, diff_env,
export, schema), a thin shell over `reconciler.runtime`; commands of other packages (the
emulator) come through entry points (`plugins`). Errors become exit codes in one place,
`reconciler.cli.errors`.

Tests call `cli.main(args, obj=ClientHooks(...))` to run a command in process with their own
transport and sleep (`reconciler.cli.common.hooks`); production passes nothing.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import types

import click

from reconciler import __version__
from reconciler.cli import safety, verbosity
from reconciler.cli.errors import reported
from reconciler.cli.plugins import LazyCommand, PluginGroup


def _no_pydantic_plugins() -> None:
    """The command line runs no pydantic plugins (issue 14).

    pydantic looks its plugins up in the installed packages' entry points when it builds its
    first model, and the module that does so imports `importlib.metadata` (with email,
    zipfile and csv): 73 M instructions, 8% of `validate`'s start-up, to find none as a rule.
    A plugin would see every value the models validate, manifests' secrets among them, so
    the command line takes none: the loader's module is put in place before pydantic first
    asks for it, answering none (what `PYDANTIC_DISABLE_PLUGINS=__all__` answers). Should a
    pydantic release look its plugins up elsewhere, this does nothing, and
    tests/cli/test_startup_imports.py fails on `importlib.metadata`; should one ask the
    module for anything but `get_plugins`, the real module takes its place and answers.
    """
    name = "pydantic.plugin._loader"
    if name in sys.modules:
        return
    loader = types.ModuleType(name, "No pydantic plugins in reconciler's command line.")

    def real(attribute: str) -> object:
        if attribute.startswith("__"):  # the import system's questions (`__file__`, ...)
            raise AttributeError(attribute)
        del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)

    loader.__dict__["get_plugins"] = tuple  # called with no argument: ()
    loader.__dict__["__getattr__"] = real
    sys.modules[name] = loader


_no_pydantic_plugins()

COMMANDS = (
    LazyCommand("validate", "Parse and validate manifests, without any network access."),
    LazyCommand("plan", "Show what apply would change; sends GET requests only."),
    LazyCommand(
        "apply", "Plan, show the plan, ask, and apply it; or apply a saved plan with --plan FILE."
    ),
    LazyCommand("show", "Render a saved plan file again, without touching the network."),
    LazyCommand("status", "Progress of the campaigns in the manifests (GET requests only)."),
    LazyCommand(
        "diff-env",
        "How two environments differ, resource by resource and field by field.",
        module="diff_env",
    ),
    LazyCommand("export", "Write manifests for everything the tool manages in the live account."),
    LazyCommand("schema", "Print the JSON Schema (draft 2020-12) of manifest documents."),
)
"""Every command of the product, imported only when it runs: `reconciler --help` and a
command's own start-up do not pay for the others (pre-commit hooks run `validate` often).
The summaries are the first line of each command's help (a test holds them to it)."""


@click.group(
    cls=PluginGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="-v: one line per HTTP request (method, URL, status, ms, attempt); -vv: also the "
    "bodies, masked. Never headers.",
)
@click.option(
    "--rate",
    type=float,
    metavar="N",
    help="At most N requests per second to each API, retries included (default: no cap; "
    "env RECONCILER_RATE).",
)
@safety.options
@reported
def cli(
    verbose: int,
    rate: float | None,
    timeout: float | None,
    request_timeout: float | None,
    allow_outside_files: bool,
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
    safety.configure(
        ctx, timeout, request_timeout, allow_outside_files, verbose=verbose > 0, rate=rate
    )
    verbosity.install(ctx, verbose)


COLLECTOR_THRESHOLDS = (200_000, 30, 30)
"""When the cycle collector runs (allocations; young collections per older one), as mypy sets
it: a command holds millions of objects that no cycle keeps (a campaign of 100,000
recipients), and at Python's default (700) the collector walks them again and again, 1.6 s of
CPU in a plan of such a campaign. Cycles are still collected, less often."""


def main() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        cli(prog_name="reconciler")
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            leave(done.code or 0)
        raise


def leave(code: int) -> None:
    """End the process now, with `code`, once its output is flushed: without the interpreter's
    teardown, which frees every object one by one and runs a last full collection (a tenth of
    a second of CPU after `validate` of 1,000 agents, more after their plan; mypy exits the
    same way). The product registers no `atexit` work. Returns, for the interpreter's own exit
    to report it, when the output cannot be flushed (a closed pipe)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
