"""Normalization: one function applied to both the desired and the live side.

Owns turning an API-shaped object into its canonical form for comparison: read-only and
write-only fields out, documented server defaults treated as absence, durations and datetimes
canonical, proto3 zero values dropped, and the pairwise rules (server-computed fields the
manifest leaves to the server, `ignoreChanges`). Driven entirely by a `NormalizationTable`.
Pure: no network, clock or environment; must not import httpx, deepdiff or the client.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.core import fieldpaths as paths
from reconciler.core.domain import JSON
from reconciler.core.fieldpaths import Path

_DROP = object()


@dataclass(frozen=True)
class NormalizationTable:
    """What the API does to a resource that is not a real difference.

    Paths are dotted (`callTemplate.vadSettings.turnEndpointDelay`); `[]` stands for every
    element of a list (`callTemplate.inactivityMessages[].duration`).
    """

    read_only: tuple[str, ...] = ()
    write_only: tuple[str, ...] = ()
    defaults: Mapping[str, JSON] = field(default_factory=dict)
    server_computed: tuple[str, ...] = ()
    durations: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    presence: tuple[str, ...] = ()
    """Paths where an empty object is meaningful (a oneof member such as `medium.webRtc`)."""
    sensitive: tuple[str, ...] = ()
    """Paths whose values are never shown (secrets); diffs there say only that they changed."""
    zero_is_default: bool = False
    """proto3 JSON: false, 0, "", [] and {} outside `presence` paths mean "unset"."""
    patch_root: str | None = None
    """PATCH merges the top-level keys under this path; each key's value is replaced whole and
    `null` clears it. None: the resource is patched at its own top level."""


def canonical_duration(text: str) -> str:
    """`"0.500s"` -> `"0.5s"`, `"1.0s"` -> `"1s"`; anything unparsable is returned as is."""
    if not text.endswith("s"):
        return text
    try:
        seconds = Decimal(text[:-1])
    except InvalidOperation:
        return text
    if not seconds.is_finite():
        return text
    if seconds == seconds.to_integral_value():
        return f"{int(seconds)}s"
    return f"{seconds.normalize():f}s"


def canonical_datetime(text: str) -> str:
    """Any ISO 8601 instant -> UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, so instants compare equal."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(spec)


def _compile(patterns: Iterable[str]) -> tuple[Path, ...]:
    return tuple(paths.parse(p) for p in patterns)


def _matches_any(patterns: tuple[Path, ...], path: Path) -> bool:
    return any(paths.matches(p, path) for p in patterns)


class _PatternIndex:
    """Path patterns looked up by length and last segment, so checking one path of a body
    costs a dict lookup instead of a scan of the whole table (normalize visits every path of
    every resource of a plan)."""

    def __init__(self, items: Iterable[tuple[Path, Any]]) -> None:
        self._by_tail: dict[tuple[int, Any], list[tuple[Path, Any]]] = {}
        for pattern, value in items:
            if pattern:
                self._by_tail.setdefault((len(pattern), pattern[-1]), []).append((pattern, value))

    def _candidates(self, path: Path) -> Iterator[tuple[Path, Any]]:
        if not path:
            return
        yield from self._by_tail.get((len(path), path[-1]), ())
        if isinstance(path[-1], int):
            yield from self._by_tail.get((len(path), paths.ANY), ())

    def matches(self, path: Path) -> bool:
        return any(paths.matches(p, path) for p, _ in self._candidates(path))

    def values(self, path: Path) -> Iterator[Any]:
        return (v for p, v in self._candidates(path) if paths.matches(p, path))


@dataclass(frozen=True)
class _Compiled:
    removed: _PatternIndex
    durations: _PatternIndex
    datetimes: _PatternIndex
    presence: _PatternIndex
    defaults: _PatternIndex


_COMPILED: dict[int, tuple[NormalizationTable, _Compiled]] = {}
"""Per table (by identity; the entry keeps the table alive, so its id is never reused)."""


