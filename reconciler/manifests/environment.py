"""Environments: `environments/NAME.yaml` next to the manifests (dev, staging, prod, ...).

Owns the environment file's format (validated with pydantic, errors with file and line), where
the file is found, and the pure steps it contributes to desired state: which resources belong
to the environment, per-resource overrides (deep merge: objects merge, lists and scalars
replace, `null` removes a key), the variables for `${...}`, per-provider settings (base URL,
API-key variable, header, path prefix) and the environment it requires (promotion gate).
Secrets never live here: secret fields read only the process environment.
Must not import httpx, deepdiff or the client.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.core.errors import ConfigError, Diagnostic, ManifestError
from reconciler.core.interpolate import process_variables
from reconciler.core.limits import DEFAULTS, Limits
from reconciler.manifests.documents import ENVIRONMENTS_DIR, load_yaml_file
from reconciler.manifests.fields import NAME_PATTERN, Region

ENV_DIR = ENVIRONMENTS_DIR

PATH_PREFIX_PATTERN = r"^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$"
"""A path prefix: `/`-separated segments of URL-unreserved characters, none starting with `.`
(so no `.` or `..` segment), no `%`, `?` or `#`."""


class ProviderOverride(BaseModel):
    """How one environment reaches one vendor; every field optional."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    baseUrl: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    apiKeyEnv: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    apiKeyHeader: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    pathPrefix: str | None = Field(default=None, pattern=PATH_PREFIX_PATTERN)
    """Goes into every request path: segments of unreserved characters, none `.` or `..`."""

    @property
    def base_url(self) -> str | None:
        return self.baseUrl


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(default="", pattern=r"^$|" + NAME_PATTERN)
    description: str | None = None
    requires: str | None = Field(default=None, pattern=NAME_PATTERN)
    providers: dict[str, ProviderOverride] = Field(default_factory=dict)
    variables: dict[str, str] = Field(default_factory=dict)
    defaultRegion: Region | None = None
    """The country national phone numbers of this environment's campaigns are in (`US`), for
    every campaign that does not set its own `defaultRegion`."""
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    file: str = ""
    override_lines: dict[str, int] = Field(default_factory=dict)
    base_url_lines: dict[str, int] = Field(default_factory=dict)
    """Per provider, the line of its `baseUrl` (errors about a base URL name it)."""

    def where(self, provider: str) -> str:
        """`file:line` of a provider's `baseUrl` in this file."""
        return f"{self.file}:{self.base_url_lines.get(provider, 1)}"


def environment_dir(paths: Sequence[str]) -> Path:
    """`environments/` inside the first manifest directory (or beside the first file)."""
    first = Path(paths[0]) if paths else Path(".")
    base = first if first.is_dir() else first.parent
    return base / ENV_DIR


def load_environment(
    paths: Sequence[str],
    name: str,
    providers: Collection[str] | None = None,
    limits: Limits = DEFAULTS,
) -> Environment:
    """Read and validate `environments/NAME.yaml` for the manifests under `paths`; a name under
    `providers:` that is not one of `providers` (when given) is an error at its line."""
    directory = environment_dir(paths)
    file = directory / f"{name}.yaml"
    if not file.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []
        hint = f" (known: {', '.join(known)})" if known else f" (no {directory}/ directory)"
        raise ConfigError(f"environment {name!r}: no file {file}{hint}")
    documents = load_yaml_file(file, limits)
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise ManifestError([Diagnostic(str(file), 1, "an environment file is one YAML mapping")])
    document = documents[0]
    named = document.data.get("providers")
    named = named if isinstance(named, dict) else {}
    unknown = [
        Diagnostic(
            str(file),
            document.line_of(("providers", key)),
            f"providers: unknown provider {key!r}"
            + _did_you_mean(str(key), sorted(providers))
            + f" (known: {', '.join(sorted(providers))})",
        )
        for key in named
        if providers is not None and key not in providers
    ]
    lines = {
        key: document.line_of(("overrides", key))
        for key in (document.data.get("overrides") or {})
        if isinstance(key, str)
    }
    base_url_lines = {
        key: document.line_of(("providers", key, "baseUrl"))
        for key in named
        if isinstance(key, str)
    }
    problems = list(unknown)
    given = document.data.get("name")
    if isinstance(given, str) and given and given != name:
        problems.append(
            Diagnostic(
                str(file),
                document.line_of(("name",)),
                f'name: "{given}" is not the file\'s name; write name: {name} (or leave name '
                "out: the file names the environment)",
            )
        )
    try:
        environment = Environment.model_validate(
            {
                **document.data,
                "file": str(file),
                "override_lines": lines,
                "base_url_lines": base_url_lines,
            }
        )
    except ValidationError as exc:
        # Here, not at the top: the loader imports this module.
        from reconciler.manifests.loader import describe_error

        problems += [
            Diagnostic(
                str(file), document.line_of(tuple(error["loc"])), describe_error(Environment, error)
            )
            for error in exc.errors(include_url=False)
        ]
    # Every problem of the file in one run, the unknown providers and the name with the rest.
    if problems:
        raise ManifestError(problems)
    return environment.model_copy(update={"name": name})


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    import difflib  # a typo's suggestion only: not paid by every valid run

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def deep_merge(base: Any, overlay: Any) -> Any:
    """Objects merge key by key; anything else replaces; `None` in `overlay` removes a key."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return copy.deepcopy(overlay)
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = deep_merge(merged.get(key), value)
    return merged


def included(data: Mapping[str, Any], environment: Environment | None) -> bool:
    """Whether a manifest document belongs to the selected environment (all, without one)."""
    limited = data.get("environments")
    if environment is None or limited is None:
        return True
    return isinstance(limited, list) and environment.name in limited


def variables(environment: Environment | None, environ: Mapping[str, str]) -> dict[str, str]:
    """What `${NAME}` in a field that is not secret reads: the environment file's variables,
    then the process variables `RECONCILER_VAR_NAME` (as `${NAME}` or by their full name);
    no other process variable (an API key, a CI token) is ever readable this way."""
    return {**process_variables(environ), **(environment.variables if environment else {})}
