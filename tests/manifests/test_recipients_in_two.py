"""A large recipients file read in two processes (`read_in_two`, issue 14): the same calls and
the same problems, in the same order, as one process reading it, wherever the file is split."""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifests import recipients
from reconciler.manifests.recipients import Part, read_in_two
from reconciler.providers.batchcalling import batch_calls
from reconciler.providers.batchcalling import manifest as batchcalling
from reconciler.providers.ultravox import batch_manifest, batches
from reconciler.providers.ultravox.batch_manifest import CallsFrom


def _scheduled_rows() -> str:
    rows = ["to,from,context.name,metadata.crm,metadata.ultravox.flag,colour"]
    for i in range(40):
        to = f"+1415555{i:04d}"
        if i % 7 == 3:
            to = "(415) 555-0142" if i % 2 else "+1 415 CALL ME"  # national; letters
        if i % 11 == 5:
            to = "+99912"  # no country code reads it
        caller = "" if i % 3 else "+14155550199"
        extra = ",surplus" if i % 13 == 8 else ""
        reserved = "on" if i % 17 == 9 else ""  # a valid call against a rule: a reserved key
        rows.append(f'{to},{caller},"Ada\n{i}",{i},{reserved},red{extra}')
    rows.append(",,,,,")  # no number at all
    return "\n".join(rows) + "\n"


def _batchcall_rows() -> str:
    rows = ["id,phone_number,whatsapp_user_id,dynamic_variables.name,colour"]
    for i in range(40):
        number = f"+1628300{i:04d}" if i % 9 != 4 else "628-300-0000"
        whatsapp = "wa-1" if i % 10 == 6 else ""
        extra = ",surplus" if i % 12 == 7 else ""
        rows.append(f"crm-{i},{number},{whatsapp},Customer {i},blue{extra}")
    return "\n".join(rows) + "\n"


def _load_scheduled(tmp_path: Path, region: str | None) -> tuple[list[Any], list[Any]]:
    spec = CallsFrom.model_validate({"file": "calls.csv", "from": "+14155550100"})
    return batch_manifest.load_recipients(spec, str(tmp_path / "batch.yaml"), region)


def _load_batchcall(tmp_path: Path, region: str | None) -> tuple[list[Any], list[Any]]:
    return batchcalling.load_recipients("calls.csv", str(tmp_path / "batch.yaml"), region)


def _made_scheduled(tmp_path: Path, region: str | None) -> tuple[list[Any], list[Any]]:
    """As the campaign kind reads them: each call made its recipient in the reading process."""
    spec = CallsFrom.model_validate({"file": "calls.csv", "from": "+14155550100"})
    make = functools.partial(batches._sent, "renewals")
    return batch_manifest.load_recipients(spec, str(tmp_path / "b.yaml"), region, make=make)


def _made_batchcall(tmp_path: Path, region: str | None) -> tuple[list[Any], list[Any]]:
    make = batch_calls._submitted
    return batchcalling.load_recipients("calls.csv", str(tmp_path / "b.yaml"), region, make=make)


def _split_at(monkeypatch: pytest.MonkeyPatch, split: int) -> list[int]:
    """Make every file split at `split`, and count the processes forked."""
    forked: list[int] = []
    real = recipients._Forked.__init__

    def counted(self: recipients._Forked, work: Any) -> None:
        real(self, work)
        forked.append(self.pid)

    monkeypatch.setattr(recipients, "_split", lambda path: split)
    monkeypatch.setattr(recipients._Forked, "__init__", counted)
    return forked


@pytest.mark.parametrize(
    ("loader", "rows"),
    [
        (_load_scheduled, _scheduled_rows()),
        (_load_batchcall, _batchcall_rows()),
        (_made_scheduled, _scheduled_rows()),
        (_made_batchcall, _batchcall_rows()),
    ],
    ids=["ScheduledBatch", "BatchCall", "ScheduledBatch recipients", "BatchCall recipients"],
)
@pytest.mark.parametrize("region", [None, "US"])
def test_two_processes_read_what_one_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: Any, rows: str, region: str | None
) -> None:
    (tmp_path / "calls.csv").write_text(rows)
    alone = loader(tmp_path, region)
    assert alone[0] and alone[1]  # rows read and problems found, in both halves
    for split in (1, 2, 17, 40, 41, 500):
        forked = _split_at(monkeypatch, split)
        assert loader(tmp_path, region) == alone, split
        assert len(forked) == 1 and forked[0] > 0


def test_a_file_that_cannot_be_decoded_stops_where_it_does_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = "".join(f"+1415555{i:04d},,,{i},\n" for i in range(800)).encode()
    (tmp_path / "calls.csv").write_bytes(
        b"to,from,context.name,metadata.crm,colour\n" + good + b"+14155550100,\xff,,1,\n" + good
    )
    alone = _load_scheduled(tmp_path, None)
    assert alone[1][-1].message.startswith("cannot read recipients: 'utf-8' codec")
    for split in (10, 790, 801):
        _split_at(monkeypatch, split)
        assert _load_scheduled(tmp_path, None) == alone, split


def test_what_the_other_process_fails_to_read_is_read_here() -> None:
    parent = os.getpid()

    def read(start: int, stop: int | None) -> Part[int]:
        if os.getpid() != parent:
            raise MemoryError  # in the forked process only
        return [], list(range(start, 10 if stop is None else stop)), True

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recipients, "_split", lambda path: 4)
        assert read_in_two(Path("unused.csv"), read) == ([], list(range(10)), True)


def test_a_small_file_is_read_in_one_process(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("to\n" * (recipients.SPLIT_LINES - 1))
    large = tmp_path / "large.csv"
    large.write_text("to\n" * recipients.SPLIT_LINES)
    assert recipients._split(small) == 0
    # Where the process runs threads of its own (pytest-xdist's), no fork either.
    assert recipients._split(large) == int(recipients.SPLIT_LINES * recipients.HERE_SHARE) * (
        threading.active_count() == 1
    )


def test_rows_marshal_cannot_hand_over_are_read_here() -> None:
    def read(start: int, stop: int | None) -> Part[Path]:
        return [], [Path(f"row-{i}") for i in range(start, 10 if stop is None else stop)], True

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recipients, "_split", lambda path: 3)
        assert read_in_two(Path("unused.csv"), read) == (
            [],
            [Path(f"row-{i}") for i in range(10)],
            True,
        )
