"""The GitHub integration, checked without GitHub: the composite action (action.yml), the
example workflows (docs/workflows/) and the project's own CI (.github/workflows/).

Three kinds of guarantees:
- structure: every file parses and has the shape GitHub expects, scripts take inputs only
  through `env:` (no `${{ }}` inside a script: script injection), applies are serialised;
- names: every `reconciler <command> --flag` in a script, an action `with:` or the docs exists
  in the real command line (`reconciler.cli.cli`);
- behaviour: the example workflows' github-script steps run with node against a fake GitHub
  API. (The action's own `run:` steps, executed with bash against the emulator as the runner
  would, start the real executable: tests/e2e/test_github_action.py.)
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli.main import cli
from reconciler_emulator import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
DOC = REPO / "docs" / "github-actions.md"
EXAMPLE_WORKFLOWS = sorted((REPO / "docs" / "workflows").glob("*.yml"))
CI_WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
WORKFLOWS = EXAMPLE_WORKFLOWS + CI_WORKFLOWS
EXPECTED_EXAMPLES = {"plan-on-pull-request.yml", "apply-on-merge.yml", "drift-check.yml"}
WEBHOOK_SECRET = "action-test-webhook-secret"
PHONE = re.compile(r"\+\d{10,15}")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a YAML mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> Any:
    # YAML 1.1 reads a bare `on` key as the boolean True.
    return workflow.get("on", workflow.get(True))


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def steps_of(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, step) for every step of a workflow or of the composite action."""
    data = load(path)
    if path == ACTION:
        for index, step in enumerate(data["runs"]["steps"]):
            yield f"{rel(path)}: step {index}", step
        return
    for job_name, job in data["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            yield f"{rel(path)}: job {job_name}, step {step.get('name', index)}", step


ALL_FILES = [ACTION, *WORKFLOWS]


# --- structure ------------------------------------------------------------------------------


def test_the_expected_files_exist() -> None:
    assert ACTION.is_file()
    assert DOC.is_file()
    assert {p.name for p in EXAMPLE_WORKFLOWS} >= EXPECTED_EXAMPLES
    assert (REPO / ".github" / "workflows" / "ci.yml") in CI_WORKFLOWS


def test_action_is_a_composite_with_the_documented_inputs_and_outputs() -> None:
    action = load(ACTION)
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {"path", "env", "command", "args", "install", "plan-file"} <= set(inputs)
    assert inputs["path"]["default"] == "manifests"
    assert inputs["command"]["default"] == "plan"
    assert inputs["env"].get("default", "") == ""
    assert inputs["install"]["default"] == "true"
    for name, spec in inputs.items():
        assert spec.get("description"), f"input {name} has no description"
    outputs = action["outputs"]
    assert {"exitcode", "has-changes", "plan-file", "markdown"} <= set(outputs)
    for name, spec in outputs.items():
        assert spec.get("description"), f"output {name} has no description"
        assert re.fullmatch(r"\$\{\{ steps\.[\w-]+\.outputs\.[\w-]+ \}\}", spec["value"])
    for _, step in steps_of(ACTION):
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            assert step.get("shell") == "bash", "composite run steps must name their shell"
            assert step["run"].lstrip().startswith("set -euo pipefail")


def test_install_false_skips_every_step_that_needs_the_network() -> None:
    for where, step in steps_of(ACTION):
        if "uses" in step or "pip install" in step.get("run", ""):
            assert "inputs.install == 'true'" in step.get("if", ""), where
            assert not evaluate_if(step["if"], {"install": "false", "python-version": "3.12"})


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_workflow_structure(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("name"), "a workflow needs a name"
    assert triggers(workflow), "a workflow needs `on:`"
    assert workflow["jobs"], "a workflow needs jobs"
    for job_name, job in workflow["jobs"].items():
        assert "runs-on" in job, f"job {job_name} has no runs-on"
        assert job.get("steps"), f"job {job_name} has no steps"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), f"job {job_name}: {step}"


@pytest.mark.parametrize("path", ALL_FILES, ids=rel)
def test_scripts_take_inputs_only_through_env(path: Path) -> None:
    """`${{ }}` expanded inside a script is script injection; values go through `env:`."""
    for where, step in steps_of(path):
        assert "${{" not in step.get("run", ""), f"{where}: ${{{{ }}}} inside a run script"
        script = (step.get("with") or {}).get("script", "")
        assert "${{" not in script, f"{where}: ${{{{ }}}} inside a github-script script"


@pytest.mark.parametrize("path", ALL_FILES, ids=rel)
def test_scripts_are_strict_and_print_no_secret(path: Path) -> None:
    for where, step in steps_of(path):
        script = step.get("run", "")
        if len(script.strip().splitlines()) > 2:
            assert "set -euo pipefail" in script, f"{where}: multi-line script without it"
        assert not re.search(r"\b(printenv|env)\s*($|\|)", script, re.M), where
        assert "set -x" not in script, where
        for line in script.splitlines():
            if re.match(r"\s*(echo|printf)\b", line):
                assert not re.search(r"API_KEY|WEBHOOK_SECRET|TOKEN", line), f"{where}: {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_every_use_of_the_action_passes_only_its_inputs(path: Path) -> None:
    inputs = set(load(ACTION)["inputs"])
    outputs = set(load(ACTION)["outputs"])
    ids = {}
    for where, step in steps_of(path):
        if is_reconciler_action(str(step.get("uses", ""))):
            unknown = set(step.get("with") or {}) - inputs
            assert not unknown, f"{where}: not inputs of the action: {sorted(unknown)}"
            if "id" in step:
                ids[step["id"]] = where
    text = path.read_text(encoding="utf-8")
    for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
        if step_id in ids:
            assert output in outputs, f"{rel(path)}: steps.{step_id}.outputs.{output}"


def test_project_ci_keeps_the_test_job_and_smoke_tests_the_action() -> None:
    ci = load(REPO / ".github" / "workflows" / "ci.yml")
    test = ci["jobs"]["test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    assert any("make test" in step.get("run", "") for step in test["steps"])
    smoke = [job for job in ci["jobs"].values() if any(s.get("uses") == "./" for s in job["steps"])]
    assert len(smoke) == 1, "one CI job runs the action (uses: ./)"
    steps = smoke[0]["steps"]
    uses = [s for s in steps if s.get("uses") == "./"]
    commands = [(s["with"].get("command", "plan"), s["with"].get("args", "")) for s in uses]
    first_plan = commands.index(("plan", ""))
    apply_ = commands.index(("apply", "--auto-approve"))
    assert first_plan < apply_ < max(i for i, c in enumerate(commands) if c[0] == "plan")
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    text += (REPO / "scripts" / "action_smoke.sh").read_text(encoding="utf-8")
    for needle in ("has-changes", "ACME_WEBHOOK_SECRET", "ULTRAVOX_BASE_URL", "--port-file"):
        assert needle in text


def example(name: str) -> dict[str, Any]:
    return load(REPO / "docs" / "workflows" / name)


def test_plan_on_pull_request_comments_once_and_uploads_the_plan() -> None:
    workflow = example("plan-on-pull-request.yml")
    assert "pull_request" in triggers(workflow)
    assert workflow["permissions"]["pull-requests"] == "write"
    assert workflow["permissions"]["contents"] == "read"
    text = (REPO / "docs" / "workflows" / "plan-on-pull-request.yml").read_text()
    assert "<!-- reconciler-plan:" in text
    assert "actions/github-script@" in text and "updateComment" in text
    assert "createComment" in text
    assert "actions/upload-artifact@" in text
    assert "pull_request_target" not in triggers(workflow), "it would run with secrets for forks"


def test_apply_on_merge_applies_reviewed_plans_one_at_a_time_per_environment() -> None:
    workflow = example("apply-on-merge.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    text = (REPO / "docs" / "workflows" / "apply-on-merge.yml").read_text()
    assert "actions/download-artifact@" in text and "run-id" in text
    assert "listWorkflowRuns" in text and "head_sha" in text
    jobs = workflow["jobs"]
    order = []  # (GitHub environment, reconciler --env, job id)
    for job_name, job in jobs.items():
        if "environment" not in job:
            continue
        environment = job["environment"]
        environment = environment["name"] if isinstance(environment, dict) else environment
        applies = [s for s in job["steps"] if (s.get("with") or {}).get("command") == "apply"]
        assert len(applies) == 1, f"job {job_name} applies once"
        env = applies[0]["with"]["env"]
        assert applies[0]["with"].get("plan-file"), "apply the reviewed (saved) plan"
        assert job["concurrency"]["group"] == f"reconciler-apply-{env}", job_name
        assert job["concurrency"]["cancel-in-progress"] is False, job_name
        order.append((environment, env, job_name))
    assert [(e, env) for e, env, _ in order] == [
        ("dev", "dev"),
        ("staging", "staging"),
        ("production", "prod"),
    ]
    for (_, _, before), (_, _, after) in itertools.pairwise(order):
        assert before in jobs[after]["needs"], f"{after} must wait for {before}"


def test_drift_check_runs_nightly_and_keeps_one_issue() -> None:
    workflow = example("drift-check.yml")
    assert triggers(workflow)["schedule"][0]["cron"]
    assert workflow["permissions"]["issues"] == "write"
    text = (REPO / "docs" / "workflows" / "drift-check.yml").read_text()
    assert "<!-- reconciler-drift:" in text
    for call in ("issues.create", "issues.update", "state: 'closed'"):
        assert call in text
    assert "has-changes" in text


def test_docs_cover_permissions_masking_and_the_examples() -> None:
    text = DOC.read_text(encoding="utf-8")
    for needle in (
        "pull-requests: write",
        "issues: write",
        "contents: read",
        "--detailed-exitcode",
        "apply --plan",
        "stale",
        "reconciler-apply-",
        "ULTRAVOX_API_KEY",
        "masked",
        "install: false",
        *EXPECTED_EXAMPLES,
    ):
        assert needle in text, f"docs/github-actions.md does not mention {needle!r}"
    action = load(ACTION)
    for name in (*action["inputs"], *action["outputs"]):
        assert f"`{name}`" in text, f"docs/github-actions.md does not document `{name}`"


# --- names: every command and flag used exists ------------------------------------------------

SHELL_OPERATORS = re.compile(r"^[();<>|&]+$")


def tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return line.split()


def flag_names(command: click.Command) -> dict[str, bool]:
    """Each option spelling -> whether it takes a value."""
    names = {"--help": False, "-h": False}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                names[opt] = not (param.is_flag or param.count)
    return names


def check_invocation(words: list[str], where: str) -> list[str]:
    """Problems in `reconciler [global options] COMMAND [args...]` (words after `reconciler`)."""
    problems: list[str] = []
    group_flags = flag_names(cli)
    group_flags.update({"--version": False})
    index = 0
    while index < len(words) and words[index].startswith("-"):
        flag = words[index].split("=", 1)[0]
        if flag not in group_flags:
            return [f"{where}: `reconciler {flag}` is not an option of reconciler"]
        index += 2 if group_flags[flag] and "=" not in words[index] else 1
    if index >= len(words) or not re.fullmatch(r"[a-z][a-z-]*", words[index]):
        return problems
    name = words[index]
    context = click.Context(cli)
    command = cli.get_command(context, name)
    if command is None:
        known = ", ".join(cli.list_commands(context))
        return [f"{where}: `reconciler {name}` is not a command ({known})"]
    flags = flag_names(command)
    index += 1
    while index < len(words) and not SHELL_OPERATORS.match(words[index]):
        word = words[index]
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            if flag not in flags:
                problems.append(f"{where}: `reconciler {name} {flag}`: no such option")
            elif flags[flag] and "=" not in word:
                index += 1
        index += 1
    return problems


def invocations_in_script(script: str, where: str) -> list[str]:
    problems = []
    for line in script.replace("\\\n", " ").splitlines():
        line = re.sub(r"^\s*\$\s", "", line)  # a console prompt
        words = tokens(line)
        for index, word in enumerate(words):
            if word == "reconciler" or word.endswith("/reconciler"):
                problems += check_invocation(words[index + 1 :], where)
    return problems


def is_reconciler_action(uses: str) -> bool:
    return uses == "./" or bool(re.search(r"/reconciler@", uses))


def invocations_in_steps(steps: Any, where: str) -> list[str]:
    problems = []
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("run"), str):
            problems += invocations_in_script(step["run"], where)
        if is_reconciler_action(str(step.get("uses", ""))):
            given = step.get("with") or {}
            command = str(given.get("command", "plan"))
            words = [command, *tokens(str(given.get("args", "")))]
            problems += check_invocation(words, f"{where} (action with:)")
    return problems


def invocations_in_yaml(data: Any, where: str) -> list[str]:
    """Every step list anywhere in a workflow, or in a YAML fragment from the docs."""
    problems = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "steps":
                problems += invocations_in_steps(value, where)
            else:
                problems += invocations_in_yaml(value, where)
    elif isinstance(data, list):
        if any(isinstance(item, dict) and ("run" in item or "uses" in item) for item in data):
            problems += invocations_in_steps(data, where)
        else:
            for item in data:
                problems += invocations_in_yaml(item, where)
    return problems


def test_cli_has_the_commands_the_integration_uses() -> None:
    context = click.Context(cli)
    for name in ("validate", "plan", "apply", "status", "export"):
        assert cli.get_command(context, name), f"`reconciler {name}` does not exist (yet?)"
    plan = cli.get_command(context, "plan")
    assert plan is not None
    assert "--env" in flag_names(plan)


@pytest.mark.parametrize("path", ALL_FILES, ids=rel)
def test_every_reconciler_command_and_flag_in_scripts_exists(path: Path) -> None:
    data = load(path)
    if path == ACTION:
        problems = invocations_in_steps(data["runs"]["steps"], rel(path))
    else:
        problems = invocations_in_yaml(data["jobs"], rel(path))
    assert not problems, "\n".join(problems)


def test_every_reconciler_command_and_flag_in_the_docs_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    problems = []
    blocks = list(re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S))
    for number, block in enumerate(blocks, 1):
        language, body = block.group(1), block.group(2)
        where = f"{rel(DOC)}: code block {number} ({language or 'plain'})"
        if language in ("yaml", "yml"):
            data = yaml.safe_load(body)  # every YAML block in the docs must parse
            problems += invocations_in_yaml(data, where)
        else:
            problems += invocations_in_script(body, where)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if span.startswith("reconciler "):
            problems += invocations_in_script(span, f"{rel(DOC)}: `{span}`")
    assert not problems, "\n".join(problems)


def test_the_name_checker_catches_mistakes() -> None:
    assert invocations_in_script("reconciler plan --detailed-exitcode --out p.json m/", "x") == []
    assert invocations_in_script("reconciler plan --env dev --format markdown m | tee x", "x") == []
    assert invocations_in_script("reconciler plna m/", "x")
    assert invocations_in_script(".venv/bin/reconciler apply --auto-aprove m/", "x")
    assert invocations_in_steps([{"uses": "./", "with": {"command": "destroy"}}], "x")


# --- behaviour: the action's scripts, run with bash against the emulator -----------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def evaluate_if(condition: str, inputs: dict[str, str]) -> bool:
    """The tiny part of GitHub's expression language the action may use in `if:`."""
    python = re.sub(r"inputs\.([\w-]+)", lambda m: repr(inputs[m.group(1)]), condition)
    python = python.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    tree = ast.parse(python.strip(), mode="eval")
    allowed: tuple[type[ast.AST], ...] = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp)
    allowed += (ast.Not, ast.Compare, ast.Eq, ast.NotEq, ast.Constant)
    for node in ast.walk(tree):
        assert isinstance(node, allowed), f"unsupported in an action `if:`: {condition}"
    return bool(eval(compile(tree, "<if>", "eval"), {"__builtins__": {}}))