def _compiled(table: NormalizationTable) -> _Compiled:
    entry = _COMPILED.get(id(table))
    if entry is not None and entry[0] is table:
        return entry[1]

    def index(patterns: Iterable[str]) -> _PatternIndex:
        return _PatternIndex((paths.parse(p), None) for p in patterns)

    compiled = _Compiled(
        removed=index((*table.read_only, *table.write_only)),
        durations=index(table.durations),
        datetimes=index(table.datetimes),
        presence=index(table.presence),
        # Defaults get the same canonical forms, so a default written "30.000s" equals "30s".
        defaults=_PatternIndex(
            (
                paths.parse(k),
                canonical_duration(v) if isinstance(v, str) and k in table.durations else v,
            )
            for k, v in table.defaults.items()
        ),
    )
    _COMPILED[id(table)] = (table, compiled)
    return compiled


_ENUM_ZERO = re.compile(r"^[A-Z][A-Z0-9_]*_UNSPECIFIED$")


def _is_zero(value: Any) -> bool:
    """proto3 zero values: false, 0, "", [] and an enum's `*_UNSPECIFIED`."""
    if isinstance(value, str):
        return value == "" or bool(_ENUM_ZERO.match(value))
    if isinstance(value, bool):
        return value is False
    if isinstance(value, int | float):
        return value == 0
    return isinstance(value, list) and not value


def normalize(obj: Mapping[str, Any], table: NormalizationTable) -> dict[str, Any]:
    """The canonical form of one resource body (desired or live); `obj` is not changed."""
    rules = _compiled(table)

    def walk(node: Any, path: Path, in_list: bool = False) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, child in node.items():
                below = (*path, key)
                if rules.removed.matches(below):
                    continue  # read-only and write-only fields are never compared
                result = walk(child, below)
                if result is not _DROP:
                    out[key] = result
            node = out
        elif isinstance(node, list):
            # List elements are values, not fields: a zero or empty element is never "unset",
            # and dropping it would shift the indices of the elements after it.
            node = [walk(item, (*path, i), in_list=True) for i, item in enumerate(node)]
        elif isinstance(node, str):
            if rules.durations.matches(path):
                node = canonical_duration(node)
            elif rules.datetimes.matches(path):
                node = canonical_datetime(node)
        if not path or in_list:
            return node
        if node is None:
            return _DROP
        if any(node == default for default in rules.defaults.values(path)):
            return _DROP
        if table.zero_is_default:
            if node == {} and not rules.presence.matches(path):
                return _DROP
            if _is_zero(node):
                return _DROP
        return node

    result = walk(dict(obj), ())
    assert isinstance(result, dict)
    return result


def align(
    desired: dict[str, Any],
    live: dict[str, Any],
    table: NormalizationTable,
    ignore_changes: Iterable[str] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pairwise rules, applied to already-normalized copies of both sides.

    A server-computed field the manifest leaves out is accepted as the server holds it; a path
    in `ignoreChanges` is compared on neither side.
    """
    desired, live = copy.deepcopy(desired), copy.deepcopy(live)
    presence = _compile(table.presence)
    for pattern in _compile(table.server_computed):
        if not any(True for _ in paths.expand(desired, pattern)):
            _remove(live, pattern, presence)
    for pattern in _compile(ignore_changes):
        _remove(desired, pattern, presence)
        _remove(live, pattern, presence)
    return desired, live


def _remove(value: dict[str, Any], pattern: Path, presence: tuple[Path, ...]) -> None:
    """Remove `pattern`, then the objects above it left empty (`{}` is absence, as above)."""
    paths.remove(value, pattern)
    for depth in range(len(pattern) - 1, 0, -1):
        for path in sorted(paths.expand(value, pattern[:depth]), reverse=True):
            parent = paths.get(value, path[:-1])
            empty = paths.get(value, path) == {} and not _matches_any(presence, path)
            if empty and isinstance(parent, dict):
                parent.pop(path[-1])
