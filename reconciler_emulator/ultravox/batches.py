"""Scheduled call batch rules of the emulated Ultravox API: validation and the dialling lifecycle.

Owns: what a batch create/PATCH accepts (DRF-style 400s), the window estimate, one-way pausing,
and `advance_batch`, which moves one batch along the virtual clock (FUTURE -> PENDING ->
SUCCESS/ERROR, or EXPIRED at windowEnd). Pure functions on JSON-native records; creating the
Call objects is the caller's job (`account.UltravoxAccount`). Must not import starlette,
uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from reconciler_emulator.clock import parse_iso, to_iso
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.ultravox.drf import detail, field_errors, not_an_object, type_name

STATUSES = ("FUTURE", "PENDING", "SUCCESS", "EXPIRED", "ERROR")
UNDIALLED = frozenset({"FUTURE", "PENDING"})
COMPLETED = frozenset({"SUCCESS", "ERROR"})

MEDIA = ("webRtc", "twilio", "serverWebSocket", "telnyx", "plivo", "exotel", "sip")
OUTGOING_MEDIA = ("twilio", "telnyx", "plivo", "sip")
UNREACHABLE_SUFFIX = "99"
"""A destination ending in this errors when dialled, so tests can get ERROR calls on demand."""

PATCHABLE = ("windowStart", "windowEnd", "webhookUrl", "webhookSecret", "paused", "throttle")

Record = dict[str, Any]
Dialler = Callable[[Record, Record, int, str], str]
"""(batch, scheduled call, calls of the batch created before it, dial time) -> callId."""


def outgoing_leg(medium: JSON) -> Mapping[str, JSON] | None:
    """The `{to, from}` object of an outgoing medium, or None for a medium nobody dials."""
    if not isinstance(medium, dict):
        return None
    for key in OUTGOING_MEDIA:
        inner = medium.get(key)
        if isinstance(inner, dict) and isinstance(inner.get("outgoing"), dict):
            leg: Mapping[str, JSON] = inner["outgoing"]
            return leg
    return None


def _check_call(call: JSON) -> tuple[Record, dict[str, JSON]]:
    """One element of `calls`: the stored form and its field errors."""
    if not isinstance(call, dict):
        return {}, {
            "non_field_errors": [f"Invalid data. Expected a dictionary, but got {type_name(call)}."]
        }
    errors: dict[str, JSON] = {}
    medium = call.get("medium")
    if medium is not None:
        if not isinstance(medium, dict):
            errors["medium"] = [
                f'Expected a dictionary of items but got type "{type_name(medium)}".'
            ]
        else:
            # Unknown members are dropped, as protobuf parsing of a CallMedium would.
            medium = {k: v for k, v in medium.items() if k in MEDIA and v is not None}
            leg = outgoing_leg(medium)
            if len(medium) > 1:
                errors["medium"] = ["At most one call medium may be set."]
            elif leg is not None and not (isinstance(leg.get("to"), str) and leg.get("to")):
                errors["medium"] = ["An outgoing medium needs a destination ('to')."]
    metadata = call.get("metadata")
    if metadata is not None:
        problems: list[str] = []
        if not isinstance(metadata, dict):
            problems.append(f'Expected a dictionary of items but got type "{type_name(metadata)}".')
        else:
            if any(not isinstance(value, str) for value in metadata.values()):
                problems.append("All metadata values must be strings.")
            if any(key.startswith("ultravox.") for key in metadata):
                problems.append('Metadata keys may not start with "ultravox.".')
        if problems:
            errors["metadata"] = problems
    context = call.get("templateContext")
    if context is not None and not isinstance(context, dict):
        errors["templateContext"] = [
            f'Expected a dictionary of items but got type "{type_name(context)}".'
        ]
    stored: Record = {
        "status": "FUTURE",
        "callId": None,
        "error": None,
        "medium": medium,
        "metadata": metadata,
        "templateContext": context,
        "experimentalSettings": call.get("experimentalSettings"),
    }
    return stored, errors


def _check_fields(
    body: Mapping[str, JSON], keys: tuple[str, ...]
) -> tuple[Record, dict[str, JSON]]:
    """The plain batch fields present in `body` among `keys`, parsed, and their errors."""
    values: Record = {}
    errors: dict[str, JSON] = {}
    for key in keys:
        if key not in body:
            continue
        value = body[key]
        if key in ("windowStart", "windowEnd"):
            if value is None:
                values[key] = None
            elif not isinstance(value, str):
                errors[key] = ["Datetime has wrong format."]
            else:
                try:
                    values[key] = to_iso(parse_iso(value))
                except ValueError as exc:
                    errors[key] = [str(exc)]
        elif key == "webhookUrl":
            if value is not None and not isinstance(value, str):
                errors[key] = ["Not a valid string."]
            elif isinstance(value, str) and len(value) > 200:
                errors[key] = ["Ensure this field has no more than 200 characters."]
            elif isinstance(value, str) and not _is_url(value):
                errors[key] = ["Enter a valid URL."]
            else:
                values[key] = value or None
        elif key == "webhookSecret":
            if value is not None and not isinstance(value, str):
                errors[key] = ["Not a valid string."]
            elif isinstance(value, str) and len(value) > 120:
                errors[key] = ["Ensure this field has no more than 120 characters."]
            else:
                values[key] = value or None
        elif key == "paused":
            if value is None:
                values[key] = None
            elif not isinstance(value, bool):
                errors[key] = ["Must be a valid boolean."]
            else:
                values[key] = value
        elif key == "throttle":
            if value is not None and not isinstance(value, str):
                errors[key] = ["Not a valid string."]
            else:
                values[key] = value or None
    return values, errors


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def needed_seconds(count: int, calls_per_minute: int) -> int:
    """The server's estimate of how long dialling `count` calls takes."""
    return math.ceil(count * 60 / calls_per_minute)


