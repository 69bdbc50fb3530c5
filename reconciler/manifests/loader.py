"""Manifests: from YAML documents to validated desired state, every problem at file:line.

Owns validating each document (read by `reconciler.manifests.documents`) with its resource
type's pydantic model and turning every problem into a `Diagnostic` (`parse_manifests`), each
at the line of the key or list item it is about, a document's field errors, its model's rules
and the checks across documents together; the same sentences for a recipients file's rows
(`check_row`) and an environment file (`describe_error`); and the helpers that read a model's
fields by path (`field_path_problem`). All problems of a run are raised together as one
`ManifestError`; a user error never becomes a traceback.

Provider-neutral: it knows resource types only through the `ManifestKind` protocol
(`manifest_model`, `to_desired`, `check`), the optional `RuleChecked` hook and the optional
kind attributes `file_fields` and `declares_environments` (a campaign: with `--env`, a document
without `environments:` is an error). Pure except for
reading files; must not import httpx, deepdiff, click or any vendor's package.
"""

from __future__ import annotations

import functools
import math
import os
import re
import types
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal, Protocol, Union, cast, runtime_checkable

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from reconciler.core import fieldpaths as field_paths
from reconciler.core.domain import DesiredResource, ResourceKey, SourceRef
from reconciler.core.errors import Diagnostic, ManifestError
from reconciler.core.interpolate import interpolate
from reconciler.core.limits import DEFAULTS, Limits
from reconciler.core.masking import REDACTOR, mask_number
from reconciler.core.ownership import KIND as OWNERSHIP
from reconciler.core.ownership import Ownership, merged
from reconciler.core.wording import agree
from reconciler.manifests.documents import (
    Document,
    Loc,
    gather_files,
    read_documents,
    show_value,
)
from reconciler.manifests.environment import Environment, deep_merge, included, variables
from reconciler.manifests.fields import DURATION_PATTERN, PATTERN_HINTS, e164_validator
from reconciler.manifests.ownership import OwnershipManifest

READ_ONLY = "readOnly"
"""`json_schema_extra` key marking a model field the API returns but never accepts (the
OpenAPI keyword). Such fields are rejected by their own validator, never suggested as
"did you mean", and are not valid `ignoreChanges` paths."""

_EXPECTED: Mapping[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "null",
}

_BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


class ManifestKind(Protocol):
    """What loading needs of a resource kind; `reconciler.providers.base.ResourceType`
    implements it. Declared here so this layer never imports the providers above it."""

    @property
    def kind(self) -> str: ...

    @property
    def manifest_model(self) -> type[BaseModel]: ...

    @property
    def secret_fields(self) -> tuple[str, ...]: ...

    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource: ...

    def check(self, desired: Sequence[DesiredResource]) -> list[Diagnostic]: ...


@runtime_checkable
class RuleChecked(Protocol):
    """A manifest model with rules pydantic cannot say field by field (one-of groups).

    `parse_manifests` calls `rule_violations` on every model that validated, and reports each
    violation at the line of its path (a path into the document, like a pydantic `loc`).
    """

    def rule_violations(self) -> Iterable[tuple[Loc, str]]: ...


# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifests:
    """What a run's manifests say: the desired resources and what the manifests own."""

    desired: list[DesiredResource]
    ownership: Ownership | None = None
    """The `kind: Ownership` document(s), claims added up; None when there is none."""


def parse_manifests(
    paths: Sequence[str],
    kinds: Mapping[str, ManifestKind],
    environ: Mapping[str, str] | None = None,
    environment: Environment | None = None,
    *,
    require_secrets: bool = True,
    forbidden: Collection[str] = (),
    limits: Limits = DEFAULTS,
    allow_outside_files: bool = False,
) -> list[DesiredResource]:
    """Desired state from the manifests under `paths` (see `load_manifests`)."""
    return load_manifests(
        paths,
        kinds,
        environ,
        environment,
        require_secrets=require_secrets,
        forbidden=forbidden,
        limits=limits,
        allow_outside_files=allow_outside_files,
    ).desired


