"""The batch-calling presets' settings (base URL, API-key variable, header, path prefix), apart
from the `BatchCall` type so that every run can know them without importing it (issue 14).
Must not import httpx or deepdiff."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.providers.base import ProviderSettings
from reconciler.providers.batchcalling.pagination import LastDocPagination

THREETONE = ProviderSettings(
    name="threetone",
    base_url_env="THREETONE_BASE_URL",
    default_base_url="https://api.threetone.in",
    api_key_env="THREETONE_API_KEY",
    api_key_header="x-api-key",
    pagination=LastDocPagination(),
    page_size=500,
    path_prefix="/v1/voiceai/batch-calling",
)

ELEVENLABS = ProviderSettings(
    name="elevenlabs",
    base_url_env="ELEVENLABS_BASE_URL",
    default_base_url="https://api.elevenlabs.io",
    api_key_env="ELEVENLABS_API_KEY",
    api_key_header="xi-api-key",
    pagination=LastDocPagination(),
    # ElevenLabs documents a default of 100 and no maximum; 100 is surely accepted.
    page_size=100,
    path_prefix="/v1/convai/batch-calling",
)

PRESETS: Mapping[str, ProviderSettings] = {s.name: s for s in (THREETONE, ELEVENLABS)}
