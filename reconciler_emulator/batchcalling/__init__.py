"""Batch calling, as the Threetone and ElevenLabs APIs share it today.

`model` is the vendor-neutral model (batches, recipients, the lifecycle, validation,
pagination), `routes` its HTTP face for any vendor of that shape. The vendors themselves live
beside this package, one package each (`reconciler_emulator.threetone`,
`reconciler_emulator.elevenlabs`): each states its prefix and key header and registers its
routes, so one can come to differ from the other (ElevenLabs answers with extra fields)
without a change here. Must not import uvicorn, httpx or anything of the product.
"""

from reconciler_emulator.batchcalling.model import BatchCalls
from reconciler_emulator.batchcalling.routes import BatchCallingApi, batch_calls, vendor_api

__all__ = ["BatchCallingApi", "BatchCalls", "batch_calls", "vendor_api"]
