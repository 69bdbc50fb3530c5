"""The state of one emulator: the virtual clock, the request journal, the fault rules, each
vendor API's share of the account, and persistence of it all to one JSON state file.

Owns: `Store` and the `AccountPart` protocol a vendor API implements to keep state in it
(cleared on reset, moved along by the clock, saved into and loaded from the state file).
Vendor-neutral: it never names a vendor; `app.create_emulator` attaches the parts. Knows
nothing of HTTP: must not import starlette, uvicorn, httpx, any vendor package or anything of
the product.

Event loops and threads: the store holds no asyncio object (no lock, event or queue bound to a
loop), so any event loop may drive it: uvicorn's in `serve` or `running_emulator`, or a test's
own through `httpx.ASGITransport`. Every read or write of it happens in short synchronous
sections; whoever runs one holds `store.lock` (a re-entrant `threading.RLock`, never held
across an `await`), so two loops in two threads may even share one store.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

from reconciler_emulator.clock import VirtualClock, parse_iso
from reconciler_emulator.config import EmulatorConfig
from reconciler_emulator.faults import Faults
from reconciler_emulator.journal import Journal
from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem

STATE_FORMAT = 1


class AccountPart(Protocol):
    """One vendor API's share of the emulated account."""

    def clear(self) -> None:
        """Back to an empty account (an emulator reset)."""

    def advance(self, now: datetime, interval: float) -> None:
        """Play every event up to `now`; `interval` is seconds between two dialled calls."""

    def dump_into(self, state: dict[str, JSON]) -> None:
        """Add this part's top-level keys to the state file's object."""

    def load_from(self, state: Mapping[str, Any]) -> None:
        """Read this part's keys back from a state file's object."""


P = TypeVar("P", bound=AccountPart)


class Store:
    """Everything one emulator knows. Use it only while holding `lock`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = VirtualClock(config.start_time)
        self.journal = Journal()
        self.faults = Faults()
        self.parts: dict[str, AccountPart] = {}
        if config.faults:
            self.faults.set(list(config.faults))

    @property
    def now(self) -> datetime:
        return self.clock.now

    @property
    def interval(self) -> float:
        """Seconds between two calls a batch dials (`calls_per_minute`)."""
        return 60 / self.config.calls_per_minute

    # --- the vendor parts ---------------------------------------------------------------------

    def part(self, name: str, factory: Callable[[Store], P]) -> P:
        """The part called `name`, created by `factory` the first time (vendor APIs that share
        state, like Threetone's and ElevenLabs' batch calling, ask for the same name)."""
        found = self.parts.get(name)
        if found is None:
            found = self.parts[name] = factory(self)
        return cast(P, found)

    # --- clock, reset, persistence --------------------------------------------------------------

    def reset(self) -> None:
        """Empty account, clock back at the start, journal and faults cleared."""
        with self.lock:
            self.clock.rewind()
            for part in self.parts.values():
                part.clear()
            self.journal.clear()
            self.faults.clear()
            self.save()

    def advance(self, seconds: float) -> str:
        """Move the virtual clock and play every part's events up to the new time."""
        with self.lock:
            if seconds < 0:
                raise ApiProblem(400, {"seconds": ["The clock only moves forward."]})
            now = self.clock.advance(seconds)
            for part in self.parts.values():
                part.advance(now, self.interval)
            self.save()
            return self.clock.iso()

    def dump(self) -> dict[str, JSON]:
        """The whole account as the state file holds it (a copy)."""
        with self.lock:
            state: dict[str, JSON] = {"format": STATE_FORMAT, "now": self.clock.iso()}
            for part in self.parts.values():
                part.dump_into(state)
            return copy.deepcopy(state)

    def save(self) -> None:
        """Rewrite the state file, if there is one."""
        path = self.config.state_file
        if not path:
            return
        directory = os.path.dirname(os.path.abspath(path))
        text = json.dumps(self.dump(), indent=2, sort_keys=True)
        # Write-then-rename so a crash or a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(prefix=".emulator-state-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def restore(self) -> None:
        """Load the state file, if it exists and is not empty (once every part is attached)."""
        path = self.config.state_file
        if not path or not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if not text.strip():
            return
        data = json.loads(text)
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"{path}: unsupported emulator state format {data.get('format')!r}")
        with self.lock:
            self.clock.now = parse_iso(data["now"])
            for part in self.parts.values():
                part.load_from(data)
