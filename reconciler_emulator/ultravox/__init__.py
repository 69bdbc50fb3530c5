"""The Ultravox API in the emulator, under `/api`: agents, scheduled batches, created calls.

`agents` and `batches` are the rules (pure functions on JSON records), `drf` the
Django-REST-framework-style errors, `account` the Ultravox share of the emulator's state, and
`routes` the HTTP face that registers it all with the emulator (`routes.api`). Must not import
uvicorn, httpx or anything of the product.
"""

from reconciler_emulator.ultravox.routes import PREFIX, api

__all__ = ["PREFIX", "api"]
