"""`bulk`: the cycle collector is off while a campaign's recipients are built, as it was after."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.core.domain import SourceRef
from reconciler.core.errors import ManifestError
from reconciler.providers import registry
from reconciler.providers.campaigns.bulk import bulk


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@bulk
def _state(inner: bool = False) -> list[bool]:
    seen = [gc.isenabled()]
    if inner:
        seen += _state()
    seen.append(gc.isenabled())
    return seen


@bulk
def _fails() -> None:
    assert not gc.isenabled()
    raise ValueError("bad row")


def test_paused_during_the_call_and_resumed_after(collector_on: None) -> None:
    assert _state() == [False, False]
    assert gc.isenabled()


def test_nested_calls_keep_it_paused(collector_on: None) -> None:
    assert _state(inner=True) == [False, False, False, False]
    assert gc.isenabled()


def test_resumed_after_an_error(collector_on: None) -> None:
    with pytest.raises(ValueError, match="bad row"):
        _fails()
    assert gc.isenabled()


def test_left_off_when_it_was_off(collector_on: None) -> None:
    gc.disable()
    assert _state() == [False, False]
    assert not gc.isenabled()
    gc.enable()


@pytest.mark.parametrize(
    ("module", "manifest"),
    [
        (
            "reconciler.providers.ultravox.batches",
            {"kind": "ScheduledBatch", "name": "b", "agentId": "a1", "callsFrom": "calls.csv"},
        ),
        (
            "reconciler.providers.batchcalling.batch_calls",
            {
                "kind": "BatchCall",
                "provider": "threetone",
                "name": "b",
                "agentId": "a1",
                "recipientsFrom": "people.csv",
            },
        ),
    ],
)
def test_the_kinds_read_recipients_with_it_paused(
    collector_on: None, monkeypatch: pytest.MonkeyPatch, module: str, manifest: dict[str, Any]
) -> None:
    kinds = importlib.import_module(module)
    seen: list[bool] = []

    def reading(*args: object, **kwargs: object) -> tuple[list[Any], list[Any]]:
        seen.append(gc.isenabled())
        return [], []

    monkeypatch.setattr(kinds, "load_recipients", reading)
    kind = registry.kinds()[manifest["kind"]]
    model = kind.manifest_model.model_validate(manifest)
    with pytest.raises(ManifestError):  # no recipients: the API refuses an empty batch
        kind.to_desired(model, SourceRef("m.yaml", 1))
    assert seen == [False]
    assert gc.isenabled()


@bulk
def _making(count: int) -> list[dict[str, int]]:
    return [{} for _ in range(count)]


def test_a_call_that_made_many_objects_leaves_them_frozen(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.providers.campaigns import bulk as module

    monkeypatch.setattr(module, "FREEZE_FROM", 10_000)
    gc.collect()
    before = gc.get_freeze_count()
    try:
        made = _making(100)
        assert gc.get_freeze_count() == before  # few: left to the collector
        made = _making(20_000)
        assert gc.get_freeze_count() >= before + 20_000
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert len(made) == 20_000
