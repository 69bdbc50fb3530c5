"""Campaigns run only where they are meant to (issue 10, item 4).

With `--env`, a ScheduledBatch or BatchCall document without `environments:` is an error when
the manifests are read (validate, plan, apply): at its file and line, nothing sent, saying to
list its environments. Agents keep their rule: without `environments:`, every environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import ManifestError
from reconciler.manifests.environment import load_environment
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from tests.conftest import Cli

AGENT = "kind: Agent\nname: caller\ncallTemplate:\n  systemPrompt: Hello.\n"
BATCH = (
    "kind: ScheduledBatch\nname: renewals\nagent: caller\n"
    'windowStart: "2030-01-14T16:00:00Z"\nwindowEnd: "2030-01-15T01:00:00Z"\n'
    'calls:\n  - medium: {twilio: {outgoing: {to: "+14155550101", from: "+14155550199"}}}\n'
)
BATCH_CALL = (
    "kind: BatchCall\nprovider: threetone\nname: spring\nagentId: agent_1\n"
    'recipients:\n  - phone_number: "+14155550102"\n'
)


def manifests(tmp_path: Path, *documents: str) -> Path:
    root = tmp_path / "manifests"
    (root / "environments").mkdir(parents=True)
    for name in ("prod", "staging"):
        (root / "environments" / f"{name}.yaml").write_text(f"description: {name}\n")
    (root / "all.yaml").write_text("---\n".join(documents))
    return root


def load(root: Path, env: str | None) -> list[str]:
    environment = load_environment([str(root)], env) if env else None
    found = parse_manifests([str(root)], registry.kinds(), {}, environment)
    return sorted(str(d.key) for d in found)


def test_without_env_every_document_is_read(tmp_path: Path) -> None:
    root = manifests(tmp_path, AGENT, BATCH, BATCH_CALL)
    assert load(root, None) == ["Agent/caller", "BatchCall/spring", "ScheduledBatch/renewals"]


@pytest.mark.parametrize(
    ("document", "ident"),
    [(BATCH, "ScheduledBatch/renewals"), (BATCH_CALL, "BatchCall/spring")],
    ids=["ScheduledBatch", "BatchCall"],
)
def test_with_env_a_campaign_without_environments_is_an_error_at_its_line(
    tmp_path: Path, document: str, ident: str
) -> None:
    root = manifests(tmp_path, AGENT, document)
    with pytest.raises(ManifestError) as caught:
        load(root, "prod")
    (diagnostic,) = caught.value.diagnostics
    assert (Path(diagnostic.file).name, diagnostic.line) == ("all.yaml", 6)
    assert ident in diagnostic.message and "environments: [prod]" in diagnostic.message


def test_agents_keep_running_in_every_environment(tmp_path: Path) -> None:
    root = manifests(
        tmp_path,
        AGENT,
        "environments: [prod]\n" + BATCH,
        "environments: [staging]\n" + BATCH_CALL,
    )
    assert load(root, "prod") == ["Agent/caller", "ScheduledBatch/renewals"]
    assert load(root, "staging") == ["Agent/caller", "BatchCall/spring"]


def test_validate_and_plan_refuse_it_and_send_nothing(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    root = manifests(tmp_path, AGENT, BATCH, "environments: [prod]\n" + BATCH_CALL)
    validated = cli("validate", "--env", "prod", str(root))
    assert validated.code == 1
    assert "all.yaml:6: ScheduledBatch/renewals has no `environments:`" in validated.stderr
    assert "nothing was sent" in validated.stderr
    planned = cli("plan", "--env", "prod", str(root))
    assert planned.code == 1 and "environments: [prod]" in planned.stderr
    assert emulator.admin.requests() == []
    assert cli("validate", str(root)).code == 0  # without --env: every resource