def load_manifests(
    paths: Sequence[str],
    kinds: Mapping[str, ManifestKind],
    environ: Mapping[str, str] | None = None,
    environment: Environment | None = None,
    *,
    require_secrets: bool = True,
    forbidden: Collection[str] = (),
    limits: Limits = DEFAULTS,
    allow_outside_files: bool = False,
) -> Manifests:
    """Desired state from the manifests under `paths`; `kinds` maps `kind` to its type.

    Per document: pick the resource type by `kind`, check (kind, name) is not a duplicate,
    validate with its `manifest_model`, apply the model's own rules (`RuleChecked`), convert
    with `to_desired` (which may raise `ManifestError` for problems it finds). Then each type's
    `check` over all resources. Every problem of the run is raised at the end, together, as
    one `ManifestError`.

    `${NAME}` / `${NAME:-default}` in values read the environment file's `variables:` and the
    `RECONCILER_VAR_*` variables of `environ` (the process environment) before validation; a
    type's `secret_fields` must be such references, read `environ` itself (never a name in
    `forbidden`: the providers' API-key variables), and the variables they name (never their
    values) are recorded in the resource's `secrets`. A message never shows a value a
    variable supplied, only its reference.

    Files a document names (a type's `file_fields`) must lie inside the manifest root (the
    directory given in `paths` the manifest was found in, or a given file's own directory):
    no absolute path, no `..` out of it, no symlink out of it, unless `allow_outside_files`.

    `kind: Ownership` documents are not resources: each is validated (claims only of `kinds`)
    and their claims, added up, are `Manifests.ownership`. A resource's `previous_names` may
    not be its own name, another resource's name, or another resource's previous name.
    """
    diagnostics: list[Diagnostic] = []
    files = gather_files(paths, diagnostics, allow_outside=allow_outside_files)
    documents = read_documents(files, diagnostics, limits)
    # An empty file or a directory of empty files: "Valid: 0 resources" would pass a check
    # that read nothing (a wrong path, a file truncated by a bad merge), and next to other
    # paths it would go unnoticed. A path already reported (unreadable, a YAML error) is not.
    seen = {
        os.path.abspath(f)
        for f in {*(d.source.file for d in documents), *(d.file for d in diagnostics)}
    }
    diagnostics += [
        Diagnostic(path, 0, "no manifests found: no YAML document with a kind in it")
        for path in dict.fromkeys(paths)
        if not _holds_any(os.path.abspath(path), seen)
    ]
    roots = [Path(p) for p in paths if Path(p).is_dir()]

    desired: list[DesiredResource] = []
    first_defined: dict[tuple[str, str], SourceRef] = {}
    values = variables(environment, environ or {})
    overridden: set[str] = set()
    ownerships: list[Ownership] = []
    previous_lines: dict[tuple[ResourceKey, str], int] = {}
    # Per manifest file: its path and its root (a file holds many documents).
    located: dict[str, tuple[Path, Path]] = {}
    for document in documents:
        is_ownership = document.data["kind"] == OWNERSHIP
        resource_type = None if is_ownership else _resource_type(document, kinds, diagnostics)
        if resource_type is None and not is_ownership:
            continue
        limited = document.data.get("environments")
        if limited is not None and not (
            isinstance(limited, list) and all(isinstance(e, str) for e in limited)
        ):
            diagnostics.append(
                _diagnostic(document, ("environments",), "expected a list of environment names")
            )
            continue
        if (
            environment is not None
            and limited is None
            and getattr(resource_type, "declares_environments", False)
        ):
            diagnostics.append(_undeclared_environments(document, environment))
            continue
        if not included(document.data, environment):
            continue
        data = {k: v for k, v in document.data.items() if k != "environments"}
        ident = f"{data.get('kind')}/{data.get('name')}"
        if environment is not None and ident in environment.overrides:
            data = deep_merge(data, environment.overrides[ident])
            overridden.add(ident)
        if (
            environment is not None
            and environment.defaultRegion
            and resource_type is not None
            and "defaultRegion" in resource_type.manifest_model.model_fields
            and "defaultRegion" not in data
        ):
            # The environment's region reads the national numbers of a campaign without one.
            data = {**data, "defaultRegion": environment.defaultRegion}
        # Identity is checked on the raw document, before validation, so that a duplicate is
        # reported in the same run as the other errors of either copy.
        duplicate = _is_duplicate(document, first_defined, diagnostics)
        if resource_type is None:
            ownership = _ownership(document, data, kinds, diagnostics)
            if ownership is not None and not duplicate:
                ownerships.append(ownership)
            continue
        model_class = resource_type.manifest_model
        interpolated = interpolate(
            data,
            values,
            resource_type.secret_fields,
            secrets_from=environ or {},
            require_secrets=require_secrets,
            forbidden=forbidden,
            plain=document.plain,
        )
        REDACTOR.add(*interpolated.secret_values)
        found: list[Diagnostic] = []
        for loc, message in interpolated.problems:
            found.append(_diagnostic(document, loc, message))
        data_not_finite = _non_finite(data) if _any_non_finite(data) else []
        found += [_diagnostic(document, loc, _NOT_FINITE) for loc in data_not_finite]
        if document.source.file not in located:
            path = Path(document.source.file)
            located[document.source.file] = (
                path,
                next((r for r in roots if path.is_relative_to(r)), path.parent),
            )
        file, root = located[document.source.file]
        refused = [
            _diagnostic(document, loc, message)
            for loc, message in referenced_file_problems(
                interpolated.data,
                getattr(resource_type, "file_fields", ()),
                file,
                root,
                allow_outside=allow_outside_files,
                limits=limits,
            )
        ]
        found += refused
        model = None
        try:
            model = model_class.model_validate(interpolated.data)
        except ValidationError as exc:
            found += _from_validation_error(document, model_class, exc, interpolated.sources)
            # The rest of the document is still checked (its rules, its references), so that
            # one bad field does not hide the other problems until the next run. Nothing of
            # it is returned: the run's diagnostics are raised at the end.
            model, removed = _partial_model(model_class, interpolated.data, exc)
        else:
            removed = []
        if model is not None:
            dumped = model.model_dump(mode="python", by_alias=True, exclude_none=True)
            if _any_non_finite(dumped):
                found += [
                    _diagnostic(document, loc, _NOT_FINITE)
                    for loc in _non_finite(dumped)
                    if loc not in set(data_not_finite)
                ]
            if _rule_checked(type(model)):
                for loc, message in cast(RuleChecked, model).rule_violations():
                    if not _touches(tuple(loc), removed):
                        found.append(_diagnostic(document, tuple(loc), message))
        resource = None
        if model is not None and not refused:
            try:
                resource = resource_type.to_desired(model, document.source)
            except ManifestError as exc:
                # A type may find problems only while converting (a recipients file it reads);
                # they join this run's diagnostics instead of cutting the run short.
                found += exc.diagnostics
                if isinstance(exc.partial, DesiredResource):
                    resource = exc.partial
        found = list({(d.file, d.line, d.message): d for d in found}.values())
        diagnostics += [_hide_values(d, interpolated.substituted) for d in found]
        if resource is None:
            continue
        if interpolated.secrets:
            resource = replace(resource, secrets=dict(interpolated.secrets))
        for index, old in enumerate(resource.previous_names):
            line = document.line_of(("previousNames", index))
            previous_lines.setdefault((resource.key, old), line)
        if not duplicate:
            desired.append(resource)

    if environment is not None:
        for ident in sorted(set(environment.overrides) - overridden):
            diagnostics.append(
                Diagnostic(
                    environment.file,
                    environment.override_lines.get(ident, 1),
                    f"overrides: {ident} is not a resource of these manifests"
                    f" in environment {environment.name!r}",
                )
            )
    # A kind's rules across documents are those of its own documents: a kind none of the
    # manifests use has none to check (and its type, looked up lazily, is not imported).
    present = {d.key.kind for d in desired}
    for resource_type in {id(kinds[k]): kinds[k] for k in kinds if k in present}.values():
        diagnostics.extend(resource_type.check(desired))
    diagnostics += _previous_name_problems(desired, previous_lines)
    if diagnostics:
        raise ManifestError(diagnostics)
    return Manifests(desired, merged(ownerships))