def substitute(value: Any, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if m := re.fullmatch(r"inputs\.([\w-]+)", expression):
            return inputs[m.group(1)]
        if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
            return outputs.get(m.group(1), {}).get(m.group(2), "")
        raise AssertionError(f"the action uses an expression this test cannot run: {expression}")

    return EXPRESSION.sub(one, str(value))


def read_outputs(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            values[key] = "\n".join(iter(lambda: next(lines), delimiter))
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


class ActionRun:
    def __init__(self, code: int, output: str, outputs: dict[str, str], summary: str) -> None:
        self.code = code
        self.output = output
        self.outputs = outputs
        self.summary = summary


class Runner:
    """Runs the action's steps like the GitHub runner does, without GitHub."""

    def __init__(self, workspace: Path, runner_temp: Path, emulator: RunningEmulator) -> None:
        self.workspace = workspace
        self.runner_temp = runner_temp
        venv_bin = str(Path(sys.executable).parent)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ULTRAVOX_", "THREETONE_", "ELEVENLABS_", "GITHUB_", "INPUT_"))
        }
        base.update(
            PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""),
            ULTRAVOX_BASE_URL=emulator.base_url,
            THREETONE_BASE_URL=emulator.base_url,
            THREETONE_API_KEY=emulator.api_key,
            ULTRAVOX_API_KEY=emulator.api_key,
            ACME_WEBHOOK_SECRET=WEBHOOK_SECRET,
            NO_COLOR="1",
            RUNNER_TEMP=str(runner_temp),
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_ACTION_PATH=str(REPO),
        )
        self.base_env = base
        self.runs = 0

    def __call__(self, **given: str) -> ActionRun:
        action = load(ACTION)
        inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
        unknown = {k.replace("_", "-") for k in given} - set(inputs)
        assert not unknown, f"not inputs of the action: {unknown}"
        inputs.update({k.replace("_", "-"): v for k, v in given.items()})
        inputs["install"] = "false"
        self.runs += 1
        files = self.runner_temp / f"run-{self.runs}"
        files.mkdir(parents=True)
        step_summary = files / "step-summary.md"
        step_summary.touch()
        outputs: dict[str, dict[str, str]] = {}
        printed = []
        code = 0
        for index, step in enumerate(action["runs"]["steps"]):
            if "if" in step and not evaluate_if(step["if"], inputs):
                continue
            assert "run" in step, f"step {index} (uses:) is not skipped by install: false"
            script = files / f"step-{index}.sh"
            script.write_text(step["run"], encoding="utf-8")
            github_output = files / f"step-{index}.output"
            github_output.touch()
            env = dict(self.base_env)
            env.update({k: substitute(v, inputs, outputs) for k, v in step["env"].items()})
            env.update(
                GITHUB_OUTPUT=str(github_output),
                GITHUB_PATH=str(files / "path"),
                GITHUB_STEP_SUMMARY=str(step_summary),
            )
            cwd = self.workspace / substitute(step.get("working-directory", "."), inputs, outputs)
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
            )
            printed.append(proc.stdout + proc.stderr)
            outputs[step.get("id", str(index))] = read_outputs(github_output)
            if proc.returncode != 0:
                code = proc.returncode
                break
        values = {
            name: substitute(spec["value"], inputs, outputs)
            for name, spec in action["outputs"].items()
        }
        return ActionRun(code, "".join(printed), values, step_summary.read_text())


