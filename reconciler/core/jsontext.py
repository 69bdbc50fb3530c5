"""JSON text as `json.dumps(value, indent=2, ensure_ascii=False)` spells it, faster and in pieces.

Owns `write_indented` (the text handed on in chunks of whole lines, so a plan of 100,000
recipients is written to its file without its whole text in memory) and `indented` (the same
as one string, for `--format json`). Pure: takes a value and a function to hand each chunk to;
imports nothing from the package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

_STR_ONLY = frozenset({str})
"""The key types a dict is encoded here with: others (int keys, say) are the stdlib's."""
PIECES_PER_CHUNK = 4096
"""How many encoded pieces `write_indented` gathers before it hands them on (a few hundred KB)."""


def write_indented(value: Any, write: Callable[[str], object]) -> None:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, byte for byte, handed to `write` in
    chunks that each end just before a newline (so a pattern that spans no newline, a secret's
    redaction, reads the chunks as it would the whole text).

    Why not `json.dumps`: with `indent` it encodes in pure Python, token by token through
    generators, and returns one string (90 MB for two 100,000-recipient campaigns); this
    recursion lets the C string encoder do the strings and writes as it goes, about three
    times faster. Anything but str keys and plain JSON values is encoded by `json.dumps`
    itself, re-indented (JSON text holds no raw newline but between tokens), so the result and
    the errors are the stdlib's.
    """
    out: list[str] = []
    append = out.append
    breaks = ["\n"]
    joined = [",\n"]  # per level: "," and its newline, one piece where no chunk ends between
    keys: dict[str, str] = {}  # a key's text with its ": " (the same keys in every call)

    def newline(level: int) -> str:
        while len(breaks) <= level:
            breaks.append("\n" + "  " * len(breaks))
            joined.append("," + breaks[-1])
        return breaks[level]

    def flush() -> None:
        write("".join(out))
        out.clear()

    def encode(item: Any, level: int) -> None:
        # A child that is a str is encoded where it is met, not by a call (1.7 million strings
        # in a plan of 100,000 calls); a chunk ends after a "," only, before its newline.
        kind = type(item)
        if kind is str:
            append(encode_basestring(item))
        elif kind is dict and item and _STR_ONLY.issuperset(map(type, item)):
            inner = breaks[level + 1] if level + 1 < len(breaks) else newline(level + 1)
            between = joined[level + 1]
            append("{")
            first = True
            for key, child in item.items():
                # No chunk ends in a dict's own items (a body's are a few), only in lists.
                if first:
                    append(inner)
                    first = False
                else:
                    append(between)
                text = keys.get(key)
                if text is None:
                    text = keys[key] = encode_basestring(key) + ": "
                append(text)
                if type(child) is str:
                    append(encode_basestring(child))
                else:
                    encode(child, level + 1)
            append(breaks[level])
            append("}")
        elif (kind is list or kind is tuple) and item:
            inner = breaks[level + 1] if level + 1 < len(breaks) else newline(level + 1)
            between = joined[level + 1]
            append("[")
            first = True
            for child in item:
                if first:
                    append(inner)
                    first = False
                elif len(out) >= PIECES_PER_CHUNK:
                    append(",")
                    flush()
                    append(inner)
                else:
                    append(between)
                if type(child) is str:
                    append(encode_basestring(child))
                else:
                    encode(child, level + 1)
            append(breaks[level])
            append("]")
        else:
            text = json.dumps(item, indent=2, ensure_ascii=False)
            append(text.replace("\n", newline(level)) if level else text)

    encode(value, 0)
    if out:
        flush()


def indented(value: Any) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, by `write_indented` (faster)."""
    pieces: list[str] = []
    write_indented(value, pieces.append)
    return "".join(pieces)
