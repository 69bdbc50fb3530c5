"""`reconciler validate`: parse and validate manifests, without any network access."""

from __future__ import annotations

import click

from reconciler.cli import common
from reconciler.cli.errors import reported
from reconciler.core.wording import count


@click.command("validate")
@common.paths_argument
@common.env_option
@reported
def command(paths: tuple[str, ...], env_name: str | None) -> None:
    """Parse and validate manifests, without any network access.

    PATHS are files or directories (read recursively for *.yaml and *.yml; a directory's
    environments/ folder holds environment files, not manifests). Every problem of every file
    is reported, each with its file and line. Secret variables (`${NAME}` in secret fields)
    need not be set to validate. Exit 0 when valid, 1 otherwise.
    """
    # Validation needs no secrets (a pre-commit hook has none); plan and apply do.
    desired = common.workspace(paths, env_name).desired(require_secrets=False)
    kinds: dict[str, int] = {}
    for resource in desired:
        kinds[resource.key.kind] = kinds.get(resource.key.kind, 0) + 1
    detail = ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items()))
    where = f" in environment {env_name!r}" if env_name else ""
    click.echo(f"Valid: {count(len(desired), 'resource')}{where} ({detail or 'none'}).")
