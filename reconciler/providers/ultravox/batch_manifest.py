"""The `ScheduledBatch` manifest: an outbound campaign on an Ultravox agent.

Owns the manifest model (fields as the API spells them, plus `name`, `agent`/`agentId` and
`callsFrom`), the per-call rules (E.164 numbers, one medium, metadata strings without reserved
prefixes), and loading recipients from CSV or JSONL files with errors pinned to file and line.
Must not import httpx or deepdiff.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconciler.core.errors import Diagnostic
from reconciler.core.masking import mask_number
from reconciler.core.requestpaths import ID_PATTERN
from reconciler.manifests.fields import E164_PATTERN, NAME_PATTERN, Lifecycle, is_e164
from reconciler.manifests.recipients import FileProblem, jsonl_objects
from reconciler.providers.ultravox.schema import CallMedium

RESERVED_PREFIXES = ("ultravox.", "reconciler.")
BATCH_KEY = "reconciler.batch"
RECIPIENT_KEY = "reconciler.recipient"
OUTGOING_MEDIA = ("twilio", "telnyx", "plivo", "sip")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduledCallManifest(_Closed):
    """One call of a batch (`ScheduledCall` without its read-only fields)."""

    medium: CallMedium | None = None
    templateContext: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    experimentalSettings: Any = None

    @model_validator(mode="after")
    def _rules(self) -> ScheduledCallManifest:
        problems = call_problems(self.model_dump(mode="json", by_alias=True, exclude_none=True))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class CallsFrom(_Closed):
    """Recipients from a file, relative to the manifest (see the README for the columns)."""

    file: str
    medium: Literal["twilio", "telnyx", "plivo", "sip"] = "twilio"
    from_: str | None = Field(default=None, alias="from", pattern=E164_PATTERN)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("file")
    @classmethod
    def _suffix(cls, value: str) -> str:
        return _recipients_file(value)


def _recipients_file(value: str) -> str:
    if not value.endswith((".csv", ".jsonl")):
        raise ValueError("callsFrom must name a .csv or .jsonl file")
    return value


class ScheduledBatchManifest(_Closed):
    kind: Literal["ScheduledBatch"]
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    agent: str | None = Field(default=None, pattern=NAME_PATTERN)
    agentId: str | None = Field(default=None, pattern=ID_PATTERN)
    """Goes into request paths: an id of letters, digits and `._~:-` (no `/`, no `..`)."""
    windowStart: datetime | None = None
    windowEnd: datetime | None = None
    paused: bool | None = None
    webhookUrl: str | None = Field(default=None, max_length=200, pattern=r"^https?://\S+$")
    webhookSecret: str | None = Field(default=None, max_length=120)
    calls: list[ScheduledCallManifest] | None = None
    callsFrom: str | CallsFrom | None = None
    lifecycle: Lifecycle | None = None

    @field_validator("callsFrom")
    @classmethod
    def _short_form(cls, value: str | CallsFrom | None) -> str | CallsFrom | None:
        # `callsFrom: recipients.csv` follows the same rule as the object form's `file`.
        return _recipients_file(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _rules(self) -> ScheduledBatchManifest:
        if (self.agent is None) == (self.agentId is None):
            raise ValueError("set exactly one of agent (an Agent manifest's name) or agentId")
        for moment, label in ((self.windowStart, "windowStart"), (self.windowEnd, "windowEnd")):
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"{label} needs a time zone, e.g. 2026-12-01T09:00:00Z")
        if self.windowStart and self.windowEnd and self.windowEnd <= self.windowStart:
            raise ValueError("windowEnd must be after windowStart")
        if not self.calls and self.callsFrom is None:
            raise ValueError("a batch needs recipients: calls, callsFrom, or both")
        return self


def _medium_kind(call: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    medium = call.get("medium") or {}
    kinds = [k for k, v in medium.items() if v is not None]
    return (kinds[0] if len(kinds) == 1 else None), medium


def destination(call: dict[str, Any]) -> str | None:
    """The number an outgoing call dials, or None for a call that is not outgoing."""
    kind, medium = _medium_kind(call)
    if kind in OUTGOING_MEDIA:
        outgoing = (medium.get(kind) or {}).get("outgoing")
        if isinstance(outgoing, dict):
            return str(outgoing.get("to", ""))
    return None


def call_problems(call: dict[str, Any]) -> list[str]:
    """What is wrong with one call, as the API and its telephony would see it."""
    problems: list[str] = []
    medium = call.get("medium")
    if isinstance(medium, dict):
        set_media = [k for k, v in medium.items() if v is not None]
        if len(set_media) != 1:
            problems.append(f"medium: set exactly one medium, found {len(set_media)}")
    number = destination(call)
    # Numbers are masked even when malformed: an error message is a log line.
    if number is not None and not is_e164(number):
        problems.append(f"medium: {mask_number(number)!r} is not an E.164 number like +14155550100")
    if number is not None:
        kind, media = _medium_kind(call)
        caller = ((media.get(kind or "") or {}).get("outgoing") or {}).get("from")
        if caller is not None and kind != "sip" and not is_e164(str(caller)):
            problems.append(f"medium: caller {mask_number(str(caller))!r} is not an E.164 number")
    for key in call.get("metadata") or {}:
        if key.startswith(RESERVED_PREFIXES):
            problems.append(
                f"metadata key {key!r} is reserved (keys may not start with "
                + " or ".join(repr(p) for p in RESERVED_PREFIXES)
                + ")"
            )
    return problems


def recipient_key(call: dict[str, Any]) -> str:
    """A stable id for a recipient, written to the call's metadata; holds no phone number."""
    number = destination(call)
    if number:
        basis = f"tel:{number}"
    else:
        # Not outgoing: the call itself (user metadata included, reserved keys not) is its id.
        metadata = {
            k: v for k, v in (call.get("metadata") or {}).items() if not k.startswith("reconciler.")
        }
        basis = "call:" + json.dumps({**call, "metadata": metadata}, sort_keys=True)
    return "r-" + hashlib.sha256(basis.encode()).hexdigest()[:20]


