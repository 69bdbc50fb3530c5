"""Batch calling (Threetone, and ElevenLabs' API of the same shape): the `BatchCall` type.

Owns what is this API's own in how a campaign maps onto it (its batches cannot be modified
after submission), with safety first (nobody is dialled twice); the shared campaign design
(typed state, unique recipients, matching, the started/not-started decision, masked notes,
status counting) is `reconciler.providers.campaigns`:
- identity: the batch's `call_name` (the manifest name) and its agent, read back by listing
  the workspace. A resource may span several API batches ("parts"): the first is named
  `<name>`, supplemental ones holding only recipients added later `<name>~2`, `<name>~3`, ...
  A batch cancelled before anyone was dialled (what a replace leaves behind) is history and
  no part. A part repeating recipients of another (a concurrent apply's copy) is cancelled
  while nobody was dialled from it, an error once it started (`campaigns.duplicates`); two
  parts that claim the same place with other recipients cannot be told apart: an error.
- recipients carry stable ids (the manifest's `id`, else a hash of the number), so the
  recipients of a live batch (`GET {prefix}/{id}`, read only for the managed names) are
  recognised; matching also falls back to the hashed number, so a number already submitted
  is never submitted again.
- paths under the effective `path_prefix`, the submit body, the fields compared (every batch
  field the preset's API takes, `vendors.BATCH_FIELDS`), both sides normalized by the
  preset's tables (`vendors`: a default the server fills in equals its absence, in a
  recipient's data too), field changes named as the manifest names them; started means a
  part left `pending` or a recipient was dialled. Plan semantics (the kit's decision, for a
  batch that cannot be modified): absent -> submit; while pending and undialled any change
  -> replace (cancel, then submit); once calls started, added recipients -> a supplemental
  part with only them, anything else -> a refusal. Its own actions: `cancelled: true` ->
  cancel; `retries: N` -> retry each finished part with failed calls until its `retry_count`
  reaches N. `--prune` cancels the parts still pending or in progress of a BatchCall the
  manifests no longer declare, only when their Ownership claims it (the workspace cannot say
  which batches this tool made; planning asks only for what a claim covers).
- no duplicate submissions: there is no idempotency key; the client never repeats a POST
  whose answer was lost, the change fails, and the next plan lists the workspace again.
Must not import httpx, deepdiff or the Ultravox vendor folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from pydantic import BaseModel, ValidationError

from reconciler.core.domain import (
    JSON,
    Action,
    Change,
    DesiredResource,
    FieldChange,
    FieldOp,
    LiveResource,
    Request,
    ResourceKey,
    SourceRef,
    fingerprint,
)
from reconciler.core.errors import ApiError, Diagnostic, ManifestError, PlanError
from reconciler.core.normalize import NormalizationTable
from reconciler.core.planning import PlanOptions, additions, compare
from reconciler.core.wording import agree, count
from reconciler.manifests.fields import prevents_destroy
from reconciler.providers.base import Api, NotExported, ResourceType
from reconciler.providers.batchcalling.manifest import (
    MAX_RECIPIENTS,
    BatchCallManifest,
    destination,
    destination_key,
    dump,
    load_recipients,
    mask,
    recipient_id,
)
from reconciler.providers.batchcalling.presets import PRESETS
from reconciler.providers.batchcalling.vendors import (
    BATCH_FIELDS,
    BY_SUBMIT,
    VENDOR_APIS,
    batch_table,
    comparable,
    recipient_data,
)
from reconciler.providers.campaigns.bulk import bulk
from reconciler.providers.campaigns.decision import (
    Refusal,
    Verdict,
    clashes,
    decide,
    has_started,
    next_number,
)
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
    MAX_SHOWN,
    Listed,
    Located,
    RecipientChanges,
    compare_recipients,
    recipient_list,
    unique,
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

# What a live batch is compared on, in the submit body's names (`_comparable` renames the
# answer's): per preset, from the vendor's tables (`vendors.batch_table`). This one, every
# preset's fields together, is what the type shows to code that does not know the preset.
BATCH_TABLE = batch_table("elevenlabs")

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
UNDIALLED = frozenset({"pending", "cancelled"})
"""Recipient statuses of someone nobody has called (yet)."""
WAITING = frozenset({"pending"})
"""Recipient statuses of someone still to be called."""
DROPPED = frozenset({"cancelled"})
"""Recipient statuses of someone who will not be called (any more)."""
RETRYABLE = frozenset({"failed", "voicemail"})
FINISHED_CALLS = frozenset({"completed", "failed", "voicemail"})
ACTIVE = frozenset({"pending", "in_progress"})
FINISHED = frozenset({"completed", "failed"})
_PART = re.compile(r"^(?P<base>.+)~(?P<number>[1-9][0-9]*)$")


def part_name(name: str, number: int) -> str:
    """The `call_name` of part `number` of a BatchCall: `name`, then `name~2`, `name~3`..."""
    return name if number == 1 else f"{name}~{number}"


def parse_part(call_name: str) -> tuple[str, int]:
    """(BatchCall name, part number) of a live batch's `call_name`."""
    match = _PART.match(call_name)
    if match and int(match["number"]) >= 2:
        return match["base"], int(match["number"])
    return call_name, 1


def is_history(batch: Mapping[str, Any]) -> bool:
    """Cancelled before anyone was dialled (a replaced batch): no part of any resource."""
    return (
        batch.get("status") == "cancelled"
        and not _int(batch.get("total_calls_dispatched"))
        and not _int(batch.get("total_calls_finished"))
    )


