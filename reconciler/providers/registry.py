"""Which providers and resource kinds exist.

Owns the list of vendor providers; adding a vendor adds one line here and a folder under
`reconciler/providers/`. Must not import httpx or deepdiff.
"""

from __future__ import annotations

from reconciler.providers.base import Provider, ResourceType
from reconciler.providers.batchcalling import ELEVENLABS, THREETONE
from reconciler.providers.ultravox import PROVIDER as ULTRAVOX

PROVIDERS: tuple[Provider, ...] = (ULTRAVOX, THREETONE, ELEVENLABS)


def provider(name: str) -> Provider:
    for item in PROVIDERS:
        if item.name == name:
            return item
    raise KeyError(name)


def resource_types() -> tuple[ResourceType, ...]:
    """Every resource kind, in apply order (a type shared by two providers appears once)."""
    unique: dict[int, ResourceType] = {}
    for p in PROVIDERS:
        for rt in p.resource_types:
            unique.setdefault(id(rt), rt)
    return tuple(sorted(unique.values(), key=lambda rt: rt.order))


def kinds() -> dict[str, ResourceType]:
    return {rt.kind: rt for rt in resource_types()}
