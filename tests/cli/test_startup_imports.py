"""What a command imports at start-up (issue 14): `validate` runs in pre-commit hooks, so it
must not pay for what only network commands need (the HTTP client and httpx, and asyncio: a
command that reads no account runs no event loop), what only a plan with changes needs
(deepdiff), phonenumbers for manifests without a phone number, nor the types of kinds the
manifests do not use, nor what only a typo's suggestion (difflib), markdown (html), an
apply or the HTTP log lines (logging) need, nor the planning, the plan's classes or its
renderer, nor the models of an environment file when none is read. Checked in a fresh
interpreter: this test process has long imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reconciler.providers import registry
from reconciler.providers.base import load_type

PROBE = """
import json, sys
from reconciler.cli.main import cli
try:
    cli.main(sys.argv[1:], prog_name="reconciler")
except SystemExit as exit:
    code = exit.code
LAZY = (
    "asyncio",
    "httpx",
    "deepdiff",
    "phonenumbers",
    "difflib",
    "html",
    "logging",
    "reconciler.runtime.apply",
    "reconciler.runtime.client",
    "reconciler_apis.model",
    "reconciler.providers.ultravox.batches",
    "reconciler.providers.batchcalling.batch_calls",
    "reconciler.core.render",
    "reconciler.core.planfile",
    "reconciler.core.planning",
    "reconciler.core.changes",
    # pydantic's plugin loader imports it; the command line runs no pydantic plugins.
    "importlib.metadata",
    "traceback",
)
loaded = sorted(m for m in LAZY if m in sys.modules)
# Built by the first run that reads an environment file (`--env`): none here.
built = sys.modules["reconciler.manifests.environment"].Environment.__pydantic_complete__
# The first signature of a builtin (a model's `default_factory=list`) compiles these patterns.
tokenized = sys.modules["tokenize"]._compile.cache_info().misses
print(json.dumps({"code": code, "loaded": loaded, "tokenized": tokenized, "built": built}))
"""


def probe(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_validate_imports_neither_the_client_nor_deepdiff_nor_asyncio(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(
        "kind: Agent\nname: support\ncallTemplate:\n  systemPrompt: Help.\n"
    )
    assert probe("validate", str(tmp_path)) == {
        "code": 0,
        "loaded": [],
        "tokenized": 0,
        "built": False,
    }


PLAN_PROBE = """
import json, sys
import httpx
from reconciler.cli.main import cli
from reconciler.runtime.client import ClientHooks
sent = []
def answer(request):
    sent.append(f"{request.method} {request.url.path}")
    return httpx.Response(200, json={"results": [], "next": None})
try:
    hooks = ClientHooks(transport=httpx.MockTransport(answer))
    cli.main(sys.argv[1:], prog_name="reconciler", obj=hooks)
except SystemExit as exit:
    code = exit.code
LAZY = (
    "reconciler.providers.ultravox.batches",
    "reconciler.providers.campaigns",
    "reconciler.manifests.recipients",
    "reconciler.providers.batchcalling.batch_calls",
    "reconciler.runtime.saved",
    "reconciler.runtime.apply",
)
loaded = sorted(m for m in LAZY if m in sys.modules)
print(json.dumps({"code": code, "sent": sent, "loaded": loaded}))
"""


def test_a_plan_of_agents_imports_no_campaign_code_nor_the_apply_step(tmp_path: Path) -> None:
    # The live agents are read without the ScheduledBatch type, which comes after them in
    # their provider's kinds: its module and the campaign code are never imported. A plan
    # that is not saved (--out) imports neither the plan files nor the apply step.
    (tmp_path / "agent.yaml").write_text(
        "kind: Agent\nname: support\ncallTemplate:\n  systemPrompt: Help.\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", PLAN_PROBE, "plan", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "ULTRAVOX_API_KEY": "probe-key", "NO_COLOR": "1"},
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"code": 0, "sent": ["GET /api/agents"], "loaded": []}


def test_every_provider_declares_its_kinds_in_their_order() -> None:
    # The engine reads a provider's kinds in declaration order and imports none after the
    # last one a run needs; that is only right if declaration order is `order`.
    for provider in registry.PROVIDERS:
        orders = [load_type(where).order for _, where in provider.types]
        assert orders == sorted(set(orders)), provider.name


STAND_IN = """
import json, sys
import reconciler.cli.main
before = sys.modules["pydantic.plugin._loader"]
plugins = before.get_plugins()
from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP
after = sys.modules["pydantic.plugin._loader"]
print(json.dumps([list(plugins), PYDANTIC_ENTRY_POINT_GROUP, after is before,
                  hasattr(after, "entry_points")]))
"""


def test_pydantics_plugin_loader_stand_in_answers_none_and_hands_over_the_rest() -> None:
    """The command line's stand-in for pydantic's plugin loader answers no plugins; a name it
    does not have (a later pydantic may import more of that module) brings the real module in
    its place, rather than failing the import."""
    run = subprocess.run(
        [sys.executable, "-c", STAND_IN], capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == [[], "pydantic", False, True]