def _holds_any(given: str, files: Collection[str]) -> bool:
    """Whether one of `files` is the path `given` or lies in it (all absolute)."""
    inside = given.rstrip(os.sep) + os.sep
    return given in files or any(file.startswith(inside) for file in files)


def _ownership(
    document: Document,
    data: Mapping[str, Any],
    kinds: Mapping[str, ManifestKind],
    diagnostics: list[Diagnostic],
) -> Ownership | None:
    """A `kind: Ownership` document, validated; claims name only known kinds."""
    known = sorted(kinds)
    claims = data.get("claims")
    unknown = [
        _diagnostic(
            document,
            ("claims", kind),
            f'unknown kind "{kind}"'
            + (_did_you_mean(kind, known) or f" (kinds that can be claimed: {', '.join(known)})"),
        )
        for kind in (claims if isinstance(claims, dict) else {})
        if isinstance(kind, str) and kind not in kinds
    ]
    diagnostics += unknown
    try:
        model = OwnershipManifest.model_validate(data)
    except ValidationError as exc:
        diagnostics += _from_validation_error(document, OwnershipManifest, exc)
        return None
    return None if unknown else model.to_ownership(document.source)


def _previous_name_problems(
    desired: Sequence[DesiredResource], lines: Mapping[tuple[ResourceKey, str], int]
) -> list[Diagnostic]:
    """A previous name must be free: not the resource's own name, not another resource's
    name, not another resource's previous name (a live object becomes one resource only).
    `lines` holds the line of each previous name, by resource and name."""
    by_key = {d.key: d for d in desired}
    claimed: dict[ResourceKey, DesiredResource] = {}
    found: list[Diagnostic] = []
    for resource in desired:
        for old in resource.previous_names:
            key = ResourceKey(resource.key.kind, old)
            other = by_key.get(key)
            first = claimed.setdefault(key, resource)
            if old == resource.key.name:
                problem = f"{old!r} is the resource's own name"
            elif other is not None:
                problem = (
                    f"{old!r} is the name of another {key.kind} of these manifests "
                    f"({other.source}); a previous name must be free"
                )
            elif first is not resource:
                problem = (
                    f"{old!r} is also a previous name of {first.key} ({first.source}); one "
                    "live object can become one resource only"
                )
            else:
                continue
            line = lines.get((resource.key, old), resource.source.line)
            found.append(Diagnostic(resource.source.file, line, f"previousNames: {problem}"))
    return found


