"""End to end with two emulators standing for two environments (staging and prod).

Covers environment files (base URL, key variable, variables, overrides, resources limited to
environments), diff-env (desired and live), the promotion gate (`requires:`), saved plans that
remember their account, --target, lifecycle.preventDestroy and the markdown size limit.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

STAGING = EmulatorConfig(api_key="staging-key")
PROD = EmulatorConfig(api_key="prod-key")


@pytest.fixture
def staging(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(STAGING)


@pytest.fixture
def prod(make_emulator: MakeEmulator) -> AnyEmulator:
    return make_emulator(PROD)


AGENTS = """
kind: Agent
name: support
callTemplate:
  systemPrompt: "${GREETING}, you reach {{company}} support."
  voice: Jessica
  temperature: 0.4
---
kind: Agent
name: canary
environments: [staging]
callTemplate:
  systemPrompt: Only staging runs this agent.
"""


def layout(root: Path, staging: Any, prod: Any) -> Path:
    manifests = root / "manifests"
    (manifests / "environments").mkdir(parents=True)
    (manifests / "agents.yaml").write_text(textwrap.dedent(AGENTS).lstrip())
    (manifests / "environments" / "staging.yaml").write_text(
        textwrap.dedent(f"""
        description: pre-production account
        providers:
          ultravox:
            baseUrl: {staging.base_url}
            apiKeyEnv: ULTRAVOX_API_KEY_STAGING
        variables:
          GREETING: Hello from staging
        overrides:
          Agent/support:
            callTemplate:
              voice: Mark
        """).lstrip()
    )
    (manifests / "environments" / "prod.yaml").write_text(
        textwrap.dedent(f"""
        requires: staging
        providers:
          ultravox:
            baseUrl: {prod.base_url}
            apiKeyEnv: ULTRAVOX_API_KEY_PROD
        variables:
          GREETING: Welcome
        """).lstrip()
    )
    return manifests


@pytest.fixture
def cli(make_cli: MakeCli, staging: AnyEmulator, prod: AnyEmulator) -> Cli:
    return environments_cli(make_cli, staging, prod)


def environments_cli(make_cli: MakeCli, staging: AnyEmulator, prod: AnyEmulator) -> Cli:
    """The command line with both accounts' keys, allowed to reach both emulators."""
    env = {
        "ULTRAVOX_API_KEY_STAGING": "staging-key",
        "ULTRAVOX_API_KEY_PROD": "prod-key",
        # The environment files point at the two emulators: the operator allows them (a base
        # URL from a file is otherwise refused, issue 11).
        "RECONCILER_ALLOWED_HOSTS": f"{staging.base_url} {prod.base_url}",
    }
    return make_cli(env, staging, prod)


def agents(emulator: Any) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in emulator.admin.state()["agents"]}


def writes(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.requests() if r["method"] != "GET"]


