"""The `ScheduledBatch` manifest: an outbound campaign on an Ultravox agent.

Owns the manifest model (fields as the API spells them, plus `name`, `agent`/`agentId`,
`callsFrom` and `defaultRegion`), the per-call rules (phone numbers read with `phonenumbers` and
kept in E.164, one medium, metadata strings without reserved prefixes), and loading recipients
from CSV or JSONL files with errors pinned to file and line.
Must not import httpx or deepdiff.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconciler.core.errors import Diagnostic
from reconciler.core.masking import mask_number
from reconciler.core.requestpaths import ID_PATTERN
from reconciler.manifests.fields import (
    NAME_PATTERN,
    E164Number,
    Lifecycle,
    Region,
    canonical_number,
    canonical_or_same,
    is_e164,
    known_region,
)
from reconciler.manifests.loader import check_row
from reconciler.manifests.recipients import (
    FileProblem,
    Part,
    RowModel,
    as_read,
    jsonl_objects,
    read_in_two,
    read_rows,
    skip_rows,
)
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

    def rule_violations(self) -> list[tuple[tuple[str | int, ...], str]]:
        """The call's rules (`call_violations`), each at the key it is about."""
        return call_violations(self.model_dump(mode="json", by_alias=True, exclude_none=True))


class CallsFrom(_Closed):
    """Recipients from a file, relative to the manifest (see the README for the columns)."""

    file: str
    medium: Literal["twilio", "telnyx", "plivo", "sip"] = "twilio"
    from_: E164Number | None = Field(default=None, alias="from")

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
    defaultRegion: Region | None = None
    """The country whose national format numbers without `+` are in (`US`): `(415) 555-0100`
    is then read as +14155550100. Absent: every number needs its country code."""
    calls: list[ScheduledCallManifest] | None = None
    callsFrom: str | CallsFrom | None = None
    lifecycle: Lifecycle | None = None

    @model_validator(mode="before")
    @classmethod
    def _numbers_in_e164(cls, data: Any) -> Any:
        """Every number of the inline calls and `callsFrom.from` in E.164, read with
        `defaultRegion`, before the fields are validated (one that is no phone number is left
        as written, for its field to report at its line)."""
        if not isinstance(data, dict):
            return data
        region = known_region(data.get("defaultRegion"))
        out = dict(data)
        if isinstance(data.get("calls"), list):
            out["calls"] = [canonical_call(c, region) for c in data["calls"]]
        spec = data.get("callsFrom")
        if isinstance(spec, dict) and "from" in spec:
            out["callsFrom"] = {**spec, "from": canonical_or_same(spec["from"], region)}
        return out

    @field_validator("callsFrom")
    @classmethod
    def _short_form(cls, value: str | CallsFrom | None) -> str | CallsFrom | None:
        # `callsFrom: recipients.csv` follows the same rule as the object form's `file`.
        return _recipients_file(value) if isinstance(value, str) else value

    def rule_violations(self) -> list[tuple[tuple[str | int, ...], str]]:
        """The rules across fields, every one that fails, each at the key it is about (the
        loader reports them at that key's line, together with the field errors)."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if (self.agent is None) == (self.agentId is None):
            where: tuple[str | int, ...] = ("agentId",) if self.agent is not None else ()
            found.append((where, "set exactly one of agent (an Agent manifest's name) or agentId"))
        for moment, label in ((self.windowStart, "windowStart"), (self.windowEnd, "windowEnd")):
            if moment is not None and moment.tzinfo is None:
                found.append(((label,), "needs a time zone, e.g. 2026-12-01T09:00:00Z"))
        start, end = self.windowStart, self.windowEnd
        # Two times without a zone are still in order or not (one with a zone, one without,
        # cannot be compared: the missing zone is the problem then).
        if start and end and (start.tzinfo is None) == (end.tzinfo is None) and end <= start:
            found.append((("windowEnd",), "must be after windowStart"))
        if not self.calls and self.callsFrom is None:
            found.append(((), "a batch needs recipients: calls, callsFrom, or both"))
        for index, call in enumerate(self.calls or []):
            found += [(("calls", index, *loc), message) for loc, message in call.rule_violations()]
        return found


def _medium_kind(call: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    medium = call.get("medium") or {}
    kinds = [k for k, v in medium.items() if v is not None]
    return (kinds[0] if len(kinds) == 1 else None), medium


def destination(call: dict[str, Any]) -> str | None:
    """The number an outgoing call dials, or None for a call that is not outgoing."""
    return _destination(*_medium_kind(call))


def _destination(kind: str | None, medium: dict[str, Any]) -> str | None:
    if kind in OUTGOING_MEDIA:
        outgoing = (medium.get(kind) or {}).get("outgoing")
        if isinstance(outgoing, dict):
            return str(outgoing.get("to", ""))
    return None


def canonical_call(call: Any, region: str | None) -> Any:
    """A call with the `to` and `from` of its outgoing medium in E.164 (read with `region`);
    anything that is not a phone number is left as it is, for validation to report."""
    if not isinstance(call, dict) or not isinstance(call.get("medium"), dict):
        return call
    medium = dict(call["medium"])
    for kind in OUTGOING_MEDIA:
        inner = medium.get(kind)
        if isinstance(inner, dict) and isinstance(inner.get("outgoing"), dict):
            outgoing = dict(inner["outgoing"])
            for key in ("to", "from"):
                if key in outgoing and (key == "to" or kind != "sip"):
                    outgoing[key] = canonical_or_same(outgoing[key], region)
            medium[kind] = {**inner, "outgoing": outgoing}
    return {**call, "medium": medium}


def _number_problem(number: str) -> str:
    """Why `number` is not a phone number in E.164 (masked, as every message about it)."""
    try:
        canonical_number(number)
    except ValueError as problem:
        return str(problem)
    return f"{mask_number(number)!r} is not written in E.164 (like +14155550100)"


def call_violations(call: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with one call, as the API and its telephony would see it, each at the
    key it is about (a path into the call): the second medium, `to`, `from`, a metadata key."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    medium = call.get("medium")
    if isinstance(medium, dict):
        set_media = [k for k, v in medium.items() if v is not None]
        if len(set_media) != 1:
            where: tuple[str | int, ...] = ("medium", *set_media[1:2])
            problems.append((where, f"set exactly one medium, found {len(set_media)}"))
        # `_medium_kind`'s answer, from the media just listed (once a row, not twice).
        kind, media = (set_media[0] if len(set_media) == 1 else None), medium
    else:
        kind, media = _medium_kind(call)
    number = _destination(kind, media)
    leg: tuple[str | int, ...] = ("medium", kind or "", "outgoing")
    # Numbers are masked even when malformed: an error message is a log line.
    if number is not None and not is_e164(number):
        problems.append(((*leg, "to"), _number_problem(number)))
    if number is not None:
        caller = ((media.get(kind or "") or {}).get("outgoing") or {}).get("from")
        if caller is not None and kind != "sip" and not is_e164(str(caller)):
            problems.append(((*leg, "from"), f"caller {_number_problem(str(caller))}"))
    for key in call.get("metadata") or {}:
        if key.startswith(RESERVED_PREFIXES):
            problems.append(
                (
                    ("metadata", key),
                    "reserved key (keys may not start with "
                    + " or ".join(repr(p) for p in RESERVED_PREFIXES)
                    + ")",
                )
            )
    return problems


def recipient_key(call: dict[str, Any]) -> str:
    """A stable id for a recipient, written to the call's metadata; holds no phone number."""
    return keyed(call, destination(call))


