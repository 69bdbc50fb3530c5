"""A large plan written by a second process (`saved.start_writing`, issue 14): the same file
`write_plan` writes, its errors raised when waited for, and a process that died replaced."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import Action, Change, Plan, Request, ResourceKey
from reconciler.core.errors import ConfigError
from reconciler.core.masking import REDACTOR
from reconciler.runtime import saved

RECORDED = saved.Recorded(("manifests",), False, ("ScheduledBatch/b",))


def _plan(calls: int) -> Plan:
    body = {
        "windowStart": "2031-01-14T16:00:00Z",
        "calls": [
            {"medium": {"twilio": {"outgoing": {"to": f"+1415{2000000 + i:07d}"}}}, "n": i}
            for i in range(calls)
        ],
        "note": "leaked sk-live-0123456789abcdef here",
    }
    request = Request("POST", "/api/agents/a1/scheduled_batches", body, "calls")
    change = Change(
        ResourceKey("ScheduledBatch", "b"), "ultravox", Action.CREATE, requests=(request,)
    )
    return Plan(changes=(change,), reads=())


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A fork allowed though pytest-xdist runs threads; yields the pids forked."""
    REDACTOR.clear()
    REDACTOR.add("sk-live-0123456789abcdef")
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(saved, "LARGE_PLAN_ITEMS", 50)
    yield forked
    REDACTOR.clear()


def _alone(tmp_path: Path, plan: Plan) -> str:
    out = tmp_path / "alone.json"
    saved.write_plan(plan, RECORDED, str(out))
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("calls", [49, 50, 3000])
def test_the_file_is_what_write_plan_writes(forking: list[int], tmp_path: Path, calls: int) -> None:
    plan = _plan(calls)
    out = tmp_path / "plan.json"
    out.write_text("an older, longer file " * 10_000)
    out.chmod(0o644)
    wait = saved.start_writing(plan, RECORDED, str(out))
    wait()
    assert out.read_text(encoding="utf-8") == _alone(tmp_path, plan)
    assert "sk-live" not in out.read_text(encoding="utf-8")
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    assert len(forking) == (calls >= 50)


def test_a_file_that_cannot_be_opened_is_refused_at_once(
    forking: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "plan.json"
    with pytest.raises(ConfigError) as refused:
        saved.start_writing(_plan(100), RECORDED, str(out))
    assert str(refused.value) == f"cannot write plan to {out}: No such file or directory"
    assert forking == []


def test_a_write_error_is_raised_when_waited_for(
    forking: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "plan.json"

    def full(*args: Any) -> None:
        raise ConfigError(f"cannot write plan to {out}: No space left on device")

    monkeypatch.setattr(saved, "_write", full)
    wait = saved.start_writing(_plan(100), RECORDED, str(out))
    assert len(forking) == 1
    with pytest.raises(ConfigError) as refused:
        wait()
    assert str(refused.value) == f"cannot write plan to {out}: No space left on device"


def test_a_writer_that_died_is_replaced(
    forking: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = os.getpid()
    real = saved._write

    def dies_there(plan: Plan, recorded: saved.Recorded, out: str, fd: int) -> None:
        if os.getpid() != here:
            os._exit(9)
        real(plan, recorded, out, fd)

    monkeypatch.setattr(saved, "_write", dies_there)
    plan = _plan(100)
    out = tmp_path / "plan.json"
    saved.start_writing(plan, RECORDED, str(out))()
    assert len(forking) == 1
    assert out.read_text(encoding="utf-8") == _alone(tmp_path, plan)
