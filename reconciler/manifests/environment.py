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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.core.errors import ConfigError, Diagnostic, ManifestError
from reconciler.manifests.documents import ENVIRONMENTS_DIR, load_yaml_file
from reconciler.manifests.fields import NAME_PATTERN

ENV_DIR = ENVIRONMENTS_DIR


class ProviderOverride(BaseModel):
    """How one environment reaches one vendor; every field optional."""

    model_config = ConfigDict(extra="forbid")

    baseUrl: str | None = Field(default=None, pattern=r"^https?://")
    apiKeyEnv: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    apiKeyHeader: str | None = None
    pathPrefix: str | None = Field(default=None, pattern=r"^(/[^/\s]+)*$")

    @property
    def base_url(self) -> str | None:
        return self.baseUrl


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", pattern=r"^$|" + NAME_PATTERN)
    description: str | None = None
    requires: str | None = Field(default=None, pattern=NAME_PATTERN)
    providers: dict[str, ProviderOverride] = Field(default_factory=dict)
    variables: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    file: str = ""
    override_lines: dict[str, int] = Field(default_factory=dict)


def environment_dir(paths: Sequence[str]) -> Path:
    """`environments/` inside the first manifest directory (or beside the first file)."""
    first = Path(paths[0]) if paths else Path(".")
    base = first if first.is_dir() else first.parent
    return base / ENV_DIR


def load_environment(paths: Sequence[str], name: str) -> Environment:
    """Read and validate `environments/NAME.yaml` for the manifests under `paths`."""
    directory = environment_dir(paths)
    file = directory / f"{name}.yaml"
    if not file.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []
        hint = f" (known: {', '.join(known)})" if known else f" (no {directory}/ directory)"
        raise ConfigError(f"environment {name!r}: no file {file}{hint}")
    documents = load_yaml_file(file)
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise ManifestError([Diagnostic(str(file), 1, "an environment file is one YAML mapping")])
    document = documents[0]
    try:
        lines = {
            key: document.line_of(("overrides", key))
            for key in (document.data.get("overrides") or {})
            if isinstance(key, str)
        }
        environment = Environment.model_validate(
            {**document.data, "file": str(file), "override_lines": lines}
        )
    except ValidationError as exc:
        raise ManifestError(
            [
                Diagnostic(
                    str(file),
                    document.line_of(tuple(error["loc"])),
                    f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}",
                )
                for error in exc.errors(include_url=False)
            ]
        ) from exc
    if environment.name and environment.name != name:
        raise ConfigError(f"{file}: name {environment.name!r} does not match the file name")
    return environment.model_copy(update={"name": name})


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
    """What `${NAME}` reads: the environment file's variables, then the process environment."""
    return {**environ, **(environment.variables if environment else {})}
