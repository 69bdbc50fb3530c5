"""`${NAME}` and `${NAME:-default}` in manifest values, from a given environment mapping.

Owns the interpolation syntax (`$${` for a literal `${`) and the rule that secret fields take
their value only from a variable reference, so the variable's name (never its value) can go
into a plan. Pure: the caller passes the environment in; must not import os, httpx or deepdiff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core import fieldpaths as paths
from reconciler.core.fieldpaths import Path

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
UNSET_SECRET = "(unset secret)"
_WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass
class Interpolated:
    data: Any
    problems: list[tuple[Path, str]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    """Secret field path (dotted) -> the variable it came from."""


def interpolate(
    data: Any,
    environ: Mapping[str, str],
    secret_fields: Iterable[str] = (),
    secrets_from: Mapping[str, str] | None = None,
    require_secrets: bool = True,
) -> Interpolated:
    """Substitute references from `environ`; secret fields read `secrets_from` (the process
    environment) only, so an environment file's variables can never supply a secret.

    With `require_secrets=False` (validation only: a pre-commit hook has no secrets) an unset
    secret variable is not a problem; a placeholder stands in for its value."""
    result = Interpolated(data=None)
    secret_source = environ if secrets_from is None else secrets_from
    secret_patterns = [paths.parse(p) for p in secret_fields]

    def substitute(text: str, path: Path) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            value = environ.get(name)
            if value is None or (value == "" and default is not None):
                if default is not None:
                    return default
                result.problems.append(
                    (
                        path,
                        f"environment variable {name} is not set (use ${{{name}:-default}} "
                        "for a default)",
                    )
                )
                return ""
            return value

        return _REFERENCE.sub(one, text)

    def walk(node: Any, path: Path) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        if any(paths.matches(p, path) for p in secret_patterns) and node is not None:
            whole = _WHOLE.match(node) if isinstance(node, str) else None
            if whole is None:
                result.problems.append(
                    (
                        path,
                        "a secret must come from the environment: write ${VARIABLE_NAME}, "
                        "never the value itself",
                    )
                )
                return node
            name = whole.group(1)
            result.secrets[paths.format_path(path)] = name
            if not secret_source.get(name):
                if require_secrets:
                    result.problems.append(
                        (path, f"secret variable {name} is not set in the process environment")
                    )
                return UNSET_SECRET
            return secret_source[name]
        if isinstance(node, str) and "$" in node:
            return substitute(node, path)
        return node

    result.data = walk(data, ())
    return result