def _resource_type(
    document: Document, kinds: Mapping[str, ManifestKind], diagnostics: list[Diagnostic]
) -> ManifestKind | None:
    kind = document.data["kind"]
    line = document.line_of(("kind",))
    known = sorted(kinds)
    if not isinstance(kind, str):
        message = f"kind: expected a string, got {show_value(kind)}"
    elif kind in kinds:
        return kinds[kind]
    else:
        message = f'unknown kind "{kind}"' + (
            _did_you_mean(kind, known) or f" (known kinds: {', '.join(known)})"
        )
    diagnostics.append(Diagnostic(document.source.file, line, message))
    return None


def _is_duplicate(
    document: Document,
    first_defined: dict[tuple[str, str], SourceRef],
    diagnostics: list[Diagnostic],
) -> bool:
    kind, name = document.data["kind"], document.data.get("name")
    if not isinstance(name, str):
        return False  # validation reports the missing or malformed name
    first = first_defined.setdefault((kind, name), document.source)
    if first is document.source:
        return False
    diagnostics.append(
        Diagnostic(
            document.source.file,
            document.source.line,
            f'duplicate {kind} "{name}" (first defined at {first})',
        )
    )
    return True


def _from_validation_error(
    document: Document,
    model: type[BaseModel],
    error: ValidationError,
    sources: Mapping[Loc, tuple[str, ...]] | None = None,
) -> list[Diagnostic]:
    return [
        _diagnostic(document, tuple(detail["loc"]), _describe(model, detail, sources or {}))
        for detail in error.errors(include_url=False)
    ]