def _csv_calls(path: Path, spec: CallsFrom, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "to" not in fields:
            raise FileProblem(shown, 1, f"the header needs a 'to' column (found {fields})")
        if "from" not in fields and spec.from_ is None:
            raise FileProblem(shown, 1, "no 'from' column and no callsFrom.from caller number")
        unknown = [
            f
            for f in fields
            if f not in ("to", "from") and not f.startswith(("context.", "metadata."))
        ]
        if unknown:
            raise FileProblem(
                shown,
                1,
                f"unknown columns {unknown}; use to, from, context.<name>, metadata.<name>",
            )
        for row in reader:
            line = reader.line_num
            if None in row:
                raise FileProblem(shown, line, "more cells than the header has columns")
            outgoing: dict[str, Any] = {"to": (row.get("to") or "").strip()}
            caller = (row.get("from") or "").strip() or spec.from_
            if caller:
                outgoing["from"] = caller
            call: dict[str, Any] = {"medium": {spec.medium: {"outgoing": outgoing}}}
            context = {k[8:]: v for k, v in row.items() if k.startswith("context.") and v != ""}
            metadata = {k[9:]: v for k, v in row.items() if k.startswith("metadata.") and v != ""}
            if context:
                call["templateContext"] = context
            if metadata:
                call["metadata"] = metadata
            yield line, call


def load_recipients(
    callsfrom: str | CallsFrom, manifest_file: str
) -> tuple[list[tuple[str, int, dict[str, Any]]], list[Diagnostic]]:
    """Calls from a CSV/JSONL file: (file, line, call) for each, and every problem found."""
    try:
        spec = CallsFrom(file=callsfrom) if isinstance(callsfrom, str) else callsfrom
    except ValidationError:
        return [], [Diagnostic(manifest_file, 1, "callsFrom must name a .csv or .jsonl file")]
    path = Path(manifest_file).parent / spec.file
    shown = str(path)
    if not path.is_file():
        return [], [Diagnostic(manifest_file, 1, f"callsFrom: no such file {shown}")]
    rows = (
        _csv_calls(path, spec, shown)
        if spec.file.endswith(".csv")
        else jsonl_objects(path, shown, "one call")
    )
    calls: list[tuple[str, int, dict[str, Any]]] = []
    problems: list[Diagnostic] = []
    try:
        for line, call in rows:
            try:
                model = ScheduledCallManifest.model_validate(call)
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(p) for p in error["loc"])
                    message = str(error["msg"]).removeprefix("Value error, ")
                    problems.append(
                        Diagnostic(shown, line, f"{where + ': ' if where else ''}{message}")
                    )
                continue
            calls.append(
                (shown, line, model.model_dump(mode="json", by_alias=True, exclude_none=True))
            )
    except FileProblem as problem:
        problems.append(problem.diagnostic)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(Diagnostic(shown, 1, f"cannot read recipients: {exc}"))
    return calls, problems
