"""Export: the live account as manifest files, so an existing account can be adopted into git.

Owns, purely (no network, clock or environment; `render_export`): turning live resources into
manifest documents through each kind's `ResourceType.export`, the file layout
(`agents/<name>.yaml`, `campaigns/<name>.yaml`, `<kind>s/<name>.yaml`), a stable key order
(kind, name, then the manifest model's field order; free-form maps sorted), YAML text with
multi-line strings as literal blocks, `$${` for a literal `${`, secrets as `${VARIABLE}`
references, and each file's header (schema modeline, where it came from, what was left out).

And, with I/O (`export_account`): reading the account through `reconciler.runtime.engine`,
writing the files (never over a non-empty file unless forced), and checking that a plan of
what it wrote is empty. Must not import httpx, deepdiff or click, and never prints: the CLI reports.
"""

from __future__ import annotations

import os
import re
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Union

import yaml
from pydantic import BaseModel

from reconciler.core.domain import JSON, Action, Change, LiveResource, ResourceKey
from reconciler.core.errors import ConfigError, ReconcilerError
from reconciler.core.ownership import KIND as OWNERSHIP
from reconciler.core.planning import PlanOptions, build_plan
from reconciler.core.wording import agree
from reconciler.manifests.fields import NAME_PATTERN
from reconciler.manifests.jsonschema import SCHEMA_FILE, schema_text
from reconciler.manifests.loader import load_manifests, unwrap_annotation
from reconciler.providers import registry
from reconciler.providers.base import NotExported, Provider, ResourceType
from reconciler.runtime import engine

"""Where each kind's files go; any other kind goes to `<kind lowercased>s/`."""

MODELINE = "# yaml-language-server: $schema="
_SECRET = "$secret"
_WIDTH = 96  # header comment lines, so a file stays within 100 columns


# --- pure: live resources -> files ----------------------------------------------------------


@dataclass(frozen=True)
class ExportedFile:
    path: str
    """Relative to the export directory, `/`-separated (`agents/support.yaml`)."""
    key: ResourceKey
    provider: str
    text: str
    variables: tuple[str, ...] = ()
    """Environment variables its secret references name."""
    attachments: tuple[tuple[str, str], ...] = ()
    """(path, text) of files written beside it, relative to the export directory (a
    BatchCall's recipients file, the only place its phone numbers are written)."""


@dataclass(frozen=True)
class Export:
    files: tuple[ExportedFile, ...] = ()
    """Sorted by path."""
    warnings: tuple[str, ...] = ()

    def texts(self) -> dict[str, str]:
        return {f.path: f.text for f in self.files}

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(sorted({v for f in self.files for v in f.variables}))


def exports(rt: ResourceType) -> bool:
    """Whether a kind is exported at all (its type overrides `ResourceType.export`)."""
    return type(rt).export is not ResourceType.export


def directory(rt: ResourceType) -> str:
    return rt.export_directory


