"""What may reach the path of a request: the one check for ids, prefixes and planned paths.

Owns the rule: a request path is absolute (`/` first, never `//`: that would name another
host), its segments are URL path characters (percent escapes allowed), and no segment is, or
decodes to, `.` or `..`, or holds a `/`, a backslash or a control character once decoded. An
id from the manifests or from the account that breaks it cannot move a request elsewhere on
the server. `{ref:Kind/name}` (an id apply fills in) is allowed where a plan asks for it.
Pure; imports only the standard library.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$")
_REF = re.compile(r"\{ref:[A-Za-z][A-Za-z0-9]*/[A-Za-z0-9_-]{1,64}\}")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~:-]{0,199}$")
ID_PATTERN = _ID.pattern
"""What an id the tool puts into a path may look like (ids of Ultravox, Threetone and
ElevenLabs: UUIDs, `btcal_...`, `agent_...`)."""


def problem(path: str, *, refs: bool = False) -> str | None:
    """Why `path` may not be requested; None when it may. With `refs`, `{ref:Kind/name}`
    placeholders count as one safe segment each."""
    text = _REF.sub("ref", path) if refs else path
    if not text.startswith("/") or text.startswith("//"):
        return "a request path must start with a single /"
    for segment in text[1:].split("/"):
        if segment == "":
            continue
        if not _SEGMENT.match(segment):
            return f"segment {segment!r} has characters a path segment cannot hold"
        decoded = unquote(segment)
        if decoded in (".", "..") or any(c in decoded for c in "/\\") or not decoded.isprintable():
            return f"segment {segment!r} would move the request elsewhere on the server"
    return None


def is_id(text: str) -> bool:
    """Whether `text` may stand as one path segment naming an object (`ID_PATTERN`)."""
    return _ID.match(text) is not None and text not in (".", "..")
