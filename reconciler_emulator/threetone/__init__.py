"""Threetone's batch-calling API in the emulator, under `/v1/voiceai/batch-calling`.

The shared batch-calling model with Threetone's table (`reconciler_apis.threetone`, from seed
002): its prefix and key header (`X-API-Key`), and the narrower request and response models
than ElevenLabs' (no timezone, telephony config, concurrency limit, branch or environment; no
`agent_id` filter; no export). Must not import uvicorn, httpx or anything of the product.
"""

from reconciler_emulator.threetone.routes import FLAVOUR, PREFIX, api

__all__ = ["FLAVOUR", "PREFIX", "api"]
