"""Manifest files and their YAML documents, with the line of every key.

Owns which files are manifests (`collect_files`: `*.yaml`/`*.yml`, hidden folders and
`environments/` left out), reading their documents with PyYAML's safe loader while recording
the 1-based line of every key and list item (`Document`; plain manifests are built straight
from libyaml's events, `_from_events`, with the same result), and the YAML-level problems
(syntax, duplicate keys, a document that is not a mapping with a `kind`), all reported as
`Diagnostic`s. Knows nothing of resource kinds; must not import a provider, httpx or deepdiff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.domain import SourceRef
from reconciler.core.errors import Diagnostic, ManifestError
from reconciler.core.limits import DEFAULTS, Limits

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
    plain: bool = False
    """True when no string of `data` can hold a `$` (its file's text has none, nor an escape
    that makes one): interpolation then has nothing to substitute, only secrets to check."""

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


def gather_files(
    given: Sequence[str], diagnostics: list[Diagnostic], *, allow_outside: bool = False
) -> list[Path]:
    """The manifest files of `given` (see `collect_files`); a file found in a directory that is
    a symlink to somewhere outside that directory is reported, not read (unless
    `allow_outside`)."""
    found: list[Path] = []
    for text in given:
        path = Path(text)
        try:
            is_dir, exists = path.is_dir(), path.exists()
        except (OSError, ValueError) as exc:
            diagnostics.append(Diagnostic(text, 0, f"cannot read: {exc}"))
            continue
        if is_dir:
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
            if not allow_outside:
                root = path.resolve()
                escaping = [p for p in inside if not p.resolve().is_relative_to(root)]
                diagnostics.extend(
                    Diagnostic(
                        str(p),
                        0,
                        f"a symlink out of the manifest directory {text}; not read (the "
                        "command-line flag --allow-outside-files permits it)",
                    )
                    for p in escaping
                )
                inside = [p for p in inside if p not in escaping]
            found.extend(inside)
        elif exists:
            found.append(path)
        else:
            diagnostics.append(Diagnostic(text, 0, "no such file or directory"))
    # A file named twice (itself and through its directory) is still read once.
    return list(dict.fromkeys(found))


# --- YAML --------------------------------------------------------------------------------


def load_documents(paths: Sequence[str], limits: Limits = DEFAULTS) -> list[Document]:
    """Every non-empty YAML document of every manifest file, in order.

    Raises one `ManifestError` for all problems: missing paths, unreadable files, YAML syntax
    errors (one per file: the parser cannot resume), duplicate keys, documents that are not a
    mapping or have no `kind`, and files beyond the bounds of `limits`.
    """
    diagnostics: list[Diagnostic] = []
    documents = read_documents(gather_files(paths, diagnostics), diagnostics, limits)
    if diagnostics:
        raise ManifestError(diagnostics)
    return documents


def load_yaml_file(path: Path, limits: Limits = DEFAULTS) -> list[Document]:
    """The documents of one YAML file that is not a manifest (no `kind` required)."""
    diagnostics: list[Diagnostic] = []
    documents = _load_file(path, diagnostics, limits, require_kind=False)
    if diagnostics:
        raise ManifestError(diagnostics)
    return documents


def read_documents(
    files: Sequence[Path], diagnostics: list[Diagnostic], limits: Limits = DEFAULTS
) -> list[Document]:
    documents: list[Document] = []
    for path in files:
        documents.extend(_load_file(path, diagnostics, limits))
    return documents


def read_bounded(path: Path, limits: Limits = DEFAULTS) -> bytes:
    """A file's bytes, refused (`OSError`) beyond `limits.max_file_bytes`; never reads more."""
    with path.open("rb") as handle:
        raw = handle.read(limits.max_file_bytes + 1)
    if len(raw) > limits.max_file_bytes:
        raise FileTooLarge(limits.max_file_bytes)
    return raw


