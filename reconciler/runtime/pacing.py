"""Pacing: at most N requests per second from one API client, across all its workers.

Owns `Pacer`, the `--rate` cap (`reconciler.core.limits.Limits.rate`): every attempt a client
sends, retries included, first takes the next free start slot, slots 1/N s apart, so no
second ever holds more than N starts however many workers share the client. A 429 (`hold`)
pushes every later slot past the server's wait, so the other workers do not keep knocking
while one waits out the rate limit. The clock and the sleep are injected: tests drive it
without waiting. Must not import httpx or anything of the pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """Start slots `1 / rate` seconds apart, handed out in the order they are asked for.

    A slot is reserved before the wait, with no `await` between reading and moving the next
    free slot, so concurrent tasks of one event loop never share one (no lock needed).
    """

    def __init__(self, rate: float, *, sleep: Sleep, clock: Clock = time.monotonic) -> None:
        if not rate > 0:
            raise ValueError("rate must be a positive number of requests per second")
        self.rate = rate
        self.interval = 1.0 / rate
        self._sleep = sleep
        self._clock = clock
        self._next = -float("inf")
        """When the next request may start (the clock's time)."""
        self._held = -float("inf")
        """Until when no request may start at all (the latest `hold`)."""
        self.waited = 0.0
        """Seconds of pacing waits asked for so far (what the cap cost this run)."""

    def reserve(self) -> float:
        """Take the next start slot; seconds to wait until it (0: start now)."""
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self.interval
        return start - now

    async def wait(self) -> None:
        """Wait for this request's start slot. A hold that came while it waited sends it
        back in line: a fresh slot after the hold, so the waiters do not all start at once
        when it ends."""
        delay = self.reserve()
        while True:
            if delay > 0:
                self.waited += delay
                await self._sleep(delay)
            if self._clock() >= self._held:
                return
            delay = self.reserve()

    def hold(self, seconds: float) -> None:
        """No request starts within `seconds` from now (the server asked for a pause)."""
        until = self._clock() + seconds
        self._held = max(self._held, until)
        self._next = max(self._next, until)
