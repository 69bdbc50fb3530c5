"""The `BatchCall` manifest: an outbound campaign on Threetone's (or ElevenLabs') batch calling.

Owns the manifest model (the vendor's own snake_case names for recipients and nested objects,
camelCase for the document's own fields as in every other kind; the fields a preset's API
lacks are errors naming the preset, from the vendors' tables in `vendors`), the per-recipient
rules (E.164 phone numbers, exactly one of `phone_number` or `whatsapp_user_id`),
`scheduledTime` as an ISO instant or unix seconds, the stable recipient ids, and loading
recipients from CSV or JSONL files with errors pinned to file and line.
Must not import httpx or deepdiff; reads only the recipients files a manifest names.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from reconciler.core.errors import Diagnostic
from reconciler.core.masking import mask_number
from reconciler.core.requestpaths import ID_PATTERN
from reconciler.manifests.fields import (
    NAME_PATTERN,
    E164Number,
    Lifecycle,
    Region,
    canonical_or_same,
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
from reconciler.providers.batchcalling.vendors import VENDOR_APIS, unsupported
from reconciler_apis import elevenlabs as elevenlabs_api

MAX_UNIX_SECONDS = 253_402_300_799
"""9999-12-31T23:59:59Z: the last instant a date can name."""
MAX_RECIPIENTS = 10_000
"""The API's limit per submitted batch (seed 002: "Maximum array length: 10000")."""
PROVIDERS = ("threetone", "elevenlabs")
CSV_COLUMNS = ("id", "phone_number", "whatsapp_user_id", "user_id")
CSV_PREFIXES = ("dynamic_variables.", "conversation_config_override.")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- conversation_initiation_client_data, as seed 002 spells it ------------------------------


class SoftTimeoutConfig(_Closed):
    message: StrictStr | None = None


class TurnOverride(_Closed):
    soft_timeout_config: SoftTimeoutConfig | None = None


class TtsOverride(_Closed):
    voice_id: StrictStr | None = None
    stability: float | None = None
    speed: float | None = None
    similarity_boost: float | None = None


class ConversationOverride(_Closed):
    text_only: bool | None = None


class PromptOverride(_Closed):
    prompt: StrictStr | None = None
    llm: StrictStr | None = None
    native_mcp_server_ids: list[StrictStr] | None = None


class AgentOverride(_Closed):
    first_message: StrictStr | None = None
    language: StrictStr | None = None
    prompt: PromptOverride | None = None


class ConversationConfigOverride(_Closed):
    turn: TurnOverride | None = None
    tts: TtsOverride | None = None
    conversation: ConversationOverride | None = None
    agent: AgentOverride | None = None


class SourceInfo(_Closed):
    source: StrictStr | None = None
    version: StrictStr | None = None


DynamicValue = StrictStr | StrictBool | StrictInt | StrictFloat


class ClientData(_Closed):
    conversation_config_override: ConversationConfigOverride | None = None
    custom_llm_extra_body: dict[str, Any] | None = None
    user_id: StrictStr | None = None
    source_info: SourceInfo | None = None
    dynamic_variables: dict[str, DynamicValue] | None = None


