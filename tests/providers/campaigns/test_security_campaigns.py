"""Campaign manifests that used to crash or be sent as they were (issue 11, items 5, 7, 8).

Each case was a traceback or a request the server refused only after the agent was created;
now each is a diagnostic at file:line (or a plan refusal) and nothing is sent. Numbers in
these errors are masked, even malformed ones.
"""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import ManifestError, PlanError
from reconciler.core.planning import PlanOptions, build_plan
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from reconciler.runtime import engine

AGENT_ID = "0f3f4e6a-0000-4000-8000-000000000001"
CALL = "calls:\n  - medium: {{twilio: {{outgoing: {{to: '{to}', from: '{caller}'}}}}}}\n"


def batch(extra: str = "", *, calls: str | None = None) -> str:
    body = calls if calls is not None else CALL.format(to="+14155550100", caller="+14155550199")
    return (
        f"kind: ScheduledBatch\nname: spring\nagentId: {AGENT_ID}\n"
        "windowStart: '2030-01-14T16:00:00Z'\nwindowEnd: '2030-01-14T20:00:00Z'\n"
        f"{extra}{body}"
    )


def batch_call(extra: str = "", recipients: str | None = None) -> str:
    body = (
        recipients if recipients is not None else "recipients:\n  - phone_number: '+14155550100'\n"
    )
    return f"kind: BatchCall\nprovider: threetone\nname: spring\nagentId: agent_01\n{extra}{body}"


def parse(directory: Path, text: str, files: dict[str, str] | None = None, **options: Any) -> Any:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "m.yaml").write_text(text)
    for name, content in (files or {}).items():
        (directory / name).write_text(content)
    return parse_manifests([str(directory)], registry.kinds(), {}, **options)


def errors(directory: Path, text: str, files: dict[str, str] | None = None, **options: Any) -> str:
    with pytest.raises(ManifestError) as caught:
        parse(directory, text, files, **options)
    message = caught.value.render()
    assert "Traceback" not in message
    return message


# --- tracebacks that are now errors ---


def test_the_short_calls_from_form_checks_its_suffix(tmp_path: Path) -> None:
    message = errors(tmp_path, batch("callsFrom: r.txt\n", calls=""))
    assert "m.yaml:6: callsFrom: callsFrom must name a .csv or .jsonl file" in message


@pytest.mark.parametrize(
    ("text", "files", "where"),
    [
        (
            batch("callsFrom: {file: r.csv, from: '+14155550199'}\n", calls=""),
            {"r.csv": "to\n+14155550100,extra\n"},
            "r.csv:2: more cells than the header has columns",
        ),
        (
            batch_call("recipientsFrom: r.csv\n", recipients=""),
            {"r.csv": "phone_number\n+14155550100,extra\n"},
            "r.csv:2: more cells than the header has columns",
        ),
    ],
    ids=["ScheduledBatch", "BatchCall"],
)
def test_a_csv_row_with_extra_cells(
    tmp_path: Path, text: str, files: dict[str, str], where: str
) -> None:
    assert where in errors(tmp_path, text, files)


@pytest.mark.parametrize(
    "value", ["100000000000000000000", "'100000000000000000000'", "1e20", "1.0e+20"]
)
def test_a_scheduled_time_beyond_any_date(tmp_path: Path, value: str) -> None:
    message = errors(tmp_path, batch_call(f"scheduledTime: {value}\n"))
    assert "m.yaml:5: scheduledTime:" in message


def test_nan_in_dynamic_variables(tmp_path: Path) -> None:
    recipients = (
        "recipients:\n  - phone_number: '+14155550100'\n"
        "    conversation_initiation_client_data: {dynamic_variables: {score: .nan}}\n"
    )
    message = errors(tmp_path, batch_call(recipients=recipients))
    assert "dynamic_variables.score: not a finite number" in message


def test_nan_in_a_jsonl_recipients_file(tmp_path: Path) -> None:
    line = '{"phone_number": "+14155550100", "conversation_initiation_client_data": '
    line += '{"dynamic_variables": {"score": NaN}}}\n'
    message = errors(
        tmp_path, batch_call("recipientsFrom: r.jsonl\n", recipients=""), {"r.jsonl": line}
    )
    assert "r.jsonl:1: not valid JSON: NaN is not a JSON number" in message


# --- accepted and sent before ---