def _int(value: Any) -> int:
    """A counter from the server; anything that is not a number counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _recipient_list(recipients: Sequence[Recipient]) -> str:
    return recipient_list(recipients, mask)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _live_recipient(provider: str, raw: Mapping[str, Any]) -> LiveRecipient:
    """What the plan keeps of a live recipient: its ids, status, a masked number, and its data
    normalized by the preset's table (the defaults the server filled in are absence)."""
    return LiveRecipient(
        key=_text(raw.get("id")),
        reach=destination_key(dict(raw)),
        status=str(raw.get("status")),
        masked=mask(destination(dict(raw))),
        call_id=_text(raw.get("conversation_id")) or _text(raw.get("id")),
        # Absent when the server does not echo it: then it is not compared.
        sent=recipient_data(provider, raw["conversation_initiation_client_data"])
        if "conversation_initiation_client_data" in raw
        else None,
    )


class BatchCallType(ResourceType):
    """One type serving both presets: `desired.provider` / `api.settings` say which."""

    kind: ClassVar[str] = "BatchCall"
    provider: ClassVar[str] = "threetone"
    order: ClassVar[int] = 20
    declares_environments: ClassVar[bool] = True
    manifest_model: ClassVar[type[BaseModel]] = BatchCallManifest
    export_directory: ClassVar[str] = "batchcalls"
    table: ClassVar[NormalizationTable] = BATCH_TABLE
    file_fields: ClassVar[tuple[str, ...]] = ("recipientsFrom",)
    """Manifest fields naming files, which must stay inside the manifest directory."""

    # ---- manifests -> desired -------------------------------------------------------------

    @bulk  # 100,000 recipients: see `campaigns.bulk`
    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        assert isinstance(manifest, BatchCallManifest)
        located: list[Listed] = [
            Located(source.file, source.line_of("recipients", index), _recipient(dump(r)))
            for index, r in enumerate(manifest.recipients or [])
        ]
        problems: list[Diagnostic] = []
        if manifest.recipientsFrom is not None:
            from_file, problems = load_recipients(
                manifest.recipientsFrom,
                source.file,
                manifest.defaultRegion,
                line=source.line_of("recipientsFrom"),
                make=_submitted,  # in both processes reading
            )
            # Plain (file, line, recipient) tuples: no record per row but the recipient.
            located += [(f, n, Recipient(*sent)) for f, n, sent in from_file]
        if len(located) > MAX_RECIPIENTS:
            problems.append(
                Diagnostic(
                    source.file,
                    source.line_of("recipientsFrom" if manifest.recipientsFrom else "recipients"),
                    f"a batch holds at most {MAX_RECIPIENTS:,} recipients (the API's limit), "
                    f"found {len(located):,}: split them into several BatchCalls",
                )
            )
        # Inline duplicates are reported by the model at their own line.
        recipients, duplicates = unique(
            located, container=f"BatchCall {manifest.name!r}", mask=mask, inline_file=source.file
        )
        problems += duplicates
        if not recipients and not problems and manifest.recipientsFrom is not None:
            # (Without a file, the model's own rule says the batch needs recipients.)
            problems.append(
                Diagnostic(
                    source.file,
                    source.line_of("recipientsFrom"),
                    f"BatchCall {manifest.name!r} has no recipients (its recipients file holds "
                    "none); the API refuses an empty batch",
                )
            )
        # The batch's own fields, in the submit body's names (nested ones as the API spells
        # them, unset ones left out).
        given = manifest.model_dump(mode="json", exclude_none=True)
        spec: dict[str, Any] = {
            field.submit: given[field.manifest] for field in BATCH_FIELDS if field.manifest in given
        }
        resource = DesiredResource(
            key=ResourceKey(self.kind, manifest.name),
            provider=manifest.provider,
            spec=spec,
            source=source,
            prevent_destroy=prevents_destroy(manifest.lifecycle),
            detail=DesiredCampaign(
                recipients=recipients,
                agent_id=manifest.agentId,
                cancelled=manifest.cancelled,
                retries=manifest.retries,
            ),
        )
        if problems:
            # The checks across documents still see the batch, so theirs come in this run.
            raise ManifestError(problems, partial=resource)
        return resource

    def comparable(
        self, resource: DesiredResource | LiveResource, desired: DesiredResource | None = None
    ) -> dict[str, JSON]:
        """As a plan compares (`_plan_parts`: in the submit's names, by the preset's table),
        then named as the manifest names the fields, as a plan shows them (`_manifest_names`)."""
        if isinstance(resource, DesiredResource):
            return _named_as_manifest(comparable(resource.provider, resource.spec))
        wanted = (
            replace(desired, spec=comparable(desired.provider, desired.spec))
            if desired is not None
            else None
        )
        return _named_as_manifest(super().comparable(resource, wanted))

    def comparison_table(self, provider: str) -> NormalizationTable:
        return batch_table(provider)

    def compared_body(
        self, live: LiveResource, desired: DesiredResource | None
    ) -> Mapping[str, JSON]:
        """The batch the resource is (its first part), in the submit's names; a scheduled time
        the hold moved later counts as the manifest's (`_unheld`)."""
        parts = live_campaign(live).parts
        first = next((p for p in parts if p.id == live.id), None)
        if first is None:
            return live.body
        body = _comparable(live.provider, first)
        if desired is None:
            return body
        return _unheld(desired, body, first.batch.get("created_at_unix"))

    # ---- live -------------------------------------------------------------------------------

    async def read(
        self,
        api: Api,
        desired: Sequence[DesiredResource],
        known: Sequence[LiveResource] = (),
    ) -> list[LiveResource]:
        """List the workspace (only the manifests' agents where the API filters by agent, see
        `_list`); every name is returned (`--prune` needs the ones no manifest declares), with
        recipients read for the managed names' batches only.

        Without desired resources (a saved plan's staleness check) no recipients are read; the
        digest covers list items of the resource's agent only
        (`_decisive`, `_own_agent`), so it is the same either way.
        """
        import asyncio

        prefix = api.settings.path_prefix
        items = await _list(api, desired)
        names = {d.key.name for d in desired}
        agents = {d.key.name: str(d.spec["agent_id"]) for d in desired}
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            base, _ = parse_part(str(item.get("name") or ""))
            # Every name, so that `--prune` sees the ones the manifests no longer declare;
            # recipients are read for the manifests' names only.
            if base:
                groups.setdefault(base, []).append(item)
        managed = [i for base in groups if base in names for i in groups[base] if not is_history(i)]
        # The API lists batches without recipients; one GET per batch is its only way.
        details = await asyncio.gather(
            *(_detail(api, f"{prefix}/{_quoted(str(i['id']))}") for i in managed)
        )
        gone = {str(i["id"]) for i, d in zip(managed, details, strict=True) if d is None}
        if gone:
            # Deleted since they were listed: as if they had not been.
            groups = {b: [i for i in g if str(i["id"]) not in gone] for b, g in groups.items()}
            groups = {b: g for b, g in groups.items() if g}
        recipients = {
            str(item["id"]): _live_recipients(api.settings.name, detail)
            for item, detail in zip(managed, details, strict=True)
            if detail is not None
        }
        found = (
            self._campaign(api.settings.name, base, group, recipients, agents.get(base))
            for base, group in sorted(groups.items())
        )
        return [campaign for campaign in found if campaign is not None]

    def _campaign(
        self,
        provider: str,
        base: str,
        group: list[dict[str, Any]],
        recipients: Mapping[str, tuple[LiveRecipient, ...]],
        agent: str | None,
    ) -> LiveResource | None:
        """One BatchCall from the batches named like it; None when all are history. Its id and
        digest are those of its own agent's batches (`_own_agent`): the same whether the
        listing was filtered by agent or not."""
        group.sort(key=_created)
        parts = sorted(
            (
                Part(
                    id=str(item["id"]),
                    number=parse_part(str(item.get("name")))[1],
                    name=str(item.get("name")),
                    recipients=recipients.get(str(item["id"]), ()),
                    batch=item,
                    status=_text(item.get("status")),
                    agent_id=_text(item.get("agent_id")),
                )
                for item in group
                if not is_history(item)
            ),
            key=lambda p: (p.number, _created(p.batch)),
        )
        if not parts:
            return None  # only history: the resource is absent
        own = _own_agent(parts, agent)
        first = next(p for p in parts if p.agent_id == own)
        return LiveResource(
            key=ResourceKey(self.kind, base),
            provider=provider,
            id=first.id,
            body=first.batch,
            digest=fingerprint([_decisive(item) for item in group if item.get("agent_id") == own]),
            detail=LiveCampaign(
                parts=tuple(parts),
                history=tuple(str(i["id"]) for i in group if is_history(i)),
            ),
        )

    # ---- apply: applies running at the same time ----------------------------------------------

    guards_writes: ClassVar[bool] = True

    def creates_batch(self, request: Request) -> bool:
        return _submits(request)

    async def reread(
        self, api: Api, change: Change, *, settling: bool = False
    ) -> LiveResource | None:
        """The BatchCall listed again as a plan lists it: with its recipients, on the agent it
        submits to; without a submit (a cancel, a retry), as a saved plan's check lists it."""
        agent = _submitted_agent(change)
        probe = []
        if agent is not None:
            probe = [
                DesiredResource(
                    key=change.key,
                    provider=change.provider,
                    spec={"agent_id": agent},
                    source=SourceRef("", 0),
                    detail=DesiredCampaign(()),
                )
            ]
        found = await self.read(api, probe)
        return next((c for c in found if c.key == change.key), None)

    def conflict(self, live: LiveResource | None, change: Change) -> str | None:
        """A replace of a batch that started meanwhile, a retry of one retried meanwhile, or
        recipients submitted that a live batch (other than one the change cancels) holds."""
        parts = live_campaign(live).parts if live is not None else ()
        by_id = {p.id: p for p in parts}
        cancelled = {_target(r, "/cancel") for r in change.requests} - {None}
        if change.action is Action.REPLACE:
            for part in parts:
                if part.id in cancelled and has_started(
                    [part], idle=UNDIALLED, part_started=_left_pending
                ):
                    return f"batch {part.id} has started (replacing it would call them again)"
        for ident in {_target(r, "/retry") for r in change.requests} - {None}:
            retried = by_id.get(str(ident))
            if retried is not None and retried.status not in FINISHED:
                return f"batch {retried.id} is {retried.status} (retried, or running, meanwhile)"
        held = {
            identity
            for p in parts
            if p.id not in cancelled
            for r in p.recipients
            if r.status not in DROPPED
            for identity in (("id", r.key), ("reach", r.reach))
            if identity[1]
        }
        sent = {
            identity
            for r in change.requests
            if _submits(r) and isinstance(r.body, dict)
            for recipient in r.body.get("recipients") or []
            if isinstance(recipient, dict)
            for identity in (
                ("id", recipient.get("id")),
                ("reach", destination_key(recipient)),
            )
            if identity[1]
        }
        again = sent & held
        if again:
            return "recipients it submits are in a live batch already"
        return None

    def repair(self, live: LiveResource, change: Change) -> Change | None:
        """Cancel the copies nobody was dialled from; a `PlanError` when copies started."""
        agent = _submitted_agent(change)
        parts = [p for p in live_campaign(live).parts if agent is None or p.agent_id == agent]
        found = duplicates(parts)
        if found.stuck:
            raise _stuck(change.key, found)
        prefix = next(
            (r.path.removesuffix("/submit") for r in change.requests if _submits(r)), None
        )
        if not found.removable or prefix is None:
            return None
        return with_removals(
            change.key,
            change.provider,
            found.kept(parts)[0].id,
            removals(found.removable, prefix),
            [removal_note(c, "cancelled") for c in found.removable],
            None,
        )

    # ---- plan -------------------------------------------------------------------------------

    def plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        change = self._plan(desired, live, options)
        return held(change, options.hold, _submits, "scheduled_time_unix", unix=True)

    def _plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        if desired is None:
            # Pruned only when asked, and planning asks only for what the manifests' Ownership
            # claims: nothing in the workspace says which batches this tool made.
            return self._prune(live, options) if options.prune and live is not None else None
        prefix = _prefix(desired.provider, options)
        cancelled = desired_campaign(desired).cancelled
        if live is None:
            return None if cancelled else self._submit(desired, prefix)
        chosen, _ = _select(desired, live)
        if cancelled:
            return self._cancel(desired, live, chosen, prefix)
        return self._plan_existing(desired, live, chosen, prefix)

    def _submit(self, desired: DesiredResource, prefix: str) -> Change:
        recipients = desired_campaign(desired).recipients
        return Change(
            key=desired.key,
            provider=desired.provider,
            action=Action.CREATE,
            fields=_manifest_names(
                (*additions(desired, batch_table(desired.provider)), *_retries_wanted(desired))
            ),
            requests=(_submit_request(desired, prefix, 1, recipients),),
            notes=(
                f"{count(len(recipients), 'recipient')}: {_recipient_list(recipients)}",
                _when(desired),
            ),
        )

    def _prune(self, live: LiveResource, options: PlanOptions) -> Change | None:
        """`--prune` of a BatchCall the manifests own but no longer declare: its parts still
        pending or in progress are cancelled, the one way the API stops a batch from dialling
        (a submitted batch cannot be modified); finished and cancelled ones are history, left
        as they are (a delete would erase what the calls did)."""
        active = [p for p in live_campaign(live).parts if p.status in ACTIVE]
        if not active:
            return None
        prefix = _prefix(live.provider, options)
        return Change(
            key=live.key,
            provider=live.provider,
            action=Action.DELETE,
            requests=tuple(_cancel_request(prefix, p) for p in active),
            resource_id=live.id,
            notes=(
                f"cancelled, not deleted: {count(len(active), 'batch', 'batches')} still pending "
                f"or in progress {agree(len(active), 'stops', 'stop')} dialling; calls already "
                "under way finish. Cancelling is one-way; finished batches stay as history.",
            ),
        )

    def _cancel(
        self,
        desired: DesiredResource,
        live: LiveResource,
        parts: Sequence[Part],
        prefix: str,
    ) -> Change | None:
        active = [p for p in parts if p.status in ACTIVE]
        if not active:
            return None
        waiting = sum(1 for p in active for r in p.recipients if r.status == "pending")
        return Change(
            key=desired.key,
            provider=desired.provider,
            action=Action.UPDATE,
            fields=(FieldChange("cancelled", FieldOp.CHANGE, False, True),),
            requests=tuple(_cancel_request(prefix, p) for p in active),
            resource_id=live.id,
            notes=(
                f"{count(waiting, 'recipient')} not yet dialled "
                f"{agree(waiting, 'is', 'are')} cancelled; calls already under way finish. "
                "Cancelling is one-way.",
            ),
        )

    def _plan_existing(
        self,
        desired: DesiredResource,
        live: LiveResource,
        parts: Sequence[Part],
        prefix: str,
    ) -> Change | None:
        """Copies first (concurrent applies): cancelled while nobody was dialled from them, a
        refusal naming them otherwise; then the plan of the parts kept."""
        found = duplicates(parts)
        if found.stuck:
            raise _stuck(desired.key, found)
        if not found.removable:
            return self._plan_parts(desired, live, parts, prefix)
        kept = found.kept(parts)
        rest = self._plan_parts(desired, live, kept, prefix)
        return with_removals(
            desired.key,
            desired.provider,
            live.id if any(p.id == live.id for p in kept) else kept[0].id,
            removals(found.removable, prefix),
            [removal_note(c, "cancelled") for c in found.removable],
            rest,
        )

    def _plan_parts(
        self,
        desired: DesiredResource,
        live: LiveResource,
        parts: Sequence[Part],
        prefix: str,
    ) -> Change | None:
        _refuse_clashes(desired.key, parts)
        first = parts[0]
        provider = desired.provider
        wanted = replace(desired, spec=comparable(provider, desired.spec))
        have = LiveResource(
            live.key,
            live.provider,
            first.id,
            _unheld(desired, _comparable(provider, first), first.batch.get("created_at_unix")),
            "",
        )
        fields = _manifest_names(compare(wanted, have, batch_table(provider)))

        def differs(wanted: Recipient, live: LiveRecipient) -> bool:
            return _differs(provider, wanted, live)

        decision = decide(
            compare_recipients(
                desired_campaign(desired).recipients,
                [r for p in parts for r in p.recipients],
                differs=differs,
            ),
            started=has_started(parts, idle=UNDIALLED, part_started=_left_pending),
            modifiable=False,
            fields_changed=bool(fields),
            stopped=any(p.status == "cancelled" for p in parts),
        )
        if decision.verdict is Verdict.REPLACE:
            return self._replace(desired, live, parts, prefix, fields, decision.recipients)
        if decision.verdict is Verdict.REFUSE:
            reasons = [_refusal(r, parts, fields, decision.recipients) for r in decision.refusals]
            raise PlanError(f"{desired.key}: " + "; ".join(reasons) + ".")
        requests: list[Request] = []
        notes: list[str] = []
        added = decision.recipients.added
        if added:
            number = next_number(parts)
            requests.append(_submit_request(desired, prefix, number, added, supplemental=True))
            notes.append(
                f"{count(len(added), 'recipient')} added after calls started, submitted as "
                f"{part_name(desired.key.name, number)!r} holding only them: "
                f"{_recipient_list(added)}"
            )
        retried: list[FieldChange] = []
        for part, failed in _retryable(parts, desired_campaign(desired).retries):
            requests.append(
                Request("POST", f"{prefix}/{_quoted(part.id)}/retry", None, f"retry {part.name}")
            )
            notes.append(
                f"{part.name!r} finished with {count(failed, 'failed or voicemail call')}; "
                f"retry {_retry_count(part) + 1} of {desired_campaign(desired).retries}"
            )
            if not retried:
                # The retries done so far, as `retries:` counts them: one more per apply.
                done = _retry_count(part)
                retried.append(FieldChange("retries", FieldOp.CHANGE, done, done + 1))
        if not requests:
            return None
        return Change(
            key=desired.key,
            provider=desired.provider,
            action=Action.UPDATE,
            fields=tuple(retried),
            requests=tuple(requests),
            resource_id=live.id,
            notes=tuple(notes),
        )

    def _replace(
        self,
        desired: DesiredResource,
        live: LiveResource,
        parts: Sequence[Part],
        prefix: str,
        fields: tuple[FieldChange, ...],
        changes: RecipientChanges,
    ) -> Change:
        recipients = desired_campaign(desired).recipients
        requests = [_cancel_request(prefix, p) for p in parts]
        requests.append(_submit_request(desired, prefix, 1, recipients))
        notes = [
            "a batch cannot be modified after submission; nobody has been dialled yet, so it "
            "is cancelled and submitted again",
        ]
        if not changes.empty:
            notes.append(
                f"recipients: {len(changes.added)} added, {len(changes.removed)} removed, "
                f"{len(changes.changed)} changed"
            )
        notes += [
            f"{count(len(recipients), 'recipient')}: {_recipient_list(recipients)}",
            _when(desired),
        ]
        return Change(
            key=desired.key,
            provider=desired.provider,
            action=Action.REPLACE,
            fields=fields,
            requests=tuple(requests),
            resource_id=live.id,
            notes=tuple(notes),
        )

    def warnings(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> list[str]:
        if desired is None or live is None:
            return []
        _, others = _select(desired, live)
        if not others:
            return []
        return [
            f"{desired.key}: the workspace also has batches named like it on other agents "
            f"({', '.join(p.id for p in others)}); they are not part of it (agent "
            f"{desired.spec['agent_id']}) and are left alone"
        ]

    # ---- export -----------------------------------------------------------------------------

    async def complete_for_export(
        self, api: Api, found: Sequence[LiveResource]
    ) -> list[LiveResource]:
        """Read without manifests, a BatchCall has no recipients; export needs them: one
        `GET {prefix}/{id}` per part, kept in the vendor's shape (numbers in full, for the
        recipients file only)."""
        import asyncio

        prefix = api.settings.path_prefix
        parts = [p for item in found for p in live_campaign(item).parts]
        details = await asyncio.gather(*(api.get(f"{prefix}/{_quoted(p.id)}") for p in parts))
        read = {p.id: detail for p, detail in zip(parts, details, strict=True)}
        completed = []
        for item in found:
            campaign = live_campaign(item)
            full = tuple(
                replace(
                    part,
                    batch={**part.batch, "recipients": _listed(read[part.id])},
                    recipients=_live_recipients(item.provider, read[part.id]),
                )
                for part in campaign.parts
            )
            completed.append(replace(item, detail=replace(campaign, parts=full)))
        return completed

    def export(self, live: LiveResource, known: Sequence[LiveResource]) -> dict[str, JSON] | None:
        """The manifest of a BatchCall: its fields from its first part, its recipients (every
        part's, in order) in a JSONL file beside it (`export_attachments`), so no number is
        in the manifest. `retries` keeps the retry count reached, `cancelled` a cancel.
        Raises `NotExported` with the reason when a manifest cannot reproduce it."""
        document, _ = _exported(live)
        return document

    def export_attachments(self, live: LiveResource) -> dict[str, str]:
        _, recipients = _exported(live)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recipients)
        return {recipients_file(live.key.name): text}

    # ---- status -----------------------------------------------------------------------------

    async def status(
        self, api: Api, desired: DesiredResource, live: LiveResource | None
    ) -> dict[str, JSON] | None:
        if live is None:
            cancelled = desired_campaign(desired).cancelled
            return not_created(desired, "cancelled" if cancelled else "not created")
        parts, _ = _select(desired, live)
        recipients = [r for p in parts for r in p.recipients]
        statuses = count_statuses(recipients, RECIPIENT_STATUSES)
        finished = [r for r in recipients if r.status in FINISHED_CALLS]
        found = duplicates(parts)
        copies = {c.part.id for c in (*found.removable, *found.stuck)}
        return {
            **report_head(desired),
            "state": _state({p.status for p in parts}),
            "batches": [{**_part_summary(p), "duplicate": p.id in copies} for p in parts],
            "duplicates": duplicate_reports(found),
            "total": sum(statuses.values()),
            "completed": sum(statuses[s] for s in FINISHED_CALLS),
            "statuses": statuses,
            "endReasons": tally(r.status for r in finished),
            "calls": [
                {"callId": r.call_id, "to": r.masked, "endReason": r.status} for r in finished
            ],
        }


