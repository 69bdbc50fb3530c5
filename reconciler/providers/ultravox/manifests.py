"""What an Ultravox `Agent` manifest document may say.

Owns `AgentManifest` (one YAML document of kind `Agent`), `AgentCallTemplate` (the generated
`CallTemplate` without its read-only fields), and the validation of
`ignoreChanges` paths. Field names are the API's own camelCase names, so users can copy from
the vendor docs. Every model forbids unknown fields. The one-of rules live in `rules.py`; the
model exposes them to the loader through `rule_violations` (see `reconciler.manifests.loader`).
Must not import httpx, deepdiff or click, and does no I/O.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
)
from pydantic_core import PydanticCustomError

from reconciler.core import fieldpaths as paths
from reconciler.manifests import loader as manifest
from reconciler.manifests.fields import NAME_PATTERN, Lifecycle
from reconciler.providers.ultravox import rules
from reconciler.providers.ultravox.schema import CallTemplate

CALL_TEMPLATE = "callTemplate"

DURATIONS = (
    "callTemplate.joinTimeout",
    "callTemplate.maxDuration",
    "callTemplate.vadSettings.turnEndpointDelay",
    "callTemplate.vadSettings.minimumTurnDuration",
    "callTemplate.vadSettings.minimumInterruptionDuration",
    "callTemplate.firstSpeakerSettings.agent.delay",
    "callTemplate.firstSpeakerSettings.user.fallback.delay",
    "callTemplate.inactivityMessages[].duration",
    "callTemplate.selectedTools[].temporaryTool.timeout",
)
"""The duration fields of a CallTemplate (compared canonically; never negative)."""


def _reject_read_only(value: object) -> NoReturn:
    raise PydanticCustomError(
        "read_only", "read-only field: the server sets it; remove it from the manifest"
    )


# A field the API returns but never accepts. It stays declared (with the `readOnly` marker the
# loader reads) rather than being dropped, so that writing it is "read-only", not "unknown".
ReadOnly = Annotated[
    None,
    BeforeValidator(_reject_read_only),
    Field(json_schema_extra={manifest.READ_ONLY: True}),
]


class AgentCallTemplate(CallTemplate):
    """`ultravox.v1.CallTemplate` as a manifest may write it: without read-only fields."""

    name: ReadOnly = None
    created: ReadOnly = None
    updated: ReadOnly = None


def _check_ignore_path(text: str) -> str:
    last = paths.parse(text)[-1:]
    if text != CALL_TEMPLATE and not text.startswith(CALL_TEMPLATE + "."):
        reason = f'"{text}" must start with "{CALL_TEMPLATE}." (only callTemplate fields drift)'
    elif last and (isinstance(last[0], int) or last[0] == paths.ANY):
        # The normalizer drops ignored paths as object keys; a list element is not one.
        reason = f'"{text}" must end in a field name, not a list element'
    else:
        problem = manifest.field_path_problem(AgentManifest, text)
        reason = f'"{text}": {problem}' if problem else ""
    if reason:
        # The reason goes in the context: a path may hold braces the template would expand.
        raise PydanticCustomError("ignore_path", "{reason}", {"reason": reason})
    return text


IgnorePath = Annotated[StrictStr, AfterValidator(_check_ignore_path)]


def _none() -> list[str]:
    # Not `list`: pydantic reads a default factory's signature, and the first signature of a
    # builtin compiles the tokenizer's patterns, 3 ms of every command that reads an agent.
    return []


class AgentManifest(BaseModel):
    """One `kind: Agent` document."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["Agent"]
    name: Annotated[StrictStr, Field(pattern=NAME_PATTERN)]
    """The agent's name in Ultravox and its identity in the manifests."""
    previousNames: list[Annotated[StrictStr, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=_none
    )
    """Names the agent had before: a live agent of one of them, while none has `name`, is this
    agent renamed (one PATCH of `name`, same id), not another one to create."""
    description: StrictStr | None = None
    """Free text for the reader of the manifest; never sent."""
    callTemplate: AgentCallTemplate | None = None
    ignoreChanges: list[IgnorePath] = Field(default_factory=_none)
    """Paths under `callTemplate` left to the console: compared on neither side."""
    lifecycle: Lifecycle | None = None

    @functools.cached_property
    def template_body(self) -> dict[str, Any] | None:
        """The fields of `callTemplate` this document set, as the API spells them (JSON
        values): what a create sends, and what the rules are checked on (dumped once: a
        dump is a tenth of validating an agent). Not to be changed by its users."""
        if self.callTemplate is None:
            return None
        return self.callTemplate.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def rule_violations(self) -> list[rules.Violation]:
        """The one-of rules of `rules.py`, on the fields this document set."""
        # The rules read presence and duration strings, which a JSON dump keeps as they are.
        data = self.template_body
        if data is None:
            return []
        found = rules.check(data, prefix=(CALL_TEMPLATE,))
        # The schema's duration pattern admits "-5s"; no timeout or delay is negative.
        document = {CALL_TEMPLATE: data}
        for pattern in _DURATION_PATHS:
            if data.get(str(pattern[1])) is None:
                continue  # callTemplate.<field> not set: nothing below it either
            for path, value in rules.reached(document, pattern):
                if isinstance(value, str) and value.startswith("-"):
                    found.append(rules.Violation(path, "a duration cannot be negative"))
        return found


_DURATION_PATHS = tuple(paths.parse(pattern) for pattern in DURATIONS)
