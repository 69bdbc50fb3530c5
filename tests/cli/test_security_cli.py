"""The command line's promises under hostile input (issue 11), end to end in process.

* Nothing leaks: secrets and phone numbers are masked in every output (text, markdown, json,
  `-v`, errors, server error bodies) by one pass over all that is printed; plan files hold
  references, never values, and are written 0600.
* Nothing is sent by mistake: `apply --plan` re-plans the recorded manifests and refuses a
  plan file that differs (an added DELETE, a changed body, another endpoint).
* Nothing hangs: the command's deadline (`--timeout`) and the per-request timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLES, AnyEmulator, Cli
from tests.support.hostile import RawStream, empty_lists, raw, run
from tests.support.secret_scan import MARKERS

KEY = MARKERS["api_key"]
HOOK = MARKERS["webhook"]
TOKEN = MARKERS["token"]
SHARED = MARKERS["shared"]
AGENT_ID = "0f3f4e6a-0000-4000-8000-000000000001"
NUMBER = "+14155550123"

AGENT = f"""\
kind: Agent
name: support
callTemplate:
  systemPrompt: "Call {NUMBER} or 1 (415) 555-0199 if the line drops."
  sharedSecrets: ['${{SHARED}}']
  selectedTools:
    - toolName: lookup
      authTokens: {{X-Api-Key: '${{TOOL_TOKEN}}'}}
"""
CAMPAIGN = f"""\
kind: ScheduledBatch
name: chat
agentId: {AGENT_ID}
windowStart: "2030-01-14T16:00:00Z"
windowEnd: "2030-01-14T20:00:00Z"
webhookUrl: https://hooks.example.com/uv
webhookSecret: ${{HOOK_SECRET}}
calls:
  - medium: {{serverWebSocket: {{inputSampleRate: 16000}}}}
    templateContext: {{callback: "{NUMBER}"}}
