"""Batch calling (Threetone, and ElevenLabs' API of the same shape): the `BatchCall` type.

Owns how a campaign maps onto an API whose batches cannot be modified after submission, with
safety first (nobody is dialled twice):
- identity: the batch's `call_name` (the manifest name) and its agent, read back by listing
  the workspace. A resource may span several API batches ("parts"): the first is named
  `<name>`, supplemental ones holding only recipients added later `<name>~2`, `<name>~3`, ...
  A batch cancelled before anyone was dialled (what a replace leaves behind) is history and
  no part. Two parts that claim the same place and cannot be told apart are an error.
- recipients carry stable ids (the manifest's `id`, else a hash of the number), so the
  recipients of a live batch (`GET {prefix}/{id}`, read only for the managed names) are
  recognised; matching also falls back to the hashed number, so a number already submitted
  is never submitted again.
- plan semantics: absent -> submit; while pending and undialled any change -> replace (cancel,
  then submit); once calls started, added recipients -> a supplemental part with only them,
  anything else -> a refusal; `cancelled: true` -> cancel; `retries: N` -> retry each
  finished part with failed calls until its `retry_count` reaches N. Batches named like a
  managed one are never pruned (the workspace cannot say which batches this tool made).
- no duplicate submissions: there is no idempotency key; the client never repeats a POST
  whose answer was lost, the change fails, and the next plan lists the workspace again.
Every path is built from the effective settings' `path_prefix` (environment overrides).
Must not import httpx or deepdiff.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel

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
from reconciler.core.errors import Diagnostic, ManifestError, PlanError
from reconciler.core.normalize import NormalizationTable
from reconciler.core.planning import PlanOptions, additions, compare
from reconciler.manifests.fields import prevents_destroy
from reconciler.providers.base import Api, ProviderSettings, ResourceType
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
from reconciler.providers.batchcalling.pagination import LastDocPagination
from reconciler.providers.campaigns.state import (
    DesiredCampaign,
    LiveCampaign,
    LiveRecipient,
    Part,
    Recipient,
    desired_campaign,
    live_campaign,
)

THREETONE = ProviderSettings(
    name="threetone",
    base_url_env="THREETONE_BASE_URL",
    default_base_url="https://api.threetone.in",
    api_key_env="THREETONE_API_KEY",
    api_key_header="x-api-key",
    pagination=LastDocPagination(),
    page_size=500,
    path_prefix="/v1/voiceai/batch-calling",
)

ELEVENLABS = ProviderSettings(
    name="elevenlabs",
    base_url_env="ELEVENLABS_BASE_URL",
    default_base_url="https://api.elevenlabs.io",
    api_key_env="ELEVENLABS_API_KEY",
    api_key_header="xi-api-key",
    pagination=LastDocPagination(),
    # ElevenLabs documents a default of 100 and no maximum; 100 is surely accepted.
    page_size=100,
    path_prefix="/v1/convai/batch-calling",
)

PRESETS: Mapping[str, ProviderSettings] = {s.name: s for s in (THREETONE, ELEVENLABS)}

# What a live batch is compared on, in the submit body's names. The response calls the
# caller number `phone_number_id`; `_comparable` renames it. Fields the manifest leaves out
# are the server's choice (`scheduled_time_unix` then is the submission time).
BATCH_TABLE = NormalizationTable(
    server_computed=("scheduled_time_unix", "agent_phone_number_id", "whatsapp_params"),
)

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
RETRYABLE = frozenset({"failed", "voicemail"})
FINISHED_CALLS = frozenset({"completed", "failed", "voicemail"})
ACTIVE = frozenset({"pending", "in_progress"})
FINISHED = frozenset({"completed", "failed"})
MAX_SHOWN = 5
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


def _clean(value: Any) -> Any:
    """`None` and empty objects are absence, on both sides."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _recipient_list(recipients: Sequence[Recipient]) -> str:
    shown = ", ".join(mask(r.number) for r in recipients[:MAX_SHOWN])
    more = len(recipients) - MAX_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _live_recipient(raw: Mapping[str, Any]) -> LiveRecipient:
    """What the plan keeps of a live recipient: its ids, status and data, a masked number."""
    return LiveRecipient(
        key=_text(raw.get("id")),
        reach=destination_key(dict(raw)),
        status=str(raw.get("status")),
        masked=mask(destination(dict(raw))),
        call_id=_text(raw.get("conversation_id")) or _text(raw.get("id")),
        # Absent when the server does not echo it: then it is not compared.
        sent=_clean(raw["conversation_initiation_client_data"] or {})
        if "conversation_initiation_client_data" in raw
        else None,
    )


