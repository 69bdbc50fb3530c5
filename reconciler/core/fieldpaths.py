"""Dotted field paths: parsing, matching and reading them in JSON values.

Owns the path syntax every table and message uses: `callTemplate.vadSettings.turnEndpointDelay`,
with `[]` for "every element" in patterns and `[3]` for one element in concrete paths.
Pure; imports nothing but the standard library.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

Segment = str | int
Path = tuple[Segment, ...]

ANY = "[]"
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d*)\]")


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Path:
    """`a.b[].c` -> ("a", "b", "[]", "c"); `a[2]` -> ("a", 2).

    Cached: tables name the same few paths for every resource of a plan (a tuple is immutable,
    so sharing it is safe)."""
    out: list[Segment] = []
    for match in _TOKEN.finditer(text):
        name, index = match.groups()
        if name is not None:
            out.append(name)
        elif index == "":
            out.append(ANY)
        else:
            out.append(int(index))
    return tuple(out)


def format_path(path: Path) -> str:
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif segment == ANY:
            text += "[]"
        else:
            text += ("." if text else "") + segment
    return text


def matches(pattern: Path, path: Path) -> bool:
    if len(pattern) != len(path):
        return False
    return all(
        p == s or (p == ANY and isinstance(s, int)) for p, s in zip(pattern, path, strict=True)
    )


def is_prefix(prefix: Path, path: Path) -> bool:
    """True when `path` is `prefix` or lies below it (wildcards in `prefix` allowed)."""
    return len(prefix) <= len(path) and matches(prefix, path[: len(prefix)])


def expand(value: Any, pattern: Path) -> Iterator[Path]:
    """Every concrete path in `value` that `pattern` matches and that exists, in order.

    Level by level over a list rather than a recursive generator: tables expand a dozen
    patterns per resource, and the nested generators (and the reference cycle of a recursive
    closure, left to the cycle collector) were most of what checking a resource's rules cost.
    """
    found: list[tuple[Path, Any]] = [((), value)]
    for head in pattern:
        below: list[tuple[Path, Any]] = []
        if head == ANY:
            for done, node in found:
                if isinstance(node, list):
                    below.extend(((*done, i), item) for i, item in enumerate(node))
        elif isinstance(head, int):
            for done, node in found:
                if isinstance(node, list) and 0 <= head < len(node):
                    below.append(((*done, head), node[head]))
        else:
            for done, node in found:
                if isinstance(node, dict) and head in node:
                    below.append(((*done, head), node[head]))
        if not below:
            return iter(())
        found = below
    return iter([done for done, _ in found])


def get(value: Any, path: Path, default: Any = None) -> Any:
    node = value
    for segment in path:
        in_list = isinstance(segment, int) and isinstance(node, list) and 0 <= segment < len(node)
        in_dict = isinstance(segment, str) and isinstance(node, dict) and segment in node
        if in_list or in_dict:
            node = node[segment]
        else:
            return default
    return node


def has(value: Any, path: Path) -> bool:
    sentinel = object()
    return get(value, path, sentinel) is not sentinel


def remove(value: Any, pattern: Path) -> None:
    """Delete every match of `pattern` from `value`, in place (dict keys only)."""
    for path in sorted(expand(value, pattern), reverse=True):
        parent = get(value, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)


def put(value: dict[str, Any], path: Path, item: Any) -> None:
    """Set `item` at a concrete path of string keys, creating objects on the way."""
    node: Any = value
    for segment in path[:-1]:
        node = node.setdefault(segment, {})
    node[path[-1]] = item