def _partial_model(
    model: type[BaseModel], data: Any, error: ValidationError
) -> tuple[BaseModel | None, list[Loc]]:
    """The document validated without the values that failed (and the paths taken out), or
    None when that does not validate either (a missing required field, a whole-document
    error)."""
    removed: list[Loc] = []
    partial = data
    for _ in range(3):
        locs = [_removable(tuple(d["loc"])) for d in error.errors(include_url=False)]
        if not all(locs):
            return None, removed
        removed += locs
        partial = _without(partial, locs)
        try:
            return model.model_validate(partial), removed
        except ValidationError as again:
            error = again
    return None, removed


def check_row(model: type[BaseModel], data: Any) -> tuple[BaseModel | None, list[str]]:
    """One row of a recipients file (a CSV row, a JSONL line) validated with `model`, as a
    document is: the model (None when anything is wrong) and every problem of the row, field
    errors and the model's rules (`RuleChecked`) together, each as `path: message`."""
    problems: list[tuple[Loc, str]] = []
    removed: list[Loc] = []
    try:
        validated: BaseModel | None = model.model_validate(data)
    except ValidationError as exc:
        details = exc.errors(include_url=False)
        problems = [(tuple(d["loc"]), _describe(model, d)) for d in details]
        validated, removed = _partial_model(model, data, exc)
    # `RuleChecked` asked of the model's class, once: `isinstance` with a runtime protocol
    # walks the protocol's attributes on every call, a third of a row's time in a large file.
    if validated is not None and _rule_checked(type(validated)):
        problems += [
            (tuple(loc), message)
            for loc, message in cast(RuleChecked, validated).rule_violations()
            if not _touches(tuple(loc), removed)
        ]
    if problems:
        return None, [_at(loc, message) for loc, message in problems]
    return validated, []


@functools.cache
def _rule_checked(model: type[BaseModel]) -> bool:
    return issubclass(model, RuleChecked)


def describe_error(model: type[BaseModel], detail: ErrorDetails) -> str:
    """One pydantic error of `model` as a document's problem says it: `path: sentence`."""
    return _at(tuple(detail["loc"]), _describe(model, detail))


def _at(loc: Loc, message: str) -> str:
    where = field_paths.format_path(loc)
    return f"{where}: {message}" if where else message


def _touches(loc: Loc, removed: Sequence[Loc]) -> bool:
    """Whether a rule at `loc` is about a value taken out (or holding one)."""
    return any(loc == r[: len(loc)] or r == loc[: len(r)] for r in removed)


def _removable(loc: Loc) -> Loc:
    """What to take out of a document so that the error at `loc` goes away: the key itself,
    or the list holding a bad item (a removed item would move the others' indices)."""
    while loc and isinstance(loc[-1], int):
        loc = loc[:-1]
    return loc


def _without(data: Any, locs: Sequence[Loc]) -> Any:
    """`data` without the values at `locs` (a copy; paths that do not exist are skipped)."""
    if not locs:
        return data
    if isinstance(data, dict):
        here = {loc[0] for loc in locs if len(loc) == 1}
        return {
            k: _without(v, [loc[1:] for loc in locs if len(loc) > 1 and loc[0] == k])
            for k, v in data.items()
            if k not in here
        }
    if isinstance(data, list):
        return [
            _without(v, [loc[1:] for loc in locs if len(loc) > 1 and loc[0] == i])
            for i, v in enumerate(data)
        ]
    return data


