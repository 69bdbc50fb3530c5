"""The one request journal of the emulator: every vendor API request, as the server saw it.

Owns: `Journal` and what an entry keeps (method, path, query, decoded body, status, the
decoded response body, and the headers that cannot carry a secret: never the API key of any
vendor). The response is what the emulator answered, so tests can hold every answer to the
vendor's own response models. `gateway.Traffic` writes
it for Ultravox, Threetone and ElevenLabs requests alike; `GET|DELETE /_emulator/requests`
read and clear it. Pure: must not import starlette, uvicorn, httpx, any vendor package or
anything of the product.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler_emulator.jsontypes import JSON

Entry = dict[str, Any]

_SECRET_HEADER_WORDS = ("key", "secret", "token", "auth", "cookie", "password", "signature")
_PUBLIC_HEADERS = frozenset({"idempotency-key"})


def journal_body(raw: bytes) -> JSON:
    """A request or response body as the journal keeps it: JSON when it parses, else the
    text (an export's CSV); None when empty."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")


def public_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers safe to keep: never an API key, nor anything else that looks like a secret."""
    kept: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in _PUBLIC_HEADERS or not any(w in lowered for w in _SECRET_HEADER_WORDS):
            kept[lowered] = value
    return kept


class Journal:
    """Every API request so far, oldest first.

    Bodies are kept as received and decoded on the first read (`entries`, `to_json`): a page
    of 100 agents is ~580 KB of JSON, and decoding each as it is recorded cost the emulator
    ~1 ms a page and a heap of objects its collector walked again and again (a full
    collection paused it 55 ms in an apply of 1,000 updates) for entries nobody reads."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._raw: list[tuple[bytes, bytes]] = []
        """Per entry not decoded yet (the last ones): its request and response bodies."""

    @property
    def entries(self) -> list[Entry]:
        if self._raw:
            first = len(self._entries) - len(self._raw)
            for entry, (raw, response) in zip(self._entries[first:], self._raw, strict=True):
                entry["body"] = journal_body(raw)
                entry["response"] = journal_body(response)
            self._raw.clear()
        return self._entries

    def record(
        self,
        *,
        method: str,
        path: str,
        query: Mapping[str, str],
        raw: bytes,
        status: int,
        headers: Iterable[tuple[str, str]],
        response: bytes = b"",
        verbatim: bool = False,
    ) -> None:
        self._entries.append(
            {
                "method": method,
                "path": path,
                "query": dict(query),
                "body": None,  # decoded on the first read
                "status": status,
                "headers": public_headers(headers),
                "response": None,
                # The answer carried state a test seeded as is, not the API's response model.
                "verbatim": verbatim,
            }
        )
        self._raw.append((raw, response))

    def clear(self) -> None:
        self._entries.clear()
        self._raw.clear()

    def to_json(self) -> list[Entry]:
        return list(self.entries)
