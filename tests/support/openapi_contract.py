"""Checks request bodies, and the emulator's answers, against Ultravox's own OpenAPI schema,
stricter than the server.

Owns: `OpenApiContract` (path-template matching, OpenAPI 3.0 -> JSON Schema conversion,
validation with `jsonschema`; `problems` for a request body, `response_problems` for an answer)
and `default_location()`. Test support only: the product never
imports it, and it imports nothing from `reconciler` (it judges what the tool sent, so it must
not share the tool's idea of the API).

Extra rules on top of the schema, each catching a mistake the real API would not report:

* Every object schema that declares `properties` is closed. The server silently ignores an
  unknown or misplaced key, so a typo (`voise`) or a key at the wrong level would "succeed"
  and then show as a perpetual diff.
* `readOnly` properties are refused in requests; so are the `callTemplate` keys DESIGN.md lists
  as read-only although the schema does not mark them (`created`, `updated`, `name`).
* `null` is refused unless the schema says `nullable`, except for any property of an object in
  a PATCH body: clearing a key back to its default with `null` is the one documented exception
  (DESIGN.md, PATCH model).
* Free-form objects (no `properties`: `contextSchema`, `metadata`, `templateContext`,
  `additionalParams`) stay open. `format: enum`/`float`/... are ignored; `date-time`, `uuid`
  and `uri` are checked.

Answers (`response_problems`) are held to the operation's response schema for the status they
carry: every `required` property present (a required `writeOnly` one, such as a batch's
`calls`, is required in requests only), no `writeOnly` property, `null` only where the schema
says `nullable`, and objects closed as above (a field the schema does not define is a mistake
of the emulator, not a feature of the API).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

SCHEMA_FILE = Path("api") / "ultravox-openapi.yaml"
"""Where the schema sits inside the shared directory."""

SHARED_DIR_ENV = "RECONCILER_SHARED_DIR"

EXTRA_READ_ONLY: Mapping[str, frozenset[str]] = {
    # DESIGN.md: responses carry `callTemplate.created/updated/name`; the server sets them.
    "ultravox.v1.CallTemplate": frozenset({"created", "updated", "name"}),
}
"""Read-only properties per component that the schema itself does not mark `readOnly`."""

_READ_ONLY = "x-read-only-in-request"
_SCHEMA_KEYWORDS = (
    "type",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
_CHECKED_FORMATS = frozenset({"date-time", "uuid", "uri"})
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REFERENCE = re.compile(r"\{[^{}]*\}")


def default_location() -> Path:
    """`$RECONCILER_SHARED_DIR/api/...` if that variable is set, else `<repo>/../shared/api/...`."""
    shared = os.environ.get(SHARED_DIR_ENV)
    if shared:
        return Path(shared) / SCHEMA_FILE
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / SCHEMA_FILE


def skip_reason() -> str:
    return f"Ultravox OpenAPI schema not found at {default_location()}: contract check skipped"


_WRITE_ONLY = "x-write-only-in-response"
_NOT_HERE = (_READ_ONLY, _WRITE_ONLY)
"""The marker of a property this body may not carry: (in a request, in a response)."""


def _read_only(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if value:
        yield ValidationError("read-only property not allowed in a request")


def _write_only(
    validator: Any, value: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if value:
        yield ValidationError("write-only property not allowed in a response")


# types-jsonschema leaves `extend` unannotated.
_Validator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {_READ_ONLY: _read_only, _WRITE_ONLY: _write_only}
)

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper() and " " not in value:
        return False
    # RFC 3339 wants an offset: a naive time would be read in the server's timezone.
    return datetime.fromisoformat(value).tzinfo is not None


@_FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    uuid.UUID(value)
    return len(value) == 36


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme not in ("http", "https"))


class _Converter:
    """OpenAPI 3.0 schema objects -> JSON Schema 2020-12, one `$defs` entry per component and
    mode (`request`; `patch`, where every object property also accepts null; `response`)."""

    def __init__(self, components: Mapping[str, Any]) -> None:
        self.components = components
        self.defs: dict[str, Any] = {}

    def ref(self, ref: str, mode: str) -> dict[str, Any]:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref!r}")
        name = ref[len(prefix) :]
        key = f"{mode}:{name}"
        if key not in self.defs:
            self.defs[key] = {}  # placeholder: a recursive schema refers to itself
            self.defs[key] = self.convert(self.components[name], mode, owner=name)
        return {"$ref": f"#/$defs/{key}"}

    def target(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """The component a `$ref` (or a one-element `allOf` wrapper) points to, else node."""
        if "$ref" in node:
            return self.components[str(node["$ref"]).rsplit("/", 1)[-1]]  # type: ignore[no-any-return]
        wrapped = node.get("allOf")
        if isinstance(wrapped, list) and len(wrapped) == 1 and "$ref" in wrapped[0]:
            return self.target(wrapped[0])
        return node

    def convert(self, node: Any, mode: str, *, owner: str = "") -> Any:
        if not isinstance(node, Mapping):
            return node
        if "$ref" in node:  # OpenAPI 3.0: siblings of $ref are ignored
            return self.ref(str(node["$ref"]), mode)
        out: dict[str, Any] = {key: node[key] for key in _SCHEMA_KEYWORDS if key in node}
        if node.get("format") in _CHECKED_FORMATS:
            out["format"] = node["format"]
        if node.get("exclusiveMinimum") is True and "minimum" in node:
            out["exclusiveMinimum"] = out.pop("minimum")
        if node.get("exclusiveMaximum") is True and "maximum" in node:
            out["exclusiveMaximum"] = out.pop("maximum")
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword in node:
                out[keyword] = [self.convert(item, mode) for item in node[keyword]]
        if "not" in node:
            out["not"] = self.convert(node["not"], mode)
        if "items" in node:
            out["items"] = self.nullable(node["items"], mode, allow_null=False)
        properties = node.get("properties")
        # Properties a body of this mode may not carry: read-only ones in requests, write-only
        # ones in responses.
        read_only = set(EXTRA_READ_ONLY.get(owner, ())) if mode != "response" else set()
        if isinstance(properties, Mapping):
            converted = {}
            flag = "writeOnly" if mode == "response" else "readOnly"
            for name, prop in properties.items():
                if prop.get(flag) or self.target(prop).get(flag):
                    read_only.add(name)
                if name in read_only:
                    converted[name] = {_NOT_HERE[mode == "response"]: True}
                else:
                    converted[name] = self.nullable(prop, mode, allow_null=mode == "patch")
            out["properties"] = converted
        if "required" in node:
            # OpenAPI: a required readOnly property is required in responses only, a required
            # writeOnly one in requests only.
            required = [name for name in node["required"] if name not in read_only]
            if required:
                out["required"] = required
        extra = node.get("additionalProperties")
        if extra is not None:
            out["additionalProperties"] = (
                self.nullable(extra, mode, allow_null=False)
                if isinstance(extra, Mapping)
                else extra
            )
        elif isinstance(properties, Mapping):
            # The server ignores unknown keys; we refuse them (see module docstring).
            out["additionalProperties"] = False
        return out

    def nullable(self, node: Any, mode: str, *, allow_null: bool) -> Any:
        """`node` converted; accepting null when it is `nullable` or `allow_null` says so."""
        converted = self.convert(node, mode)
        if isinstance(node, Mapping) and (allow_null or node.get("nullable")):
            # if/else rather than anyOf: errors inside the non-null branch keep their own
            # path and message instead of a vague "not valid under any of the given schemas".
            return {"if": {"type": "null"}, "then": True, "else": converted}
        return converted


class _Template:
    def __init__(self, template: str, operations: Mapping[str, Any]) -> None:
        self.template = template
        self.operations = {m: op for m, op in operations.items() if m in _HTTP_METHODS}
        segments = template.strip("/").split("/")
        self.literals = sum(1 for s in segments if not s.startswith("{"))
        pattern = "/".join(
            "[^/]+" if segment.startswith("{") else re.escape(segment) for segment in segments
        )
        self.regex = re.compile("/" + pattern + ("/" if template.endswith("/") else ""))


class OpenApiContract:
    """The request bodies an Ultravox OpenAPI document allows, with the rules above."""

    def __init__(self, document: Mapping[str, Any], *, source: str = "") -> None:
        self.source = source
        components = document.get("components", {}).get("schemas", {})
        self._converter = _Converter(components)
        templates = [_Template(path, ops) for path, ops in document.get("paths", {}).items()]
        # Literal segments win over parameters (`/api/agents/usage` before `{agent_id}`).
        self._templates = sorted(templates, key=lambda t: -t.literals)
        self._validators: dict[tuple[str, str], tuple[Any, bool]] = {}

    @classmethod
    def load(cls, path: Path) -> OpenApiContract:
        return _load(path.resolve())

    @classmethod
    def load_default(cls) -> OpenApiContract | None:
        """The contract from `default_location()`, or None when the file is absent."""
        location = default_location()
        return cls.load(location) if location.is_file() else None

    def match(self, path: str) -> str | None:
        """The OpenAPI path template a concrete path belongs to."""
        found = self._match(path)
        return found.template if found else None

    def problems(self, method: str, path: str, body: Any) -> list[str]:
        """Every way `body` breaks the schema of `method path`; empty when it conforms."""
        verb = method.upper()
        shown = path.split("?", 1)[0]
        where = f"{verb} {shown}"
        template = self._match(path)
        if template is None:
            return [f"{where}: no such path in the Ultravox OpenAPI schema"]
        operation = template.operations.get(verb.lower())
        if operation is None:
            allowed = ", ".join(m.upper() for m in template.operations)
            return [f"{where}: {template.template} has no {verb} operation (only {allowed})"]
        validator, body_required = self._validator(template, verb, operation)
        if validator is None:
            return [] if body is None else [f"{where}: this operation takes no request body"]
        if body is None:
            return [f"{where}: a request body is required"] if body_required else []
        found = []
        for error in validator.iter_errors(body):
            found += [f"{where}: {text}" for text in _describe(error)]
        return sorted(set(found))

    def response_problems(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Every way an answer `body` with `status` to `method path` breaks the response
        schema the operation declares for that status; empty when it conforms."""
        verb = method.upper()
        where = f"{verb} {path.split('?', 1)[0]} -> {status}"
        template = self._match(path)
        if template is None:
            return [f"{where}: no such path in the Ultravox OpenAPI schema"]
        operation = template.operations.get(verb.lower())
        if operation is None:
            return [f"{where}: {template.template} has no {verb} operation"]
        responses = operation.get("responses") or {}
        declared = responses.get(str(status))
        if declared is None:
            listed = ", ".join(sorted(responses))
            return [f"{where}: the schema declares no {status} answer (only {listed})"]
        validator = self._response_validator(template, verb, str(status), declared)
        if validator is None:
            return [] if body is None else [f"{where}: the schema declares no body for it"]
        if body is None:
            return [f"{where}: an answer body is declared but none was sent"]
        found = []
        for error in validator.iter_errors(body):
            found += [f"{where}: {text}" for text in _describe(error)]
        return sorted(set(found))

    def _response_validator(
        self, template: _Template, verb: str, status: str, declared: Mapping[str, Any]
    ) -> Any:
        key = (template.template, f"{verb} -> {status}")
        if key not in self._validators:
            content = declared.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            if media is None or "schema" not in media:
                self._validators[key] = (None, False)
            else:
                root = self._converter.convert(media["schema"], "response")
                schema = {**root, "$defs": self._converter.defs}
                self._validators[key] = (_Validator(schema, format_checker=_FORMATS), True)
        return self._validators[key][0]

    def request_schema(self, method: str, path: str) -> dict[str, Any] | None:
        """The JSON Schema a body of `method path` is validated with (for debugging)."""
        template = self._match(path)
        operation = template.operations.get(method.lower()) if template else None
        if template is None or operation is None:
            return None
        validator, _ = self._validator(template, method.upper(), operation)
        return None if validator is None else dict(validator.schema)

    def _match(self, path: str) -> _Template | None:
        # A plan's path may still hold `{ref:Agent/x}`; it stands for one segment.
        concrete = _REFERENCE.sub("ref", path.split("?", 1)[0])
        candidates = [concrete]
        candidates.append(concrete[:-1] if concrete.endswith("/") else concrete + "/")
        for candidate in candidates:
            for template in self._templates:
                if template.regex.fullmatch(candidate):
                    return template
        return None

    def _validator(
        self, template: _Template, verb: str, operation: Mapping[str, Any]
    ) -> tuple[Any, bool]:
        key = (template.template, verb)
        if key not in self._validators:
            request_body = operation.get("requestBody") or {}
            content = request_body.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            if media is None or "schema" not in media:
                self._validators[key] = (None, False)
            else:
                mode = "patch" if verb == "PATCH" else "request"
                root = self._converter.convert(media["schema"], mode)
                schema = {**root, "$defs": self._converter.defs}
                validator = _Validator(schema, format_checker=_FORMATS)
                self._validators[key] = (validator, bool(request_body.get("required")))
        return self._validators[key]


@cache
def _load(path: Path) -> OpenApiContract:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        # The C loader when libyaml is there: the schema is 8,000 lines. Both loaders are safe.
        document = yaml.load(handle, Loader=loader)
    return OpenApiContract(document, source=str(path))


def _location(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def _describe(error: ValidationError) -> list[str]:
    """`path: message` lines; one per offending key for closed and required properties."""
    at = _location(error.absolute_path)
    instance = error.instance
    if (
        error.validator == "additionalProperties"
        and error.validator_value is False
        and isinstance(instance, Mapping)
    ):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extras = sorted(key for key in instance if key not in known)
        return [f"{_join(at, key)}: additional property not allowed" for key in extras]
    required = error.validator_value
    if (
        error.validator == "required"
        and isinstance(instance, Mapping)
        and isinstance(required, list)
    ):
        missing = [key for key in required if key not in instance]
        return [f"{_join(at, key)}: required property missing" for key in missing]
    if error.validator == "type" and instance is None:
        return [
            f"{at or '(body)'}: null is not allowed here (the schema does not mark it nullable)"
        ]
    return [f"{at or '(body)'}: {error.message}"]