class FileTooLarge(OSError):
    """A file over the size bound; its message names the bound and how to raise it."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"larger than {limit:,} bytes (the limit; raise it with {Limits.ENV['max_file_bytes']})"
        )
        self.strerror = str(self)


class _Refused(Exception):
    """A document beyond a bound, or one that cannot be represented (a recursive alias)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting bound: its composer recurses once per level, so a
    deeply nested document would otherwise end in a `RecursionError`."""

    def __init__(self, text: str, max_depth: int) -> None:
        super().__init__(text)
        self._depth = 0
        self._max_depth = max_depth

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(
                    mark.line + 1,
                    f"nested deeper than {self._max_depth} levels (the limit; raise it with "
                    f"{Limits.ENV['max_depth']})",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_FAST = getattr(yaml, "CSafeLoader", None)
"""libyaml's parser and composer, when PyYAML was built with it: about 10x faster than the
pure-Python scanner, with the same nodes and marks (issue 14's profile: 90% of `validate`)."""


def _loader(text: str, max_depth: int) -> yaml.SafeLoader | Any:
    """libyaml's loader when it can take the text unchanged, else the pure-Python one.

    libyaml's composer recurses in C without a bound, so a first pass over the events (cheap:
    no nodes are built) checks the nesting depth. A text it cannot parse, or one nested too
    deep, goes to the pure loader, whose messages and partial results are what users see
    (libyaml words its syntax errors differently).
    """
    if _FAST is None:
        return _BoundedLoader(text, max_depth)
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_FAST):
            if isinstance(event, yaml.NodeEvent):
                if depth + 1 > max_depth:
                    return _BoundedLoader(text, max_depth)
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return _BoundedLoader(text, max_depth)
    return _FAST(text)


_STR = "tag:yaml.org,2002:str"
_SCALARS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")
)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class _Unusual(Exception):
    """The text needs the full loader: an anchor, an alias, a tag, a merge key, a key that is
    not a scalar, a value the constructors refuse, nesting beyond the bound, a syntax error."""


_Parsed = tuple[Any, dict[Loc, int], int, list[tuple[int, str]]]
"""One document from `_from_events`: its data, the line of every key and item, its line, and
its duplicate keys (line, message) in the order `_walk` finds them."""


_LIFTED = "@@reconciler-literal-"
"""What a lifted literal block's first line holds (`_lift_literals`); a text holding it is
never lifted."""
_HEADER_END = ": |\n"
_BLOCK_ENDS: dict[int, re.Pattern[str]] = {}
_LEFT_TO_LIBYAML = ("\x85", "\u2028", "\u2029", "\ufeff")
"""Characters libyaml reads as line breaks, or refuses inside a text (a byte-order mark)."""


def _lift_literals(text: str) -> tuple[str, dict[str, str]] | None:
    """`text` with the content of each plain literal block (`key: |`, then lines indented
    more than the key, none blank) replaced by as many short lines, and the value each block
    has, by the value of its short lines; None when there is none.

    libyaml reads a block character by character (issue 14's profile: most of the time it
    took to read 1,000 agents' prompts); the short lines keep every line where it was. A block
    this does not know exactly how libyaml reads (a blank line in it, a tab, a character
    libyaml refuses or reads as a line break, the end of the text) is left as it is; and
    `_from_events` gives up (the text is read whole) unless every short block comes back as
    a literal scalar, whole, and nothing else holds one.
    """
    if "\r" in text or _LIFTED in text:
        return None
    pieces: list[str] = []
    values: dict[str, str] = {}
    last = position = 0
    while (header := text.find(_HEADER_END, position)) >= 0:
        position = start = header + len(_HEADER_END)
        line_start = text.rfind("\n", 0, header) + 1
        key = text[line_start:header]
        name = key.lstrip(" ")
        if not name.isidentifier() or not name.isascii():
            continue
        n = 0
        while start + n < len(text) and text[start + n] == " ":
            n += 1
        if n <= len(key) - len(name) or text.startswith(("\n", "\t"), start + n):
            continue
        indent = " " * n
        ends = _BLOCK_ENDS.get(n)
        if ends is None:
            # The first line break before a line indented less, or one of spaces only.
            ends = _BLOCK_ENDS[n] = re.compile(rf"\n(?: {{{n}}} *\n|(?! {{{n}}}))")
        found = ends.search(text, start)
        if found is None or found.end() > found.start() + 1:
            continue  # the end of the text, or a blank line in it: left to libyaml
        end = found.end()
        block = text[start:end]
        # After it, blank lines then more of it would belong to it: left to libyaml.
        following = end
        while text.startswith(("\n", " "), following):
            next_line = text.find("\n", following)
            if next_line < 0 or text[following:next_line].strip(" "):
                break
            following = next_line + 1
        if text.startswith(indent, following) or "\t" in block:
            continue
        value = block[n:].replace("\n" + indent, "\n")
        printable = value.isascii() and not value.encode().translate(None, _PRINTABLE_ASCII)
        if not printable and (
            _UNPRINTABLE.search(value) or any(c in value for c in _LEFT_TO_LIBYAML)
        ):
            continue  # libyaml refuses it, or reads a line break in it
        lines = block.count("\n")
        mark = f"{_LIFTED}{len(values)}"
        pieces += (text[last:start], indent, mark, "\n", (indent + "x\n") * (lines - 1))
        values[mark + "\nx" * (lines - 1) + "\n"] = value
        last = position = end
    if not values:
        return None
    pieces.append(text[last:])
    return "".join(pieces), values