"""
ENV = {"ULTRAVOX_API_KEY": KEY, "HOOK_SECRET": HOOK, "TOOL_TOKEN": TOKEN, "SHARED": SHARED}
SECRETS = (KEY, HOOK, TOKEN, SHARED)


def layout(tmp_path: Path) -> Path:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "agent.yaml").write_text(AGENT)
    (manifests / "campaign.yaml").write_text(CAMPAIGN)
    return manifests


def clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert NUMBER not in text and "4155550123" not in text
    assert "555-0199" not in text


def echoing(request: httpx.Request) -> httpx.Response:
    """An account that is empty, and refuses every write with an error that echoes the
    request (headers and body), as some servers do."""
    if request.method == "GET":
        return empty_lists(request)
    echo = {
        "detail": f"bad request: {request.content.decode()} "
        f"(key {request.headers.get('X-API-Key')})"
    }
    return httpx.Response(400, json=echo)


# --- item 1: one masking pass over everything printed and written -------------------------------


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plans_show_references_and_masked_numbers_only(tmp_path: Path, fmt: str) -> None:
    manifests = layout(tmp_path)
    result = run(["-v", "plan", "--format", fmt, str(manifests)], echoing, env=ENV)
    assert result.code == 0, result.output
    clean(result.output)
    assert "+1415***0123" in result.stdout
    if fmt != "markdown":
        assert "$HOOK_SECRET" in result.stdout and "$TOOL_TOKEN" in result.stdout
    assert result.writes() == []


def test_a_saved_plan_holds_references_and_is_private(tmp_path: Path) -> None:
    manifests = layout(tmp_path)
    out = tmp_path / "plan.json"
    out.write_text("{}")
    out.chmod(0o644)  # an existing file is narrowed too
    result = run(["plan", "--out", str(out), str(manifests)], echoing, env=ENV, cwd=tmp_path)
    assert result.code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    for secret in SECRETS:
        assert secret not in text
    saved = json.loads(text)
    assert saved["manifests"] == {"paths": ["manifests"], "prune": False, "targets": []}
    bodies = json.dumps([r["body"] for c in saved["changes"] for r in c["requests"]])
    assert '{"$secret": "SHARED"}' in bodies and '{"$secret": "HOOK_SECRET"}' in bodies


def test_an_error_body_that_echoes_the_request_is_masked(tmp_path: Path) -> None:
    manifests = layout(tmp_path)
    result = run(["-v", "apply", "--auto-approve", str(manifests)], echoing, env=ENV)
    assert result.code == 1
    assert "HTTP 400" in result.stderr and "bad request" in result.stderr
    clean(result.output)
    sent = [r for r in result.writes() if r.method == "POST"]
    assert sent and SHARED in sent[0].content.decode(), "apply resolves secrets at send time"


def test_the_api_key_never_reaches_a_manifest_field(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "kind: Agent\nname: a\ncallTemplate:\n  systemPrompt: '${ULTRAVOX_API_KEY}'\n"
    )
    for command in ("validate", "plan"):
        result = run([command, str(tmp_path)], echoing, env=ENV)
        assert result.code == 1
        assert "ULTRAVOX_API_KEY holds a provider's API key" in result.stderr
        assert KEY not in result.output
        assert result.requests == []


def test_numbers_in_free_text_are_masked_in_errors_too(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "kind: Agent\nname: a\ncallTemplate:\n  systemPrompt: 'x'\n  voice: 14155550123\n"
    )
    result = run(["validate", str(tmp_path)])
    assert result.code == 1 and "14155550123" not in result.output
    assert "14155***0123" in result.stderr


def test_an_unexpected_exception_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.runtime import engine

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom with {KEY}")

    monkeypatch.setattr(engine.Workspace, "desired", broken)
    (tmp_path / "m.yaml").write_text("kind: Agent\nname: a\n")
    result = run(["plan", str(tmp_path)], env=ENV)
    assert result.code == 1 and result.traceback == ""
    assert "Error: internal error (RuntimeError: boom with ***)" in result.stderr
    assert "Traceback" not in result.output


# --- item 3: through the command line ---


def test_an_unknown_provider_in_an_environment_file(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "m.yaml").write_text("kind: Agent\nname: a\n")
    (tmp_path / "environments" / "prod.yaml").write_text(
        "providers:\n  ultravx:\n    apiKeyEnv: PROD_KEY\n"
    )
    result = run(["plan", "--env", "prod", str(tmp_path)], env={"PROD_KEY": "p" * 20})
    assert result.code == 1
    assert "prod.yaml:2: providers: unknown provider 'ultravx'" in result.stderr
    assert result.requests == []


# --- item 6: deadlines ---


def test_the_command_deadline_stops_a_slow_server(tmp_path: Path) -> None:
    class Slow(RawStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            for _ in range(100):
                await asyncio.sleep(0.02)
                yield b" "

    (tmp_path / "m.yaml").write_text("kind: Agent\nname: a\n")
    result = run(
        ["--timeout", "0.3", "--request-timeout", "10", "plan", str(tmp_path)],
        lambda r: httpx.Response(200, stream=Slow()),
    )
    assert result.code == 1, result.output
    assert "did not finish within its deadline of 0.3 s" in result.stderr


def test_a_bad_bound_from_the_environment_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["validate", str(tmp_path)], env={"RECONCILER_MAX_PAGES": "lots"})
    assert result.code == 1
    assert "RECONCILER_MAX_PAGES must be a whole number" in result.stderr


def test_a_gzip_bomb_through_the_command_line(tmp_path: Path) -> None:
    import gzip

    bomb = gzip.compress(b"\x00" * (8 * 1024 * 1024))
    (tmp_path / "m.yaml").write_text("kind: Agent\nname: a\n")
    result = run(
        ["plan", str(tmp_path)],
        lambda r: raw(200, bomb, {"Content-Encoding": "gzip"}),
        env={"RECONCILER_MAX_RESPONSE_BYTES": "1000000"},
    )
    assert result.code == 1 and "larger than 1,000,000 bytes" in result.stderr


# --- item 4: apply --plan applies only what its manifests produce ---


@pytest.fixture
def saved_plan(cli: Cli, emulator: AnyEmulator, tmp_path: Path) -> Path:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "agents", manifests)
    assert cli("apply", "--auto-approve", str(manifests)).code == 0
    support = manifests / "support.yaml"
    support.write_text(support.read_text().replace("temperature: 0.3", "temperature: 0.5"))
    plan_file = tmp_path / "plan.json"
    made = cli("plan", "--out", str(plan_file), str(manifests))
    assert made.code == 0, made.output
    emulator.admin.clear_requests()
    return plan_file


def writes(emulator: AnyEmulator) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.requests() if r["method"] != "GET"]


def edit(plan_file: Path, change: Any) -> None:
    data = json.loads(plan_file.read_text())
    change(data)
    plan_file.write_text(json.dumps(data))


def test_a_saved_plan_as_made_applies(cli: Cli, emulator: AnyEmulator, saved_plan: Path) -> None:
    applied = cli("apply", "--plan", str(saved_plan))
    assert applied.code == 0, applied.output
    assert [(r["method"], r["body"]) for r in writes(emulator)] == [
        ("PATCH", {"callTemplate": {"temperature": 0.5}})
    ]


def _add_delete(data: dict[str, Any]) -> None:
    agent_id = data["changes"][0]["resource_id"]
    data["changes"].append(
        {
            "kind": "Agent",
            "name": "acme_web_chat",
            "provider": "ultravox",
            "action": "delete",
            "requests": [{"method": "DELETE", "path": f"/api/agents/{agent_id}"}],
            "order": 990,
        }
    )
    data["summary"]["delete"] = 1


def _change_body(data: dict[str, Any]) -> None:
    data["changes"][0]["requests"][0]["body"]["callTemplate"]["systemPrompt"] = "pwned"


def _another_endpoint(data: dict[str, Any]) -> None:
    data["endpoints"]["ultravox"]["baseUrl"] = "https://collector.attacker.example"


def _another_path(data: dict[str, Any]) -> None:
    request = data["changes"][0]["requests"][0]
    request["path"] = request["path"].replace("/api/agents/", "/api/agents/../accounts/")


def _no_record(data: dict[str, Any]) -> None:
    del data["manifests"]


def _outside(data: dict[str, Any]) -> None:
    data["manifests"]["paths"] = ["/etc"]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_add_delete, "Agent/acme_web_chat: the file has a change the manifests do not produce"),
        (_change_body, "Agent/acme_support: its requests differ"),
        (_another_endpoint, "endpoints.ultravox.baseUrl: base URL https://collector.attacker"),
        (_another_path, "Agent/acme_support: its requests differ"),
        (_no_record, "does not record the manifests it was made from"),
        (_outside, "records manifests outside the working directory"),
    ],
    ids=["added-delete", "changed-body", "endpoint", "path", "no-record", "outside"],
)
def test_an_edited_plan_sends_nothing(
    cli: Cli, emulator: AnyEmulator, saved_plan: Path, tamper: Any, message: str
) -> None:
    edit(saved_plan, tamper)
    refused = cli("apply", "--plan", str(saved_plan))
    assert refused.code == 1, refused.output
    assert message in refused.stderr
    assert "nothing was sent" in refused.stderr or "Error:" in refused.stderr
    assert writes(emulator) == []


def test_a_plan_whose_manifests_changed_since_is_refused(
    cli: Cli, emulator: AnyEmulator, saved_plan: Path
) -> None:
    support = saved_plan.parent / "manifests" / "support.yaml"
    support.write_text(support.read_text().replace("temperature: 0.5", "temperature: 0.6"))
    refused = cli("apply", "--plan", str(saved_plan))
    assert refused.code == 1
    assert "is not what its manifests produce" in refused.stderr
    assert writes(emulator) == []


def test_a_stale_plan_is_still_reported_as_stale(
    cli: Cli, emulator: AnyEmulator, saved_plan: Path
) -> None:
    support = next(a for a in emulator.admin.state()["agents"] if a["name"] == "acme_support")
    emulator.admin.console_patch_agent(support["agentId"], {"callTemplate": {"voice": "Mark"}})
    refused = cli("apply", "--plan", str(saved_plan))
    assert refused.code == 1
    assert "the plan is stale" in refused.stderr and "changed since the plan was made" in (
        refused.stderr
    )
    assert writes(emulator) == []


def test_plan_files_are_written_owner_only(cli: Cli, tmp_path: Path, saved_plan: Path) -> None:
    assert stat.S_IMODE(os.stat(saved_plan).st_mode) == 0o600
