"""The composite action's own `run:` steps, executed with bash as the GitHub runner would,
against the emulator served over loopback: every `reconciler` they start is the real
executable (the action's structure and names are checked in process:
tests/cli/test_workflows.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler_emulator import EmulatorConfig, running_emulator
from tests.cli.test_workflows import PHONE, REPO, WEBHOOK_SECRET, Runner, assert_plan

pytestmark = pytest.mark.e2e


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO / "manifests", workspace / "manifests")
    with running_emulator(EmulatorConfig(api_key="action-test-key")) as emulator:
        yield Runner(workspace, tmp_path / "runner-temp", emulator)


def test_action_plan_apply_plan_against_the_emulator(runner: Runner) -> None:
    validate = runner(command="validate")
    assert validate.code == 0, validate.output
    assert validate.outputs["exitcode"] == "0"
    assert "Valid:" in Path(validate.outputs["output"]).read_text()

    first = runner()  # the defaults: plan of manifests/
    assert_plan(first, changes=True)
    assert "Plan: " in first.outputs["summary"]
    assert "$ reconciler plan --out " in first.output
    assert not Path(first.outputs["plan-file"]).read_text().count(WEBHOOK_SECRET)

    applied = runner(command="apply", args="--auto-approve")
    assert applied.code == 0, applied.output
    assert applied.outputs["exitcode"] == "0"
    assert applied.outputs["has-changes"] == "" and applied.outputs["plan-file"] == ""
    assert "Apply complete" in Path(applied.outputs["output"]).read_text()

    again = runner(args="--format 'markdown'", output_dir="out/second", step_summary="false")
    assert_plan(again, changes=False)
    assert again.summary == "" and first.summary.startswith("### reconciler plan\n")
    assert Path(again.outputs["plan-file"]) == runner.workspace / "out/second/plan.json"

    status = runner(command="status")
    assert status.code == 0 and status.outputs["exitcode"] == "0", status.output
    assert "renewals_2030_01" in Path(status.outputs["output"]).read_text()
    assert not PHONE.search(status.output)

    exported = runner(command="export", path="exported")
    assert exported.code == 0 and exported.outputs["exitcode"] == "0", exported.output
    assert "$ reconciler export --out exported\n" in exported.output
    assert sorted(p.name for p in (runner.workspace / "exported" / "agents").iterdir()) == [
        "acme_renewals_outbound.yaml",
        "acme_support.yaml",
        "acme_web_chat.yaml",
    ]


def test_action_applies_the_saved_plan_of_an_environment_and_refuses_it_when_stale(
    runner: Runner,
) -> None:
    environments = runner.workspace / "manifests" / "environments"
    environments.mkdir()
    (environments / "ci.yaml").write_text("description: the action's test environment\n")
    for path in (runner.workspace / "manifests" / "campaigns").glob("*.yaml"):
        # With --env, a campaign runs only in the environments it names (issue 10).
        path.write_text(path.read_text().replace("\nkind: ", "\nenvironments: [ci]\nkind: "))
    reviewed = runner(env="ci")
    assert_plan(reviewed, changes=True)
    assert "$ reconciler plan --env ci --out " in reviewed.output
    assert reviewed.outputs["plan-file"] == str(runner.runner_temp / "reconciler/ci/plan.json")
    assert reviewed.summary.startswith("### reconciler plan (ci)\n")
    saved = runner.workspace / "reviewed-plan.json"
    shutil.copy(reviewed.outputs["plan-file"], saved)

    # As apply-on-merge.yml does it: the environment and the reviewed plan, no manifests path.
    applied = runner(command="apply", env="ci", plan_file="reviewed-plan.json")
    assert applied.code == 0, applied.output
    assert "$ reconciler apply --env ci --plan reviewed-plan.json\n" in applied.output
    assert_plan(runner(env="ci"), changes=False)

    stale = runner(command="apply", plan_file=str(saved))  # the same plan, now out of date
    assert stale.code == 1 and stale.outputs["exitcode"] == "1"
    assert "stale" in stale.output


def test_action_fails_on_errors_and_usage_errors(runner: Runner) -> None:
    missing = runner(env="nope", command="validate")
    assert missing.code == 1 and missing.outputs["exitcode"] == "1"
    assert "environment 'nope'" in missing.output

    unknown = runner(command="destroy; rm -rf /")
    assert unknown.code == 1
    assert "::error title=reconciler::unknown command" in unknown.output
    assert unknown.outputs["exitcode"] == ""

    unbalanced = runner(args="--format 'markdown")
    assert unbalanced.code == 1 and "cannot split the args input" in unbalanced.output

    usage = runner(args="--format yaml")  # click's usage error is also exit 2
    assert usage.code == 2, usage.output
    assert usage.outputs["exitcode"] == "2"
    assert usage.outputs["has-changes"] == "" and usage.outputs["plan-file"] == ""

    broken = runner.workspace / "broken.yaml"
    broken.write_text("kind: Agent\nname: x\ncallTemplate: {voise: Mark}\n")
    invalid = runner(path="broken.yaml")
    assert invalid.code == 1 and invalid.outputs["exitcode"] == "1"
    assert "broken.yaml:3" in invalid.output
