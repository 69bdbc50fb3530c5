"""Field-level differences between two normalized objects: typed, dotted, sorted."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.diff import diff
from reconciler.core.domain import FieldChange, FieldOp

ADD, REMOVE, CHANGE = FieldOp.ADD, FieldOp.REMOVE, FieldOp.CHANGE


@pytest.mark.parametrize(
    ("live", "desired", "expected"),
    [
        pytest.param({"a": 1}, {"a": 1}, [], id="equal"),
        pytest.param({}, {}, [], id="both-empty"),
        pytest.param({"a": 1}, {"a": 2}, [("a", CHANGE, 1, 2)], id="changed-leaf"),
        pytest.param({"a": 1}, {"a": "1"}, [("a", CHANGE, 1, "1")], id="type-change"),
        pytest.param({}, {"a": 1}, [("a", ADD, None, 1)], id="added-key"),
        pytest.param({"a": 1}, {}, [("a", REMOVE, 1, None)], id="removed-key"),
        pytest.param(
            {"t": {"v": {"d": "0.5s"}}},
            {"t": {"v": {"d": "1s"}}},
            [("t.v.d", CHANGE, "0.5s", "1s")],
            id="nested-dotted",
        ),
        pytest.param(
            {"t": {"x": 1}},
            {"t": {"y": 1}},
            [("t.x", REMOVE, 1, None), ("t.y", ADD, None, 1)],
            id="no-shared-keys-still-leaf-level",
        ),
        pytest.param(
            {},
            {"name": "bot", "callTemplate": {"voice": "Mark"}},
            [("callTemplate.voice", ADD, None, "Mark"), ("name", ADD, None, "bot")],
            id="create-lists-leaves",
        ),
        pytest.param(
            {"name": "bot", "callTemplate": {"voice": "Mark"}},
            {},
            [("callTemplate.voice", REMOVE, "Mark", None), ("name", REMOVE, "bot", None)],
            id="delete-lists-leaves",
        ),
        pytest.param(
            {"c": {"s": "a", "v": "M", "t": 0.5}},
            {"c": {"s": "b", "l": "en"}},
            [
                ("c.l", ADD, None, "en"),
                ("c.s", CHANGE, "a", "b"),
                ("c.t", REMOVE, 0.5, None),
                ("c.v", REMOVE, "M", None),
            ],
            id="mostly-different-dict-is-not-one-whole-change",
        ),
        pytest.param(
            {"l": [1, 2, 3]},
            {"l": [1, 5]},
            [("l[1]", CHANGE, 2, 5), ("l[2]", REMOVE, 3, None)],
            id="list-change-and-removal",
        ),
        pytest.param(
            {"l": [1]},
            {"l": [1, 2, {"x": 1}]},
            [("l[1]", ADD, None, 2), ("l[2].x", ADD, None, 1)],
            id="list-additions",
        ),
        pytest.param(
            {"l": [{"b": 1}, {"b": 2}]},
            {"l": [{"b": 1}, {"b": 3}]},
            [("l[1].b", CHANGE, 2, 3)],
            id="inside-list-element",
        ),
        pytest.param(
            {"l": ["a", "b"]},
            {"l": ["b", "a"]},
            [("l[0]", CHANGE, "a", "b"), ("l[1]", CHANGE, "b", "a")],
            id="lists-are-ordered",
        ),
    ],
)
def test_diff(
    live: dict[str, Any], desired: dict[str, Any], expected: list[tuple[str, FieldOp, Any, Any]]
) -> None:
    result = diff(live, desired)
    assert [(c.path, c.op, c.before, c.after) for c in result] == expected
    assert not any(c.sensitive for c in result)


def test_sorted_by_path_with_numeric_indices() -> None:
    live = {"l": list(range(12)), "b": 1, "a": {"z": 1, "c": 1}}
    desired = {"l": [*range(10), 99, 98], "b": 2, "a": {"z": 2, "c": 2}}
    assert [c.path for c in diff(live, desired)] == ["a.c", "a.z", "b", "l[10]", "l[11]"]


@pytest.mark.parametrize(
    ("sensitive", "live", "desired", "flagged"),
    [
        pytest.param(
            ["t.sharedSecrets"],
            {"t": {"sharedSecrets": ["old"], "voice": "a"}},
            {"t": {"sharedSecrets": ["new"], "voice": "b"}},
            {"t.sharedSecrets[0]": True, "t.voice": False},
            id="below-a-sensitive-path",
        ),
        pytest.param(
            ["t.tools[].authTokens"],
            {"t": {"tools": [{"authTokens": {"k": "1"}, "n": "x"}]}},
            {"t": {"tools": [{"authTokens": {"k": "2"}, "n": "y"}]}},
            {"t.tools[0].authTokens.k": True, "t.tools[0].n": False},
            id="wildcard-pattern",
        ),
        pytest.param(
            ["t.headers"],
            {"t": {"voice": "a"}},
            {"t": {"voice": "a", "headers": "Bearer x"}},
            {"t.headers": True},
            id="added-sensitive-key",
        ),
        pytest.param(
            ["t.headers"],
            {"t": {"voice": "a", "headers": "Bearer x"}},
            {"t": {"voice": "a"}},
            {"t.headers": True},
            id="removed-sensitive-key",
        ),
        pytest.param(
            ["t.generic.headers"],
            {},
            {"t": {"generic": {"url": "u", "headers": {"Authorization": "Bearer x"}}}},
            {"t.generic.headers.Authorization": True, "t.generic.url": False},
            id="inside-an-object-added-whole",
        ),
        pytest.param(
            ["t.generic.headers"],
            {"t": {"generic": {"url": "u", "headers": {"Authorization": "Bearer x"}}}},
            {},
            {"t.generic.headers.Authorization": True, "t.generic.url": False},
            id="inside-an-object-removed-whole",
        ),
    ],
)
def test_sensitive_paths_flagged(
    sensitive: list[str], live: dict[str, Any], desired: dict[str, Any], flagged: dict[str, bool]
) -> None:
    result = diff(live, desired, sensitive)
    assert {c.path: c.sensitive for c in result} == flagged


@pytest.mark.parametrize(
    ("live", "desired", "expected"),
    [
        pytest.param(
            {},
            {"t": {"v": {"d": "1s", "e": [1, 2]}, "m": {"webRtc": {}}}},
            [
                ("t.m.webRtc", ADD, None, {}),
                ("t.v.d", ADD, None, "1s"),
                ("t.v.e[0]", ADD, None, 1),
                ("t.v.e[1]", ADD, None, 2),
            ],
            id="added",
        ),
        pytest.param(
            {"t": {"v": {"d": "1s"}, "k": 1}},
            {"t": {"k": 1}},
            [("t.v.d", REMOVE, "1s", None)],
            id="removed",
        ),
        pytest.param(
            {"t": {"tools": [{"name": "hangUp"}], "k": 1}},
            {"t": {"k": 1}},
            [("t.tools[0].name", REMOVE, "hangUp", None)],
            id="list-removed",
        ),
        pytest.param(
            {"l": [{"a": 1}]},
            {"l": [{"a": 1}, {"a": 2, "b": {"c": 3}}]},
            [("l[1].a", ADD, None, 2), ("l[1].b.c", ADD, None, 3)],
            id="list-element-added",
        ),
    ],
)
def test_objects_added_or_removed_whole_are_listed_leaf_by_leaf(
    live: dict[str, Any], desired: dict[str, Any], expected: list[tuple[str, FieldOp, Any, Any]]
) -> None:
    assert [(c.path, c.op, c.before, c.after) for c in diff(live, desired)] == expected


def test_same_paths_whether_or_not_the_parent_existed() -> None:
    with_parent = diff({"t": {"k": 1}}, {"t": {"k": 1, "v": "x"}})
    without_parent = diff({}, {"t": {"v": "x"}})
    assert [c.path for c in with_parent] == [c.path for c in without_parent] == ["t.v"]


def test_returns_immutable_field_changes() -> None:
    (change,) = diff({"a": 1}, {"a": 2})
    assert change == FieldChange(path="a", op=CHANGE, before=1, after=2, sensitive=False)
    with pytest.raises(AttributeError):
        change.path = "b"  # type: ignore[misc]


def test_numbers_compare_by_value_not_by_json_type() -> None:
    # protobuf JSON prints the float 1.0 as `1`; that is no difference.
    assert diff({"callTemplate": {"temperature": 1}}, {"callTemplate": {"temperature": 1.0}}) == ()
    changed = diff({"t": 1}, {"t": 1.5})
    assert [(c.path, c.before, c.after) for c in changed] == [("t", 1, 1.5)]
