"""The reader lists only the batches of the manifests' agents where the vendor filters by
`agent_id` (ElevenLabs' workspace listing; Threetone's has no such parameter): fewer pages,
the same plan. A BatchCall with no batch on its agent may have moved agents; then the whole
workspace is listed, so a moved campaign is still replaced (or refused), never submitted twice.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_apis import elevenlabs as elevenlabs_api
from reconciler_apis import threetone as threetone_api
from reconciler_emulator import EmulatorConfig
from reconciler_emulator.batchcalling import batch_calls
from tests.conftest import AnyEmulator, Cli, MakeCli, MakeEmulator

pytestmark = pytest.mark.usefixtures("checked_requests")

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
PAGE = 2  # batches per page: the emulator's max page size
OTHERS = 20  # batches of other agents in the workspace


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(
        api_key="test-key", max_page_size=PAGE, start_time=START, calls_per_minute=60
    )
    return make_emulator(config)


@pytest.fixture
def cli(make_cli: MakeCli, emulator: AnyEmulator) -> Cli:
    env = {}
    for variable in ("THREETONE", "ELEVENLABS"):
        env[f"{variable}_BASE_URL"] = emulator.base_url
        env[f"{variable}_API_KEY"] = emulator.api_key
    return make_cli(env, emulator)


def seed(emulator: Any, api: Any, name: str, agent: str, number: str) -> None:
    """A batch submitted in the console (not through the tool: not journaled)."""
    store = emulator.store
    body = {"call_name": name, "agent_id": agent, "recipients": [{"phone_number": number}]}
    with store.lock:
        batch_calls(store).submit(api, body, store.now, store.interval)


def busy_workspace(emulator: Any, api: Any) -> None:
    for index in range(OTHERS):
        seed(emulator, api, f"other_{index}", f"agent_other_{index % 3}", f"+1646555{index:04d}")


def manifest(directory: Path, provider: str, agent: str = "agent_mine") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "campaign.yaml").write_text(
        textwrap.dedent(f"""
            kind: BatchCall
            provider: {provider}
            name: spring
            agentId: {agent}
            scheduledTime: "2030-01-14T16:00:00Z"
            recipients:
              - phone_number: "+14155554000"
              - phone_number: "+14155554001"
            """).lstrip()
    )
    return directory


def listings(emulator: Any) -> list[dict[str, Any]]:
    return [e for e in emulator.admin.requests() if e["path"].endswith("/workspace")]


@pytest.mark.parametrize(
    ("provider", "api", "pages"),
    [
        # ElevenLabs: one listing of the manifest's agent: 1 page.
        ("elevenlabs", elevenlabs_api.API, 1),
        # Threetone has no agent filter: the whole workspace, 21 batches in pages of 2.
        ("threetone", threetone_api.API, 11),
    ],
)
def test_only_the_manifests_agents_are_listed_where_the_vendor_filters(
    cli: Cli, emulator: Any, tmp_path: Path, provider: str, api: Any, pages: int
) -> None:
    path = manifest(tmp_path / "m", provider)
    applied = cli("apply", "--auto-approve", str(path))
    assert applied.code == 0, applied.output
    busy_workspace(emulator, api)
    emulator.admin.clear_requests()
    result = cli("plan", "--detailed-exitcode", str(path))
    assert result.code == 0, result.output  # the same (empty) plan
    read = listings(emulator)
    assert len(read) == pages
    if api.filters_by_agent:
        assert {e["query"].get("agent_id") for e in read} == {"agent_mine"}
    else:
        assert all("agent_id" not in e["query"] for e in read)


def test_a_campaign_moved_to_another_agent_is_found_by_listing_everything(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    path = manifest(tmp_path / "m", "elevenlabs")
    applied = cli("apply", "--auto-approve", str(path))
    assert applied.code == 0, applied.output
    busy_workspace(emulator, elevenlabs_api.API)
    manifest(path, "elevenlabs", agent="agent_new")
    emulator.admin.clear_requests()
    result = cli("plan", str(path))
    assert result.code == 0, result.output
    # Nothing on agent_new, so the whole workspace was listed, and spring found on agent_mine:
    # replaced (nobody was dialled yet), not submitted a second time beside it.
    read = listings(emulator)
    assert read[0]["query"].get("agent_id") == "agent_new"
    assert any("agent_id" not in e["query"] for e in read)
    assert "BatchCall/spring will be replaced" in result.stdout
    assert "/cancel" in result.stdout


def test_a_saved_plan_is_not_stale_for_batches_of_other_agents(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    """The staleness check lists everything; the digest covers the resource's own agent only,
    so a same-named batch of another agent, which the filtered plan never saw, does not make
    the saved plan stale."""
    path = manifest(tmp_path / "m", "elevenlabs")
    applied = cli("apply", "--auto-approve", str(path))
    assert applied.code == 0, applied.output
    emulator.admin.advance(5)
    seed(emulator, elevenlabs_api.API, "spring", "agent_other", "+16465550000")
    emulator.admin.advance(3600)  # both started: ours can only take additions now
    (path / "campaign.yaml").write_text(
        (path / "campaign.yaml").read_text() + '  - phone_number: "+14155554002"\n'
    )
    saved = tmp_path / "plan.json"
    planned = cli("plan", "--out", str(saved), str(path))
    assert planned.code == 0, planned.output
    assert "spring~2" in planned.stdout
    applied = cli("apply", "--plan", str(saved))
    assert applied.code == 0, applied.output
    assert "stale" not in applied.output
    # Without a manifest to say which agent is its own, a plan that listed everything agrees.
    emulator.admin.clear_requests()
    again = cli("plan", "--detailed-exitcode", str(path))
    assert again.code == 0, again.output
