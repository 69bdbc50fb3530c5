"""The console script runs the cycle collector less often (`COLLECTOR_THRESHOLDS`), before any
command starts; in-process callers (`cli.main`) keep their own setting."""

from __future__ import annotations

import gc
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