# --- helpers (pure) ----------------------------------------------------------------------------


def _recipient(recipient: dict[str, Any]) -> Recipient:
    """A manifest recipient as it is submitted: with its stable id first."""
    return Recipient(*_submitted(recipient))


def _submitted(recipient: dict[str, Any]) -> tuple[str, str, dict[str, Any], str]:
    """`_recipient` as plain data: its id, destination, payload and hashed destination."""
    ident = recipient_id(recipient)
    payload = {"id": ident, **{k: v for k, v in recipient.items() if k != "id"}}
    return ident, destination(recipient), payload, destination_key(recipient)


def _live_recipients(provider: str, detail: JSON) -> tuple[LiveRecipient, ...]:
    """The recipients of one `GET {prefix}/{id}` answer (none when it holds no list)."""
    listed = (detail.get("recipients") if isinstance(detail, dict) else None) or []
    return tuple(_live_recipient(provider, r) for r in listed if isinstance(r, dict))


async def _list(api: Api, desired: Sequence[DesiredResource]) -> list[JSON]:
    """The workspace's batches that the plan needs.

    Where the vendor's listing filters by `agent_id` (ElevenLabs; `vendors.VENDOR_APIS`), one
    listing per agent of the manifests: fewer pages in a busy workspace. A BatchCall that has
    no batch on its agent there may have one on another agent (its `agentId` changed: the
    plan must replace or refuse it, never submit a second campaign), which only the whole
    workspace shows: then the whole workspace is listed, as without the filter.
    """
    import asyncio

    path = f"{api.settings.path_prefix}/workspace"
    vendor = VENDOR_APIS.get(api.settings.name)
    if not desired or vendor is None or not vendor.filters_by_agent:
        return await api.list_all(path)
    agents = sorted({str(d.spec["agent_id"]) for d in desired})
    pages = await asyncio.gather(*(api.list_all(path, {"agent_id": a}) for a in agents))
    # Only what was asked for, once: a server that ignored the filter (another API behind an
    # overridden base URL) must not make a batch appear twice, a clash, or on a wrong agent.
    items = [
        item
        for agent, page in zip(agents, pages, strict=True)
        for item in page
        if isinstance(item, dict) and item.get("agent_id") == agent
    ]
    on_agent = {
        (parse_part(str(i.get("name") or ""))[0], i.get("agent_id"))
        for i in items
        if not is_history(i)
    }
    if any((d.key.name, d.spec["agent_id"]) not in on_agent for d in desired):
        return await api.list_all(path)
    return items