class BatchCallType(ResourceType):
    """One type serving both presets: `desired.provider` / `api.settings` say which."""

    kind: ClassVar[str] = "BatchCall"
    provider: ClassVar[str] = "threetone"
    order: ClassVar[int] = 20
    manifest_model: ClassVar[type[BaseModel]] = BatchCallManifest
    export_directory: ClassVar[str] = "batchcalls"
    table: ClassVar[NormalizationTable] = BATCH_TABLE

    # ---- manifests -> desired -------------------------------------------------------------

    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        assert isinstance(manifest, BatchCallManifest)
        problems: list[Diagnostic] = []
        located = [(source.file, source.line, dump(r)) for r in manifest.recipients or []]
        if manifest.recipientsFrom is not None:
            from_file, file_problems = load_recipients(manifest.recipientsFrom, source.file)
            located += from_file
            problems += file_problems
        if len(located) > MAX_RECIPIENTS:
            problems.append(
                Diagnostic(
                    source.file,
                    source.line,
                    f"a batch holds at most {MAX_RECIPIENTS:,} recipients (the API's limit), "
                    f"found {len(located):,}: split them into several BatchCalls",
                )
            )
        seen: dict[str, tuple[str, int]] = {}
        recipients: list[Recipient] = []
        for file, line, recipient in located:
            ident = recipient_id(recipient)
            keys = {f"id:{ident}", destination_key(recipient)}
            first = next((seen[k] for k in keys if k in seen), None)
            if first is not None:
                # Inline duplicates are reported by the model at their own line.
                if file != source.file or first[0] != source.file:
                    problems.append(
                        Diagnostic(
                            file,
                            line,
                            f"recipient {mask(destination(recipient))} is listed twice in "
                            f"BatchCall {manifest.name!r} (first at {first[0]}:{first[1]})",
                        )
                    )
                continue
            for key in keys:
                seen[key] = (file, line)
            payload = {"id": ident, **{k: v for k, v in recipient.items() if k != "id"}}
            recipients.append(
                Recipient(ident, destination(recipient), payload, destination_key(recipient))
            )
        if problems:
            raise ManifestError(problems)
        spec: dict[str, Any] = {"agent_id": manifest.agentId}
        if manifest.scheduledTime is not None:
            spec["scheduled_time_unix"] = manifest.scheduledTime
        if manifest.agentPhoneNumberId is not None:
            spec["agent_phone_number_id"] = manifest.agentPhoneNumberId
        if manifest.whatsappParams is not None:
            spec["whatsapp_params"] = manifest.whatsappParams.model_dump(exclude_none=True)
        return DesiredResource(
            key=ResourceKey(self.kind, manifest.name),
            provider=manifest.provider,
            spec=spec,
            source=source,
            prevent_destroy=prevents_destroy(manifest.lifecycle),
            detail=DesiredCampaign(
                recipients=tuple(recipients),
                agent_id=manifest.agentId,
                cancelled=manifest.cancelled,
                retries=manifest.retries,
            ),
        )

    # ---- live -------------------------------------------------------------------------------

    async def read(
        self,
        api: Api,
        desired: Sequence[DesiredResource],
        known: Sequence[LiveResource] = (),
    ) -> list[LiveResource]:
        """List the workspace; read recipients of the managed names' batches only.

        Without desired resources (a saved plan's staleness check) every name is returned,
        without recipients; the digest covers list items only (`_decisive`), so it is the
        same either way.
        """
        prefix = api.settings.path_prefix
        items = await api.list_all(f"{prefix}/workspace")
        names = {d.key.name for d in desired}
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            base, _ = parse_part(str(item.get("name") or ""))
            if not base or (names and base not in names):
                continue
            groups.setdefault(base, []).append(item)

        managed = [i for base in groups if base in names for i in groups[base] if not is_history(i)]
        # The API lists batches without recipients; one GET per batch is its only way.
        details = await asyncio.gather(
            *(api.get(f"{prefix}/{_quoted(str(i['id']))}") for i in managed)
        )
        recipients = {
            str(item["id"]): tuple(
                _live_recipient(r)
                for r in (detail.get("recipients") if isinstance(detail, dict) else None) or []
                if isinstance(r, dict)
            )
            for item, detail in zip(managed, details, strict=True)
        }
        live: list[LiveResource] = []
        for base, group in sorted(groups.items()):
            group.sort(key=_created)
            parts = [
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
            ]
            if not parts:
                continue  # only history: the resource is absent
            parts.sort(key=lambda p: (p.number, _created(p.batch)))
            live.append(
                LiveResource(
                    key=ResourceKey(self.kind, base),
                    provider=api.settings.name,
                    id=parts[0].id,
                    body=parts[0].batch,
                    digest=fingerprint([_decisive(item) for item in group]),
                    detail=LiveCampaign(
                        parts=tuple(parts),
                        history=tuple(str(i["id"]) for i in group if is_history(i)),
                    ),
                )
            )
        return live

    # ---- plan -------------------------------------------------------------------------------

    def plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        if desired is None:
            # Never pruned: nothing in the workspace says which batches this tool made.
            return None
        prefix = _prefix(desired.provider, options)
        cancelled = desired_campaign(desired).cancelled
        if live is None:
            if cancelled:
                return None
            return self._submit(desired, prefix)
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
            fields=additions(desired, self.table),
            requests=(_submit_request(desired, prefix, 1, recipients),),
            notes=(
                f"{len(recipients)} recipients: {_recipient_list(recipients)}",
                _when(desired),
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
            requests=tuple(
                Request("POST", f"{prefix}/{_quoted(p.id)}/cancel", None, f"cancel {p.name}")
                for p in active
            ),
            resource_id=live.id,
            notes=(
                f"{waiting} recipient(s) not yet dialled are cancelled; calls already under way "
                "finish. Cancelling is one-way.",
            ),
        )

    def _plan_existing(
        self,
        desired: DesiredResource,
        live: LiveResource,
        parts: Sequence[Part],
        prefix: str,
    ) -> Change | None:
        key = desired.key
        numbers = Counter(p.number for p in parts)
        clashes = sorted(n for n, count in numbers.items() if count > 1)
        if clashes:
            raise PlanError(
                "; ".join(
                    f"{key}: live batches {', '.join(p.id for p in parts if p.number == n)} "
                    f"all claim to be {part_name(key.name, n)!r} and cannot be told apart; "
                    "cancel or delete the extra one(s) in the console, then plan again"
                    for n in clashes
                )
            )
        first = parts[0]
        comparable = LiveResource(live.key, live.provider, first.id, _comparable(first), "")
        fields = compare(desired, comparable, self.table)
        live_recipients = [r for p in parts for r in p.recipients]
        campaign = desired_campaign(desired)
        added, removed, changed = _recipient_changes(campaign.recipients, live_recipients)
        started = any(
            p.status != "pending" or any(r.status not in UNDIALLED for r in p.recipients)
            for p in parts
        )
        if not started:
            if not (fields or added or removed or changed):
                return None
            return self._replace(desired, live, parts, prefix, fields, (added, removed, changed))

        refusals: list[str] = []
        cancelled = [p.id for p in parts if p.status == "cancelled"]
        if cancelled:
            refusals.append(
                f"it was cancelled after calls started (batch {', '.join(cancelled)}), and a "
                "cancelled batch cannot be resumed; keep `cancelled: true`, and put the "
                "recipients still to call in a new BatchCall (a new name)"
            )
        if fields:
            names = ", ".join(sorted({f.path.split(".")[0] for f in fields}))
            refusals.append(
                f"{names} cannot change: calls started, and a batch cannot be modified after "
                "submission; put the value back, or use a new BatchCall (a new name)"
            )
        if removed:
            refusals.append(
                f"{len(removed)} recipient(s) were removed from the manifest after calls "
                f"started ({', '.join(r.masked for r in removed[:MAX_SHOWN])}); the API cannot "
                "take recipients out of a batch. Put them back, or set `cancelled: true`"
            )
        if changed:
            refusals.append(
                f"{len(changed)} recipient(s) changed after calls started "
                f"({_recipient_list(changed)}); a submitted recipient cannot be modified. Put "
                "the old values back, or call them in a new BatchCall (a new name)"
            )
        if refusals:
            raise PlanError(f"{key}: " + "; ".join(refusals) + ".")

        requests: list[Request] = []
        notes: list[str] = []
        if added:
            number = max(p.number for p in parts) + 1
            requests.append(_submit_request(desired, prefix, number, added, supplemental=True))
            notes.append(
                f"{len(added)} recipient(s) added after calls started, submitted as "
                f"{part_name(key.name, number)!r} holding only them: {_recipient_list(added)}"
            )
        wanted_retries = campaign.retries
        if wanted_retries:
            for part in parts:
                failed = sum(1 for r in part.recipients if r.status in RETRYABLE)
                retried = _retry_count(part)
                if part.status in FINISHED and retried < wanted_retries and failed:
                    requests.append(
                        Request(
                            "POST",
                            f"{prefix}/{_quoted(part.id)}/retry",
                            None,
                            f"retry {part.name}",
                        )
                    )
                    notes.append(
                        f"{part.name!r} finished with {failed} failed or voicemail call(s); "
                        f"retry {retried + 1} of {wanted_retries}"
                    )
        if not requests:
            return None
        return Change(
            key=key,
            provider=desired.provider,
            action=Action.UPDATE,
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
        recipient_changes: tuple[list[Recipient], list[LiveRecipient], list[Recipient]],
    ) -> Change:
        added, removed, changed = recipient_changes
        recipients = desired_campaign(desired).recipients
        requests = [
            Request("POST", f"{prefix}/{_quoted(p.id)}/cancel", None, f"cancel {p.name}")
            for p in parts
        ]
        requests.append(_submit_request(desired, prefix, 1, recipients))
        notes = [
            "a batch cannot be modified after submission; nobody has been dialled yet, so it "
            "is cancelled and submitted again",
        ]
        if added or removed or changed:
            notes.append(
                f"recipients: {len(added)} added, {len(removed)} removed, {len(changed)} changed"
            )
        notes += [f"{len(recipients)} recipients: {_recipient_list(recipients)}", _when(desired)]
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

    # ---- status -----------------------------------------------------------------------------

    async def status(
        self, api: Api, desired: DesiredResource, live: LiveResource | None
    ) -> dict[str, JSON] | None:
        report: dict[str, JSON] = {
            "kind": self.kind,
            "name": desired.key.name,
            "provider": desired.provider,
            "recipients": len(desired_campaign(desired).recipients),
        }
        if live is None:
            state = "cancelled" if desired_campaign(desired).cancelled else "not created"
            return {**report, "state": state, "total": 0, "completed": 0}
        parts, _ = _select(desired, live)
        statuses = dict.fromkeys(RECIPIENT_STATUSES, 0)
        calls: list[dict[str, JSON]] = []
        for part in parts:
            for recipient in part.recipients:
                status = recipient.status
                statuses[status] = statuses.get(status, 0) + 1
                if status in FINISHED_CALLS:
                    calls.append(
                        {"callId": recipient.call_id, "to": recipient.masked, "endReason": status}
                    )
        batch_states = {p.status for p in parts}
        if batch_states <= {"cancelled"}:
            state = "cancelled"
        elif batch_states <= FINISHED | {"cancelled"}:
            state = "ended"
        elif batch_states == {"pending"}:
            state = "scheduled"
        else:
            state = "running"
        return {
            **report,
            "state": state,
            "batches": [
                {
                    "id": p.id,
                    "name": p.name,
                    "status": p.status,
                    "retry_count": _retry_count(p),
                    "scheduled_time_unix": p.batch.get("scheduled_time_unix"),
                    "total_calls_dispatched": p.batch.get("total_calls_dispatched"),
                    "total_calls_finished": p.batch.get("total_calls_finished"),
                }
                for p in parts
            ],
            "total": sum(statuses.values()),
            "completed": sum(statuses[s] for s in FINISHED_CALLS),
            "statuses": statuses,
            "endReasons": {s: statuses[s] for s in sorted(FINISHED_CALLS) if statuses[s]},
            "calls": calls,
        }


