"""`normalize` and `align` against the straightforward versions they replaced (issue 14).

The product walks a body and a trie of the table's patterns side by side, and `align` copies
only what it removes from; `reference_normalize` and `reference_align` below match every path
against every pattern and deep-copy both sides, as the first versions did. Random tables and
bodies (over one small alphabet, so that patterns and keys meet often) must give equal
results, and `align` must leave its arguments as they were.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import fieldpaths as paths
from reconciler.core.normalize import (
    NormalizationTable,
    _is_zero,
    align,
    canonical_datetime,
    canonical_duration,
    normalize,
)
from reconciler.providers.ultravox.agents import AGENT_TABLE

_DROP = object()


def _any_match(patterns: Iterable[paths.Path], path: paths.Path) -> bool:
    return any(paths.matches(p, path) for p in patterns)


def reference_normalize(obj: Mapping[str, Any], table: NormalizationTable) -> dict[str, Any]:
    removed = [paths.parse(p) for p in (*table.read_only, *table.write_only)]
    durations = [paths.parse(p) for p in table.durations]
    datetimes = [paths.parse(p) for p in table.datetimes]
    presence = [paths.parse(p) for p in table.presence]
    defaults = [
        (
            paths.parse(k),
            canonical_duration(v) if isinstance(v, str) and k in table.durations else v,
        )
        for k, v in table.defaults.items()
    ]

    def walk(node: Any, path: paths.Path, in_list: bool = False) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, child in node.items():
                below = (*path, key)
                if _any_match(removed, below):
                    continue
                result = walk(child, below)
                if result is not _DROP:
                    out[key] = result
            node = out
        elif isinstance(node, list):
            node = [walk(item, (*path, i), in_list=True) for i, item in enumerate(node)]
        elif isinstance(node, str):
            if _any_match(durations, path):
                node = canonical_duration(node)
            elif _any_match(datetimes, path):
                node = canonical_datetime(node)
        if not path or in_list:
            return node
        if node is None:
            return _DROP
        if any(node == value for p, value in defaults if paths.matches(p, path)):
            return _DROP
        if table.zero_is_default:
            if node == {} and not _any_match(presence, path):
                return _DROP
            if _is_zero(node):
                return _DROP
        return node

    result = walk(dict(obj), ())
    assert isinstance(result, dict)
    return result


def reference_align(
    desired: dict[str, Any],
    live: dict[str, Any],
    table: NormalizationTable,
    ignore_changes: Iterable[str] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    desired, live = copy.deepcopy(desired), copy.deepcopy(live)
    presence = tuple(paths.parse(p) for p in table.presence)

    def remove(value: dict[str, Any], pattern: paths.Path) -> None:
        paths.remove(value, pattern)
        for depth in range(len(pattern) - 1, 0, -1):
            for path in sorted(paths.expand(value, pattern[:depth]), reverse=True):
                parent = paths.get(value, path[:-1])
                empty = paths.get(value, path) == {} and not _any_match(presence, path)
                if empty and isinstance(parent, dict):
                    parent.pop(path[-1])

    for pattern in (paths.parse(p) for p in table.server_computed):
        if not any(True for _ in paths.expand(desired, pattern)):
            remove(live, pattern)
    for pattern in (paths.parse(p) for p in ignore_changes):
        remove(desired, pattern)
        remove(live, pattern)
    return desired, live


KEYS = ["a", "b", "c", "[]"]
SEGMENTS = st.sampled_from(["a", "b", "c", "[]", "[0]", "[1]"])
PATTERNS = st.lists(SEGMENTS, min_size=1, max_size=4).map(
    lambda parts: ".".join(parts).replace(".[", "[")
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 0.0, 2.5, "", "x", "30s", "30.000s", "0.5s", "A_UNSPECIFIED"]),
    st.sampled_from(["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00Z", "soon"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)
TABLES = st.builds(
    NormalizationTable,
    read_only=st.lists(PATTERNS, max_size=2).map(tuple),
    write_only=st.lists(PATTERNS, max_size=1).map(tuple),
    defaults=st.dictionaries(PATTERNS, SCALARS, max_size=3),
    server_computed=st.lists(PATTERNS, max_size=2).map(tuple),
    durations=st.lists(PATTERNS, max_size=2).map(tuple),
    datetimes=st.lists(PATTERNS, max_size=2).map(tuple),
    presence=st.lists(PATTERNS, max_size=2).map(tuple),
    zero_is_default=st.booleans(),
)


@settings(max_examples=120, deadline=None)
@given(table=TABLES, body=BODIES)
def test_normalize_equals_the_reference(table: NormalizationTable, body: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    assert normalize(body, table) == reference_normalize(body, table)
    assert body == before


@settings(max_examples=120, deadline=None)
@given(
    table=TABLES,
    desired=BODIES,
    live=BODIES,
    ignore=st.lists(PATTERNS, max_size=2),
)
def test_align_equals_the_reference(
    table: NormalizationTable, desired: dict[str, Any], live: dict[str, Any], ignore: list[str]
) -> None:
    want, have = normalize(desired, table), normalize(live, table)
    kept = copy.deepcopy((want, have))
    assert align(want, have, table, ignore) == reference_align(want, have, table, ignore)
    assert (want, have) == kept  # the arguments are not changed


def test_agent_table_on_a_full_agent() -> None:
    live = {
        "agentId": "a-1",
        "name": "bot",
        "created": "2026-01-01T00:00:00Z",
        "callTemplate": {
            "systemPrompt": "Hi",
            "model": "fixie-ai/ultravox",
            "joinTimeout": "30.000s",
            "maxDuration": "1200s",
            "temperature": 0.4,
            "inactivityMessages": [{"duration": "8.000s", "message": "Still there?"}],
            "selectedTools": [{"toolName": "hangUp", "temporaryTool": {"client": {}}}],
            "medium": {"twilio": {}},
            "firstSpeakerSettings": {"agent": {}},
            "recordingEnabled": False,
        },
    }
    desired = {"name": "bot", "callTemplate": {"systemPrompt": "Hi", "temperature": 0.4}}
    for body in (live, desired):
        assert normalize(body, AGENT_TABLE) == reference_normalize(body, AGENT_TABLE)
    want, have = normalize(desired, AGENT_TABLE), normalize(live, AGENT_TABLE)
    ignore = ["callTemplate.medium", "callTemplate.selectedTools[].toolName"]
    assert align(want, have, AGENT_TABLE, ignore) == reference_align(
        want, have, AGENT_TABLE, ignore
    )
