"""The emulator's batch-calling API (Threetone and ElevenLabs prefixes) over real loopback HTTP:
authentication, submit validation, `last_doc` pagination, the lifecycle on the virtual clock,
cancel, retry, delete, and the shared journal, faults, state and clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler_apis import elevenlabs, threetone
from reconciler_emulator import EmulatorConfig, RunningEmulator, running_emulator
from reconciler_emulator.batchcalling import BatchCalls

START = datetime(2030, 1, 14, 15, 0, tzinfo=UTC)
NOW = int(START.timestamp())
KEY = "bc-test-key"
CONFIG = EmulatorConfig(api_key=KEY, max_page_size=3, calls_per_minute=60, start_time=START)
THREETONE = ("/v1/voiceai/batch-calling", "x-api-key")
ELEVENLABS = ("/v1/convai/batch-calling", "xi-api-key")
PRESETS = [THREETONE, ELEVENLABS]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(CONFIG) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(emu: RunningEmulator) -> None:
    emu.admin.reset()


@pytest.fixture(scope="module")
def http(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, timeout=5) as client:
        yield client


class Vendor:
    def __init__(self, http: httpx.Client, prefix: str, header: str) -> None:
        self.http, self.prefix, self.headers = http, prefix, {header: KEY}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, self.prefix + path, headers=self.headers, **kwargs)

    def submit(self, **body: Any) -> dict[str, Any]:
        body.setdefault("call_name", "spring")
        body.setdefault("agent_id", "agent_1")
        body.setdefault("recipients", [{"id": "r1", "phone_number": "+14155550100"}])
        response = self.request("POST", "/submit", json=body)
        assert response.status_code == 200, response.text
        batch: dict[str, Any] = response.json()
        return batch

    def get(self, batch_id: str) -> dict[str, Any]:
        response = self.request("GET", f"/{batch_id}")
        assert response.status_code == 200, response.text
        batch: dict[str, Any] = response.json()
        return batch

    def walk(self, limit: int = 100) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = self.request("GET", "/workspace", params=params).json()
            items += page["batch_calls"]
            if not page["has_more"]:
                assert page["next_doc"] is None
                return items
            params["last_doc"] = page["next_doc"]


@pytest.fixture(params=PRESETS, ids=["threetone", "elevenlabs"])
def vendor(request: pytest.FixtureRequest, http: httpx.Client) -> Vendor:
    prefix, header = request.param
    return Vendor(http, prefix, header)


def test_each_prefix_wants_its_own_header_and_the_key(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    for (prefix, header), other in [(THREETONE, ELEVENLABS[1]), (ELEVENLABS, THREETONE[1])]:
        path = prefix + "/workspace"
        assert http.get(path, headers={header: KEY}).status_code == 200
        missing = http.get(path, headers={other: KEY})
        assert missing.status_code == 401
        assert missing.json()["detail"]["status"] == "needs_authorization"
        wrong = http.post(prefix + "/submit", headers={header: "nope"}, json={})
        assert wrong.status_code == 401
        assert wrong.json()["detail"]["status"] == "invalid_api_key"
    assert emu.admin.state()["batch_calls"] == []


def test_submit_answers_with_the_documented_shape(vendor: Vendor) -> None:
    batch = vendor.submit(
        scheduled_time_unix=NOW + 3600,
        agent_phone_number_id="phnum_1",
        whatsapp_params={
            "whatsapp_phone_number_id": "wa",
            "whatsapp_call_permission_request_template_name": "consent",
            "whatsapp_call_permission_request_template_language_code": "en",
        },
    )
    # Seed 002's fields; ElevenLabs has more (tests/emulator/test_vendor_models.py).
    assert set(batch) >= {
        "id",
        "name",
        "agent_id",
        "created_at_unix",
        "scheduled_time_unix",
        "last_updated_at_unix",
        "status",
        "agent_name",
        "phone_number_id",
        "phone_provider",
        "whatsapp_params",
        "total_calls_dispatched",
        "total_calls_scheduled",
        "total_calls_finished",
        "retry_count",
    }
    assert (batch["status"], batch["created_at_unix"]) == ("pending", NOW)
    assert (batch["scheduled_time_unix"], batch["phone_number_id"]) == (NOW + 3600, "phnum_1")
    assert (batch["total_calls_scheduled"], batch["retry_count"]) == (1, 0)
    detail = vendor.get(batch["id"])
    (recipient,) = detail["recipients"]
    assert recipient["id"] == "r1" and recipient["status"] == "pending"


SUBMIT_ERRORS = [
    ({"agent_id": "a", "recipients": [{"phone_number": "+14155550100"}]}, ["call_name"]),
    ({"call_name": "x", "agent_id": "a", "recipients": []}, ["recipients"]),
    (
        {"call_name": "x", "agent_id": "a", "recipients": [{"phone_number": "4155550100"}]},
        ["recipients", 0, "phone_number"],
    ),
    (
        {
            "call_name": "x",
            "agent_id": "a",
            "recipients": [{"phone_number": "+14155550100", "whatsapp_user_id": "w"}],
        },
        ["recipients", 0],
    ),
    (
        {
            "call_name": "x",
            "agent_id": "a",
            "recipients": [{"phone_number": f"+1646{i:07d}"} for i in range(10_001)],
        },
        ["recipients"],
    ),
    (
        {
            "call_name": "x",
            "agent_id": "a",
            "scheduled_time_unix": "soon",
            "recipients": [{"phone_number": "+14155550100"}],
        },
        ["scheduled_time_unix"],
    ),
]


@pytest.mark.parametrize(("body", "loc"), SUBMIT_ERRORS)
def test_submit_validation_is_a_422_without_echoing_numbers(
    emu: RunningEmulator, vendor: Vendor, body: dict[str, Any], loc: list[Any]
) -> None:
    response = vendor.request("POST", "/submit", json=body)
    assert response.status_code == 422
    assert ["body", *loc] in [e["loc"] for e in response.json()["detail"]]
    assert "4155550100" not in response.text
    assert emu.admin.state()["batch_calls"] == []


def test_last_doc_pagination_is_newest_first_and_clamped(
    emu: RunningEmulator, vendor: Vendor
) -> None:
    ids = []
    for index in range(7):
        ids.append(vendor.submit(call_name=f"b{index}")["id"])
        emu.admin.advance(1)
    first = vendor.request("GET", "/workspace", params={"limit": 50}).json()
    assert len(first["batch_calls"]) == 3  # clamped to the emulator's max page size
    assert first["has_more"] is True and first["next_doc"] == first["batch_calls"][-1]["id"]
    assert [b["id"] for b in vendor.walk()] == ids[::-1]
    assert [b["id"] for b in vendor.walk(limit=2)] == ids[::-1]
    bad = vendor.request("GET", "/workspace", params={"last_doc": "btcal_nope"})
    assert bad.status_code == 400
    assert vendor.request("GET", "/workspace", params={"limit": 0}).status_code == 422


def test_limit_is_clamped_at_500() -> None:
    calls = BatchCalls()
    for index in range(501):
        calls.submit(
            threetone.API,
            {"call_name": f"b{index}", "agent_id": "a", "recipients": [{"phone_number": "+1415"}]},
            START,
            1.0,
        )
    page = calls.page(threetone.API, {"limit": "1000"}, max_limit=10_000)
    assert len(page["batch_calls"]) == 500 and page["has_more"] is True
    assert calls.page(elevenlabs.API, {}, max_limit=10_000)["batch_calls"] == []


def test_the_workspaces_are_separate(http: httpx.Client) -> None:
    Vendor(http, *THREETONE).submit()
    assert Vendor(http, *ELEVENLABS).walk() == []
    assert len(Vendor(http, *THREETONE).walk()) == 1


def test_lifecycle_on_the_virtual_clock(emu: RunningEmulator, vendor: Vendor) -> None:
    numbers = ["+14155550100", "+14155550199", "+14155550198"]  # ok, fails, voicemail
    batch = vendor.submit(
        scheduled_time_unix=NOW + 60,
        recipients=[{"id": f"r{i}", "phone_number": n} for i, n in enumerate(numbers)],
    )
    emu.admin.advance(59)
    assert vendor.get(batch["id"])["status"] == "pending"
    seen: list[list[str]] = []
    for seconds in (1, 1, 2, 30):
        emu.admin.advance(seconds)
        seen.append([r["status"] for r in vendor.get(batch["id"])["recipients"]])
    assert seen == [
        ["dispatched", "pending", "pending"],
        ["initiated", "dispatched", "pending"],
        ["in_progress", "initiated", "initiated"],
        ["completed", "failed", "voicemail"],
    ]
    done = vendor.get(batch["id"])
    assert done["status"] == "completed"
    assert (done["total_calls_dispatched"], done["total_calls_finished"]) == (3, 3)
    assert all(r["conversation_id"] for r in done["recipients"])


def test_a_batch_without_a_time_starts_on_submit(vendor: Vendor) -> None:
    batch = vendor.submit()
    assert batch["status"] == "in_progress"
    assert batch["scheduled_time_unix"] == NOW
    assert vendor.get(batch["id"])["recipients"][0]["status"] == "dispatched"


def test_cancel_stops_the_undialled_and_is_refused_once_finished(
    emu: RunningEmulator, vendor: Vendor
) -> None:
    batch = vendor.submit(
        recipients=[{"phone_number": f"+1415555010{i}"} for i in range(4)],
    )
    emu.admin.advance(1)  # two dialled, two waiting
    cancelled = vendor.request("POST", f"/{batch['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    emu.admin.advance(60)
    detail = vendor.get(batch["id"])
    assert detail["status"] == "cancelled"
    # Every recipient is cancelled, as the vendor says; the counters keep who was dialled.
    assert [r["status"] for r in detail["recipients"]] == ["cancelled"] * 4
    assert [bool(r["conversation_id"]) for r in detail["recipients"]] == [True, True, False, False]
    assert (detail["total_calls_dispatched"], detail["total_calls_finished"]) == (2, 0)
    again = vendor.request("POST", f"/{batch['id']}/cancel")
    assert again.status_code == 400
    assert vendor.request("POST", f"/{batch['id']}/retry").status_code == 400


def test_retry_only_once_finished_redials_failed_calls(
    emu: RunningEmulator, vendor: Vendor
) -> None:
    batch = vendor.submit(
        recipients=[{"phone_number": "+14155550100"}, {"phone_number": "+14155550199"}]
    )
    early = vendor.request("POST", f"/{batch['id']}/retry")
    assert early.status_code == 400 and "only a finished batch" in early.json()["detail"]
    emu.admin.advance(30)
    assert vendor.get(batch["id"])["status"] == "completed"
    retried = vendor.request("POST", f"/{batch['id']}/retry").json()
    assert (retried["status"], retried["retry_count"]) == ("in_progress", 1)
    detail = vendor.get(batch["id"])
    assert [r["status"] for r in detail["recipients"]] == ["completed", "dispatched"]
    emu.admin.advance(30)
    assert vendor.get(batch["id"])["status"] == "completed"


def test_delete_removes_a_batch(vendor: Vendor) -> None:
    batch = vendor.submit()
    assert vendor.request("DELETE", f"/{batch['id']}").status_code == 204
    assert vendor.request("GET", f"/{batch['id']}").status_code == 404
    assert vendor.request("POST", "/nowhere/else/here").status_code == 404
    assert vendor.request("PUT", "/submit").status_code == 405


def test_journal_faults_state_and_reset_cover_batch_calling(
    emu: RunningEmulator, vendor: Vendor
) -> None:
    emu.admin.set_faults(status=503, count=1, retry_after="0", path_prefix=vendor.prefix)
    assert vendor.request("GET", "/workspace").status_code == 503
    vendor.submit()
    journal = emu.admin.requests()
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("GET", vendor.prefix + "/workspace", 503),
        ("POST", vendor.prefix + "/submit", 200),
    ]
    assert journal[1]["body"]["call_name"] == "spring"
    assert KEY not in json.dumps(journal)
    (stored,) = emu.admin.state()["batch_calls"]
    assert stored["recipients"][0]["status"] == "dispatched"
    emu.admin.advance(30)
    assert emu.admin.state()["batch_calls"][0]["status"] == "completed"
    emu.admin.reset()
    assert emu.admin.state()["batch_calls"] == []


def test_accept_then_hang_keeps_the_batch(emu: RunningEmulator, vendor: Vendor) -> None:
    emu.admin.set_faults(mode="accept_then_hang", count=1, seconds=1.0, method="POST")
    with pytest.raises(httpx.ReadTimeout):
        vendor.request(
            "POST",
            "/submit",
            json={
                "call_name": "x",
                "agent_id": "a",
                "recipients": [{"phone_number": "+14155550100"}],
            },
            timeout=0.3,
        )
    assert len(emu.admin.state()["batch_calls"]) == 1


def test_the_ultravox_routes_are_unchanged(emu: RunningEmulator, http: httpx.Client) -> None:
    response = http.get("/v1/unrelated", headers={"X-API-Key": KEY})
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert http.get("/api/agents", headers={"X-API-Key": KEY}).json()["total"] == 0


def test_state_file_keeps_batch_calls(tmp_path: Path) -> None:
    config = EmulatorConfig(api_key=KEY, start_time=START, state_file=str(tmp_path / "state.json"))
    with running_emulator(config) as first, httpx.Client(base_url=first.base_url) as client:
        batch = Vendor(client, *ELEVENLABS).submit(scheduled_time_unix=NOW + 10)
    with running_emulator(config) as second, httpx.Client(base_url=second.base_url) as client:
        vendor = Vendor(client, *ELEVENLABS)
        assert vendor.get(batch["id"])["status"] == "pending"
        second.admin.advance(40)
        assert vendor.get(batch["id"])["status"] == "completed"