def _from_events(text: str, max_depth: int) -> list[_Parsed] | None:
    """The documents of `text` (see `_read_events`), its literal blocks lifted out while
    libyaml reads it (`_lift_literals`); None when the text needs the full loader."""
    lifted = _lift_literals(text)
    if lifted is not None:
        found = _read_events(*lifted, max_depth)
        if found is not None:
            return found
    return _read_events(text, {}, max_depth)


def _read_events(text: str, lifted: dict[str, str], max_depth: int) -> list[_Parsed] | None:
    """The documents of `text` built straight from libyaml's events, or None when the text
    needs the full loader (`_Unusual`).

    For plain manifests (mappings, lists and untagged scalars) this gives exactly what the
    loader and `_walk` give, in one pass: no node tree, no depth pre-pass, no second parse
    (issue 14's profile: they were half of `validate`'s time on 1,000 agents). The nesting is
    counted as it is read, so the bound holds without recursion. Scalars are resolved and
    constructed by PyYAML's own resolver and safe constructors.
    """
    assert _FAST is not None
    parser = _FAST(text)
    parsed: list[_Parsed] = []
    resolved: dict[str, str] = {}
    # Per open collection: [container, loc, key (None: a key comes next), the key's loc, seen
    # keys]. The key's loc is recorded with the key's line (the last of a duplicate wins), so
    # its value, placed at that loc, needs no entry of its own.
    stack: list[list[Any]] = []
    positions: dict[Loc, int] = {}
    duplicates: list[tuple[int, str]] = []
    root: Any = None
    root_line = 0
    # Names bound once: the loop runs once per event (tens of thousands for 1,000 agents).
    scalar_event, mapping_start, sequence_start = (
        yaml.ScalarEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
    )
    collection_ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    text_tag, scalar_tags, constructors = _STR, _SCALARS, _CONSTRUCTOR.yaml_constructors
    get_event = parser.get_event

    def place(value: Any, line: int) -> Loc:
        """Put `value` where the open collection expects it (a list item, a mapping value, or
        the document itself); its loc."""
        nonlocal root, root_line
        if not stack:
            root, root_line = value, line
            positions.setdefault((), line)
            return ()
        top = stack[-1]
        container = top[0]
        if type(container) is list:
            loc = (*top[1], len(container))
            positions.setdefault(loc, line)
            container.append(value)
            return loc
        if top[2] is None:
            raise _Unusual  # a key that is a collection
        container[top[2].value] = value
        top[2] = None
        key_loc: Loc = top[3]
        return key_loc

    try:
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                if event.anchor is not None or event.tag is not None or len(stack) >= max_depth:
                    raise _Unusual
                raw = event.value
                if lifted and _LIFTED in raw:
                    # A lifted block, whole and literal; anything else is not one.
                    if event.style != "|" or raw not in lifted:
                        raise _Unusual
                    raw = lifted.pop(raw)
                # Only a plain scalar is resolved by its text: "30" is a string, 30 an int.
                tag = resolved.get(raw) if event.implicit[0] else text_tag
                if tag is None:
                    tag = _RESOLVER.resolve(yaml.ScalarNode, raw, event.implicit)  # type: ignore[no-untyped-call]
                    resolved[raw] = tag
                if tag == text_tag:
                    value: Any = raw
                elif tag in scalar_tags:
                    node = yaml.ScalarNode(tag, raw, event.start_mark, event.end_mark)
                    value = constructors[tag](_CONSTRUCTOR, node)
                else:
                    raise _Unusual  # `<<` (a merge), `=`
                line = event.start_mark.line + 1
                top = stack[-1] if stack else None
                if top is not None and top[2] is None and type(top[0]) is dict:
                    seen = top[4]
                    if raw in seen:
                        duplicates.append(
                            (line, f'duplicate key "{raw}" (first at line {seen[raw]})')
                        )
                    seen[raw] = line
                    loc = (*top[1], raw)
                    positions[loc] = line
                    top[2], top[3] = _Key(value), loc
                elif top is not None and top[2] is not None:
                    # A mapping's scalar value (the commonest event): placed inline.
                    top[0][top[2].value] = value
                    top[2] = None
                else:
                    place(value, line)
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None or len(stack) >= max_depth:
                    raise _Unusual
                container: Any = {} if kind is mapping_start else []
                loc = place(container, event.start_mark.line + 1)
                stack.append([container, loc, None, None, {}])
            elif kind in collection_ends:
                stack.pop()
            elif kind is yaml.DocumentStartEvent:
                positions, duplicates, root, root_line = {}, [], None, 0
            elif kind is yaml.DocumentEndEvent:
                parsed.append((root, positions, root_line, duplicates))
            elif kind is yaml.StreamEndEvent:
                return None if lifted else parsed
            elif kind is not yaml.StreamStartEvent:
                raise _Unusual  # an alias
    except (_Unusual, yaml.YAMLError, ValueError, TypeError, OverflowError):
        return None
    finally:
        parser.dispose()


