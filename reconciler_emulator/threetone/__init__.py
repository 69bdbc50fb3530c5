"""Threetone's batch-calling API in the emulator, under `/v1/voiceai/batch-calling`.

Its own package although it is, today, the shared batch-calling model with Threetone's prefix
and key header (`X-API-Key`): the vendor registers its own routes here, so a change to what
Threetone answers stays here. Must not import uvicorn, httpx or anything of the product.
"""

from reconciler_emulator.threetone.routes import FLAVOUR, PREFIX, api

__all__ = ["FLAVOUR", "PREFIX", "api"]