def _own_agent(parts: Sequence[Part], agent: str | None) -> str | None:
    """The agent whose batches are the resource's: the manifest's when it has any, else (no
    manifest: a saved plan's staleness check; or its agent changed) the agent of the oldest
    part. The two agree whenever the resource has parts on its own agent: a same-named batch
    of another agent that is older would have been taken as this resource (replaced or
    refused) before the resource had a batch of its own."""
    if agent is not None and any(p.agent_id == agent for p in parts):
        return agent
    return min(parts, key=lambda p: _created(p.batch)).agent_id


def recipients_file(name: str) -> str:
    """The recipients file `export` writes beside a BatchCall's manifest."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) + ".recipients.jsonl"


def _listed(detail: JSON) -> list[JSON]:
    listed = detail.get("recipients") if isinstance(detail, dict) else None
    return list(listed) if isinstance(listed, list) else []


def _exported(live: LiveResource) -> tuple[dict[str, JSON], list[dict[str, JSON]]]:
    """(the manifest document, its recipients as the recipients file holds them) of a live
    BatchCall; `NotExported` with the reason when a manifest cannot reproduce it."""
    provider = live.provider
    campaign = live_campaign(live)
    own = _own_agent(campaign.parts, None)
    parts = [p for p in campaign.parts if p.agent_id == own]
    groups = clashes(parts)
    if groups:
        ids = ", ".join(p.id for p in groups[0])
        raise NotExported(
            f"live batches {ids} all claim to be {part_name(live.key.name, groups[0][0].number)!r}"
            " and a manifest cannot tell them apart; cancel or delete the extra one(s)"
        )
    first = parts[0].batch
    given = {f.submit: first.get(f.answer) for f in BATCH_FIELDS if f.answer in first}
    fields = comparable(provider, given)
    document: dict[str, JSON] = {"kind": "BatchCall", "provider": provider, "name": live.key.name}
    for field in BATCH_FIELDS:
        if field.submit in fields:
            value = fields[field.submit]
            document[field.manifest] = _iso(value) if field.manifest == "scheduledTime" else value
    document["recipientsFrom"] = recipients_file(live.key.name)
    retried = max(_retry_count(p) for p in parts)
    if retried:
        document["retries"] = retried
    if any(p.status == "cancelled" for p in parts):
        document["cancelled"] = True
    recipients: list[dict[str, JSON]] = []
    seen: set[str] = set()
    for part in parts:
        for raw in part.batch.get("recipients") or []:
            if not isinstance(raw, dict):
                continue
            recipient = _exported_recipient(provider, raw)
            ident = recipient_id(recipient)
            if ident not in seen:
                seen.add(ident)
                recipients.append(recipient)
    if not recipients:
        raise NotExported("its batches list no recipients, and a BatchCall needs some")
    try:
        BatchCallManifest.model_validate({**document, "recipients": recipients})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        if where.startswith("recipients."):
            index = int(where.split(".")[1])
            shown = mask(destination(recipients[index]))
            where = f"recipient {shown}: " + ".".join(where.split(".")[2:])
        raise NotExported(
            f"{where}: {error['msg']} (the live batch has what a manifest cannot write)"
        ) from None
    return document, recipients


def _exported_recipient(provider: str, raw: Mapping[str, Any]) -> dict[str, JSON]:
    """A live recipient as a manifest writes it: its destination, its id when it is not the
    one the tool would derive, its data without what the server filled in."""
    recipient: dict[str, JSON] = {}
    for name in ("phone_number", "whatsapp_user_id"):
        if raw.get(name):
            recipient[name] = raw[name]
    if raw.get("id") and raw["id"] != destination_key(recipient):
        recipient = {"id": raw["id"], **recipient}
    data = recipient_data(provider, raw.get("conversation_initiation_client_data"))
    if data:
        recipient["conversation_initiation_client_data"] = data
    return recipient


def _prefix(provider: str, options: PlanOptions) -> str:
    if provider in options.path_prefixes:
        return options.path_prefixes[provider]
    return PRESETS[provider].path_prefix


def _quoted(ident: str) -> str:
    """An id as one path segment."""
    return quote(ident, safe="")


def _retry_count(part: Part) -> int:
    return _int(part.batch.get("retry_count"))


def _cancel_request(prefix: str, part: Part) -> Request:
    return Request("POST", f"{prefix}/{_quoted(part.id)}/cancel", None, f"cancel {part.name}")


def _created(batch: Mapping[str, Any]) -> tuple[int, str]:
    return _int(batch.get("created_at_unix")), str(batch.get("id"))


def _decisive(batch: Mapping[str, Any]) -> dict[str, Any]:
    """What of a listed batch a plan depends on: a saved plan is stale when any of it changed.

    Progress counters and `last_updated_at_unix` are left out on purpose: a plan that adds
    recipients to a running campaign stays valid while its calls progress, and is refused
    once a batch changes status (started, finished, cancelled) or is retried.
    """
    return {
        "id": batch.get("id"),
        "name": batch.get("name"),
        "agent_id": batch.get("agent_id"),
        "status": batch.get("status"),
        "dialled": bool(batch.get("total_calls_dispatched")),
        "scheduled_time_unix": batch.get("scheduled_time_unix"),
        "phone_number_id": batch.get("phone_number_id"),
        "whatsapp_params": batch.get("whatsapp_params"),
        "retry_count": batch.get("retry_count"),
    }


def _comparable(provider: str, part: Part) -> dict[str, Any]:
    """A live batch in the submit body's names, normalized by the preset's table, for
    `compare`: every batch field the preset's answer has."""
    batch = part.batch
    return comparable(
        provider, {f.submit: batch.get(f.answer) for f in BATCH_FIELDS if f.answer in batch}
    )


