"""Issue 12, item 3: every plan and apply starts by saying where it acts (the environment,
or "no environment", and per provider the base URL and the name of the key's variable)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.usefixtures("checked_requests")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def ok(result: Any) -> Any:
    assert result.code == 0, result.output
    return result


AGENT = "kind: Agent\nname: acme_support\ncallTemplate:\n  voice: Mark\n"


def test_every_rendering_starts_with_where_it_acts(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "a.yaml", AGENT)
    write(
        manifests,
        "environments/prod.yaml",
        "providers:\n  ultravox:\n    apiKeyEnv: ULTRAVOX_KEY_PROD\n",
    )
    base = emulator.base_url
    text = ok(cli("plan", str(manifests))).stdout.splitlines()
    assert text[:2] == ["No environment", f"  ultravox: {base} (key from $ULTRAVOX_API_KEY)"]
    env = {"ULTRAVOX_KEY_PROD": emulator.api_key}
    prod = ok(cli("plan", "--env", "prod", str(manifests), env=env)).stdout.splitlines()
    assert prod[:2] == ["Environment: prod", f"  ultravox: {base} (key from $ULTRAVOX_KEY_PROD)"]
    markdown = ok(cli("plan", "--env", "prod", "--format", "markdown", str(manifests), env=env))
    first = markdown.stdout.splitlines()[0]
    assert first == f"Environment: prod · `ultravox: {base} (key from $ULTRAVOX_KEY_PROD)`"
    data = json.loads(ok(cli("plan", "--format", "json", str(manifests))).stdout)
    assert list(data)[:4] == ["format_version", "tool", "environment", "endpoints"]
    assert data["environment"] is None
    assert data["endpoints"] == {"ultravox": {"baseUrl": base, "apiKeyEnv": "ULTRAVOX_API_KEY"}}
    applied = ok(cli("apply", "--auto-approve", "--env", "prod", str(manifests), env=env))
    assert applied.stdout.splitlines()[:2] == prod[:2]