def assert_plan(run: ActionRun, *, changes: bool) -> None:
    assert run.code == 0, run.output
    assert run.outputs["exitcode"] == ("2" if changes else "0")
    assert run.outputs["has-changes"] == ("true" if changes else "false")
    markdown = Path(run.outputs["markdown"]).read_text(encoding="utf-8")
    # Where the plan acts comes first (issue 12), then the summary line in bold.
    assert markdown.splitlines()[0].startswith(("Environment: ", "No environment"))
    first = next(line for line in markdown.splitlines() if line.startswith("**"))
    assert first == f"**{run.outputs['summary']}**"
    if changes:
        assert re.fullmatch(r"\*\*Plan: \d+ to create, \d+ to update, \d+ to delete.*\*\*", first)
    else:
        assert first.startswith("**No changes.")
    saved = json.loads(Path(run.outputs["plan-file"]).read_text(encoding="utf-8"))
    assert "format_version" in saved
    assert bool(saved["changes"]) is changes
    # What goes into a comment, a job summary or a log: no phone number, no secret.
    for shown in (markdown, run.output, run.summary):
        assert not PHONE.search(shown)
        assert WEBHOOK_SECRET not in shown
    assert run.summary == "" or markdown in run.summary


# --- the example workflows' github-script steps, run with node against a fake GitHub API ------

