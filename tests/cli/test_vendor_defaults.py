"""After apply, a plan is empty against an emulator that fills in everything the vendors fill in:
every field of the response models, nulls and published defaults included, nested defaults
inside recipient data too (`source_info.source: "unknown"`, a machine-detection rule's
`action: "hang_up"`), for both presets and every recipient shape (plain, overrides, dynamic
variables, WhatsApp), before the campaign starts and after its calls started. Before the
normalization was built from the vendors' tables, such a recipient made every plan cancel and
resubmit (pending) or refuse (started).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

# Every request body sent here must fit the vendor's own definition (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("checked_requests")

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)

RECIPIENTS = """
recipients:
  - id: plain
    phone_number: "+14155553000"
  - id: overrides
    phone_number: "+14155553001"
    conversation_initiation_client_data:
      conversation_config_override:
        agent:
          first_message: "Hi Ada!"
          language: en
          prompt: {llm: gpt-4o-mini}
        tts: {speed: 1.1}
        turn: {soft_timeout_config: {message: "One moment..."}}
        conversation: {text_only: false}
  - id: variables
    phone_number: "+14155553002"
    conversation_initiation_client_data:
      dynamic_variables: {customer_name: Ada, visits: 3, vip: true}
      user_id: user-9
      source_info: {version: "1.2"}
  - id: whatsapp
    whatsapp_user_id: "4915123456789"
    conversation_initiation_client_data:
      source_info: {}
      custom_llm_extra_body: {}
"""

WHATSAPP = """
whatsappParams:
  whatsapp_phone_number_id: wa_1
  whatsapp_call_permission_request_template_name: call_consent
  whatsapp_call_permission_request_template_language_code: en_US
"""

ELEVENLABS_ONLY = """
timezone: Europe/Berlin
branchId: branch_7
environment: staging
targetConcurrencyLimit: 2
telephonyCallConfig:
  ringing_timeout_secs: 25
  twilio_machine_detection:
    mode: enable
    actions:
      - answered_by: [machine_start, fax]
"""


@dataclass(frozen=True)
class Preset:
    name: str
    variable: str
    extra: str


PRESETS = [
    Preset("threetone", "THREETONE", WHATSAPP),
    Preset("elevenlabs", "ELEVENLABS", WHATSAPP + ELEVENLABS_ONLY),
]


@pytest.fixture(params=PRESETS, ids=[p.name for p in PRESETS])
def preset(request: pytest.FixtureRequest) -> Preset:
    chosen: Preset = request.param
    return chosen


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(
        api_key="test-key", max_page_size=2, start_time=START, calls_per_minute=60
    )
    return make_emulator(config)


@pytest.fixture
def cli(make_cli: MakeCli, emulator: AnyEmulator, preset: Preset) -> Cli:
    return make_cli(
        {
            f"{preset.variable}_BASE_URL": emulator.base_url,
            f"{preset.variable}_API_KEY": emulator.api_key,
            "ULTRAVOX_BASE_URL": emulator.base_url,
            "ULTRAVOX_API_KEY": emulator.api_key,
        },
        emulator,
    )


def manifests(directory: Path, preset: Preset, *, scheduled: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    head = textwrap.dedent(f"""
        kind: BatchCall
        provider: {preset.name}
        name: spring
        agentId: agent_abc
        scheduledTime: "{scheduled}"
        agentPhoneNumberId: phnum_1
        retries: 1
        """).lstrip()
    (directory / "campaign.yaml").write_text(
        head + textwrap.dedent(preset.extra).lstrip() + textwrap.dedent(RECIPIENTS).lstrip()
    )
    # An agent that leaves every default to the server, in the same plan.
    (directory / "agent.yaml").write_text(
        "kind: Agent\nname: defaults_only\ncallTemplate:\n  systemPrompt: Hi\n"
    )
    return directory


def assert_empty(cli: Cli, path: Path) -> None:
    result = cli("plan", "--detailed-exitcode", str(path))
    assert result.code == 0, result.output
    assert "No changes." in result.stdout


def live_recipients(emulator: Any, preset: Preset) -> list[dict[str, Any]]:
    """The recipients as the vendor's `GET {id}` answered the last plan (from the journal)."""
    answers = [
        e["response"]
        for e in emulator.admin.requests()
        if e["method"] == "GET"
        and e["status"] == 200
        and isinstance(e["response"], dict)
        and "recipients" in e["response"]
    ]
    assert answers, "the plan read the batch's recipients"
    recipients: list[dict[str, Any]] = answers[-1]["recipients"]
    return recipients


