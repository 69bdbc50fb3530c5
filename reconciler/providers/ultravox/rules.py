"""The "exactly one of" rules of an Ultravox CallTemplate.

Owns `ONE_OF`, the one table of member groups the API treats as a protobuf `oneof` but the
OpenAPI schema can only state in prose ("Exactly one of user or agent should be set"), and
`check`, the one function that applies it to validated data (`reached` finds where a row's
path is set; the manifest's duration rule uses it too). Member lists that the schema
enumerates (mediums, voice providers) are read from the generated models, so a regenerated
schema brings new members with it. Pure: imports the generated schema,
`reconciler.core.fieldpaths` and the standard library only; must not import httpx, deepdiff
or click.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from pydantic import BaseModel

from reconciler.core import fieldpaths as paths
from reconciler.providers.ultravox import schema

EXACTLY_ONE: Final = "exactly one of"
AT_MOST_ONE: Final = "at most one of"
ONLY_WITH: Final = "only with"
"""`(first, second)`: `first` may be set only when `second` is set."""

EVERY_VALUE: Final = "*"
"""Path segment for every value of a map (`[]` is every element of a list)."""


def _members(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(info.alias or name for name, info in model.model_fields.items())


MEDIA: Final = _members(schema.CallMedium)
VOICE_PROVIDERS: Final = _members(schema.ExternalVoice)

# (path relative to a CallTemplate, rule, members). A row applies wherever its path exists in
# the data; a member counts as set when its key is present with a non-null value (an empty
# object such as `agent: {}` is set: for a oneof, presence is the value).
ONE_OF: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("", AT_MOST_ONE, ("voice", "externalVoice")),
    ("", ONLY_WITH, ("voiceOverrides", "voice")),
    ("firstSpeakerSettings", EXACTLY_ONE, ("user", "agent")),
    ("medium", EXACTLY_ONE, MEDIA),
    ("medium.sip", EXACTLY_ONE, ("incoming", "outgoing")),
    ("externalVoice", EXACTLY_ONE, VOICE_PROVIDERS),
    ("voiceOverrides", EXACTLY_ONE, VOICE_PROVIDERS),
    ("selectedTools[]", EXACTLY_ONE, ("toolId", "toolName", "temporaryTool")),
    ("selectedTools[].temporaryTool", EXACTLY_ONE, ("http", "client", "dataConnection")),
    (
        "selectedTools[].temporaryTool.requirements.httpSecurityOptions.options[].requirements.*",
        EXACTLY_ONE,
        ("queryApiKey", "headerApiKey", "httpAuth"),
    ),
)


class Violation(NamedTuple):
    """One broken rule: where (a path into the checked data, after `prefix`) and why."""

    path: tuple[str | int, ...]
    message: str


def check(
    data: Mapping[str, Any],
    table: tuple[tuple[str, str, tuple[str, ...]], ...] = ONE_OF,
    prefix: tuple[str | int, ...] = (),
) -> list[Violation]:
    """Every violation of `table` in `data` (a CallTemplate as the API spells it).

    A violation sits on the member that conflicts (the second one set), or on the object itself
    when a required member is missing, so that its line is the one to fix.
    """
    found: list[Violation] = []
    for pattern, head, rule, members in _rows(table):
        if head is not None and data.get(head) is None:
            continue  # the row's object is not set (most rows, for most templates)
        for where, node in reached(data, pattern):
            if not isinstance(node, dict | Mapping):
                continue
            present = [m for m in members if node.get(m) is not None]
            # Paths and messages are built only for a violation (rare; the loop is not).
            if rule == ONLY_WITH:
                first, second = members
                if first in present and second not in present:
                    found.append(
                        Violation((*prefix, *where, first), f"only allowed when {second} is set")
                    )
            elif len(present) > 1:
                found.append(
                    Violation(
                        (*prefix, *where, present[1]),
                        f"conflicts with {present[0]}: set {rule} {', '.join(members)}",
                    )
                )
            elif rule == EXACTLY_ONE and not present:
                found.append(Violation((*prefix, *where), f"set {rule} {', '.join(members)}"))
    return found


@functools.lru_cache(maxsize=16)
def _rows(
    table: tuple[tuple[str, str, tuple[str, ...]], ...],
) -> tuple[tuple[paths.Path, str | None, str, tuple[str, ...]], ...]:
    """`table` with each row's path parsed, and the key its object hangs from in the data
    (None when the path starts with a wildcard or is empty): compiled once per table."""
    rows = []
    for path, rule, members in table:
        pattern = paths.parse(path)
        head = pattern[0] if pattern else None
        key = head if isinstance(head, str) and head not in (paths.ANY, EVERY_VALUE) else None
        rows.append((pattern, key, rule, members))
    return tuple(rows)


def reached(node: Any, pattern: paths.Path) -> list[tuple[tuple[str | int, ...], Any]]:
    """Every (concrete path, value) that `pattern` reaches in `node`, in order.

    Level by level over a list, not a recursive generator: the table is applied to every
    agent of a run (issue 14's profile: most of `check` was the generators)."""
    found: list[tuple[tuple[str | int, ...], Any]] = [((), node)]
    for head in pattern:
        below: list[tuple[tuple[str | int, ...], Any]] = []
        for done, item in found:
            if head == paths.ANY:
                if isinstance(item, list):
                    below.extend(((*done, index), value) for index, value in enumerate(item))
            elif head == EVERY_VALUE:
                if isinstance(item, Mapping):
                    below.extend(((*done, key), value) for key, value in item.items())
            elif isinstance(item, dict | Mapping) and item.get(head) is not None:
                below.append(((*done, head), item[head]))
        if not below:
            return below
        found = below
    return found
