"""The batch-calling model shared by the Threetone and ElevenLabs APIs, which have one shape
today: batches of recipients, submitted, listed, cancelled, retried and deleted.

Owns: `BatchCalls` (the batches of every vendor's workspace, keyed by vendor, their lifecycle
on the virtual clock, validation with FastAPI-style 422s, `limit`/`last_doc` pagination, and
persistence as plain JSON under `batch_calls` in the state file: it is the "batch_calls" part
of the emulator's `Store`, one part for both vendors so their batches keep one sequence).
The lifecycle: a batch is `pending` until its scheduled time, then `in_progress`, dialling its
pending recipients at the configured rate; each call moves pending -> dispatched -> initiated
-> in_progress -> completed (or failed for numbers ending in 99, voicemail for 98); the batch
is `completed` (`failed` when no call completed) once every call has finished. Cancel stops the
undialled recipients; retry (finished batches only) dials failed and voicemail calls again.
Knows nothing of HTTP: must not import starlette, uvicorn, httpx or anything of the product.
A vendor whose API comes to differ keeps the model and changes what its own package renders.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem

Record = dict[str, Any]

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_RECIPIENTS = 10_000
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
FAILS_SUFFIX = "99"
"""A number ending in this fails when dialled, so tests can get failed calls on demand."""
VOICEMAIL_SUFFIX = "98"
# Seconds after a call is dialled when it reaches each status; the last is its outcome.
STEPS: tuple[tuple[float, str], ...] = (
    (0.0, "dispatched"),
    (1.0, "initiated"),
    (3.0, "in_progress"),
    (20.0, "final"),
)
FINAL_CALLS = frozenset({"completed", "failed", "voicemail", "cancelled"})
FINISHED_BATCHES = frozenset({"completed", "failed"})


def _detail(status: int, message: str) -> ApiProblem:
    return ApiProblem(status, {"detail": message})


def invalid(errors: list[tuple[tuple[str | int, ...], str]]) -> ApiProblem:
    """FastAPI's 422, without the `input` it would echo (a phone number, say)."""
    return ApiProblem(
        422,
        {
            "detail": [
                {"type": "value_error", "loc": ["body", *loc], "msg": msg} for loc, msg in errors
            ]
        },
    )


def _unix(moment: datetime) -> float:
    return moment.timestamp()


