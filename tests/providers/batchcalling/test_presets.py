"""BatchCall per preset, without a network (table-driven): the fields each preset's API takes
(a field the Threetone API lacks is an error naming the preset, at its line), WhatsApp params
with their required fields, and the normalization built from the vendors' tables: a default
the server fills in (top level or nested, null or not) equals its absence.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import ManifestError
from reconciler.core.normalize import normalize
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from reconciler.providers.batchcalling.vendors import (
    BATCH_FIELDS,
    comparable,
    recipient_data,
    supported,
)
from reconciler.providers.ultravox.agents import AGENT_TABLE
from reconciler.providers.ultravox.batches import BATCH_TABLE as SCHEDULED_BATCH_TABLE
from reconciler_apis import elevenlabs as elevenlabs_api
from reconciler_apis import threetone as threetone_api
from reconciler_apis import ultravox as ultravox_api
from reconciler_apis.model import serialize

WHATSAPP = """\
whatsappParams:
  whatsapp_call_permission_request_template_name: consent
  whatsapp_call_permission_request_template_language_code: en
"""


def doc(body: str, provider: str) -> str:
    head = f"kind: BatchCall\nprovider: {provider}\nname: spring\nagentId: agent_1\n"
    return head + textwrap.dedent(body) + 'recipients:\n  - phone_number: "+14155550100"\n'


def load(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "batch.yaml"
    path.write_text(text)
    (found,) = parse_manifests([str(path)], registry.kinds(), {})
    return found


def errors(tmp_path: Path, text: str) -> str:
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, text)
    return str(caught.value)


ELEVENLABS_ONLY = [
    ("timezone: Europe/Berlin\n", "timezone", 5),
    ("telephonyCallConfig: {ringing_timeout_secs: 20}\n", "telephonyCallConfig", 5),
    ("targetConcurrencyLimit: 4\n", "targetConcurrencyLimit", 5),
    ("branchId: branch_1\n", "branchId", 5),
    ("environment: staging\n", "environment", 5),
]


@pytest.mark.parametrize(
    ("body", "field", "line"), ELEVENLABS_ONLY, ids=[f for _, f, _ in ELEVENLABS_ONLY]
)
def test_a_field_the_threetone_api_lacks_is_an_error_naming_the_preset(
    tmp_path: Path, body: str, field: str, line: int
) -> None:
    message = errors(tmp_path, doc(body, "threetone"))
    submit = next(f.submit for f in BATCH_FIELDS if f.manifest == field)
    assert f"batch.yaml:{line}: {field}: the threetone API has no {submit}" in message
    assert "seed 002" in message and "use a provider whose API has it (elevenlabs)" in message
    # ElevenLabs' API takes it, and the plan's submit carries it.
    desired = load(tmp_path, doc(body, "elevenlabs"))
    assert submit in desired.spec


def test_each_preset_supports_what_its_api_takes() -> None:
    assert supported("threetone") == [
        "agentId",
        "scheduledTime",
        "agentPhoneNumberId",
        "whatsappParams",
    ]
    assert supported("elevenlabs") == [f.manifest for f in BATCH_FIELDS]


BAD_FIELDS = [
    (
        "whatsappParams: {whatsapp_phone_number_id: wa_1}\n",
        "whatsappParams.whatsapp_call_permission_request_template_name: required field is missing",
    ),
    (
        "whatsappParams:\n  whatsapp_call_permission_request_template_name: consent\n",
        "whatsappParams.whatsapp_call_permission_request_template_language_code: "
        "required field is missing",
    ),
    (
        "telephonyCallConfig: {twilio_machine_detection: {mode: sometimes}}\n",
        "'sometimes' is not one of enable, detect_message_end",
    ),
    (
        "telephonyCallConfig:\n  twilio_machine_detection: {actions: [{action: hang_up}]}\n",
        "answered_by: required field is missing",
    ),
    (
        "telephonyCallConfig:\n  twilio_machine_detection: {actions: [{answered_by: [robot]}]}\n",
        "'robot' is not one of human, fax",
    ),
    ("telephonyCallConfig: {ringing_timeout_secs: 0}\n", "ringing_timeout_secs"),
    ("targetConcurrencyLimit: 0\n", "targetConcurrencyLimit"),
    ("telephonyCallConfig: {ring: 5}\n", "telephonyCallConfig.ring: unknown field"),
]


@pytest.mark.parametrize(("body", "message"), BAD_FIELDS)
def test_bad_preset_fields_name_the_field(tmp_path: Path, body: str, message: str) -> None:
    assert message in errors(tmp_path, doc(body, "elevenlabs"))


def test_whatsapp_params_with_their_required_fields_on_both_presets(tmp_path: Path) -> None:
    for provider in ("threetone", "elevenlabs"):
        desired = load(tmp_path, doc(WHATSAPP, provider))
        assert desired.spec["whatsapp_params"] == {
            "whatsapp_call_permission_request_template_name": "consent",
            "whatsapp_call_permission_request_template_language_code": "en",
        }


# --- normalization from the tables --------------------------------------------------------

SENT_DATA: list[dict[str, Any]] = [
    {},
    {"source_info": {}},
    {"source_info": {"version": "1.2"}},
    {"source_info": {"source": "unknown"}},
    {"dynamic_variables": {"name": "Ada", "visits": 3}, "user_id": "u-1"},
    {"conversation_config_override": {"agent": {"first_message": "Hi", "prompt": {"llm": "x"}}}},
    {"conversation_config_override": {"tts": {"speed": 1.1}}, "custom_llm_extra_body": {}},
]


def _filled(provider: str, sent: dict[str, Any]) -> dict[str, Any]:
    """The data as the vendor answers it: the tables the emulator serializes with."""
    api = elevenlabs_api if provider == "elevenlabs" else threetone_api
    return serialize(api.CLIENT_DATA, sent)


@pytest.mark.parametrize("provider", ["threetone", "elevenlabs"])
@pytest.mark.parametrize("sent", SENT_DATA, ids=[str(i) for i in range(len(SENT_DATA))])
def test_a_recipients_data_as_the_server_fills_it_equals_what_was_sent(
    provider: str, sent: dict[str, Any]
) -> None:
    assert recipient_data(provider, _filled(provider, sent)) == recipient_data(provider, sent)


NOT_DEFAULTS = [
    ({"source_info": {"source": "widget"}}, {}),
    ({"dynamic_variables": {"name": "Ada"}}, {"dynamic_variables": {"name": "Bea"}}),
    ({"conversation_config_override": {"tts": {"speed": 1.0}}}, {}),
    ({"user_id": "u-1"}, {"user_id": "u-2"}),
]


@pytest.mark.parametrize(("live", "wanted"), NOT_DEFAULTS)
def test_a_value_that_is_not_the_default_still_differs(
    live: dict[str, Any], wanted: dict[str, Any]
) -> None:
    for provider in ("threetone", "elevenlabs"):
        assert recipient_data(provider, _filled(provider, live)) != recipient_data(provider, wanted)


def test_an_explicit_null_is_absence_too() -> None:
    assert recipient_data("elevenlabs", {"source_info": {"source": None}, "user_id": None}) == {}


BATCHES = [
    {"agent_id": "a"},
    {"agent_id": "a", "telephony_call_config": {"ringing_timeout_secs": 20}},
    {
        "agent_id": "a",
        "telephony_call_config": {
            "twilio_machine_detection": {"actions": [{"answered_by": ["fax"]}]}
        },
    },
    {"agent_id": "a", "whatsapp_params": {"whatsapp_call_permission_request_template_name": "c"}},
]


@pytest.mark.parametrize("sent", BATCHES)
def test_a_batch_as_the_server_fills_it_equals_what_was_sent(sent: dict[str, Any]) -> None:
    answer = serialize(elevenlabs_api.BATCH, sent)
    live = {f.submit: answer.get(f.answer) for f in BATCH_FIELDS if f.answer in answer}
    assert comparable("elevenlabs", live) == comparable("elevenlabs", sent)


def test_the_ultravox_kinds_normalize_with_the_emulators_defaults() -> None:
    """Agent and ScheduledBatch: every default the emulator writes into its answers (the same
    table) equals its absence, written out or not."""
    shown = {d.path: d.value for d in ultravox_api.CALL_TEMPLATE_DEFAULTS if d.shown}
    assert shown, "the emulator fills some in"
    wanted = normalize({"callTemplate": {"systemPrompt": "Hi"}}, AGENT_TABLE)
    filled = normalize({"callTemplate": {"systemPrompt": "Hi", **shown}}, AGENT_TABLE)
    assert filled == wanted
    every: dict[str, Any] = {"callTemplate": {"systemPrompt": "Hi"}}
    for default in ultravox_api.CALL_TEMPLATE_DEFAULTS:
        head, _, leaf = default.path.rpartition(".")
        node: dict[str, Any] = every["callTemplate"]
        for part in filter(None, head.split(".")):
            node = node.setdefault(part, {})
        node[leaf] = default.value
    assert normalize(every, AGENT_TABLE) == wanted
    batch = {"windowStart": None, "paused": False}
    assert normalize(batch, SCHEDULED_BATCH_TABLE) == {}


# --- reading: the agent filter ------------------------------------------------------------


class IgnoresTheFilter:
    """An ElevenLabs-preset API whose listing ignores `agent_id` (another server behind an
    overridden base URL): every listing answers the whole workspace."""

    def __init__(self, batches: list[dict[str, Any]]) -> None:
        from reconciler.providers.batchcalling import ELEVENLABS

        self.settings = ELEVENLABS.settings
        self.batches = batches
        self.listed: list[dict[str, str] | None] = []

    async def list_all(self, path: str, params: Any = None) -> list[Any]:
        self.listed.append(dict(params) if params else None)
        return [dict(b) for b in self.batches]

    async def get(self, path: str, params: Any = None) -> Any:
        return {"recipients": []}

    async def send(self, request: Any) -> Any:
        raise AssertionError("reading never sends")


def _batch(ident: str, name: str, agent: str) -> dict[str, Any]:
    return {
        "id": ident,
        "name": name,
        "agent_id": agent,
        "status": "pending",
        "created_at_unix": 1,
        "total_calls_dispatched": 0,
        "total_calls_finished": 0,
    }


def test_a_listing_that_ignores_the_agent_filter_shows_each_batch_once(tmp_path: Path) -> None:
    import asyncio

    from reconciler.providers.batchcalling import BATCH_CALL
    from reconciler.providers.campaigns.state import live_campaign

    first = load(tmp_path, doc("", "elevenlabs"))
    second = load(
        tmp_path,
        doc("", "elevenlabs").replace("name: spring", "name: autumn").replace("agent_1", "agent_2"),
    )
    api = IgnoresTheFilter(
        [
            _batch("b1", "spring", "agent_1"),
            _batch("b2", "autumn", "agent_2"),
            _batch("b3", "x", "agent_9"),
        ]
    )
    live = asyncio.run(BATCH_CALL.read(api, [first, second]))
    assert api.listed == [{"agent_id": "agent_1"}, {"agent_id": "agent_2"}]
    assert {item.key.name: [p.id for p in live_campaign(item).parts] for item in live} == {
        "autumn": ["b2"],
        "spring": ["b1"],
    }


# --- plans name fields as the manifest does ------------------------------------------------


def _plan_text(change: Any) -> tuple[str, str]:
    from reconciler.core.domain import Plan
    from reconciler.core.render import render_markdown, render_text

    shown = Plan(changes=(change,))
    return render_text(shown), render_markdown(shown)


def test_a_create_names_fields_as_the_manifest_does_and_shows_retries(tmp_path: Path) -> None:
    from reconciler.core.planning import PlanOptions
    from reconciler.providers.batchcalling import BATCH_CALL

    desired = load(
        tmp_path,
        doc(
            'scheduledTime: "2030-01-14T16:00:00Z"\nretries: 2\n'
            "telephonyCallConfig: {ringing_timeout_secs: 25}\n",
            "elevenlabs",
        ),
    )
    change = BATCH_CALL.plan(desired, None, PlanOptions())
    assert change is not None
    for text in _plan_text(change):
        assert '+ scheduledTime: "2030-01-14T16:00:00Z"' in text
        assert "+ telephonyCallConfig.ringing_timeout_secs: 25" in text
        assert "+ retries: 2" in text
        # The request (text `=>`, markdown's json block) sends the API's names.
        plan_lines = [line for line in text.split("```json")[0].splitlines() if "=>" not in line]
        assert not any("scheduled_time_unix" in line for line in plan_lines)


RETRIED = [
    # (retry_count of the finished batch, retries wanted, field shown or None: no change)
    (0, 2, "retries: 0 -> 1"),
    (1, 2, "retries: 1 -> 2"),
    (2, 2, None),
]


@pytest.mark.parametrize(("done", "wanted", "shown"), RETRIED)
def test_a_retry_shows_retries(tmp_path: Path, done: int, wanted: int, shown: str | None) -> None:
    import asyncio

    from reconciler.core.planning import PlanOptions
    from reconciler.providers.batchcalling import BATCH_CALL

    desired = load(
        tmp_path, doc(f'scheduledTime: "2030-01-14T16:00:00Z"\nretries: {wanted}\n', "threetone")
    )
    recipient = desired.detail.recipients[0].payload
    finished = {
        **_batch("b1", "spring", "agent_1"),
        "status": "completed",
        "retry_count": done,
        "scheduled_time_unix": 1894636800,
        "total_calls_dispatched": 1,
        "total_calls_finished": 1,
    }

    class Finished(IgnoresTheFilter):
        async def get(self, path: str, params: Any = None) -> Any:
            return {"recipients": [{**recipient, "status": "failed"}]}

    from reconciler.providers.batchcalling import THREETONE

    api = Finished([finished])
    api.settings = THREETONE.settings
    (live,) = asyncio.run(BATCH_CALL.read(api, [desired]))
    change = BATCH_CALL.plan(desired, live, PlanOptions())
    if shown is None:
        assert change is None
        return
    assert change is not None
    text, markdown = _plan_text(change)
    assert f"~ {shown}" in text and f"! {shown}" in markdown


# --- export: what cannot be a manifest, and why --------------------------------------------


def _live(batches: list[dict[str, Any]], recipients: dict[str, list[dict[str, Any]]]) -> Any:
    import asyncio

    from reconciler.providers.batchcalling import BATCH_CALL, ELEVENLABS

    class Workspace(IgnoresTheFilter):
        async def get(self, path: str, params: Any = None) -> Any:
            return {"recipients": recipients[path.rsplit("/", 1)[-1]]}

    api = Workspace(batches)
    api.settings = ELEVENLABS.settings
    found = asyncio.run(BATCH_CALL.read(api, []))
    return asyncio.run(BATCH_CALL.complete_for_export(api, found))


NOT_EXPORTED = [
    (
        [_batch("b1", "spring", "agent_1")],
        {"b1": []},
        "its batches list no recipients, and a BatchCall needs some",
    ),
    (
        [
            _batch("b1", "spring", "agent_1"),
            {**_batch("b2", "spring", "agent_1"), "created_at_unix": 2},
        ],
        {"b1": [{"phone_number": "+14155550100"}], "b2": [{"phone_number": "+14155550101"}]},
        "live batches b1, b2 all claim to be 'spring'",
    ),
    (
        [_batch("b1", "spring", "agent_1")],
        {
            "b1": [
                {
                    "phone_number": "+14155550100",
                    "conversation_initiation_client_data": {"branch_id": "x"},
                }
            ]
        },
        "recipient +1415***0100: conversation_initiation_client_data.branch_id: Extra inputs",
    ),
    (
        [
            {
                **_batch("b1", "spring", "agent_1"),
                "whatsapp_params": {"whatsapp_phone_number_id": "w"},
            }
        ],
        {"b1": [{"phone_number": "+14155550100"}]},
        "whatsappParams.whatsapp_call_permission_request_template_name: Field required",
    ),
]


@pytest.mark.parametrize(("batches", "recipients", "reason"), NOT_EXPORTED)
def test_export_says_why_a_batchcall_is_not_exported(
    batches: list[dict[str, Any]], recipients: dict[str, list[dict[str, Any]]], reason: str
) -> None:
    from reconciler.providers.base import NotExported
    from reconciler.providers.batchcalling import BATCH_CALL

    (live,) = _live(batches, recipients)
    with pytest.raises(NotExported) as caught:
        BATCH_CALL.export(live, [live])
    assert reason in str(caught.value)
    assert "4155550100" not in str(caught.value)
