"""What a manifest may read, and what an error may show (issue 11, items 1, 2, 5 and 7).

* `${NAME}` in a field that is not secret reads the environment file's `variables:` and the
  process variables `RECONCILER_VAR_*` only; a secret field reads the process environment,
  but never a provider's API-key variable; no error shows a value a variable supplied.
* Every secret field of every kind (webhook secrets, `sharedSecrets`, tool `authTokens`,
  generic voice `headers`, SIP passwords) is a `${VAR}` reference, down to each string.
* Numbers JSON cannot carry (NaN, infinity) and malformed references are errors.
* Files a manifest names stay inside the manifest directory unless the operator allows it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import ManifestError
from reconciler.core.masking import REDACTOR
from reconciler.manifests.environment import Environment
from reconciler.manifests.loader import parse_manifests, referenced_file_problems
from reconciler.providers import registry

API_KEY = "uvx-live-0123456789abcdef"
ENV = {"ULTRAVOX_API_KEY": API_KEY, "CI_DEPLOY_TOKEN": "ghp_deploytoken0123456789"}


def agent(body: str) -> str:
    return "kind: Agent\nname: support\ncallTemplate:\n" + body


def parse(
    tmp_path: Path,
    text: str,
    environ: dict[str, str] | None = None,
    environment: Environment | None = None,
    **options: Any,
) -> Any:
    (tmp_path / "m.yaml").write_text(text)
    return parse_manifests(
        [str(tmp_path)],
        registry.kinds(),
        {**ENV, **(environ or {})},
        environment,
        forbidden=("ULTRAVOX_API_KEY", "THREETONE_API_KEY", "ELEVENLABS_API_KEY"),
        **options,
    )


def errors(tmp_path: Path, text: str, **options: Any) -> str:
    with pytest.raises(ManifestError) as caught:
        parse(tmp_path, text, **options)
    message = caught.value.render()
    for value in [*ENV.values(), *(options.get("environ") or {}).values()]:
        if len(value) >= 6:
            assert value not in message
    return message


# --- item 2: what ${NAME} reads -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["ULTRAVOX_API_KEY", "CI_DEPLOY_TOKEN", "HOME", "PATH"])
def test_a_field_that_is_not_secret_never_reads_the_process_environment(
    tmp_path: Path, name: str
) -> None:
    message = errors(tmp_path, agent(f'  systemPrompt: "${{{name}}}"\n'))
    if name == "ULTRAVOX_API_KEY":
        assert f"m.yaml:4: callTemplate.systemPrompt: {name} holds a provider's API key" in message
    else:
        assert f"m.yaml:4: callTemplate.systemPrompt: variable {name} is not set" in message
        assert f"RECONCILER_VAR_{name}" in message


def test_reconciler_var_and_environment_file_variables_are_read(tmp_path: Path) -> None:
    environment = Environment(name="dev", variables={"COMPANY": "Acme"})
    (resource,) = parse(
        tmp_path,
        agent('  systemPrompt: "${COMPANY} in ${REGION}, ${RECONCILER_VAR_REGION}"\n'),
        {"RECONCILER_VAR_REGION": "eu"},
        environment,
    )
    assert resource.spec["callTemplate"]["systemPrompt"] == "Acme in eu, eu"


def test_a_secret_field_never_reads_an_api_key_variable(tmp_path: Path) -> None:
    text = agent("  sharedSecrets: ['${ULTRAVOX_API_KEY}']\n")
    message = errors(tmp_path, text)
    assert "callTemplate.sharedSecrets[0]: ULTRAVOX_API_KEY holds a provider's API key" in message


def test_a_secret_field_reads_the_process_environment_never_the_file(tmp_path: Path) -> None:
    environment = Environment(name="dev", variables={"SIGNING": "from-the-file"})
    message = errors(tmp_path, agent("  sharedSecrets: ['${SIGNING}']\n"), environment=environment)
    assert "secret variable SIGNING is not set in the process environment" in message


# --- item 1: every secret field is a reference ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("  sharedSecrets: [literal-signing-secret]\n", "callTemplate.sharedSecrets[0]"),
        (
            "  selectedTools:\n    - toolName: lookup\n"
            "      authTokens: {X-Api-Key: literal-token-value}\n",
            "callTemplate.selectedTools[0].authTokens.X-Api-Key",
        ),
        (
            "  externalVoice:\n    generic:\n      url: https://tts.example.com\n"
            "      headers: {Authorization: Bearer-literal-value}\n",
            "callTemplate.externalVoice.generic.headers.Authorization",
        ),
        (
            "  medium:\n    sip:\n      outgoing:\n        to: sip:a@example.com\n"
            "        from: b\n        username: u\n        password: literal-sip-password\n",
            "callTemplate.medium.sip.outgoing.password",
        ),
    ],
    ids=["sharedSecrets", "authTokens", "generic-headers", "sip-password"],
)
def test_every_agent_secret_must_be_a_reference(tmp_path: Path, body: str, where: str) -> None:
    message = errors(tmp_path, agent(body))
    assert f"{where}: a secret must come from the environment" in message
    assert "literal" not in message


def test_agent_secrets_are_recorded_by_name_and_resolved_for_comparison(tmp_path: Path) -> None:
    secret = "sig-0123456789-abcdef"
    (resource,) = parse(
        tmp_path,
        agent(
            "  sharedSecrets: ['${SIG}']\n  selectedTools:\n    - toolName: lookup\n"
            "      authTokens: {X-Api-Key: '${TOOL_KEY}'}\n"
        ),
        {"SIG": secret, "TOOL_KEY": "tool-key-0123456789"},
    )
    assert resource.secrets == {
        "callTemplate.sharedSecrets[0]": "SIG",
        "callTemplate.selectedTools[0].authTokens.X-Api-Key": "TOOL_KEY",
    }
    assert resource.spec["callTemplate"]["sharedSecrets"] == [secret]
    assert secret in REDACTOR and "tool-key-0123456789" in REDACTOR


# --- errors never print an interpolated value ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  temperature: ${RECONCILER_VAR_X}\n",
            "expected a number, got the value of ${RECONCILER_VAR_X}",
        ),
        (
            "  joinTimeout: ${RECONCILER_VAR_X}\n",
            "the value of ${RECONCILER_VAR_X} is not a duration",
        ),
        ("  voice: ${RECONCILER_VAR_X}\n  externalVoice: {}\n", "callTemplate.externalVoice"),
    ],
    ids=["type", "pattern", "rule"],
)
def test_errors_show_the_reference_not_the_value(tmp_path: Path, body: str, expected: str) -> None:
    value = "private-value-from-the-operator"
    message = errors(tmp_path, agent(body), environ={"RECONCILER_VAR_X": value})
    assert expected in message
    assert value not in message


def test_validate_shows_no_secret_value_in_an_error(tmp_path: Path) -> None:
    text = (
        "kind: ScheduledBatch\nname: b\nagentId: 0f3f4e6a-0000-4000-8000-000000000001\n"
        "webhookUrl: https://hooks.example.com/x\nwebhookSecret: ${HOOK}\n"
        "calls:\n  - medium: {serverWebSocket: {inputSampleRate: 16000}}\n"
    )
    value = "w" * 130  # longer than webhookSecret's 120 characters
    message = errors(tmp_path, text, environ={"HOOK": value}, require_secrets=False)
    assert "webhookSecret" in message and value not in message


# --- item 7: inputs that used to be accepted and sent ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["${X", "pre ${X post", "${}", "${1X}", "${A B}"],
)
def test_a_malformed_reference_is_an_error_not_sent(tmp_path: Path, text: str) -> None:
    message = errors(tmp_path, agent(f"  systemPrompt: {text!r}\n".replace("'", '"')))
    assert "callTemplate.systemPrompt: malformed reference" in message


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_numbers_json_cannot_carry_are_errors(tmp_path: Path, value: str) -> None:
    message = errors(tmp_path, agent(f"  temperature: {value}\n"))
    assert "m.yaml:4: callTemplate.temperature: not a finite number" in message


def test_nan_through_a_variable_is_an_error_too(tmp_path: Path) -> None:
    message = errors(
        tmp_path, agent("  temperature: ${RECONCILER_VAR_T}\n"), environ={"RECONCILER_VAR_T": "nan"}
    )
    assert "callTemplate.temperature: expected a number" in message


# --- item 5: files stay inside the manifest directory --------------------------------------


def campaign(reference: str) -> str:
    return (
        "kind: ScheduledBatch\nname: b\nagentId: 0f3f4e6a-0000-4000-8000-000000000001\n"
        f"callsFrom:\n  file: {reference}\n  from: '+14155550199'\n"
    )


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("../outside.csv", "goes outside the manifest directory"),
        ("sub/../../outside.csv", "goes outside the manifest directory"),
        ("/etc/recipients.csv", "is an absolute path"),
        ("link.csv", "is a symlink out of the manifest directory"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink"],
)
def test_recipient_files_stay_inside_the_manifest_directory(
    tmp_path: Path, reference: str, problem: str
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("to\n+14155550100\n")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    os.symlink(outside, manifests / "link.csv")
    data = {"callsFrom": {"file": reference}}
    problems = referenced_file_problems(data, ("callsFrom.file",), manifests / "m.yaml", manifests)
    assert len(problems) == 1 and problem in problems[0][1]
    assert problems[0][0] == ("callsFrom", "file")
    assert "--allow-outside-files" in problems[0][1]
    allowed = referenced_file_problems(
        data, ("callsFrom.file",), manifests / "m.yaml", manifests, allow_outside=True
    )
    assert allowed == [] or "absolute" not in allowed[0][1]


def test_a_path_inside_through_dotdot_is_fine(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("to\n")
    (tmp_path / "sub").mkdir()
    problems = referenced_file_problems(
        {"f": "sub/../r.csv"}, ("f",), tmp_path / "m.yaml", tmp_path
    )
    assert problems == []


def test_a_file_name_with_nul_and_an_oversized_file(tmp_path: Path) -> None:
    (tmp_path / "big.csv").write_text("to\n" + "+14155550100\n" * 100)
    from reconciler.core.limits import Limits

    problems = referenced_file_problems(
        {"a": "x\x00.csv", "b": "big.csv"},
        ("a", "b"),
        tmp_path / "m.yaml",
        tmp_path,
        limits=Limits(max_file_bytes=64),
    )
    assert problems[0][1] == "a file name cannot contain a NUL character"
    assert "larger than 64 bytes" in problems[1][1]
