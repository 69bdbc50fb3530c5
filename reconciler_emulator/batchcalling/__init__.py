"""Batch calling, as the Threetone and ElevenLabs APIs share it.

`model` is the vendor-neutral model (batches, recipients, the lifecycle, validation,
pagination), `routes` its HTTP face for any vendor of that shape. The vendors themselves live
beside this package, one package each (`reconciler_emulator.threetone`,
`reconciler_emulator.elevenlabs`): each registers its routes with its own table from
`reconciler_apis` (what it takes, what it answers, which operations it has), so one answers
differently from the other (ElevenLabs has more fields, an `agent_id` filter and an export)
without a change here. Must not import uvicorn, httpx or anything of the product.
"""

from reconciler_apis.batchcalling import BatchCallingApi
from reconciler_emulator.batchcalling.model import BatchCalls
from reconciler_emulator.batchcalling.routes import batch_calls, vendor_api

__all__ = ["BatchCallingApi", "BatchCalls", "batch_calls", "vendor_api"]
