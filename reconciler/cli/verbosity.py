"""What the command line logs, at each verbosity: the tool's own lines, never a library's.

Owns the handler of the `reconciler.http` loggers (`reconciler.runtime.client`), installed for
one command by its first run that can send a request (`activate`, from `common.run`: a command
that sends none, `validate`, imports no logging) and removed when the command ends:

* always: retries and what they wait for (`GET https://api.ultravox.ai/api/agents: 429,
  retrying in 2 s (1/5)`);
* `-v`: one line per request (method, URL, status, milliseconds, attempt);
* `-vv`: also the bodies sent and received, masked (the client masks them; the line goes to
  stderr, which `reconciler.cli.safety` masks again with the run's one redactor).

Nothing is configured on the root logger, so httpx's, httpcore's and asyncio's debug records
reach no handler at any verbosity. Must not import httpx or anything of the runtime.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from reconciler.core.masking import REDACTOR

if TYPE_CHECKING:
    import logging

HTTP = "reconciler.http"
BODIES = "reconciler.http.bodies"
_PENDING = "reconciler.verbosity"


def _stderr_handler() -> logging.Handler:
    import logging

    class _Stderr(logging.Handler):
        """Writes each record's message, masked, to the `sys.stderr` of the moment (the
        masking stream `safety.install` put there, or a test runner's)."""

        def emit(self, record: logging.LogRecord) -> None:
            try:
                sys.stderr.write(REDACTOR.text(record.getMessage()) + "\n")
            except Exception:  # logging must never end a run (as logging.Handler does)
                self.handleError(record)

    return _Stderr()


def install(ctx: click.Context, verbosity: int) -> None:
    """Log this command's HTTP lines at `verbosity` (0, 1 for -v, 2 or more for -vv), from
    its first run that can send a request (`activate`) until it ends."""
    ctx.meta[_PENDING] = (ctx, verbosity)


def activate() -> None:
    """Install the handler `install` asked for in the current command, once."""
    current = click.get_current_context(silent=True)
    pending = current.meta.pop(_PENDING, None) if current is not None else None
    if pending is None:
        return
    import logging

    ctx, verbosity = pending
    handler = _stderr_handler()
    http = logging.getLogger(HTTP)
    bodies = logging.getLogger(BODIES)
    previous = (http.level, http.propagate, bodies.level)
    http.setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    bodies.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    # Our lines go to our handler only: a root handler (an embedding program's) gets none.
    http.propagate = False
    http.addHandler(handler)

    def remove() -> None:
        http.removeHandler(handler)
        http.setLevel(previous[0])
        http.propagate = previous[1]
        bodies.setLevel(previous[2])

    ctx.call_on_close(remove)