_NOT_FINITE = "not a finite number: .nan and .inf cannot be sent (JSON has no such numbers)"


def _any_non_finite(value: Any) -> bool:
    """Whether `value` holds a float that is NaN or infinite: a loop over a stack that builds
    no paths, so the documents that hold none (nearly all) never pay for `_non_finite`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float) and not math.isfinite(item):
            return True
    return False


def _non_finite(value: Any, loc: Loc = ()) -> list[Loc]:
    """Where `value` holds a float that is NaN or infinite."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [loc]
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _non_finite(v, (*loc, k))]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in _non_finite(v, (*loc, i))]
    return []


def _hide_values(diagnostic: Diagnostic, substituted: Mapping[str, str]) -> Diagnostic:
    """The diagnostic with every value a variable supplied shown as its reference."""
    message = diagnostic.message
    for value, reference in sorted(substituted.items(), key=lambda kv: -len(kv[0])):
        if len(value) >= 8:
            message = message.replace(value, reference)
        elif len(value) >= 2:
            pattern = rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])"
            message = re.sub(pattern, reference.replace("\\", "\\\\"), message)
    if message == diagnostic.message:
        return diagnostic
    return Diagnostic(diagnostic.file, diagnostic.line, message)


def referenced_file_problems(
    data: Any,
    file_fields: Iterable[str],
    manifest: Path,
    root: Path,
    *,
    allow_outside: bool = False,
    limits: Limits = DEFAULTS,
) -> list[tuple[Loc, str]]:
    """Why the files a document names at `file_fields` may not be read: outside `root` (an
    absolute path, `..` out of it, a symlink out of it; unless `allow_outside`), not a regular
    file, or larger than `limits.max_file_bytes`. A missing file is the type's to report."""
    problems: list[tuple[Loc, str]] = []
    for text in file_fields:
        loc = field_paths.parse(text)
        value = field_paths.get(data, loc)
        if not isinstance(value, str) or not value:
            continue
        problem = _file_problem(value, manifest, root, allow_outside, limits)
        if problem:
            problems.append((loc, problem))
    return problems


def _file_problem(
    name: str, manifest: Path, root: Path, allow_outside: bool, limits: Limits
) -> str | None:
    if "\0" in name:
        return "a file name cannot contain a NUL character"
    override = " (the command-line flag --allow-outside-files permits it)"
    where = f"the manifest directory {root}"
    if not allow_outside:
        if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:
            return (
                f"{name!r} is an absolute path; a file a manifest names must be inside {where}"
                + override
            )
        base = os.path.abspath(root)
        lexical = os.path.normpath(os.path.join(os.path.abspath(manifest.parent), name))
        if os.path.commonpath([base, lexical]) != base:
            return f"{name!r} goes outside {where} through ..{override}"
    target = manifest.parent / name
    try:
        if not allow_outside and not target.resolve().is_relative_to(root.resolve()):
            return f"{name!r} is a symlink out of {where}{override}"
        if not target.exists():
            return None
        if not target.is_file():
            return f"{name!r} is not a regular file"
        size = target.stat().st_size
    except (OSError, ValueError, RuntimeError) as exc:
        return f"{name!r} cannot be read: {exc}"
    if size > limits.max_file_bytes:
        return (
            f"{name!r} is larger than {limits.max_file_bytes:,} bytes (the limit; raise it with "
            f"{Limits.ENV['max_file_bytes']})"
        )
    return None


def _undeclared_environments(document: Document, environment: Environment) -> Diagnostic:
    """A campaign dials real people: with `--env`, it runs only in the environments it names,
    never in every environment it happens to be applied to."""
    ident = f"{document.data.get('kind')}/{document.data.get('name')}"
    return Diagnostic(
        document.source.file,
        document.source.line,
        f"{ident} has no `environments:` and --env {environment.name} is given; a campaign "
        "runs only where it is declared: list the environments it runs in, e.g. "
        f"`environments: [{environment.name}]` at the top of the document",
    )


