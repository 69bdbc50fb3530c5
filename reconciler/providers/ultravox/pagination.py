"""Ultravox lists: DRF cursor pagination.

Owns the page shape `{next, previous, results, total}` with `next` a full URL or null, and the
`pageSize` parameter (the server may clamp it, so `next` is always followed). Must not import
httpx or deepdiff.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.domain import JSON
from reconciler.providers.base import PageRequest, unexpected_page


class NextUrlPagination:
    def first(self, path: str, params: Mapping[str, str] | None, page_size: int) -> PageRequest:
        # The caller's own pageSize wins; the server may clamp either.
        return PageRequest(path, {"pageSize": str(page_size), **(params or {})})

    def read(self, page: JSON, current: PageRequest) -> tuple[list[JSON], PageRequest | None]:
        if isinstance(page, list):
            # An endpoint that is not paginated answers with the whole list.
            return list(page), None
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise unexpected_page(page, "results")
        link = page.get("next")
        if not link:
            return list(page["results"]), None
        if not isinstance(link, str):
            raise unexpected_page(page, "next")
        return list(page["results"]), PageRequest(link)
