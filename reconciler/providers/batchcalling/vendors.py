"""What each batch-calling preset's API takes and fills in, from the vendors' own tables.

Owns the link between a `BatchCall` manifest and `reconciler_apis` (the tables the emulator
answers from, built from ElevenLabs' SDK types and Threetone's seed 002): `VENDOR_APIS` (the
table of each preset), `BATCH_FIELDS` (manifest field -> submit field -> answer field), which
manifest fields a preset's API lacks (`unsupported`), and the normalization built from the
tables, so that a default the server fills in (top level or nested, null or not) equals its
absence in the manifest: `batch_table` for the batch's own fields, `recipient_data` for a
recipient's `conversation_initiation_client_data`. Pure: must not import httpx or deepdiff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from reconciler.core.normalize import NormalizationTable, normalize
from reconciler_apis import elevenlabs, threetone
from reconciler_apis.batchcalling import BatchCallingApi
from reconciler_apis.model import Model, defaults

VENDOR_APIS: Mapping[str, BatchCallingApi] = {
    "threetone": threetone.API,
    "elevenlabs": elevenlabs.API,
}


@dataclass(frozen=True)
class BatchField:
    """One of a batch's own fields: the manifest's name, the submit request's, the answer's."""

    manifest: str
    submit: str
    answer: str


BATCH_FIELDS: tuple[BatchField, ...] = (
    BatchField("agentId", "agent_id", "agent_id"),
    BatchField("scheduledTime", "scheduled_time_unix", "scheduled_time_unix"),
    # The answer calls the caller number `phone_number_id`.
    BatchField("agentPhoneNumberId", "agent_phone_number_id", "phone_number_id"),
    BatchField("whatsappParams", "whatsapp_params", "whatsapp_params"),
    BatchField("timezone", "timezone", "timezone"),
    BatchField("telephonyCallConfig", "telephony_call_config", "telephony_call_config"),
    BatchField("targetConcurrencyLimit", "target_concurrency_limit", "target_concurrency_limit"),
    BatchField("branchId", "branch_id", "branch_id"),
    BatchField("environment", "environment", "environment"),
)
"""Every batch field a manifest may set, in the order plans show them."""

BY_SUBMIT: Mapping[str, BatchField] = {f.submit: f for f in BATCH_FIELDS}
BY_MANIFEST: Mapping[str, BatchField] = {f.manifest: f for f in BATCH_FIELDS}


def unsupported(provider: str, manifest_fields: set[str]) -> list[BatchField]:
    """The fields among `manifest_fields` that the preset's submit request does not take."""
    api = VENDOR_APIS[provider]
    return [f for f in BATCH_FIELDS if f.manifest in manifest_fields and not api.takes(f.submit)]


def supported(provider: str) -> list[str]:
    """The manifest fields the preset's API takes."""
    api = VENDOR_APIS[provider]
    return [f.manifest for f in BATCH_FIELDS if api.takes(f.submit)]


def _client_data(api: BatchCallingApi) -> Model:
    recipient = api.detailed_batch.field("recipients").model
    assert recipient is not None
    data = recipient.field("conversation_initiation_client_data").model
    assert data is not None
    return data


@cache
def batch_table(provider: str) -> NormalizationTable:
    """The batch's own fields, in the submit body's names: the defaults of the preset's submit
    model (a machine-detection rule's `action`, say) equal their absence. A field the manifest
    leaves out is the server's choice: `scheduled_time_unix` is then the submission time, and
    the server may fill the others (a branch, a zone) from the agent or the workspace."""
    api = VENDOR_APIS[provider]
    return NormalizationTable(
        defaults=defaults(api.submit),
        server_computed=tuple(
            f.submit for f in BATCH_FIELDS if f.submit != "agent_id" and api.takes(f.submit)
        ),
    )


@cache
def _data_table(provider: str) -> NormalizationTable:
    return NormalizationTable(defaults=defaults(_client_data(VENDOR_APIS[provider])))


def recipient_data(provider: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """A recipient's `conversation_initiation_client_data`, desired or live, in the form both
    compare in: nulls, the preset's published defaults (`source_info.source: "unknown"`) and
    the objects they leave empty are absence."""
    pruned: dict[str, Any] = _prune(normalize(dict(data or {}), _data_table(provider)))
    return pruned


def comparable(provider: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A batch body (desired spec or live answer in the submit's names) without nulls, the
    preset's defaults and the objects they leave empty."""
    pruned: dict[str, Any] = _prune(normalize(dict(value), batch_table(provider)))
    return pruned


def _prune(value: Any) -> Any:
    """Objects left empty once their nulls and defaults are gone are absence too."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value
