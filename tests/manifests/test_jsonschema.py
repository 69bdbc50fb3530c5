"""`reconciler schema`: the JSON Schema of manifests, and the committed copy that editors use.

The schema is generated from whatever kinds are registered when the tests run, so the
committed `reconciler.schema.json` must be regenerated whenever a manifest model changes; the
first test says how.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.schema import command as schema_command
from reconciler.manifests.jsonschema import SCHEMA_FILE, manifest_schema
from reconciler.providers import registry
from tests.conftest import EXAMPLES, REPO

COMMITTED = REPO / SCHEMA_FILE


def printed() -> str:
    result = CliRunner().invoke(schema_command, [])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(printed()))


def example_documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        for index, document in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if document is not None:
                found.append((f"{path.relative_to(REPO)}#{index}", document))
    return found


def test_the_committed_schema_is_current() -> None:
    assert COMMITTED.is_file() and COMMITTED.read_text(encoding="utf-8") == printed(), (
        f"{SCHEMA_FILE} is out of date with the manifest models: regenerate it with "
        f"`reconciler schema --out {SCHEMA_FILE}` and commit it"
    )


def test_it_is_a_valid_json_schema_covering_every_kind() -> None:
    schema = json.loads(printed())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # Every resource kind, and `Ownership`: a document, though not a resource (issue 12).
    kinds = sorted([*registry.kinds(), "Ownership"])
    assert schema["properties"]["kind"]["enum"] == kinds
    assert sorted(schema["discriminator"]["mapping"]) == kinds
    assert len(schema["oneOf"]) == len(kinds)


def test_the_examples_modelines_point_at_the_committed_schema() -> None:
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix), path
        assert (path.parent / first.removeprefix(prefix)).resolve() == COMMITTED.resolve(), path


@pytest.mark.parametrize(("where", "document"), example_documents(), ids=lambda v: str(v)[:40])
def test_the_example_manifests_validate(
    validator: jsonschema.Draft202012Validator, where: str, document: dict[str, Any]
) -> None:
    problems = [e.message for e in validator.iter_errors(document)]
    assert not problems, f"{where}: {problems}"


AGENT = {"kind": "Agent", "name": "support", "callTemplate": {"voice": "Mark"}}


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        (AGENT, True),
        ({**AGENT, "environments": ["staging", "prod"]}, True),
        ({**AGENT, "environments": "staging"}, False),
        ({**AGENT, "callTemplate": {"voise": "Mark"}}, False),
        ({**AGENT, "colour": "blue"}, False),
        ({**AGENT, "kind": "Agnet"}, False),
        ({"name": "no_kind"}, False),
        ({**AGENT, "name": "has spaces"}, False),
        ({**AGENT, "callTemplate": {"joinTimeout": "5 seconds"}}, False),
        ({**AGENT, "callTemplate": {"temperature": 3}}, False),
        (
            {
                "kind": "ScheduledBatch",
                "name": "b",
                "agent": "support",
                "calls": [{"medium": {"twilio": {"outgoing": {"to": "+14155550100"}}}, "extra": 1}],
            },
            False,
        ),
        (
            {
                "kind": "ScheduledBatch",
                "name": "b",
                "agent": "support",
                "environments": ["prod"],
                "callsFrom": {"file": "r.csv", "from": "+14155550199"},
            },
            True,
        ),
    ],
    ids=[
        "agent",
        "environments",
        "environments not a list",
        "unknown callTemplate field",
        "unknown top-level field",
        "unknown kind",
        "no kind",
        "bad name",
        "bad duration",
        "out of range",
        "unknown call field",
        "campaign with callsFrom",
    ],
)
def test_documents(
    validator: jsonschema.Draft202012Validator, document: dict[str, Any], valid: bool
) -> None:
    assert validator.is_valid(document) is valid, list(validator.iter_errors(document))


def test_every_kind_model_is_closed_and_takes_environments() -> None:
    schema = manifest_schema(registry.kinds().values())
    for ref in schema["discriminator"]["mapping"].values():
        definition = schema["$defs"][ref.rsplit("/", 1)[-1]]
        assert definition["additionalProperties"] is False
        assert "environments" in definition["properties"]


def test_out_writes_the_same_text(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = CliRunner().invoke(schema_command, ["--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == printed()
    unwritable = CliRunner().invoke(schema_command, ["--out", str(tmp_path / "no" / "x.json")])
    assert unwritable.exit_code == 1
    assert "cannot write the schema" in unwritable.output
