"""Ultravox scheduled call batches: the `ScheduledBatch` resource type.

Owns how a campaign maps onto the API, with safety first (nobody is dialled twice):
- identity from the account alone: every call the tool creates carries the reserved metadata
  keys `reconciler.batch` (the manifest name) and `reconciler.recipient` (a stable recipient
  key); reading lists each batch's scheduled calls and groups batches by that name. A resource
  may span several API batches ("parts"): the first, plus supplemental batches holding only
  recipients added later.
- plan semantics: create; PATCH only changed fields among windowStart, windowEnd, webhookUrl,
  webhookSecret, paused; added recipients -> a supplemental batch with only them; removed
  recipients -> replace (delete, then create) while no call has started, else a refusal;
  un-pausing is refused (one-way in the API); ended batches are history (warning, no write).
Must not import httpx or deepdiff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from reconciler.core.domain import (
    JSON,
    Action,
    Change,
    DesiredResource,
    FieldChange,
    LiveResource,
    Request,
    ResourceKey,
    SourceRef,
    fingerprint,
)
from reconciler.core.errors import Diagnostic, ManifestError, PlanError
from reconciler.core.masking import mask_number
from reconciler.core.normalize import NormalizationTable, canonical_datetime
from reconciler.core.planning import PlanOptions, additions, compare, patch_body
from reconciler.manifests.fields import prevents_destroy
from reconciler.providers.base import Api, ResourceType
from reconciler.providers.campaigns.state import (
    DesiredCampaign,
    LiveCampaign,
    LiveRecipient,
    Part,
    Recipient,
    desired_campaign,
    live_campaign,
)
from reconciler.providers.ultravox.batch_manifest import (
    BATCH_KEY,
    RECIPIENT_KEY,
    ScheduledBatchManifest,
    destination,
    load_recipients,
    recipient_key,
)

BATCH_FIELDS = ("windowStart", "windowEnd", "webhookUrl", "webhookSecret", "paused")

BATCH_TABLE = NormalizationTable(
    read_only=(
        "batchId",
        "created",
        "totalCount",
        "completedCount",
        "endedAt",
        "throttle",
        "calls",
    ),
    defaults={"paused": False},
    # "If unset, an appropriate secret will be chosen for you": the server's choice is accepted
    # unless the manifest sets one.
    server_computed=("webhookSecret",),
    datetimes=("windowStart", "windowEnd"),
    sensitive=("webhookSecret",),
)

MAX_SHOWN = 5
SCHEDULED_CALL_FIELDS = ("medium", "templateContext", "metadata", "experimentalSettings")
"""The fields of a live scheduled call that a manifest's call sets (the rest is status)."""
SCHEDULED_CALL_STATUSES = ("FUTURE", "PENDING", "SUCCESS", "EXPIRED", "ERROR")


def _batches_path(agent_id: str) -> str:
    return f"/api/agents/{agent_id}/scheduled_batches"


def _recipient_list(calls: Sequence[Recipient]) -> str:
    numbers = [c.number for c in calls if c.number]
    if not numbers:
        return "calls without a phone number (not outgoing)"
    shown = ", ".join(mask_number(n) for n in numbers[:MAX_SHOWN])
    more = len(calls) - min(len(numbers), MAX_SHOWN)
    return shown + (f" and {more} more" if more > 0 else "")


def _ended(part: Part) -> bool:
    return bool(part.batch.get("endedAt"))


