"""`diff-env` in process, against two emulators standing for staging and prod (issue 13,
item 7): `--live` reads only the providers the manifests use (no ElevenLabs key is asked for
when no manifest is on ElevenLabs), and compares what each account holds as a plan of that
environment compares it: ids, creation and update times, and what the server chose (a start
the hold moved later, a scheduled time left to it) never count.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)

MANIFESTS = """
kind: Agent
name: support
callTemplate:
  systemPrompt: You reach Acme support.
  voice: Jessica
---
# Starts at the emulator's start: the hold moves it later, by a different amount per account.
kind: ScheduledBatch
name: renewals
agent: support
environments: [staging, prod]
windowStart: "2030-01-14T15:00:00Z"
windowEnd: "2030-01-15T01:00:00Z"
calls:
  - medium: {twilio: {outgoing: {to: "+14155550123", from: "+14155550199"}}}
---
# No scheduledTime: the server schedules it (after the hold).
kind: BatchCall
provider: threetone
name: winback
environments: [staging, prod]
agentId: agent_acme_winback
agentPhoneNumberId: phnum_acme_main
recipients:
  - id: crm-5001
    phone_number: "+14155553001"
"""


def environment(name: str, emulator: AnyEmulator, overrides: str = "") -> str:
    return textwrap.dedent(f"""
    providers:
      ultravox:
        baseUrl: {emulator.base_url}
        apiKeyEnv: ULTRAVOX_API_KEY_{name.upper()}
      threetone:
        baseUrl: {emulator.base_url}
        apiKeyEnv: THREETONE_API_KEY_{name.upper()}
    """) + textwrap.dedent(overrides)


@pytest.fixture
def staging(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(EmulatorConfig(api_key="staging-key", start_time=START))


@pytest.fixture
def prod(make_emulator: MakeEmulator) -> AnyEmulator:
    # Seven minutes later: every id, creation time and held start differs from staging's.
    later = START + timedelta(minutes=7)
    return make_emulator(EmulatorConfig(api_key="prod-key", start_time=later))


@pytest.fixture
def cli(make_cli: MakeCli, staging: AnyEmulator, prod: AnyEmulator) -> Cli:
    # No ELEVENLABS_* variable at all: no manifest is on ElevenLabs.
    env = {
        "ULTRAVOX_API_KEY_STAGING": "staging-key",
        "ULTRAVOX_API_KEY_PROD": "prod-key",
        "THREETONE_API_KEY_STAGING": "staging-key",
        "THREETONE_API_KEY_PROD": "prod-key",
        "RECONCILER_ALLOWED_HOSTS": f"{staging.base_url} {prod.base_url}",
    }
    return make_cli(env, staging, prod)


def layout(root: Path, staging: AnyEmulator, prod: AnyEmulator, prod_overrides: str = "") -> Path:
    manifests = root / "manifests"
    (manifests / "environments").mkdir(parents=True)
    (manifests / "all.yaml").write_text(textwrap.dedent(MANIFESTS).lstrip())
    (manifests / "environments" / "staging.yaml").write_text(environment("staging", staging))
    (manifests / "environments" / "prod.yaml").write_text(environment("prod", prod, prod_overrides))
    return manifests


def applied(cli: Cli, manifests: Path) -> None:
    for name in ("staging", "prod"):
        result = cli("apply", "--env", name, "--auto-approve", str(manifests))
        assert result.code == 0, result.output


def test_live_accounts_in_step_have_no_differences(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    applied(cli, manifests)
    before = (len(staging.admin.requests()), len(prod.admin.requests()))
    # The server-set fields do differ between the accounts (else this test proves nothing).
    agents = [e.admin.state()["agents"][0] for e in (staging, prod)]
    assert agents[0]["agentId"] != agents[1]["agentId"]
    assert agents[0]["created"] != agents[1]["created"]

    result = cli("diff-env", "--live", "--detailed-exitcode", "staging", "prod", str(manifests))

    assert result.code == 0, result.output
    assert result.stdout == "No differences between staging and prod.\n"
    for emulator, seen in zip((staging, prod), before, strict=True):
        read = emulator.admin.requests()[seen:]
        assert read and {r["method"] for r in read} == {"GET"}
        assert not [r for r in read if r["path"].startswith("/v1/convai/")]  # ElevenLabs'


def test_live_accounts_show_only_what_the_manifests_set_differently(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    overrides = """
    overrides:
      Agent/support:
        callTemplate:
          voice: Mark
      BatchCall/winback:
        agentPhoneNumberId: phnum_acme_prod
    """
    manifests = layout(tmp_path, staging, prod, overrides)
    applied(cli, manifests)

    result = cli("diff-env", "--live", "--detailed-exitcode", "staging", "prod", str(manifests))

    assert result.code == 2, result.output
    assert result.stdout == (
        "~ Agent/support differs\n"
        '    ~ callTemplate.voice: "Jessica" -> "Mark"\n'
        "~ BatchCall/winback differs\n"
        '    ~ agentPhoneNumberId: "phnum_acme_main" -> "phnum_acme_prod"\n'
        "\n"
        "staging -> prod: 2 differ, 0 only in staging, 0 only in prod.\n"
    )


def test_a_provider_no_manifest_uses_needs_no_key(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    """Only Ultravox manifests: neither batch-calling vendor's key is asked for."""
    manifests = layout(tmp_path, staging, prod)
    (manifests / "all.yaml").write_text(textwrap.dedent(MANIFESTS).split("---")[0].lstrip())
    for name in ("staging", "prod"):
        result = cli("apply", "--env", name, "--auto-approve", str(manifests))
        assert result.code == 0, result.output
    for name in ("THREETONE_API_KEY_STAGING", "THREETONE_API_KEY_PROD"):
        del cli.env[name]

    result = cli("diff-env", "--live", "staging", "prod", str(manifests))

    assert result.code == 0, result.output
    assert result.stdout == "No differences between staging and prod.\n"
    assert result.stderr == ""


def test_desired_states_name_batchcall_fields_as_the_manifest_does(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    overrides = """
    overrides:
      BatchCall/winback:
        scheduledTime: "2030-01-21T15:00:00Z"
    """
    manifests = layout(tmp_path, staging, prod, overrides)

    result = cli("diff-env", "staging", "prod", str(manifests))

    assert result.code == 0, result.output
    assert result.stdout == (
        "~ BatchCall/winback differs\n"
        '    + scheduledTime: "2030-01-21T15:00:00Z"\n'
        "\n"
        "staging -> prod: 1 differs, 0 only in staging, 0 only in prod.\n"
    )
    assert staging.admin.requests() == [] and prod.admin.requests() == []
