"""Which fields `interpolate` treats as secrets: exactly the nodes a secret pattern matches
(`fieldpaths.matches`), the highest one on each path. The walk narrows the patterns on the way
down (issue 14); this holds it to matching every pattern at every node, on random data."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import fieldpaths as paths
from reconciler.core.interpolate import interpolate

SEGMENTS = st.sampled_from(["a", "b", "[]", "[0]", "[1]"])
PATTERNS = st.tuples(st.sampled_from(["a", "b"]), st.lists(SEGMENTS, max_size=2)).map(
    lambda parts: ".".join([parts[0], *parts[1]]).replace(".[", "[")
)
DATA = st.recursive(
    st.just("${SECRET}"),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "[]"]), inner)
    ),
    max_leaves=10,
)


def expected_secrets(node: Any, path: paths.Path, patterns: list[paths.Path]) -> set[str]:
    if any(paths.matches(p, path) for p in patterns):
        return {paths.format_path(leaf) for leaf, _ in leaves(node, path)}
    if isinstance(node, dict):
        return set().union(*(expected_secrets(v, (*path, k), patterns) for k, v in node.items()))
    if isinstance(node, list):
        return set().union(*(expected_secrets(v, (*path, i), patterns) for i, v in enumerate(node)))
    return set()


def leaves(node: Any, path: paths.Path) -> list[tuple[paths.Path, Any]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in leaves(v, (*path, k))]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in leaves(v, (*path, i))]
    return [(path, node)]


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(st.sampled_from(["a", "b"]), DATA), patterns=st.lists(PATTERNS, max_size=3)
)
def test_secret_fields_are_the_matching_nodes(data: dict[str, Any], patterns: list[str]) -> None:
    found = interpolate(data, {}, patterns, secrets_from={"SECRET": "value"})
    parsed = [paths.parse(p) for p in patterns]
    assert set(found.secrets) == expected_secrets(data, (), parsed)