class Recipient(_Closed):
    """One `OutboundCallRecipient`: whom to call, and what the conversation starts with."""

    id: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    """Stable id of the recipient; without one, a hash of the number is used (never the
    number itself)."""
    phone_number: E164Number | None = None
    whatsapp_user_id: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    conversation_initiation_client_data: ClientData | None = None

    def rule_violations(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Exactly one destination: at the second one when both are set."""
        if (self.phone_number is None) != (self.whatsapp_user_id is None):
            return []
        rule = "set exactly one of phone_number or whatsapp_user_id"
        if self.phone_number is None:
            return [((), rule)]
        return [(("whatsapp_user_id",), f"conflicts with phone_number: {rule}")]


class WhatsappParams(_Closed):
    """`BatchCallWhatsAppParams`: the template name and its language code are required (the
    ElevenLabs SDK type; seed 002 names the same type)."""

    whatsapp_call_permission_request_template_name: Annotated[StrictStr, Field(min_length=1)]
    whatsapp_call_permission_request_template_language_code: Annotated[
        StrictStr, Field(min_length=1)
    ]
    whatsapp_phone_number_id: StrictStr | None = None


def _one_of(allowed: tuple[str, ...]) -> Any:
    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return check


class MachineDetectionRule(_Closed):
    """`TwilioMachineDetectionRule`: what to do on which answering-machine verdicts."""

    action: Annotated[
        StrictStr | None, AfterValidator(_one_of(elevenlabs_api.MACHINE_DETECTION_ACTIONS))
    ] = None
    """Absent: the API's default, `hang_up`."""
    answered_by: Annotated[list[StrictStr], Field(min_length=1)]

    @field_validator("answered_by")
    @classmethod
    def _verdicts(cls, value: list[str]) -> list[str]:
        for verdict in value:
            _one_of(elevenlabs_api.ANSWERED_BY)(verdict)
        return value


class MachineDetection(_Closed):
    """`TwilioMachineDetectionConfig`: Twilio's answering-machine detection."""

    mode: Annotated[
        StrictStr | None, AfterValidator(_one_of(elevenlabs_api.MACHINE_DETECTION_MODES))
    ] = None
    actions: list[MachineDetectionRule] | None = None


class TelephonyCallConfig(_Closed):
    """`TelephonyCallConfigInput`, as the API spells it (ElevenLabs only)."""

    ringing_timeout_secs: Annotated[StrictInt, Field(ge=1)] | None = None
    twilio_call_recording_enabled: StrictBool | None = None
    twilio_machine_detection: MachineDetection | None = None


def _unix_seconds(value: Any) -> Any:
    """ISO instant (YAML may already have made it a datetime) or unix seconds -> unix seconds."""
    if isinstance(value, bool):
        raise ValueError("expected an ISO time like 2030-01-14T16:00:00Z or unix seconds")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("unix seconds must not be negative")
        if value > MAX_UNIX_SECONDS:
            raise ValueError("unix seconds past the year 9999 are not a time")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            if len(text) > 12:
                raise ValueError("unix seconds past the year 9999 are not a time")
            return _unix_seconds(int(text))
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO time like 2030-01-14T16:00:00Z nor unix seconds"
            ) from None
    if isinstance(value, datetime):
        # A naive time is ambiguous: the vendor's dashboard and this host may differ in zone.
        if value.tzinfo is None:
            raise ValueError("scheduledTime needs a time zone, e.g. 2030-01-14T16:00:00Z")
        if value.microsecond:
            raise ValueError("scheduledTime is in whole seconds (the API takes unix seconds)")
        return int(value.timestamp())
    raise ValueError("expected an ISO time like 2030-01-14T16:00:00Z or unix seconds")


# The JSON Schema states what a manifest may write (the validator turns it into an int).
UnixSeconds = Annotated[
    StrictInt,
    BeforeValidator(_unix_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "format": "date-time"},
            ],
            "description": "An ISO 8601 time with a zone, or unix seconds.",
        }
    ),
]


