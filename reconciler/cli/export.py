"""`reconciler export`: write manifests for everything the tool manages in the live account.

A thin shell over `reconciler.runtime.export`: flags, help text and what is printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from reconciler.cli import common, safety
from reconciler.cli.errors import reported
from reconciler.core.errors import ConfigError
from reconciler.core.wording import count
from reconciler.manifests.environment import ENV_DIR, load_environment
from reconciler.providers import registry
from reconciler.runtime import engine
from reconciler.runtime.export import ExportReport, export_account


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
@reported
def command(out: Path, env_name: str | None, force: bool) -> None:
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
    report = common.run(_export(out, overrides, force))
    _show(report)


async def _export(out: Path, overrides: Any, force: bool) -> ExportReport:
    limits = safety.limits()
    async with engine.Session(
        os.environ,
        overrides=overrides,
        hooks=common.hooks(),
        limits=limits,
        timeout=limits.request_timeout,
    ) as session:
        common.progress("Reading the live account...")
        return await export_account(session, out, force=force)


def _show(report: ExportReport) -> None:
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    detail = ", ".join(f"{kind}: {n}" for kind, n in report.counts.items())
    total = sum(report.counts.values())
    sources = ", ".join(sorted(set(report.base_urls.values())))
    click.echo(
        f"Exported {count(total, 'resource')} ({detail or 'none'}) from {sources or 'the API'} "
        f"to {report.out_dir}."
    )
    if report.schema_written:
        click.echo(
            f"Wrote {report.out_dir / report.schema_written}, the schema the files' modelines "
            "point at (no reconciler.schema.json was found above it)."
        )
    if report.variables:
        common.progress(
            "Secrets were not exported; set these variables before planning: "
            + ", ".join(report.variables)
        )
    common.progress(f"Review the files, then run `reconciler plan {report.out_dir}`.")