def _window_errors(
    window_start: str | None,
    window_end: str | None,
    remaining: int,
    now: datetime,
    calls_per_minute: int,
) -> dict[str, JSON]:
    if window_end is None:
        return {}
    end = parse_iso(window_end)
    if window_start is not None and end <= parse_iso(window_start):
        return {"windowEnd": ["windowEnd must be after windowStart."]}
    if remaining == 0:
        return {}
    start = max(parse_iso(window_start), now) if window_start is not None else now
    needed = needed_seconds(remaining, calls_per_minute)
    if (end - start).total_seconds() < needed:
        return {
            "windowEnd": [f"Window too short for {remaining} calls: at least {needed}s is needed."]
        }
    return {}


def _webhook_errors(webhook_url: str | None, calls: list[Record]) -> dict[str, JSON]:
    needs_webhook = any(outgoing_leg(call["medium"]) is None for call in calls)
    if needs_webhook and webhook_url is None:
        return {"webhookUrl": ["Required when any call has a non-outgoing medium."]}
    if not needs_webhook and webhook_url is not None:
        return {"webhookUrl": ["Not allowed when every call has an outgoing medium."]}
    return {}


def new_batch(
    body: JSON, *, batch_id: str, agent_id: str, now: datetime, calls_per_minute: int
) -> Record:
    """A validated batch record from a POST body; raises ApiProblem (400) otherwise."""
    if not isinstance(body, dict):
        raise not_an_object(body)
    values, errors = _check_fields(body, PATCHABLE)
    if values.get("paused") is None and "paused" not in errors:
        values["paused"] = False
    calls: list[Record] = []
    raw_calls = body.get("calls")
    if raw_calls is None:
        errors["calls"] = ["This field is required."]
    elif not isinstance(raw_calls, list):
        errors["calls"] = [f'Expected a list of items but got type "{type_name(raw_calls)}".']
    elif not raw_calls:
        errors["calls"] = ["Ensure this field has at least 1 elements."]
    else:
        per_call = []
        for raw in raw_calls:
            stored, call_errors = _check_call(raw)
            calls.append(stored)
            per_call.append(call_errors)
        if any(per_call):
            errors["calls"] = per_call
    if errors:
        raise field_errors(errors)
    window_start, window_end = values.get("windowStart"), values.get("windowEnd")
    errors.update(_window_errors(window_start, window_end, len(calls), now, calls_per_minute))
    errors.update(_webhook_errors(values.get("webhookUrl"), calls))
    if errors:
        raise field_errors(errors)
    batch: Record = {
        "batchId": batch_id,
        "agentId": agent_id,
        "created": to_iso(now),
        "windowStart": window_start,
        "windowEnd": window_end,
        "throttle": values.get("throttle"),
        "webhookUrl": values.get("webhookUrl"),
        "webhookSecret": values.get("webhookSecret"),
        "paused": values["paused"],
        "endedAt": None,
        "nextDialAt": None,
        "calls": calls,
    }
    for call in calls:
        call["batchId"] = batch_id
    reschedule(batch, now, 60 / calls_per_minute)
    return batch


def patch_batch(batch: Record, body: JSON, *, now: datetime, calls_per_minute: int) -> None:
    """Apply a PATCH body to a batch record in place; raises ApiProblem (400) otherwise."""
    if batch["endedAt"] is not None:
        raise detail(400, "Batch has ended.")
    if not isinstance(body, dict):
        raise not_an_object(body)
    values, errors = _check_fields(body, PATCHABLE)
    if "calls" in body:
        # Recipients are fixed at creation; accepting them here would let a client believe it
        # had added people to a batch that will never dial them.
        errors["calls"] = ["The calls of a batch cannot be changed after it is created."]
    # Pausing is one-way: `paused: false` (or null, i.e. the default) cannot resume a batch.
    if batch["paused"] and "paused" in values and values["paused"] is not True:
        errors["paused"] = ["A paused batch cannot be resumed."]
    if errors:
        raise field_errors(errors)
    if values.get("paused") is None and "paused" in values:
        values["paused"] = False
    merged = {**batch, **values}
    if "windowStart" in values or "windowEnd" in values:
        remaining = sum(1 for call in batch["calls"] if call["status"] in UNDIALLED)
        errors.update(
            _window_errors(
                merged["windowStart"], merged["windowEnd"], remaining, now, calls_per_minute
            )
        )
    if "webhookUrl" in values:
        errors.update(_webhook_errors(merged["webhookUrl"], batch["calls"]))
    if errors:
        raise field_errors(errors)
    batch.update(values)
    reschedule(batch, now, 60 / calls_per_minute)