def test_after_apply_the_plan_is_empty_against_an_emulator_that_fills_everything(
    cli: Cli, emulator: Any, preset: Preset, tmp_path: Path
) -> None:
    path = manifests(tmp_path / "m", preset, scheduled="2030-01-14T16:00:00Z")
    applied = cli("apply", "--auto-approve", str(path))
    assert applied.code == 0, applied.output
    emulator.admin.clear_requests()
    assert_empty(cli, path)
    # The emulator did fill the nested defaults in: the plan is empty despite them.
    variables = live_recipients(emulator, preset)[2]["conversation_initiation_client_data"]
    assert variables["source_info"] == {"source": "unknown", "version": "1.2"}
    assert set(variables) > {"dynamic_variables", "user_id", "source_info"}
    if preset.name == "elevenlabs":
        assert "starting_workflow_node_id" in variables  # ElevenLabs' larger model

    # Once calls started, a difference would be refused: the plan must stay empty.
    emulator.admin.advance(3600 + 2)
    assert_empty(cli, path)
    emulator.admin.advance(120)  # every call finished, the one WhatsApp call too
    assert_empty(cli, path)
    assert [e for e in emulator.admin.requests() if e["method"] != "GET"] == []


def test_a_server_default_written_out_equals_its_absence(
    cli: Cli, emulator: Any, preset: Preset, tmp_path: Path
) -> None:
    path = manifests(tmp_path / "m", preset, scheduled="2030-01-14T16:00:00Z")
    applied = cli("apply", "--auto-approve", str(path))
    assert applied.code == 0, applied.output
    # The same campaign with the defaults the server fills in written out explicitly.
    text = (path / "campaign.yaml").read_text()
    text = text.replace(
        'source_info: {version: "1.2"}', 'source_info: {version: "1.2", source: unknown}'
    )
    if preset.name == "elevenlabs":
        text = text.replace(
            "- answered_by: [machine_start, fax]",
            "- {answered_by: [machine_start, fax], action: hang_up}",
        )
    (path / "campaign.yaml").write_text(text)
    assert_empty(cli, path)
    # A value that is not the default is a change: nobody was dialled, so a replace.
    (path / "campaign.yaml").write_text(text.replace("source: unknown", "source: widget"))
    changed = cli("plan", "--detailed-exitcode", str(path))
    assert changed.code == 2, changed.output
    assert "BatchCall/spring will be replaced" in changed.stdout or "replace" in changed.stdout


def test_a_field_the_preset_lacks_is_refused_before_anything_is_sent(
    cli: Cli, emulator: Any, preset: Preset, tmp_path: Path
) -> None:
    path = manifests(tmp_path / "m", PRESETS[0], scheduled="2030-01-14T16:00:00Z")
    text = (path / "campaign.yaml").read_text()
    (path / "campaign.yaml").write_text(text.replace("retries: 1\n", "retries: 1\ntimezone: UTC\n"))
    for command in ("validate", "plan"):
        refused = cli(command, str(path))
        assert refused.code == 1, refused.output
        assert (
            "campaign.yaml:8: timezone: the threetone API has no timezone (seed 002"
            in refused.stderr
        )
        assert "use a provider whose API has it (elevenlabs)" in refused.stderr
    assert emulator.admin.requests() == []
