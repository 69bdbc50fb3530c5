"""Batch-calling lists (Threetone, ElevenLabs): `limit` and a document cursor.

Owns the page shape `{batch_calls, next_doc, has_more}`, the `last_doc` cursor parameter and
the documented maximum `limit`. Must not import httpx or deepdiff.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.domain import JSON
from reconciler.providers.base import PageFormatError, PageRequest, unexpected_page

MAX_LIMIT = 500
"""Threetone's (and ElevenLabs') documented maximum `limit` for the batch list."""


class LastDocPagination:
    def first(self, path: str, params: Mapping[str, str] | None, page_size: int) -> PageRequest:
        return PageRequest(path, {**(params or {}), "limit": str(min(page_size, MAX_LIMIT))})

    def read(self, page: JSON, current: PageRequest) -> tuple[list[JSON], PageRequest | None]:
        if not isinstance(page, dict) or not isinstance(page.get("batch_calls"), list):
            raise unexpected_page(page, "batch_calls")
        if not page.get("has_more"):
            return list(page["batch_calls"]), None
        cursor = page.get("next_doc")
        if not isinstance(cursor, str) or not cursor:
            raise PageFormatError("has_more is true but next_doc is missing")
        return list(page["batch_calls"]), PageRequest(
            current.target, {**(current.params or {}), "last_doc": cursor}
        )