class BatchCallManifest(_Closed):
    """One `kind: BatchCall` document."""

    kind: Literal["BatchCall"]
    provider: Literal["threetone", "elevenlabs"]
    name: Annotated[StrictStr, Field(pattern=NAME_PATTERN)]
    """The batch's `call_name` and its identity (with the agent); `NAME_PATTERN` has no `~`,
    which is reserved for supplemental parts (`name~2`)."""
    description: StrictStr | None = None
    agentId: Annotated[StrictStr, Field(min_length=1, pattern=ID_PATTERN)]
    recipients: list[Recipient] | None = None
    recipientsFrom: StrictStr | None = None
    """A .csv or .jsonl file of recipients, relative to the manifest file."""
    scheduledTime: UnixSeconds | None = None
    """When the batch starts: ISO time or unix seconds; absent means as soon as submitted."""
    agentPhoneNumberId: Annotated[StrictStr, Field(min_length=1)] | None = None
    whatsappParams: WhatsappParams | None = None
    timezone: Annotated[StrictStr, Field(min_length=1)] | None = None
    """ElevenLabs only: the zone the batch's schedule is read in (`Europe/Berlin`)."""
    telephonyCallConfig: TelephonyCallConfig | None = None
    """ElevenLabs only: ringing timeout, Twilio call recording, answering-machine detection."""
    targetConcurrencyLimit: Annotated[StrictInt, Field(ge=1)] | None = None
    """ElevenLabs only: at most this many calls of the batch at once."""
    branchId: Annotated[StrictStr, Field(min_length=1)] | None = None
    """ElevenLabs only: the agent branch the calls use."""
    environment: Annotated[StrictStr, Field(min_length=1)] | None = None
    """ElevenLabs only: the environment its variables are resolved in."""
    cancelled: StrictBool = False
    """true: cancel the batch (and its supplemental parts); one-way once calls started."""
    retries: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    """Retry a finished batch's failed and voicemail calls until its retry_count reaches this."""
    defaultRegion: Region | None = None
    """The country whose national format numbers without `+` are in (`US`); absent: every
    `phone_number` needs its country code."""
    lifecycle: Lifecycle | None = None

    @model_validator(mode="before")
    @classmethod
    def _numbers_in_e164(cls, data: Any) -> Any:
        """Inline recipients' numbers in E.164, read with `defaultRegion`, before validation
        (one that is no phone number is left as written, for its field to report)."""
        if not isinstance(data, dict) or not isinstance(data.get("recipients"), list):
            return data
        region = known_region(data.get("defaultRegion"))
        return {**data, "recipients": [canonical_recipient(r, region) for r in data["recipients"]]}

    @field_validator("recipientsFrom")
    @classmethod
    def _suffix(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith((".csv", ".jsonl")):
            raise ValueError("recipientsFrom must name a .csv or .jsonl file")
        return value

    def rule_violations(self) -> Iterable[tuple[tuple[str | int, ...], str]]:
        """Every rule across fields, each at its key: recipients needed, fields the preset's
        API lacks, each recipient's own rules, inline recipients listed twice (at the second
        one)."""
        if not self.recipients and self.recipientsFrom is None:
            yield (), "a batch needs recipients: recipients, recipientsFrom, or both"
        api = VENDOR_APIS[self.provider]
        for field in unsupported(self.provider, self.model_fields_set):
            yield (
                (field.manifest,),
                f"the {self.provider} API has no {field.submit} ({api.source}: its submit "
                f"takes {', '.join(api.submit.names)}); remove {field.manifest}, or use "
                "a provider whose API has it (elevenlabs)",
            )
        seen: dict[str, int] = {}
        for index, recipient in enumerate(self.recipients or []):
            for loc, message in recipient.rule_violations():
                yield ("recipients", index, *loc), message
            data = dump(recipient)
            for key in (f"id:{recipient.id}" if recipient.id else None, destination_key(data)):
                if key is None:
                    continue
                if key in seen:
                    what = "id" if key.startswith("id:") else mask(destination(data))
                    yield (
                        ("recipients", index),
                        f"recipient {what} is listed twice (first as recipients[{seen[key]}]); "
                        "nobody is called twice",
                    )
                    break
                seen[key] = index


def canonical_recipient(recipient: Any, region: str | None) -> Any:
    """A recipient with its `phone_number` in E.164 (read with `region`), when it is one."""
    if not isinstance(recipient, dict) or "phone_number" not in recipient:
        return recipient
    return {**recipient, "phone_number": canonical_or_same(recipient["phone_number"], region)}


def dump(recipient: Recipient) -> dict[str, Any]:
    """A recipient as the API takes it: unset fields left out."""
    return recipient.model_dump(mode="json", exclude_none=True)


def destination(recipient: dict[str, Any]) -> str:
    return str(recipient.get("phone_number") or recipient.get("whatsapp_user_id") or "")


def destination_key(recipient: dict[str, Any]) -> str:
    """What identifies whom a recipient reaches, hashed: no phone number in it."""
    if recipient.get("phone_number"):
        basis = f"tel:{recipient['phone_number']}"
    else:
        basis = f"wa:{recipient.get('whatsapp_user_id') or ''}"
    return "r-" + hashlib.sha256(basis.encode()).hexdigest()[:20]


def recipient_id(recipient: dict[str, Any]) -> str:
    """The manifest's `id`, else a stable hash of the number (so re-plans recognise it)."""
    given = recipient.get("id")
    return str(given) if given else destination_key(recipient)


def mask(number: str | None) -> str:
    """`+14155550100` -> `+1415***0100`; a WhatsApp id keeps only its last four characters."""
    if not number or number.startswith("+"):
        return mask_number(number)
    return f"WhatsApp ***{number[-4:]}" if len(number) > 6 else "WhatsApp ***"


# --- recipients files --------------------------------------------------------------------------


def _nest(target: dict[str, Any], dotted: str, value: str) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


_TOP, _DATA, _VARIABLES, _NESTED = "recipient", "client data", "dynamic variables", "nested"
"""Where a CSV column's cell goes in a recipient (`_place`)."""


def _place(column: str) -> tuple[str, str]:
    """Where `column`'s cells go, and under which name: the recipient's own field, a field of
    its client data, one of its dynamic variables, or a path into its client data."""
    if column in ("id", "phone_number", "whatsapp_user_id"):
        return _TOP, column
    if column == "user_id":
        return _DATA, column
    if column.startswith("dynamic_variables."):
        return _VARIABLES, column.split(".", 1)[1]
    return _NESTED, column


def _csv_rows(
    path: Path, shown: str, problems: list[Diagnostic], start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The recipients of the CSV rows `[start, stop)`; the header's problem with the first."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = [f for f in reader.fieldnames or [] if f is not None]
        if "phone_number" not in fields and "whatsapp_user_id" not in fields:
            raise FileProblem(
                shown, 1, f"the header needs a phone_number or whatsapp_user_id column ({fields})"
            )
        unknown = [f for f in fields if f not in CSV_COLUMNS and not f.startswith(CSV_PREFIXES)]
        skipped = frozenset(unknown)
        if unknown and start == 0:
            # Reported, and the rows still read without those columns, for their problems.
            problems.append(
                Diagnostic(
                    shown,
                    1,
                    f"unknown columns {unknown}; use {', '.join(CSV_COLUMNS)}, "
                    "dynamic_variables.<name> or conversation_config_override.<path>",
                )
            )
        # Where each column's cell goes, found once for the file (a row is a dict by column
        # name, each name once, in the header's order); the unknown columns are not read.
        columns = [(f, *_place(f)) for f in dict.fromkeys(fields) if f not in skipped]
        skip_rows(reader, start)
        for index, row in enumerate(reader, start):
            if index == stop:
                return
            line = reader.line_num
            if None in row:
                problems.append(Diagnostic(shown, line, "more cells than the header has columns"))
                continue
            recipient: dict[str, Any] = {}
            data: dict[str, Any] = {}
            for column, place, name in columns:
                value = (row[column] or "").strip()
                if value == "":
                    continue  # an empty cell is an unset field
                if place == _TOP:
                    recipient[column] = value
                elif place == _DATA:
                    data[name] = value
                elif place == _VARIABLES:
                    data.setdefault("dynamic_variables", {})[name] = value
                else:
                    _nest(data, column, value)
            if data:
                recipient["conversation_initiation_client_data"] = data
            yield line, recipient


_RECIPIENT_ROWS = RowModel(Recipient)
"""A recipients file's rows validated and dumped as `Recipient` (as `dump` dumps one)."""

Row = tuple[str, int, Any]
"""A recipient read from a recipients file: (file, line, recipient as sent, or what `make`
made of it)."""


def _checked(
    rows: Iterator[tuple[int, Any]],
    shown: str,
    region: str | None,
    problems: list[Diagnostic],
    make: Callable[[dict[str, Any]], Any] = as_read,
) -> Part[Row]:
    """Each row's recipient validated (`check_row`), dumped and given to `make`, with its
    problems."""

    validate, dump_row = _RECIPIENT_ROWS.validate, _RECIPIENT_ROWS.dump

    def check(row: int, raw: Any) -> Any | None:
        data = canonical_recipient(raw, region)
        # A good row (almost every one) validated and dumped once; the others go through
        # `check_row` (validated again), for every problem of the row as a document has it.
        try:
            good = validate(data)
        except ValidationError:
            pass
        else:
            if not good.rule_violations():
                return make(dump_row(good))
        model, messages = check_row(Recipient, data)
        problems.extend(Diagnostic(shown, row, message) for message in messages)
        return make(dump(model)) if isinstance(model, Recipient) else None

    return read_rows(rows, shown, problems, check)


def load_recipients(
    name: str,
    manifest_file: str,
    region: str | None = None,
    line: int = 1,
    make: Callable[[dict[str, Any]], Any] = as_read,
) -> tuple[list[Row], list[Diagnostic]]:
    """Recipients from a CSV/JSONL file: (file, line, recipient) each, and every problem, each
    at its row (a missing file at `line`, the manifest's `recipientsFrom`). Numbers are kept
    in E.164, national ones read with `region` (`defaultRegion`). A large CSV file is read in
    two processes (`read_in_two`); `make` is applied to each recipient there (plain data out:
    it is handed back by `marshal`), so what the caller makes of them is made in both."""
    path = Path(manifest_file).parent / name
    shown = str(path)
    if not path.is_file():
        return [], [Diagnostic(manifest_file, line, f"recipientsFrom: no such file {shown}")]
    if not name.endswith(".csv"):
        problems: list[Diagnostic] = []
        rows = jsonl_objects(path, shown, "one recipient", problems)
        return _checked(rows, shown, region, problems, make)[1], problems

    def read(start: int, stop: int | None) -> Part[Row]:
        problems: list[Diagnostic] = []
        rows = _csv_rows(path, shown, problems, start, stop)
        return _checked(rows, shown, region, problems, make)

    problems, found, _ = read_in_two(path, read)
    return found, problems
