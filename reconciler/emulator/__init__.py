"""A local, stateful, deterministic emulator of the Ultravox API as DESIGN.md models it.

Serves agents and scheduled call batches over real HTTP on loopback (starlette + uvicorn), with
a virtual clock that drives batch dialling, and `/_emulator` admin routes (request journal,
faults, clock, seeding, console edits) for end-to-end tests and the demo.

Owns nothing of the product: the product must not import this package, and this package must
not import any reconciler module other than reconciler.core.domain (no client, no CLI). httpx is used
only by the admin test helper.
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.server import EmulatorAdmin, RunningEmulator, running_emulator, serve

__all__ = [
    "EmulatorAdmin",
    "EmulatorConfig",
    "RunningEmulator",
    "create_app",
    "running_emulator",
    "serve",
]
