"""The console script runs the cycle collector less often (`COLLECTOR_THRESHOLDS`), before any
command starts; in-process callers (`cli.main`) keep their own setting."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator

import pytest

from reconciler.cli import main as entry


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_main_sets_the_thresholds_before_the_command(
    thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(entry, "cli", lambda **_: seen.append(gc.get_threshold()))
    entry.main()
    assert seen == [entry.COLLECTOR_THRESHOLDS]
    assert entry.COLLECTOR_THRESHOLDS[0] > 700


@pytest.mark.parametrize(("code", "expected"), [(None, 0), (0, 0), (2, 2), (True, 1)])
def test_main_ends_the_process_with_the_commands_exit_code(
    thresholds: None, monkeypatch: pytest.MonkeyPatch, code: int | None, expected: int
) -> None:
    def command(**_: object) -> None:
        raise SystemExit(code)

    ended: list[int] = []
    monkeypatch.setattr(entry, "cli", command)
    monkeypatch.setattr(os, "_exit", ended.append)
    with pytest.raises(SystemExit):  # only because the stand-in `_exit` returns
        entry.main()
    assert ended == [expected]


def test_main_leaves_a_message_exit_and_an_unflushable_output_to_the_interpreter(
    thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended: list[int] = []
    monkeypatch.setattr(os, "_exit", ended.append)

    def message(**_: object) -> None:
        raise SystemExit("stopped")

    monkeypatch.setattr(entry, "cli", message)
    with pytest.raises(SystemExit, match="stopped"):
        entry.main()

    class Closed:
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    def failing(**_: object) -> None:
        raise SystemExit(0)

    monkeypatch.setattr(entry, "cli", failing)
    monkeypatch.setattr(sys, "stdout", Closed())
    with pytest.raises(SystemExit) as raised:
        entry.main()
    assert raised.value.code == 0
    assert ended == []
