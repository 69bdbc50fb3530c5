"""Manifest files and their YAML documents, with the line of every key.

Owns which files are manifests (`collect_files`: `*.yaml`/`*.yml`, hidden folders and
`environments/` left out), reading their documents with PyYAML's safe loader while recording
the 1-based line of every key and list item (`Document`), and the YAML-level problems
(syntax, duplicate keys, a document that is not a mapping with a `kind`), all reported as
`Diagnostic`s. Knows nothing of resource kinds; must not import a provider, httpx or deepdiff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.domain import SourceRef
from reconciler.core.errors import Diagnostic, ManifestError

Loc = tuple[str | int, ...]
"""A path into one document: mapping keys and list indexes, as pydantic reports them."""

MANIFEST_SUFFIXES = (".yaml", ".yml")

ENVIRONMENTS_DIR = "environments"
"""The folder of environment files beside the manifests; its YAML files are not manifests."""


@dataclass(frozen=True)
class Document:
    """One YAML document that is a mapping with a `kind`.

    `positions` holds the 1-based line of every key and list item, by path (`()` is the
    document itself); `data` is the document as PyYAML's safe loader builds it.
    """

    source: SourceRef
    data: dict[str, Any]
    positions: Mapping[Loc, int]

    def line_of(self, loc: Sequence[str | int]) -> int:
        """The line of the deepest part of `loc` the document spells out."""
        for end in range(len(loc), 0, -1):
            line = self.positions.get(tuple(loc[:end]))
            if line is not None:
                return line
        return self.source.line


# --- files -------------------------------------------------------------------------------


def collect_files(paths: Sequence[str]) -> list[Path]:
    """The manifest files named by `paths`: files as given, directories searched recursively
    for `*.yaml`/`*.yml` (sorted). Raises `ManifestError` for every path that does not exist."""
    diagnostics: list[Diagnostic] = []
    files = gather_files(paths, diagnostics)
    if diagnostics:
        raise ManifestError(diagnostics)
    return files


def gather_files(given: Sequence[str], diagnostics: list[Diagnostic]) -> list[Path]:
    found: list[Path] = []
    for text in given:
        path = Path(text)
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in MANIFEST_SUFFIXES
                and p.is_file()
                # Hidden directories hold other tools' YAML (.github workflows, ...);
                # environments/ holds environment files, not manifests.
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and ENVIRONMENTS_DIR not in p.relative_to(path).parts[:-1]
            )
            if not inside:
                diagnostics.append(Diagnostic(text, 0, "no *.yaml or *.yml files in directory"))
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            diagnostics.append(Diagnostic(text, 0, "no such file or directory"))
    # A file named twice (itself and through its directory) is still read once.
    return list(dict.fromkeys(found))


# --- YAML --------------------------------------------------------------------------------


def load_documents(paths: Sequence[str]) -> list[Document]:
    """Every non-empty YAML document of every manifest file, in order.

    Raises one `ManifestError` for all problems: missing paths, unreadable files, YAML syntax
    errors (one per file: the parser cannot resume), duplicate keys, documents that are not a
    mapping or have no `kind`.
    """
    diagnostics: list[Diagnostic] = []
    documents = read_documents(gather_files(paths, diagnostics), diagnostics)
    if diagnostics:
        raise ManifestError(diagnostics)
    return documents


def load_yaml_file(path: Path) -> list[Document]:
    """The documents of one YAML file that is not a manifest (no `kind` required)."""
    diagnostics: list[Diagnostic] = []
    documents = _load_file(path, diagnostics, require_kind=False)
    if diagnostics:
        raise ManifestError(diagnostics)
    return documents


def read_documents(files: Sequence[Path], diagnostics: list[Diagnostic]) -> list[Document]:
    documents: list[Document] = []
    for path in files:
        documents.extend(_load_file(path, diagnostics))
    return documents


def _load_file(
    path: Path, diagnostics: list[Diagnostic], *, require_kind: bool = True
) -> list[Document]:
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        diagnostics.append(Diagnostic(file, 0, f"cannot read: {exc.strerror or exc}"))
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        diagnostics.append(Diagnostic(file, line, "not UTF-8 text"))
        return []

    documents: list[Document] = []
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            positions: dict[Loc, int] = {}
            # Walk before constructing: construction flattens `<<` merges into the node, which
            # would make merged keys look like duplicates.
            _walk(node, (), positions, file, diagnostics, set())
            data = loader.construct_document(node)
            if data is None:
                continue  # an empty document (a stray `---`)
            source = SourceRef(file, node.start_mark.line + 1)
            if not require_kind:
                documents.append(Document(source, data, positions))
            elif not isinstance(data, dict):
                diagnostics.append(
                    Diagnostic(
                        file,
                        source.line,
                        'a manifest document must be a mapping with "kind" and "name", '
                        f"got {show_value(data)}",
                    )
                )
            elif "kind" not in data:
                diagnostics.append(Diagnostic(file, source.line, 'document has no "kind"'))
            else:
                documents.append(Document(source, data, positions))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        detail = ""
        if exc.context:
            # "while scanning a quoted scalar": where that began is often the line to fix.
            started = exc.context_mark
            at = ""
            if started is not None and started.line + 1 != line:
                at = f" started at line {started.line + 1}"
            detail = f" ({exc.context}{at})"
        diagnostics.append(Diagnostic(file, line, f"YAML syntax error: {exc.problem}{detail}"))
    except yaml.YAMLError as exc:
        diagnostics.append(Diagnostic(file, 0, f"YAML error: {exc}"))
    finally:
        loader.dispose()
    return documents


def _walk(
    node: yaml.Node,
    loc: Loc,
    positions: dict[Loc, int],
    file: str,
    diagnostics: list[Diagnostic],
    ancestors: set[int],
) -> None:
    """Record the line of every key and item below `node`; report duplicate keys."""
    positions.setdefault(loc, node.start_mark.line + 1)
    if id(node) in ancestors:
        return  # a recursive alias (`&a [*a]`): its lines are already recorded
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                diagnostics.append(
                    Diagnostic(file, line, f'duplicate key "{key}" (first at line {seen[key]})')
                )
            seen[key] = line
            # The last occurrence wins in the data, so it wins here too.
            positions[(*loc, key)] = line
            _walk(value_node, (*loc, key), positions, file, diagnostics, ancestors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), positions, file, diagnostics, ancestors)


def show_value(value: Any) -> str:
    """A short, unambiguous rendering of a YAML value for a message."""
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)
