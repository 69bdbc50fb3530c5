"""ElevenLabs' batch-calling API in the emulator, under `/v1/convai/batch-calling`.

The shared batch-calling model with ElevenLabs' table (`reconciler_apis.elevenlabs`, from the
official Python SDK's types): its prefix and key header (`xi-api-key`), the fields Threetone
does not have, the `agent_id` filter of the workspace listing and the CSV export. Must
not import uvicorn, httpx or anything of the product.
"""

from reconciler_emulator.elevenlabs.routes import FLAVOUR, PREFIX, api

__all__ = ["FLAVOUR", "PREFIX", "api"]
