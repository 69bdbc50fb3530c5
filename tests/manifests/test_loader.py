"""The manifest layer: files, YAML with lines, validation, one-of rules, the generated models.

Runs against a test-local `Agent` resource type (the real one belongs to the provider), so
these tests pin the manifest contract only: what parses, what dumps back, and the exact
file:line and message of every kind of bad input (the corpus in tests/data/bad/).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from pydantic import BaseModel

from reconciler.core.domain import Change, DesiredResource, LiveResource, ResourceKey, SourceRef
from reconciler.core.errors import Diagnostic, ManifestError
from reconciler.core.normalize import NormalizationTable
from reconciler.core.planning import PlanOptions
from reconciler.manifests.documents import collect_files, load_documents
from reconciler.manifests.fields import DURATION_PATTERN
from reconciler.manifests.loader import field_path_problem, parse_manifests
from reconciler.providers.base import Api, ResourceType
from reconciler.providers.ultravox import rules, schema
from reconciler.providers.ultravox.manifests import AgentCallTemplate, AgentManifest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data"
GOOD = DATA / "good"
BAD = DATA / "bad"
OPENAPI = Path("/work/shared/api/ultravox-openapi.yaml")


class FakeAgentType(ResourceType):
    """The smallest `Agent` resource type: the manifest contract without the provider."""

    kind: ClassVar[str] = "Agent"
    provider: ClassVar[str] = "ultravox"
    order: ClassVar[int] = 10
    manifest_model: ClassVar[type[BaseModel]] = AgentManifest
    table: ClassVar[NormalizationTable] = NormalizationTable()

    def __init__(self, check_result: Sequence[Diagnostic] = (), refuse: str = "") -> None:
        self.check_result = list(check_result)
        self.refuse = refuse
        self.checked: list[DesiredResource] = []

    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        assert isinstance(manifest, AgentManifest)
        if manifest.name == self.refuse:
            raise ManifestError([Diagnostic(source.file, source.line, "refused in to_desired")])
        return DesiredResource(
            key=ResourceKey("Agent", manifest.name),
            provider="ultravox",
            spec=manifest.model_dump(
                mode="json",
                exclude_unset=True,
                exclude={"kind", "ignoreChanges", "description", "lifecycle"},
            ),
            source=source,
            ignore_changes=tuple(manifest.ignoreChanges),
        )

    def check(self, desired: Sequence[DesiredResource]) -> list[Diagnostic]:
        self.checked = list(desired)
        return self.check_result

    async def read(
        self,
        api: Api,
        desired: Sequence[DesiredResource],
        known: Sequence[LiveResource] = (),
    ) -> list[LiveResource]:
        return []

    def plan(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> Change | None:
        return None


def kinds(agent_type: FakeAgentType | None = None) -> dict[str, ResourceType]:
    return {"Agent": agent_type or FakeAgentType()}


def errors_of(paths: Sequence[str], agent_type: FakeAgentType | None = None) -> list[Diagnostic]:
    with pytest.raises(ManifestError) as caught:
        parse_manifests(paths, kinds(agent_type))
    return caught.value.diagnostics


# --- good manifests -------------------------------------------------------------------------


def test_a_directory_of_good_manifests_parses_in_file_and_document_order() -> None:
    desired = parse_manifests([str(GOOD)], kinds())
    assert [(str(d.key), str(d.source)) for d in desired] == [
        ("Agent/support_bot", f"{GOOD}/agents.yaml:2"),
        ("Agent/minimal-agent", f"{GOOD}/agents.yaml:59"),
        ("Agent/chat_only", f"{GOOD}/text_agent.yml:1"),
        ("Agent/eleven_labs_agent", f"{GOOD}/voices/external_voice.yaml:1"),
    ]


def test_the_support_agent_keeps_its_prompt_tools_and_ignore_paths() -> None:
    (agent, _minimal) = parse_manifests([str(GOOD / "agents.yaml")], kinds())
    template = agent.spec["callTemplate"]
    assert template["systemPrompt"] == (
        "You are the support agent for {{companyName}}.\n"
        "Greet {{customerName}} by name and keep answers short.\n\n"
        "If the caller asks about billing, use the lookupInvoice tool.\n"
    )
    assert [sorted(tool) for tool in template["selectedTools"]] == [
        ["toolName"],
        ["nameOverride", "toolId"],
        ["temporaryTool"],
    ]
    dynamic = template["selectedTools"][2]["temporaryTool"]["dynamicParameters"][0]
    assert dynamic["schema"] == {
        "type": "string",
        "description": "The invoice number, e.g. INV-1234.",
    }
    assert agent.ignore_changes == (
        "callTemplate.model",
        "callTemplate.selectedTools[].descriptionOverride",
    )
    assert set(agent.spec) == {"name", "callTemplate"}


def test_external_voice_and_vad_settings_and_the_from_keyword_field() -> None:
    (agent,) = parse_manifests([str(GOOD / "voices")], kinds())
    template = agent.spec["callTemplate"]
    assert template["externalVoice"]["elevenLabs"]["speed"] == 1.1
    assert template["vadSettings"]["turnEndpointDelay"] == "0.384s"
    # `from` is a Python keyword: stored as `from_`, dumped as `from` even without by_alias.
    assert template["medium"]["twilio"]["outgoing"] == {
        "to": "+14155550100",
        "from": "+14155550199",
    }


def test_a_text_only_agent() -> None:
    (agent,) = parse_manifests([str(GOOD / "text_agent.yml")], kinds())
    assert agent.spec["callTemplate"]["initialOutputMedium"] == "MESSAGE_MEDIUM_TEXT"
    assert agent.spec["callTemplate"]["firstSpeakerSettings"] == {"user": {}}


@pytest.mark.parametrize(
    "document",
    load_documents([str(GOOD)]),
    ids=lambda d: f"{Path(d.source.file).name}:{d.source.line}",
)
def test_a_dump_gives_back_exactly_what_the_user_wrote(document: Any) -> None:
    model = AgentManifest.model_validate(document.data)
    assert model.model_dump(exclude_unset=True, by_alias=True) == document.data
    assert model.model_dump(mode="json", exclude_unset=True, by_alias=True) == document.data


# --- the bad-input corpus ------------------------------------------------------------------

# file in tests/data/bad/ -> (line, a substring of the message); each file has this one error.
BAD_CASES: dict[str, tuple[int, str]] = {
    "yaml_syntax.yaml": (
        6,
        "YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar started at line 4)",
    ),
    "unknown_field.yaml": (5, 'callTemplate.voise: unknown field; did you mean "voice"?'),
    "wrong_type.yaml": (4, 'callTemplate.temperature: expected a number, got "warm"'),
    "bad_duration.yaml": (
        5,
        'callTemplate.joinTimeout: "5 seconds" is not a duration like "30s" or "0.5s"',
    ),
    "bad_name.yaml": (3, 'name: "support bot!" is not a name of 1 to 64 letters'),
    "duplicate_name.yaml": (
        6,
        'duplicate Agent "twin" (first defined at {BAD}/duplicate_name.yaml:1)',
    ),
    "two_voices.yaml": (
        5,
        "callTemplate.externalVoice: conflicts with voice: set at most one of voice, externalVoice",
    ),
    "two_mediums.yaml": (
        6,
        "callTemplate.medium.twilio: conflicts with webRtc: set exactly one of webRtc, twilio, "
        "serverWebSocket, telnyx, plivo, exotel, sip",
    ),
    "first_speaker_both.yaml": (
        6,
        "callTemplate.firstSpeakerSettings.agent: conflicts with user: "
        "set exactly one of user, agent",
    ),
    "unknown_kind.yaml": (1, 'unknown kind "Agnet"; did you mean "Agent"?'),
    "no_kind.yaml": (1, 'document has no "kind"'),
    "not_a_mapping.yaml": (1, 'must be a mapping with "kind" and "name", got a list'),
    "read_only_field.yaml": (5, "callTemplate.created: read-only field"),
    "bad_ignore_changes.yaml": (
        7,
        'ignoreChanges[1]: "callTemplate.sytemPrompt": callTemplate has no field "sytemPrompt"; '
        'did you mean "systemPrompt"?',
    ),
    "bad_enum.yaml": (
        4,
        'callTemplate.initialOutputMedium: "MESSAGE_MEDIUM_AUDIO" is not one of '
        "MESSAGE_MEDIUM_UNSPECIFIED, MESSAGE_MEDIUM_VOICE, MESSAGE_MEDIUM_TEXT",
    ),
    "out_of_range.yaml": (
        4,
        "callTemplate.temperature: 1.5 is out of range: must be between 0 and 1",
    ),
    "unquoted_phone.yaml": (
        7,
        "callTemplate.medium.twilio.outgoing.to: expected a string, got the number "
        '14155***0100: write the phone number in quotes with its + ("+1415***0100", masked '
        "here)",
    ),
    "voice_overrides_without_voice.yaml": (
        4,
        "callTemplate.voiceOverrides: only allowed when voice is set",
    ),
    "tool_two_references.yaml": (
        7,
        "callTemplate.selectedTools[1].toolName: conflicts with toolId",
    ),
    "duplicate_key.yaml": (5, 'duplicate key "voice" (first at line 4)'),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_input_is_one_error_at_the_exact_line(name: str) -> None:
    line, message = BAD_CASES[name]
    path = str(BAD / name)
    (diagnostic,) = errors_of([path])
    assert (diagnostic.file, diagnostic.line) == (path, line), diagnostic
    assert message.format(BAD=BAD) in diagnostic.message


def test_every_file_of_the_corpus_has_a_case() -> None:
    # Files with several errors in one document have their cases in test_all_errors_at_once.
    corpus = {p.name for p in BAD.glob("*.yaml")} - {"multi_error.yaml"}
    corpus -= {p.name for p in BAD.glob("*_at_once.yaml")}
    assert corpus == set(BAD_CASES)


def test_all_errors_of_a_file_are_reported_together() -> None:
    path = str(BAD / "multi_error.yaml")
    found = [(d.line, d.message) for d in errors_of([path])]
    assert found == [
        (4, 'callTemplate.voise: unknown field; did you mean "voice"?'),
        (5, 'callTemplate.joinTimeout: "soon" is not a duration like "30s" or "0.5s"'),
        (6, "callTemplate.temperature: 2 is out of range: must be between 0 and 1"),
        (7, 'callTemplate.selectedTools: expected a list, got "hangUp"'),
        (9, 'unknown kind "Robot" (known kinds: Agent)'),
        (13, 'name: "no spaces please" is not a name of 1 to 64 letters, digits, "_" and "-"'),
    ]


def test_all_errors_of_a_run_across_files_and_paths_are_one_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: ok_one\ncallTemplate:\n  voise: Mark\n")
    (tmp_path / "b.yaml").write_text("kind: Agent\nname: bad name!\n")
    (tmp_path / "c.yaml").write_text("kind: Agent\nname: [\n")
    missing = str(tmp_path / "nope.yaml")
    found = {(Path(d.file).name, d.line) for d in errors_of([str(tmp_path), missing])}
    assert found == {("a.yaml", 4), ("b.yaml", 2), ("c.yaml", 3), ("nope.yaml", 0)}


def test_a_user_error_renders_without_a_traceback() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifests([str(BAD / "unknown_field.yaml")], kinds())
    rendered = caught.value.render()
    assert rendered.startswith(f"{BAD}/unknown_field.yaml:5: callTemplate.voise: unknown field")
    assert rendered.endswith("1 error in manifests; nothing was sent.")
    assert "Traceback" not in rendered


def test_a_duplicate_is_reported_even_when_both_copies_are_invalid(tmp_path: Path) -> None:
    path = tmp_path / "twins.yaml"
    path.write_text("kind: Agent\nname: x\nvoice: a\n---\nkind: Agent\nname: x\nvoice: b\n")
    assert [(d.line, d.message.split(":")[0]) for d in errors_of([str(path)])] == [
        (3, "voice"),
        (5, 'duplicate Agent "x" (first defined at ' + str(path)),
        (7, "voice"),
    ]


def test_rule_violations_are_reported_with_field_errors_of_other_documents(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "kind: Agent\nname: a\ncallTemplate:\n  medium: {}\n"
        "---\nkind: Agent\nname: b\ncallTemplate:\n  temperature: -1\n"
    )
    assert [d.line for d in errors_of([str(path)])] == [4, 9]


def test_the_resource_types_check_sees_every_resource_of_its_kind_and_its_errors_count() -> None:
    agent_type = FakeAgentType([Diagnostic("elsewhere.yaml", 3, "cross-document problem")])
    (diagnostic,) = errors_of([str(GOOD)], agent_type)
    assert str(diagnostic) == "elsewhere.yaml:3: cross-document problem"
    assert [d.key.name for d in agent_type.checked] == [
        "support_bot",
        "minimal-agent",
        "chat_only",
        "eleven_labs_agent",
    ]


def test_problems_to_desired_raises_join_the_run(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("kind: Agent\nname: refused\n---\nkind: Agent\nname: typo\nvoise: x\n")
    found = [str(d) for d in errors_of([str(path)], FakeAgentType(refuse="refused"))]
    assert found == [f"{path}:1: refused in to_desired", f"{path}:6: voise: unknown field"]


# --- files and YAML ------------------------------------------------------------------------


def test_collect_files_recurses_sorts_and_skips_other_and_hidden_files(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.yml", "sub/c.yaml", "notes.txt", ".github/ci.yaml", "sub/.x.yaml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kind: Agent\n")
    explicit = tmp_path / "notes.txt"
    files = collect_files([str(tmp_path), str(explicit), str(tmp_path / "b.yaml")])
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "a.yml",
        "b.yaml",
        "sub/c.yaml",
        "notes.txt",  # named explicitly: read whatever its suffix
    ]


def test_collect_files_reports_every_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError) as caught:
        collect_files(["missing.yaml", str(tmp_path / "empty"), "gone/"])
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{tmp_path}/empty: no *.yaml or *.yml files in directory",
        "gone/: no such file or directory",
        "missing.yaml: no such file or directory",
    ]


def test_relative_paths_stay_relative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    (document, *_rest) = load_documents(["good"])
    assert document.source == SourceRef("good/agents.yaml", 2)


def test_documents_carry_the_line_of_every_key_and_item(tmp_path: Path) -> None:
    path = tmp_path / "lines.yaml"
    path.write_text(
        "---\n"  # 1: an empty document
        "---\n"  # 2
        "# a comment\n"  # 3
        "kind: Agent\n"  # 4
        "name: x\n"  # 5
        "callTemplate:\n"  # 6
        "  selectedTools:\n"  # 7
        "    - toolName: a\n"  # 8
        "    -\n"  # 9
        "      toolId: b\n"  # 10
        "  defaults: &d {voice: Mark}\n"  # 11
        "  merged:\n"  # 12
        "    <<: *d\n"  # 13
        "    temperature: 0.5\n"  # 14
    )
    (document,) = load_documents([str(path)])
    assert document.source == SourceRef(str(path), 4)
    lines = document.positions
    assert lines[()] == 4
    assert lines[("kind",)] == 4
    assert lines[("callTemplate",)] == 6
    assert lines[("callTemplate", "selectedTools", 0)] == 8
    assert lines[("callTemplate", "selectedTools", 0, "toolName")] == 8
    assert lines[("callTemplate", "selectedTools", 1)] == 10
    assert lines[("callTemplate", "merged", "temperature")] == 14
    assert document.data["callTemplate"]["merged"] == {"voice": "Mark", "temperature": 0.5}
    # A merged key has no line of its own; the deepest line known is the merge's owner.
    assert document.line_of(("callTemplate", "merged", "voice")) == 12
    assert document.line_of(("callTemplate", "nowhere", 3)) == 6


def test_yaml_errors_of_every_file_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: a\n  bad: indent\n")
    (tmp_path / "b.yaml").write_text("kind: Agent\nname: b\n---\nkind: [\n")
    (tmp_path / "c.yaml").write_bytes(b"kind: Agent\nname: \xff\n")
    with pytest.raises(ManifestError) as caught:
        load_documents([str(tmp_path)])
    found = [(Path(d.file).name, d.line, d.message) for d in caught.value.diagnostics]
    assert found == [
        ("a.yaml", 3, "YAML syntax error: mapping values are not allowed here"),
        (
            "b.yaml",
            5,
            "YAML syntax error: expected the node content, but found '<stream end>' "
            "(while parsing a flow node)",
        ),
        ("c.yaml", 2, "not UTF-8 text"),
    ]


# --- rules, paths and the generated models --------------------------------------------------

RULE_CASES: list[tuple[dict[str, Any], list[tuple[tuple[str | int, ...], str]]]] = [
    ({"voice": "Mark", "voiceOverrides": {"elevenLabs": {"speed": 1.1}}}, []),
    ({"externalVoice": {"cartesia": {"voiceId": "x"}}}, []),
    ({"voice": None, "externalVoice": {"lmnt": {}}}, []),
    ({"externalVoice": {}}, [(("externalVoice",), "set exactly one of elevenLabs")]),
    ({"firstSpeakerSettings": {}}, [(("firstSpeakerSettings",), "set exactly one of user")]),
    ({"medium": {"sip": {}}}, [(("medium", "sip"), "set exactly one of incoming, outgoing")]),
    ({"medium": {"sip": {"incoming": {}}}}, []),
    (
        {"selectedTools": [{"toolName": "a"}, {"temporaryTool": {"http": {}, "client": {}}}]},
        [(("selectedTools", 1, "temporaryTool", "client"), "conflicts with http")],
    ),
    (
        {
            "selectedTools": [
                {
                    "temporaryTool": {
                        "client": {},
                        "requirements": {
                            "httpSecurityOptions": {
                                "options": [{"requirements": {"k": {"httpAuth": {}}, "j": {}}}]
                            }
                        },
                    }
                }
            ]
        },
        [
            (
                (
                    "selectedTools",
                    0,
                    "temporaryTool",
                    "requirements",
                    "httpSecurityOptions",
                    "options",
                    0,
                    "requirements",
                    "j",
                ),
                "set exactly one of queryApiKey, headerApiKey, httpAuth",
            )
        ],
    ),
]


@pytest.mark.parametrize(("data", "expected"), RULE_CASES)
def test_one_of_rules(
    data: dict[str, Any], expected: list[tuple[tuple[str | int, ...], str]]
) -> None:
    found = rules.check(data)
    assert [v.path for v in found] == [path for path, _ in expected]
    for violation, (_, message) in zip(found, expected, strict=True):
        assert message in violation.message


def test_rule_members_come_from_the_schema() -> None:
    assert rules.MEDIA == (
        "webRtc",
        "twilio",
        "serverWebSocket",
        "telnyx",
        "plivo",
        "exotel",
        "sip",
    )
    assert rules.VOICE_PROVIDERS == (
        "elevenLabs",
        "cartesia",
        "lmnt",
        "google",
        "inworld",
        "respeecher",
        "generic",
    )


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("callTemplate", None),
        ("callTemplate.vadSettings.turnEndpointDelay", None),
        ("callTemplate.selectedTools[].temporaryTool.http.baseUrlPattern", None),
        ("callTemplate.selectedTools[2].toolName", None),
        ("callTemplate.contextSchema.properties.anything", None),
        ("callTemplate.dataConnection.headers.Authorization", None),
        ("callTemplate.medium.twilio.outgoing.from", None),
        ("callTemplate.voise", 'callTemplate has no field "voise"; did you mean "voice"?'),
        ("callTemplate.voice.id", "callTemplate.voice has no fields (it is not an object)"),
        ("callTemplate.voice[]", "callTemplate.voice is not a list"),
        ("callTemplate.updated", "a read-only field, never compared"),
        ("callTemplate.medium.twilio.outgoing.from_", 'did you mean "from"?'),
        ("callTemplate..voice", "not a field path"),
    ],
)
def test_field_path_problem(path: str, problem: str | None) -> None:
    found = field_path_problem(AgentManifest, path)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("ignored", "message"),
    [
        ("name", 'must start with "callTemplate."'),
        ("callTemplate.selectedTools[]", "must end in a field name"),
        ("callTemplate.selectedTools[0]", "must end in a field name"),
    ],
)
def test_ignore_changes_paths_are_checked(ignored: str, message: str) -> None:
    data = {"kind": "Agent", "name": "x", "ignoreChanges": [ignored]}
    with pytest.raises(ValueError, match=r"ignoreChanges\.0") as caught:
        AgentManifest.model_validate(data)
    assert message in str(caught.value)


def test_description_and_lifecycle_are_accepted_and_checked() -> None:
    data = {
        "kind": "Agent",
        "name": "x",
        "description": "free text",
        "lifecycle": {"preventDestroy": True},
        "callTemplate": {"voice": "Mark"},
    }
    model = AgentManifest.model_validate(data)
    assert model.lifecycle is not None and model.lifecycle.preventDestroy
    assert model.model_dump(exclude_unset=True) == data
    with pytest.raises(ValueError, match=r"lifecycle\.preventDestory"):
        AgentManifest.model_validate({**data, "lifecycle": {"preventDestory": True}})


def test_every_generated_model_forbids_unknown_fields() -> None:
    models = [
        value
        for value in vars(schema).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    ]
    assert len(models) > 50
    assert all(m.model_config.get("extra") == "forbid" for m in models)
    assert AgentCallTemplate.model_config.get("extra") == "forbid"


def test_the_manifest_knows_the_schemas_duration_pattern() -> None:
    # The friendly duration message is keyed by the pattern text; a schema that spelled it
    # differently would silently fall back to "does not match the pattern".
    field = schema.CallTemplate.model_fields["joinTimeout"]
    patterns = [getattr(m, "pattern", None) for m in field.metadata]
    assert DURATION_PATTERN in patterns


def _class_of(schema_name: str) -> type[BaseModel]:
    """`ultravox.v1.CallMedium_SipMedium` -> `schema.CallMediumSipMedium`."""
    cls = getattr(schema, schema_name.removeprefix("ultravox.v1.").replace("_", ""))
    assert isinstance(cls, type) and issubclass(cls, BaseModel)
    return cls


def _bare(annotation: Any) -> Any:
    """`Annotated[X, ...] | None` -> X; `list[X]` -> X; `dict[str, X]` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Annotated, list):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif origin in (typing.Union, types.UnionType):
            (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        else:
            return annotation


@pytest.mark.skipif(not OPENAPI.exists(), reason="the Ultravox OpenAPI file is not here")
def test_the_generated_models_have_every_field_and_enum_value_of_the_schema() -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # 260 kB: the C loader is 10x faster
    spec = yaml.load(OPENAPI.read_text(), Loader=loader)["components"]["schemas"]
    todo, seen = ["ultravox.v1.CallTemplate"], set()
    while todo:
        name = todo.pop()
        if name in seen or name == "google.protobuf.Value":
            continue
        seen.add(name)
        properties = spec[name].get("properties", {})
        fields = {info.alias or key: info for key, info in _class_of(name).model_fields.items()}
        assert set(fields) == set(properties), name
        for prop, definition in properties.items():
            annotation = _bare(fields[prop].annotation)
            if "enum" in definition:
                assert list(typing.get_args(annotation)) == definition["enum"], (name, prop)
            inner = definition.get("items") or definition.get("additionalProperties") or {}
            target = (definition.get("allOf") or [inner])[0].get("$ref")
            if target and not target.endswith("google.protobuf.Value"):
                target = target.rsplit("/", 1)[-1]
                assert annotation is _class_of(target), (name, prop)
                todo.append(target)
    assert len(seen) == 52


@pytest.mark.skipif(
    not OPENAPI.exists() or importlib.util.find_spec("datamodel_code_generator") is None,
    reason="needs the OpenAPI file and datamodel-code-generator",
)
def test_the_generated_file_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_models.py"), str(OPENAPI), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
