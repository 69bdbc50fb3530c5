"""Normalization: one function applied to both the desired and the live side.

Owns turning an API-shaped object into its canonical form for comparison: read-only and
write-only fields out, documented server defaults treated as absence, durations and datetimes
canonical, proto3 zero values dropped, and the pairwise rules (server-computed fields the
manifest leaves to the server, `ignoreChanges`). Driven entirely by a `NormalizationTable`.
Pure: no network, clock or environment; must not import httpx, deepdiff or the client.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.core import fieldpaths as paths
from reconciler.core.domain import JSON
from reconciler.core.fieldpaths import Path, Segment

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


@functools.lru_cache(maxsize=512)
def _compile(patterns: tuple[str, ...]) -> tuple[Path, ...]:
    # Cached: `align` compiles its table's patterns for every resource of a plan.
    return tuple(paths.parse(p) for p in patterns)


def _matches_any(patterns: tuple[Path, ...], path: Path) -> bool:
    return any(paths.matches(p, path) for p in patterns)


class _Trie:
    """One segment of the table's patterns: what a path ending here is, and the segments
    below (`[]` stands for every list index, as in the patterns)."""

    __slots__ = ("children", "datetime", "defaults", "duration", "presence", "removed")

    def __init__(self) -> None:
        self.children: dict[Segment, _Trie] = {}
        self.removed = False
        self.duration = False
        self.datetime = False
        self.presence = False
        self.defaults: list[Any] = []


class _State:
    """Every pattern node a concrete path reaches (a path may match `a[].b` and `a[2].b`),
    with what they say about it merged, and the states of its children found on demand.

    `normalize` walks a body and these states side by side, so each key costs one dict
    lookup instead of matching the path against the table (a profile of a 1,000-agent plan
    spent a quarter of its CPU matching paths). The states of a table are few (one per
    pattern prefix), so they are kept with it.
    """

    __slots__ = (
        "_index",
        "_named",
        "_states",
        "bare",
        "datetime",
        "defaults",
        "duration",
        "nodes",
        "presence",
        "removed",
    )

    def __init__(self, nodes: tuple[_Trie, ...], states: dict[tuple[int, ...], _State]) -> None:
        self.nodes = nodes
        self.removed = any(n.removed for n in nodes)
        self.duration = any(n.duration for n in nodes)
        self.datetime = any(n.datetime for n in nodes)
        self.presence = any(n.presence for n in nodes)
        self.defaults = tuple(d for n in nodes for d in n.defaults)
        self.bare = not nodes
        """No pattern reaches this path or any below it: only the generic rules apply."""
        self._named: dict[Segment, _State] = {}
        self._index: _State | None = None
        self._states = states

    def _of(self, nodes: list[_Trie]) -> _State:
        ident = tuple(id(n) for n in nodes)
        found = self._states.get(ident)
        if found is None:
            found = self._states[ident] = _State(tuple(nodes), self._states)
        return found

    def child(self, segment: Segment) -> _State:
        """The state of `path + (segment,)`: a key of an object, or an index of a list."""
        found = self._named.get(segment)
        if found is not None:
            return found
        if isinstance(segment, int):
            # Every index without a pattern of its own shares the `[]` state (lists may be
            # long; one entry per index would grow with the data, not the table).
            if not any(segment in n.children for n in self.nodes):
                if self._index is None:
                    wild = [n.children[paths.ANY] for n in self.nodes if paths.ANY in n.children]
                    self._index = self._of(wild)
                return self._index
            below = [n.children[segment] for n in self.nodes if segment in n.children]
            below += [n.children[paths.ANY] for n in self.nodes if paths.ANY in n.children]
        else:
            # A key matches its own segment only (`[]` matches indices, or a key named "[]").
            below = [n.children[segment] for n in self.nodes if segment in n.children]
            if not below and len(self._named) >= _MAX_NAMED:
                return self._of(below)  # keys without patterns, beyond a bound: not kept
        found = self._named[segment] = self._of(below)
        return found


_MAX_NAMED = 1024
"""How many keys a state keeps the child state of: those of the table, and data keys the
table does not name up to this bound (a map keyed by the data's own names may be large)."""


def _trie(table: NormalizationTable) -> _State:
    root = _Trie()

    def node(pattern: str) -> _Trie | None:
        parsed = paths.parse(pattern)
        if not parsed:
            return None  # the empty path names no field (the walk never asks about the root)
        current = root
        for segment in parsed:
            current = current.children.setdefault(segment, _Trie())
        return current

    for pattern in (*table.read_only, *table.write_only):
        if (found := node(pattern)) is not None:
            found.removed = True
    for pattern in table.durations:
        if (found := node(pattern)) is not None:
            found.duration = True
    for pattern in table.datetimes:
        if (found := node(pattern)) is not None:
            found.datetime = True
    for pattern in table.presence:
        if (found := node(pattern)) is not None:
            found.presence = True
    for pattern, value in table.defaults.items():
        if (found := node(pattern)) is not None:
            # Defaults get the same canonical forms, so a default written "30.000s" equals
            # "30s".
            is_duration = isinstance(value, str) and pattern in table.durations
            found.defaults.append(canonical_duration(value) if is_duration else value)
    return _State((root,), {})


_COMPILED: dict[int, tuple[NormalizationTable, _State]] = {}
"""Per table (by identity; the entry keeps the table alive, so its id is never reused)."""


def _compiled(table: NormalizationTable) -> _State:
    entry = _COMPILED.get(id(table))
    if entry is not None and entry[0] is table:
        return entry[1]
    compiled = _trie(table)
    _COMPILED[id(table)] = (table, compiled)
    return compiled


_ENUM_ZERO = re.compile(r"^[A-Z][A-Z0-9_]*_UNSPECIFIED$")


def _is_zero(value: Any) -> bool:
    """proto3 zero values: false, 0, "", [] and an enum's `*_UNSPECIFIED`."""
    if isinstance(value, str):
        # The suffix first: a prompt of 8 KB is not searched (`$` also allows a final "\n").
        return value == "" or ("_UNSPECIFIED" in value[-13:] and bool(_ENUM_ZERO.match(value)))
    if isinstance(value, bool):
        return value is False
    if isinstance(value, int | float):
        return value == 0
    return isinstance(value, list) and not value


def normalize(obj: Mapping[str, Any], table: NormalizationTable) -> dict[str, Any]:
    """The canonical form of one resource body (desired or live); `obj` is not changed."""
    result = _inner(dict(obj), _compiled(table), table.zero_is_default)
    assert isinstance(result, dict)
    return result


class Forms:
    """Normalized bodies computed ahead, while a plan's reads are in flight (issue 14: the
    desired side and each page of live objects are normalized while the next page is read).

    Entries are by the identity of the body and the table, and keep both alive, so an id is
    never taken for another object's; `get` normalizes what was not computed ahead, so a
    missing or failed entry changes nothing but the time. A form `get` returns may be shared
    by several callers: none may change it (the planning functions only read theirs). `add`
    may run in another thread than `get`.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, int], tuple[object, NormalizationTable, dict[str, Any]]] = {}
        self._compared: dict[tuple[int, int, int], tuple[object, object, object, Any]] = {}

    def add(self, obj: Mapping[str, Any], table: NormalizationTable) -> None:
        self._found[(id(obj), id(table))] = (obj, table, normalize(obj, table))

    def get(self, obj: Mapping[str, Any], table: NormalizationTable) -> dict[str, Any]:
        entry = self._found.get((id(obj), id(table)))
        if entry is not None and entry[0] is obj and entry[1] is table:
            return entry[2]
        return normalize(obj, table)

    def forget(self, obj: Mapping[str, Any], table: NormalizationTable) -> None:
        """Drop the form of `obj` (no longer needed: its comparison is made); `get`
        normalizes it again if it is asked for after all."""
        self._found.pop((id(obj), id(table)), None)

    def add_comparison(self, desired: object, live: object, table: object, result: Any) -> None:
        """The comparison of the pair (`reconciler.core.planning.compare`), made ahead: the
        pairs of a plan are compared as each page of live objects comes (issue 14), and
        the result is kept by the identity of the three, like a form."""
        self._compared[(id(desired), id(live), id(table))] = (desired, live, table, result)

    def comparison(self, desired: object, live: object, table: object) -> Any | None:
        """What `add_comparison` kept for the pair; None when it was not made ahead."""
        entry = self._compared.get((id(desired), id(live), id(table)))
        if entry is not None and entry[0] is desired and entry[1] is live and entry[2] is table:
            return entry[3]
        return None


# The walk is module-level functions rather than a closure: a recursive closure is a reference
# cycle per call, left to the cycle collector (two per resource of a plan).


def _field(node: Any, state: _State, zero: bool) -> Any:
    """A field's value normalized, or `_DROP` when it means "unset" (null, a default, a zero)."""
    node = _bare(node, zero) if state.bare else _inner(node, state, zero)
    if node is None:
        return _DROP
    if state.defaults and any(node == default for default in state.defaults):
        return _DROP
    if zero:
        if node == {} and not state.presence:
            return _DROP
        if _is_zero(node):
            return _DROP
    return node


def _inner(node: Any, state: _State, zero: bool) -> Any:
    """A value normalized (its fields dropped as `_field` says), never dropped itself."""
    if isinstance(node, dict):
        out = {}
        named = state._named
        for key, child in node.items():
            below = named.get(key)
            if below is None:
                below = state.child(key)
            if below.removed:
                continue  # read-only and write-only fields are never compared
            result = _field(child, below, zero)
            if result is not _DROP:
                out[key] = result
        return out
    if isinstance(node, list):
        # List elements are values, not fields: a zero or empty element is never "unset",
        # and dropping it would shift the indices of the elements after it.
        return [_inner(item, state.child(i), zero) for i, item in enumerate(node)]
    if isinstance(node, str):
        if state.duration:
            return canonical_duration(node)
        if state.datetime:
            return canonical_datetime(node)
    return node


def _bare(node: Any, zero: bool) -> Any:
    """`_inner` where no pattern of the table reaches (a state without nodes, as are all below
    it): only null and, with `zero`, proto3 zero values are dropped."""
    if isinstance(node, dict):
        out = {}
        for key, child in node.items():
            child = _bare(child, zero)
            if child is None or (zero and (child == {} or _is_zero(child))):
                continue
            out[key] = child
        return out
    if isinstance(node, list):
        return [_bare(item, zero) for item in node]
    return node


def align(
    desired: dict[str, Any],
    live: dict[str, Any],
    table: NormalizationTable,
    ignore_changes: Iterable[str] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pairwise rules, applied to already-normalized copies of both sides.

    A server-computed field the manifest leaves out is accepted as the server holds it; a path
    in `ignoreChanges` is compared on neither side. Neither argument is changed: the objects
    and lists a rule removes from are copied (`_spine`), the rest is shared with the results.
    """
    presence = _compile(table.presence)
    for pattern in _compile(table.server_computed):
        if not any(True for _ in paths.expand(desired, pattern)):
            live = _spine(live, pattern)
            _remove(live, pattern, presence)
    for pattern in _compile(tuple(ignore_changes)):
        desired, live = _spine(desired, pattern), _spine(live, pattern)
        _remove(desired, pattern, presence)
        _remove(live, pattern, presence)
    return desired, live


def _spine(value: Any, pattern: Path) -> Any:
    """`value` with a copy of every object and list `_remove(value, pattern)` may change: those
    at the matches of each proper prefix of `pattern` (it pops keys from them only).

    Copying these few instead of the whole of both sides (a deep copy of two 8 KB agents per
    comparison) was a tenth of a 1,000-agent plan's CPU.
    """
    if not pattern:
        return value
    head, rest = pattern[0], pattern[1:]
    if isinstance(value, dict):
        copied = dict(value)
        if isinstance(head, str) and head != paths.ANY and head in copied:
            copied[head] = _spine(copied[head], rest)
        return copied
    if isinstance(value, list):
        items = list(value)
        if head == paths.ANY:
            items = [_spine(item, rest) for item in items]
        elif isinstance(head, int) and 0 <= head < len(items):
            items[head] = _spine(items[head], rest)
        return items
    return value


def _remove(value: dict[str, Any], pattern: Path, presence: tuple[Path, ...]) -> None:
    """Remove `pattern`, then the objects above it left empty (`{}` is absence, as above)."""
    paths.remove(value, pattern)
    for depth in range(len(pattern) - 1, 0, -1):
        for path in sorted(paths.expand(value, pattern[:depth]), reverse=True):
            parent = paths.get(value, path[:-1])
            empty = paths.get(value, path) == {} and not _matches_any(presence, path)
            if empty and isinstance(parent, dict):
                parent.pop(path[-1])
