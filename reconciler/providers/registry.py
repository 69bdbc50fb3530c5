"""Which providers and resource kinds exist.

Owns the list of vendor providers; adding a vendor adds one line here and a folder under
`reconciler/providers/`. A kind's type is imported when it is first looked up (issue 14):
`kinds()` knows every kind's name without importing any type. Must not import httpx or
deepdiff.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from reconciler.providers.base import Provider, ResourceType, load_type
from reconciler.providers.batchcalling import ELEVENLABS, THREETONE
from reconciler.providers.ultravox import PROVIDER as ULTRAVOX

PROVIDERS: tuple[Provider, ...] = (ULTRAVOX, THREETONE, ELEVENLABS)


def provider(name: str) -> Provider:
    for item in PROVIDERS:
        if item.name == name:
            return item
    raise KeyError(name)


def resource_types(only: Collection[str] | None = None) -> tuple[ResourceType, ...]:
    """Every resource kind (or those of `only`, the others' types not imported), in apply
    order (a type shared by two providers appears once)."""
    unique: dict[int, ResourceType] = {}
    for p in PROVIDERS:
        for kind, where in p.types:
            if only is None or kind in only:
                rt = load_type(where)
                unique.setdefault(id(rt), rt)
    return tuple(sorted(unique.values(), key=lambda rt: rt.order))


class Kinds(Mapping[str, ResourceType]):
    """Kind -> its type, each type imported when it is first looked up (its name is known
    before: an unknown kind's message lists them all without importing any)."""

    def __init__(self) -> None:
        self._where: dict[str, str] = {}
        self._loaded: dict[str, ResourceType] = {}
        for p in PROVIDERS:
            for kind, where in p.types:
                self._where.setdefault(kind, where)

    def __getitem__(self, kind: str) -> ResourceType:
        # Kept once looked up: a run asks once or twice per document (issue 14's profile:
        # 4,000 imports by name in a plan of 1,000 agents).
        found = self._loaded.get(kind)
        if found is None:
            found = self._loaded[kind] = load_type(self._where[kind])
        return found

    def __contains__(self, kind: object) -> bool:
        return kind in self._where  # a kind's name, without importing its type

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def kinds() -> Mapping[str, ResourceType]:
    return Kinds()
