"""Batch calling: Threetone's API, and ElevenLabs' API of the same shape, as two providers.

Both presets share one `BatchCallType` instance (one `BatchCall` kind; a manifest's
`provider:` picks the preset); they differ only in their settings (base URL, API-key variable,
header, path prefix), which environments may override. Must not import httpx or deepdiff.
The type's module is imported on first use (issue 14), not with this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.providers.base import Provider
from reconciler.providers.batchcalling.presets import ELEVENLABS as ELEVENLABS_SETTINGS
from reconciler.providers.batchcalling.presets import THREETONE as THREETONE_SETTINGS

if TYPE_CHECKING:
    from reconciler.providers.batchcalling.batch_calls import BATCH_CALL as BATCH_CALL
    from reconciler.providers.batchcalling.batch_calls import BatchCallType as BatchCallType
else:

    def __getattr__(name: str) -> Any:
        if name in ("BATCH_CALL", "BatchCallType"):
            from reconciler.providers.batchcalling import batch_calls

            return getattr(batch_calls, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_TYPES = (("BatchCall", "reconciler.providers.batchcalling.batch_calls:BATCH_CALL"),)

THREETONE = Provider(settings=THREETONE_SETTINGS, types=_TYPES)
ELEVENLABS = Provider(settings=ELEVENLABS_SETTINGS, types=_TYPES)

__all__ = ["BATCH_CALL", "ELEVENLABS", "THREETONE", "BatchCallType"]
