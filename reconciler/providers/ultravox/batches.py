"""Ultravox scheduled call batches: the `ScheduledBatch` resource type.

Owns what is Ultravox's own in how a campaign maps onto the API, with safety first (nobody is
dialled twice); the shared campaign design (typed state, unique recipients, matching, the
started/not-started decision, masked notes, status counting) is `reconciler.providers.campaigns`.
- identity from the account alone: every call the tool creates carries the reserved metadata
  keys `reconciler.batch` (the manifest name) and `reconciler.recipient` (the stable recipient
  key); reading lists each agent's batches, reads one scheduled call of each to find the name,
  and the calls of the batches it manages in full. A resource's parts are its batches in
  creation order: the first, plus supplemental batches holding only recipients added later.
- paths under `/api/agents/{id}/scheduled_batches`, bodies (`calls`, secrets as references),
  the fields compared (`BATCH_FIELDS`, PATCHed in place one part at a time).
- Ultravox's own rules: calls cannot move between agents; pausing is one-way; ended batches
  are history (a warning, never a write); `--prune` deletes the active parts.
Must not import httpx, deepdiff or the batch-calling vendor folder.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
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
from reconciler.core.errors import ApiError, Diagnostic, ManifestError, PlanError
from reconciler.core.masking import mask_number
from reconciler.core.normalize import NormalizationTable, canonical_datetime
from reconciler.core.planning import PlanOptions, additions, compare, patch_body
from reconciler.core.wording import count
from reconciler.manifests.fields import prevents_destroy
from reconciler.providers.base import Api, ResourceType
from reconciler.providers.campaigns.bulk import bulk
from reconciler.providers.campaigns.decision import Refusal, Verdict, decide, has_started
from reconciler.providers.campaigns.duplicates import (
    Copy,
    Duplicates,
    find_duplicates,
    removal_note,
    stuck_message,
    with_removals,
)
from reconciler.providers.campaigns.hold import held, held_back
from reconciler.providers.campaigns.recipients import (
    Listed,
    Located,
    RecipientChanges,
    compare_recipients,
    recipient_list,
    unique_listed,
)
from reconciler.providers.campaigns.state import (
    DesiredCampaign,
    LiveCampaign,
    LiveRecipient,
    Part,
    Recipient,
    desired_campaign,
    live_campaign,
)
from reconciler.providers.campaigns.status import (
    count_statuses,
    duplicate_reports,
    not_created,
    report_head,
    tally,
)
from reconciler.providers.ultravox.batch_manifest import (
    BATCH_KEY,
    RECIPIENT_KEY,
    ScheduledBatchManifest,
    destination,
    keyed,
    load_recipients,
)
from reconciler.providers.ultravox.templates import missing_context
from reconciler_apis import ultravox as ultravox_api

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
    defaults={d.path: d.value for d in ultravox_api.SCHEDULED_BATCH_DEFAULTS},
    # "If unset, an appropriate secret will be chosen for you": the server's choice is accepted
    # unless the manifest sets one.
    server_computed=("webhookSecret",),
    datetimes=("windowStart", "windowEnd"),
    sensitive=("webhookSecret",),
)

SCHEDULED_CALL_FIELDS = ("medium", "templateContext", "metadata", "experimentalSettings")
"""The fields of a live scheduled call that a manifest's call sets (the rest is status)."""
SCHEDULED_CALL_STATUSES = ("FUTURE", "PENDING", "SUCCESS", "EXPIRED", "ERROR")
NOT_STARTED = frozenset({"FUTURE"})
"""Scheduled-call statuses of someone nobody has called yet."""
WAITING = frozenset({"FUTURE", "PENDING"})
"""Scheduled-call statuses of someone still to be called."""
DROPPED = frozenset({"EXPIRED"})
"""Scheduled-call statuses of someone who was not called and never will be."""


def _batches_path(agent_id: str) -> str:
    return f"/api/agents/{agent_id}/scheduled_batches"


def _now(options: PlanOptions) -> datetime | None:
    """The time a plan is made, on the Ultravox server's clock when it told it."""
    return options.clocks.get("ultravox", options.now)


