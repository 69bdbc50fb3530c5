"""Ultravox campaign recipients from CSV and JSONL files: mapping and errors at file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.ultravox.batch_manifest import CallsFrom, load_recipients


def load(tmp_path: Path, name: str, text: str, **spec: str) -> tuple[list[Any], list[Any]]:
    (tmp_path / name).write_text(text)
    manifest = tmp_path / "campaign.yaml"
    source = CallsFrom.model_validate({"file": name, **spec}) if spec else name
    return load_recipients(source, str(manifest))


def test_csv_columns_map_to_calls(tmp_path: Path) -> None:
    calls, problems = load(
        tmp_path,
        "r.csv",
        "to,from,context.name,metadata.crm\n+14155550100,+14155550199,Ada,7\n",
    )
    assert problems == []
    assert [c for _, _, c in calls] == [
        {
            "medium": {"twilio": {"outgoing": {"to": "+14155550100", "from": "+14155550199"}}},
            "templateContext": {"name": "Ada"},
            "metadata": {"crm": "7"},
        }
    ]


def test_csv_default_caller_and_medium(tmp_path: Path) -> None:
    calls, problems = load(
        tmp_path, "r.csv", "to\n+14155550100\n", medium="telnyx", **{"from": "+14155550199"}
    )
    assert problems == []
    assert calls[0][2]["medium"] == {
        "telnyx": {"outgoing": {"to": "+14155550100", "from": "+14155550199"}}
    }


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("r.csv", "phone,from\n+1,+2\n", 1, "needs a 'to' column"),
        ("r.csv", "to\n+14155550100\n", 1, "no 'from' column"),
        ("r.csv", "to,from,colour\n+14155550100,+14155550199,red\n", 1, "unknown columns"),
        ("r.csv", "to,from\n+14155550100,+14155550199\n4155550101,+14155550199\n", 3, "E.164"),
        ("r.jsonl", '{"medium": {"webRtc": {}}}\nnot json\n', 2, "not valid JSON"),
        ("r.jsonl", "[1, 2]\n", 1, "one call"),
        ("r.jsonl", '{"medium": {"webRtc": {}}, "colour": "red"}\n', 1, "colour"),
    ],
)
def test_problems_name_the_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    _, problems = load(tmp_path, name, text)
    assert problems, "expected a problem"
    assert problems[0].file == str(tmp_path / name)
    assert problems[0].line == line
    assert message in problems[0].message


def test_missing_file_is_reported_at_the_manifest(tmp_path: Path) -> None:
    _, problems = load_recipients("nope.csv", str(tmp_path / "campaign.yaml"))
    assert problems[0].file == str(tmp_path / "campaign.yaml")
    assert "no such file" in problems[0].message