def keyed(call: dict[str, Any], number: str | None) -> str:
    """`recipient_key` of a call whose `destination` is `number` (known already)."""
    if number:
        basis = f"tel:{number}"
    else:
        # Not outgoing: the call itself (user metadata included, reserved keys not) is its id.
        metadata = {
            k: v for k, v in (call.get("metadata") or {}).items() if not k.startswith("reconciler.")
        }
        basis = "call:" + json.dumps({**call, "metadata": metadata}, sort_keys=True)
    return "r-" + hashlib.sha256(basis.encode()).hexdigest()[:20]


def _csv_calls(
    path: Path,
    spec: CallsFrom,
    shown: str,
    region: str | None,
    problems: list[Diagnostic],
    start: int = 0,
    stop: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The calls of the CSV rows `[start, stop)`; the header's problems with the first rows."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "to" not in fields:
            raise FileProblem(shown, 1, f"the header needs a 'to' column (found {fields})")
        # A header problem that still lets the rows be read is reported with theirs.
        if "from" not in fields and spec.from_ is None and start == 0:
            message = "no 'from' column and no callsFrom.from caller number"
            problems.append(Diagnostic(shown, 1, message))
        unknown = [
            f
            for f in fields
            if f not in ("to", "from") and not f.startswith(("context.", "metadata."))
        ]
        if unknown and start == 0:
            message = f"unknown columns {unknown}; use to, from, context.<name>, metadata.<name>"
            problems.append(Diagnostic(shown, 1, message))
        # Which columns are a call's template variables and metadata, found once for the
        # file (a row is a dict by column name, each name once, in the header's order).
        named = dict.fromkeys(fields)
        context_columns = [(f, f[8:]) for f in named if f.startswith("context.")]
        metadata_columns = [(f, f[9:]) for f in named if f.startswith("metadata.")]
        skip_rows(reader, start)
        for index, row in enumerate(reader, start):
            if index == stop:
                return
            line = reader.line_num
            if None in row:
                problems.append(Diagnostic(shown, line, "more cells than the header has columns"))
                continue
            outgoing: dict[str, Any] = {"to": canonical_or_same(row.get("to") or "", region)}
            # An empty cell is no number: not read (a refused number costs an exception).
            cell = (row.get("from") or "").strip()
            caller = (canonical_or_same(cell, region) if cell else "") or spec.from_
            if caller:
                outgoing["from"] = caller
            call: dict[str, Any] = {"medium": {spec.medium: {"outgoing": outgoing}}}
            context = {name: v for f, name in context_columns if (v := row[f]) != ""}
            metadata = {name: v for f, name in metadata_columns if (v := row[f]) != ""}
            if context:
                call["templateContext"] = context
            if metadata:
                call["metadata"] = metadata
            yield line, call


_CALL_ROWS = RowModel(ScheduledCallManifest, by_alias=True)
"""A recipients file's calls validated and dumped as `ScheduledCallManifest` (its dump as a
document's call is: `model_dump(mode="json", by_alias=True, exclude_none=True)`)."""

Row = tuple[str, int, Any]
"""A call read from a recipients file: (file, line, the call, or what `make` made of it)."""


def _checked(
    rows: Iterator[tuple[int, Any]],
    shown: str,
    problems: list[Diagnostic],
    make: Callable[[dict[str, Any]], Any] = as_read,
) -> Part[Row]:
    """Each row's call validated (`check_row`), dumped as it is sent and given to `make`,
    with its problems."""

    validate, dump = _CALL_ROWS.validate, _CALL_ROWS.dump

    def check(row: int, call: Any) -> Any | None:
        # A good row (almost every one) validated and dumped once; the others go through
        # `check_row` (validated again), for every problem of the row as a document has it.
        try:
            good = validate(call)
        except ValidationError:
            pass
        else:
            dumped = dump(good)
            if not call_violations(dumped):  # `rule_violations`, on the dump it makes
                return make(dumped)
        model, found = check_row(ScheduledCallManifest, call)
        problems.extend(Diagnostic(shown, row, message) for message in found)
        if model is None:
            return None
        return make(model.model_dump(mode="json", by_alias=True, exclude_none=True))

    return read_rows(rows, shown, problems, check)


def load_recipients(
    callsfrom: str | CallsFrom,
    manifest_file: str,
    region: str | None = None,
    line: int = 1,
    make: Callable[[dict[str, Any]], Any] = as_read,
) -> tuple[list[Row], list[Diagnostic]]:
    """Calls from a CSV/JSONL file: (file, line, call) for each, and every problem found, each
    at its row (a missing file at `line`, the manifest's `callsFrom`). Numbers are kept in
    E.164, national ones read with `region` (`defaultRegion`). A large CSV file is read in
    two processes (`read_in_two`); `make` is applied to each call there (plain data out: it
    is handed back by `marshal`), so what the caller makes of the calls is made in both."""
    try:
        spec = CallsFrom(file=callsfrom) if isinstance(callsfrom, str) else callsfrom
    except ValidationError:
        return [], [Diagnostic(manifest_file, line, "callsFrom must name a .csv or .jsonl file")]
    path = Path(manifest_file).parent / spec.file
    shown = str(path)
    if not path.is_file():
        return [], [Diagnostic(manifest_file, line, f"callsFrom: no such file {shown}")]
    if not spec.file.endswith(".csv"):
        problems: list[Diagnostic] = []
        rows = (
            (n, canonical_call(c, region))
            for n, c in jsonl_objects(path, shown, "one call", problems)
        )
        return _checked(rows, shown, problems, make)[1], problems

    def read(start: int, stop: int | None) -> Part[Row]:
        problems: list[Diagnostic] = []
        return _checked(
            _csv_calls(path, spec, shown, region, problems, start, stop), shown, problems, make
        )

    problems, calls, _ = read_in_two(path, read)
    return calls, problems
