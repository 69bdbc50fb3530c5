"""Fuzzing manifests (issue 11, item 7): whatever the YAML, no traceback; a bad manifest ends
in exit 1 with an error message and no request at all.

Hypothesis writes manifest directories from a grammar that mixes the tool's own kinds and
field names with hostile values (references, malformed references, control characters, NaN,
huge numbers, paths out of the directory, aliases, deep nesting, stray YAML) and runs the real
command line in process (`validate`, then `plan`) against a scripted empty account.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.hostile import Outcome, run

KINDS = ["Agent", "ScheduledBatch", "BatchCall", "Agnet", "", "Ownership"]
KEYS = [
    "kind", "name", "callTemplate", "systemPrompt", "voice", "temperature", "joinTimeout",
    "maxDuration", "selectedTools", "toolName", "authTokens", "sharedSecrets", "medium",
    "twilio", "outgoing", "to", "from", "calls", "callsFrom", "file", "recipients",
    "recipientsFrom", "phone_number", "agentId", "agent", "windowStart", "windowEnd",
    "webhookUrl", "webhookSecret", "scheduledTime", "provider", "environments", "lifecycle",
    "preventDestroy", "ignoreChanges", "metadata", "templateContext", "externalVoice",
    "conversation_initiation_client_data", "dynamic_variables", "<<",
]  # fmt: skip
SCALARS = [
    "${ULTRAVOX_API_KEY}", "${X", "${}", "$${X}", "${RECONCILER_VAR_A:-d}", "+14155550100",
    "14155550100", "../../etc/passwd", "/etc/passwd", "r.csv", "x.jsonl", "-5s", "30s",
    "2030-01-14T16:00:00Z", "1999-01-01T00:00:00Z", ".nan", ".inf", "1e20",
    "100000000000000000000", "threetone", "elevenlabs", "ultravox", "~", "null", "yes",
    "0x1F", "!!binary aGVsbG8=", "'\\x00'", '"\\u0007"', "&a [*a]", "*nope", "[", "{",
    "a: b: c", "- - -", "'it''s'", "|", ">", "%TAG", "!!python/object:os.system", "..",
    "agent_01", "0f3f4e6a-0000-4000-8000-000000000001", "{ref:Agent/x}",
]  # fmt: skip


def scalar() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(SCALARS),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.text(st.characters(codec="utf-8"), max_size=12).map(json.dumps),
    )


def node(depth: int) -> st.SearchStrategy[str]:
    """A YAML value as flow text (mostly valid YAML, sometimes not)."""
    if depth <= 0:
        return scalar()
    inner = node(depth - 1)
    return st.one_of(
        scalar(),
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4).map(
            lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"
        ),
    )


@st.composite
def document(draw: st.DrawFn) -> str:
    lines = [f"kind: {draw(st.sampled_from(KINDS))}"]
    if draw(st.booleans()):
        lines.append(f"name: {draw(st.sampled_from(['support', 'spring', '', 'a/b', '../x']))}")
    for key, value in draw(st.dictionaries(st.sampled_from(KEYS), node(3), max_size=6)).items():
        lines.append(f"{key}: {value}")
    if draw(st.integers(0, 9)) == 0:
        lines.append("deep: " + "[" * 200 + "]" * 200)
    return "\n".join(lines) + "\n"


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, str]:
    files = {
        f"m{i}.yaml": "---\n".join(draw(st.lists(document(), min_size=1, max_size=3)))
        for i in range(draw(st.integers(1, 2)))
    }
    if draw(st.booleans()):
        files["r.csv"] = draw(
            st.sampled_from(
                ["to\n", "to\n+14155550100,x\n", "phone_number\n+1\n", "to,from\n\x00\n", ""]
            )
        )
    if draw(st.booleans()):
        files["environments/dev.yaml"] = draw(
            st.sampled_from(
                [
                    "providers:\n  ultravx: {}\n",
                    "providers:\n  ultravox: {baseUrl: 'https://evil.example'}\n",
                    "variables: {A: b}\n",
                    "overrides: {Agent/nope: {}}\n",
                    "[",
                ]
            )
        )
    return files


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")


def assert_clean(outcome: Outcome) -> None:
    assert not outcome.traceback, outcome.traceback
    assert "Traceback" not in outcome.output
    assert "internal error" not in outcome.output, outcome.output
    assert outcome.code in (0, 1, 2), outcome.output
    if outcome.code == 1:
        assert outcome.stderr.strip(), "an error says what went wrong"
        assert "Error:" in outcome.stderr, outcome.stderr


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(manifests(), st.booleans())
def test_any_manifest_is_valid_or_an_error_that_sends_nothing(
    files: dict[str, str], with_env: bool
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write(root, files)
        env_args = ["--env", "dev"] if with_env and "environments/dev.yaml" in files else []
        validated = run(["validate", *env_args, "."], cwd=root)
        assert_clean(validated)
        assert validated.requests == []
        planned = run(["plan", *env_args, "."], cwd=root, env={"RECONCILER_VAR_A": "a"})
        assert_clean(planned)
        assert planned.writes() == [], "plan never writes"
        if validated.code == 1 and "secret variable" not in validated.stderr:
            assert planned.code == 1
            assert planned.requests == [], "a bad manifest sends no request at all"


# --- mutations of the example manifests: valid documents with one or more hostile values -------

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests"
EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.yaml"))
HOSTILE_VALUES = st.one_of(
    st.sampled_from(
        [
            "${ULTRAVOX_API_KEY}", "${ACME_WEBHOOK_SECRET}", "${X", "../outside.csv",
            "/etc/hosts", "../../x", "+1415555", "14155550100", "a/../../b", "%2e%2e",
            "-1s", "1e20", "2030-13-45T00:00:00Z", "", " ", "\u202e", "\x7f", "{{x}}",
        ]
    ),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(KEYS), st.integers(), max_size=2),
)  # fmt: skip


def _paths(value: object, here: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [here] if here else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*here, index))
    return found


def _set(document: dict[str, object], path: tuple[object, ...], value: object) -> None:
    node: object = document
    for step in path[:-1]:
        node = node[step]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, str]:
    import yaml

    source = draw(st.sampled_from(EXAMPLE_FILES))
    documents = [d for d in yaml.safe_load_all(source.read_text()) if d]
    for _ in range(draw(st.integers(1, 3))):
        document = draw(st.sampled_from(documents))
        path = draw(st.sampled_from(_paths(document)))
        _set(document, path, draw(HOSTILE_VALUES))
    files = {source.relative_to(EXAMPLES).as_posix(): yaml.safe_dump_all(documents)}
    for extra in EXAMPLES.rglob("*.csv"):
        files[extra.relative_to(EXAMPLES).as_posix()] = extra.read_text()
    return files


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_example_is_valid_or_an_error_that_sends_nothing(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write(root, files)
        env = {"ACME_WEBHOOK_SECRET": "whsec-fuzz-0123456789"}
        validated = run(["validate", "."], cwd=root, env=env)
        assert_clean(validated)
        planned = run(["plan", "."], cwd=root, env=env)
        assert_clean(planned)
        assert planned.writes() == []
        if validated.code == 1:
            assert planned.code == 1 and planned.requests == []
