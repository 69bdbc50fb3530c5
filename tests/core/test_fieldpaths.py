"""Dotted field paths: the syntax every normalization table and every plan line uses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.core import fieldpaths as paths
from reconciler.core.fieldpaths import ANY

DOC: dict[str, Any] = {
    "name": "bot",
    "callTemplate": {
        "vadSettings": {"turnEndpointDelay": "0.5s"},
        "inactivityMessages": [
            {"duration": "10s", "message": "Still there?"},
            {"duration": "20s"},
            {"message": "Bye"},
        ],
        "selectedTools": [],
    },
}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("name", ("name",)),
        (
            "callTemplate.vadSettings.turnEndpointDelay",
            ("callTemplate", "vadSettings", "turnEndpointDelay"),
        ),
        (
            "callTemplate.inactivityMessages[].duration",
            ("callTemplate", "inactivityMessages", ANY, "duration"),
        ),
        (
            "callTemplate.inactivityMessages[2].duration",
            ("callTemplate", "inactivityMessages", 2, "duration"),
        ),
        ("a[0][1]", ("a", 0, 1)),
        ("a[][]", ("a", ANY, ANY)),
        ("a[10].b", ("a", 10, "b")),
        ("", ()),
    ],
)
def test_parse_and_format_round_trip(text: str, parsed: paths.Path) -> None:
    assert paths.parse(text) == parsed
    assert paths.format_path(parsed) == text
    assert paths.parse(paths.format_path(parsed)) == parsed


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.b", "a.c", False),
        ("a.b", "a.b.c", False),
        ("a.b.c", "a.b", False),
        ("a[].b", "a[0].b", True),
        ("a[].b", "a[17].b", True),
        ("a[].b", "a.x.b", False),  # `[]` matches list indices only, not keys
        ("a[1].b", "a[1].b", True),
        ("a[1].b", "a[2].b", False),
        ("a[][]", "a[0][3]", True),
        ("", "", True),
    ],
)
def test_matches(pattern: str, path: str, expected: bool) -> None:
    assert paths.matches(paths.parse(pattern), paths.parse(path)) is expected


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("a", "a", True),
        ("a", "a.b.c", True),
        ("a.b", "a", False),
        ("a.b", "a.c.d", False),
        ("a[]", "a[3].b", True),
        ("a[].secret", "a[3].secret.x", True),
        ("a[].secret", "a[3].public", False),
        ("", "a.b", True),
        ("ab", "a.b", False),
    ],
)
def test_is_prefix(prefix: str, path: str, expected: bool) -> None:
    assert paths.is_prefix(paths.parse(prefix), paths.parse(path)) is expected


@pytest.mark.parametrize(
    ("pattern", "found"),
    [
        ("name", ["name"]),
        ("missing", []),
        (
            "callTemplate.vadSettings.turnEndpointDelay",
            ["callTemplate.vadSettings.turnEndpointDelay"],
        ),
        (
            "callTemplate.inactivityMessages[].duration",
            [
                "callTemplate.inactivityMessages[0].duration",
                "callTemplate.inactivityMessages[1].duration",
            ],
        ),
        (
            "callTemplate.inactivityMessages[]",
            [
                "callTemplate.inactivityMessages[0]",
                "callTemplate.inactivityMessages[1]",
                "callTemplate.inactivityMessages[2]",
            ],
        ),
        (
            "callTemplate.inactivityMessages[2].message",
            ["callTemplate.inactivityMessages[2].message"],
        ),
        ("callTemplate.inactivityMessages[3].message", []),
        ("callTemplate.selectedTools[].toolName", []),
        ("name[]", []),  # a wildcard over something that is not a list
        ("name.deeper", []),  # a key below a string
    ],
)
def test_expand(pattern: str, found: list[str]) -> None:
    result = [paths.format_path(p) for p in paths.expand(DOC, paths.parse(pattern))]
    assert result == found


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("name", "bot"),
        ("callTemplate.vadSettings.turnEndpointDelay", "0.5s"),
        ("callTemplate.inactivityMessages[1].duration", "20s"),
        ("callTemplate.inactivityMessages[5].duration", "<none>"),
        ("callTemplate.nothing", "<none>"),
        ("name.x", "<none>"),
    ],
)
def test_get_and_has(path: str, expected: object) -> None:
    parsed = paths.parse(path)
    assert paths.get(DOC, parsed, "<none>") == expected
    assert paths.has(DOC, parsed) is (expected != "<none>")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("name", {"callTemplate": DOC["callTemplate"]}),
        ("missing", DOC),
        (
            "callTemplate.vadSettings.turnEndpointDelay",
            {**DOC, "callTemplate": {**DOC["callTemplate"], "vadSettings": {}}},
        ),
        (
            "callTemplate.inactivityMessages[].duration",
            {
                **DOC,
                "callTemplate": {
                    **DOC["callTemplate"],
                    "inactivityMessages": [{"message": "Still there?"}, {}, {"message": "Bye"}],
                },
            },
        ),
        (
            "callTemplate.inactivityMessages[0].message",
            {
                **DOC,
                "callTemplate": {
                    **DOC["callTemplate"],
                    "inactivityMessages": [
                        {"duration": "10s"},
                        {"duration": "20s"},
                        {"message": "Bye"},
                    ],
                },
            },
        ),
        # list elements themselves are never removed (dict keys only)
        ("callTemplate.inactivityMessages[]", DOC),
    ],
)
def test_remove(pattern: str, expected: dict[str, Any]) -> None:
    value = copy.deepcopy(DOC)
    paths.remove(value, paths.parse(pattern))
    assert value == expected


@pytest.mark.parametrize(
    ("start", "path", "item", "expected"),
    [
        ({}, "a", 1, {"a": 1}),
        ({}, "a.b.c", None, {"a": {"b": {"c": None}}}),
        ({"a": {"x": 1}}, "a.b", 2, {"a": {"x": 1, "b": 2}}),
        ({"a": {"b": 1}}, "a.b", {"c": 3}, {"a": {"b": {"c": 3}}}),
    ],
)
def test_put(start: dict[str, Any], path: str, item: Any, expected: dict[str, Any]) -> None:
    paths.put(start, paths.parse(path), item)
    assert start == expected