def test_overrides_variables_and_environment_only_resources(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    assert (
        "Valid: 2 resources in environment 'staging'"
        in cli("validate", "--env", "staging", str(manifests)).stdout
    )
    assert (
        "Valid: 1 resource in environment 'prod'"
        in cli("validate", "--env", "prod", str(manifests)).stdout
    )

    applied = cli("apply", "--env", "staging", "--auto-approve", str(manifests))
    assert applied.code == 0, applied.output
    live = agents(staging)
    assert set(live) == {"support", "canary"}
    assert live["support"]["callTemplate"]["voice"] == "Mark"
    assert live["support"]["callTemplate"]["systemPrompt"].startswith("Hello from staging,")
    assert prod.admin.requests() == []
    empty = cli("plan", "--env", "staging", "--detailed-exitcode", str(manifests))
    assert empty.code == 0, empty.output


def test_promotion_gate_requires_staging_in_sync(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    refused = cli("apply", "--env", "prod", "--auto-approve", str(manifests))
    assert refused.code == 1
    assert "requires 'staging' to match the manifests first" in refused.stderr
    assert "Agent/support" in refused.stderr
    assert writes(prod) == [] and writes(staging) == []

    assert cli("apply", "--env", "staging", "--auto-approve", str(manifests)).code == 0
    promoted = cli("apply", "--env", "prod", "--auto-approve", str(manifests))
    assert promoted.code == 0, promoted.output
    assert set(agents(prod)) == {"support"}
    assert agents(prod)["support"]["callTemplate"]["voice"] == "Jessica"

    # Drift in staging blocks prod again until staging is repaired.
    support = agents(staging)["support"]
    staging.admin.console_patch_agent(support["agentId"], {"callTemplate": {"temperature": 0.9}})
    (manifests / "agents.yaml").write_text(
        (manifests / "agents.yaml").read_text().replace("0.4", "0.5")
    )
    prod.admin.clear_requests()
    blocked = cli("apply", "--env", "prod", "--auto-approve", str(manifests))
    assert blocked.code == 1
    assert writes(prod) == []


def test_saved_plan_remembers_its_environment(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    plan_file = tmp_path / "staging-plan.json"
    assert cli("plan", "--env", "staging", "--out", str(plan_file), str(manifests)).code == 0
    saved = json.loads(plan_file.read_text())
    assert saved["environment"] == "staging"
    assert saved["endpoints"]["ultravox"] == {
        "baseUrl": staging.base_url,
        "apiKeyEnv": "ULTRAVOX_API_KEY_STAGING",
    }
    assert "staging-key" not in plan_file.read_text()
    wrong = cli("apply", "--plan", str(plan_file), "--env", "prod")
    assert wrong.code == 1 and "made for environment 'staging'" in wrong.stderr
    applied = cli("apply", "--plan", str(plan_file))
    assert applied.code == 0, applied.output
    assert set(agents(staging)) == {"support", "canary"}
    assert agents(prod) == {}


def test_environment_file_errors(cli: Cli, staging: Any, prod: Any, tmp_path: Path) -> None:
    manifests = layout(tmp_path, staging, prod)
    missing = cli("plan", "--env", "qa", str(manifests))
    assert missing.code == 1
    assert "environment 'qa'" in missing.stderr and "known: prod, staging" in missing.stderr

    staging_file = manifests / "environments" / "staging.yaml"
    staging_file.write_text(
        staging_file.read_text().replace("  Agent/support:", "  Agent/nobody: {}\n  Agent/support:")
    )
    unknown = cli("validate", "--env", "staging", str(manifests))
    assert unknown.code == 1
    line = staging_file.read_text().splitlines().index("  Agent/nobody: {}") + 1
    assert f"{staging_file}:{line}: overrides: Agent/nobody is not a resource" in unknown.stderr

    staging_file.write_text("providers:\n  ultravox:\n    baseURL: http://x\n")
    typo = cli("validate", "--env", "staging", str(manifests))
    assert typo.code == 1
    assert f"{staging_file}:3:" in typo.stderr
    assert "Traceback" not in typo.output


def test_secrets_never_come_from_environment_files(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    (manifests / "batch.yaml").write_text(
        textwrap.dedent("""
        kind: ScheduledBatch
        name: followups
        environments: [staging]  # with --env, a campaign names where it runs (issue 10)
        agent: support
        webhookUrl: https://hooks.example.com/x
        webhookSecret: ${HOOK_SECRET}
        calls:
          - medium: {serverWebSocket: {inputSampleRate: 16000}}
            templateContext: {company: Acme}
        """).lstrip()
    )
    staging_file = manifests / "environments" / "staging.yaml"
    staging_file.write_text(
        staging_file.read_text().replace("variables:\n", "variables:\n  HOOK_SECRET: leaked\n")
    )
    refused = cli("plan", "--env", "staging", str(manifests))
    assert refused.code == 1
    assert "HOOK_SECRET is not set in the process environment" in refused.stderr
    assert staging.admin.requests() == []
    # Validation needs no secret (pre-commit hooks have none), and the file's value is unused.
    assert cli("validate", "--env", "staging", str(manifests)).code == 0
    accepted = cli("plan", "--env", "staging", str(manifests), env={"HOOK_SECRET": "ok"})
    assert accepted.code == 0, accepted.output


def test_target_limits_plan_and_apply(cli: Cli, staging: Any, prod: Any, tmp_path: Path) -> None:
    manifests = layout(tmp_path, staging, prod)
    (manifests / "batch.yaml").write_text(
        textwrap.dedent("""
        kind: ScheduledBatch
        name: callbacks
        environments: [staging]  # with --env, a campaign names where it runs (issue 10)
        agent: support
        windowStart: "2031-01-01T09:00:00Z"
        windowEnd: "2031-01-01T17:00:00Z"
        calls:
          - medium: {twilio: {outgoing: {to: "+14155550100", from: "+14155550199"}}}
            templateContext: {company: Acme}
        """).lstrip()
    )
    plan = cli("plan", "--env", "staging", "--target", "Agent/canary", str(manifests))
    assert plan.code == 0, plan.output
    assert "Plan: 1 to create, 0 to update, 0 to delete." in plan.stdout
    assert "Agent/support" not in plan.stdout

    # A batch target brings the agent it runs on.
    applied = cli(
        "apply",
        "--env",
        "staging",
        "--auto-approve",
        "--target",
        "ScheduledBatch/callbacks",
        str(manifests),
    )
    assert applied.code == 0, applied.output
    assert set(agents(staging)) == {"support"}
    assert len(staging.admin.state()["batches"]) == 1

    bad = cli("plan", "--env", "staging", "--target", "Agent/ghost", str(manifests))
    assert bad.code == 1 and "Agent/ghost" in bad.stderr
    malformed = cli("plan", "--env", "staging", "--target", "ghost", str(manifests))
    assert malformed.code == 1 and "expected Kind/name" in malformed.stderr


def test_prevent_destroy_blocks_a_replace(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    batch = textwrap.dedent("""
        kind: ScheduledBatch
        name: protected
        environments: [staging]  # with --env, a campaign names where it runs (issue 10)
        agent: support
        lifecycle: {preventDestroy: true}
        windowStart: "2031-01-01T09:00:00Z"
        windowEnd: "2031-01-01T17:00:00Z"
        calls:
          - medium: {twilio: {outgoing: {to: "+14155550100", from: "+14155550199"}}}
            templateContext: {company: Acme}
          - medium: {twilio: {outgoing: {to: "+14155550101", from: "+14155550199"}}}
            templateContext: {company: Acme}
        """).lstrip()
    (manifests / "batch.yaml").write_text(batch)
    assert cli("apply", "--env", "staging", "--auto-approve", str(manifests)).code == 0
    (manifests / "batch.yaml").write_text(batch.rsplit("  - medium", 1)[0])
    staging.admin.clear_requests()
    refused = cli("apply", "--env", "staging", "--auto-approve", str(manifests))
    assert refused.code == 1
    assert "preventDestroy" in refused.stderr and "replace" in refused.stderr
    assert writes(staging) == []


def test_markdown_plan_fits_a_github_comment(
    cli: Cli, staging: Any, prod: Any, tmp_path: Path
) -> None:
    manifests = layout(tmp_path, staging, prod)
    prompt = "Answer questions about the product line in detail. " * 12
    many = "".join(
        f"---\nkind: Agent\nname: bulk_{i:03d}\ncallTemplate:\n  systemPrompt: {prompt!r}\n"
        for i in range(250)
    )
    (manifests / "bulk.yaml").write_text(many)
    markdown = cli("plan", "--env", "staging", "--format", "markdown", str(manifests))
    assert markdown.code == 0, markdown.output
    text = markdown.stdout
    assert len(text) <= 65_000
    # Where the plan acts, then the summary (issue 12).
    assert text.startswith("Environment: staging · `ultravox: ")
    assert text.splitlines()[2] == "**Plan: 252 to create, 0 to update, 0 to delete.**"
    assert "resource details were cut to fit a comment" in text
    full = cli("plan", "--env", "staging", str(manifests))
    assert len(full.stdout) > 65_000