class BatchCalls:
    """Every batch of every vendor's workspace; use it only holding the store's lock."""

    def __init__(self) -> None:
        self.clear()

    # --- persistence, and the store's AccountPart protocol --------------------------------------

    def clear(self) -> None:
        self.records: dict[str, Record] = {}
        self._sequence = 0

    def dump(self) -> list[Record]:
        return copy.deepcopy(list(self.records.values()))

    def load(self, items: list[Record]) -> None:
        self.records = {str(item["id"]): copy.deepcopy(item) for item in items}
        self._sequence = max((int(item.get("seq", 0)) for item in items), default=0)

    def dump_into(self, state: dict[str, JSON]) -> None:
        state["batch_calls"] = self.dump()

    def load_from(self, state: Mapping[str, Any]) -> None:
        self.load(state.get("batch_calls", []))

    # --- rendering ----------------------------------------------------------------------------

    @staticmethod
    def render(record: Record, *, recipients: bool = False) -> dict[str, JSON]:
        dialled = [r for r in record["recipients"] if r["status"] not in ("pending", "cancelled")]
        finished = [r for r in record["recipients"] if r["status"] in FINAL_CALLS - {"cancelled"}]
        body: dict[str, JSON] = {
            "id": record["id"],
            "name": record["name"],
            "agent_id": record["agent_id"],
            "created_at_unix": record["created_at_unix"],
            "scheduled_time_unix": record["scheduled_time_unix"],
            "last_updated_at_unix": record["last_updated_at_unix"],
            "status": record["status"],
            "agent_name": record["agent_name"],
            "phone_number_id": record["phone_number_id"],
            "phone_provider": record["phone_provider"],
            "whatsapp_params": copy.deepcopy(record["whatsapp_params"]),
            "total_calls_dispatched": len(dialled),
            "total_calls_scheduled": len(record["recipients"]),
            "total_calls_finished": len(finished),
            "retry_count": record["retry_count"],
        }
        if recipients:
            body["recipients"] = [
                {
                    "id": r["id"],
                    "phone_number": r["phone_number"],
                    "whatsapp_user_id": r["whatsapp_user_id"],
                    "status": r["status"],
                    "created_at_unix": r["created_at_unix"],
                    "updated_at_unix": r["updated_at_unix"],
                    "conversation_id": r["conversation_id"],
                    "conversation_initiation_client_data": copy.deepcopy(r["client_data"]),
                }
                for r in record["recipients"]
            ]
        return body

    # --- operations ---------------------------------------------------------------------------

    def record(self, vendor: str, batch_id: str) -> Record:
        record = self.records.get(batch_id)
        if record is None or record["vendor"] != vendor:
            raise _detail(404, "Batch call not found")
        return record

    def submit(self, vendor: str, body: JSON, now: datetime, interval: float) -> Record:
        checked = _check_submit(body)
        stamp = int(_unix(now))
        self._sequence += 1
        scheduled = checked.get("scheduled_time_unix")
        record: Record = {
            "id": "btcal_" + uuid.uuid4().hex[:20],
            "vendor": vendor,
            "seq": self._sequence,
            "name": checked["call_name"],
            "agent_id": checked["agent_id"],
            "agent_name": f"Agent {checked['agent_id']}",
            "created_at_unix": stamp,
            "scheduled_time_unix": stamp if scheduled is None else scheduled,
            "last_updated_at_unix": stamp,
            "status": "pending",
            "phone_number_id": checked.get("agent_phone_number_id"),
            "phone_provider": "twilio" if checked.get("agent_phone_number_id") else None,
            "whatsapp_params": checked.get("whatsapp_params"),
            "retry_count": 0,
            "recipients": [
                {
                    "id": r.get("id") or "rcp_" + uuid.uuid4().hex[:16],
                    "phone_number": r.get("phone_number"),
                    "whatsapp_user_id": r.get("whatsapp_user_id"),
                    "client_data": r.get("conversation_initiation_client_data"),
                    "status": "pending",
                    "dial_at": None,
                    "created_at_unix": stamp,
                    "updated_at_unix": stamp,
                    "conversation_id": None,
                }
                for r in checked["recipients"]
            ],
        }
        self.records[record["id"]] = record
        # A batch due now starts now, as a real one would within seconds.
        _advance_record(record, _unix(now), interval)
        return record

    def page(self, vendor: str, query: Mapping[str, str], max_limit: int) -> dict[str, JSON]:
        raw = query.get("limit")
        try:
            limit = int(raw) if raw is not None else DEFAULT_LIMIT
        except ValueError:
            raise invalid([(("limit",), "Input should be a valid integer")]) from None
        if limit < 1:
            raise invalid([(("limit",), "Input should be greater than 0")])
        limit = min(limit, MAX_LIMIT, max_limit)
        # Newest first, as the vendors list them.
        items = sorted(
            (r for r in self.records.values() if r["vendor"] == vendor),
            key=lambda r: (r["created_at_unix"], r["seq"]),
            reverse=True,
        )
        start = 0
        cursor = query.get("last_doc")
        if cursor:
            ids = [r["id"] for r in items]
            if cursor not in ids:
                raise _detail(400, "Invalid last_doc")
            start = ids.index(cursor) + 1
        chosen = items[start : start + limit]
        has_more = start + limit < len(items)
        return {
            "batch_calls": [self.render(r) for r in chosen],
            "next_doc": chosen[-1]["id"] if has_more and chosen else None,
            "has_more": has_more,
        }

    def cancel(self, vendor: str, batch_id: str, now: datetime) -> Record:
        record = self.record(vendor, batch_id)
        if record["status"] not in ("pending", "in_progress"):
            raise _detail(400, f"Batch call is {record['status']} and cannot be cancelled")
        stamp = int(_unix(now))
        record["status"] = "cancelled"
        record["last_updated_at_unix"] = stamp
        for recipient in record["recipients"]:
            if recipient["status"] == "pending":
                recipient.update(status="cancelled", dial_at=None, updated_at_unix=stamp)
        return record

    def retry(self, vendor: str, batch_id: str, now: datetime, interval: float) -> Record:
        record = self.record(vendor, batch_id)
        if record["status"] not in FINISHED_BATCHES:
            raise _detail(
                400, f"Batch call is {record['status']}; only a finished batch can be retried"
            )
        clock = _unix(now)
        stamp = int(clock)
        record["retry_count"] += 1
        record["last_updated_at_unix"] = stamp
        again = [r for r in record["recipients"] if r["status"] in ("failed", "voicemail")]
        for index, recipient in enumerate(again):
            recipient.update(status="pending", dial_at=clock + index * interval)
            recipient["updated_at_unix"] = stamp
        if again:
            record["status"] = "in_progress"
        _advance_record(record, clock, interval)
        return record

    def delete(self, vendor: str, batch_id: str) -> None:
        self.record(vendor, batch_id)
        del self.records[batch_id]

    def advance(self, now: datetime, interval: float) -> None:
        for record in self.records.values():
            _advance_record(record, _unix(now), interval)


# --- the lifecycle ------------------------------------------------------------------------------