def reschedule(batch: Record, now: datetime, interval: float) -> None:
    """Bring FUTURE/PENDING in line with windowStart and pausing after a create or a PATCH."""
    if batch["paused"]:
        return
    window_start = batch["windowStart"]
    started = any(call["status"] not in UNDIALLED for call in batch["calls"])
    if window_start is not None and parse_iso(window_start) > now and not started:
        for call in batch["calls"]:
            if call["status"] == "PENDING":
                call["status"] = "FUTURE"
        batch["nextDialAt"] = None
        return
    if any(call["status"] == "FUTURE" for call in batch["calls"]):
        for call in batch["calls"]:
            if call["status"] == "FUTURE":
                call["status"] = "PENDING"
        batch["nextDialAt"] = to_iso(now + timedelta(seconds=interval))


def advance_batch(batch: Record, until: datetime, interval: float, dial: Dialler) -> None:
    """Play a batch's events up to `until` in time order: activation at windowStart, one dial
    every `interval` seconds (the first one interval after activation), expiry at windowEnd.

    A dial due exactly at windowEnd still happens; a paused batch dials nothing.
    """
    calls: list[Record] = batch["calls"]
    while batch["endedAt"] is None:
        events: list[tuple[datetime, int, str]] = []
        paused = batch["paused"]
        window_start = batch["windowStart"]
        if not paused and window_start is not None and _has(calls, "FUTURE"):
            events.append((parse_iso(window_start), 0, "activate"))
        if not paused and batch["nextDialAt"] is not None and _has(calls, "PENDING"):
            events.append((parse_iso(batch["nextDialAt"]), 1, "dial"))
        if batch["windowEnd"] is not None:
            events.append((parse_iso(batch["windowEnd"]), 2, "expire"))
        due = sorted(event for event in events if event[0] <= until)
        if not due:
            return
        at, _, kind = due[0]
        if kind == "activate":
            for call in calls:
                if call["status"] == "FUTURE":
                    call["status"] = "PENDING"
            if batch["nextDialAt"] is None:
                batch["nextDialAt"] = to_iso(at + timedelta(seconds=interval))
        elif kind == "dial":
            index = next(i for i, call in enumerate(calls) if call["status"] == "PENDING")
            call = calls[index]
            leg = outgoing_leg(call["medium"])
            destination = leg.get("to") if leg is not None else None
            if isinstance(destination, str) and destination.endswith(UNREACHABLE_SUFFIX):
                call["status"] = "ERROR"
                call["error"] = "Destination unreachable."
            else:
                created = sum(1 for other in calls if other["status"] == "SUCCESS")
                call["callId"] = dial(batch, call, created, to_iso(at))
                call["status"] = "SUCCESS"
            batch["nextDialAt"] = to_iso(at + timedelta(seconds=interval))
        else:
            for call in calls:
                if call["status"] in UNDIALLED:
                    call["status"] = "EXPIRED"
        if not any(call["status"] in UNDIALLED for call in calls):
            batch["endedAt"] = to_iso(at)
            batch["nextDialAt"] = None


def _has(calls: list[Record], status: str) -> bool:
    return any(call["status"] == status for call in calls)


def render_batch(batch: Record) -> dict[str, JSON]:
    """The batch as the API shows it (`calls` is write-only and never returned)."""
    calls: list[Record] = batch["calls"]
    return {
        "batchId": batch["batchId"],
        "created": batch["created"],
        "windowStart": batch["windowStart"],
        "windowEnd": batch["windowEnd"],
        "throttle": batch["throttle"],
        "webhookUrl": batch["webhookUrl"],
        "webhookSecret": batch["webhookSecret"],
        "paused": batch["paused"],
        "totalCount": len(calls),
        "completedCount": sum(1 for call in calls if call["status"] in COMPLETED),
        "endedAt": batch["endedAt"],
    }


def render_scheduled_call(call: Record) -> dict[str, JSON]:
    return {
        "status": call["status"],
        "batchId": call["batchId"],
        "callId": call["callId"],
        "error": call["error"],
        "medium": call["medium"],
        "metadata": call["metadata"],
        "templateContext": call["templateContext"],
        "experimentalSettings": call["experimentalSettings"],
    }
