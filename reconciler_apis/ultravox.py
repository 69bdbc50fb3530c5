"""The Ultravox API's defaults and server-filled fields, with where each is documented.

Sources: `shared/api/ultravox-openapi.yaml` (Ultravox's own OpenAPI schema: the descriptions
say "Defaults to ..."), seed 001 (the created calls of a batch, as the docs show one) and seed
003 (PATCH agent). Every answer's fields are the OpenAPI response schema's (the tests validate
each answer the emulator gives against it); this table holds what the schema can only say in
prose. The emulator writes the `shown` defaults into its answers; the product treats every one
as equal to its absence. Pure data.
"""

from __future__ import annotations

from reconciler_apis.defaults import Default

SCHEMA = "Ultravox OpenAPI"

CALL_TEMPLATE_DEFAULTS: tuple[Default, ...] = (
    Default(
        "joinTimeout",
        "30s",
        f"{SCHEMA} ultravox.v1.CallTemplate: 'Defaults to 30 seconds'",
        shown=True,
    ),
    Default(
        "maxDuration",
        "3600s",
        f"{SCHEMA} ultravox.v1.CallTemplate: 'Defaults to 1 hour'",
        shown=True,
    ),
    Default(
        "initialOutputMedium",
        "MESSAGE_MEDIUM_VOICE",
        f"{SCHEMA} ultravox.v1.CallTemplate: 'Defaults to voice'",
        shown=True,
    ),
    Default(
        "firstSpeakerSettings",
        {"agent": {}},
        f"{SCHEMA} ultravox.v1.CallTemplate: 'Defaults to `agent: {{}}`'",
        shown=True,
    ),
    Default("temperature", 0, f"{SCHEMA} ultravox.v1.CallTemplate: 'Defaults to 0'"),
    Default(
        "vadSettings.turnEndpointDelay",
        "0.384s",
        f"{SCHEMA} ultravox.v1.VadSettings: 'Defaults to \"0.384s\"'",
    ),
    Default(
        "vadSettings.minimumTurnDuration",
        "0s",
        f"{SCHEMA} ultravox.v1.VadSettings: 'Defaults to \"0s\"'",
    ),
    Default(
        "vadSettings.minimumInterruptionDuration",
        "0.09s",
        f"{SCHEMA} ultravox.v1.VadSettings: 'Defaults to \"0.09s\"'",
    ),
    Default(
        "vadSettings.frameActivationThreshold",
        0.1,
        f"{SCHEMA} ultravox.v1.VadSettings: 'Miniumum value is 0.1, which is the default value'",
    ),
)
"""Defaults of an agent's `callTemplate`, by path inside it."""

SERVER_MODEL = "fixie-ai/ultravox"
"""What answers show for `callTemplate.model` when none was set: seed 001 and seed 003 show
`fixie-ai/ultravox`, while the schema says it "currently defaults to ultravox-v0.7"; the
product accepts whatever the server holds while a manifest leaves `model` out."""

SCHEDULED_BATCH_DEFAULTS: tuple[Default, ...] = (
    Default(
        "paused",
        False,
        f"{SCHEMA} ScheduledCallBatch.paused (a boolean that is not nullable: unset reads false)",
        shown=True,
    ),
)

CREATED_CALL_NULLS: tuple[Default, ...] = (
    Default(
        "billedSideInputTokens",
        None,
        f"{SCHEMA} Call: required, nullable; null for a call that billed no side tokens",
        shown=True,
    ),
    Default(
        "billedSideOutputTokens",
        None,
        f"{SCHEMA} Call: required, nullable; null for a call that billed no side tokens",
        shown=True,
    ),
    Default(
        "sipDetails",
        None,
        f"{SCHEMA} Call: required, nullable ('SIP details for the call, if applicable'); seed "
        "001 shows {billedDuration, terminationReason} for a SIP call",
        shown=True,
    ),
)
"""Required fields of a created Call that are null unless the call was of their kind."""
