"""Threetone's batch-calling API (`/v1/voiceai/batch-calling`), as its own documentation shows
it: seed 002 (`shared/seeds/002_*.txt`, the "Submit A Batch Call Request" page).

Seed 002 gives the submit request (with `OutboundCallRecipient` and its
`conversation_initiation_client_data`, example values and the schema default `"unknown"` of
`source_info.source`) and the submit response (`BatchCallResponse`, with the published defaults
of its counters). It is narrower than ElevenLabs' API of the same shape: no `timezone`,
`branch_id`, `environment`, `telephony_call_config` or `target_concurrency_limit`, a smaller
recipient override, no `agent_id` filter on the workspace listing, no export. What seed 002 does
not show (the workspace listing, `GET {id}` with its recipients, cancel, retry, delete) follows
DESIGN.md ("ElevenLabs' API has the same shape"): the same response model, the recipients of
ElevenLabs' `OutboundCallRecipientResponseModel` carrying seed 002's client data. Pure data.
"""

from __future__ import annotations

from reconciler_apis.batchcalling import BatchCallingApi
from reconciler_apis.model import COMPUTED, ECHO, INVENTED, Field, Model, plain

SEED = "seed 002 (Threetone, Submit A Batch Call Request)"
ASSUMED = "DESIGN.md: the shape of ElevenLabs' API (not in seed 002)"
PREFIX = "/v1/voiceai/batch-calling"
KEY_HEADER = "x-api-key"

WHATSAPP_PARAMS = Model(
    "BatchCallWhatsAppParams",
    SEED + ", response example",
    plain(
        "whatsapp_call_permission_request_template_name "
        "whatsapp_call_permission_request_template_language_code whatsapp_phone_number_id"
    ),
    notes=(
        "the same type name as ElevenLabs' BatchCallWhatsAppParams, whose template name and "
        "language code are required"
    ),
)
WHATSAPP_REQUIRED = (
    "whatsapp_call_permission_request_template_name",
    "whatsapp_call_permission_request_template_language_code",
)

BATCH = Model(
    "BatchCallResponse",
    SEED + ", Response",
    (
        Field("id", origin=INVENTED),
        Field("name"),
        Field("agent_id"),
        Field("created_at_unix", origin=INVENTED),
        Field("scheduled_time_unix"),
        Field("last_updated_at_unix", origin=INVENTED),
        Field("status", origin=COMPUTED),
        Field("agent_name", origin=INVENTED),
        Field("phone_number_id"),
        Field("phone_provider", origin=INVENTED),
        Field("whatsapp_params", model=WHATSAPP_PARAMS),
        Field("total_calls_dispatched", default=0, origin=COMPUTED, source=SEED + ": default:0"),
        Field("total_calls_scheduled", default=0, origin=COMPUTED, source=SEED + ": default:0"),
        Field("total_calls_finished", default=0, origin=COMPUTED, source=SEED + ": default:0"),
        Field("retry_count", default=0, origin=COMPUTED, source=SEED + ": default:0"),
    ),
    notes="phone_provider is one of twilio, vobiz, sip_trunk (seed 002)",
)

