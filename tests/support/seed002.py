"""Threetone's batch-calling submit page (seed 002), read as data: the request example, the
response example, and the documented response fields (type, required, options, default).

`shared/seeds/002_*.txt` is the page as text: a curl example whose `--data` is the request
body, the response example right after it, then the "Body" and "Response" sections listing
each field as a name line, a type line, optionally `required`, `default:N` and "Available
options:". Test support only: imports nothing from `reconciler` or `reconciler_emulator`, so
the tests hold the emulator to the vendor's page, not to the tables it is built from.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SHARED_DIR_ENV = "RECONCILER_SHARED_DIR"


def seed_file() -> Path | None:
    shared = os.environ.get(SHARED_DIR_ENV)
    root = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    found = sorted((root / "seeds").glob("002_*.txt"))
    return found[0] if found else None


def _balanced(text: str, start: int) -> str:
    """The JSON object starting at `text[start]` (`{`), braces balanced, strings respected."""
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    raise ValueError("unbalanced JSON object in seed 002")


@dataclass(frozen=True)
class Documented:
    """One field of the page's "Response" section."""

    name: str
    type: str
    required: bool
    options: tuple[str, ...] = ()
    default: str | None = None


@dataclass(frozen=True)
class Seed002:
    request: dict[str, Any]
    response: dict[str, Any]
    request_fields: dict[str, Documented]
    """The "Body" section: every field the submit request takes."""
    response_fields: dict[str, Documented]


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPE = re.compile(r"^(string|integer|boolean|number|enum<string>|[A-Z][A-Za-z]+ · object)")


def _fields(section: list[str]) -> dict[str, Documented]:
    """Each `name / type [/ required] [/ default:x] [/ description] [/ Available options: ...]`
    block of a section, a block starting where a name line is followed by a type line."""
    lines = [line.strip() for line in section]
    starts = [
        i for i in range(len(lines) - 1) if _NAME.match(lines[i]) and _TYPE.match(lines[i + 1])
    ]
    found: dict[str, Documented] = {}
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        block = lines[start + 2 : end]
        default = next((b.split(":", 1)[1] for b in block if b.startswith("default:")), None)
        options: list[str] = []
        if "Available options:" in block:
            for line in block[block.index("Available options:") + 1 :]:
                options.append(line.rstrip(","))
                if not line.endswith(","):
                    break
        name = lines[start]
        found[name] = Documented(
            name, lines[start + 1], "required" in block, tuple(options), default
        )
    return found


@cache
def load(path: Path) -> Seed002:
    text = path.read_text(encoding="utf-8")
    data_at = text.index("--data '") + len("--data '")
    request_text = _balanced(text, text.index("{", data_at))
    response_at = text.index("{", data_at + len(request_text))
    response_text = _balanced(text, response_at)
    lines = text.splitlines()
    body = lines.index("Body")
    start = lines.index("Successful Response")
    return Seed002(
        request=json.loads(request_text),
        response=json.loads(response_text),
        request_fields=_fields(lines[body + 1 : start]),
        response_fields=_fields(lines[start + 1 :]),
    )


def load_default() -> Seed002 | None:
    found = seed_file()
    return load(found) if found else None