def _manifest_names(fields: Sequence[FieldChange]) -> tuple[FieldChange, ...]:
    """Field changes named as the manifest names them (`scheduledTime`, not
    `scheduled_time_unix`; nested keys stay as the API spells them, as in the manifest), and
    a scheduled time shown as the ISO instant."""
    renamed = []
    for change in fields:
        head, dot, rest = change.path.partition(".")
        field = BY_SUBMIT.get(head)
        if field is None:
            renamed.append(change)
            continue
        before, after = change.before, change.after
        if field.manifest == "scheduledTime":
            before, after = (_iso(v) if isinstance(v, int) else v for v in (before, after))
        path = field.manifest + dot + rest
        renamed.append(replace(change, path=path, before=before, after=after))
    return tuple(renamed)


def _named_as_manifest(body: Mapping[str, Any]) -> dict[str, Any]:
    """A batch in the submit's names with its fields named as the manifest names them, the
    scheduled time as the ISO instant (what `_manifest_names` does to a plan's changes)."""
    named: dict[str, Any] = {}
    for key, value in body.items():
        field = BY_SUBMIT.get(key)
        if field is not None and field.manifest == "scheduledTime" and isinstance(value, int):
            value = _iso(value)
        named[field.manifest if field is not None else key] = value
    return named


