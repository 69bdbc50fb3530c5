"""`reconciler schema`: the JSON Schema of manifest documents, for editors.

A thin shell over `reconciler.manifests.jsonschema`; no network access.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import common
from reconciler.cli.errors import reported
from reconciler.core.errors import ConfigError
from reconciler.manifests.jsonschema import SCHEMA_FILE, schema_text
from reconciler.providers import registry


@click.command("schema")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write the schema to FILE instead of printing it (the repository keeps {SCHEMA_FILE}).",
)
@reported
def command(out: Path | None) -> None:
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
    common.progress(f"Wrote the manifest schema to {out}.")
