"""Phone numbers are people: read with `phonenumbers`, kept and sent in E.164 (issue 10, item 3).

Whitespace is stripped, national formats are read with a declared `defaultRegion` (on the
campaign or in the environment file), impossible numbers are refused at their file and line,
and duplicates are found on the canonical number across inline recipients, CSV and JSONL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.domain import DesiredResource
from reconciler.core.errors import ManifestError
from reconciler.manifests.environment import load_environment
from reconciler.manifests.fields import canonical_number, is_e164
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from reconciler.providers.campaigns.state import desired_campaign

ADA = "+14155550101"


@pytest.mark.parametrize(
    ("written", "region", "canonical"),
    [
        ("+14155550101", None, ADA),
        ("+14155550101\n", None, ADA),
        ("  +14155550101 ", None, ADA),
        ("+1 415-555-0101", None, ADA),
        ("+1 (415) 555-0101", None, ADA),
        ("+1.415.555.0101", None, ADA),
        ("(415) 555-0101", "US", ADA),
        ("415 555 0101", "US", ADA),
        ("+1 415 555 0101", "GB", ADA),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0151 23456789", "DE", "+4915123456789"),
    ],
)
def test_numbers_are_kept_in_e164(written: str, region: str | None, canonical: str) -> None:
    assert canonical_number(written, region) == canonical
    assert is_e164(canonical)


@pytest.mark.parametrize(
    ("written", "region", "reason"),
    [
        ("(415) 555-0101", None, "no country code"),
        ("4155550101", None, "no country code"),
        ("+1415555010", None, "no numbering plan of +1"),
        ("+1415555010123456", None, "no numbering plan"),
        ("+14155550101 ext. 12", None, "nothing else"),
        ("1-800-FLOWERS", "US", "nothing else"),
        ("+1415555O101", None, "nothing else"),
        (
            "+\uff11\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff10\uff11",
            None,
            "nothing else",
        ),  # full-width
        ("+14155550101\x00", None, "nothing else"),
        ("++14155550101", None, "nothing else"),
        ("", "US", "nothing else"),
    ],
)
def test_what_is_not_a_phone_number_is_refused_masked(
    written: str, region: str | None, reason: str
) -> None:
    with pytest.raises(ValueError) as caught:
        canonical_number(written, region)
    message = str(caught.value)
    assert reason in message and "E.164" in message
    assert "5550101" not in message  # masked: an error message is a log line


def test_is_e164_wants_the_exact_form() -> None:
    assert is_e164(ADA)
    for other in ("+14155550101\n", "+1 415-555-0101", "14155550101", "+1415555010"):
        assert not is_e164(other), other


# --- through the loader --------------------------------------------------------------------


def batch(calls: str, *, extra: str = "", calls_from: str = "") -> str:
    return (
        "kind: ScheduledBatch\nname: renewals\nagentId: 3c90c3cc-0d44-4b50-8888-8dd25736052a\n"
        'windowStart: "2030-01-14T16:00:00Z"\nwindowEnd: "2030-01-15T01:00:00Z"\n'
        + extra
        + calls_from
        + ("calls:\n" + calls if calls else "")
    )


def call(to: str, caller: str = "+14155550199") -> str:
    leg = f"{{to: {json.dumps(to)}, from: {json.dumps(caller)}}}"
    return f"  - medium: {{twilio: {{outgoing: {leg}}}}}\n"


def batch_call(recipients: str, *, extra: str = "", provider: str = "threetone") -> str:
    return (
        f"kind: BatchCall\nprovider: {provider}\nname: spring\nagentId: agent_1\n"
        + extra
        + ("recipients:\n" + recipients if recipients else "")
    )


def recipient(number: str) -> str:
    return f"  - phone_number: {json.dumps(number)}\n"


def load(
    tmp_path: Path, text: str, files: dict[str, str] | None = None, env: str | None = None
) -> list[DesiredResource]:
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content)
    (tmp_path / "campaign.yaml").write_text(text)
    environment = None
    if env is not None:
        (tmp_path / "environments").mkdir(exist_ok=True)
        (tmp_path / "environments" / "prod.yaml").write_text(env)
        environment = load_environment([str(tmp_path)], "prod")
    return parse_manifests([str(tmp_path)], registry.kinds(), {}, environment)


def errors(
    tmp_path: Path, text: str, files: dict[str, str] | None = None, env: str | None = None
) -> str:
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, text, files, env)
    return str(caught.value)


def numbers(resource: DesiredResource) -> list[str | None]:
    return [r.number for r in desired_campaign(resource).recipients]


def sent_numbers(resource: DesiredResource) -> list[Any]:
    found = []
    for r in desired_campaign(resource).recipients:
        payload: Any = r.payload
        found.append(payload.get("phone_number") or payload["medium"]["twilio"]["outgoing"]["to"])
    return found


def test_a_trailing_newline_is_the_same_person(tmp_path: Path) -> None:
    """The finding: `"+14155550101\\n"` passed the checks and was scheduled twice."""
    message = errors(tmp_path, batch(call(ADA) + call(ADA + "\n")))
    assert "campaign.yaml:" in message and "listed twice" in message
    message = errors(tmp_path, batch_call(recipient(ADA) + recipient(ADA + "\n")))
    assert "campaign.yaml:7: " in message and "listed twice" in message


def test_international_formats_are_the_same_person(tmp_path: Path) -> None:
    assert "listed twice" in errors(tmp_path, batch(call(ADA) + call("+1 (415) 555-0101")))
    assert "listed twice" in errors(
        tmp_path, batch_call(recipient("+1 415-555-0101") + recipient(ADA))
    )


def test_national_numbers_need_a_region(tmp_path: Path) -> None:
    message = errors(tmp_path, batch(call("(415) 555-0101")))
    assert "campaign.yaml:7: " in message and "defaultRegion" in message
    message = errors(tmp_path, batch_call(recipient("(415) 555-0101")))
    assert "campaign.yaml:6: " in message and "defaultRegion" in message


def test_national_numbers_with_the_campaigns_region_are_stored_in_e164(tmp_path: Path) -> None:
    (found,) = load(
        tmp_path, batch(call("(415) 555-0101", "415.555.0199"), extra="defaultRegion: US\n")
    )
    assert sent_numbers(found) == [ADA]
    payload: Any = desired_campaign(found).recipients[0].payload
    assert payload["medium"]["twilio"]["outgoing"]["from"] == "+14155550199"
    (found,) = load(tmp_path, batch_call(recipient("415 555 0101"), extra="defaultRegion: US\n"))
    assert sent_numbers(found) == [ADA] == numbers(found)


def test_the_environments_region_reads_every_campaign_without_one(tmp_path: Path) -> None:
    text = (
        batch(call("(415) 555-0101"), extra="environments: [prod]\n")
        + "---\n"
        + batch_call(recipient("020 7946 0958"), extra="environments: [prod]\ndefaultRegion: GB\n")
    )
    resources = load(tmp_path, text, env="defaultRegion: US\n")
    assert sorted(n for r in resources for n in sent_numbers(r)) == [ADA, "+442079460958"]


def test_an_unknown_region_is_refused_at_its_line(tmp_path: Path) -> None:
    message = errors(tmp_path, batch(call(ADA), extra="defaultRegion: USA\n"))
    assert "campaign.yaml:6: " in message and "defaultRegion" in message
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, batch(call(ADA)), env="defaultRegion: us\n")
    assert "prod.yaml:1: " in str(caught.value)


def test_impossible_numbers_are_refused_with_file_and_line(tmp_path: Path) -> None:
    message = errors(tmp_path, batch(call(ADA) + call("+1415555010")))
    assert "campaign.yaml:8: " in message and "no numbering plan" in message
    message = errors(tmp_path, batch_call(recipient(ADA) + recipient("+1415555010")))
    assert "campaign.yaml:7: " in message and "no numbering plan" in message


CSV = "to,from\n(415) 555-0102,+14155550199\n+1 415 555 0101,+14155550199\n"
JSONL = (
    '{"medium": {"twilio": {"outgoing": {"to": "+14155550102", "from": "+14155550199"}}}}\n'
    '{"medium": {"twilio": {"outgoing": {"to": " 415-555-0101 ", "from": "+14155550199"}}}}\n'
)


@pytest.mark.parametrize(("file", "content", "line"), [("r.csv", CSV, 3), ("r.jsonl", JSONL, 2)])
def test_duplicates_across_inline_and_recipient_files_on_the_canonical_number(
    tmp_path: Path, file: str, content: str, line: int
) -> None:
    text = batch(call(ADA), extra="defaultRegion: US\n", calls_from=f"callsFrom: {file}\n")
    message = errors(tmp_path, text, {file: content})
    assert f"{file}:{line}: " in message and "listed twice" in message and "+1415***0101" in message


def test_batch_call_files_use_the_region_and_find_duplicates(tmp_path: Path) -> None:
    files = {"r.csv": "phone_number\n(415) 555-0102\n415 555 0101\n"}
    text = batch_call(recipient(ADA), extra="defaultRegion: US\nrecipientsFrom: r.csv\n")
    message = errors(tmp_path, text, files)
    assert "r.csv:3: " in message and "listed twice" in message
    files = {"r.jsonl": '{"phone_number": "(415) 555-0102"}\n{"phone_number": "+1 415 555 0103"}\n'}
    text = batch_call(recipient(ADA), extra="defaultRegion: US\nrecipientsFrom: r.jsonl\n")
    (found,) = load(tmp_path, text, files)
    assert numbers(found) == [ADA, "+14155550102", "+14155550103"]


def test_impossible_numbers_in_files_name_the_file_and_line(tmp_path: Path) -> None:
    files = {"r.csv": "to,from\n+14155550102,+14155550199\n+1415555010,+14155550199\n"}
    message = errors(tmp_path, batch("", calls_from="callsFrom: r.csv\n"), files)
    assert "r.csv:3: " in message and "no numbering plan" in message
    files = {"r.jsonl": '{"phone_number": "+14155550102"}\n{"phone_number": "12"}\n'}
    text = batch_call("", extra="defaultRegion: US\nrecipientsFrom: r.jsonl\n")
    message = errors(tmp_path, text, files)
    assert "r.jsonl:2: " in message and "E.164" in message
