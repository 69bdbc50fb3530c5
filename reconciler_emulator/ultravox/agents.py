"""Agent rules of the emulated Ultravox API: what a callTemplate stores and how it reads back.

Owns: the table of callTemplate keys, protobuf-JSON duration formatting, proto3 zero-value
omission, documented defaults and server-computed fields (`model`, `contextSchema`), agent-name
rules and THE PATCH MERGE MODEL (`merge_template`). Pure functions on JSON values: must not
import starlette, uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence

from reconciler_apis import ultravox as ultravox_api
from reconciler_emulator.jsontypes import JSON

NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")

TEMPLATE_KEYS = frozenset(
    {
        "name",
        "created",
        "updated",
        "medium",
        "initialOutputMedium",
        "joinTimeout",
        "maxDuration",
        "vadSettings",
        "recordingEnabled",
        "firstSpeakerSettings",
        "systemPrompt",
        "temperature",
        "model",
        "voice",
        "externalVoice",
        "voiceOverrides",
        "languageHint",
        "timeExceededMessage",
        "inactivityMessages",
        "selectedTools",
        "dataConnection",
        "contextSchema",
        "sharedSecrets",
        "retentionPolicy",
    }
)
"""Every key of ultravox.v1.CallTemplate in the OpenAPI schema; any other key is dropped."""

TEMPLATE_READ_ONLY = frozenset({"name", "created", "updated"})
TEMPLATE_WRITE_ONLY = frozenset({"sharedSecrets"})

DURATION_PATHS: tuple[str, ...] = (
    "joinTimeout",
    "maxDuration",
    "vadSettings.turnEndpointDelay",
    "vadSettings.minimumTurnDuration",
    "vadSettings.minimumInterruptionDuration",
    "firstSpeakerSettings.agent.delay",
    "firstSpeakerSettings.user.fallback.delay",
    "inactivityMessages[].duration",
    "selectedTools[].temporaryTool.timeout",
    "medium.serverWebSocket.mediaIdleTimeout",
)
"""google.protobuf.Duration fields of a callTemplate (`[]`: every element of a list)."""

DEFAULTS: Mapping[str, JSON] = {
    default.path: default.value for default in ultravox_api.CALL_TEMPLATE_DEFAULTS if default.shown
}
"""Documented defaults the emulator writes into responses when the template leaves them unset
(`reconciler_apis.ultravox`, where each is documented)."""

SERVER_MODEL = ultravox_api.SERVER_MODEL
"""What responses show for `model` when none was set (not the documented ultravox-v0.7)."""

TEMPLATED_PATHS: tuple[str, ...] = (
    "systemPrompt",
    "languageHint",
    "timeExceededMessage",
    "inactivityMessages[].message",
)
"""Fields whose `{{variables}}` make up the generated `contextSchema`."""

STRUCT_KEYS = frozenset(
    {
        "contextSchema",
        "schema",
        "value",
        "parameterOverrides",
        "additionalParams",
        "body",
        "headers",
        "authTokens",
        "metadata",
        "initialState",
        "experimentalSettings",
    }
)
"""google.protobuf.Struct/Value (or map) fields: proto3 keeps their contents verbatim, zeros too."""

ENUM_FIELDS: Mapping[str, frozenset[str]] = {
    "initialOutputMedium": frozenset(
        {"MESSAGE_MEDIUM_UNSPECIFIED", "MESSAGE_MEDIUM_VOICE", "MESSAGE_MEDIUM_TEXT"}
    ),
    "retentionPolicy": frozenset(
        {
            "CALL_RETENTION_POLICY_UNSPECIFIED",
            "CALL_RETENTION_POLICY_RETAIN",
            "CALL_RETENTION_POLICY_AUTO_DELETE",
        }
    ),
}

_DURATION = re.compile(r"^(-)?(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,9}))?s$")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_.]*)?\s*\}\}")
_UNSPECIFIED_ENUM = re.compile(r"^[A-Z][A-Z0-9_]*_UNSPECIFIED$")


class TemplateError(ValueError):
    """A callTemplate the server cannot parse; the message is what the 400 body says."""


def format_duration(text: JSON) -> str:
    """A duration as protobuf JSON prints it: 0, 3, 6 or 9 fractional digits.

    `"0.5s"` -> `"0.500s"`, `"1.0s"` -> `"1s"`; raises ValueError for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a duration string such as '30s', got {text!r}")
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}")
    sign, seconds, fraction = match.groups()
    digits = (fraction or "").ljust(9, "0")
    nanos = int(digits)
    if nanos == 0:
        body = seconds
    elif nanos % 1_000_000 == 0:
        body = f"{seconds}.{digits[:3]}"
    elif nanos % 1_000 == 0:
        body = f"{seconds}.{digits[:6]}"
    else:
        body = f"{seconds}.{digits}"
    negative = sign is not None and (int(seconds) != 0 or nanos != 0)
    return ("-" if negative else "") + body + "s"