class ScheduledBatchType(ResourceType):
    kind: ClassVar[str] = "ScheduledBatch"
    provider: ClassVar[str] = "ultravox"
    order: ClassVar[int] = 20
    manifest_model: ClassVar[type[BaseModel]] = ScheduledBatchManifest
    export_directory: ClassVar[str] = "campaigns"
    table: ClassVar[NormalizationTable] = BATCH_TABLE
    secret_fields: ClassVar[tuple[str, ...]] = ("webhookSecret",)

    # ---- manifests -> desired -------------------------------------------------------------

    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        assert isinstance(manifest, ScheduledBatchManifest)
        problems: list[Diagnostic] = []
        located: list[tuple[str, int, dict[str, Any]]] = [
            (source.file, source.line, c.model_dump(mode="json", by_alias=True, exclude_none=True))
            for c in manifest.calls or []
        ]
        if manifest.callsFrom is not None:
            from_file, file_problems = load_recipients(manifest.callsFrom, source.file)
            located += from_file
            problems += file_problems
        seen: dict[str, tuple[str, int]] = {}
        calls: list[Recipient] = []
        for file, line, call in located:
            key = recipient_key(call)
            if key in seen:
                first = seen[key]
                problems.append(
                    Diagnostic(
                        file,
                        line,
                        f"recipient {mask_number(destination(call))} is listed twice in batch "
                        f"{manifest.name!r} (first at {first[0]}:{first[1]})",
                    )
                )
                continue
            seen[key] = (file, line)
            metadata = {**call.get("metadata", {}), BATCH_KEY: manifest.name, RECIPIENT_KEY: key}
            calls.append(Recipient(key, destination(call), {**call, "metadata": metadata}))
        non_outgoing = sum(1 for c in calls if c.number is None)
        if non_outgoing and not manifest.webhookUrl:
            problems.append(
                Diagnostic(
                    source.file,
                    source.line,
                    f"webhookUrl is required: {non_outgoing} call(s) of batch "
                    f"{manifest.name!r} have a medium that is not outgoing",
                )
            )
        if manifest.webhookUrl and not non_outgoing:
            problems.append(
                Diagnostic(
                    source.file,
                    source.line,
                    "webhookUrl is not allowed when every call has an outgoing medium "
                    "(the API refuses it)",
                )
            )
        if problems:
            raise ManifestError(problems)
        spec: dict[str, Any] = {}
        for name in BATCH_FIELDS:
            value = getattr(manifest, name)
            if value is not None:
                spec[name] = (
                    canonical_datetime(value.isoformat()) if name.startswith("window") else value
                )
        return DesiredResource(
            key=ResourceKey(self.kind, manifest.name),
            provider=self.provider,
            spec=spec,
            source=source,
            depends_on=(ResourceKey("Agent", manifest.agent),) if manifest.agent else (),
            prevent_destroy=prevents_destroy(manifest.lifecycle),
            detail=DesiredCampaign(
                recipients=tuple(calls), agent=manifest.agent, agent_id=manifest.agentId
            ),
        )

    def check(self, desired: Sequence[DesiredResource]) -> list[Diagnostic]:
        """References to agents: an `agent:` must name an Agent manifest of the same run."""
        agents = {d.key.name for d in desired if d.key.kind == "Agent"}
        named = [(d, desired_campaign(d).agent) for d in desired if d.key.kind == self.kind]
        return [
            Diagnostic(
                d.source.file,
                d.source.line,
                f"{d.key}: agent {agent!r} is not an Agent in these manifests; "
                "name one, or use agentId: for an agent the manifests do not manage",
            )
            for d, agent in named
            if agent and agent not in agents
        ]

    # ---- live -------------------------------------------------------------------------------

    async def read(
        self,
        api: Api,
        desired: Sequence[DesiredResource],
        known: Sequence[LiveResource] = (),
    ) -> list[LiveResource]:
        agent_ids = sorted(
            {item.id for item in known if item.key.kind == "Agent"}
            | {
                agent_id
                for d in desired
                if d.key.kind == self.kind and (agent_id := desired_campaign(d).agent_id)
            }
        )
        listed = await asyncio.gather(*(api.list_all(_batches_path(a)) for a in agent_ids))
        batches = [(a, b) for a, items in zip(agent_ids, listed, strict=True) for b in items]

        async def calls_of(agent_id: str, batch: dict[str, Any]) -> list[JSON] | None:
            path = f"{_batches_path(agent_id)}/{batch['batchId']}/scheduled_calls"
            # One small page names the batch; only batches this tool made are read in full.
            first = await api.get(path, {"pageSize": "1"})
            results = first.get("results") if isinstance(first, dict) else None
            if not results or BATCH_KEY not in (results[0].get("metadata") or {}):
                return None
            if not first.get("next"):
                return list(results)
            return await api.list_all(path)

        call_lists = await asyncio.gather(*(calls_of(a, b) for a, b in batches))
        grouped: dict[tuple[str, str], list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {}
        for (agent_id, batch), calls in zip(batches, call_lists, strict=True):
            if calls is None:
                continue
            name = str((calls[0].get("metadata") or {}).get(BATCH_KEY))
            grouped.setdefault((agent_id, name), []).append((batch, calls))
        live: list[LiveResource] = []
        for (agent_id, name), found in sorted(grouped.items()):
            found.sort(key=lambda p: (str(p[0].get("created")), str(p[0]["batchId"])))
            parts = tuple(
                Part(
                    id=str(batch["batchId"]),
                    number=number,
                    name=name,
                    recipients=tuple(_live_call(c) for c in calls),
                    batch=batch,
                    agent_id=agent_id,
                )
                for number, (batch, calls) in enumerate(found, start=1)
            )
            live.append(
                LiveResource(
                    key=ResourceKey(self.kind, name),
                    provider=self.provider,
                    id=parts[0].id,
                    body=parts[0].batch,
                    # What a saved plan is checked against: each batch and its calls' statuses.
                    digest=fingerprint(
                        [{"batch": b, "calls": [_fingerprinted(c) for c in cs]} for b, cs in found]
                    ),
                    detail=LiveCampaign(parts=parts, agent_id=agent_id),
                )
            )
        return live

    # ---- plan -------------------------------------------------------------------------------

    def _agent_path(self, desired: DesiredResource, options: PlanOptions) -> str:
        campaign = desired_campaign(desired)
        if campaign.agent_id:
            return _batches_path(campaign.agent_id)
        agent = ResourceKey("Agent", str(campaign.agent))
        live_agent = options.live.get(agent)
        return _batches_path(live_agent.id if live_agent else f"{{ref:{agent}}}")

    def _body(self, desired: DesiredResource, calls: Sequence[Recipient]) -> dict[str, Any]:
        body: dict[str, Any] = dict(self._protect(desired, dict(desired.spec)))
        body["calls"] = [dict(c.payload) for c in calls]
        return body

    @staticmethod
    def _protect(desired: DesiredResource, body: dict[str, Any]) -> dict[str, Any]:
        """Secrets go into a plan as references to their variables, never as values."""
        for field_name, variable in desired.secrets.items():
            if body.get(field_name) is not None:
                body[field_name] = {"$secret": variable}
        return body

    def plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        if desired is not None and live is None:
            calls = desired_campaign(desired).recipients
            return Change(
                key=desired.key,
                provider=self.provider,
                action=Action.CREATE,
                fields=additions(desired, self.table),
                requests=(
                    Request(
                        "POST",
                        self._agent_path(desired, options),
                        self._body(desired, calls),
                        description=f"{len(calls)} calls",
                        capture="batchId",
                    ),
                ),
                notes=(f"{len(calls)} recipients: {_recipient_list(calls)}",),
            )
        if desired is None and live is not None:
            if not options.prune:
                return None
            campaign = live_campaign(live)
            active = [p for p in campaign.parts if not _ended(p)]
            if not active:
                return None
            return Change(
                key=live.key,
                provider=self.provider,
                action=Action.DELETE,
                requests=tuple(
                    Request("DELETE", f"{_batches_path(str(campaign.agent_id))}/{p.id}")
                    for p in active
                ),
                resource_id=live.id,
                notes=(f"{sum(len(p.recipients) for p in active)} scheduled calls are removed",),
            )
        assert desired is not None and live is not None
        return self._plan_existing(desired, live, options)

    def _plan_existing(
        self, desired: DesiredResource, live: LiveResource, options: PlanOptions
    ) -> Change | None:
        campaign = live_campaign(live)
        parts = campaign.parts
        agent_id = str(campaign.agent_id)
        active = [p for p in parts if not _ended(p)]
        if not active:
            return None  # history: `warnings` tells the reviewer what is ignored
        wanted_agent = self._agent_path(desired, options)
        if wanted_agent != _batches_path(agent_id):
            raise PlanError(
                f"{desired.key}: its batches live on agent {agent_id}, but the manifest names "
                "another agent; calls cannot move between agents. Use a new batch name."
            )
        if any(p.batch.get("paused") for p in active) and not desired.spec.get("paused"):
            raise PlanError(
                f"{desired.key} is paused, and pausing is one-way in the Ultravox API: a paused "
                "batch cannot be resumed. Keep `paused: true`, and schedule the recipients "
                "still to call in a new ScheduledBatch (a new name)."
            )
        live_calls = campaign.recipients
        live_keys = {c.key for c in live_calls}
        wanted = desired_campaign(desired).recipients
        wanted_keys = {c.key for c in wanted}
        added = [c for c in wanted if c.key not in live_keys]
        removed = [c for c in live_calls if c.key not in wanted_keys]
        started = any(c.status != "FUTURE" for c in live_calls) or len(active) < len(parts)
        path = _batches_path(agent_id)

        if removed:
            if started:
                raise PlanError(
                    f"{desired.key}: {len(removed)} recipient(s) were removed from the manifest "
                    "after calls started; the API cannot take calls out of a batch. Put them "
                    "back, or set `paused: true` to stop every remaining call and schedule the "
                    "ones still wanted in a new ScheduledBatch."
                )
            replacing = [Request("DELETE", f"{path}/{p.id}") for p in active]
            replacing.append(
                Request(
                    "POST", path, self._body(desired, wanted), f"{len(wanted)} calls", "batchId"
                )
            )
            return Change(
                key=desired.key,
                provider=self.provider,
                action=Action.REPLACE,
                fields=compare(desired, self._part(live, active[0]), self.table),
                requests=tuple(replacing),
                resource_id=live.id,
                notes=(
                    f"{len(removed)} recipient(s) removed, {len(added)} added; no call has "
                    "started, so the batch is deleted and created again",
                    f"{len(wanted)} recipients: {_recipient_list(wanted)}",
                ),
            )

        requests: list[Request] = []
        fields: tuple[FieldChange, ...] = ()
        for part in active:
            part_live = self._part(live, part)
            changed = compare(desired, part_live, self.table)
            if changed:
                fields = fields or changed
                body = self._protect(desired, patch_body(desired, part_live, changed, self.table))
                requests.append(Request("PATCH", f"{path}/{part.id}", body))
        notes: list[str] = []
        if added:
            requests.append(
                Request(
                    "POST",
                    path,
                    self._body(desired, added),
                    f"supplemental batch: {len(added)} new recipients",
                    "batchId",
                )
            )
            notes.append(
                f"{len(added)} recipient(s) added, scheduled in a supplemental batch holding "
                f"only them: {_recipient_list(added)}"
            )
        if not requests:
            return None
        return Change(
            key=desired.key,
            provider=self.provider,
            action=Action.UPDATE,
            fields=fields,
            requests=tuple(requests),
            resource_id=live.id,
            notes=tuple(notes),
        )

    def _part(self, live: LiveResource, part: Part) -> LiveResource:
        return LiveResource(live.key, live.provider, part.id, part.batch, live.digest)

    async def status(
        self, api: Api, desired: DesiredResource, live: LiveResource | None
    ) -> dict[str, JSON] | None:
        report: dict[str, JSON] = {
            "kind": self.kind,
            "name": desired.key.name,
            "provider": self.provider,
            "recipients": len(desired_campaign(desired).recipients),
        }
        if live is None:
            return {**report, "state": "not created", "total": 0, "completed": 0}
        campaign = live_campaign(live)
        parts = campaign.parts
        agent_id = str(campaign.agent_id)
        created_lists = await asyncio.gather(
            *(api.list_all(f"{_batches_path(agent_id)}/{p.id}/created_calls") for p in parts)
        )
        statuses = dict.fromkeys(SCHEDULED_CALL_STATUSES, 0)
        for part in parts:
            for scheduled in part.recipients:
                statuses[scheduled.status] = statuses.get(scheduled.status, 0) + 1
        reasons: dict[str, int] = {}
        calls: list[dict[str, JSON]] = []
        for created in created_lists:
            for call in created:
                reason = call.get("endReason") or "in progress"
                reasons[reason] = reasons.get(reason, 0) + 1
                calls.append(
                    {
                        "callId": call.get("callId"),
                        "to": mask_number(destination(call)),
                        "created": call.get("created"),
                        "ended": call.get("ended"),
                        "endReason": call.get("endReason"),
                    }
                )
        batches = [p.batch for p in parts]
        if all(b.get("endedAt") for b in batches):
            state = "ended"
        elif any(b.get("paused") for b in batches):
            state = "paused"
        elif statuses["FUTURE"] == sum(statuses.values()):
            state = "scheduled"
        else:
            state = "running"
        return {
            **report,
            "state": state,
            "agentId": agent_id,
            "batches": [
                {
                    "batchId": b["batchId"],
                    "created": b.get("created"),
                    "paused": bool(b.get("paused")),
                    "endedAt": b.get("endedAt"),
                    "totalCount": b.get("totalCount"),
                    "completedCount": b.get("completedCount"),
                }
                for b in batches
            ],
            "total": sum(int(b.get("totalCount") or 0) for b in batches),
            "completed": sum(int(b.get("completedCount") or 0) for b in batches),
            "statuses": statuses,
            "endReasons": dict(sorted(reasons.items())),
            "calls": sorted(calls, key=lambda c: str(c["created"])),
        }

    def warnings(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> list[str]:
        if desired is None or live is None:
            return []
        campaign = live_campaign(live)
        parts = campaign.parts
        if any(not _ended(p) for p in parts):
            return []
        live_keys = {c.key for c in campaign.recipients}
        wanted_keys = {c.key for c in desired_campaign(desired).recipients}
        fields = compare(desired, self._part(live, parts[-1]), self.table)
        if not fields and live_keys == wanted_keys:
            return []
        return [
            f"{desired.key} has ended (at {parts[-1].batch.get('endedAt')}); it is history "
            "and is not written. Its manifest differs from it; schedule new calls in a new "
            "ScheduledBatch."
        ]

    # ---- export -----------------------------------------------------------------------------

    def export(self, live: LiveResource, known: Sequence[LiveResource]) -> dict[str, JSON] | None:
        """The manifest of a campaign: its fields from the part a plan compares (the first one
        still running, else the last), and `calls` rebuilt from the scheduled calls of every
        part, in order, without the reserved metadata keys the tool adds itself.

        `webhookSecret` is left out: the API never needs it back, and a plan accepts the
        secret the server holds (one it chose, when none was set) while the manifest leaves it
        out; writing it would put a secret in a file.
        """
        campaign = live_campaign(live)
        parts = campaign.parts
        if not parts:
            return None
        active = [p for p in parts if not _ended(p)]
        batch: Mapping[str, Any] = active[0].batch if active else parts[-1].batch
        agent_id = campaign.agent_id or ""
        agent = next(
            (k for k in known if k.key.kind == "Agent" and k.id == agent_id and k.key.name), None
        )
        document: dict[str, JSON] = {"kind": self.kind, "name": live.key.name}
        if agent is not None:
            document["agent"] = agent.key.name
        else:
            document["agentId"] = agent_id
        for name in ("windowStart", "windowEnd"):
            if batch.get(name):
                document[name] = canonical_datetime(str(batch[name]))
        if batch.get("paused"):
            document["paused"] = True
        if batch.get("webhookUrl"):
            document["webhookUrl"] = batch["webhookUrl"]
        calls: list[JSON] = []
        for part in parts:
            for scheduled in part.recipients:
                call = dict(scheduled.sent or {})
                metadata = {
                    k: v
                    for k, v in (call.pop("metadata", None) or {}).items()
                    if k not in (BATCH_KEY, RECIPIENT_KEY)
                }
                if metadata:
                    call["metadata"] = metadata
                calls.append(call)
        document["calls"] = calls
        return document


def _live_call(call: Mapping[str, Any]) -> LiveRecipient:
    """What the plan keeps of a scheduled call: its recipient key, status, and (for `export`
    to rebuild the manifest's calls) the fields it was scheduled with."""
    key = (call.get("metadata") or {}).get(RECIPIENT_KEY)
    call_id = call.get("callId")
    return LiveRecipient(
        key=key if isinstance(key, str) else None,
        status=str(call.get("status")),
        masked=mask_number(destination(dict(call))),
        call_id=call_id if isinstance(call_id, str) else None,
        sent={k: call[k] for k in SCHEDULED_CALL_FIELDS if call.get(k) is not None},
    )


def _fingerprinted(call: Mapping[str, Any]) -> dict[str, JSON]:
    """What of a scheduled call the fingerprint covers (the fields it was scheduled with are
    left out, so what a saved plan is checked against is the same as it always was)."""
    return {
        "recipient": (call.get("metadata") or {}).get(RECIPIENT_KEY),
        "status": call.get("status"),
        "callId": call.get("callId"),
        "to": destination(dict(call)),
    }
