"""Environment files: merge rules, membership, variables, provider overrides (pure parts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import ManifestError
from reconciler.manifests.environment import (
    Environment,
    ProviderOverride,
    deep_merge,
    included,
    load_environment,
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


def test_every_problem_of_an_environment_file_in_one_run(tmp_path: Path) -> None:
    """Issue 13, items 1 and 2: each problem at its line, in one run (the name too), in the
    words of a manifest's messages; the hint for the name works when followed."""
    (tmp_path / "environments").mkdir()
    file = tmp_path / "environments" / "prod.yaml"
    file.write_text(
        "variabels: {A: b}\ndefaultRegion: us\nproviders:\n"
        "  ultravox: {baseUrl: 5, apiKeyEnv: K}\n  ultravx: {}\nname: other\n"
    )
    providers = ["ultravox", "threetone", "elevenlabs"]
    with pytest.raises(ManifestError) as caught:
        load_environment([str(tmp_path)], "prod", providers)
    assert [str(d) for d in caught.value.diagnostics] == [
        f'{file}:1: variabels: unknown field; did you mean "variables"?',
        f"{file}:2: defaultRegion: 'us' is not a region of the phone numbering plans: an ISO "
        "3166-1 code in capitals, like US, GB or DE",
        # Not "quote it": "5" would be no URL either.
        f"{file}:4: providers.ultravox.baseUrl: expected a string, got 5",
        f"{file}:5: providers: unknown provider 'ultravx'; did you mean \"ultravox\"? (known: "
        "elevenlabs, threetone, ultravox)",
        f'{file}:6: name: "other" is not the file\'s name; write name: prod (or leave name out: '
        "the file names the environment)",
    ]
    file.write_text("name: prod\ndefaultRegion: US\n")
    assert load_environment([str(tmp_path)], "prod", providers).name == "prod"
