"""ElevenLabs' batch-calling API in the emulator, under `/v1/convai/batch-calling`.

Its own package although it is, today, the shared batch-calling model with ElevenLabs' prefix
and key header (`xi-api-key`): ElevenLabs answers with fields Threetone does not have, and
those belong in this package's `routes.FLAVOUR` (its `render`), not in the shared model. Must
not import uvicorn, httpx or anything of the product.
"""

from reconciler_emulator.elevenlabs.routes import FLAVOUR, PREFIX, api

__all__ = ["FLAVOUR", "PREFIX", "api"]