def _closed(desired: DesiredResource, options: PlanOptions) -> str | None:
    """The manifest's `windowEnd` when it is already past, else None."""
    end = desired.spec.get("windowEnd")
    now = _now(options)
    if now is None or not isinstance(end, str):
        return None
    try:
        over = datetime.fromisoformat(end.replace("Z", "+00:00")) <= now
    except (ValueError, TypeError):
        return None
    return end if over else None


def _check_window(desired: DesiredResource, change: Change, options: PlanOptions) -> None:
    """The server refuses a batch (or a new windowEnd) whose window is over: refuse it at plan
    time, so an apply never creates the agent and then fails on its batch; and recipients it
    would schedule can then no longer be called, which the message says, with the ways out."""
    writes_window = any(
        r.method == "POST" or (isinstance(r.body, dict) and "windowEnd" in r.body)
        for r in change.requests
    )
    end = _closed(desired, options)
    if not writes_window or end is None:
        return
    posted = [r for r in change.requests if r.method == "POST" and isinstance(r.body, dict)]
    if posted:
        keys = {
            str((c.get("metadata") or {}).get(RECIPIENT_KEY))
            for r in posted
            for c in r.body.get("calls") or []
            if isinstance(c, dict)
        }
        wanted = [c for c in desired_campaign(desired).recipients if c.key in keys]
        raise PlanError(_uncallable(desired.key, wanted, f"windowEnd {end} is already past"))
    now = _now(options)
    assert now is not None
    raise PlanError(
        f"{desired.key}: windowEnd {end} is already past (now "
        f"{now.strftime('%Y-%m-%dT%H:%M:%SZ')}); the API refuses a batch whose "
        "window is over. Move the window, or take the batch out of the manifests."
    )


def _uncallable(key: ResourceKey, recipients: Sequence[Recipient], why: str) -> str:
    """Recipients the manifest wants called that can no longer be: never "No changes"."""
    return (
        f"{key}: {count(len(recipients), 'recipient')} the manifest wants called can no longer be "
        f"called, because {why}: {_recipient_list(recipients)}. Nothing was sent. Give the "
        "campaign a new window (windowStart and windowEnd still to come: they are then "
        "scheduled in a supplemental batch), schedule them in a new ScheduledBatch (a new "
        "name), or remove them from the manifest."
    )


def _recipient_list(calls: Sequence[Recipient]) -> str:
    return recipient_list(
        calls, mask_number, without_numbers="calls without a phone number (not outgoing)"
    )


def _ended(part: Part) -> bool:
    return bool(part.batch.get("endedAt"))


def _began(part: Part) -> bool:
    """Whether anyone may have been dialled from a batch."""
    return _ended(part) or any(r.status not in NOT_STARTED for r in part.recipients)