def _diagnostic(document: Document, loc: Loc, message: str) -> Diagnostic:
    return Diagnostic(document.source.file, document.line_of(loc), _at(loc, message))


def _describe(
    model: type[BaseModel],
    detail: ErrorDetails,
    sources: Mapping[Loc, tuple[str, ...]] | None = None,
) -> str:
    """One pydantic error as a sentence a user can act on (the path is added by the caller).

    A value that came from variables (`sources`) is shown as its references, never itself."""
    kind, loc, value = detail["type"], tuple(detail["loc"]), detail["input"]
    context = detail.get("ctx") or {}
    names = (sources or {}).get(loc)
    shown = (
        "the value of " + ", ".join("${" + n + "}" for n in names) if names else show_value(value)
    )
    if kind == "extra_forbidden":
        allowed = field_names(model, loc[:-1])
        return "unknown field" + _did_you_mean(str(loc[-1]), allowed)
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern", ""))
        hint = PATTERN_HINTS.get(pattern)
        if hint:
            return f"{shown} is not {hint}"
        return f"{shown} does not match the pattern {pattern}"
    if kind == "literal_error":
        options = _literal_options(model, loc)
        if options:
            return f"{shown} is not one of {', '.join(options)}" + _did_you_mean(
                str(value), options
            )
    if (
        kind == "string_type"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and _pattern(_resolve(model, loc)[1]) == DURATION_PATTERN
    ):
        # `maxDuration: 30` quoted is "30", still no duration: the hint is the duration itself.
        fixed = f'"{_number(value)}s"'
        return (
            f'expected a duration like "30s", got {shown}; write {fixed} '
            f"({shown} {agree(value, 'second')})"
        )
    if (
        kind == "string_type"
        and type(value) is int
        and not names
        and (loc[-1:] in (("to",), ("from",), ("phone_number",)) or _is_e164(model, loc))
    ):
        # YAML reads `+14155550100` as the number 14155550100: quoted without its `+` it is
        # still no E.164 number, so the hint gives the `+` back. Masked: an error is a log line.
        return (
            f"expected a string, got the number {mask_number(str(value))}: write the phone "
            f'number in quotes with its + ("{mask_number(f"+{value}")}", masked here)'
        )
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {shown}"
        must = _pattern(_resolve(model, loc)[1]) if kind == "string_type" else None
        if (
            kind == "string_type"
            and isinstance(value, bool | int | float)
            and not names
            and (must is None or isinstance(value, bool) or re.search(must, str(value)))
        ):
            # YAML reads `no` or `1.10` as booleans and numbers. Not said where the quoted
            # value would still not do (a URL field given 5): the hint must work when followed.
            message += " (quote it to make it a string)"
        return message
    if kind in _BOUND_ERRORS:
        _, field = _resolve(model, loc)
        return f"{shown} is out of range: must be {_bounds(field, context)}"
    return str(detail["msg"]).removeprefix("Value error, ")


# --- reading models by path ----------------------------------------------------------------


class _Nowhere:
    """The type at a path that does not exist."""


_NOWHERE = _Nowhere()


