"""The cheaper ways a large recipients file's rows are read (issue 14), each held equal to the
way it replaces: `RowModel` to `model_validate` + `model_dump`, `skip_rows` to iterating the
rows it skips, the column plans to reading every cell of a row by its name."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from reconciler.manifests.recipients import RowModel, skip_rows
from reconciler.providers.batchcalling import manifest as batchcalling
from reconciler.providers.ultravox import batch_manifest
from reconciler.providers.ultravox.batch_manifest import CallsFrom, ScheduledCallManifest

TWILIO = {"twilio": {"outgoing": {"to": "+14155550100", "from": "+14155550199"}}}

ROWS: list[tuple[type[BaseModel], bool | None, Any]] = [
    (ScheduledCallManifest, True, {"medium": TWILIO}),
    (ScheduledCallManifest, True, {"medium": TWILIO, "templateContext": {"n": "Ada"}}),
    (ScheduledCallManifest, True, {"medium": TWILIO, "metadata": {"crm": "7"}}),
    (ScheduledCallManifest, True, {"medium": {"twilio": {"outgoing": {"to": "+1415"}}}}),
    (ScheduledCallManifest, True, {"medium": TWILIO, "metadata": {"crm": 7}}),
    (ScheduledCallManifest, True, {"medium": TWILIO, "colour": "red"}),
    (ScheduledCallManifest, True, ["not", "a", "call"]),
    (batchcalling.Recipient, None, {"id": "crm-1", "phone_number": "+16283000000"}),
    (batchcalling.Recipient, None, {"whatsapp_user_id": "wa-1"}),
    (
        batchcalling.Recipient,
        None,
        {
            "phone_number": "+16283000000",
            "conversation_initiation_client_data": {
                "user_id": "u-1",
                "dynamic_variables": {"name": "Ada"},
                "conversation_config_override": {"agent": {"language": "en"}},
            },
        },
    ),
    (batchcalling.Recipient, None, {"id": "", "phone_number": "+16283000000"}),
    (batchcalling.Recipient, None, {"phone_number": "628-300-0000"}),
    (batchcalling.Recipient, None, {"phone_number": "+16283000000", "colour": "blue"}),
]


@pytest.mark.parametrize(("model", "by_alias", "data"), ROWS)
def test_a_row_model_validates_and_dumps_as_the_model_does(
    model: type[BaseModel], by_alias: bool | None, data: Any
) -> None:
    rows = RowModel(model, by_alias=by_alias)
    try:
        expected = model.model_validate(data)
    except ValidationError as problem:
        with pytest.raises(ValidationError) as raised:
            rows.validate(data)
        assert str(raised.value) == str(problem)
        assert raised.value.errors(include_context=False) == problem.errors(include_context=False)
        return
    got = rows.validate(data)
    assert type(got) is model and got == expected
    dumped = expected.model_dump(mode="json", by_alias=by_alias, exclude_none=True)
    assert rows.dump(got) == dumped


CSV_TEXTS = [
    "to,name\n+1,a\n+2,b\n+3,c\n",
    "to,name\n\n+1,a\n\n\n+2,b\n+3,c\n\n",  # blank lines are no rows
    'to,name\n+1,"two\nlines"\n+2,b\n\n+3,"x\n\ny"\n+4,d\n',  # newlines inside cells
    "to,name\n+1,a,surplus\n+2\n+3,c\n",  # too many cells, too few
    "to,name\n",  # no rows
]


@pytest.mark.parametrize("text", CSV_TEXTS)
def test_skipped_rows_leave_the_reader_where_reading_them_does(text: str) -> None:
    rows = len(list(csv.DictReader(io.StringIO(text))))
    for count in range(rows + 3):
        reading = csv.DictReader(io.StringIO(text))
        assert reading.fieldnames  # the header read, as the loaders read it first
        for _ in zip(range(count), reading, strict=False):
            pass
        skipping = csv.DictReader(io.StringIO(text))
        assert skipping.fieldnames
        skip_rows(skipping, count)
        rest = []
        for row in skipping:
            rest.append((skipping.line_num, row))
        expected = []
        for row in reading:
            expected.append((reading.line_num, row))
        assert rest == expected, count


def test_scheduled_batch_cells_go_where_their_columns_say(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text(
        "to,context.name,metadata.crm,context.name,colour,context.,metadata.x\n"
        "+14155550100,Ada,7,Eve,red,v,\n"
        "+14155550101,,,,blue\n"
        "+14155550102,,8,,\n"
    )
    spec = CallsFrom.model_validate({"file": "calls.csv", "from": "+14155550199"})
    calls, problems = batch_manifest.load_recipients(spec, str(tmp_path / "batch.yaml"))
    outgoing = {"to": "+14155550100", "from": "+14155550199"}
    assert [call for _, _, call in calls] == [
        {
            "medium": {"twilio": {"outgoing": outgoing}},
            # A column named twice: its last cell, at its first place (as a row's dict has it).
            "templateContext": {"name": "Eve", "": "v"},
            "metadata": {"crm": "7"},
        }
    ]
    shown = tmp_path / "calls.csv"
    assert [str(p) for p in problems] == [
        f"{shown}:1: unknown columns ['colour']; use to, from, context.<name>, metadata.<name>",
        # A missing cell is no empty one: it is read (and refused as metadata).
        f"{shown}:3: metadata.x: expected a string, got null",
        f"{shown}:4: metadata.x: expected a string, got null",
    ]


def test_batch_call_cells_go_where_their_columns_say(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text(
        "user_id,phone_number,colour,dynamic_variables.name,"
        "conversation_config_override.agent.language,id,dynamic_variables.name\n"
        "u-1, +16283000000 ,red,Ada,en,crm-1,Eve\n"
        ",+16283000001,,,,,\n"
        "u-3,+16283000002\n"
    )
    found, problems = batchcalling.load_recipients("calls.csv", str(tmp_path / "batch.yaml"))
    assert [recipient for _, _, recipient in found] == [
        {
            "id": "crm-1",
            "phone_number": "+16283000000",
            "conversation_initiation_client_data": {
                "conversation_config_override": {"agent": {"language": "en"}},
                "user_id": "u-1",
                "dynamic_variables": {"name": "Eve"},
            },
        },
        {"phone_number": "+16283000001"},
        {"phone_number": "+16283000002", "conversation_initiation_client_data": {"user_id": "u-3"}},
    ]
    assert list(found[0][2]) == [
        "id",
        "phone_number",
        "conversation_initiation_client_data",
    ]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'calls.csv'}:1: unknown columns ['colour']; use id, phone_number, "
        "whatsapp_user_id, user_id, dynamic_variables.<name> or "
        "conversation_config_override.<path>"
    ]
