"""Fuzzing server answers (issue 11, item 7): whatever the API answers, `plan`, `status` and
`apply` end with exit 0 or 1 and, on 1, an error message; never a traceback, never a hang.

Hypothesis scripts the answers of a fake account (`httpx.MockTransport`): JSON of any shape
in the places lists, agents, batches and calls are expected, bodies that are not JSON,
statuses of every class, odd `Retry-After` and `Content-Encoding` headers, links elsewhere.
Loops are bounded (the page bound is lowered for the run) and no wait is slept.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.hostile import empty_lists, raw, run

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests"
AGENT_ID = "0f3f4e6a-0000-4000-8000-000000000001"
CAMPAIGNS = f"""\
kind: ScheduledBatch
name: spring
agentId: {AGENT_ID}
windowStart: "2030-01-14T16:00:00Z"
windowEnd: "2030-01-14T20:00:00Z"
calls:
  - medium: {{twilio: {{outgoing: {{to: "+14155550100", from: "+14155550199"}}}}}}
---
kind: BatchCall
provider: threetone
name: winback
agentId: agent_01
recipients:
  - phone_number: "+14155550101"
"""
KEYS = [
    "results", "next", "previous", "total", "agentId", "name", "callTemplate", "batchId",
    "metadata", "reconciler.batch", "reconciler.recipient", "status", "batch_calls",
    "has_more", "next_doc", "id", "recipients", "phone_number", "created", "endedAt",
    "paused", "detail", "systemPrompt", "agent_id", "retry_count", "callId",
]  # fmt: skip
TEMPLATE_KEYS = [
    "systemPrompt", "voice", "temperature", "joinTimeout", "selectedTools", "sharedSecrets",
    "medium", "firstSpeakerSettings", "vadSettings", "model", "externalVoice", "created",
]  # fmt: skip
LINKS = [
    "https://api.ultravox.ai/api/agents?cursor=x",
    "https://api.ultravox.ai:444/api/agents?cursor=x",
    "http://api.ultravox.ai/api/agents?cursor=y",
    "https://evil.example/api/agents",
    "//evil.example/x",
    "not a url",
    "https://api.ultravox.ai/api/agents/../../x",
]

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from([AGENT_ID, "../x", "a/b", "", "+14155550100", "FUTURE", "pending", *LINKS]),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    ),
    max_leaves=25,
)


ODD = st.one_of(JSON_LEAF, JSON_VALUE)


@st.composite
def plausible(draw: st.DrawFn) -> Any:
    """An answer close to a real one (an agent, a batch, a call, a batch-calling batch), with
    some of its values replaced by anything."""

    def maybe(value: Any) -> Any:
        return draw(ODD) if draw(st.integers(0, 4)) == 0 else value

    template = draw(st.dictionaries(st.sampled_from(TEMPLATE_KEYS), ODD, max_size=4))
    kind = draw(st.sampled_from(["agents", "batches", "calls", "workspace", "detail"]))
    if kind == "agents":
        item = {"agentId": maybe(AGENT_ID), "name": maybe("support"), "callTemplate": template}
        return {"results": [maybe(item)], "next": maybe(None)}
    if kind == "batches":
        item = {"batchId": maybe("b1"), "created": maybe("2030-01-01T00:00:00Z"),
                "endedAt": maybe(None), "paused": maybe(False)}  # fmt: skip
        return {"results": [item], "next": None}
    if kind == "calls":
        metadata = {"reconciler.batch": maybe("spring"), "reconciler.recipient": maybe("r-1")}
        item = {"metadata": maybe(metadata), "status": maybe("FUTURE"), "callId": maybe("c1"),
                "medium": maybe({"twilio": {"outgoing": {"to": "+14155550100"}}})}  # fmt: skip
        return {"results": [item], "next": None}
    if kind == "workspace":
        item = {"id": maybe("btcal_1"), "name": maybe("winback"), "agent_id": maybe("agent_01"),
                "status": maybe("pending"), "created_at_unix": maybe(1)}  # fmt: skip
        return {"batch_calls": [item], "has_more": maybe(False), "next_doc": maybe(None)}
    recipient = {"id": maybe("r-1"), "phone_number": maybe("+14155550101"),
                 "status": maybe("pending")}  # fmt: skip
    return {"id": "btcal_1", "status": maybe("pending"), "recipients": [maybe(recipient)]}


@st.composite
def page(draw: st.DrawFn) -> Any:
    """Something shaped like one of the lists the tool reads, with anything inside."""
    if draw(st.booleans()):
        return draw(plausible())
    items = draw(st.lists(JSON_VALUE, max_size=3))
    return draw(
        st.sampled_from(
            [
                {"results": items, "next": draw(st.one_of(st.none(), st.sampled_from(LINKS)))},
                {"batch_calls": items, "has_more": draw(st.booleans()), "next_doc": "d"},
                {"results": items},
                items,
                {"recipients": items, "id": "btcal_1", "status": "pending"},
            ]
        )
    )


@st.composite
def answer(draw: st.DrawFn) -> tuple[int, bytes, dict[str, str]]:
    status = draw(st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 404, 409, 429, 500]))
    kind = draw(st.sampled_from(["page", "json", "text", "deep", "nan", "empty"]))
    if kind == "page":
        body = json.dumps(draw(page())).encode()
    elif kind == "json":
        body = json.dumps(draw(JSON_VALUE)).encode()
    elif kind == "text":
        body = draw(st.sampled_from([b"<html>oops</html>", b'{"results": [', b"\xff\xfe", b"null"]))
    elif kind == "deep":
        body = b"[" * 5000 + b"]" * 5000
    elif kind == "nan":
        body = b'{"results": [NaN], "next": null}'
    else:
        body = b""
    headers = draw(
        st.sampled_from(
            [
                {},
                {"Retry-After": "nan"},
                {"Retry-After": "Wed, 21 Oct 2999 07:28:00 GMT"},
                {"Retry-After": "-5"},
                {"Content-Encoding": "gzip"},
                {"Content-Encoding": "br"},
                {"Location": "https://evil.example/"},
                {"Content-Type": "text/html"},
            ]
        )
    )
    return status, body, headers


def handler_for(script: list[tuple[int, bytes, dict[str, str]]]) -> Any:
    answers = list(script)

    def handler(request: httpx.Request) -> httpx.Response:
        if not answers:
            return empty_lists(request)
        status, body, headers = answers.pop(0)
        return raw(status, body, headers)

    return handler


def workspace(root: Path) -> Path:
    manifests = root / "manifests"
    shutil.copytree(EXAMPLES / "agents", manifests / "agents")
    (manifests / "campaigns.yaml").write_text(CAMPAIGNS)
    return manifests


ENV = {"RECONCILER_MAX_PAGES": "20", "RECONCILER_TIMEOUT": "30"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(answer(), max_size=12), st.sampled_from(["plan", "status", "apply"]))
def test_any_answer_ends_in_a_result_or_an_error(
    script: list[tuple[int, bytes, dict[str, str]]], command: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        manifests = workspace(Path(directory))
        args = [command, str(manifests)] + (["--auto-approve"] if command == "apply" else [])
        outcome = run(args, handler_for(script), env=ENV)
        assert not outcome.traceback, outcome.traceback
        assert "Traceback" not in outcome.output
        assert "internal error" not in outcome.output, outcome.output
        assert outcome.code in (0, 1), outcome.output
        if outcome.code == 1:
            assert "Error:" in outcome.stderr, outcome.stderr
        assert len(outcome.requests) < 200, "bounded: no endless loop"
        for request in outcome.requests:
            assert request.url.host in ("api.ultravox.ai", "api.threetone.in")
            assert request.url.port in (None, 443)
