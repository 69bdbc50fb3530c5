"""`${NAME}` and `${NAME:-default}` in manifest values, from given variable mappings.

Owns the interpolation syntax (`$${` for a literal `${`; a `${` that is neither is an error,
never sent as it is), which variables a value may read, and the rule that secret fields take
their value only from a whole variable reference, so the variable's name (never its value) can
go into a plan:

* a field that is not secret reads `variables` only: the environment file's `variables:` and
  the process variables named `RECONCILER_VAR_<NAME>` (`VAR_PREFIX`; the caller builds this
  mapping with `process_variables`), never any other process variable;
* a secret field, and every string below it (a map of tokens, a list of secrets), is exactly
  `${NAME}` and reads the process environment (`secrets_from`), except the `forbidden` names
  (the providers' API-key variables: no field ever reads those).

What was substituted is recorded (`sources`, `substituted`), so that errors show the
reference instead of the value. Pure: the caller passes the environment in; must not import
os, httpx or deepdiff.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core import fieldpaths as paths
from reconciler.core.fieldpaths import Path

VAR_PREFIX = "RECONCILER_VAR_"
"""Process variables a non-secret `${NAME}` may read: `RECONCILER_VAR_NAME`."""

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|(\$\{[^}]*\}?)")
UNSET_SECRET = "(unset secret)"
_WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass
class Interpolated:
    data: Any
    problems: list[tuple[Path, str]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    """Secret field path (dotted, down to each string) -> the variable it came from."""
    secret_values: list[str] = field(default_factory=list)
    """The values secret fields read (for the run's redactor; never to be shown)."""
    sources: dict[Path, tuple[str, ...]] = field(default_factory=dict)
    """Path -> the `${NAME}` references its value was built from."""
    substituted: dict[str, str] = field(default_factory=dict)
    """A value a variable supplied -> the reference it came from (`${NAME}`)."""


def process_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """What non-secret fields may read of the process environment: `RECONCILER_VAR_NAME`, as
    `${NAME}` and as `${RECONCILER_VAR_NAME}`."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        if name.startswith(VAR_PREFIX) and len(name) > len(VAR_PREFIX):
            found[name] = value
            found[name[len(VAR_PREFIX) :]] = value
    return found


def interpolate(
    data: Any,
    environ: Mapping[str, str],
    secret_fields: Iterable[str] = (),
    secrets_from: Mapping[str, str] | None = None,
    require_secrets: bool = True,
    forbidden: Collection[str] = (),
    *,
    plain: bool = False,
) -> Interpolated:
    """Substitute references from `environ` (the variables non-secret fields may read); secret
    fields read `secrets_from` (the process environment) only, so an environment file's
    variables can never supply a secret, and never a name in `forbidden`.

    With `require_secrets=False` (validation only: a pre-commit hook has no secrets) an unset
    secret variable is not a problem; a placeholder stands in for its value.

    `plain`: the caller knows that no string of `data` holds a `$` (its text has none), so
    only the secret fields are visited; what holds none of them is returned as it is."""
    result = Interpolated(data=None)
    secret_source = environ if secrets_from is None else secrets_from
    secret_patterns = [paths.parse(p) for p in secret_fields]
    if plain and not any(_reaches(data, p) for p in secret_patterns):
        result.data = data  # nothing to substitute and no secret field: nothing to copy
        return result

    def substitute(text: str, path: Path) -> str:
        used: list[str] = []

        def one(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            if match.group(3) is not None:
                result.problems.append(
                    (
                        path,
                        "malformed reference: write ${NAME} or ${NAME:-default} (letters, "
                        "digits and _), or $${ for a literal ${",
                    )
                )
                return ""
            name, default = match.group(1), match.group(2)
            value = environ.get(name)
            if value is None or (value == "" and default is not None):
                if default is not None:
                    return default
                result.problems.append((path, _unset(name, forbidden)))
                return ""
            used.append(name)
            if value:
                result.substituted.setdefault(value, "${" + name + "}")
            return value

        out = _REFERENCE.sub(one, text)
        if used:
            result.sources[path] = tuple(dict.fromkeys(used))
        return out

    def secret(node: Any, path: Path) -> Any:
        if isinstance(node, dict):
            return {k: secret(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [secret(v, (*path, i)) for i, v in enumerate(node)]
        if node is None:
            return None
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
        result.sources[path] = (name,)
        if name in forbidden:
            result.problems.append(
                (path, f"{name} holds a provider's API key; no field may read it")
            )
            return UNSET_SECRET
        value = secret_source.get(name)
        if not value:
            if require_secrets:
                result.problems.append(
                    (path, f"secret variable {name} is not set in the process environment")
                )
            return UNSET_SECRET
        result.secret_values.append(value)
        result.substituted.setdefault(value, "${" + name + "}")
        return value

    def walk(node: Any, path: Path, candidates: list[Path]) -> Any:
        # `candidates`: the secret patterns whose first len(path) segments match `path`; the
        # node is a secret field when one of them is exactly as long. Narrowing them on the
        # way down costs a comparison per key, not a match of every pattern at every node
        # (issue 14's profile: a sixth of loading 1,000 agents).
        depth = len(path)
        if any(len(p) == depth for p in candidates):
            return secret(node, path)
        if plain and not candidates:
            return node  # nothing to substitute below, and no secret field
        if isinstance(node, dict):
            return {
                k: walk(v, (*path, k), _narrowed(candidates, depth, k)) for k, v in node.items()
            }
        if isinstance(node, list):
            return [
                walk(v, (*path, i), _narrowed(candidates, depth, i)) for i, v in enumerate(node)
            ]
        if isinstance(node, str) and "$" in node:
            return substitute(node, path)
        return node

    result.data = walk(data, (), secret_patterns)
    return result


def _reaches(data: Any, pattern: Path) -> bool:
    """Whether `walk` would find a node `pattern` matches in `data` (the same rule as
    `_narrowed`: a segment equal to a key, or to an index, `[]` for every index)."""
    level = [data]
    for segment in pattern:
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                if segment in node:
                    below.append(node[segment])
            elif isinstance(node, list):
                if segment == paths.ANY:
                    below.extend(node)
                elif isinstance(segment, int) and 0 <= segment < len(node):
                    below.append(node[segment])
        if not below:
            return False
        level = below
    return True


def _narrowed(candidates: list[Path], depth: int, segment: str | int) -> list[Path]:
    """The patterns of `candidates` that also match `segment` at position `depth`."""
    if not candidates:
        return candidates
    return [
        p
        for p in candidates
        if len(p) > depth
        and (p[depth] == segment or (p[depth] == paths.ANY and isinstance(segment, int)))
    ]


def _unset(name: str, forbidden: Collection[str]) -> str:
    if name in forbidden:
        return f"{name} holds a provider's API key; no field may read it"
    if name.startswith(VAR_PREFIX):
        return f"variable {name} is not set in the process environment"
    return (
        f"variable {name} is not set: define it under the environment file's variables:, "
        f"or as {VAR_PREFIX}{name} in the process environment (or write ${{{name}:-default}})"
    )
