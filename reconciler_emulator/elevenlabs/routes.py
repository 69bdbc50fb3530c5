"""ElevenLabs' batch-calling routes: the shared model with ElevenLabs' prefix and key header.

Owns: `FLAVOUR` and `api(store)`, which registers the API with the emulator. Must not import
uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

from reconciler_emulator.batchcalling.routes import BatchCallingApi, vendor_api
from reconciler_emulator.gateway import VendorApi
from reconciler_emulator.state import Store

PREFIX = "/v1/convai/batch-calling"
FLAVOUR = BatchCallingApi(vendor="elevenlabs", prefix=PREFIX, key_header="xi-api-key")


def api(store: Store) -> VendorApi:
    return vendor_api(store, FLAVOUR)