def duration_seconds(text: str) -> float:
    """Seconds of a protobuf duration string (already validated)."""
    return float(text.removesuffix("s"))


def map_path(node: JSON, path: str, fn: Callable[[JSON], JSON]) -> JSON:
    """Apply `fn` in place to the value at a dotted path (`a[].b`); absent paths are skipped."""
    return _map_parts(node, path.split("."), fn)


def _map_parts(node: JSON, parts: Sequence[str], fn: Callable[[JSON], JSON]) -> JSON:
    if not parts:
        return fn(node)
    head, rest = parts[0], parts[1:]
    key = head.removesuffix("[]")
    if not isinstance(node, dict) or node.get(key) is None:
        return node
    child = node[key]
    if head.endswith("[]"):
        if isinstance(child, list):
            node[key] = [_map_parts(item, rest, fn) for item in child]
    else:
        node[key] = _map_parts(child, rest, fn)
    return node


def values_at(node: JSON, path: str) -> list[JSON]:
    """Every value found at a dotted path (`a[].b`), where `map_path` would apply its function;
    `node` is only read (every answer that shows an agent asks, so no copy is made)."""
    found: list[JSON] = []

    def collect(value: JSON, parts: Sequence[str]) -> None:
        if not parts:
            found.append(value)
            return
        head, rest = parts[0], parts[1:]
        key = head.removesuffix("[]")
        if not isinstance(value, dict) or value.get(key) is None:
            return
        child = value[key]
        if not head.endswith("[]"):
            collect(child, rest)
        elif isinstance(child, list):
            for item in child:
                collect(item, rest)

    collect(node, path.split("."))
    return found


def _is_zero(value: JSON) -> bool:
    if value is None or value is False or value == "" or value == []:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return True
    return isinstance(value, str) and _UNSPECIFIED_ENUM.match(value) is not None


def omit_zero(value: JSON) -> JSON:
    """Drop what proto3 JSON never prints: unset/null, 0, false, "", [] and *_UNSPECIFIED.

    Set sub-messages stay even when empty (`{"agent": {}}` means something); Struct-typed
    fields are kept verbatim because proto3 prints their contents as given.
    """
    if isinstance(value, dict):
        out: dict[str, JSON] = {}
        for key, item in value.items():
            if key in STRUCT_KEYS:
                if item is not None:
                    out[key] = item
            elif not _is_zero(item):
                out[key] = omit_zero(item)
        return out
    if isinstance(value, list):
        return [omit_zero(item) for item in value]
    return value


