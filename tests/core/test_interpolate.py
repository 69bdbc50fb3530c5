"""Interpolation of `${NAME}` / `${NAME:-default}` and the secrets-only-from-environment rule."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.interpolate import interpolate

ENV = {"REGION": "eu", "EMPTY": "", "HOOK_SECRET": "s3cr3t"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("${REGION}", "eu"),
        ("https://${REGION}.acme.example/hook", "https://eu.acme.example/hook"),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY}", ""),
        ("$${REGION}", "${REGION}"),
        ("${REGION}-${REGION}", "eu-eu"),
        ("cost: $5", "cost: $5"),
    ],
)
def test_substitution(value: str, expected: str) -> None:
    result = interpolate({"field": value}, ENV)
    assert result.problems == []
    assert result.data == {"field": expected}


def test_missing_variable_is_a_problem_at_its_path() -> None:
    result = interpolate({"calls": [{"metadata": {"x": "${NOPE}"}}]}, ENV)
    assert [path for path, _ in result.problems] == [("calls", 0, "metadata", "x")]
    assert "NOPE is not set" in result.problems[0][1]


@pytest.mark.parametrize(
    ("data", "secrets", "problem"),
    [
        ({"webhookSecret": "${HOOK_SECRET}"}, {"webhookSecret": "HOOK_SECRET"}, None),
        ({"webhookSecret": "literal"}, {}, "must come from the environment"),
        ({"webhookSecret": "pre-${HOOK_SECRET}"}, {}, "must come from the environment"),
        ({"other": "x"}, {}, None),
    ],
)
def test_secret_fields(data: dict[str, Any], secrets: dict[str, str], problem: str | None) -> None:
    result = interpolate(data, ENV, ["webhookSecret"])
    assert result.secrets == secrets
    if problem is None:
        assert result.problems == []
    else:
        assert problem in result.problems[0][1]


def test_secret_value_is_resolved_for_comparison_but_name_recorded() -> None:
    result = interpolate({"webhookSecret": "${HOOK_SECRET}"}, ENV, ["webhookSecret"])
    assert result.data == {"webhookSecret": "s3cr3t"}
    assert result.secrets == {"webhookSecret": "HOOK_SECRET"}


def test_unset_secret_is_a_problem_only_when_required() -> None:
    required = interpolate({"webhookSecret": "${NOPE}"}, ENV, ["webhookSecret"])
    assert "NOPE is not set" in required.problems[0][1]
    lenient = interpolate(
        {"webhookSecret": "${NOPE}"}, ENV, ["webhookSecret"], require_secrets=False
    )
    assert lenient.problems == []
    assert lenient.secrets == {"webhookSecret": "NOPE"}


def test_secrets_never_come_from_the_variables_map() -> None:
    result = interpolate(
        {"webhookSecret": "${S}"}, {"S": "from-file"}, ["webhookSecret"], secrets_from={}
    )
    assert "S is not set in the process environment" in result.problems[0][1]
