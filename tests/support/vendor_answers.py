"""Holds each answer the emulator gives to the vendor's own definition of that answer.

Owns `VendorAnswers`, which judges one journal entry (method, path, status and the decoded
answer the emulator sent) by the vendor whose path it is:

* Ultravox (`/api/...`): the response schema of the operation and status in Ultravox's OpenAPI
  document (`OpenApiContract.response_problems`);
* ElevenLabs (`/v1/convai/batch-calling/...`): the official SDK's type for the operation,
  validated strictly (`sdk_types`), the operation mapped as the SDK's own client
  (`RawBatchCallsClient`) maps it;
* Threetone (`/v1/voiceai/batch-calling/...`): the fields of seed 002, its submit page: the
  response example's fields exactly, each of its documented type, required fields non-null,
  enums among the listed options; the recipients' client data with exactly the request
  example's fields.

Only successful answers (2xx) are judged: an error body is the vendor's error shape, and a
fault armed by a test is not an answer of the API; nor is an answer the emulator marks
`verbatim` (it carries an agent a test seeded as is, to play odd live state). Test support
only: imports nothing from `reconciler` or `reconciler_emulator`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from tests.support import sdk_types, seed002
from tests.support.openapi_contract import OpenApiContract

ELEVENLABS = "/v1/convai/batch-calling"
THREETONE = "/v1/voiceai/batch-calling"

# (method, path below the prefix) -> the SDK type of the answer, as RawBatchCallsClient has it.
ELEVENLABS_OPERATIONS: tuple[tuple[str, re.Pattern[str], str | None], ...] = (
    ("POST", re.compile(r"^/submit$"), "BatchCallResponse"),
    ("GET", re.compile(r"^/workspace$"), "WorkspaceBatchCallsResponse"),
    ("GET", re.compile(r"^/[^/]+$"), "BatchCallDetailedResponse"),
    ("DELETE", re.compile(r"^/[^/]+$"), None),  # no body
    ("POST", re.compile(r"^/[^/]+/cancel$"), "BatchCallResponse"),
    ("POST", re.compile(r"^/[^/]+/retry$"), "BatchCallResponse"),
    ("GET", re.compile(r"^/[^/]+/export$"), "csv"),
)

RECIPIENT_FIELDS = (
    "id",
    "phone_number",
    "whatsapp_user_id",
    "status",
    "created_at_unix",
    "updated_at_unix",
    "conversation_id",
    "conversation_initiation_client_data",
)
"""A recipient in `GET {id}`: not on seed 002's page; DESIGN.md says it is ElevenLabs' shape."""
RECIPIENT_STATUSES = (
    "pending",
    "dispatched",
    "initiated",
    "in_progress",
    "completed",
    "failed",
    "cancelled",
    "voicemail",
)


def _sdk_type(name: str) -> Any:
    import elevenlabs  # the dev extra; callers check that it is installed

    return getattr(elevenlabs, name)


class VendorAnswers:
    def __init__(
        self,
        contract: OpenApiContract | None,
        seed: seed002.Seed002 | None,
        sdk: bool,
    ) -> None:
        self.contract = contract
        self.seed = seed
        self.sdk = sdk

    @classmethod
    def load_default(cls) -> VendorAnswers:
        try:
            import elevenlabs  # noqa: F401
        except ImportError:
            sdk = False
        else:
            sdk = True
        return cls(OpenApiContract.load_default(), seed002.load_default(), sdk)

    def problems(self, entry: Mapping[str, Any]) -> list[str]:
        status = int(entry["status"])
        if not 200 <= status < 300 or entry.get("verbatim"):
            return []  # an error, or state a test seeded as is (odd live state)
        method, path, answer = entry["method"], entry["path"], entry.get("response")
        if path.startswith("/api/"):
            if self.contract is None:
                return []
            return self.contract.response_problems(method, path, status, answer)
        if path.startswith(ELEVENLABS + "/") and self.sdk:
            return self._elevenlabs(method, path[len(ELEVENLABS) :], status, answer)
        if path.startswith(THREETONE + "/") and self.seed is not None:
            where = f"{method} {path} -> {status}"
            return [
                f"{where}: {p}" for p in self._threetone(method, path[len(THREETONE) :], answer)
            ]
        return []

    def request_problems(self, entry: Mapping[str, Any]) -> list[str]:
        """A batch-calling submit body, held to what the vendor's submit takes: ElevenLabs'
        the SDK's `create` parameters and `OutboundCallRecipient`, Threetone's seed 002's Body
        and request example (an unknown field would be silently ignored by the server)."""
        method, path, body = entry["method"], entry["path"], entry.get("body")
        where = f"{method} {path}"
        if method != "POST" or not path.endswith("/submit") or not isinstance(body, dict):
            return []
        if path.startswith(ELEVENLABS + "/") and self.sdk:
            from elevenlabs.conversational_ai.batch_calls.client import BatchCallsClient

            parameters = inspect.signature(BatchCallsClient.create).parameters
            allowed = set(parameters) - {"self", "request_options"}
            found = [
                f"{where}: {k}: not a parameter of the SDK's create"
                for k in sorted(set(body) - allowed)
            ]
            for index, recipient in enumerate(body.get("recipients") or []):
                found += [
                    f"{where}: recipients[{index}].{p}"
                    for p in sdk_types.problems(
                        _sdk_type("OutboundCallRecipient"), recipient, complete=False
                    )
                ]
            return found
        if path.startswith(THREETONE + "/") and self.seed is not None:
            found = [
                f"{where}: {k}: not in seed 002's Body"
                for k in sorted(set(body) - set(self.seed.request_fields))
            ]
            example = self.seed.request["recipients"][0]
            for index, recipient in enumerate(body.get("recipients") or []):
                at = f"recipients[{index}]"
                found += [f"{where}: {p}" for p in _like(at, recipient, example, complete=False)]
            return found
        return []

    # --- ElevenLabs: the SDK's types -------------------------------------------------------------

    def _elevenlabs(self, method: str, rest: str, status: int, answer: Any) -> list[str]:
        where = f"{method} {ELEVENLABS}{rest} -> {status}"
        type_name = next(
            (
                name
                for verb, pattern, name in ELEVENLABS_OPERATIONS
                if verb == method and pattern.match(rest)
            ),
            "none",
        )
        if type_name == "none":
            return [f"{where}: the SDK has no such operation"]
        if type_name is None:
            return []
        if type_name == "csv":
            return [] if isinstance(answer, str) else [f"{where}: the export is not CSV text"]
        return [f"{where}: {p}" for p in sdk_types.problems(_sdk_type(type_name), answer)]

    # --- Threetone: seed 002 ---------------------------------------------------------------------

    def _threetone(self, method: str, rest: str, answer: Any) -> list[str]:
        if method == "DELETE":
            return []
        if rest == "/workspace":
            if not isinstance(answer, dict) or set(answer) != {
                "batch_calls",
                "next_doc",
                "has_more",
            }:
                return [f"a workspace page has batch_calls, next_doc, has_more: {answer!r:.200}"]
            found: list[str] = []
            for index, batch in enumerate(answer["batch_calls"]):
                found += [f"batch_calls[{index}].{p}" for p in self._batch(batch)]
            return found
        if method == "GET" and rest.count("/") == 1:
            return self._batch(answer, recipients=True)
        return self._batch(answer)

    def _batch(self, batch: Any, *, recipients: bool = False) -> list[str]:
        assert self.seed is not None
        if not isinstance(batch, dict):
            return [f"not an object: {batch!r:.100}"]
        expected = set(self.seed.response) | ({"recipients"} if recipients else set())
        found = _keys(batch, expected, "")
        for name, field in self.seed.response_fields.items():
            if name not in batch:
                continue
            found += _documented(field, batch[name], self.seed.response.get(name))
        if recipients and isinstance(batch.get("recipients"), list):
            data = self.seed.request["recipients"][0]["conversation_initiation_client_data"]
            for index, recipient in enumerate(batch["recipients"]):
                found += [f"recipients[{index}].{p}" for p in _recipient(recipient, data)]
        return found


def _keys(value: Mapping[str, Any], expected: set[str], at: str) -> list[str]:
    missing = sorted(expected - set(value))
    extra = sorted(set(value) - expected)
    return [f"{at}{k}: missing (seed 002 has it)" for k in missing] + [
        f"{at}{k}: not in seed 002" for k in extra
    ]


def _documented(field: seed002.Documented, value: Any, example: Any) -> list[str]:
    name = field.name
    if value is None:
        if field.required and "null" not in field.type:
            return [f"{name}: null, but seed 002 says it is required"]
        return []
    kind = field.type.split(" ")[0]
    if kind == "string" and not isinstance(value, str):
        return [f"{name}: {value!r} is not a string"]
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return [f"{name}: {value!r} is not an integer"]
    if kind.startswith("enum") and value not in field.options:
        return [f"{name}: {value!r} is not one of {', '.join(field.options)}"]
    if isinstance(example, dict):
        if not isinstance(value, dict):
            return [f"{name}: {value!r} is not an object"]
        return _keys(value, set(example), f"{name}.") + [
            f"{name}.{k}: {v!r} is not a string"
            for k, v in value.items()
            if v is not None and not isinstance(v, str)
        ]
    return []


def _recipient(recipient: Any, data_example: Mapping[str, Any]) -> list[str]:
    if not isinstance(recipient, dict):
        return [f"not an object: {recipient!r:.100}"]
    found = _keys(recipient, set(RECIPIENT_FIELDS), "")
    if recipient.get("status") not in RECIPIENT_STATUSES:
        found.append(f"status: {recipient.get('status')!r} is not a recipient status")
    if not isinstance(recipient.get("id"), str):
        found.append("id: not a string")
    found += _like(
        "conversation_initiation_client_data",
        recipient.get("conversation_initiation_client_data"),
        data_example,
    )
    return found


def _like(at: str, value: Any, example: Any, *, complete: bool = True) -> list[str]:
    """`value` has the shape of seed 002's request example `example` (null is always allowed):
    no key the example lacks, and (`complete`, an answer) every key it has."""
    if value is None:
        return []
    if isinstance(example, dict):
        if not isinstance(value, dict):
            return [f"{at}: {value!r:.60} is not an object"]
        if not example:
            return []  # `{}` in the example: a free-form object
        found = _keys(value, set(example), f"{at}.")
        if not complete:
            found = [p for p in found if not p.endswith("missing (seed 002 has it)")]
        for key, inner in example.items():
            if key in value:
                found += _like(f"{at}.{key}", value[key], inner, complete=complete)
        return found
    if isinstance(example, list):
        if not isinstance(value, list):
            return [f"{at}: {value!r:.60} is not a list"]
        if not example:
            return []
        return [p for item in value for p in _like(f"{at}[]", item, example[0], complete=complete)]
    if isinstance(example, bool):
        return [] if isinstance(value, bool) else [f"{at}: {value!r:.60} is not a boolean"]
    if isinstance(example, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{at}: {value!r:.60} is not a number"]
    if isinstance(example, str):
        return [] if isinstance(value, str) else [f"{at}: {value!r:.60} is not a string"]
    return []
