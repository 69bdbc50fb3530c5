"""Normalization with the Ultravox agent table: what the API does that is not a difference."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.core.normalize import (
    NormalizationTable,
    align,
    canonical_datetime,
    canonical_duration,
    normalize,
)
from reconciler.providers.ultravox.agents import AGENT_TABLE


def agent(**template: Any) -> dict[str, Any]:
    return {"name": "bot", "callTemplate": {"systemPrompt": "Hi", **template}}


def norm(obj: dict[str, Any]) -> dict[str, Any]:
    return normalize(obj, AGENT_TABLE)


BARE = norm(agent())


def test_bare_agent_is_already_canonical() -> None:
    assert BARE == {"name": "bot", "callTemplate": {"systemPrompt": "Hi"}}


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"agentId": "a-1"}, id="agentId"),
        pytest.param({"created": "2026-01-01T00:00:00Z"}, id="created"),
        pytest.param({"statistics": {"calls": 12}}, id="statistics"),
        pytest.param({"publishedRevisionId": "rev-3"}, id="publishedRevisionId"),
    ],
)
def test_read_only_top_level_fields_removed(extra: dict[str, Any]) -> None:
    assert norm({**agent(), **extra}) == BARE


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"created": "2026-01-01T00:00:00Z"}, id="created"),
        pytest.param({"updated": "2026-01-02T00:00:00.123Z"}, id="updated"),
        pytest.param({"name": "bot"}, id="name"),
        pytest.param({"sharedSecrets": {"token": "s3cret"}}, id="sharedSecrets-write-only"),
        pytest.param({"sharedSecrets": [{"$secret": "TOKEN"}]}, id="sharedSecrets-ref"),
    ],
)
def test_read_only_and_write_only_template_fields_removed(extra: dict[str, Any]) -> None:
    assert norm(agent(**extra)) == BARE


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"joinTimeout": "30s"}, id="joinTimeout"),
        pytest.param({"joinTimeout": "30.000s"}, id="joinTimeout-padded"),
        pytest.param({"joinTimeout": "30.0s"}, id="joinTimeout-decimal"),
        pytest.param({"maxDuration": "3600s"}, id="maxDuration"),
        pytest.param({"maxDuration": "3600.000s"}, id="maxDuration-padded"),
        pytest.param({"temperature": 0}, id="temperature-int"),
        pytest.param({"temperature": 0.0}, id="temperature-float"),
        pytest.param({"recordingEnabled": False}, id="recordingEnabled"),
        pytest.param({"initialOutputMedium": "MESSAGE_MEDIUM_VOICE"}, id="initialOutputMedium"),
        pytest.param({"initialOutputMedium": "MESSAGE_MEDIUM_UNSPECIFIED"}, id="medium-unspec"),
        pytest.param({"firstSpeakerSettings": {"agent": {}}}, id="firstSpeaker-agent"),
        pytest.param(
            {"firstSpeakerSettings": {"agent": {"uninterruptible": False}}},
            id="firstSpeaker-agent-false",
        ),
        pytest.param(
            {"firstSpeakerSettings": {"agent": {"uninterruptible": False, "text": ""}}},
            id="firstSpeaker-agent-zeros",
        ),
        pytest.param(
            {"dataRetentionPolicy": "CALL_RETENTION_POLICY_UNSPECIFIED"}, id="enum-unspecified"
        ),
        pytest.param({"vadSettings": {}}, id="vad-empty"),
        pytest.param(
            {
                "vadSettings": {
                    "turnEndpointDelay": "0.384s",
                    "minimumTurnDuration": "0s",
                    "minimumInterruptionDuration": "0.090s",
                    "frameActivationThreshold": 0.1,
                }
            },
            id="vad-defaults",
        ),
        pytest.param(
            {"vadSettings": {"turnEndpointDelay": "0.3840s", "minimumTurnDuration": "0.000s"}},
            id="vad-defaults-padded",
        ),
        pytest.param({"languageHint": ""}, id="empty-string"),
        pytest.param({"selectedTools": []}, id="empty-list"),
        pytest.param({"metadata": {}}, id="empty-object"),
        pytest.param({"voice": None}, id="null"),
        pytest.param({"medium": None}, id="null-object"),
    ],
)
def test_defaults_equal_absence(extra: dict[str, Any]) -> None:
    assert norm(agent(**extra)) == BARE


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({"joinTimeout": "31s"}, {"joinTimeout": "31s"}, id="joinTimeout-non-default"),
        pytest.param({"temperature": 0.4}, {"temperature": 0.4}, id="temperature"),
        pytest.param({"recordingEnabled": True}, {"recordingEnabled": True}, id="recording"),
        pytest.param(
            {"initialOutputMedium": "MESSAGE_MEDIUM_TEXT"},
            {"initialOutputMedium": "MESSAGE_MEDIUM_TEXT"},
            id="text-medium",
        ),
        pytest.param({"medium": {"webRtc": {}}}, {"medium": {"webRtc": {}}}, id="oneof-webRtc"),
        pytest.param(
            {"medium": {"serverWebSocket": {"inputSampleRate": 0}}},
            {"medium": {"serverWebSocket": {}}},
            id="oneof-member-with-zero-inside",
        ),
        pytest.param(
            {"firstSpeakerSettings": {"user": {}}},
            {"firstSpeakerSettings": {"user": {}}},
            id="firstSpeaker-user",
        ),
        pytest.param(
            {"firstSpeakerSettings": {"agent": {"uninterruptible": True}}},
            {"firstSpeakerSettings": {"agent": {"uninterruptible": True}}},
            id="firstSpeaker-agent-set",
        ),
        pytest.param(
            {"vadSettings": {"turnEndpointDelay": "0.500s", "minimumTurnDuration": "0s"}},
            {"vadSettings": {"turnEndpointDelay": "0.5s"}},
            id="vad-one-non-default",
        ),
        pytest.param(
            {"externalVoice": {"elevenLabs": {}}},
            {"externalVoice": {"elevenLabs": {}}},
            id="external-voice-member",
        ),
        pytest.param(
            {"inactivityMessages": [{"duration": "5.000s", "message": "Hello?"}]},
            {"inactivityMessages": [{"duration": "5s", "message": "Hello?"}]},
            id="duration-in-list",
        ),
    ],
)
def test_meaningful_values_kept(extra: dict[str, Any], expected: dict[str, Any]) -> None:
    assert norm(agent(**extra)) == agent(**expected)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("0.5s", "0.5s"),
        ("0.500s", "0.5s"),
        ("0.50s", "0.5s"),
        ("1.0s", "1s"),
        ("1s", "1s"),
        ("1.000000000s", "1s"),
        ("0s", "0s"),
        ("0.000s", "0s"),
        ("-0.5s", "-0.5s"),
        ("-1.000s", "-1s"),
        ("-0s", "0s"),
        ("3600s", "3600s"),
        ("0.384s", "0.384s"),
        ("0.000001s", "0.000001s"),
        ("1e2s", "100s"),
        # not durations: returned as they are
        ("30", "30"),
        ("abcs", "abcs"),
        ("s", "s"),
        ("", ""),
        ("Infinitys", "Infinitys"),
        ("NaNs", "NaNs"),
    ],
)
def test_canonical_duration(text: str, canonical: str) -> None:
    assert canonical_duration(text) == canonical
    assert canonical_duration(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("0.5s", "0.500s"),
        ("1.0s", "1s"),
        ("-0.25s", "-0.250s"),
        ("20s", "20.000s"),
    ],
)
def test_equal_durations_normalize_equal(a: str, b: str) -> None:
    assert norm(agent(joinTimeout=a)) == norm(agent(joinTimeout=b))
    first = {"inactivityMessages": [{"duration": a}]}
    second = {"inactivityMessages": [{"duration": b}]}
    assert norm(agent(**first)) == norm(agent(**second))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"),
        ("2026-12-01T09:00:00z", "2026-12-01T09:00:00Z"),
        ("2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00Z"),
        ("2026-12-01T10:00:00+01:00", "2026-12-01T09:00:00Z"),
        ("2026-12-01T04:00:00-05:00", "2026-12-01T09:00:00Z"),
        ("2026-12-01T01:30:00-07:30", "2026-12-01T09:00:00Z"),
        ("2026-12-02T00:30:00+15:30", "2026-12-01T09:00:00Z"),
        ("2026-12-01T09:00:00", "2026-12-01T09:00:00Z"),  # naive: read as UTC
        ("2026-12-01T09:00:00.500Z", "2026-12-01T09:00:00.500000Z"),
        ("2026-12-01T09:00:00.5+00:00", "2026-12-01T09:00:00.500000Z"),
        ("2026-12-01T09:00:00.000Z", "2026-12-01T09:00:00Z"),
        ("not a date", "not a date"),
    ],
)
def test_canonical_datetime(text: str, canonical: str) -> None:
    assert canonical_datetime(text) == canonical
    assert canonical_datetime(canonical) == canonical


BATCH_TABLE = NormalizationTable(datetimes=("windowStart", "calls[].at"))


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("2026-12-01T09:00:00Z", "2026-12-01T11:00:00+02:00", True),
        ("2026-12-01T09:00:00.000Z", "2026-12-01T09:00:00Z", True),
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:01Z", False),
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00+02:00", False),
    ],
)
def test_datetimes_compared_as_instants(a: str, b: str, equal: bool) -> None:
    left = normalize({"windowStart": a, "calls": [{"at": a}], "note": a}, BATCH_TABLE)
    right = normalize({"windowStart": b, "calls": [{"at": b}], "note": a}, BATCH_TABLE)
    assert (left == right) is equal
    # Only the declared paths are datetimes; any other string stays as written.
    assert left["note"] == a


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(
            {"inactivityMessages": [{}, {"duration": "5s", "message": "Hi"}]},
            {"inactivityMessages": [{}, {"duration": "5s", "message": "Hi"}]},
            id="empty-element-keeps-the-indices",
        ),
        pytest.param(
            {"selectedTools": [{"toolName": "a", "parameterOverrides": {}}, {"toolName": "b"}]},
            {"selectedTools": [{"toolName": "a"}, {"toolName": "b"}]},
            id="zeros-inside-elements-dropped",
        ),
        pytest.param(
            {"example": [0, 1, "", False, None]},
            {"example": [0, 1, "", False, None]},
            id="scalar-elements-are-values",
        ),
    ],
)
def test_list_elements_are_never_dropped(
    template: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert norm(agent(**template)) == agent(**expected)


def test_zero_element_is_a_difference() -> None:
    assert norm(agent(example=[0, 1])) != norm(agent(example=[1]))


def test_normalize_does_not_mutate_its_input() -> None:
    body = agent(joinTimeout="30.000s", created="x", vadSettings={"turnEndpointDelay": "1.0s"})
    body["agentId"] = "a-1"
    before = copy.deepcopy(body)
    norm(body)
    assert body == before


def test_normalize_is_idempotent() -> None:
    body = agent(
        joinTimeout="12.50s",
        vadSettings={"turnEndpointDelay": "0.500s", "minimumTurnDuration": "0s"},
        firstSpeakerSettings={"agent": {"uninterruptible": False}},
        medium={"webRtc": {}},
        inactivityMessages=[{"duration": "3.0s"}],
    )
    once = norm(body)
    assert norm(once) == once


# --- align: the pairwise rules ---------------------------------------------------------------


def aligned(
    desired: dict[str, Any], live: dict[str, Any], ignore: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    return align(norm(desired), norm(live), AGENT_TABLE, ignore)


SCHEMA = {"type": "object", "properties": {"companyName": {"type": "string"}}}


@pytest.mark.parametrize(
    ("desired", "live", "equal"),
    [
        pytest.param(agent(), agent(model="fixie-ai/ultravox"), True, id="model-left-to-server"),
        pytest.param(agent(), agent(contextSchema=SCHEMA), True, id="schema-left-to-server"),
        pytest.param(
            agent(), agent(model="ultravox-v0.7", contextSchema=SCHEMA), True, id="both-computed"
        ),
        pytest.param(
            agent(model="ultravox-v0.7"),
            agent(model="fixie-ai/ultravox"),
            False,
            id="model-set-is-compared",
        ),
        pytest.param(
            agent(model="fixie-ai/ultravox"),
            agent(model="fixie-ai/ultravox"),
            True,
            id="model-same",
        ),
        pytest.param(agent(model="ultravox-v0.7"), agent(), False, id="model-set-live-absent"),
        pytest.param(
            agent(contextSchema={"type": "object"}),
            agent(contextSchema=SCHEMA),
            False,
            id="schema-set-is-compared",
        ),
    ],
)
def test_server_computed_fields(desired: dict[str, Any], live: dict[str, Any], equal: bool) -> None:
    want, have = aligned(desired, live)
    assert (want == have) is equal


def test_server_computed_kept_in_live_when_desired_sets_it() -> None:
    want, have = aligned(agent(model="ultravox-v0.7"), agent(model="fixie-ai/ultravox"))
    assert want["callTemplate"]["model"] == "ultravox-v0.7"
    assert have["callTemplate"]["model"] == "fixie-ai/ultravox"


@pytest.mark.parametrize(
    ("ignore", "desired", "live"),
    [
        pytest.param(
            ("callTemplate.voice",), agent(voice="Mark"), agent(voice="Jessica"), id="leaf"
        ),
        pytest.param(("callTemplate.voice",), agent(), agent(voice="Jessica"), id="live-only"),
        pytest.param(("callTemplate.voice",), agent(voice="Mark"), agent(), id="desired-only"),
        pytest.param(
            ("callTemplate.vadSettings.turnEndpointDelay",),
            agent(vadSettings={"turnEndpointDelay": "1s"}),
            agent(vadSettings={"turnEndpointDelay": "2s"}),
            id="nested",
        ),
        pytest.param(
            ("callTemplate.selectedTools[].authTokens",),
            agent(selectedTools=[{"toolName": "a", "authTokens": {"k": "1"}}]),
            agent(selectedTools=[{"toolName": "a", "authTokens": {"k": "2"}}]),
            id="wildcard",
        ),
        pytest.param(
            ("callTemplate.vadSettings",),
            agent(),
            agent(vadSettings={"turnEndpointDelay": "2s"}),
            id="whole-object",
        ),
    ],
)
def test_ignore_changes_removed_on_both_sides(
    ignore: tuple[str, ...], desired: dict[str, Any], live: dict[str, Any]
) -> None:
    want, have = aligned(desired, live, ignore)
    assert want == have
    # Without ignoreChanges the two differ.
    plain_want, plain_have = aligned(desired, live)
    assert plain_want != plain_have


def test_ignore_changes_leaves_other_fields_compared() -> None:
    want, have = aligned(
        agent(voice="Mark", temperature=0.2),
        agent(voice="Jessica", temperature=0.3),
        ("callTemplate.voice",),
    )
    assert want == {"name": "bot", "callTemplate": {"systemPrompt": "Hi", "temperature": 0.2}}
    assert have == {"name": "bot", "callTemplate": {"systemPrompt": "Hi", "temperature": 0.3}}


def test_align_does_not_mutate_its_inputs() -> None:
    desired, live = norm(agent(voice="a")), norm(agent(voice="b", model="m"))
    snapshot = copy.deepcopy((desired, live))
    align(desired, live, AGENT_TABLE, ("callTemplate.voice",))
    assert (desired, live) == snapshot


@pytest.mark.parametrize(
    ("desired", "live", "ignore"),
    [
        pytest.param(
            {"name": "bot"},
            {"name": "bot", "callTemplate": {"model": "fixie-ai/ultravox"}},
            (),
            id="template-left-empty-by-a-computed-field",
        ),
        pytest.param(
            {"name": "bot", "callTemplate": {"voice": "Mark"}},
            {"name": "bot"},
            ("callTemplate.voice",),
            id="template-left-empty-by-ignore",
        ),
        pytest.param(
            agent(vadSettings={"turnEndpointDelay": "1s"}),
            agent(),
            ("callTemplate.vadSettings.turnEndpointDelay",),
            id="nested-object-left-empty-by-ignore",
        ),
    ],
)
def test_objects_emptied_by_align_count_as_absent(
    desired: dict[str, Any], live: dict[str, Any], ignore: tuple[str, ...]
) -> None:
    want, have = aligned(desired, live, ignore)
    assert want == have


def test_emptied_oneof_member_is_kept() -> None:
    want, have = aligned(
        agent(medium={"webRtc": {"dataMessages": {"pong": True}}}),
        agent(medium={"webRtc": {}}),
        ("callTemplate.medium.webRtc.dataMessages",),
    )
    assert want == have == agent(medium={"webRtc": {}})