COMMENT_STEP = "Comment the plan (one comment per environment, updated in place)"
DRIFT_STEP = "Open, update or close the drift issue"
FIND_STEP = "Find the merged pull request and its successful plan run"
FAKE_GITHUB = r"""
const fs = require('fs');
const state = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const script = fs.readFileSync(process.argv[3], 'utf8');
const calls = [];
const outputs = {};
const call = (name, result) => async (params) => {
  calls.push([name, params]);
  return { data: result === undefined ? {} : result };
};
const github = {
  paginate: async (method, params) => (await method(params)).data,
  rest: {
    issues: {
      listComments: call('issues.listComments', state.comments),
      createComment: call('issues.createComment'),
      updateComment: call('issues.updateComment'),
      listForRepo: call('issues.listForRepo', state.issues),
      create: call('issues.create'),
      update: call('issues.update'),
    },
    repos: {
      listPullRequestsAssociatedWithCommit: call('repos.listPulls', state.pulls),
    },
    actions: {
      listWorkflowRuns: call('actions.listWorkflowRuns', { workflow_runs: state.runs }),
      listWorkflowRunArtifacts: call('actions.listArtifacts', { artifacts: state.artifacts }),
    },
  },
};
const context = {
  repo: { owner: 'acme', repo: 'voice' }, serverUrl: 'https://github.com', runId: 99,
  sha: 'merge0sha', ref: 'refs/heads/main', eventName: state.eventName || 'push',
  payload: { pull_request: { number: 5 } },
};
const core = {
  setOutput: (name, value) => { outputs[name] = value; },
  warning: (message) => calls.push(['core.warning', message]),
  notice: (message) => calls.push(['core.notice', message]),
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction('github', 'context', 'core', 'require', script)(github, context, core, require)
  .then(() => console.log(JSON.stringify({ calls, outputs })))
  .catch((error) => { console.error(error); process.exit(1); });
"""