SOURCE_INFO = Model(
    "ConversationInitiationSourceInfo",
    SEED + ", request example",
    (
        Field("source", default="unknown", source=SEED + ": the example's schema default"),
        Field("version"),
    ),
)
CONFIG_OVERRIDE = Model(
    "ConversationConfigClientOverride",
    SEED + ", request example",
    (
        Field(
            "turn",
            model=Model(
                "TurnConfigOverride",
                SEED,
                (
                    Field(
                        "soft_timeout_config",
                        model=Model("SoftTimeoutConfigOverride", SEED, plain("message")),
                    ),
                ),
            ),
        ),
        Field(
            "tts",
            model=Model(
                "TtsConversationalConfigOverride",
                SEED,
                plain("voice_id stability speed similarity_boost"),
            ),
        ),
        Field("conversation", model=Model("ConversationConfigOverride", SEED, plain("text_only"))),
        Field(
            "agent",
            model=Model(
                "AgentConfigOverride",
                SEED,
                (
                    *plain("first_message language"),
                    Field(
                        "prompt",
                        model=Model(
                            "PromptAgentApiModelOverride",
                            SEED,
                            plain("prompt llm native_mcp_server_ids"),
                        ),
                    ),
                ),
            ),
        ),
    ),
)
CLIENT_DATA = Model(
    "ConversationInitiationClientData",
    SEED + ", request example",
    (
        Field("conversation_config_override", model=CONFIG_OVERRIDE),
        Field("custom_llm_extra_body", opaque=True),
        Field("user_id"),
        Field("source_info", model=SOURCE_INFO),
        Field("dynamic_variables", opaque=True),
    ),
)
RECIPIENT = Model(
    "OutboundCallRecipientResponseModel",
    ASSUMED,
    (
        Field("id", origin=ECHO, source="echoed when sent, else invented"),
        Field("phone_number"),
        Field("whatsapp_user_id"),
        Field("status", origin=COMPUTED),
        Field("created_at_unix", origin=INVENTED),
        Field("updated_at_unix", origin=INVENTED),
        Field("conversation_id", origin=INVENTED),
        Field("conversation_initiation_client_data", model=CLIENT_DATA),
    ),
)
DETAILED_BATCH = BATCH.extended(
    "BatchCallDetailedResponse",
    ASSUMED,
    Field("recipients", model=RECIPIENT, many=True),
)
WORKSPACE = Model(
    "WorkspaceBatchCallsResponse",
    "DESIGN.md (limit <= 500, last_doc -> next_doc, has_more)",
    (
        Field("batch_calls", model=BATCH, many=True, origin=COMPUTED),
        Field("next_doc", origin=COMPUTED),
        Field("has_more", origin=COMPUTED),
    ),
)

SUBMIT = Model(
    "SubmitBatchCallRequest",
    SEED + ", Body",
    (
        *plain("call_name agent_id"),
        Field("recipients", many=True, opaque=True),
        *plain("scheduled_time_unix agent_phone_number_id"),
        Field("whatsapp_params", model=WHATSAPP_PARAMS),
    ),
    notes="call_name, agent_id and recipients are required; at most 10,000 recipients",
)
SUBMIT_REQUIRED = ("call_name", "agent_id", "recipients")
RECIPIENT_REQUEST = Model(
    "OutboundCallRecipient",
    SEED + ", request example",
    (
        *plain("id phone_number whatsapp_user_id"),
        Field("conversation_initiation_client_data", model=CLIENT_DATA),
    ),
)

LIST_PARAMETERS = ("limit", "last_doc")
"""DESIGN.md: the workspace listing pages with `limit` and `last_doc`; no agent filter."""
FILTERS_BY_AGENT = False

OPERATIONS: tuple[tuple[str, str, Model | None], ...] = (
    ("POST", "/submit", BATCH),
    ("GET", "/workspace", WORKSPACE),
    ("GET", "/{batch_id}", DETAILED_BATCH),
    ("DELETE", "/{batch_id}", None),
    ("POST", "/{batch_id}/cancel", BATCH),
    ("POST", "/{batch_id}/retry", BATCH),
)

API = BatchCallingApi(
    vendor="threetone",
    prefix=PREFIX,
    key_header=KEY_HEADER,
    source=SEED,
    batch=BATCH,
    detailed_batch=DETAILED_BATCH,
    workspace=WORKSPACE,
    submit=SUBMIT,
    submit_required=SUBMIT_REQUIRED,
    whatsapp_required=WHATSAPP_REQUIRED,
    list_parameters=LIST_PARAMETERS,
    filters_by_agent=FILTERS_BY_AGENT,
    operations=OPERATIONS,
)