def field_names(model: type[BaseModel], loc: Loc = ()) -> list[str]:
    """The fields a document may write at `loc` of `model` (API names; read-only excluded)."""
    target, _ = _resolve(model, loc)
    target = unwrap_annotation(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return [
            info.alias or name
            for name, info in target.model_fields.items()
            if not _is_read_only(info)
        ]
    return []


def field_path_problem(model: type[BaseModel], text: str) -> str | None:
    """Why `text` (`a.b[].c` syntax of `reconciler.core.fieldpaths`) is not a path of fields of
    `model`; None when it is. Below a free-form value (a map, `Any`) every key is accepted."""
    path = field_paths.parse(text)
    if not path or field_paths.format_path(path) != text:
        return 'not a field path like "a.b" or "a.b[].c"'
    current: Any = model
    done: Loc = ()
    for segment in path:
        where = field_paths.format_path(done) or "the document"
        target = unwrap_annotation(current)
        if target is Any:
            return None
        origin = typing.get_origin(target)
        if segment == field_paths.ANY or isinstance(segment, int):
            if origin is not list:
                return f"{where} is not a list"
            current = typing.get_args(target)[0]
        elif isinstance(target, type) and issubclass(target, BaseModel):
            info = _field(target, segment)
            if info is None:
                names = field_names(target)
                return f'{where} has no field "{segment}"' + _did_you_mean(segment, names)
            if _is_read_only(info):
                return "a read-only field, never compared"
            current = info.annotation
        elif origin is dict:
            current = typing.get_args(target)[1]
        elif target is dict:
            return None
        else:
            return f'{where} has no fields (it is not an object), so no "{segment}"'
        done = (*done, segment)
    return None


def _resolve(model: type[BaseModel], loc: Loc) -> tuple[Any, FieldInfo | None]:
    """The type at `loc` of `model`, and the field whose value it is (None for list items and
    map values); `_NOWHERE` when the path does not exist."""
    current: Any = model
    field: FieldInfo | None = None
    for segment in loc:
        target = unwrap_annotation(current)
        origin = typing.get_origin(target)
        field = None
        if target is Any:
            return Any, None
        if isinstance(target, type) and issubclass(target, BaseModel) and isinstance(segment, str):
            field = _field(target, segment)
            if field is None:
                return _NOWHERE, None
            current = field.annotation
        elif origin is list and isinstance(segment, int):
            current = typing.get_args(target)[0]
        elif origin is dict and isinstance(segment, str):
            current = typing.get_args(target)[1]
        else:
            return _NOWHERE, None
    return current, field


def unwrap_annotation(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X; `X | None` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _field(model: type[BaseModel], name: str) -> FieldInfo | None:
    """The field a document writes as `name` (its API name: the alias when there is one)."""
    for field_name, info in model.model_fields.items():
        if (info.alias or field_name) == name:
            return info
    return None


def _is_read_only(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get(READ_ONLY) is True


def _literal_options(model: type[BaseModel], loc: Loc) -> list[str]:
    target = unwrap_annotation(_resolve(model, loc)[0])
    if typing.get_origin(target) is Literal:
        return [str(option) for option in typing.get_args(target)]
    return []


def _bounds(field: FieldInfo | None, context: Mapping[str, Any]) -> str:
    """`between 0 and 1`, `at least 0`, ... from the field's constraints (all of them, not only
    the one that failed), else from the error's context."""
    found: dict[str, Any] = {}
    for item in field.metadata if field is not None else ():
        for name in ("gt", "ge", "lt", "le"):
            bound = getattr(item, name, None)  # annotated_types.Ge(ge=0) and friends
            if isinstance(bound, int | float):
                found[name] = bound
    if not found:
        found = {k: v for k, v in context.items() if k in ("gt", "ge", "lt", "le")}
    if "ge" in found and "le" in found:
        return f"between {_number(found['ge'])} and {_number(found['le'])}"
    words = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}
    return " and ".join(f"{words[k]} {_number(v)}" for k, v in found.items())


def _is_e164(model: type[BaseModel], loc: Loc) -> bool:
    """Whether the field at `loc` holds a phone number in E.164 (an `E164Number`)."""
    _, field = _resolve(model, loc)
    return any(
        getattr(item, "func", None) is e164_validator
        for item in (field.metadata if field is not None else ())
    )


def _pattern(field: FieldInfo | None) -> str | None:
    """The regular expression a string field must match, if it has one."""
    for item in field.metadata if field is not None else ():
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            return pattern
    return None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    import difflib  # a typo's suggestion only: not paid by every valid run

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        # A case slip ("systemprompt") scores low on difflib's ratio, so try that too.
        close = [c for c in candidates if c.lower() == word.lower()][:1]
    return f'; did you mean "{close[0]}"?' if close else ""