def _created(part: Part) -> datetime:
    """When the server created the batch (unreadable: the oldest, so it is never the copy)."""
    try:
        return datetime.fromisoformat(str(part.batch.get("created")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def duplicates(parts: Sequence[Part]) -> Duplicates:
    """The copies among a campaign's batches: calls scheduled twice by concurrent applies."""
    return find_duplicates(
        parts,
        idle=NOT_STARTED,
        waiting=WAITING,
        dropped=DROPPED,
        part_started=_ended,
        created=_created,
    )


def _stuck(key: ResourceKey, found: Duplicates) -> PlanError:
    return PlanError(
        stuck_message(
            key,
            found.stuck,
            "pause or delete one of the batches in the Ultravox console (its remaining calls "
            "stop), or set `paused: true` to stop every remaining call of the campaign",
        )
    )


class ScheduledBatchType(ResourceType):
    kind: ClassVar[str] = "ScheduledBatch"
    provider: ClassVar[str] = "ultravox"
    order: ClassVar[int] = 20
    declares_environments: ClassVar[bool] = True
    manifest_model: ClassVar[type[BaseModel]] = ScheduledBatchManifest
    export_directory: ClassVar[str] = "campaigns"
    table: ClassVar[NormalizationTable] = BATCH_TABLE
    secret_fields: ClassVar[tuple[str, ...]] = ("webhookSecret",)
    file_fields: ClassVar[tuple[str, ...]] = ("callsFrom", "callsFrom.file")
    """Manifest fields naming files, which must stay inside the manifest directory."""

    # ---- manifests -> desired -------------------------------------------------------------

    @bulk  # 100,000 recipients: see `campaigns.bulk`
    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        assert isinstance(manifest, ScheduledBatchManifest)
        listed: list[Listed] = [
            Located(
                source.file,
                source.line_of("calls", index),
                _scheduled_call(
                    manifest.name, c.model_dump(mode="json", by_alias=True, exclude_none=True)
                ),
            )
            for index, c in enumerate(manifest.calls or [])
        ]
        # A call's template variables are reported at its templateContext, where it has one.
        inline = [
            (source.file, source.line_of("calls", index, "templateContext"))
            for index in range(len(listed))
        ]
        problems: list[Diagnostic] = []
        if manifest.callsFrom is not None:
            from_file, problems = load_recipients(
                manifest.callsFrom,
                source.file,
                manifest.defaultRegion,
                line=source.line_of("callsFrom"),
                make=functools.partial(_sent, manifest.name),  # in both processes reading
            )
            # Plain (file, line, recipient) tuples: no record per row but the recipient.
            listed += [(f, n, Recipient(*sent)) for f, n, sent in from_file]
        kept, duplicates = unique_listed(
            listed, container=f"batch {manifest.name!r}", mask=mask_number
        )
        calls = tuple(listed[index][2] for index in kept)
        origins = tuple(
            inline[index] if index < len(inline) else listed[index][:2] for index in kept
        )
        problems += duplicates + _webhook_problems(manifest, calls, source)
        if not calls and not problems and manifest.callsFrom is not None:
            # The API refuses an empty batch (calls: minItems 1); say so before anything is
            # sent, not after the agent was created.
            problems.append(
                Diagnostic(
                    source.file,
                    source.line_of("callsFrom"),
                    f"batch {manifest.name!r} has no recipients (its recipients file holds "
                    "none); the API refuses an empty batch",
                )
            )
        spec: dict[str, Any] = {}
        for name in BATCH_FIELDS:
            value = getattr(manifest, name)
            if value is not None:
                spec[name] = (
                    canonical_datetime(value.isoformat()) if name.startswith("window") else value
                )
        resource = DesiredResource(
            key=ResourceKey(self.kind, manifest.name),
            provider=self.provider,
            spec=spec,
            source=source,
            depends_on=(ResourceKey("Agent", manifest.agent),) if manifest.agent else (),
            prevent_destroy=prevents_destroy(manifest.lifecycle),
            detail=DesiredCampaign(
                calls,
                agent=manifest.agent,
                agent_id=manifest.agentId,
                origins=origins,
            ),
        )
        if problems:
            # The checks across documents still see the batch (its agent reference).
            raise ManifestError(problems, partial=resource)
        return resource

    def check(self, desired: Sequence[DesiredResource]) -> list[Diagnostic]:
        """References to agents: an `agent:` must name an Agent manifest of the same run, and
        each call's templateContext must cover the `{{variables}}` that agent's prompt uses
        (`templates.missing_context`; an `agentId:` agent is not known offline: not checked)."""
        agents = {d.key.name: d for d in desired if d.key.kind == "Agent"}
        named = [(d, desired_campaign(d).agent) for d in desired if d.key.kind == self.kind]
        problems = [
            Diagnostic(
                d.source.file,
                d.source.line_of("agent"),
                f"{d.key}: agent {agent!r} is not an Agent in these manifests; "
                "name one, or use agentId: for an agent the manifests do not manage",
            )
            for d, agent in named
            if agent and agent not in agents
        ]
        for d, agent in named:
            if agent in agents:
                campaign = desired_campaign(d)
                calls = [
                    (file, line, call.payload)
                    for (file, line), call in zip(
                        campaign.origins, campaign.recipients, strict=False
                    )
                ]
                template = agents[agent].spec.get("callTemplate")
                if isinstance(template, dict):
                    problems += missing_context(agent, template, calls)
        return problems

    def compared_body(
        self, live: LiveResource, desired: DesiredResource | None
    ) -> Mapping[str, JSON]:
        """The first batch, a start the hold moved later counting as the manifest's (`_part`)."""
        parts = live_campaign(live).parts
        return _unheld(parts[0], desired) if parts and desired is not None else live.body

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
        return await self._read_agents(api, agent_ids)

    async def _read_agents(
        self, api: Api, agent_ids: Sequence[str], only: str | None = None, lean: bool = False
    ) -> list[LiveResource]:
        """The campaigns on these agents: each agent's batches, one call of each to find the
        tool's, and the calls of those in full (`only`: of that campaign's alone; `lean`: not
        when it has a single batch, which cannot hold a copy)."""
        import asyncio

        listed = await asyncio.gather(*(api.list_all(_batches_path(a)) for a in agent_ids))
        batches = [(a, b) for a, items in zip(agent_ids, listed, strict=True) for b in items]
        firsts = await asyncio.gather(*(_first_calls(api, a, b) for a, b in batches))
        named = [
            (agent_id, batch, first)
            for (agent_id, batch), first in zip(batches, firsts, strict=True)
            if first is not None and (only is None or _name_of(first[0]) == only)
        ]
        whole = not (lean and len(named) <= 1)
        call_lists = await asyncio.gather(
            *(
                _all_calls(api, agent_id, batch) if whole and more else _same(calls)
                for agent_id, batch, (calls, more) in named
            )
        )
        grouped: dict[tuple[str, str], list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {}
        for (agent_id, batch, _), calls in zip(named, call_lists, strict=True):
            if calls:
                grouped.setdefault((agent_id, _name_of(calls)), []).append((batch, calls))
        return [
            self._campaign(agent_id, name, found)
            for (agent_id, name), found in sorted(grouped.items())
        ]

    def _campaign(
        self, agent_id: str, name: str, found: list[tuple[dict[str, Any], list[dict[str, Any]]]]
    ) -> LiveResource:
        """One campaign from its batches (each with its scheduled calls): the parts in
        creation order, numbered from 1."""
        found.sort(key=lambda item: (str(item[0].get("created")), str(item[0]["batchId"])))
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
        return LiveResource(
            key=ResourceKey(self.kind, name),
            provider=self.provider,
            id=parts[0].id,
            body=parts[0].batch,
            # What a saved plan is checked against: each batch and its calls' statuses.
            digest=fingerprint(
                [{"batch": b, "calls": [_fingerprinted(c) for c in calls]} for b, calls in found]
            ),
            detail=LiveCampaign(parts=parts, agent_id=agent_id),
        )

    # ---- apply: applies running at the same time ----------------------------------------------

    guards_writes: ClassVar[bool] = True

    def creates_batch(self, request: Request) -> bool:
        return _creates_batch(request)

    async def reread(
        self, api: Api, change: Change, *, settling: bool = False
    ) -> LiveResource | None:
        """The campaign on the agent `change` writes to, listed as a plan lists it."""
        agent_id = _agent_of(change)
        if agent_id is None:
            return None
        found = await self._read_agents(api, [agent_id], only=change.key.name, lean=settling)
        return next((c for c in found if c.key == change.key), None)

    def conflict(self, live: LiveResource | None, change: Change) -> str | None:
        """A replace of a batch that started meanwhile, or calls scheduled that a live batch
        (other than one the change deletes) already holds."""
        parts = live_campaign(live).parts if live is not None else ()
        deleted = {r.path.rsplit("/", 1)[-1] for r in change.requests if r.method == "DELETE"}
        if change.action is Action.REPLACE:
            for part in parts:
                if part.id in deleted and _began(part):
                    return f"batch {part.id} has started (replacing it would call them again)"
        held = {r.key for p in parts if p.id not in deleted for r in p.recipients if r.key}
        scheduled = {
            str((c.get("metadata") or {}).get(RECIPIENT_KEY))
            for r in change.requests
            if _creates_batch(r) and isinstance(r.body, dict)
            for c in r.body.get("calls") or []
            if isinstance(c, dict)
        }
        again = scheduled & held
        if again:
            return (
                count(len(again), "of the calls it schedules is", "of the calls it schedules are")
                + " in a live batch already"
            )
        return None

    def repair(self, live: LiveResource, change: Change) -> Change | None:
        """DELETE the copies nobody was dialled from; a `PlanError` when copies started."""
        campaign = live_campaign(live)
        found = duplicates(campaign.parts)
        if found.stuck:
            raise _stuck(change.key, found)
        if not found.removable:
            return None
        kept = found.kept(campaign.parts)
        return with_removals(
            change.key,
            self.provider,
            kept[0].id,
            self.removals(found.removable, str(campaign.agent_id)),
            [removal_note(c, "deleted") for c in found.removable],
            None,
        )

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

    def _post(
        self, desired: DesiredResource, path: str, calls: Sequence[Recipient], what: str
    ) -> Request:
        return Request("POST", path, self._body(desired, calls), what, "batchId")

    def plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        change = self._plan(desired, live, options)
        if change is not None and desired is not None:
            _check_window(desired, change, options)
        return held(change, options.hold, _creates_batch, "windowStart")

    def _plan(
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
                    self._post(
                        desired,
                        self._agent_path(desired, options),
                        calls,
                        count(len(calls), "call"),
                    ),
                ),
                notes=(f"{count(len(calls), 'recipient')}: {_recipient_list(calls)}",),
            )
        if desired is None and live is not None:
            return self._prune(live) if options.prune else None
        assert desired is not None and live is not None
        return self._plan_existing(desired, live, options)

    def _prune(self, live: LiveResource) -> Change | None:
        campaign = live_campaign(live)
        active = [p for p in campaign.parts if not _ended(p)]
        if not active:
            return None
        path = _batches_path(str(campaign.agent_id))
        return Change(
            key=live.key,
            provider=self.provider,
            action=Action.DELETE,
            requests=tuple(Request("DELETE", f"{path}/{p.id}") for p in active),
            resource_id=live.id,
            notes=(
                count(
                    sum(len(p.recipients) for p in active),
                    "scheduled call is removed",
                    "scheduled calls are removed",
                ),
            ),
        )

    def _plan_existing(
        self, desired: DesiredResource, live: LiveResource, options: PlanOptions
    ) -> Change | None:
        """Copies first (concurrent applies): removed while nobody was dialled from them, a
        refusal naming them otherwise; then the plan of the batches kept."""
        campaign = live_campaign(live)
        found = duplicates(campaign.parts)
        if found.stuck:
            raise _stuck(desired.key, found)
        if not found.removable:
            return self._plan_parts(desired, live, options)
        kept = found.kept(campaign.parts)
        rest = self._plan_parts(desired, _with_parts(live, kept), options)
        return with_removals(
            desired.key,
            self.provider,
            kept[0].id,
            self.removals(found.removable, str(campaign.agent_id)),
            [removal_note(c, "deleted") for c in found.removable],
            rest,
        )

    @staticmethod
    def removals(copies: Sequence[Copy], agent_id: str) -> list[Request]:
        """A DELETE for each copy (nobody was dialled from it)."""
        path = _batches_path(agent_id)
        return [
            Request("DELETE", f"{path}/{c.part.id}", None, f"duplicate batch {c.part.id}")
            for c in copies
        ]

    def _plan_parts(
        self, desired: DesiredResource, live: LiveResource, options: PlanOptions
    ) -> Change | None:
        campaign = live_campaign(live)
        active = [p for p in campaign.parts if not _ended(p)]
        if not active:
            return self._after_the_end(desired, live, options)
        agent_id = str(campaign.agent_id)
        path = _batches_path(agent_id)
        self._check_agent_and_pause(desired, active, agent_id, options)
        fields, patches = self._patches(desired, live, active, path)
        decision = decide(
            compare_recipients(desired_campaign(desired).recipients, campaign.recipients),
            started=has_started(campaign.parts, idle=NOT_STARTED, part_started=_ended),
            modifiable=True,
            fields_changed=bool(patches),
        )
        changes = decision.recipients
        if decision.verdict is Verdict.REFUSE:
            assert decision.refusals == (Refusal.REMOVED,)
            raise PlanError(
                f"{desired.key}: {count(len(changes.removed), 'recipient was', 'recipients were')} "
                "removed from the manifest after calls started; the API cannot take calls out of "
                "a batch. Put them back, or set `paused: true` to stop every remaining call and "
                "schedule the ones still wanted in a new ScheduledBatch."
            )
        if decision.verdict is Verdict.REPLACE:
            return self._replace(desired, live, active, path, changes)
        if decision.verdict is Verdict.NOTHING:
            return None
        notes: list[str] = []
        if changes.added:
            what = f"supplemental batch: {count(len(changes.added), 'new recipient')}"
            patches.append(self._post(desired, path, changes.added, what))
            notes.append(
                f"{count(len(changes.added), 'recipient')} added, scheduled in a supplemental "
                f"batch holding only them: {_recipient_list(changes.added)}"
            )
        return Change(
            key=desired.key,
            provider=self.provider,
            action=Action.UPDATE,
            fields=fields,
            requests=tuple(patches),
            resource_id=live.id,
            notes=tuple(notes),
        )

    def _after_the_end(
        self, desired: DesiredResource, live: LiveResource, options: PlanOptions
    ) -> Change | None:
        """Every batch ended: they are history, never written. Recipients the manifest added
        are still called while its window is open (a supplemental batch holding only them);
        once it has closed, they cannot be, and the plan says so instead of "No changes"."""
        campaign = live_campaign(live)
        added = compare_recipients(desired_campaign(desired).recipients, campaign.recipients).added
        if not added:
            return None  # history: `warnings` tells the reviewer what is ignored
        ended = campaign.parts[-1].batch.get("endedAt")
        end = _closed(desired, options)
        if end is not None:
            why = f"the campaign ended at {ended} and windowEnd {end} is already past"
            raise PlanError(_uncallable(desired.key, added, why))
        agent_id = str(campaign.agent_id)
        if self._agent_path(desired, options) != _batches_path(agent_id):
            raise PlanError(
                f"{desired.key}: its batches live on agent {agent_id}, but the manifest names "
                "another agent; calls cannot move between agents. Use a new batch name."
            )
        what = f"supplemental batch: {count(len(added), 'new recipient')}"
        return Change(
            key=desired.key,
            provider=self.provider,
            action=Action.UPDATE,
            requests=(self._post(desired, _batches_path(agent_id), added, what),),
            resource_id=live.id,
            notes=(
                f"{count(len(added), 'recipient')} added after the campaign ended (at {ended}); "
                "its window is still open, so they are scheduled in a supplemental batch "
                f"holding only them: {_recipient_list(added)}",
            ),
        )

    def _check_agent_and_pause(
        self, desired: DesiredResource, active: Sequence[Part], agent_id: str, options: PlanOptions
    ) -> None:
        """Ultravox's own refusals: calls cannot move between agents; pausing is one-way."""
        if self._agent_path(desired, options) != _batches_path(agent_id):
            raise PlanError(
                f"{desired.key}: its batches live on agent {agent_id}, but the "
                "manifest names another agent; calls cannot move between agents. Use a new "
                "batch name."
            )
        if any(p.batch.get("paused") for p in active) and not desired.spec.get("paused"):
            raise PlanError(
                f"{desired.key} is paused, and pausing is one-way in the Ultravox API: a paused "
                "batch cannot be resumed. Keep `paused: true`, and schedule the recipients "
                "still to call in a new ScheduledBatch (a new name)."
            )

    def _patches(
        self, desired: DesiredResource, live: LiveResource, active: Sequence[Part], path: str
    ) -> tuple[tuple[FieldChange, ...], list[Request]]:
        """The field changes shown (the first part's that differ) and one PATCH per active
        part that differs, with only its changed keys."""
        fields: tuple[FieldChange, ...] = ()
        requests: list[Request] = []
        for part in active:
            part_live = self._part(live, part, desired)
            changed = compare(desired, part_live, self.table)
            if changed:
                fields = fields or changed
                body = self._protect(desired, patch_body(desired, part_live, changed, self.table))
                requests.append(Request("PATCH", f"{path}/{part.id}", body))
        return fields, requests

    def _replace(
        self,
        desired: DesiredResource,
        live: LiveResource,
        active: Sequence[Part],
        path: str,
        changes: RecipientChanges,
    ) -> Change:
        wanted = desired_campaign(desired).recipients
        requests = [Request("DELETE", f"{path}/{p.id}") for p in active]
        requests.append(self._post(desired, path, wanted, count(len(wanted), "call")))
        return Change(
            key=desired.key,
            provider=self.provider,
            action=Action.REPLACE,
            fields=compare(desired, self._part(live, active[0], desired), self.table),
            requests=tuple(requests),
            resource_id=live.id,
            notes=(
                f"{count(len(changes.removed), 'recipient')} removed, {len(changes.added)} added; "
                "no call has started, so the batch is deleted and created again",
                f"{count(len(wanted), 'recipient')}: {_recipient_list(wanted)}",
            ),
        )

    def _part(self, live: LiveResource, part: Part, desired: DesiredResource) -> LiveResource:
        """One batch as a plan compares it with the manifest (a start the hold moved later
        counts as the manifest's)."""
        return LiveResource(live.key, live.provider, part.id, _unheld(part, desired), live.digest)

    def warnings(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> list[str]:
        if desired is None or live is None:
            return []
        campaign = live_campaign(live)
        parts = campaign.parts
        if any(not _ended(p) for p in parts):
            return []
        changes = compare_recipients(desired_campaign(desired).recipients, campaign.recipients)
        fields = compare(desired, self._part(live, parts[-1], desired), self.table)
        if changes.added or (not fields and changes.empty):
            return []  # added recipients are scheduled, or refused, by the plan itself
        return [
            f"{desired.key} has ended (at {parts[-1].batch.get('endedAt')}); it is history "
            "and is not written. Its manifest differs from it; schedule new calls in a new "
            "ScheduledBatch."
        ]

    # ---- status -----------------------------------------------------------------------------

    async def status(
        self, api: Api, desired: DesiredResource, live: LiveResource | None
    ) -> dict[str, JSON] | None:
        import asyncio

        if live is None:
            return not_created(desired)
        campaign = live_campaign(live)
        path = _batches_path(str(campaign.agent_id))
        created = [
            call
            for calls in await asyncio.gather(
                *(api.list_all(f"{path}/{p.id}/created_calls") for p in campaign.parts)
            )
            for call in calls
        ]
        statuses = count_statuses(campaign.recipients, SCHEDULED_CALL_STATUSES)
        batches = [p.batch for p in campaign.parts]
        found = duplicates(campaign.parts)
        copies = {c.part.id for c in (*found.removable, *found.stuck)}
        return {
            **report_head(desired),
            "state": _state(batches, statuses),
            "agentId": campaign.agent_id,
            "batches": [
                {**_batch_summary(b), "duplicate": str(b["batchId"]) in copies} for b in batches
            ],
            "duplicates": duplicate_reports(found),
            "total": sum(int(b.get("totalCount") or 0) for b in batches),
            "completed": sum(int(b.get("completedCount") or 0) for b in batches),
            "statuses": statuses,
            "endReasons": tally(str(c.get("endReason") or "in progress") for c in created),
            "calls": sorted((_created_call(c) for c in created), key=lambda c: str(c["created"])),
        }

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
        document["calls"] = [_manifest_call(c.sent or {}) for c in campaign.recipients]
        return document


# --- helpers (pure, but for the one reading helper) ---------------------------------------------


def _creates_batch(request: Request) -> bool:
    return request.method == "POST" and request.path.endswith("/scheduled_batches")


_AGENT_PATH = re.compile(r"^/api/agents/(?P<agent>[^/{}]+)/scheduled_batches(?:/|$)")


def _agent_of(change: Change) -> str | None:
    """The agent whose batches `change` writes (from its resolved request paths)."""
    for request in change.requests:
        match = _AGENT_PATH.match(request.path)
        if match:
            return match["agent"]
    return None


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _unheld(part: Part, desired: DesiredResource) -> Mapping[str, Any]:
    """The batch with the manifest's windowStart where the hold moved it later (`held_back`):
    not a change to make, and no PATCH moves it back while copies may still be removed."""
    batch = part.batch
    wanted = desired.spec.get("windowStart")
    if not held_back(_instant(batch.get("windowStart")), _instant(wanted), _created(part)):
        return batch
    if wanted is None:
        return {k: v for k, v in batch.items() if k != "windowStart"}
    return {**batch, "windowStart": wanted}


def _with_parts(live: LiveResource, parts: Sequence[Part]) -> LiveResource:
    """The campaign as read, with only `parts` (its digest stays what was read)."""
    campaign = live_campaign(live)
    return replace(
        live,
        id=parts[0].id,
        body=parts[0].batch,
        detail=replace(campaign, parts=tuple(parts)),
    )


def _scheduled_call(batch: str, call: dict[str, Any]) -> Recipient:
    """A manifest call as it is sent: with the reserved metadata keys that identify it."""
    return Recipient(*_sent(batch, call))


def _sent(batch: str, call: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """`_scheduled_call`'s recipient as plain data: its key, number and payload."""
    number = destination(call)
    key = keyed(call, number)
    metadata = {**call.get("metadata", {}), BATCH_KEY: batch, RECIPIENT_KEY: key}
    return key, number, {**call, "metadata": metadata}


def _media(call: Mapping[str, Any]) -> int:
    """How many media a call names (none: WebRTC, the API's default)."""
    medium = call.get("medium")
    return sum(v is not None for v in medium.values()) if isinstance(medium, dict) else 0


def _webhook_problems(
    manifest: ScheduledBatchManifest, calls: Sequence[Recipient], source: SourceRef
) -> list[Diagnostic]:
    """`webhookUrl` is required when a call is not outgoing, and refused otherwise."""
    # A call naming several media is reported as such, and counts as neither.
    non_outgoing = sum(1 for c in calls if c.number is None and _media(c.payload) <= 1)
    if non_outgoing and not manifest.webhookUrl:
        return [
            Diagnostic(
                source.file,
                source.line,
                f"webhookUrl is required: batch {manifest.name!r} has "
                f"{count(non_outgoing, 'call')} whose medium is not outgoing",
            )
        ]
    if manifest.webhookUrl and not non_outgoing:
        return [
            Diagnostic(
                source.file,
                source.line_of("webhookUrl"),
                "webhookUrl is not allowed when every call has an outgoing medium "
                "(the API refuses it)",
            )
        ]
    return []


def _calls_path(agent_id: str, batch: Mapping[str, Any]) -> str:
    return f"{_batches_path(agent_id)}/{batch['batchId']}/scheduled_calls"


def _name_of(calls: Sequence[Mapping[str, Any]]) -> str:
    """The campaign a batch of this tool belongs to: its calls' `reconciler.batch`."""
    return str((calls[0].get("metadata") or {}).get(BATCH_KEY))


async def _first_calls(
    api: Api, agent_id: str, batch: dict[str, Any]
) -> tuple[list[dict[str, Any]], bool] | None:
    """One small page of a batch's scheduled calls, which names the batch, and whether there
    are more: None for a batch this tool did not make, or one deleted since it was listed
    (an apply running at the same time removed a copy): gone, as if it had not been listed."""
    try:
        first = await api.get(_calls_path(agent_id, batch), {"pageSize": "1"})
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    results = first.get("results") if isinstance(first, dict) else None
    if not results or BATCH_KEY not in (results[0].get("metadata") or {}):
        return None
    return list(results), bool(first.get("next"))


async def _all_calls(api: Api, agent_id: str, batch: dict[str, Any]) -> list[JSON]:
    """Every scheduled call of a batch of this tool (none when it is gone since listed)."""
    try:
        return await api.list_all(_calls_path(agent_id, batch))
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise


async def _same(calls: list[dict[str, Any]]) -> list[JSON]:
    return list(calls)


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


def _manifest_call(scheduled: Mapping[str, JSON]) -> dict[str, JSON]:
    """A live scheduled call as a manifest writes it: without the reserved metadata keys."""
    call = dict(scheduled)
    metadata = {
        k: v
        for k, v in (call.pop("metadata", None) or {}).items()
        if k not in (BATCH_KEY, RECIPIENT_KEY)
    }
    if metadata:
        call["metadata"] = metadata
    return call


def _state(batches: Sequence[Mapping[str, Any]], statuses: Mapping[str, int]) -> str:
    if all(b.get("endedAt") for b in batches):
        return "ended"
    if any(b.get("paused") for b in batches):
        return "paused"
    if statuses["FUTURE"] == sum(statuses.values()):
        return "scheduled"
    return "running"


def _batch_summary(batch: Mapping[str, Any]) -> dict[str, JSON]:
    return {
        "batchId": batch["batchId"],
        "created": batch.get("created"),
        "paused": bool(batch.get("paused")),
        "endedAt": batch.get("endedAt"),
        "totalCount": batch.get("totalCount"),
        "completedCount": batch.get("completedCount"),
    }


def _created_call(call: Mapping[str, Any]) -> dict[str, JSON]:
    """A call made, for the status report: its number masked."""
    return {
        "callId": call.get("callId"),
        "to": mask_number(destination(dict(call))),
        "created": call.get("created"),
        "ended": call.get("ended"),
        "endReason": call.get("endReason"),
    }


SCHEDULED_BATCH = ScheduledBatchType()
