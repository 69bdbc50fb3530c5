"""`masked_json`'s text path (a large value masked in its JSON text) gives exactly the text of
`json.dumps(masked(value), ensure_ascii=False)`, or steps aside (None) for the copy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import masking
from reconciler.core.masking import _masked_in_text, masked, masked_json


def full(value: Any) -> str:
    return json.dumps(masked(value), ensure_ascii=False)


KEYS = st.sampled_from(
    ["to", "from", "phone_number", "whatsapp_user_id", "$secret", "a", "b", "+14155550100"]
) | st.text(alphabet="ab1+ -:", max_size=12)
CLEAN = st.text(alphabet="0123456789+()-. /:#_aZ*", max_size=30)
TEXT = st.one_of(
    CLEAN,
    CLEAN,
    CLEAN,
    st.sampled_from(["+14155550100", "+1234567", "", "2031-01-14T16:00:00Z", "r-7f52570319"]),
    st.text(alphabet='0123456789+ "\\\n٤é', max_size=12),  # escapes, not ASCII: the copy
)
SCALARS = (
    TEXT
    | st.integers(min_value=-(10**16), max_value=10**16)
    | st.sampled_from([14155550100, 1926687600, -4155550100, 12345678])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([12345678.5, 1e20])
    | st.booleans()
    | st.none()
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(KEYS, inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_the_text_path_gives_the_copys_text_or_steps_aside(value: Any) -> None:
    shown = _masked_in_text(value)
    assert shown is None or shown == full(value)
    assert masked_json(value) == full(value)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_with_tuples_too(value: Any) -> None:
    shown = _masked_in_text(value)
    assert shown is None or shown == full(value)


def _scheduled_batch(n: int) -> dict[str, Any]:
    return {
        "windowStart": "2031-01-14T16:00:00Z",
        "calls": [
            {
                "medium": {"twilio": {"outgoing": {"to": f"+1415{i:07d}", "from": "+14155550199"}}},
                "templateContext": {"customerName": f"Customer {i}"},
                "metadata": {"customerId": str(i), "reconciler.recipient": f"r-{i:08d}aa{i:010d}"},
            }
            for i in range(n)
        ],
    }


def _batch_call(n: int) -> dict[str, Any]:
    return {
        "call_name": "bench_winback_00",
        "scheduled_time_unix": 1926687600,
        "recipients": [
            {
                "id": f"crm-{i}",
                "phone_number": f"+1628{i:07d}",
                "conversation_initiation_client_data": {
                    "dynamic_variables": {"customer_name": f"Customer {i}", "short": "+1234567"}
                },
            }
            for i in range(n)
        ],
    }


@pytest.mark.parametrize("body", [_scheduled_batch(1200), _batch_call(1200)])
def test_a_campaigns_body_is_masked_in_its_text(body: dict[str, Any]) -> None:
    shown = _masked_in_text(body)
    assert shown is not None
    assert shown == full(body)
    assert re.search(r"\+\d{8}", shown) is None  # every number masked
    assert masked_json(body) == shown


REFUSED: list[Any] = [
    {"calls": [{"to": "+14155550100"}], "note": "line\nbreak"},  # an escape
    {"calls": [{"+14155550100": 1}]},  # a number in a key, which masked leaves alone
    {"calls": [14155550100]},  # an integer masked turns into a string
    {"calls": [12345678.5]},  # a float with a run
    {"calls": [{"$secret": "HOOK"}]},  # a secret reference, shown by name
    {"calls": [{"to": "+14155550100", "name": "José"}]},  # not ASCII
    {"calls": [{1, 2}]},  # not JSON at all: the copy fails as it always did
]


@pytest.mark.parametrize("value", REFUSED, ids=[repr(v)[:40] for v in REFUSED])
def test_the_text_path_steps_aside_where_the_text_could_differ(value: Any) -> None:
    assert _masked_in_text(value) is None


def test_a_value_json_cannot_encode_fails_as_it_did() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        masked_json({"calls": [{1, 2}] * masking._MANY})


def test_small_values_are_copied_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: Any) -> str:
        raise AssertionError("a small value took the text path")

    monkeypatch.setattr(masking, "_masked_in_text", refuse)
    assert masked_json({"to": "+14155550100", "calls": [1] * 10}) == (
        '{"to": "+1415***0100", "calls": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}'
    )


def test_a_tuple_in_a_large_body_is_masked_like_a_list() -> None:
    body = {"calls": [("+14155550100", {"to": "+14155550101"})] * masking._MANY}
    assert masked_json(body) == full(
        {"calls": [["+14155550100", {"to": "+14155550101"}]] * masking._MANY}
    )
    assert "+14155550100" not in masked_json(body) and "+1415***0100" in masked_json(body)
