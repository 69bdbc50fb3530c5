"""Threetone's batch-calling routes: the shared model with Threetone's table
(`reconciler_apis.threetone`): its prefix, key header, the fields its submit takes and the
models it answers with.

Owns: `FLAVOUR` and `api(store)`, which registers the API with the emulator. Must not import
uvicorn, httpx or anything of the product.
"""

from __future__ import annotations

from reconciler_apis import threetone
from reconciler_emulator.batchcalling.routes import vendor_api
from reconciler_emulator.gateway import VendorApi
from reconciler_emulator.state import Store

FLAVOUR = threetone.API
PREFIX = FLAVOUR.prefix


def api(store: Store) -> VendorApi:
    return vendor_api(store, FLAVOUR)