def _outcome(recipient: Record) -> str:
    number = str(recipient.get("phone_number") or recipient.get("whatsapp_user_id") or "")
    if number.endswith(FAILS_SUFFIX):
        return "failed"
    if number.endswith(VOICEMAIL_SUFFIX):
        return "voicemail"
    return "completed"


def _advance_record(record: Record, now: float, interval: float) -> None:
    """Play one batch's events up to `now` (unix seconds)."""
    changed = False
    if record["status"] == "pending" and now >= record["scheduled_time_unix"]:
        start = float(record["scheduled_time_unix"])
        record["status"] = "in_progress"
        waiting = [r for r in record["recipients"] if r["status"] == "pending"]
        for index, recipient in enumerate(waiting):
            recipient["dial_at"] = start + index * interval
        changed = True
    for recipient in record["recipients"]:
        dial_at = recipient.get("dial_at")
        if dial_at is None or recipient["status"] in FINAL_CALLS:
            continue
        status = recipient["status"]
        for offset, step in STEPS:
            if now >= dial_at + offset:
                status = _outcome(recipient) if step == "final" else step
        if status != recipient["status"]:
            if recipient["conversation_id"] is None:
                recipient["conversation_id"] = "conv_" + uuid.uuid4().hex[:20]
            recipient["status"] = status
            recipient["updated_at_unix"] = int(now)
            changed = True
    statuses = {r["status"] for r in record["recipients"]}
    if record["status"] == "in_progress" and statuses <= FINAL_CALLS:
        record["status"] = "completed" if "completed" in statuses else "failed"
        changed = True
    if changed:
        record["last_updated_at_unix"] = int(now)


# --- validation -------------------------------------------------------------------------------


def _check_submit(body: JSON) -> Record:
    if not isinstance(body, dict):
        raise invalid([((), "Input should be a valid dictionary")])
    errors: list[tuple[tuple[str | int, ...], str]] = []
    for name in ("call_name", "agent_id"):
        value = body.get(name)
        if value is None:
            errors.append(((name,), "Field required"))
        elif not isinstance(value, str) or not value.strip():
            errors.append(((name,), "Input should be a non-empty string"))
    scheduled = body.get("scheduled_time_unix")
    if scheduled is not None and (isinstance(scheduled, bool) or not isinstance(scheduled, int)):
        errors.append((("scheduled_time_unix",), "Input should be a valid integer"))
    phone_id = body.get("agent_phone_number_id")
    if phone_id is not None and not isinstance(phone_id, str):
        errors.append((("agent_phone_number_id",), "Input should be a valid string"))
    whatsapp = body.get("whatsapp_params")
    if whatsapp is not None and not isinstance(whatsapp, dict):
        errors.append((("whatsapp_params",), "Input should be a valid dictionary"))
    recipients = body.get("recipients")
    if recipients is None:
        errors.append((("recipients",), "Field required"))
    elif not isinstance(recipients, list):
        errors.append((("recipients",), "Input should be a valid list"))
    elif not recipients:
        errors.append((("recipients",), "List should have at least 1 item after validation"))
    elif len(recipients) > MAX_RECIPIENTS:
        errors.append(
            (
                ("recipients",),
                f"List should have at most {MAX_RECIPIENTS} items after validation, "
                f"not {len(recipients)}",
            )
        )
    else:
        seen: set[str] = set()
        for index, recipient in enumerate(recipients):
            errors += [((("recipients", index, *loc)), msg) for loc, msg in _check(recipient)]
            ident = recipient.get("id") if isinstance(recipient, dict) else None
            if isinstance(ident, str) and ident:
                if ident in seen:
                    errors.append((("recipients", index, "id"), "Duplicate recipient id"))
                seen.add(ident)
    if errors:
        raise invalid(errors)
    return body


def _check(recipient: JSON) -> list[tuple[tuple[str | int, ...], str]]:
    if not isinstance(recipient, dict):
        return [((), "Input should be a valid dictionary")]
    errors: list[tuple[tuple[str | int, ...], str]] = []
    phone, whatsapp = recipient.get("phone_number"), recipient.get("whatsapp_user_id")
    if (phone is None) == (whatsapp is None):
        errors.append(((), "Exactly one of phone_number or whatsapp_user_id is required"))
    if phone is not None and not (isinstance(phone, str) and E164.match(phone)):
        errors.append((("phone_number",), "Value error, not a valid E.164 phone number"))
    if whatsapp is not None and not (isinstance(whatsapp, str) and whatsapp):
        errors.append((("whatsapp_user_id",), "Input should be a non-empty string"))
    ident = recipient.get("id")
    if ident is not None and not isinstance(ident, str):
        errors.append((("id",), "Input should be a valid string"))
    data = recipient.get("conversation_initiation_client_data")
    if data is not None and not isinstance(data, dict):
        errors.append(
            (("conversation_initiation_client_data",), "Input should be a valid dictionary")
        )
    return errors
