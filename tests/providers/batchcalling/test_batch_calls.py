"""`BatchCall` without a network: manifest validation, reading the workspace through a fake
`Api`, and the plan decision for every state a batch can be in (table-driven)."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import (
    JSON,
    Action,
    Change,
    DesiredResource,
    LiveResource,
    Plan,
    Request,
    SourceRef,
)
from reconciler.core.errors import ManifestError, PlanError
from reconciler.core.planning import PlanOptions
from reconciler.core.render import render_markdown, render_text
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from reconciler.providers.base import ProviderSettings
from reconciler.providers.batchcalling import BATCH_CALL, ELEVENLABS, THREETONE
from reconciler.providers.batchcalling.batch_calls import parse_part, part_name
from reconciler.providers.batchcalling.manifest import BatchCallManifest, destination_key
from reconciler.providers.campaigns.state import desired_campaign, live_campaign

UNIX = 1894636800  # 2030-01-14T16:00:00Z
A, B, C = "+14155550100", "+14155550101", "+14155550102"


def doc(body: str = "", *, recipients: str | None = None, provider: str = "threetone") -> str:
    if recipients is None:
        recipients = f'recipients:\n  - phone_number: "{A}"\n'
    head = f"kind: BatchCall\nprovider: {provider}\nname: spring\nagentId: agent_1\n"
    return head + textwrap.dedent(body) + recipients


def parse(tmp_path: Path, text: str, files: Mapping[str, str] | None = None) -> DesiredResource:
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "batch.yaml"
    path.write_text(text)
    (found,) = parse_manifests([str(path)], registry.kinds(), {})
    return found


def problems(tmp_path: Path, text: str, files: Mapping[str, str] | None = None) -> str:
    with pytest.raises(ManifestError) as caught:
        parse(tmp_path, text, files)
    return str(caught.value)


# --- manifests ------------------------------------------------------------------------------


def test_a_valid_manifest_becomes_desired_state(tmp_path: Path) -> None:
    desired = parse(
        tmp_path,
        doc(
            """
            scheduledTime: 2030-01-14T16:00:00Z
            agentPhoneNumberId: phnum_1
            whatsappParams:
              whatsapp_phone_number_id: wa_1
              whatsapp_call_permission_request_template_name: consent
              whatsapp_call_permission_request_template_language_code: en
            retries: 2
            """,
            recipients=textwrap.dedent(f"""
                recipients:
                  - id: cust-7
                    phone_number: "{A}"
                    conversation_initiation_client_data:
                      dynamic_variables: {{name: Ada, visits: 3, vip: true}}
                      conversation_config_override: {{agent: {{language: en}}}}
                  - whatsapp_user_id: "4915123456789"
                """),
            provider="elevenlabs",
        ),
    )
    assert desired.provider == "elevenlabs"
    assert dict(desired.spec) == {
        "agent_id": "agent_1",
        "scheduled_time_unix": UNIX,
        "agent_phone_number_id": "phnum_1",
        "whatsapp_params": {
            "whatsapp_phone_number_id": "wa_1",
            "whatsapp_call_permission_request_template_name": "consent",
            "whatsapp_call_permission_request_template_language_code": "en",
        },
    }
    campaign = desired_campaign(desired)
    first, second = (r.payload for r in campaign.recipients)
    assert first["id"] == "cust-7"
    assert first["conversation_initiation_client_data"]["dynamic_variables"]["visits"] == 3
    assert second["id"] == destination_key({"whatsapp_user_id": "4915123456789"})
    assert "4915123456789" not in second["id"]
    assert campaign.retries == 2 and campaign.cancelled is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"2030-01-14T16:00:00Z"', UNIX),
        ("2030-01-14T16:00:00Z", UNIX),  # YAML makes it a datetime
        ('"2030-01-14T17:00:00+01:00"', UNIX),
        (str(UNIX), UNIX),
        (f'"{UNIX}"', UNIX),
    ],
)
def test_scheduled_time_is_iso_or_unix_seconds(tmp_path: Path, value: str, expected: int) -> None:
    desired = parse(tmp_path, doc(f"scheduledTime: {value}\n"))
    assert desired.spec["scheduled_time_unix"] == expected


def test_without_scheduled_time_the_batch_starts_on_submit(tmp_path: Path) -> None:
    assert "scheduled_time_unix" not in parse(tmp_path, doc()).spec


INVALID = [
    ("naive_time", doc('scheduledTime: "2030-01-14T16:00:00"\n'), ":5: ", "needs a time zone"),
    ("words", doc("scheduledTime: tomorrow\n"), ":5: ", "is not an ISO time"),
    ("bool_time", doc("scheduledTime: true\n"), ":5: ", "an ISO time"),
    ("negative", doc("scheduledTime: -5\n"), ":5: ", "must not be negative"),
    (
        "not_e164",
        doc(recipients='recipients:\n  - phone_number: "4155550100"\n'),
        ":6: ",
        "is not an E.164 number",
    ),
    (
        "both",
        doc(recipients=f'recipients:\n  - {{phone_number: "{A}", whatsapp_user_id: "x1"}}\n'),
        ":6: ",
        "exactly one of phone_number or whatsapp_user_id",
    ),
    (
        "neither",
        doc(recipients="recipients:\n  - id: nobody\n"),
        ":6: ",
        "exactly one of phone_number or whatsapp_user_id",
    ),
    (
        "duplicate",
        doc(recipients=f'recipients:\n  - phone_number: "{A}"\n  - phone_number: "{A}"\n'),
        ":7: ",
        "listed twice",
    ),
    (
        "duplicate_id",
        doc(
            recipients="recipients:\n"
            f'  - {{id: x, phone_number: "{A}"}}\n'
            f'  - {{id: x, phone_number: "{B}"}}\n'
        ),
        ":7: ",
        "listed twice",
    ),
    ("no_recipients", doc(recipients=""), ":1: ", "a batch needs recipients"),
    ("unknown_field", doc("agent: x\n"), ":5: ", "unknown field"),
    ("provider", doc(provider="vapi"), ":2: ", "is not one of threetone, elevenlabs"),
    ("tilde_name", doc().replace("name: spring", "name: spring~2"), ":3: ", "is not a name"),
    ("retries", doc("retries: 11\n"), ":5: ", "out of range"),
    (
        "override_typo",
        doc(
            recipients=f'recipients:\n  - phone_number: "{A}"\n'
            "    conversation_initiation_client_data: {dynamic_variable: {a: 1}}\n"
        ),
        ":7: ",
        "unknown field",
    ),
]


@pytest.mark.parametrize(("label", "text", "line", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_manifests_name_file_and_line(
    tmp_path: Path, label: str, text: str, line: str, message: str
) -> None:
    found = problems(tmp_path, text)
    assert f"batch.yaml{line}" in found, found
    assert message in found, found


def test_ten_thousand_recipients_pass_and_ten_thousand_and_one_are_refused(
    tmp_path: Path,
) -> None:
    rows = ["phone_number,dynamic_variables.name"]
    rows += [f"+1646{i:07d},C{i}" for i in range(10_000)]
    files = {"r.csv": "\n".join(rows) + "\n"}
    desired = parse(tmp_path, doc("recipientsFrom: r.csv\n", recipients=""), files)
    assert len(desired_campaign(desired).recipients) == 10_000
    text = doc("recipientsFrom: r.csv\n", recipients=f'recipients:\n  - phone_number: "{A}"\n')
    found = problems(tmp_path, text, files)
    assert "at most 10,000 recipients" in found and "found 10,001" in found


def test_ten_thousand_and_one_inline_recipients_are_refused() -> None:
    manifest = BatchCallManifest.model_validate(
        {
            "kind": "BatchCall",
            "provider": "threetone",
            "name": "big",
            "agentId": "a",
            "recipients": [{"phone_number": f"+1646{i:07d}"} for i in range(10_001)],
        }
    )
    with pytest.raises(ManifestError, match="at most 10,000 recipients"):
        BATCH_CALL.to_desired(manifest, registry_source())


def registry_source() -> SourceRef:
    return SourceRef("inline.yaml", 1)


FILES = [
    (
        "csv_bad_number",
        "r.csv",
        f"phone_number\n{B}\n415-555-0100\n",
        # Masked even though malformed: an error is a log line (issue 11).
        "r.csv:3: phone_number: '415-5***0100' is not an E.164 number",
    ),
    ("csv_unknown_column", "r.csv", f"phone,name\n{A},x\n", "r.csv:1: the header needs"),
    (
        "csv_extra_column",
        "r.csv",
        f"phone_number,nickname\n{A},x\n",
        "r.csv:1: unknown columns ['nickname']",
    ),
    ("csv_too_many_cells", "r.csv", f"phone_number\n{A},x\n", "r.csv:2: more cells"),
    ("jsonl_bad_json", "r.jsonl", f'{{"phone_number": "{A}"}}\n{{nope\n', "r.jsonl:2: not valid"),
    ("jsonl_not_object", "r.jsonl", "[1]\n", "r.jsonl:1: each line must be a JSON object"),
    (
        "jsonl_both",
        "r.jsonl",
        f'{{"phone_number": "{A}", "whatsapp_user_id": "w"}}\n',
        "r.jsonl:1: whatsapp_user_id: conflicts with phone_number: set exactly one of "
        "phone_number or whatsapp_user_id",
    ),
    (
        "duplicate_across",
        "r.csv",
        f"phone_number\n{A}\n",
        "r.csv:2: recipient +1415***0100 is listed twice",
    ),
]


@pytest.mark.parametrize(("label", "name", "content", "message"), FILES, ids=[c[0] for c in FILES])
def test_recipient_file_errors_name_file_and_line(
    tmp_path: Path, label: str, name: str, content: str, message: str
) -> None:
    text = doc(f"recipientsFrom: {name}\n")
    found = problems(tmp_path, text, {name: content})
    assert message in found, found


def test_missing_recipients_file_and_wrong_suffix(tmp_path: Path) -> None:
    assert "no such file" in problems(tmp_path, doc("recipientsFrom: gone.csv\n"))
    assert "must name a .csv or .jsonl file" in problems(tmp_path, doc("recipientsFrom: r.txt\n"))


def test_csv_columns_fill_the_vendor_fields(tmp_path: Path) -> None:
    content = (
        "id,phone_number,whatsapp_user_id,user_id,dynamic_variables.name,"
        "conversation_config_override.agent.first_message,conversation_config_override.tts.speed\n"
        f"c1,{A},,u1,Ada,Hi Ada,1.1\n"
        ",,4915100000000,,,,\n"
    )
    desired = parse(tmp_path, doc("recipientsFrom: r.csv\n", recipients=""), {"r.csv": content})
    first, second = (r.payload for r in desired_campaign(desired).recipients)
    assert first == {
        "id": "c1",
        "phone_number": A,
        "conversation_initiation_client_data": {
            "user_id": "u1",
            "dynamic_variables": {"name": "Ada"},
            "conversation_config_override": {
                "agent": {"first_message": "Hi Ada"},
                "tts": {"speed": 1.1},
            },
        },
    }
    assert second == {"id": destination_key(dict(second)), "whatsapp_user_id": "4915100000000"}


def test_part_names_round_trip() -> None:
    assert [part_name("spring", n) for n in (1, 2, 10)] == ["spring", "spring~2", "spring~10"]
    assert parse_part("spring~3") == ("spring", 3)
    assert parse_part("spring") == ("spring", 1)
    assert parse_part("spring~1") == ("spring~1", 1)  # ~1 is never written: not a part
    assert parse_part("spring~x") == ("spring~x", 1)


# --- plan decisions ------------------------------------------------------------------------

PREFIX = THREETONE.settings.path_prefix


def desired_of(
    numbers: list[str] = [A, B],  # noqa: B006 - never mutated
    *,
    scheduled: int | None = UNIX,
    agent: str = "agent_1",
    cancelled: bool = False,
    retries: int | None = None,
    greeting: str = "hi",
) -> DesiredResource:
    manifest = BatchCallManifest.model_validate(
        {
            "kind": "BatchCall",
            "provider": "threetone",
            "name": "spring",
            "agentId": agent,
            "scheduledTime": scheduled,
            "cancelled": cancelled,
            "retries": retries,
            "recipients": [
                {
                    "phone_number": n,
                    "conversation_initiation_client_data": {
                        "dynamic_variables": {"greeting": greeting}
                    },
                }
                for n in numbers
            ],
        }
    )
    return BATCH_CALL.to_desired(manifest, registry_source())


def recipient(number: str, status: str = "pending", greeting: str = "hi") -> dict[str, Any]:
    return {
        "id": destination_key({"phone_number": number}),
        "phone_number": number,
        "status": status,
        "conversation_initiation_client_data": {"dynamic_variables": {"greeting": greeting}},
    }


def batch(
    name: str = "spring",
    status: str = "pending",
    recipients: list[dict[str, Any]] | None = None,
    *,
    ident: str | None = None,
    agent: str = "agent_1",
    retry_count: int = 0,
    created: int = 100,
) -> dict[str, Any]:
    """A live batch as the list shows it, plus its recipients as `GET {id}` shows them."""
    listed = recipients if recipients is not None else [recipient(A), recipient(B)]
    dialled = [r for r in listed if r["status"] not in ("pending", "cancelled")]
    return {
        "id": ident or f"btcal_{name}_{created}",
        "name": name,
        "agent_id": agent,
        "created_at_unix": created,
        "scheduled_time_unix": UNIX,
        "last_updated_at_unix": created,
        "status": status,
        "agent_name": "Agent",
        "phone_number_id": None,
        "whatsapp_params": None,
        "total_calls_dispatched": len(dialled),
        "total_calls_scheduled": len(listed),
        "total_calls_finished": sum(
            1 for r in listed if r["status"] in ("completed", "failed", "voicemail")
        ),
        "retry_count": retry_count,
        "recipients": listed,
    }


class FakeApi:
    """The workspace of one preset: `list_all` and `get` as the client would answer them."""

    def __init__(self, settings: ProviderSettings, batches: list[dict[str, Any]]) -> None:
        self.settings = settings
        self.batches = batches
        self.calls: list[str] = []

    async def list_all(self, path: str, params: Mapping[str, str] | None = None) -> list[JSON]:
        self.calls.append(f"LIST {path}")
        return [{k: v for k, v in b.items() if k != "recipients"} for b in self.batches]

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        self.calls.append(f"GET {path}")
        return next(b for b in self.batches if path.endswith("/" + b["id"]))

    async def send(self, request: Request) -> JSON:
        raise AssertionError("planning never sends")


def read(batches: list[dict[str, Any]], desired: list[DesiredResource]) -> list[LiveResource]:
    return asyncio.run(BATCH_CALL.read(FakeApi(THREETONE.settings, batches), desired))


def plan_for(desired: DesiredResource, batches: list[dict[str, Any]]) -> Change | None:
    found = read(batches, [desired])
    live = found[0] if found else None
    options = PlanOptions(path_prefixes={"threetone": THREETONE.settings.path_prefix})
    return BATCH_CALL.plan(desired, live, options)


def shape(change: Change | None) -> tuple[str, list[str]] | None:
    """(action, ["METHOD last-path-segment call_name", ...]) of a change."""
    if change is None:
        return None
    return (
        change.action.value,
        [
            " ".join(
                [r.method, r.path.rsplit("/", 1)[-1]]
                + ([r.body["call_name"]] if isinstance(r.body, dict) else [])
            )
            for r in change.requests
        ],
    )


def started(status: str = "in_progress") -> list[dict[str, Any]]:
    return [recipient(A, "completed"), recipient(B, "dispatched")]


PLANS = [
    ("absent", desired_of(), [], ("create", ["POST submit spring"])),
    ("absent_cancelled", desired_of(cancelled=True), [], None),
    ("pending_same", desired_of(), [batch()], None),
    (
        "pending_removed",
        desired_of([A]),
        [batch()],
        ("replace", ["POST cancel", "POST submit spring"]),
    ),
    (
        "pending_added",
        desired_of([A, B, C]),
        [batch()],
        ("replace", ["POST cancel", "POST submit spring"]),
    ),
    (
        "pending_data",
        desired_of(greeting="yo"),
        [batch()],
        ("replace", ["POST cancel", "POST submit spring"]),
    ),
    (
        "pending_time",
        desired_of(scheduled=UNIX + 60),
        [batch()],
        ("replace", ["POST cancel", "POST submit spring"]),
    ),
    (
        "pending_agent",
        desired_of(agent="agent_2"),
        [batch()],
        ("replace", ["POST cancel", "POST submit spring"]),
    ),
    ("pending_no_time", desired_of(scheduled=None), [batch()], None),
    ("pending_cancel", desired_of(cancelled=True), [batch()], ("update", ["POST cancel"])),
    (
        "replaced_history_ignored",
        desired_of(),
        [batch(status="cancelled", created=50), batch(created=60)],
        None,
    ),
    ("only_history", desired_of(), [batch(status="cancelled")], ("create", ["POST submit spring"])),
    ("running_same", desired_of(), [batch(status="in_progress", recipients=started())], None),
    (
        "running_added",
        desired_of([A, B, C]),
        [batch(status="in_progress", recipients=started())],
        ("update", ["POST submit spring~2"]),
    ),
    (
        "running_added_again",
        desired_of([A, B, C, "+14155550103"]),
        [
            batch(status="in_progress", recipients=started()),
            batch("spring~2", "in_progress", [recipient(C, "dispatched")], created=200),
        ],
        ("update", ["POST submit spring~3"]),
    ),
    (
        "running_cancel",
        desired_of([A, B, C], cancelled=True),
        [
            batch(status="in_progress", recipients=started()),
            batch("spring~2", "pending", [recipient(C)], created=200),
        ],
        ("update", ["POST cancel", "POST cancel"]),
    ),
    (
        "completed_cancel",
        desired_of(cancelled=True),
        [batch(status="completed", recipients=[recipient(A, "completed"), recipient(B, "failed")])],
        None,
    ),
    (
        "completed_retry",
        desired_of(retries=1),
        [
            batch(
                status="completed",
                recipients=[recipient(A, "completed"), recipient(B, "voicemail")],
            )
        ],
        ("update", ["POST retry"]),
    ),
    (
        "completed_retried_enough",
        desired_of(retries=1),
        [
            batch(
                status="completed",
                recipients=[recipient(A, "completed"), recipient(B, "failed")],
                retry_count=1,
            )
        ],
        None,
    ),
    (
        "completed_nothing_failed",
        desired_of(retries=3),
        [
            batch(
                status="completed",
                recipients=[recipient(A, "completed"), recipient(B, "completed")],
            )
        ],
        None,
    ),
    (
        "running_not_finished",
        desired_of(retries=1),
        [
            batch(
                status="in_progress", recipients=[recipient(A, "failed"), recipient(B, "initiated")]
            )
        ],
        None,
    ),
    (
        "completed_added_and_retry",
        desired_of([A, B, C], retries=2),
        [batch(status="failed", recipients=[recipient(A, "failed"), recipient(B, "failed")])],
        ("update", ["POST submit spring~2", "POST retry"]),
    ),
    (
        "server_assigned_ids",
        desired_of(),
        [
            batch(
                status="in_progress",
                recipients=[{**r, "id": f"srv{i}"} for i, r in enumerate(started())],
            )
        ],
        None,
    ),
    (
        "other_agent_same_name_left_alone",
        desired_of(),
        [batch(), batch(status="in_progress", agent="agent_9", created=300, recipients=started())],
        None,
    ),
]


@pytest.mark.parametrize(
    ("label", "desired", "batches", "expected"), PLANS, ids=[p[0] for p in PLANS]
)
def test_plan_decision_for_each_state(
    label: str,
    desired: DesiredResource,
    batches: list[dict[str, Any]],
    expected: tuple[str, list[str]] | None,
) -> None:
    assert shape(plan_for(desired, batches)) == expected


REFUSALS = [
    (
        "running_removed",
        desired_of([A]),
        [batch(status="in_progress", recipients=started())],
        "removed from the manifest after calls started",
    ),
    (
        "running_time",
        desired_of(scheduled=UNIX + 60),
        [batch(status="in_progress", recipients=started())],
        "scheduledTime cannot change",
    ),
    (
        "running_data",
        desired_of(greeting="yo"),
        [batch(status="in_progress", recipients=started())],
        "changed after calls started",
    ),
    (
        "running_agent",
        desired_of(agent="agent_2"),
        [batch(status="in_progress", recipients=started())],
        "agentId cannot change",
    ),
    (
        "cancelled_after_start",
        desired_of(),
        [
            batch(
                status="cancelled",
                recipients=[recipient(A, "completed"), recipient(B, "cancelled")],
            )
        ],
        "cancelled batch cannot be resumed",
    ),
    (
        "cannot_be_told_apart",
        desired_of(),
        # Holding the same recipients, the later one is a duplicate (cancelled, issue 10);
        # holding different ones, two parts claiming one name cannot be told apart.
        [
            batch(ident="btcal_one", recipients=[recipient(A)]),
            batch(ident="btcal_two", created=200, recipients=[recipient(B)]),
        ],
        "btcal_one, btcal_two all claim to be 'spring'",
    ),
]


@pytest.mark.parametrize(
    ("label", "desired", "batches", "message"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refusals_say_why_and_what_to_do(
    label: str, desired: DesiredResource, batches: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_for(desired, batches)


def test_supplemental_part_holds_only_new_recipients_and_starts_at_once() -> None:
    change = plan_for(desired_of([A, B, C]), [batch(status="in_progress", recipients=started())])
    assert change is not None
    (request,) = change.requests
    assert request.body == {
        "call_name": "spring~2",
        "agent_id": "agent_1",
        "recipients": [
            {
                "id": destination_key({"phone_number": C}),
                "phone_number": C,
                "conversation_initiation_client_data": {"dynamic_variables": {"greeting": "hi"}},
            }
        ],
    }


def test_paths_come_from_the_effective_settings() -> None:
    moved = replace(THREETONE.settings, path_prefix="/v2/custom/batch-calling")
    options = PlanOptions(path_prefixes={"threetone": moved.path_prefix})
    change = BATCH_CALL.plan(desired_of(), None, options)
    assert change is not None and change.requests[0].path == "/v2/custom/batch-calling/submit"
    api = FakeApi(moved, [batch()])
    asyncio.run(BATCH_CALL.read(api, [desired_of()]))
    assert api.calls == [
        "LIST /v2/custom/batch-calling/workspace",
        "GET /v2/custom/batch-calling/btcal_spring_100",
    ]


def test_elevenlabs_uses_its_own_prefix_and_provider() -> None:
    desired = replace(desired_of(), provider="elevenlabs")
    change = BATCH_CALL.plan(
        desired, None, PlanOptions(path_prefixes={"elevenlabs": ELEVENLABS.settings.path_prefix})
    )
    assert change is not None
    assert change.provider == "elevenlabs"
    assert change.requests[0].path == "/v1/convai/batch-calling/submit"
    live = asyncio.run(BATCH_CALL.read(FakeApi(ELEVENLABS.settings, [batch()]), [desired]))
    assert live[0].provider == "elevenlabs"


def test_read_gets_recipients_of_managed_names_only() -> None:
    api = FakeApi(
        THREETONE.settings,
        [
            batch(),
            batch("spring~2", "pending", [recipient(C)], created=200),
            batch("spring", "cancelled", created=50),  # replaced: history, never read
            batch("someone_elses", created=300),
        ],
    )
    found = {c.key.name: c for c in asyncio.run(BATCH_CALL.read(api, [desired_of()]))}
    # Every name comes back (--prune needs the others, issue 12), recipients only for its own.
    assert sorted(found) == ["someone_elses", "spring"]
    assert live_campaign(found["someone_elses"]).recipients == ()
    live = found["spring"]
    assert [p.name for p in live_campaign(live).parts] == ["spring", "spring~2"]
    assert list(live_campaign(live).history) == ["btcal_spring_50"]
    assert sorted(c for c in api.calls if c.startswith("GET")) == [
        f"GET {PREFIX}/btcal_spring_100",
        f"GET {PREFIX}/btcal_spring~2_200",
    ]
    # Without desired resources (a saved plan's staleness check): every name, no GET, and the
    # same digest as when recipients were read.
    bare = FakeApi(THREETONE.settings, api.batches)
    everything = {item.key.name: item for item in asyncio.run(BATCH_CALL.read(bare, []))}
    assert set(everything) == {"spring", "someone_elses"}
    assert everything["spring"].digest == live.digest
    assert all(c.startswith("LIST") for c in bare.calls)


def test_the_plan_shows_no_phone_number() -> None:
    change = plan_for(desired_of([A, B, C]), [batch(status="in_progress", recipients=started())])
    created = plan_for(desired_of([A, B, C]), [])
    assert change is not None and created is not None
    shown = Plan(changes=(change, created))
    for text in (render_text(shown), render_markdown(shown)):
        assert "+1415***0102" in text
        assert not any(n in text for n in (A, B, C))


def test_warnings_name_same_named_batches_of_other_agents() -> None:
    batches = [batch(), batch(status="in_progress", agent="agent_9", ident="btcal_x", created=300)]
    (live,) = read(batches, [desired_of()])
    warnings = BATCH_CALL.warnings(desired_of(), live, PlanOptions())
    assert len(warnings) == 1 and "btcal_x" in warnings[0] and "left alone" in warnings[0]


def test_prune_cancels_a_workspace_batch_planning_asks_it_to() -> None:
    # Planning asks only for a BatchCall the manifests' Ownership claims (issue 12): it stops
    # dialling, nothing is deleted.
    (live,) = read([batch(status="in_progress", recipients=started())], [])
    change = BATCH_CALL.plan(None, live, PlanOptions(prune=True))
    assert change is not None and change.action is Action.DELETE
    assert [(r.method, r.path) for r in change.requests] == [("POST", f"{PREFIX}/{live.id}/cancel")]


def test_status_counts_every_recipient_status() -> None:
    parts = [
        batch(
            status="in_progress", recipients=[recipient(A, "completed"), recipient(B, "voicemail")]
        ),
        batch("spring~2", "pending", [recipient(C)], created=200),
    ]
    desired = desired_of([A, B, C])
    (live,) = read(parts, [desired])
    report = asyncio.run(BATCH_CALL.status(FakeApi(THREETONE.settings, parts), desired, live))
    assert report is not None
    assert report["state"] == "running"
    assert report["statuses"] == {
        "pending": 1,
        "dispatched": 0,
        "initiated": 0,
        "in_progress": 0,
        "completed": 1,
        "failed": 0,
        "cancelled": 0,
        "voicemail": 1,
    }
    assert (report["total"], report["completed"]) == (3, 2)
    assert [b["name"] for b in report["batches"]] == ["spring", "spring~2"]
    assert A not in str(report)
    assert asyncio.run(BATCH_CALL.status(FakeApi(THREETONE.settings, []), desired, None)) == {
        "kind": "BatchCall",
        "name": "spring",
        "provider": "threetone",
        "recipients": 3,
        "state": "not created",
        "total": 0,
        "completed": 0,
    }


def test_replace_and_cancel_are_labelled_for_the_reviewer() -> None:
    replaced = plan_for(desired_of([A]), [batch()])
    assert replaced is not None and replaced.action is Action.REPLACE
    assert any("nobody has been dialled yet" in n for n in replaced.notes)
    cancelled = plan_for(desired_of(cancelled=True), [batch()])
    assert cancelled is not None
    assert [(f.path, f.before, f.after) for f in cancelled.fields] == [("cancelled", False, True)]


def test_a_whatsapp_user_id_is_not_shown_in_a_text_plan() -> None:
    manifest = BatchCallManifest.model_validate(
        {
            "kind": "BatchCall",
            "provider": "threetone",
            "name": "wa",
            "agentId": "a",
            "recipients": [{"whatsapp_user_id": "4915123456789"}],
        }
    )
    change = BATCH_CALL.plan(
        BATCH_CALL.to_desired(manifest, registry_source()), None, PlanOptions()
    )
    assert change is not None
    assert "WhatsApp ***6789" in change.notes[0]  # the notes are masked ...
    assert "4915123456789" not in render_text(Plan(changes=(change,)))  # ... and the body
