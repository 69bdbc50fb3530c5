"""Issue 12 end to end: prune only what you own, rename without losing the id, say where.

Two teams share one account. Each keeps its manifests in a directory of its own with a
`kind: Ownership` document; `--prune` in one directory never touches the other's objects, nor
what was made in the console. The tests marked e2e run the real executable over loopback.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler_emulator import EmulatorConfig
from tests.conftest import AnyEmulator, Cli, MakeEmulator

pytestmark = pytest.mark.usefixtures("checked_requests")

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> AnyEmulator:
    config = EmulatorConfig(api_key="test-key", max_page_size=2, start_time=START)
    return make_emulator(config)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def agent(name: str, voice: str = "Mark", extra: str = "") -> str:
    return f"kind: Agent\nname: {name}\n{extra}callTemplate:\n  voice: {voice}\n"


def batch(name: str, on: str, number: str = "+14155550123") -> str:
    return textwrap.dedent(f"""
        kind: ScheduledBatch
        name: {name}
        agent: {on}
        windowStart: "2030-01-14T16:00:00Z"
        windowEnd: "2030-01-14T20:00:00Z"
        calls:
          - medium: {{twilio: {{outgoing: {{to: "{number}", from: "+14155550199"}}}}}}
        """).lstrip()


def ownership(name: str, **claims: list[str]) -> str:
    lines = [f"kind: Ownership\nname: {name}\nclaims:\n"]
    lines += [f"  {kind}: {json.dumps(patterns)}\n" for kind, patterns in claims.items()]
    return "".join(lines)


def writes(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.requests() if r["method"] != "GET"]


def agents(emulator: Any) -> dict[str, dict[str, Any]]:
    found = emulator.admin.state()["agents"]
    return {a["name"]: a for a in (found.values() if isinstance(found, dict) else found)}


def batches(emulator: Any) -> list[dict[str, Any]]:
    return list(emulator.admin.state()["batches"])


def ok(result: Any) -> Any:
    assert result.code == 0, result.output
    return result


def two_teams(cli: Cli, emulator: Any, tmp_path: Path) -> tuple[Path, Path]:
    """Team beta's agents and campaign, team acme's, and an agent made in the console."""
    beta = tmp_path / "beta"
    write(beta, "ownership.yaml", ownership("beta", Agent=["beta_*"], ScheduledBatch=["beta_*"]))
    write(beta, "support.yaml", agent("beta_support"))
    write(beta, "sales.yaml", agent("beta_sales"))
    write(beta, "campaign.yaml", batch("beta_renewals", "beta_sales", "+14155550111"))
    ok(cli("apply", "--auto-approve", str(beta)))
    acme = tmp_path / "acme"
    write(
        acme,
        "ownership.yaml",
        ownership("acme", Agent=["acme_*"], ScheduledBatch=["acme_*"], BatchCall=["*"]),
    )
    write(acme, "support.yaml", agent("acme_support"))
    write(acme, "old.yaml", agent("acme_old"))
    write(acme, "campaign.yaml", batch("acme_renewals", "acme_old"))
    ok(cli("apply", "--auto-approve", str(acme)))
    emulator.admin.seed_agent({"name": "console_bot", "callTemplate": {"voice": "Mark"}})
    return acme, beta


# --- 1. ownership -----------------------------------------------------------------------------


def test_prune_deletes_only_what_the_ownership_claims(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    acme, beta = two_teams(cli, emulator, tmp_path)
    (acme / "old.yaml").unlink()
    (acme / "campaign.yaml").unlink()
    plan = ok(cli("plan", "--prune", str(acme)))
    assert "- ScheduledBatch/acme_renewals will be deleted" in plan.stdout
    assert "- Agent/acme_old will be deleted" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 2 to delete." in plan.stdout
    # Everything else is listed once, collapsed, and never touched.
    assert (
        "Not managed here: 4 live objects (Agent: 3, ScheduledBatch: 1) that no Ownership "
        "claim covers; --prune leaves them alone"
    ) in plan.stdout
    assert "    Agent: beta_sales, beta_support, console_bot" in plan.stdout
    assert "    ScheduledBatch: beta_renewals" in plan.stdout
    assert plan.stdout.count("beta_support") == 1
    assert "beta_support will be" not in plan.stdout

    emulator.admin.clear_requests()
    ok(cli("apply", "--auto-approve", "--prune", str(acme)))
    deleted = [(r["method"], r["path"]) for r in writes(emulator)]
    assert [m for m, _ in deleted] == ["DELETE", "DELETE"]
    assert set(agents(emulator)) == {"acme_support", "beta_support", "beta_sales", "console_bot"}
    assert len(batches(emulator)) == 1  # beta's campaign still runs
    again = ok(cli("plan", "--prune", "--detailed-exitcode", str(acme)))
    assert "No changes." in again.stdout
    # The other team's directory sees its objects as they were.
    assert "No changes." in ok(cli("plan", "--detailed-exitcode", str(beta))).stdout


def test_prune_is_markdown_and_json_too(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    acme, _ = two_teams(cli, emulator, tmp_path)
    markdown = ok(cli("plan", "--prune", "--format", "markdown", str(acme))).stdout
    assert "<details><summary>Not managed here: 4 live objects" in markdown
    assert "- Agent: beta_sales, beta_support, console_bot" in markdown
    data = json.loads(ok(cli("plan", "--prune", "--format", "json", str(acme))).stdout)
    assert data["changes"] == []
    assert sorted(u["name"] for u in data["unmanaged"]) == [
        "beta_renewals",
        "beta_sales",
        "beta_support",
        "console_bot",
    ]
    assert {u["kind"] for u in data["unmanaged"]} == {"Agent", "ScheduledBatch"}


def test_prune_without_ownership_refuses_and_shows_the_document(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "a.yaml", agent("acme_support"))
    write(manifests, "b.yaml", agent("acme_sales"))
    for command in ("plan", "apply"):
        emulator.admin.clear_requests()
        args = [command, "--prune", str(manifests)]
        result = cli(*args) if command == "plan" else cli(*args[:1], "--auto-approve", *args[1:])
        assert result.code == 1, result.output
        assert emulator.admin.requests() == []  # nothing sent, not even a read
        assert "nothing was sent" in result.stderr
        assert f"{manifests / 'ownership.yaml'}:" in result.stderr
        assert "    kind: Ownership\n    name: acme\n    claims:\n" in result.stderr
        assert '      Agent: ["acme_*"]\n' in result.stderr
        assert "Traceback" not in result.output
    # Without --prune nothing changes: no Ownership is needed.
    ok(cli("plan", str(manifests)))


def test_environment_narrows_the_claims(cli: Cli, emulator: Any, tmp_path: Path) -> None:
    acme, _ = two_teams(cli, emulator, tmp_path)
    (acme / "old.yaml").unlink()
    (acme / "campaign.yaml").unlink()
    write(
        acme,
        "environments/prod.yaml",
        """
        overrides:
          Ownership/acme:
            claims:
              Agent: ["acme_support"]
        """,
    )
    prod = ok(cli("plan", "--prune", "--env", "prod", str(acme)))
    # In prod acme owns only its support agent: the old one is left alone there.
    assert "Agent/acme_old will be deleted" not in prod.stdout
    assert "- ScheduledBatch/acme_renewals will be deleted" in prod.stdout
    assert "Agent: acme_old, beta_sales, beta_support, console_bot" in prod.stdout
    plain = ok(cli("plan", "--prune", str(acme)))
    assert "- Agent/acme_old will be deleted" in plain.stdout


def test_an_override_of_an_ownership_that_does_not_exist_is_an_error(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    manifests = tmp_path / "manifests"
    write(manifests, "a.yaml", agent("acme_support"))
    write(manifests, "environments/prod.yaml", "overrides:\n  Ownership/acme:\n    claims: {}\n")
    result = cli("plan", "--env", "prod", str(manifests))
    assert result.code == 1
    assert "overrides: Ownership/acme is not a resource of these manifests" in result.stderr


def test_export_writes_an_ownership_of_what_it_exported(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    two_teams(cli, emulator, tmp_path)
    out = tmp_path / "exported"
    ok(cli("export", "--out", str(out)))
    text = (out / "ownership.yaml").read_text(encoding="utf-8")
    assert "kind: Ownership\nname: exported\nclaims:\n" in text
    claims = text.split("claims:\n", 1)[1]
    for name in ("acme_support", "acme_old", "beta_support", "beta_sales", "console_bot"):
        assert f"    - {name}\n" in claims
    assert "  ScheduledBatch:\n    - acme_renewals\n    - beta_renewals\n" in claims
    # Plan, pruning, shows nothing to do; an agent made since is not the export's.
    emulator.admin.seed_agent({"name": "made_later", "callTemplate": {"voice": "Mark"}})
    plan = ok(cli("plan", "--prune", "--detailed-exitcode", str(out)))
    assert "No changes." in plan.stdout
    assert "Not managed here: 1 live object (Agent: 1)" in plan.stdout
    assert "    Agent: made_later" in plan.stdout


# --- 2. renames keep the id -----------------------------------------------------------------


def test_a_rename_is_one_patch_and_the_campaign_follows(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    acme = tmp_path / "acme"
    write(acme, "ownership.yaml", ownership("acme", Agent=["acme_*"], ScheduledBatch=["*"]))
    write(acme, "agent.yaml", agent("acme_outbound"))
    write(acme, "campaign.yaml", batch("renewals", "acme_outbound"))
    ok(cli("apply", "--auto-approve", str(acme)))
    before = agents(emulator)["acme_outbound"]["agentId"]

    write(acme, "agent.yaml", agent("acme_renewals", "Jessica", "previousNames: [acme_outbound]\n"))
    write(acme, "campaign.yaml", batch("renewals", "acme_renewals"))
    plan = ok(cli("plan", "--prune", str(acme)))
    assert (
        f"~ Agent/acme_renewals (renamed from acme_outbound) will be updated in place (id {before})"
    ) in plan.stdout
    assert '~ name: "acme_outbound" -> "acme_renewals"' in plan.stdout
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.stdout

    emulator.admin.clear_requests()
    ok(cli("apply", "--auto-approve", "--prune", str(acme)))
    sent = writes(emulator)
    assert [(r["method"], r["path"]) for r in sent] == [("PATCH", f"/api/agents/{before}")]
    assert sent[0]["body"] == {"name": "acme_renewals", "callTemplate": {"voice": "Jessica"}}
    assert set(agents(emulator)) == {"acme_renewals"}
    assert agents(emulator)["acme_renewals"]["agentId"] == before
    (live_batch,) = batches(emulator)
    assert live_batch["agentId"] == before  # the campaign runs on the same agent, untouched
    assert "No changes." in ok(cli("plan", "--prune", "--detailed-exitcode", str(acme))).stdout


def test_a_saved_rename_applies_and_is_refused_when_the_new_name_appeared(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    acme = tmp_path / "acme"
    write(acme, "agent.yaml", agent("acme_outbound"))
    ok(cli("apply", "--auto-approve", str(acme)))
    before = agents(emulator)["acme_outbound"]["agentId"]
    write(acme, "agent.yaml", agent("acme_renewals", extra="previousNames: [acme_outbound]\n"))
    saved = str(tmp_path / "plan.json")
    ok(cli("plan", "--out", saved, str(acme)))
    # Someone makes an agent of the new name meanwhile: the saved plan is refused.
    other = emulator.admin.seed_agent({"name": "acme_renewals", "callTemplate": {"voice": "X"}})
    emulator.admin.clear_requests()
    refused = cli("apply", "--plan", saved)
    assert refused.code == 1, refused.output
    assert "nothing was sent" in refused.stderr
    assert writes(emulator) == []
    # Once the name is free again, the saved plan applies: one PATCH, the same id.
    emulator.admin.console_patch_agent(other["agentId"], {"name": "someone_else"})
    ok(cli("apply", "--plan", saved))
    assert [(r["method"], r["path"]) for r in writes(emulator)] == [
        ("PATCH", f"/api/agents/{before}")
    ]
    assert agents(emulator)["acme_renewals"]["agentId"] == before


def test_both_names_live_is_an_error_naming_both_ids(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    acme = tmp_path / "acme"
    write(acme, "ownership.yaml", ownership("acme", Agent=["acme_*"]))
    write(acme, "old.yaml", agent("acme_old"))
    write(acme, "new.yaml", agent("acme_new"))
    ok(cli("apply", "--auto-approve", str(acme)))
    ids = {name: a["agentId"] for name, a in agents(emulator).items()}
    (acme / "old.yaml").unlink()
    write(
        acme,
        "new.yaml",
        agent("acme_new", extra="previousNames: [acme_old]\nlifecycle: {preventDestroy: true}\n"),
    )
    emulator.admin.clear_requests()
    for args in (["plan"], ["plan", "--prune"], ["apply", "--auto-approve", "--prune"]):
        result = cli(*args, str(acme))
        assert result.code == 1, result.output
        assert ids["acme_old"] in result.stderr and ids["acme_new"] in result.stderr
        assert "both exist in the live account" in result.stderr
    # With --prune, the old name would be deleted: preventDestroy protects it as well.
    assert "(a previous name of Agent/acme_new) has lifecycle.preventDestroy" in result.stderr
    assert writes(emulator) == []


def workspace(emulator: Any) -> list[dict[str, Any]]:
    """Every batch of the Threetone workspace, page after page (this emulator pages by 2)."""
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    with emulator.http(headers={"x-api-key": emulator.api_key}) as http:
        while True:
            page = http.get("/v1/voiceai/batch-calling/workspace", params=params).json()
            found += page["batch_calls"]
            if not page["has_more"]:
                return found
            params = {"last_doc": page["next_doc"]}


def batch_call(name: str, number: str) -> str:
    return textwrap.dedent(f"""
        kind: BatchCall
        provider: threetone
        name: {name}
        agentId: agent_winback
        scheduledTime: "2030-01-20T15:00:00Z"
        recipients:
          - id: crm-{number[-4:]}
            phone_number: "{number}"
        """).lstrip()


def test_prune_cancels_an_owned_batch_call_and_leaves_the_others(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    beta = tmp_path / "beta"
    write(beta, "ownership.yaml", ownership("beta", BatchCall=["beta_*"]))
    write(beta, "winback.yaml", batch_call("beta_winback", "+14155553001"))
    ok(cli("apply", "--auto-approve", str(beta)))
    acme = tmp_path / "acme"
    write(acme, "ownership.yaml", ownership("acme", BatchCall=["acme_*"]))
    write(acme, "spring.yaml", batch_call("acme_spring", "+14155553002"))
    write(acme, "winback.yaml", batch_call("acme_winback", "+14155553003"))
    ok(cli("apply", "--auto-approve", str(acme)))
    (acme / "winback.yaml").unlink()
    plan = ok(cli("plan", "--prune", str(acme)))
    assert "- BatchCall/acme_winback will be deleted" in plan.stdout
    assert "cancelled, not deleted" in plan.stdout
    assert "    BatchCall: beta_winback" in plan.stdout  # not managed here
    emulator.admin.clear_requests()
    ok(cli("apply", "--auto-approve", "--prune", str(acme)))
    sent = [(r["method"], r["path"]) for r in writes(emulator)]
    assert len(sent) == 1 and sent[0][0] == "POST" and sent[0][1].endswith("/cancel")
    status = {b["name"]: b["status"] for b in workspace(emulator)}
    assert status == {
        "beta_winback": "pending",
        "acme_spring": "pending",
        "acme_winback": "cancelled",
    }
    # A cancelled batch is history: nothing more to prune.
    assert "No changes." in ok(cli("plan", "--prune", "--detailed-exitcode", str(acme))).stdout


def test_prune_reaches_a_provider_the_manifests_no_longer_use(
    cli: Cli, emulator: Any, tmp_path: Path
) -> None:
    acme = tmp_path / "acme"
    write(acme, "ownership.yaml", ownership("acme", Agent=["acme_*"], BatchCall=["acme_*"]))
    write(acme, "support.yaml", agent("acme_support"))
    write(acme, "winback.yaml", batch_call("acme_winback", "+14155553003"))
    ok(cli("apply", "--auto-approve", str(acme)))
    (acme / "winback.yaml").unlink()  # the last BatchCall: no manifest names Threetone now
    plan = ok(cli("plan", "--prune", str(acme)))
    assert "- BatchCall/acme_winback will be deleted" in plan.stdout
    assert "  threetone: " in plan.stdout  # and the plan says it reads there
    # Without a key for a provider, it is not read (nothing of it can be pruned then).
    unset = ok(cli("plan", "--prune", str(acme), env={"THREETONE_API_KEY": ""}))
    assert "BatchCall" not in unset.stdout and "No changes." in unset.stdout
