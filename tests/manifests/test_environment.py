"""Environment files: merge rules, membership, variables, provider overrides (pure parts)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.manifests.environment import (
    Environment,
    ProviderOverride,
    deep_merge,
    included,
    variables,
)
from reconciler.providers.ultravox import SETTINGS


@pytest.mark.parametrize(
    ("base", "overlay", "merged"),
    [
        ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": {"x": 1}}, {"a": None}, {}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": None}}, {"a": {"y": 2}}),
        ({"a": "s"}, {"a": {"k": 1}}, {"a": {"k": 1}}),
        ({}, {"callTemplate": {"voice": "Mark"}}, {"callTemplate": {"voice": "Mark"}}),
    ],
)
def test_deep_merge(base: dict[str, Any], overlay: dict[str, Any], merged: dict[str, Any]) -> None:
    original = repr(base)
    assert deep_merge(base, overlay) == merged
    assert repr(base) == original  # inputs are never changed


@pytest.mark.parametrize(
    ("data", "env", "expected"),
    [
        ({}, None, True),
        ({"environments": ["prod"]}, None, True),
        ({}, "staging", True),
        ({"environments": ["staging", "prod"]}, "staging", True),
        ({"environments": ["prod"]}, "staging", False),
        ({"environments": []}, "staging", False),
    ],
)
def test_included(data: dict[str, Any], env: str | None, expected: bool) -> None:
    environment = Environment(name=env) if env else None
    assert included(data, environment) is expected


def test_variables_prefer_the_environment_file() -> None:
    # Of the process environment, only RECONCILER_VAR_* variables are readable (issue 11).
    environment = Environment(name="dev", variables={"REGION": "eu"})
    assert variables(environment, {"RECONCILER_VAR_REGION": "us", "HOME": "/root"}) == {
        "REGION": "eu",
        "RECONCILER_VAR_REGION": "us",
    }
    assert variables(None, {"RECONCILER_VAR_REGION": "us", "REGION": "x"}) == {
        "REGION": "us",
        "RECONCILER_VAR_REGION": "us",
    }


def test_provider_override_applies_only_what_it_sets() -> None:
    assert SETTINGS.overridden(ProviderOverride()) is SETTINGS
    changed = SETTINGS.overridden(ProviderOverride(apiKeyEnv="KEY_PROD", pathPrefix="/v2"))
    assert changed.api_key_env == "KEY_PROD"
    assert changed.path_prefix == "/v2"
    assert changed.api_key_header == SETTINGS.api_key_header


@pytest.mark.parametrize(
    "bad",
    [{"baseUrl": "ftp://x"}, {"apiKeyEnv": "1BAD"}, {"pathPrefix": "v1/"}, {"unknown": 1}],
)
def test_provider_override_validation(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ProviderOverride.model_validate(bad)