def file_stem(name: str) -> str:
    """A file name for a resource name; manifest names already fit, others are made to."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"


def render_export(
    live: Sequence[LiveResource],
    kinds: Mapping[str, ResourceType],
    *,
    base_urls: Mapping[str, str],
    schema: str = SCHEMA_FILE,
) -> Export:
    """The manifest files that reproduce `live`.

    `kinds` maps a kind to its type (`registry.kinds()`); `base_urls` maps a provider's name
    to the URL it was read from (for the header; never a key); `schema` is where the schema
    file is, relative to the export directory, for each file's modeline.
    """
    files: list[ExportedFile] = []
    warnings: list[str] = []
    taken: dict[str, ResourceKey] = {}
    seen: set[ResourceKey] = set()
    for resource in sorted(live, key=lambda r: (r.key, r.id)):
        rt = kinds.get(resource.key.kind)
        try:
            document = rt.export(resource, live) if rt is not None else None
        except NotExported as reason:
            warnings.append(f"{resource.key} (id {resource.id}) was not exported: {reason}")
            continue
        if rt is None or document is None:
            continue
        if not re.fullmatch(NAME_PATTERN, resource.key.name):
            warnings.append(
                f"{resource.key} (id {resource.id}): the name is not a valid manifest name "
                "(1 to 64 letters, digits, _ and -); rename it in the console, or fix the file"
            )
        if resource.key in seen:
            warnings.append(
                f"{resource.key} (id {resource.id}): another live object has the same name; "
                "a plan refuses two objects of one name: rename or delete one in the console"
            )
        seen.add(resource.key)
        path = f"{directory(rt)}/{file_stem(resource.key.name)}.yaml"
        # Compared without case: on macOS and Windows `Support.yaml` is `support.yaml`.
        other = taken.get(path.lower())
        if other is not None:
            if other != resource.key:
                warnings.append(
                    f"{resource.key} (id {resource.id}): its file name is taken by {other}"
                )
            stem, count = path.removesuffix(".yaml"), 2
            while f"{stem}-{count}.yaml".lower() in taken:
                count += 1
            path = f"{stem}-{count}.yaml"
        taken[path.lower()] = resource.key
        variables: list[str] = []
        body = order_document(rt, _as_manifest_text(document, variables))
        header = file_header(
            rt, resource, base_urls.get(resource.provider, ""), schema, sorted(set(variables))
        )
        files.append(
            ExportedFile(
                path=path,
                key=resource.key,
                provider=resource.provider,
                text=header + dump_yaml(body),
                variables=tuple(sorted(set(variables))),
                attachments=tuple(
                    (f"{directory(rt)}/{name}", text)
                    for name, text in sorted(rt.export_attachments(resource).items())
                ),
            )
        )
    return Export(tuple(sorted(files, key=lambda f: f.path)), tuple(warnings))


OWNERSHIP_FILE = "ownership.yaml"
"""The file `export` writes the directory's `kind: Ownership` document to."""


def render_ownership(
    result: Export, owner: str, *, base_urls: Mapping[str, str] | None = None
) -> ExportedFile | None:
    """The `kind: Ownership` document that claims exactly what `result` exported (each name
    as its own pattern), so `plan --prune` of the directory touches nothing else; None when
    nothing was exported."""
    claims: dict[str, list[str]] = {}
    for item in sorted(result.files, key=lambda f: f.key):
        claims.setdefault(item.key.kind, []).append(item.key.name)
    if not claims:
        return None
    name = re.sub(r"[^A-Za-z0-9_-]", "_", owner)[:64] or "exported"
    where = ", ".join(sorted(set((base_urls or {}).values()))) or "the API"
    notes = [
        f"Exported by `reconciler export` from {where}: what this directory owns.",
        "`reconciler plan --prune` deletes a live object absent from these manifests only "
        "when a claim below matches its kind and name; everything else in the account is "
        "left alone. Claims are shell-style patterns: widen one (acme_*) to own names to come.",
    ]
    lines = [line for note in notes for line in textwrap.wrap(note, _WIDTH)]
    header = "".join(f"# {line}\n" for line in lines)
    document = {"kind": OWNERSHIP, "name": name, "claims": claims}
    return ExportedFile(
        path=OWNERSHIP_FILE,
        key=ResourceKey(OWNERSHIP, name),
        provider="",
        text=header + dump_yaml(document),
    )


