"""Credentials go only where the operator sent them (issue 11, item 3), and no answer of the
account makes a read end in a traceback (item 7).

A base URL from a file (an environment file under the manifests, a saved plan) whose scheme,
host and port differ from the vendor's default is refused unless the operator allows it in
the process environment (`RECONCILER_ALLOWED_HOSTS`, or the provider's own `*_BASE_URL`);
unknown provider names in environment files are errors at their line. Runs the engine over
`httpx.MockTransport`: every request that would carry a key is recorded.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.core.domain import Plan
from reconciler.core.errors import ApiError, ConfigError, ManifestError
from reconciler.core.origins import check_file_base_url
from reconciler.core.planning import PlanOptions
from reconciler.providers import registry
from reconciler.runtime import engine
from reconciler.runtime.client import ClientHooks

STOLEN = "ghp_deploytoken0123456789abcdef"


def layout(tmp_path: Path, environment: str, manifest: str = "") -> Path:
    manifests = tmp_path / "manifests"
    (manifests / "environments").mkdir(parents=True)
    (manifests / "agents.yaml").write_text(
        manifest or "kind: Agent\nname: support\ncallTemplate:\n  systemPrompt: Hi\n"
    )
    (manifests / "environments" / "prod.yaml").write_text(textwrap.dedent(environment).lstrip())
    return manifests


class Recorder:
    def __init__(self, answer: Any = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer if answer is not None else {"results": [], "next": None}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.answer)


def plan(manifests: Path, environ: dict[str, str], recorder: Recorder) -> Plan:
    hooks = ClientHooks(transport=httpx.MockTransport(recorder))
    workspace = engine.Workspace.open([str(manifests)], environ, "prod", hooks)
    return asyncio.run(engine.plan_workspace(workspace, workspace.desired(), PlanOptions()))


ELSEWHERE = """
providers:
  ultravox:
    baseUrl: https://collector.attacker.example
    apiKeyEnv: CI_DEPLOY_TOKEN
"""


def test_an_environment_file_cannot_send_a_key_to_another_host(tmp_path: Path) -> None:
    manifests = layout(tmp_path, ELSEWHERE)
    recorder = Recorder()
    with pytest.raises(ConfigError) as caught:
        plan(manifests, {"CI_DEPLOY_TOKEN": STOLEN}, recorder)
    message = caught.value.render()
    assert "environments/prod.yaml:3: providers.ultravox.baseUrl" in message
    assert "https://collector.attacker.example" in message
    assert "RECONCILER_ALLOWED_HOSTS" in message and STOLEN not in message
    assert recorder.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://api.ultravox.ai:8443",  # another port
        "http://api.ultravox.ai",  # another scheme
        "https://api.ultravox.ai.attacker.example",
        "https://user@attacker.example",
    ],
)
def test_scheme_host_and_port_must_all_match(url: str) -> None:
    with pytest.raises(ConfigError, match="is not the provider's"):
        check_file_base_url(url, trusted=["https://api.ultravox.ai"], environ={}, where="f")


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, "https://api.ultravox.ai/"),
        ({}, "https://API.ultravox.ai:443"),
        (
            {"RECONCILER_ALLOWED_HOSTS": "https://staging.example.com"},
            "https://staging.example.com",
        ),
        ({"RECONCILER_ALLOWED_HOSTS": "staging.example.com, x.example"}, "https://x.example/v1"),
        ({"RECONCILER_ALLOWED_HOSTS": "http://127.0.0.1:8765"}, "http://127.0.0.1:8765"),
    ],
)
def test_what_the_operator_allows(environ: dict[str, str], url: str) -> None:
    check_file_base_url(url, trusted=["https://api.ultravox.ai"], environ=environ, where="f")


def test_the_operators_own_base_url_is_trusted(tmp_path: Path) -> None:
    manifests = layout(
        tmp_path,
        "providers:\n  ultravox:\n    baseUrl: http://127.0.0.1:8765\n",
    )
    recorder = Recorder()
    environ = {"ULTRAVOX_BASE_URL": "http://127.0.0.1:8765", "ULTRAVOX_API_KEY": "k" * 12}
    plan(manifests, environ, recorder)
    assert [str(r.url.copy_with(query=None)) for r in recorder.requests] == [
        "http://127.0.0.1:8765/api/agents"
    ]


def test_an_allow_list_entry_must_be_an_origin() -> None:
    with pytest.raises(ConfigError, match="RECONCILER_ALLOWED_HOSTS: 'ftp://x' is not an origin"):
        check_file_base_url(
            "https://x", trusted=[], environ={"RECONCILER_ALLOWED_HOSTS": "ftp://x"}, where="f"
        )


def test_an_unknown_provider_name_is_an_error_at_its_line(tmp_path: Path) -> None:
    manifests = layout(
        tmp_path,
        """
        description: prod
        providers:
          ultravx:
            apiKeyEnv: ULTRAVOX_API_KEY_PROD
        """,
    )
    with pytest.raises(ManifestError) as caught:
        engine.Workspace.open([str(manifests)], {}, "prod")
    message = str(caught.value)
    assert "environments/prod.yaml:3: providers: unknown provider 'ultravx'" in message
    assert 'did you mean "ultravox"' in message


def test_a_manifest_cannot_read_the_key_an_environment_names(tmp_path: Path) -> None:
    manifests = layout(
        tmp_path,
        "providers:\n  ultravox:\n    apiKeyEnv: ULTRAVOX_API_KEY_PROD\n",
        "kind: Agent\nname: support\ncallTemplate:\n"
        "  sharedSecrets: ['${ULTRAVOX_API_KEY_PROD}']\n",
    )
    workspace = engine.Workspace.open([str(manifests)], {"ULTRAVOX_API_KEY_PROD": STOLEN}, "prod")
    with pytest.raises(ManifestError, match="ULTRAVOX_API_KEY_PROD holds a provider's API key"):
        workspace.desired()


def test_a_saved_plans_endpoints_are_checked_like_a_files(tmp_path: Path) -> None:
    saved = Plan(
        endpoints={"ultravox": {"baseUrl": "https://x.attacker.example", "apiKeyEnv": "K"}}
    )
    recorder = Recorder()
    session = engine.saved_plan_session(
        saved, {"K": STOLEN}, hooks=ClientHooks(transport=httpx.MockTransport(recorder))
    )

    async def go() -> None:
        async with session:
            await session.api(registry.provider("ultravox"))

    with pytest.raises(ConfigError, match="is not the provider's"):
        asyncio.run(go())
    assert recorder.requests == []
    bad: tuple[dict[str, dict[str, str]], ...] = (
        {"ultravx": {}},
        {"ultravox": {"baseUrl": "ftp://x"}},
    )
    for endpoints in bad:
        with pytest.raises(ConfigError, match="saved plan"):
            engine.saved_plan_session(Plan(endpoints=endpoints), {})


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ([None], "unexpected shape"),
        ([{"name": "support", "callTemplate": {}}], "unexpected shape"),
        (["an agent"], "unexpected shape"),
    ],
    ids=["null-item", "no-agentId", "string-item"],
)
def test_an_account_answer_of_another_shape_is_an_error(
    tmp_path: Path, results: list[Any], message: str
) -> None:
    manifests = layout(tmp_path, "description: prod\n")
    recorder = Recorder({"results": results, "next": None})
    with pytest.raises(ApiError, match=message):
        plan(manifests, {"ULTRAVOX_API_KEY": "k" * 12}, recorder)
