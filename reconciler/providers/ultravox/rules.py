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
    for path, rule, members in table:
        pattern = paths.parse(path)
        head = pattern[0] if pattern else paths.ANY
        wild = head in (paths.ANY, EVERY_VALUE) or not isinstance(head, str)
        if not wild and data.get(str(head)) is None:
            continue  # the row's object is not set (most rows, for most templates)
        for where, node in reached(data, pattern):
            if not isinstance(node, Mapping):
                continue
            here = (*prefix, *where)
            present = [m for m in members if node.get(m) is not None]
            listed = ", ".join(members)
            if rule == ONLY_WITH:
                first, second = members
                if first in present and second not in present:
                    found.append(Violation((*here, first), f"only allowed when {second} is set"))
            elif len(present) > 1:
                found.append(
                    Violation(
                        (*here, present[1]),
                        f"conflicts with {present[0]}: set {rule} {listed}",
                    )
                )
            elif rule == EXACTLY_ONE and not present:
                found.append(Violation(here, f"set {rule} {listed}"))
    return found


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