def github_script(workflow: str, step_name: str) -> dict[str, Any]:
    data = example(workflow)
    for job in data["jobs"].values():
        for step in job["steps"]:
            if step.get("name") == step_name:
                assert str(step["uses"]).startswith("actions/github-script@")
                known = {*step.get("env", {}), *data.get("env", {}), *job.get("env", {})}
                for name in re.findall(r"process\.env\.(\w+)", step["with"]["script"]):
                    assert name in known, f"{workflow}: the script reads {name}, never set"
                return dict(step)
    raise AssertionError(f"{workflow}: no step named {step_name!r}")


def run_github_script(
    step: dict[str, Any], env: dict[str, str], state: dict[str, Any], tmp_path: Path
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the github-script steps are not run")
    (tmp_path / "fake.js").write_text(FAKE_GITHUB)
    (tmp_path / "state.json").write_text(json.dumps(state))
    (tmp_path / "script.js").write_text(step["with"]["script"])
    proc = subprocess.run(
        [
            node,
            str(tmp_path / "fake.js"),
            str(tmp_path / "state.json"),
            str(tmp_path / "script.js"),
        ],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    return [(name, params) for name, params in result["calls"]], result["outputs"]


def writes(calls: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The calls that change something on GitHub."""
    return [(n, p) for n, p in calls if n.startswith("issues.") and not n.startswith("issues.list")]


def test_the_plan_comment_is_created_once_then_updated_in_place(tmp_path: Path) -> None:
    step = github_script("plan-on-pull-request.yml", step_name=COMMENT_STEP)
    markdown = tmp_path / "plan.md"
    markdown.write_text("**Plan: 1 to create, 0 to update, 0 to delete.**\n<details>...")
    env = {
        "RECONCILER_ENV": "staging",
        "PLAN_MARKDOWN": str(markdown),
        "PLAN_EXITCODE": "2",
        "HEAD_SHA": "0123456789abcdef",
    }
    calls, _ = run_github_script(step, env, {"comments": []}, tmp_path)
    [(name, params)] = writes(calls)
    assert name == "issues.createComment" and params["issue_number"] == 5
    body = params["body"]
    assert body.startswith("<!-- reconciler-plan:staging -->\n")
    assert "0123456" in body and "**Plan: 1 to create" in body

    bot, human = {"type": "Bot"}, {"type": "User"}
    comments = [
        {"id": 1, "user": human, "body": "<!-- reconciler-plan:staging --> quoted by a human"},
        {"id": 2, "user": bot, "body": "<!-- reconciler-plan:dev -->\nold dev plan"},
        {"id": 3, "user": bot, "body": "<!-- reconciler-plan:staging -->\nold staging plan"},
    ]
    calls, _ = run_github_script(step, env, {"comments": comments}, tmp_path)
    [(name, params)] = writes(calls)
    assert name == "issues.updateComment" and params["comment_id"] == 3
    assert "**Plan: 1 to create" in params["body"]

    failed = {**env, "PLAN_MARKDOWN": "", "PLAN_EXITCODE": "1"}
    calls, _ = run_github_script(step, failed, {"comments": comments}, tmp_path)
    [(name, params)] = writes(calls)
    assert name == "issues.updateComment" and "The plan failed" in params["body"]


def test_the_drift_issue_is_opened_updated_and_closed(tmp_path: Path) -> None:
    step = github_script("drift-check.yml", step_name=DRIFT_STEP)
    markdown = tmp_path / "plan.md"
    markdown.write_text("**Plan: 0 to create, 1 to update, 0 to delete.**\n")
    drift = {"RECONCILER_ENV": "prod", "HAS_CHANGES": "true", "PLAN_MARKDOWN": str(markdown)}
    calm = {**drift, "HAS_CHANGES": "false", "PLAN_MARKDOWN": ""}
    mine = {"number": 12, "body": "<!-- reconciler-drift:prod -->\nold"}
    others = [
        {"number": 10, "body": "<!-- reconciler-drift:dev -->\nold"},
        {"number": 11, "body": "<!-- reconciler-drift:prod -->", "pull_request": {}},
    ]

    [(name, params)] = writes(run_github_script(step, drift, {"issues": others}, tmp_path)[0])
    assert name == "issues.create" and params["labels"] == ["reconciler-drift"]
    assert params["body"].startswith("<!-- reconciler-drift:prod -->\n")
    assert "1 to update" in params["body"] and "prod" in params["title"]

    issues = [*others, mine]
    [(name, params)] = writes(run_github_script(step, drift, {"issues": issues}, tmp_path)[0])
    assert name == "issues.update" and params["issue_number"] == 12
    assert "1 to update" in params["body"] and "state" not in params

    done = writes(run_github_script(step, calm, {"issues": issues}, tmp_path)[0])
    assert [name for name, _ in done] == ["issues.createComment", "issues.update"]
    assert done[1][1] == {
        "owner": "acme",
        "repo": "voice",
        "issue_number": 12,
        "state": "closed",
        "state_reason": "completed",
    }
    assert writes(run_github_script(step, calm, {"issues": others}, tmp_path)[0]) == []


def test_apply_on_merge_finds_the_plan_run_of_the_merged_head(tmp_path: Path) -> None:
    step = github_script("apply-on-merge.yml", step_name=FIND_STEP)
    env = {"PLAN_WORKFLOW": "reconciler-plan.yml"}
    pr = {"number": 5, "merged_at": "2030-01-01T00:00:00Z", "base": {"ref": "main"}}
    pr["head"] = {"sha": "head0sha"}
    run = {"id": 4242, "html_url": "https://github.com/acme/voice/actions/runs/4242"}
    artifacts = [{"name": f"reconciler-plan-{e}", "expired": False} for e in ("dev", "prod")]
    state = {"pulls": [pr], "runs": [run], "artifacts": artifacts}

    calls, outputs = run_github_script(step, env, state, tmp_path)
    assert outputs == {"run-id": "4242", "head-sha": "head0sha"}
    [runs] = [params for name, params in calls if name == "actions.listWorkflowRuns"]
    assert runs["workflow_id"] == "reconciler-plan.yml" and runs["head_sha"] == "head0sha"
    assert runs["status"] == "success" and runs["event"] == "pull_request"

    changes: tuple[dict[str, Any], ...] = (
        {"pulls": []},
        {"runs": []},
        {"artifacts": [{**artifacts[0], "expired": True}]},
        {"eventName": "workflow_dispatch"},
    )
    for changed in changes:
        calls, outputs = run_github_script(step, env, {**state, **changed}, tmp_path)
        assert outputs == {}, changed
        assert any(name == "core.warning" for name, _ in calls), changed
