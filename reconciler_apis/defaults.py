"""`Default`: one documented default of a resource whose model is too large to table field by
field (an Ultravox CallTemplate). A module of its own so that the product's start-up (every
command that reads an agent uses the Ultravox table) does not build the response-table types of
`reconciler_apis.model`. Pure: the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = Any


@dataclass(frozen=True)
class Default:
    """One documented default of a resource whose model is too large to table field by field
    (an Ultravox CallTemplate): a dotted path, the value, where it is documented, and whether
    responses show it when nothing set it."""

    path: str
    value: JSON
    source: str
    shown: bool = False
    """Responses carry the value when the field was never set (the emulator fills it in)."""
