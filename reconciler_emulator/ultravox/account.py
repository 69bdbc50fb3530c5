"""The emulated Ultravox account: agents, scheduled batches and the calls they create.

Owns: `UltravoxAccount` (every operation the Ultravox routes expose, as plain method calls that
return JSON values or raise `ApiProblem`), as the "ultravox" part of the emulator's `Store`: it
keeps its records in the state file under `agents`, `batches` and `calls`, and dials batches as
the shared virtual clock advances. The rules live in `agents` (templates, names, the PATCH
merge) and `batches` (validation, the dialling lifecycle). Knows nothing of HTTP: must not
import starlette, uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from reconciler_apis import ultravox as ultravox_api
from reconciler_emulator.clock import parse_iso, to_iso
from reconciler_emulator.config import EmulatorConfig
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.state import Store
from reconciler_emulator.ultravox import agents as agent_rules
from reconciler_emulator.ultravox import batches as batch_rules
from reconciler_emulator.ultravox.drf import field_errors, not_an_object, not_found, type_name

Record = dict[str, Any]

# Outcomes of created calls cycle through these so a batch shows a realistic mix,
# deterministically: (endReason, seconds until joined or None, seconds until ended).
CALL_OUTCOMES: tuple[tuple[str, int | None, int], ...] = (
    ("hangup", 2, 47),
    ("agent_hangup", 2, 92),
    ("unjoined", None, 30),
)


class UltravoxAccount:
    """The Ultravox share of one emulator's state; use it only holding `store.lock`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.clear()

    @property
    def now(self) -> datetime:
        return self._store.now

    @property
    def config(self) -> EmulatorConfig:
        return self._store.config

    def save(self) -> None:
        self._store.save()

    # --- the store's AccountPart protocol -------------------------------------------------------

    def clear(self) -> None:
        self.served_verbatim = False
        """Set when an answer carried a seeded agent verbatim; the routes reset and read it."""
        self.agents: dict[str, Record] = {}
        self.batches: dict[str, Record] = {}
        self.calls: dict[str, Record] = {}

    def advance(self, now: datetime, interval: float) -> None:
        for batch in self.batches.values():
            batch_rules.advance_batch(batch, now, interval, self._create_call)

    def dump_into(self, state: dict[str, JSON]) -> None:
        state["agents"] = list(self.agents.values())
        state["batches"] = list(self.batches.values())
        state["calls"] = list(self.calls.values())

    def load_from(self, state: Mapping[str, Any]) -> None:
        self.agents = {record["agentId"]: record for record in state["agents"]}
        self.batches = {record["batchId"]: record for record in state["batches"]}
        self.calls = {record["callId"]: record for record in state["calls"]}

    # --- agents -------------------------------------------------------------------------------

    def _agent(self, agent_id: str) -> Record:
        record = self.agents.get(agent_id)
        if record is None:
            raise not_found()
        return record

    def _name_taken(self, name: str, except_id: str | None = None) -> bool:
        return any(
            record.get("name") == name and agent_id != except_id
            for agent_id, record in self.agents.items()
        )

    def render_agent(self, record: Record) -> dict[str, JSON]:
        if record.get("raw"):
            # Seeded "odd live state" reads back exactly as it was seeded: not an answer of the
            # API's own model, and the answer says so (`served_verbatim`, a response header).
            self.served_verbatim = True
            body: dict[str, JSON] = copy.deepcopy(record["body"])
            return body
        template = agent_rules.render_template(
            record["callTemplate"],
            name=record["name"],
            created=record["created"],
            updated=record["updated"],
        )
        return {
            "agentId": record["agentId"],
            "publishedRevisionId": record["publishedRevisionId"],
            "created": record["created"],
            "name": record["name"],
            "callTemplate": template,
            "statistics": copy.deepcopy(record["statistics"]),
        }

    def list_agents(self) -> list[dict[str, JSON]]:
        return [self.render_agent(record) for record in self.agents.values()]

    def get_agent(self, agent_id: str) -> dict[str, JSON]:
        return self.render_agent(self._agent(agent_id))

    def create_agent(self, body: JSON) -> dict[str, JSON]:
        if not isinstance(body, dict):
            raise not_an_object(body)
        errors: dict[str, JSON] = {}
        name = body.get("name")
        if name is None:
            errors["name"] = [
                "This field is required." if "name" not in body else "This field may not be null."
            ]
        else:
            self._validate_name(name, None, errors)
        template = self._template_from(body.get("callTemplate"), {}, errors)
        if errors:
            raise field_errors(errors)
        stamp = to_iso(self.now)
        record: Record = {
            "agentId": str(uuid.uuid4()),
            "publishedRevisionId": str(uuid.uuid4()),
            "created": stamp,
            "updated": stamp,
            "name": name,
            "callTemplate": template,
            "statistics": {"calls": 0},
        }
        self.agents[record["agentId"]] = record
        self.save()
        return self.render_agent(record)

    def _validate_name(self, name: JSON, own_id: str | None, errors: dict[str, JSON]) -> None:
        problem = agent_rules.name_error(name)
        if problem is not None:
            errors["name"] = [problem]
        elif isinstance(name, str) and self._name_taken(name, own_id):
            errors["name"] = ["agent with this name already exists."]

    @staticmethod
    def _template_from(
        raw: JSON, stored: Mapping[str, JSON], errors: dict[str, JSON]
    ) -> dict[str, JSON]:
        """The stored template after writing `raw` (a callTemplate patch) over `stored`."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            errors["callTemplate"] = [
                f'Expected a dictionary of items but got type "{type_name(raw)}".'
            ]
            return dict(stored)
        try:
            return agent_rules.merge_template(stored, raw)
        except agent_rules.TemplateError as exc:
            errors["callTemplate"] = [str(exc)]
            return dict(stored)

    def patch_agent(self, agent_id: str, body: JSON) -> dict[str, JSON]:
        """PATCH (also the console edit): see `agents.merge_template` for the model."""
        record = self._agent(agent_id)
        if not isinstance(body, dict):
            raise not_an_object(body)
        if record.get("raw"):
            record = self._unraw(record)
        errors: dict[str, JSON] = {}
        name = record["name"]
        if "name" in body:
            if body["name"] is None:
                errors["name"] = ["This field may not be null."]
            else:
                name = body["name"]
                self._validate_name(name, agent_id, errors)
        template = record["callTemplate"]
        if "callTemplate" in body:
            # `callTemplate: null` clears the whole template back to its defaults.
            template = self._template_from(body["callTemplate"], record["callTemplate"], errors)
        if errors:
            raise field_errors(errors)
        record.update(
            name=name,
            callTemplate=template,
            updated=to_iso(self.now),
            publishedRevisionId=str(uuid.uuid4()),
        )
        record.pop("raw", None)
        record.pop("body", None)
        self.agents[agent_id] = record
        self.save()
        return self.render_agent(record)

    def _unraw(self, record: Record) -> Record:
        """A seeded agent as a normal record, so a write re-canonicalizes it like the server."""
        body = record["body"]
        raw_template = body.get("callTemplate")
        try:
            template = agent_rules.canonical_template(
                raw_template if isinstance(raw_template, dict) else {}
            )
        except agent_rules.TemplateError:
            template = {}
        created = body.get("created") or to_iso(self.now)
        statistics = body.get("statistics")
        return {
            "agentId": record["agentId"],
            "publishedRevisionId": body.get("publishedRevisionId") or str(uuid.uuid4()),
            "created": created,
            "updated": created,
            "name": body.get("name"),
            "callTemplate": template,
            "statistics": statistics if isinstance(statistics, dict) else {"calls": 0},
        }

    def delete_agent(self, agent_id: str) -> None:
        self._agent(agent_id)
        del self.agents[agent_id]
        for batch_id in [b for b, batch in self.batches.items() if batch["agentId"] == agent_id]:
            del self.batches[batch_id]
        self.save()

    def seed_agent(self, body: JSON) -> dict[str, JSON]:
        """Store an Agent-like dict as-is, bypassing every rule; it reads back verbatim."""
        if not isinstance(body, dict):
            raise field_errors({"detail": "Expected an Agent-like object."})
        seeded: dict[str, JSON] = copy.deepcopy(body)
        seeded.setdefault("agentId", str(uuid.uuid4()))
        seeded.setdefault("publishedRevisionId", str(uuid.uuid4()))
        seeded.setdefault("created", to_iso(self.now))
        seeded.setdefault("statistics", {"calls": 0})
        agent_id = str(seeded["agentId"])
        self.agents[agent_id] = {
            "agentId": agent_id,
            "name": seeded.get("name"),
            "callTemplate": copy.deepcopy(seeded.get("callTemplate")),
            "raw": True,
            "body": seeded,
        }
        self.save()
        return self.render_agent(self.agents[agent_id])

    # --- scheduled batches ----------------------------------------------------------------------

    def _batch(self, agent_id: str, batch_id: str) -> Record:
        self._agent(agent_id)
        batch = self.batches.get(batch_id)
        if batch is None or batch["agentId"] != agent_id:
            raise not_found()
        return batch

    def _fill_secret(self, batch: Record) -> None:
        # "If unset, an appropriate secret will be chosen for you" (webhookSecret docs).
        if batch["webhookUrl"] is not None and batch["webhookSecret"] is None:
            batch["webhookSecret"] = uuid.uuid4().hex

    def list_batches(self, agent_id: str) -> list[dict[str, JSON]]:
        self._agent(agent_id)
        return [
            batch_rules.render_batch(batch)
            for batch in self.batches.values()
            if batch["agentId"] == agent_id
        ]

    def get_batch(self, agent_id: str, batch_id: str) -> dict[str, JSON]:
        return batch_rules.render_batch(self._batch(agent_id, batch_id))

    def create_batch(self, agent_id: str, body: JSON) -> dict[str, JSON]:
        self._agent(agent_id)
        batch = batch_rules.new_batch(
            body,
            batch_id=str(uuid.uuid4()),
            agent_id=agent_id,
            now=self.now,
            calls_per_minute=self.config.calls_per_minute,
        )
        self._fill_secret(batch)
        self.batches[batch["batchId"]] = batch
        self.save()
        return batch_rules.render_batch(batch)

    def patch_batch(self, agent_id: str, batch_id: str, body: JSON) -> dict[str, JSON]:
        batch = self._batch(agent_id, batch_id)
        batch_rules.patch_batch(
            batch, body, now=self.now, calls_per_minute=self.config.calls_per_minute
        )
        self._fill_secret(batch)
        self.save()
        return batch_rules.render_batch(batch)

    def delete_batch(self, agent_id: str, batch_id: str) -> None:
        """Removes the batch and its undialled calls; calls already created stay in the account."""
        self._batch(agent_id, batch_id)
        del self.batches[batch_id]
        self.save()

    def scheduled_calls(self, agent_id: str, batch_id: str, status: str | None) -> list[Record]:
        """A batch's calls (of `status`), unrendered: a page renders only its own
        (`render_scheduled_call`); rendering all 100,000 for each page of 100 made reading a
        big batch back take minutes."""
        batch = self._batch(agent_id, batch_id)
        if status is not None and status not in batch_rules.STATUSES:
            raise field_errors(
                {
                    "status": [
                        f"Select a valid choice. {status} is not one of the available choices."
                    ]
                }
            )
        return [call for call in batch["calls"] if status is None or call["status"] == status]

    def created_calls(self, agent_id: str, batch_id: str) -> list[Record]:
        """The calls a batch made, unrendered (a page renders its own with `render_call`)."""
        batch = self._batch(agent_id, batch_id)
        return [
            self.calls[call["callId"]] for call in batch["calls"] if call["callId"] in self.calls
        ]

    # --- created calls --------------------------------------------------------------------------

    def _create_call(self, batch: Record, scheduled: Record, ordinal: int, at: str) -> str:
        """Dial one scheduled call: a Call object snapshotting the agent's template."""
        agent = self.agents.get(batch["agentId"])
        template: dict[str, JSON] = {}
        name: JSON = None
        if agent is not None:
            rendered = self.render_agent(agent)
            name = rendered.get("name")
            raw_template = rendered.get("callTemplate")
            template = raw_template if isinstance(raw_template, dict) else {}
            if not agent.get("raw"):
                agent["statistics"]["calls"] += 1
        reason, joined_after, ended_after = CALL_OUTCOMES[ordinal % len(CALL_OUTCOMES)]
        if reason == "unjoined":
            join_timeout = template.get("joinTimeout", "30s")
            ended_after = round(agent_rules.duration_seconds(str(join_timeout)))
        context = scheduled["templateContext"] or {}
        prompt = template.get("systemPrompt")
        call_id = str(uuid.uuid4())
        created = parse_iso(at)
        self.calls[call_id] = {
            "callId": call_id,
            "batchId": batch["batchId"],
            "agentId": batch["agentId"],
            "agentName": name,
            "created": at,
            "joinAt": None
            if joined_after is None
            else to_iso(created + timedelta(seconds=joined_after)),
            "endAt": to_iso(created + timedelta(seconds=ended_after)),
            "endReason": reason,
            "outgoing": batch_rules.outgoing_leg(scheduled["medium"]) is not None,
            "medium": copy.deepcopy(scheduled["medium"]),
            "metadata": copy.deepcopy(scheduled["metadata"] or {}),
            "experimentalSettings": copy.deepcopy(scheduled["experimentalSettings"]),
            "systemPrompt": agent_rules.render_text(prompt, context)
            if isinstance(prompt, str)
            else None,
            "template": copy.deepcopy(template),
        }
        return call_id

    @staticmethod
    def _sip_details(call: Record, billed: str | None, has_ended: bool) -> dict[str, JSON] | None:
        """Seed 001's `sipDetails` for a call over SIP; null (the schema: "if applicable") else."""
        medium = call["medium"]
        if not (isinstance(medium, dict) and medium.get("sip") is not None):
            return None
        return {
            "billedDuration": billed,
            "terminationReason": "SIP_TERMINATION_NORMAL" if has_ended else None,
        }

    def render_call(self, call: Record) -> dict[str, JSON]:
        """A Call as seed 001 shows it; joined/ended appear once the virtual clock reaches them."""
        template: dict[str, JSON] = call["template"]
        joined = (
            call["joinAt"] if call["joinAt"] and parse_iso(call["joinAt"]) <= self.now else None
        )
        has_ended = parse_iso(call["endAt"]) <= self.now
        if not has_ended:
            billed, billing = None, "BILLING_STATUS_PENDING"
        elif call["joinAt"] is None:
            billed, billing = "0s", "BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION"
        else:
            seconds = (parse_iso(call["endAt"]) - parse_iso(call["joinAt"])).total_seconds()
            billed, billing = f"{seconds:g}s", "BILLING_STATUS_BILLED"
        return {
            "callId": call["callId"],
            "clientVersion": None,
            "created": call["created"],
            "joined": joined,
            "ended": call["endAt"] if has_ended else None,
            "endReason": call["endReason"] if has_ended else None,
            "billedDuration": billed,
            **{
                d.path: d.value
                for d in ultravox_api.CREATED_CALL_NULLS
                if d.path.startswith("billed")
            },
            "billingStatus": billing,
            "firstSpeaker": "FIRST_SPEAKER_USER" if call["outgoing"] else "FIRST_SPEAKER_AGENT",
            "firstSpeakerSettings": template.get("firstSpeakerSettings", {"agent": {}}),
            "initialOutputMedium": template.get("initialOutputMedium", "MESSAGE_MEDIUM_VOICE"),
            "joinUrl": None
            if call["outgoing"]
            else f"wss://emulator.invalid/calls/{call['callId']}",
            "shortSummary": None,
            "summary": None,
            "agent": {"agentId": call["agentId"], "name": call["agentName"]},
            "agentId": call["agentId"],
            "experimentalSettings": call["experimentalSettings"],
            "metadata": call["metadata"],
            "initialState": {},
            "requestContext": None,
            "sipDetails": self._sip_details(call, billed, has_ended),
            "inactivityMessages": template.get("inactivityMessages", []),
            "joinTimeout": template.get("joinTimeout", "30s"),
            "languageHint": template.get("languageHint"),
            "maxDuration": template.get("maxDuration", "3600s"),
            "medium": call["medium"],
            "model": template.get("model", agent_rules.SERVER_MODEL),
            "recordingEnabled": template.get("recordingEnabled", False),
            "systemPrompt": call["systemPrompt"],
            "temperature": template.get("temperature", 0),
            "timeExceededMessage": template.get("timeExceededMessage"),
            "voice": template.get("voice"),
            "transcriptOptional": True,
            "vadSettings": template.get("vadSettings"),
        }
