"""Settings of one emulator instance.

Owns: `EmulatorConfig`, for every vendor API alike. Plain data: must not import starlette,
uvicorn, httpx, any vendor package or anything of the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EmulatorConfig:
    """How an emulator behaves; every field has a default so `EmulatorConfig()` just works."""

    api_key: str = "emulator-key"
    max_page_size: int = 100
    """Lists clamp `pageSize` to this, as the real API may (its limits are undocumented)."""
    latency: float = 0.0
    """Seconds from each API request's arrival to its answer, the emulator's work counted
    inside them (see `gateway.Traffic`), to exercise client concurrency and timeouts."""
    state_file: str | None = None
    """JSON file loaded at start if it exists and rewritten after every write."""
    calls_per_minute: int = 60
    """How fast a batch dials its pending calls on the virtual clock."""
    start_time: datetime | None = None
    """Where the virtual clock starts (naive means UTC); None: the real time at start."""
    faults: tuple[dict[str, Any], ...] = ()
    """Fault rules armed at start, as `PUT /_emulator/faults` takes them."""

    def __post_init__(self) -> None:
        if self.max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        if self.calls_per_minute < 1:
            raise ValueError("calls_per_minute must be at least 1")
        if self.latency < 0:
            raise ValueError("latency must not be negative")
