"""`interpolate(..., plain=True)` (the caller knows no string holds a `$`) visits the secret
fields only (issue 14); on such data it gives what the full walk gives, problems included."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.interpolate import interpolate

KEYS = st.sampled_from(["a", "b", "token", "x", "[]"])
LEAVES = st.one_of(st.none(), st.integers(), st.text(alphabet="ab{}", max_size=3))
DATA = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=12,
)
PATTERNS = st.lists(st.sampled_from(["a", "a.token", "b[]", "b[].token", "x.a"]), max_size=3)


@settings(max_examples=100, deadline=None)
@given(data=st.dictionaries(KEYS, DATA), patterns=PATTERNS, required=st.booleans())
def test_plain_data_interpolates_as_the_full_walk_does(
    data: dict[str, Any], patterns: list[str], required: bool
) -> None:
    full = interpolate(data, {}, patterns, secrets_from={}, require_secrets=required)
    fast = interpolate(data, {}, patterns, secrets_from={}, require_secrets=required, plain=True)
    assert fast.data == full.data
    assert fast.problems == full.problems
    assert fast.secrets == full.secrets
    assert fast.sources == full.sources


def test_a_secret_written_as_a_value_is_still_refused_in_plain_data() -> None:
    found = interpolate({"a": {"token": "abc"}}, {}, ["a.token"], secrets_from={}, plain=True)
    assert found.problems == [
        (
            ("a", "token"),
            "a secret must come from the environment: write ${VARIABLE_NAME}, never the "
            "value itself",
        )
    ]