def _as_manifest_text(value: JSON, variables: list[str]) -> JSON:
    """Values as a manifest spells them: `{"$secret": NAME}` -> `${NAME}`; a literal `${` in a
    live string -> `$${`, so interpolation gives the live string back."""
    if isinstance(value, dict):
        if set(value) == {_SECRET} and isinstance(value[_SECRET], str):
            variables.append(value[_SECRET])
            return "${" + value[_SECRET] + "}"
        return {k: _as_manifest_text(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_manifest_text(v, variables) for v in value]
    if isinstance(value, str):
        return value.replace("${", "$${")
    return value


def order_document(rt: ResourceType, document: Mapping[str, JSON]) -> dict[str, JSON]:
    """`kind` and `name` first, then every object's keys in its model's field order (the
    schema's order); maps without a model (metadata, templateContext) sorted by key."""
    ordered = _ordered(rt.manifest_model, dict(document))
    assert isinstance(ordered, dict)
    first = {k: ordered[k] for k in ("kind", "name") if k in ordered}
    return {**first, **{k: v for k, v in ordered.items() if k not in first}}


def _ordered(annotation: Any, value: JSON) -> JSON:
    target = unwrap_annotation(annotation)
    if isinstance(value, dict):
        model = _model_for(target, value)
        if model is None:
            inner = typing.get_args(target)[1] if typing.get_origin(target) is dict else Any
            return {k: _ordered(inner, value[k]) for k in sorted(value)}
        fields = {
            (info.alias or name): info.annotation for name, info in model.model_fields.items()
        }
        keys = [k for k in fields if k in value] + sorted(k for k in value if k not in fields)
        return {k: _ordered(fields.get(k, Any), value[k]) for k in keys}
    if isinstance(value, list):
        inner = typing.get_args(target)[0] if typing.get_origin(target) is list else Any
        return [_ordered(inner, item) for item in value]
    return value


def _model_for(target: Any, value: Mapping[str, JSON]) -> type[BaseModel] | None:
    """The model an object is an instance of: the target itself, or the union member whose
    fields hold all of the object's keys (else the first model member)."""
    origin = typing.get_origin(target)
    members = typing.get_args(target) if origin is Union or origin is types.UnionType else ()
    candidates = [
        m
        for m in (members or (target,))
        if isinstance(unwrap_annotation(m), type) and issubclass(unwrap_annotation(m), BaseModel)
    ]
    models: list[type[BaseModel]] = [unwrap_annotation(m) for m in candidates]
    for model in models:
        names = {info.alias or name for name, info in model.model_fields.items()}
        if set(value) <= names:
            return model
    return models[0] if models else None


class _Dumper(yaml.SafeDumper):
    """Block style throughout, list items indented under their key (as the examples are)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # A prompt reads best as a literal block; PyYAML falls back to quotes by itself when a
    # block cannot hold the string exactly (trailing spaces on a line, say).
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(document: Mapping[str, JSON]) -> str:
    """One document as YAML: keys in the given order, no line folding, unicode as is."""
    return yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 20,  # never fold a long line: a diff of the file shows what changed
    )


def file_header(
    rt: ResourceType,
    resource: LiveResource,
    base_url: str,
    schema: str,
    variables: Sequence[str] = (),
) -> str:
    """The comment lines every exported file starts with."""
    table = rt.table
    # Every file is one folder below the export directory.
    modeline = str(PurePosixPath("..") / schema)
    notes = [
        f"Exported by `reconciler export` from {base_url or 'the API'}: "
        f"{rt.kind} {resource.key.name!r} as the live account held it.",
        "Fields at their defaults are left out: a field left out means the API's default.",
    ]
    computed = [p for p in table.server_computed if p not in table.sensitive]
    if computed:
        notes.append(
            f"Left to the server, which computes them: {', '.join(computed)}. A plan accepts "
            "what the server holds while this file leaves them out; set one to manage it."
        )
    secret_computed = [p for p in table.server_computed if p in table.sensitive]
    if secret_computed:
        notes.append(
            f"Not exported, being secret: {', '.join(secret_computed)}. A plan accepts the "
            "value the server holds (one it chose, when none was set) while this file leaves "
            "it out. To manage it, set it to ${VARIABLE} here and VARIABLE in the environment."
        )
    if table.write_only:
        notes.append(
            f"Not exported, being write-only (the API never returns them): "
            f"{', '.join(table.write_only)}."
        )
    if variables:
        notes.append(
            "Secrets are not exported: set these environment variables to their values before "
            f"`reconciler plan`: {', '.join(variables)}."
        )
    lines = [MODELINE + modeline]
    for note in notes:
        lines += textwrap.wrap(note, _WIDTH, break_on_hyphens=False, break_long_words=False)
    return "".join(f"# {line}\n" if i else f"{line}\n" for i, line in enumerate(lines))


# --- I/O: read the account, write the files, check the round trip ---------------------------


@dataclass(frozen=True)
class ExportReport:
    out_dir: Path
    written: tuple[str, ...]
    """Relative paths of the manifest files written, sorted."""
    counts: Mapping[str, int]
    """Files per kind."""
    base_urls: Mapping[str, str]
    schema_written: str | None = None
    """The schema file written beside the manifests (relative path), when none was found."""
    ownership_written: str | None = None
    """The `kind: Ownership` document written (relative path), claiming what was exported."""
    variables: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def find_schema(out_dir: Path) -> str | None:
    """`reconciler.schema.json` in `out_dir` or above it (up to the repository root holding
    `.git`), as a path relative to `out_dir`; None when there is none."""
    start = out_dir.resolve()
    for folder in (start, *start.parents):
        candidate = folder / SCHEMA_FILE
        if candidate.is_file():
            return Path(os.path.relpath(candidate, start)).as_posix()
        if (folder / ".git").exists():
            return None
    return None


def _occupied(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return True


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from exc


async def export_account(
    session: engine.Session, out_dir: Path, *, force: bool = False
) -> ExportReport:
    """Read every kind that exports, write its files under `out_dir`, check the round trip.

    Refuses (ConfigError, nothing written) when a file it would write exists and is not empty,
    unless `force`. Files already in `out_dir` that this export did not write are left alone
    and named in the warnings.
    """
    kinds = registry.kinds()
    wanted = {rt.kind for rt in kinds.values() if exports(rt)}
    providers = _configured(session, engine.providers_for(wanted))
    live = await engine.read_live(session, providers, [], wanted)
    live = await _complete_for_export(session, live, wanted)
    base_urls = {name: e.get("baseUrl", "") for name, e in session.endpoints().items()}
    schema = find_schema(out_dir)
    result = render_export(
        live, kinds, base_urls=base_urls, schema=schema if schema is not None else SCHEMA_FILE
    )
    ownership = render_ownership(result, out_dir.resolve().name, base_urls=base_urls)
    extra = [ownership] if ownership is not None else []
    existing = [f.path for f in (*result.files, *extra) if _occupied(out_dir / f.path)]
    if existing and not force:
        shown = ", ".join(str(out_dir / p) for p in existing[:5])
        more = _more(existing)
        raise ConfigError(
            f"{shown}{more} already {agree(len(existing), 'exists', 'exist')}; nothing was "
            "written. Pass --force to overwrite, or choose another --out directory."
        )
    attached = [a for f in result.files for a in f.attachments]
    taken = [path for path, _ in attached if _occupied(out_dir / path)]
    if taken and not force:
        raise ConfigError(
            f"{', '.join(str(out_dir / p) for p in taken[:5])}{_more(taken)} already "
            f"{agree(len(taken), 'exists', 'exist')}; nothing was "
            "written. Pass --force to overwrite, or choose another --out directory."
        )
    if schema is None:
        _write(out_dir / SCHEMA_FILE, schema_text(registry.kinds().values()))
    for path, text in attached:
        _write(out_dir / path, text)
    for item in (*result.files, *extra):
        _write(out_dir / item.path, item.text)
    written = {item.path for item in result.files}
    warnings = [*result.warnings, *_strays(out_dir, written, {directory(kinds[k]) for k in wanted})]
    warnings += _round_trip(
        [out_dir / item.path for item in (*result.files, *extra)],
        live,
        kinds,
        session.environ,
        result,
    )
    counts: dict[str, int] = {}
    for item in result.files:
        counts[item.key.kind] = counts.get(item.key.kind, 0) + 1
    return ExportReport(
        out_dir=out_dir,
        written=tuple(sorted(written)),
        counts=dict(sorted(counts.items())),
        base_urls=base_urls,
        schema_written=SCHEMA_FILE if schema is None else None,
        ownership_written=ownership.path if ownership is not None else None,
        variables=result.variables,
        warnings=tuple(warnings),
    )


def _more(paths: Sequence[str]) -> str:
    """` and 3 more` after the first five of `paths` shown, or nothing."""
    return f" and {len(paths) - 5} more" if len(paths) > 5 else ""


def _configured(session: engine.Session, providers: Sequence[Provider]) -> list[Provider]:
    """The providers to read: a provider none of whose variables is set (no API key, no
    base URL) nor any environment file names was never configured, and is not read, so an
    account of one vendor exports without settings for the others. A configured provider is
    read (a missing key is then the usual error); with none configured at all, every one is
    kept, so reading says which key is missing."""

    def configured(provider: Provider) -> bool:
        settings = session.settings(provider)
        names = (settings.api_key_env, settings.base_url_env)
        return provider.name in session.overrides or any(n in session.environ for n in names)

    return [p for p in providers if configured(p)] or list(providers)


async def _complete_for_export(
    session: engine.Session, live: list[LiveResource], kinds: set[str]
) -> list[LiveResource]:
    """`live` with what each kind's export needs beyond what `read` gives without manifests
    (`ResourceType.complete_for_export`: a BatchCall's recipients)."""
    groups: dict[tuple[str, str], list[LiveResource]] = {}
    for item in live:
        groups.setdefault((item.provider, item.key.kind), []).append(item)
    providers = {p.name: p for p in engine.providers_for(kinds)}
    completed: list[LiveResource] = []
    for (name, kind), items in groups.items():
        provider = providers.get(name)
        rt = (
            next((t for t in provider.resource_types if t.kind == kind), None) if provider else None
        )
        if provider is None or rt is None:
            completed += items
        else:
            completed += await rt.complete_for_export(await session.api(provider), items)
    return completed


def _strays(out_dir: Path, written: set[str], folders: set[str]) -> list[str]:
    """Manifest files in the kinds' folders that this export did not write (deleted since?)."""
    strays = sorted(
        p.relative_to(out_dir).as_posix()
        for folder in folders
        if (out_dir / folder).is_dir()
        for p in (out_dir / folder).glob("*.y*ml")
        if p.relative_to(out_dir).as_posix() not in written
    )
    return [
        f"{out_dir / p} is not from this export (no such live resource); delete it if the "
        "resource is gone, or a plan of the directory will create it again"
        for p in strays
    ]


def _round_trip(
    files: Sequence[Path],
    live: Sequence[LiveResource],
    kinds: Mapping[str, ResourceType],
    environ: Mapping[str, str],
    result: Export,
) -> list[str]:
    """What a plan of the written files would still change, with `--prune` under the
    Ownership written beside them: it should be nothing.

    Secret references are planned with placeholder values, and differences only in secret
    fields are not reported (the values are the user's to set, as the header says).
    """
    if not files:
        return []
    values = {**environ, **{v: "(placeholder)" for v in result.variables if not environ.get(v)}}
    try:
        loaded = load_manifests([str(f) for f in files], kinds, values)
        options = PlanOptions(prune=loaded.ownership is not None, ownership=loaded.ownership)
        plan = build_plan(registry.resource_types(), loaded.desired, live, options)
    except ReconcilerError as error:
        # str(), not render(): "nothing was sent" would be noise here, nothing was to be sent.
        return [
            "a plan of the exported files would fail; fix the files (or the account) first:\n"
            + textwrap.indent(str(error), "  ")
        ]
    return [*(_unreproduced(c) for c in plan.changes if not _secrets_only(c)), *plan.warnings]


def _secrets_only(change: Change) -> bool:
    return (
        change.action is Action.UPDATE
        and bool(change.fields)
        and all(f.sensitive for f in change.fields)
        and all(r.method == "PATCH" for r in change.requests)
    )


def _unreproduced(change: Change) -> str:
    what = ", ".join(f.path for f in change.fields) or "; ".join(change.notes) or "its requests"
    return (
        f"{change.key}: the exported file does not reproduce the live object exactly; a plan "
        f"would {change.action.value} it ({what}). Compare the file with the console."
    )
