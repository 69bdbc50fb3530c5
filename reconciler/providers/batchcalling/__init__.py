"""Batch calling: Threetone's API, and ElevenLabs' API of the same shape, as two providers.

Both presets share one `BatchCallType` instance (one `BatchCall` kind; a manifest's
`provider:` picks the preset); they differ only in their settings (base URL, API-key variable,
header, path prefix), which environments may override. Must not import httpx or deepdiff.
"""

from reconciler.providers.base import Provider
from reconciler.providers.batchcalling.batch_calls import ELEVENLABS as ELEVENLABS_SETTINGS
from reconciler.providers.batchcalling.batch_calls import THREETONE as THREETONE_SETTINGS
from reconciler.providers.batchcalling.batch_calls import BatchCallType

BATCH_CALL = BatchCallType()

THREETONE = Provider(settings=THREETONE_SETTINGS, resource_types=(BATCH_CALL,))
ELEVENLABS = Provider(settings=ELEVENLABS_SETTINGS, resource_types=(BATCH_CALL,))

__all__ = ["BATCH_CALL", "ELEVENLABS", "THREETONE", "BatchCallType"]
