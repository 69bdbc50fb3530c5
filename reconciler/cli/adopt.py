"""The adoption commands of the `reconciler` command line: `export` and `schema`.

Owns their flags, help texts and output; each is a thin shell over `reconciler.runtime.export` and
`reconciler.manifests.jsonschema`. Errors arrive as `ReconcilerError`s and leave through click
(a `ClickException` carrying the error's exit code), so no user error shows a traceback and
nothing here calls sys.exit. `reconciler.cli.main` registers the commands on its group; this module
must not import `reconciler.cli.main` (that would be a cycle), nor httpx or deepdiff.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconciler.cli import safety
from reconciler.core.errors import ConfigError, ReconcilerError
from reconciler.manifests.environment import ENV_DIR, load_environment
from reconciler.manifests.jsonschema import SCHEMA_FILE, schema_text
from reconciler.providers import registry
from reconciler.runtime import engine
from reconciler.runtime.export import ExportReport, export_account


def _handle_errors(func: Callable[..., None]) -> Callable[..., None]:
    """A `ReconcilerError` is shown as `Error: ...` (no traceback) and ends the command with
    its exit code, through click."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except ReconcilerError as error:
            click.echo(f"Error: {error.render()}", err=True)
            raise click.exceptions.Exit(error.exit_code) from error

    return wrapper


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.command("export")
@click.option(
    "--out",
    "out",
    default="exported",
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the manifests to (created if missing).",
)
@click.option(
    "--env",
    "env_name",
    metavar="NAME",
    help=f"Read the account that DIR/{ENV_DIR}/NAME.yaml points at (base URL, API-key variable).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist and are not empty.")
@_handle_errors
def export_command(out: Path, env_name: str | None, force: bool) -> None:
    """Write manifests for everything the tool manages in the live account.

    Reads the account (GET requests only) and writes one file per resource: every Ultravox
    agent to DIR/agents/NAME.yaml, every campaign this tool scheduled (batches carrying its
    reserved metadata, their parts joined) to DIR/campaigns/NAME.yaml, and every Threetone or
    ElevenLabs batch (its parts joined) to DIR/batchcalls/NAME.yaml, its recipients to
    NAME.recipients.jsonl beside it, the one file with phone numbers in full; a batch no
    manifest can reproduce is skipped, and said why. Vendors with neither an API key nor a
    base URL set are not read. Defaults are left out,
    multi-line prompts are YAML literal blocks, and keys and files come in a fixed order, so
    exporting an unchanged account again gives the same bytes; `reconciler plan DIR` then
    shows "No changes." Export checks this by planning what it wrote, and warns about anything
    it could not reproduce.

    Each file starts with a schema modeline for editors, pointing at the reconciler.schema.json
    found in DIR or above it (up to the git root); when there is none, one is written to DIR.
    A header comment says where the file was exported from and what was left to the server.

    No secret is written: a campaign's webhookSecret is left out (a plan accepts the one the
    server holds), and a secret an agent holds becomes a ${VARIABLE} reference to set before
    planning. Files that exist and are not empty are not overwritten without --force; files of
    resources no longer in the account are named, not deleted.

    Exit 0 on success (warnings included), 1 on any error.
    """
    overrides = {}
    if env_name:
        file = out / ENV_DIR / f"{env_name}.yaml"
        if not file.is_file():
            raise ConfigError(
                f"environment {env_name!r}: no file {file}; --env reads DIR/{ENV_DIR}/NAME.yaml"
            )
        names = [p.name for p in registry.PROVIDERS]
        environment = load_environment([str(out)], env_name, names, safety.limits())
        engine.check_environment_endpoints(environment, os.environ)
        overrides = environment.providers
    report = safety.run(_export(out, overrides, force))
    _show(report)


async def _export(out: Path, overrides: Any, force: bool) -> ExportReport:
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(engine.ClientHooks) if ctx is not None else None
    hooks = found if found is not None else engine.NO_HOOKS
    limits = safety.limits()
    async with engine.Session(
        os.environ,
        overrides=overrides,
        hooks=hooks,
        limits=limits,
        timeout=limits.request_timeout,
    ) as session:
        _progress("Reading the live account...")
        return await export_account(session, out, force=force)


def _show(report: ExportReport) -> None:
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    detail = ", ".join(f"{kind}: {count}" for kind, count in report.counts.items())
    total = sum(report.counts.values())
    sources = ", ".join(sorted(set(report.base_urls.values())))
    click.echo(
        f"Exported {total} resources ({detail or 'none'}) from {sources or 'the API'} "
        f"to {report.out_dir}."
    )
    if report.schema_written:
        click.echo(
            f"Wrote {report.out_dir / report.schema_written}, the schema the files' modelines "
            "point at (no reconciler.schema.json was found above it)."
        )
    if report.variables:
        _progress(
            "Secrets were not exported; set these variables before planning: "
            + ", ".join(report.variables)
        )
    _progress(f"Review the files, then run `reconciler plan {report.out_dir}`.")


@click.command("schema")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write the schema to FILE instead of printing it (the repository keeps {SCHEMA_FILE}).",
)
@_handle_errors
def schema_command(out: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of manifest documents.

    It is generated from the manifest models of every resource kind: one branch per `kind`,
    each closed to unknown fields, plus the keys any document may have (`environments`).
    Editors that speak yaml-language-server validate and complete a manifest whose first line
    is `# yaml-language-server: $schema=PATH/TO/reconciler.schema.json`; `reconciler export`
    writes that line. Keep the repository's copy current with
    `reconciler schema --out reconciler.schema.json`. No network access. Exit 0, or 1 when
    FILE cannot be written.
    """
    text = schema_text(registry.kinds().values())
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the schema to {out}: {exc.strerror or exc}") from exc
    _progress(f"Wrote the manifest schema to {out}.")
