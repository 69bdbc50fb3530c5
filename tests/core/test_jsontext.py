"""The streamed plan text: `write_indented` is `json.dumps(indent=2)` byte for byte, in chunks
that end before a newline, and a saved plan is redacted as the whole text would be."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import Action, Change, Plan, Request, ResourceKey
from reconciler.core.jsontext import indented, write_indented
from reconciler.core.masking import REDACTOR
from reconciler.core.planfile import plan_to_json
from reconciler.runtime import saved


class Level(IntEnum):
    HIGH = 3


VALUES: list[Any] = [
    None,
    True,
    0,
    -12,
    10**20,
    1.5,
    1e-7,
    math.inf,
    -math.inf,
    math.nan,
    Level.HIGH,
    "",
    "plain",
    'quote " backslash \\ newline \n tab \t bell \x07',
    "ünïcødé ✓ 𝄞 \u2028",
    [],
    {},
    [[]],
    [{}],
    {"a": []},
    {"a": {}},
    (1, "two", (3,)),
    {"n": None, "t": True, "f": False, "x": [1, [2, [3, {"deep": "end"}]]]},
    {1: "int key", 2.5: "float key", None: "none key", False: "bool key"},
    {"outer": {1: "an int key inside", "list": [{2: "again"}]}},
    [{"medium": {"twilio": {"outgoing": {"to": "+14155550100"}}}} for _ in range(3)],
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:40] for v in VALUES])
def test_byte_for_byte_the_stdlib(value: Any) -> None:
    assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_what_the_stdlib_refuses_it_refuses() -> None:
    with pytest.raises(TypeError):
        indented({"when": object()})
    with pytest.raises(TypeError):
        indented({("tuple", "key"): 1})


def _big() -> dict[str, Any]:
    calls = [
        {"to": f"+1415{2000000 + i:07d}", "context": {"name": f"Customer {i}"}, "n": i}
        for i in range(5000)
    ]
    return {"changes": [{"requests": [{"body": {"calls": calls}}]}], "summary": {"create": 1}}


def test_chunks_end_before_a_newline() -> None:
    chunks: list[str] = []
    write_indented(_big(), chunks.append)
    assert len(chunks) > 3
    assert all(not c.endswith("\n") for c in chunks)
    assert all(c.startswith("\n") for c in chunks[1:])
    assert "".join(chunks) == json.dumps(_big(), indent=2, ensure_ascii=False)


@pytest.fixture
def redactor() -> Iterator[None]:
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def _plan(body: dict[str, Any]) -> Plan:
    request = Request("POST", "/api/agents/a1/scheduled_batches", body, "calls")
    change = Change(
        ResourceKey("ScheduledBatch", "b"), "ultravox", Action.CREATE, requests=(request,)
    )
    return Plan(changes=(change,), reads=())


def _expected(plan: Plan, recorded: saved.Recorded) -> str:
    data = {**plan_to_json(plan), saved.MANIFESTS: recorded.to_json()}
    return REDACTOR.secrets(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@pytest.mark.parametrize(
    "secret",
    ["sk-live-0123456789abcdef", "two\nlines-0123456789"],
    ids=["one line", "spanning a newline"],
)
def test_saved_plan_is_the_whole_text_redacted(redactor: None, tmp_path: Path, secret: str) -> None:
    REDACTOR.add(secret)
    body = {**_big(), "note": f"leaked {secret} here", "tail": secret}
    plan = _plan(body)
    recorded = saved.Recorded(("manifests",))
    out = tmp_path / "plan.json"
    saved.write_plan(plan, recorded, str(out))
    text = out.read_text(encoding="utf-8")
    assert text == _expected(plan, recorded)
    assert ("***" in text) is ("\n" not in secret)
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