@pytest.mark.parametrize(
    "agent_id", ["../accounts", "a/../../b", "x%2F..", "a b", ".."], ids=lambda v: repr(v)
)
def test_an_agent_id_that_would_move_a_url(tmp_path: Path, agent_id: str) -> None:
    text = batch().replace(AGENT_ID, repr(agent_id).replace("'", '"'))
    assert "m.yaml:3: agentId:" in errors(tmp_path, text)
    assert "m.yaml:4: agentId:" in errors(
        tmp_path / "bc", batch_call().replace("agent_01", repr(agent_id).replace("'", '"'))
    )


@pytest.mark.parametrize("prefix", ["/v1/../admin", "/v1/%2e%2e", "/v1/a?x=1", "/v1//x", "v1"])
def test_a_path_prefix_that_would_move_a_url(tmp_path: Path, prefix: str) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "m.yaml").write_text(batch_call())
    (tmp_path / "environments" / "prod.yaml").write_text(
        f"providers:\n  threetone:\n    pathPrefix: '{prefix}'\n"
    )
    with pytest.raises(ManifestError, match=r"prod\.yaml:3: providers\.threetone\.pathPrefix"):
        engine.Workspace.open([str(tmp_path)], {}, "prod")


@pytest.mark.parametrize(
    ("text", "files"),
    [
        (
            batch("callsFrom: {file: r.csv, from: '+14155550199'}\n", calls=""),
            {"r.csv": "to\n"},
        ),
        (batch_call("recipientsFrom: r.csv\n", recipients=""), {"r.csv": "phone_number\n"}),
    ],
    ids=["ScheduledBatch", "BatchCall"],
)
def test_an_empty_recipients_file_is_refused_before_any_request(
    tmp_path: Path, text: str, files: dict[str, str]
) -> None:
    assert "has no recipients (its recipients file holds none)" in errors(tmp_path, text, files)


def test_a_negative_duration(tmp_path: Path) -> None:
    text = "kind: Agent\nname: a\ncallTemplate:\n  joinTimeout: '-5s'\n  maxDuration: 60s\n"
    assert "m.yaml:4: callTemplate.joinTimeout: a duration cannot be negative" in errors(
        tmp_path, text
    )


@pytest.mark.parametrize(
    "agent",
    ["agentId: " + AGENT_ID, "agent: support"],
    ids=["agentId", "agent-created-in-the-same-run"],
)
def test_a_window_already_over_is_refused_before_the_agent_is_created(
    tmp_path: Path, agent: str
) -> None:
    text = batch().replace(f"agentId: {AGENT_ID}", agent)
    if agent.startswith("agent:"):
        text += "---\nkind: Agent\nname: support\ncallTemplate: {systemPrompt: Hi}\n"
    desired = parse(tmp_path, text)
    late = PlanOptions(now=datetime(2030, 2, 1, tzinfo=UTC))
    with pytest.raises(PlanError, match="windowEnd 2030-01-14T20:00:00Z is already past"):
        build_plan(registry.resource_types(), desired, [], late)
    in_time = PlanOptions(now=datetime(2030, 1, 1, tzinfo=UTC))
    assert build_plan(registry.resource_types(), desired, [], in_time).changes


# --- numbers are masked in errors, even malformed ones ---


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (
            batch(calls=CALL.format(to="14155550123", caller="+14155550199")),
            "14155550123",
        ),
        (
            batch(calls=CALL.format(to="+14155550100", caller="4155550177")),
            "4155550177",
        ),
        (
            batch_call(recipients="recipients:\n  - phone_number: '+1415555012345678'\n"),
            "5012345678",
        ),
    ],
    ids=["to", "from", "BatchCall"],
)
def test_malformed_numbers_are_masked(tmp_path: Path, text: str, number: str) -> None:
    message = errors(tmp_path, text)
    assert "E.164" in message and number not in message and "***" in message


# --- item 5: through the loader ---


def test_recipient_files_outside_the_directory_need_the_flag(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text("phone_number\n+14155550100\n")
    manifests = tmp_path / "manifests"
    text = batch_call("recipientsFrom: ../outside.csv\n", recipients="")
    message = errors(manifests, text)
    assert "m.yaml:5: recipientsFrom: '../outside.csv' goes outside the manifest directory" in (
        message
    )
    (found,) = parse(manifests, text, allow_outside_files=True)
    assert found.key.name == "spring"


def test_a_symlinked_recipients_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "credentials.csv"
    secret.write_text(textwrap.dedent("to\n+14155550100\n"))
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    os.symlink(secret, manifests / "r.csv")
    text = batch("callsFrom: {file: r.csv, from: '+14155550199'}\n", calls="")
    message = errors(manifests, text)
    assert "m.yaml:6: callsFrom.file: 'r.csv' is a symlink out of the manifest directory" in (
        message
    )
