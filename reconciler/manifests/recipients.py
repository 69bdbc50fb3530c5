"""Reading recipient files (JSONL, and the problem type CSV readers share) for campaign kinds.

Owns the one way a recipients file reports a problem: a `Diagnostic` with the recipients file
and its line (`FileProblem` for one that stops the reading, a header that cannot be read), so
every vendor's loader reports alike; a bad row is reported and the rows after it still read.
Reads files; must not import httpx, deepdiff or any provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
