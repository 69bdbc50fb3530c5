"""The batch-calling model shared by the Threetone and ElevenLabs APIs: batches of recipients,
submitted, listed, cancelled, retried, exported and deleted.

Owns: `BatchCalls` (the batches of every vendor's workspace, keyed by vendor, their lifecycle
on the virtual clock, validation with FastAPI-style 422s, `limit`/`last_doc` pagination, and
persistence as plain JSON under `batch_calls` in the state file: it is the "batch_calls" part
of the emulator's `Store`, one part for both vendors so their batches keep one sequence).
What each vendor takes and answers is its table in `reconciler_apis` (a `BatchCallingApi`):
a submit keeps only the fields of the vendor's submit request (FastAPI ignores the others),
and every answer is serialized through the vendor's response models, every field present,
nulls and published defaults included.
The lifecycle: a batch is `pending` until its scheduled time, then `in_progress`, dialling its
pending recipients at the configured rate; each call moves pending -> dispatched -> initiated
-> in_progress -> completed (or failed for numbers ending in 99, voicemail for 98); the batch
is `completed` (`failed` when no call completed) once every call has finished. Cancel sets
every recipient to cancelled (the SDK: "set all recipients to cancelled status"), the counters
keep what happened before; retry (finished batches only) dials failed and voicemail calls
again. Knows nothing of HTTP: must not import starlette, uvicorn, httpx or anything of the
product.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from reconciler_apis.batchcalling import BatchCallingApi
from reconciler_apis.model import serialize
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem

Record = dict[str, Any]
Errors = list[tuple[tuple[str | int, ...], str]]

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
MACHINE_DETECTION_MODES = ("enable", "detect_message_end")
EXPORT_COLUMNS = (
    "id",
    "phone_number",
    "whatsapp_user_id",
    "status",
    "conversation_id",
    "created_at_unix",
    "updated_at_unix",
)
KEPT_APART = ("call_name", "agent_id", "recipients")
"""Submit fields the record holds on their own; the rest of the request is `submitted`."""


def _detail(status: int, message: str) -> ApiProblem:
    return ApiProblem(status, {"detail": message})


def invalid(errors: Errors) -> ApiProblem:
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
    def values(record: Record) -> dict[str, JSON]:
        """Everything the emulator knows of a batch, in the response models' names; each
        vendor's table picks its own fields from it."""
        recipients = record["recipients"]
        submitted: dict[str, JSON] = record.get("submitted", {})
        values: dict[str, JSON] = {
            key: value for key, value in submitted.items() if key != "agent_phone_number_id"
        }
        values.update(
            id=record["id"],
            name=record["name"],
            agent_id=record["agent_id"],
            agent_name=record["agent_name"],
            created_at_unix=record["created_at_unix"],
            scheduled_time_unix=record["scheduled_time_unix"],
            last_updated_at_unix=record["last_updated_at_unix"],
            status=record["status"],
            phone_number_id=record["phone_number_id"],
            phone_provider=record["phone_provider"],
            total_calls_dispatched=sum(1 for r in recipients if _dispatched(r)),
            total_calls_scheduled=len(recipients),
            total_calls_finished=sum(1 for r in recipients if _finished(r)),
            retry_count=record["retry_count"],
        )
        if "whatsapp_params" in record and "whatsapp_params" not in submitted:
            values["whatsapp_params"] = record["whatsapp_params"]  # a state file of before
        if submitted.get("branch_id") is not None:
            values["branch_name"] = f"Branch {submitted['branch_id']}"
        return values

    @staticmethod
    def recipient_values(recipient: Record) -> dict[str, JSON]:
        values: dict[str, JSON] = {
            "id": recipient["id"],
            "phone_number": recipient["phone_number"],
            "whatsapp_user_id": recipient["whatsapp_user_id"],
            "status": recipient["status"],
            "created_at_unix": recipient["created_at_unix"],
            "updated_at_unix": recipient["updated_at_unix"],
            "conversation_id": recipient["conversation_id"],
        }
        if recipient.get("client_data") is not None:
            values["conversation_initiation_client_data"] = recipient["client_data"]
        return values

    def render(self, api: BatchCallingApi, record: Record) -> dict[str, JSON]:
        """A batch as the vendor's `BatchCallResponse`."""
        return serialize(api.batch, self.values(record))

    def render_detailed(self, api: BatchCallingApi, record: Record) -> dict[str, JSON]:
        """A batch with its recipients, as the vendor's `BatchCallDetailedResponse`."""
        values = self.values(record)
        values["recipients"] = [self.recipient_values(r) for r in record["recipients"]]
        return serialize(api.detailed_batch, values)

    def export(self, api: BatchCallingApi, batch_id: str, query: Mapping[str, str]) -> str:
        """The recipients and their results as CSV (`limit`: only the first N)."""
        record = self.record(api, batch_id)
        recipients: list[Record] = record["recipients"]
        raw = query.get("limit")
        if raw is not None:
            try:
                limit = int(raw)
            except ValueError:
                raise _query_invalid("limit", "Input should be a valid integer") from None
            if limit < 1:
                raise _query_invalid("limit", "Input should be greater than 0")
            recipients = recipients[:limit]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for recipient in recipients:
            values = self.recipient_values(recipient)
            writer.writerow(["" if values[c] is None else values[c] for c in EXPORT_COLUMNS])
        return out.getvalue()

    # --- operations ---------------------------------------------------------------------------

    def record(self, api: BatchCallingApi, batch_id: str) -> Record:
        record = self.records.get(batch_id)
        if record is None or record["vendor"] != api.vendor:
            raise _detail(404, "Batch call not found")
        return record

    def submit(self, api: BatchCallingApi, body: JSON, now: datetime, interval: float) -> Record:
        checked = _check_submit(api, body)
        stamp = int(_unix(now))
        self._sequence += 1
        scheduled = checked.get("scheduled_time_unix")
        phone_id = checked.get("agent_phone_number_id")
        record: Record = {
            "id": "btcal_" + uuid.uuid4().hex[:20],
            "vendor": api.vendor,
            "seq": self._sequence,
            "name": checked["call_name"],
            "agent_id": checked["agent_id"],
            "agent_name": f"Agent {checked['agent_id']}",
            "created_at_unix": stamp,
            "scheduled_time_unix": stamp if scheduled is None else scheduled,
            "last_updated_at_unix": stamp,
            "status": "pending",
            "phone_number_id": phone_id,
            "phone_provider": "twilio" if phone_id else None,
            "retry_count": 0,
            # What else the vendor's submit request took, as sent: echoed in every answer.
            "submitted": {k: v for k, v in checked.items() if k not in KEPT_APART},
            "recipients": [
                {
                    "id": r.get("id") or "rcp_" + uuid.uuid4().hex[:16],
                    "phone_number": r.get("phone_number"),
                    "whatsapp_user_id": r.get("whatsapp_user_id"),
                    "client_data": r.get("conversation_initiation_client_data"),
                    "status": "pending",
                    "dial_at": None,
                    "dispatched": False,
                    "finished": False,
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

    def page(
        self, api: BatchCallingApi, query: Mapping[str, str], max_limit: int
    ) -> dict[str, JSON]:
        raw = query.get("limit")
        try:
            limit = int(raw) if raw is not None else DEFAULT_LIMIT
        except ValueError:
            raise _query_invalid("limit", "Input should be a valid integer") from None
        if limit < 1:
            raise _query_invalid("limit", "Input should be greater than 0")
        limit = min(limit, MAX_LIMIT, max_limit)
        agent = query.get("agent_id") if api.filters_by_agent else None
        # Newest first, as the vendors list them.
        items = sorted(
            (
                r
                for r in self.records.values()
                if r["vendor"] == api.vendor and (not agent or r["agent_id"] == agent)
            ),
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
        return serialize(
            api.workspace,
            {
                "batch_calls": [self.values(r) for r in chosen],
                "next_doc": chosen[-1]["id"] if has_more and chosen else None,
                "has_more": has_more,
            },
        )

    def cancel(self, api: BatchCallingApi, batch_id: str, now: datetime) -> Record:
        record = self.record(api, batch_id)
        if record["status"] not in ("pending", "in_progress"):
            raise _detail(400, f"Batch call is {record['status']} and cannot be cancelled")
        stamp = int(_unix(now))
        record["status"] = "cancelled"
        record["last_updated_at_unix"] = stamp
        for recipient in record["recipients"]:
            # Every recipient, as the vendor says; what was dialled stays counted.
            recipient["dispatched"] = _dispatched(recipient)
            recipient["finished"] = _finished(recipient)
            recipient.update(status="cancelled", dial_at=None, updated_at_unix=stamp)
        return record

    def retry(self, api: BatchCallingApi, batch_id: str, now: datetime, interval: float) -> Record:
        record = self.record(api, batch_id)
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
            recipient.update(status="pending", dial_at=clock + index * interval, finished=False)
            recipient["updated_at_unix"] = stamp
        if again:
            record["status"] = "in_progress"
        _advance_record(record, clock, interval)
        return record

    def delete(self, api: BatchCallingApi, batch_id: str) -> None:
        self.record(api, batch_id)
        del self.records[batch_id]

    def advance(self, now: datetime, interval: float) -> None:
        for record in self.records.values():
            _advance_record(record, _unix(now), interval)


def _query_invalid(name: str, message: str) -> ApiProblem:
    return ApiProblem(
        422, {"detail": [{"type": "value_error", "loc": ["query", name], "msg": message}]}
    )


def _dispatched(recipient: Record) -> bool:
    """Whether anyone dialled this recipient (a state file of before has no flag)."""
    if "dispatched" in recipient:
        return bool(recipient["dispatched"]) or recipient["status"] not in ("pending", "cancelled")
    return recipient["status"] not in ("pending", "cancelled")


def _finished(recipient: Record) -> bool:
    if "finished" in recipient:
        return bool(recipient["finished"]) or recipient["status"] in FINAL_CALLS - {"cancelled"}
    return recipient["status"] in FINAL_CALLS - {"cancelled"}


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
            recipient["dispatched"] = True
            recipient["finished"] = status in FINAL_CALLS
            recipient["updated_at_unix"] = int(now)
            changed = True
    statuses = {r["status"] for r in record["recipients"]}
    if record["status"] == "in_progress" and statuses <= FINAL_CALLS:
        record["status"] = "completed" if "completed" in statuses else "failed"
        changed = True
    if changed:
        record["last_updated_at_unix"] = int(now)


# --- validation -------------------------------------------------------------------------------

Check = Callable[[JSON], list[tuple[tuple[str | int, ...], str]]]


def _string(value: JSON) -> Errors:
    return [] if isinstance(value, str) else [((), "Input should be a valid string")]


def _integer(minimum: int | None = None) -> Check:
    def check(value: JSON) -> Errors:
        if isinstance(value, bool) or not isinstance(value, int):
            return [((), "Input should be a valid integer")]
        if minimum is not None and value < minimum:
            return [((), f"Input should be greater than or equal to {minimum}")]
        return []

    return check


def _boolean(value: JSON) -> Errors:
    return [] if isinstance(value, bool) else [((), "Input should be a valid boolean")]


def _whatsapp(required: tuple[str, ...]) -> Check:
    def check(value: JSON) -> Errors:
        if not isinstance(value, dict):
            return [((), "Input should be a valid dictionary")]
        errors: Errors = [((name,), "Field required") for name in required if name not in value]
        for name, item in value.items():
            if item is not None and not isinstance(item, str):
                errors.append(((name,), "Input should be a valid string"))
        return errors

    return check


def _machine_detection(value: JSON) -> Errors:
    if not isinstance(value, dict):
        return [((), "Input should be a valid dictionary")]
    errors: Errors = []
    mode = value.get("mode")
    if mode is not None and mode not in MACHINE_DETECTION_MODES:
        errors.append((("mode",), "Input should be 'enable' or 'detect_message_end'"))
    actions = value.get("actions")
    if actions is not None:
        if not isinstance(actions, list):
            return [*errors, (("actions",), "Input should be a valid list")]
        for index, rule in enumerate(actions):
            if not isinstance(rule, dict):
                errors.append((("actions", index), "Input should be a valid dictionary"))
                continue
            answered = rule.get("answered_by")
            if answered is None:
                errors.append((("actions", index, "answered_by"), "Field required"))
            elif not isinstance(answered, list) or not all(isinstance(a, str) for a in answered):
                errors.append((("actions", index, "answered_by"), "Input should be a valid list"))
            action = rule.get("action")
            if action is not None and not isinstance(action, str):
                errors.append((("actions", index, "action"), "Input should be a valid string"))
    return errors


def _telephony(value: JSON) -> Errors:
    if not isinstance(value, dict):
        return [((), "Input should be a valid dictionary")]
    checks: dict[str, Check] = {
        "ringing_timeout_secs": _integer(1),
        "twilio_call_recording_enabled": _boolean,
        "twilio_machine_detection": _machine_detection,
    }
    errors: Errors = []
    for name, check in checks.items():
        if value.get(name) is not None:
            errors += [((name, *loc), msg) for loc, msg in check(value[name])]
    return errors


def _field_checks(api: BatchCallingApi) -> dict[str, Check]:
    """The optional submit fields of every vendor, and how each is checked."""
    return {
        "scheduled_time_unix": _integer(),
        "agent_phone_number_id": _string,
        "whatsapp_params": _whatsapp(api.whatsapp_required),
        "timezone": _string,
        "branch_id": _string,
        "environment": _string,
        "telephony_call_config": _telephony,
        "target_concurrency_limit": _integer(1),
    }


def _check_submit(api: BatchCallingApi, body: JSON) -> Record:
    """The submit body as the vendor's request model keeps it (its own fields only)."""
    if not isinstance(body, dict):
        raise invalid([((), "Input should be a valid dictionary")])
    errors: Errors = []
    for name in ("call_name", "agent_id"):
        value = body.get(name)
        if value is None:
            errors.append(((name,), "Field required"))
        elif not isinstance(value, str) or not value.strip():
            errors.append(((name,), "Input should be a non-empty string"))
    checks = _field_checks(api)
    for name in api.submit.names:
        if name in checks and body.get(name) is not None:
            errors += [((name, *loc), msg) for loc, msg in checks[name](body[name])]
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
    return {name: body[name] for name in api.submit.names if name in body}


def _check(recipient: JSON) -> Errors:
    if not isinstance(recipient, dict):
        return [((), "Input should be a valid dictionary")]
    errors: Errors = []
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