def _retries_wanted(desired: DesiredResource) -> tuple[FieldChange, ...]:
    retries = desired_campaign(desired).retries
    return () if retries is None else (FieldChange("retries", FieldOp.ADD, None, retries),)


def _select(desired: DesiredResource, live: LiveResource) -> tuple[list[Part], list[Part]]:
    """(the parts of this resource, same-named batches of other agents left alone).

    Identity is the name and the agent. When no part runs on the manifest's agent, all of
    them are taken as this resource's with its agent changed, so the plan replaces them
    (nobody dialled yet) or refuses; never a second batch that dials everyone again.
    """
    parts = list(live_campaign(live).parts)
    agent = desired.spec["agent_id"]
    mine = [p for p in parts if p.agent_id == agent]
    if not mine:
        return parts, []
    return mine, [p for p in parts if p.agent_id != agent]


async def _detail(api: Api, path: str) -> JSON | None:
    """One batch with its recipients; None when it is gone since the listing (deleted)."""
    try:
        return await api.get(path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _submits(request: Request) -> bool:
    return request.method == "POST" and request.path.endswith("/submit")


def _target(request: Request, action: str) -> str | None:
    """The batch id of a `POST {prefix}/{id}/cancel` (or `/retry`) request, else None."""
    if request.method != "POST" or not request.path.endswith(action):
        return None
    return unquote(request.path.removesuffix(action).rsplit("/", 1)[-1])


def _submitted_agent(change: Change) -> str | None:
    """The agent a change submits a batch to (None when it submits none)."""
    for request in change.requests:
        if _submits(request) and isinstance(request.body, dict):
            agent = request.body.get("agent_id")
            if isinstance(agent, str):
                return agent
    return None


def _unheld(desired: DesiredResource, batch: dict[str, Any], created: Any) -> dict[str, Any]:
    """A batch (in the submit's names) with the manifest's scheduled time where the hold moved
    it later (`held_back`): not a change, for a batch that cannot be modified."""
    live = batch.get("scheduled_time_unix")
    wanted = desired.spec.get("scheduled_time_unix")

    def moment(value: Any) -> datetime | None:
        return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None

    if not held_back(moment(live), moment(wanted), moment(created)):
        return batch
    if wanted is None:
        return {k: v for k, v in batch.items() if k != "scheduled_time_unix"}
    return {**batch, "scheduled_time_unix": wanted}


def duplicates(parts: Sequence[Part]) -> Duplicates:
    """The copies among a BatchCall's parts: recipients submitted twice (concurrent applies)."""
    return find_duplicates(
        parts,
        idle=UNDIALLED,
        waiting=WAITING,
        dropped=DROPPED,
        part_started=_left_pending,
        created=lambda p: _int(p.batch.get("created_at_unix")),
    )


def removals(copies: Sequence[Copy], prefix: str) -> list[Request]:
    """A cancel for each copy: nobody was dialled from it, so it becomes history."""
    return [
        Request(
            "POST",
            f"{prefix}/{_quoted(c.part.id)}/cancel",
            None,
            f"cancel duplicate {c.part.name} ({c.part.id})",
        )
        for c in copies
    ]


def _stuck(key: ResourceKey, found: Duplicates) -> PlanError:
    return PlanError(
        stuck_message(
            key,
            found.stuck,
            "cancel one of the batches in the vendor's console (its recipients not yet "
            "dialled are cancelled), or set `cancelled: true` to stop the campaign",
        )
    )


def _refuse_clashes(key: ResourceKey, parts: Sequence[Part]) -> None:
    """Two live parts claiming one name cannot be told apart: the plan stops."""
    groups = clashes(parts)
    if groups:
        raise PlanError(
            "; ".join(
                f"{key}: live batches {', '.join(p.id for p in group)} "
                f"all claim to be {part_name(key.name, group[0].number)!r} and cannot be told "
                "apart; cancel or delete the extra one(s) in the console, then plan again"
                for group in groups
            )
        )


def _left_pending(part: Part) -> bool:
    """A part has started once it is no longer `pending` (running, finished, cancelled)."""
    return part.status != "pending"


def _differs(provider: str, wanted: Recipient, live: LiveRecipient) -> bool:
    """A submitted recipient changed: its id now reaches someone else, or (when the server
    echoes it) its client data differs, both sides normalized by the preset's table."""
    data = recipient_data(provider, wanted.payload.get("conversation_initiation_client_data"))
    return live.reach != wanted.reach or (live.sent is not None and live.sent != data)


def _refusal(
    reason: Refusal,
    parts: Sequence[Part],
    fields: Sequence[FieldChange],
    changes: RecipientChanges,
) -> str:
    """Why a started BatchCall refuses a change, and what to do instead."""
    if reason is Refusal.STOPPED:
        cancelled = ", ".join(p.id for p in parts if p.status == "cancelled")
        wanted = (
            f" ({count(len(changes.added), 'recipient')} the manifest wants called can no longer "
            f"be by it: {_recipient_list(changes.added)})"
            if changes.added
            else ""
        )
        return (
            f"it was cancelled after calls started (batch {cancelled}), and a cancelled batch "
            f"cannot be resumed{wanted}; keep `cancelled: true`, and put the recipients still "
            "to call in a new BatchCall (a new name), or remove them"
        )
    if reason is Refusal.FIELDS:
        names = ", ".join(sorted({f.path.split(".")[0] for f in fields}))
        return (
            f"{names} cannot change: calls started, and a batch cannot be modified after "
            "submission; put the value back, or use a new BatchCall (a new name)"
        )
    if reason is Refusal.REMOVED:
        shown = ", ".join(r.masked for r in changes.removed[:MAX_SHOWN])
        return (
            f"{count(len(changes.removed), 'recipient was', 'recipients were')} removed from the "
            f"manifest after calls started ({shown}); the API cannot take recipients out of a "
            "batch. Put them back, or set `cancelled: true`"
        )
    return (
        f"{count(len(changes.changed), 'recipient')} changed after calls started "
        f"({_recipient_list(changes.changed)}); a submitted recipient cannot be modified. Put "
        "the old values back, or call them in a new BatchCall (a new name)"
    )


def _retryable(parts: Sequence[Part], retries: int | None) -> list[tuple[Part, int]]:
    """(part, failed calls) of each finished part with failed or voicemail calls that was
    retried fewer than `retries` times."""
    if not retries:
        return []
    found: list[tuple[Part, int]] = []
    for part in parts:
        failed = sum(1 for r in part.recipients if r.status in RETRYABLE)
        if part.status in FINISHED and _retry_count(part) < retries and failed:
            found.append((part, failed))
    return found


def _submit_request(
    desired: DesiredResource,
    prefix: str,
    number: int,
    recipients: Sequence[Recipient],
    *,
    supplemental: bool = False,
) -> Request:
    body: dict[str, Any] = {
        "call_name": part_name(desired.key.name, number),
        "agent_id": desired.spec["agent_id"],
    }
    # A supplemental part starts at once (after the hold apply adds): the campaign it extends
    # has started already.
    if not supplemental and "scheduled_time_unix" in desired.spec:
        body["scheduled_time_unix"] = desired.spec["scheduled_time_unix"]
    for field in BATCH_FIELDS:
        if field.submit not in ("agent_id", "scheduled_time_unix") and field.submit in desired.spec:
            body[field.submit] = desired.spec[field.submit]
    # Recipients last: a shortened rendering of the body still shows the batch's own fields.
    body["recipients"] = [dict(r.payload) for r in recipients]
    what = "supplemental batch" if supplemental else "batch"
    return Request(
        "POST",
        f"{prefix}/submit",
        body,
        description=f"{what} {body['call_name']!r}: {count(len(recipients), 'recipient')}",
        # The batch's id, for apply's result line (every answer of the vendors' models has it).
        capture="id",
    )


def _state(batch_states: set[str | None]) -> str:
    if batch_states <= {"cancelled"}:
        return "cancelled"
    if batch_states <= FINISHED | {"cancelled"}:
        return "ended"
    if batch_states == {"pending"}:
        return "scheduled"
    return "running"


def _part_summary(part: Part) -> dict[str, JSON]:
    return {
        "id": part.id,
        "name": part.name,
        "status": part.status,
        "retry_count": _retry_count(part),
        "scheduled_time_unix": part.batch.get("scheduled_time_unix"),
        "total_calls_dispatched": part.batch.get("total_calls_dispatched"),
        "total_calls_finished": part.batch.get("total_calls_finished"),
    }


def _when(desired: DesiredResource) -> str:
    seconds = desired.spec.get("scheduled_time_unix")
    if seconds is None:
        return "starts as soon as it is submitted (no scheduledTime)"
    return f"scheduled for {_iso(int(seconds))}"


BATCH_CALL = BatchCallType()
"""The one `BatchCall` type, shared by both presets' providers."""