# --- helpers (pure) ----------------------------------------------------------------------------


def _prefix(provider: str, options: PlanOptions) -> str:
    if provider in options.path_prefixes:
        return options.path_prefixes[provider]
    return PRESETS[provider].path_prefix


def _quoted(ident: str) -> str:
    """An id as one path segment."""
    return quote(ident, safe="")


def _retry_count(part: Part) -> int:
    return _int(part.batch.get("retry_count"))


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


def _comparable(part: Part) -> dict[str, Any]:
    """A live batch in the submit body's names, for `compare`."""
    batch = part.batch
    comparable: dict[str, Any] = _clean(
        {
            "agent_id": batch.get("agent_id"),
            "scheduled_time_unix": batch.get("scheduled_time_unix"),
            "agent_phone_number_id": batch.get("phone_number_id"),
            "whatsapp_params": batch.get("whatsapp_params"),
        }
    )
    return comparable


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


def _recipient_changes(
    wanted: Sequence[Recipient], live: Sequence[LiveRecipient]
) -> tuple[list[Recipient], list[LiveRecipient], list[Recipient]]:
    """(added, removed, changed): by recipient id, and by hashed number as a safety net."""
    by_id = {r.key: r for r in live if r.key}
    by_key = {r.reach: r for r in live}
    wanted_ids = {w.key for w in wanted}
    wanted_keys = {w.reach for w in wanted}
    added: list[Recipient] = []
    changed: list[Recipient] = []
    for recipient in wanted:
        match = by_id.get(recipient.key) or by_key.get(recipient.reach)
        if match is None:
            added.append(recipient)
            continue
        data = _clean(recipient.payload.get("conversation_initiation_client_data") or {})
        moved = match.reach != recipient.reach
        if moved or (match.sent is not None and match.sent != data):
            changed.append(recipient)
    removed = [r for r in live if r.key not in wanted_ids and r.reach not in wanted_keys]
    return added, removed, changed


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
    # A supplemental part starts at once: the campaign it extends has started already.
    if not supplemental and "scheduled_time_unix" in desired.spec:
        body["scheduled_time_unix"] = desired.spec["scheduled_time_unix"]
    for name in ("agent_phone_number_id", "whatsapp_params"):
        if name in desired.spec:
            body[name] = desired.spec[name]
    # Recipients last: a shortened rendering of the body still shows the batch's own fields.
    body["recipients"] = [dict(r.payload) for r in recipients]
    what = "supplemental batch" if supplemental else "batch"
    return Request(
        "POST",
        f"{prefix}/submit",
        body,
        description=f"{what} {body['call_name']!r}: {len(recipients)} recipients",
    )


def _when(desired: DesiredResource) -> str:
    seconds = desired.spec.get("scheduled_time_unix")
    if seconds is None:
        return "starts as soon as it is submitted (no scheduledTime)"
    return f"scheduled for {_iso(int(seconds))}"