class _Key:
    """A mapping key read, its value still to come (a key may itself be None: `~: x`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _load_file(
    path: Path,
    diagnostics: list[Diagnostic],
    limits: Limits = DEFAULTS,
    *,
    require_kind: bool = True,
) -> list[Document]:
    file = str(path)
    try:
        raw = read_bounded(path, limits)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        diagnostics.append(Diagnostic(file, 0, f"cannot read: {reason}"))
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        diagnostics.append(Diagnostic(file, line, "not UTF-8 text"))
        return []
    documents: list[Document] = []
    # A `$` in a value is in the text, or comes from a double-quoted scalar's escape (looked
    # for only in a text with a backslash: one `in` of a character is much the cheaper).
    plain = "$" not in text and (
        "\\" not in text or not any(escape in text for escape in _DOLLAR_ESCAPES)
    )
    # libyaml refuses every character `_UNPRINTABLE` matches (the same rule, checked by its
    # reader), so a text it read has none; only one it could not read is searched for them.
    fast = _from_events(text, limits.max_depth) if _FAST is not None else None
    if fast is not None:
        for value, lines, line, duplicates in fast:
            diagnostics.extend(Diagnostic(file, at, message) for at, message in duplicates)
            if value is not None:  # None: an empty document (a stray `---`)
                source = SourceRef(file, line, lines)
                _accept(documents, diagnostics, source, value, lines, require_kind, plain)
        return documents
    # Most manifests are printable ASCII, which one C pass over the bytes shows (the regex
    # took a fifth of reading 5.6 MB); anything else is searched for the first offender.
    printable = raw.isascii() and not raw.translate(None, _PRINTABLE_ASCII)
    unprintable = None if printable else _UNPRINTABLE.search(text)
    if unprintable is not None:
        line = text.count("\n", 0, unprintable.start()) + 1
        code = ord(unprintable.group(0))
        diagnostics.append(
            Diagnostic(file, line, f"control character U+{code:04X} is not allowed in YAML")
        )
        return []
    loader = _loader(text, limits.max_depth)
    budget = _AliasBudget(limits.max_yaml_alias_nodes)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            positions: dict[Loc, int] = {}
            budget.seen.clear()
            # Walk before constructing: construction flattens `<<` merges into the node, which
            # would make merged keys look like duplicates.
            try:
                _walk(node, (), positions, file, diagnostics, set(), budget)
                data = loader.construct_document(node)
            except _Refused as refused:
                diagnostics.append(Diagnostic(file, refused.line, refused.message))
                continue
            except (ValueError, TypeError, OverflowError) as exc:
                # A value PyYAML's constructors refuse (`2030-13-45`, a 5000-digit integer).
                line = node.start_mark.line + 1
                diagnostics.append(Diagnostic(file, line, f"YAML value error: {exc}"))
                continue
            if data is None:
                continue  # an empty document (a stray `---`)
            source = SourceRef(file, node.start_mark.line + 1, positions)
            _accept(documents, diagnostics, source, data, positions, require_kind, plain)
    except _Refused as refused:
        diagnostics.append(Diagnostic(file, refused.line, refused.message))
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


def _accept(
    documents: list[Document],
    diagnostics: list[Diagnostic],
    source: SourceRef,
    data: Any,
    positions: dict[Loc, int],
    require_kind: bool,
    plain: bool = False,
) -> None:
    """Keep a document read from a file, or say why it is not a manifest."""
    if not require_kind:
        documents.append(Document(source, data, positions, plain))
    elif not isinstance(data, dict):
        diagnostics.append(
            Diagnostic(
                source.file,
                source.line,
                'a manifest document must be a mapping with "kind" and "name", '
                f"got {show_value(data)}",
            )
        )
    elif "kind" not in data:
        diagnostics.append(Diagnostic(source.file, source.line, 'document has no "kind"'))
    else:
        documents.append(Document(source, data, positions, plain))


# What YAML refuses to read (PyYAML's own rule, which it applies before parsing).
_UNPRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_PRINTABLE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
"""The ASCII bytes `_UNPRINTABLE` allows."""
_DOLLAR_ESCAPES = ("\\x24", "\\u0024", "\\U00000024")
"""The escapes of a double-quoted YAML scalar that spell `$` (hex digits without letters)."""


class _AliasBudget:
    """How many nodes aliases may still reach in one file."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit
        self.seen: set[int] = set()

    def spend(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise _Refused(
                node.start_mark.line + 1,
                f"YAML aliases expand to more than {self.limit:,} nodes (the limit; raise it "
                f"with {Limits.ENV['max_yaml_alias_nodes']})",
            )


def _walk(
    node: yaml.Node,
    loc: Loc,
    positions: dict[Loc, int],
    file: str,
    diagnostics: list[Diagnostic],
    ancestors: set[int],
    budget: _AliasBudget,
    aliased: bool = False,
) -> None:
    """Record the line of every key and item below `node`; report duplicate keys.

    A node met a second time was reached through an alias: what it expands to counts against
    `budget`, and one that contains itself (`&a [*a]`) is refused (it has no finite value).
    """
    if id(node) in ancestors:
        raise _Refused(
            node.start_mark.line + 1,
            "recursive YAML alias: an anchor is used inside itself, so the value never ends",
        )
    aliased = aliased or id(node) in budget.seen
    if aliased:
        budget.spend(node)
    budget.seen.add(id(node))
    positions.setdefault(loc, node.start_mark.line + 1)
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                # A merge brings in what an alias names; walk it for the bounds, not lines.
                _walk(value_node, loc, {}, file, [], ancestors, budget, aliased)
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen and not aliased:
                diagnostics.append(
                    Diagnostic(file, line, f'duplicate key "{key}" (first at line {seen[key]})')
                )
            seen[key] = line
            # The last occurrence wins in the data, so it wins here too.
            positions[(*loc, key)] = line
            _walk(value_node, (*loc, key), positions, file, diagnostics, ancestors, budget, aliased)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), positions, file, diagnostics, ancestors, budget, aliased)


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
