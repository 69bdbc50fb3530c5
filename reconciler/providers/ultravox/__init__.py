"""The Ultravox provider: agents and their scheduled call batches."""

from reconciler.providers.base import Provider, ProviderSettings
from reconciler.providers.ultravox.pagination import NextUrlPagination

SETTINGS = ProviderSettings(
    name="ultravox",
    base_url_env="ULTRAVOX_BASE_URL",
    default_base_url="https://api.ultravox.ai",
    api_key_env="ULTRAVOX_API_KEY",
    api_key_header="X-API-Key",
    pagination=NextUrlPagination(),
    page_size=1000,
    api_root="/api",
)

PROVIDER = Provider(
    settings=SETTINGS,
    types=(
        ("Agent", "reconciler.providers.ultravox.agents:AGENT"),
        ("ScheduledBatch", "reconciler.providers.ultravox.batches:SCHEDULED_BATCH"),
    ),
)
