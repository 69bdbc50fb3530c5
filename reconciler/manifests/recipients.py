"""Reading recipient files (JSONL, and the problem type CSV readers share) for campaign kinds.

Owns the one way a recipients file reports a problem: a `Diagnostic` with the recipients file
and its line (`FileProblem` for one that stops the reading, a header that cannot be read), so
every vendor's loader reports alike; a bad row is reported and the rows after it still read.
Also reads a large CSV file in two processes at once (`read_in_two`): the same rows, faster;
and the cheaper steps of a row both take (`RowModel`, `skip_rows`), each the same as the step
it replaces.
Reads files; must not import httpx, deepdiff or any provider.
"""

from __future__ import annotations

import csv
import functools
import json
import marshal
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from reconciler.core.errors import Diagnostic


class FileProblem(Exception):
    """A problem that stops reading a recipients file, at a file and line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(file, line, message)


def _not_a_number(name: str) -> object:
    # Python's json reads NaN and Infinity, which JSON has not and no API takes.
    raise ValueError(f"{name} is not a JSON number")


def jsonl_objects(
    path: Path, shown: str, what: str, problems: list[Diagnostic]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) for each non-blank line; `what` names one object in errors ("one call").
    A line that is no JSON object is added to `problems` and skipped: the lines after it are
    still read, so a file's problems come in one run."""
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                item = json.loads(text, parse_constant=_not_a_number)
            except (ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                problems.append(Diagnostic(shown, line, f"not valid JSON: {reason}"))
                continue
            if not isinstance(item, dict):
                message = f"each line must be a JSON object ({what})"
                problems.append(Diagnostic(shown, line, message))
                continue
            yield line, item


def as_read(item: dict[str, Any]) -> Any:
    """What a loader's `make` is by default: the row's item as it is sent."""
    return item


def skip_rows(reader: csv.DictReader[str], count: int) -> None:
    """`reader` moved past its next `count` rows as iterating it moves (a blank line is no
    row), without making their dicts: where the second process starts reading."""
    rows = reader.reader
    while count > 0:
        cells = next(rows, None)
        if cells is None:
            return
        if cells:
            count -= 1


M = TypeVar("M", bound=BaseModel)


class RowModel(Generic[M]):
    """`model.model_validate(data)` and `model_dump(mode="json", exclude_none=True)` of a
    recipients file's rows, as pydantic-core's validator and serializer are called by those two
    methods, without their Python wrappers (keyword checks, a dozen defaults passed on): the
    same model and dump, the same `ValidationError`, a fifth less of a row's validation (at
    100,000 rows, measured in instructions)."""

    def __init__(self, model: type[M], *, by_alias: bool | None = None) -> None:
        self.validate: Callable[[Any], M] = model.__pydantic_validator__.validate_python
        serialize = model.__pydantic_serializer__.to_python
        self.dump: Callable[[M], dict[str, Any]] = functools.partial(
            serialize, mode="json", by_alias=by_alias, exclude_none=True
        )


def read_rows(
    rows: Iterable[tuple[int, Any]],
    shown: str,
    problems: list[Diagnostic],
    check: Callable[[int, Any], Any | None],
) -> Part[tuple[str, int, Any]]:
    """Each row of a recipients file given to `check`, which adds the row's problems to
    `problems` and returns what the row gives, or None for a row that gives nothing; kept as
    (file, line, what it gave). A problem that stops the reading (`FileProblem`, a file that
    cannot be read or decoded) is reported at its place and ends the part (`whole` False)."""
    found: list[tuple[str, int, Any]] = []
    try:
        for row, raw in rows:
            item = check(row, raw)
            if item is not None:
                found.append((shown, row, item))
    except FileProblem as problem:
        problems.append(problem.diagnostic)
        return problems, found, False
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(Diagnostic(shown, 1, f"cannot read recipients: {exc}"))
        return problems, found, False
    return problems, found, True


# --- a large file read in two processes --------------------------------------------------------

SPLIT_LINES = 8_192
"""From how many lines a CSV file's rows are read in two processes. A row is ~30 us of
CPU, half of it `phonenumbers`; a fork and the rows it hands back cost ~10 ms plus ~3 us a
row: below this the second process would not pay for itself."""

HERE_SHARE = 0.52
"""The share of the rows read here. The other process also skips the rows before its own,
marshals its rows (measured at 100,000 ScheduledBatch rows: 1.8 us a row) and copies the
pages it touches, so that its rows are ready when this process has read its own: measured
(CPU of each process's share, 100,000 rows of either kind), ScheduledBatch 27.3 us a row here
against 28.0 there plus 1.8 to marshal it (a balance at 0.522), BatchCall 24.6 against 24.7
plus 1.2 (0.513)."""

T = TypeVar("T")

Part = tuple[list[Diagnostic], list[T], bool]
"""What reading the rows `[start, stop)` of a file gave: the problems found (at the start of
the file, the header's too), the rows read, and whether the reading got to `stop` (False: a
problem stopped it, the last one reported)."""


def read_in_two(path: Path, read: Callable[[int, int | None], Part[T]]) -> Part[T]:
    """`read(0, None)`, the rows of a large CSV file read half here and half by a forked
    process, at the same time: their problems and rows are the same, in the same order.

    `read(start, stop)` reads the file's rows `[start, stop)` (0-based, as `csv.DictReader`
    counts them). A small file, a platform without `fork`, a process running threads (a copy
    of one thread could find a lock another holds) or a failed fork: all read here.
    """
    split = _split(path)
    other = _Forked(functools.partial(_marshalled, read, split)) if split else None
    if other is None or other.pid == 0:
        return read(0, None)
    try:
        problems, rows, whole = read(0, split)
        if not whole:
            return problems, rows, whole
        theirs = other.result()
        if theirs is None:  # it failed (it can: memory, a signal): read here, as always
            found, more, whole = read(split, None)
        else:
            found, more, whole = [Diagnostic(*d) for d in theirs[0]], theirs[1], theirs[2]
        return problems + found, rows + more, whole
    finally:
        other.stop()


def _marshalled(read: Callable[[int, int | None], Part[T]], start: int) -> Any:
    """`read(start, None)` as plain data for `marshal` (its rows are JSON values: three times
    faster to hand over than pickled)."""
    problems, rows, whole = read(start, None)
    return [(d.file, d.line, d.message) for d in problems], rows, whole


def _split(path: Path) -> int:
    """Where the second process starts (0: no second process)."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return 0
    try:
        with path.open("rb") as handle:
            lines = handle.read().count(b"\n")
    except OSError:
        return 0  # the reading reports it
    # Any split reads the same rows; a quoted cell holding newlines only moves it.
    return int(lines * HERE_SHARE) if lines >= SPLIT_LINES else 0


class _Forked:
    """`work()` run in a forked process, its answer (plain data) handed back through a pipe
    by `marshal`; an answer `marshal` cannot take fails the process, read here instead."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.pid = 0
        self._fd = -1
        readable, writable = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(readable)
            os.close(writable)
            return
        if pid == 0:  # pragma: no cover (the forked process; its answers are compared)
            code = 1
            try:
                os.close(readable)
                data = marshal.dumps(work())
                with os.fdopen(writable, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)  # no atexit, no flush of the output buffers it shares
        os.close(writable)
        self.pid, self._fd = pid, readable

    def result(self) -> Any:
        """Its answer, or None when it failed."""
        with os.fdopen(self._fd, "rb") as handle:
            self._fd = -1
            data = handle.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        return marshal.loads(data) if status == 0 and data else None

    def stop(self) -> None:
        """Stop it if it still runs (the rows here stopped at a problem, or an interrupt)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