def canonical_template(raw: Mapping[str, JSON]) -> dict[str, JSON]:
    """What the server stores for a written callTemplate, as a protobuf message would hold it.

    Unknown and read-only keys are dropped silently (a protobuf-backed server ignores them),
    durations are re-printed canonically, zero values vanish. Raises `TemplateError`.
    """
    template: dict[str, JSON] = {
        key: copy.deepcopy(value)
        for key, value in raw.items()
        if key in TEMPLATE_KEYS and key not in TEMPLATE_READ_ONLY
    }
    for path in DURATION_PATHS:

        def reformat(value: JSON, path: str = path) -> JSON:
            try:
                return format_duration(value)
            except ValueError as exc:
                raise TemplateError(f"Failed to parse {path} field: {exc}.") from None

        map_path(template, path, reformat)
    temperature = template.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 1
    ):
        raise TemplateError("Failed to parse temperature field: expected a number from 0 to 1.")
    for key, allowed in ENUM_FIELDS.items():
        value = template.get(key)
        if value is not None and value not in allowed:
            raise TemplateError(f"Failed to parse {key} field: invalid enum value {value!r}.")
    for key in ("systemPrompt", "voice", "model", "languageHint", "timeExceededMessage"):
        value = template.get(key)
        if value is not None and not isinstance(value, str):
            raise TemplateError(f"Failed to parse {key} field: expected a string.")
    for key in ("inactivityMessages", "selectedTools", "sharedSecrets"):
        value = template.get(key)
        if value is not None and not isinstance(value, list):
            raise TemplateError(f"Failed to parse {key} field: expected a list.")
    result = omit_zero(template)
    assert isinstance(result, dict)
    return result


# --- PATCH model -------------------------------------------------------------------------------
# The one place the emulator's PATCH semantics live (DESIGN.md, "The vendor APIs"); change a
# line here if the live API proves otherwise.
#   * top-level keys of the agent merge: a key absent from the request is left alone;
#   * inside `callTemplate` the top-level keys merge the same way, but each key's value (a nested
#     object or a list) is REPLACED WHOLE, never merged deeper;
#   * `null` clears a callTemplate key back to its default (proto3 JSON reads null as "unset");
#     `callTemplate: null` itself clears the whole template (Store.patch_agent);
#   * read-only keys (callTemplate.name/created/updated, and agentId, created, statistics,
#     publishedRevisionId at the top) are ignored; unknown callTemplate keys are dropped.
def merge_template(stored: Mapping[str, JSON], patch: Mapping[str, JSON]) -> dict[str, JSON]:
    """The stored template after a PATCH of `callTemplate` with `patch`. Raises TemplateError."""
    merged = dict(stored)
    for key, value in patch.items():
        if key not in TEMPLATE_KEYS or key in TEMPLATE_READ_ONLY:
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return canonical_template(merged)


def context_schema(template: Mapping[str, JSON]) -> dict[str, JSON] | None:
    """The schema the server generates from the `{{variables}}` of templated fields, or None."""
    names: set[str] = set()
    for path in TEMPLATED_PATHS:
        for text in values_at(dict(template), path):
            if isinstance(text, str):
                names.update(match.group(1) for match in _VARIABLE.finditer(text))
    if not names:
        return None
    ordered = sorted(names)
    return {
        "type": "object",
        "properties": {name: {"type": "string"} for name in ordered},
        "required": ordered,
    }


def render_template(
    stored: Mapping[str, JSON], *, name: JSON, created: str, updated: str
) -> dict[str, JSON]:
    """The callTemplate as a response shows it: read-only fields, defaults and computed fields in,
    write-only fields out."""
    body = omit_zero({k: v for k, v in stored.items() if k not in TEMPLATE_WRITE_ONLY})
    assert isinstance(body, dict)
    for key, value in DEFAULTS.items():
        body.setdefault(key, copy.deepcopy(value))
    body.setdefault("model", SERVER_MODEL)
    if "contextSchema" not in body:
        schema = context_schema(body)
        if schema is not None:
            body["contextSchema"] = schema
    return {"name": name, "created": created, "updated": updated, **body}


def name_error(name: JSON) -> str | None:
    """Why `name` is not a valid agent name, or None when it is."""
    if not isinstance(name, str):
        return "Not a valid string."
    if NAME_PATTERN.fullmatch(name) is None:
        return "Agent names must match ^[a-zA-Z0-9_-]{1,64}$."
    return None


def render_text(text: str, context: Mapping[str, JSON]) -> str:
    """A templated string with its `{{variables}}` filled from a call's templateContext."""

    def fill(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        return match.group(0) if value is None else str(value)

    return _VARIABLE.sub(fill, text)
