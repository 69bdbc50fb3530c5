"""What every command of the command line shares for safety: one masking pass over all it
prints, the operator's bounds and deadline, and the flags that set them.

Owns:
* `install`: the run's output streams (stdout, stderr, and so the log lines `-v` prints)
  go through `reconciler.core.masking.REDACTOR`, which masks every secret value the run met
  (API keys, secret variables' values, secrets the account returned) and every E.164-looking
  number in free text, whatever printed it: a plan, an error, a server's message verbatim;
* the group options `--timeout` (a deadline for the whole command), `--request-timeout` and
  `--allow-outside-files`, kept in the click context for the commands;
* `run`: a command's coroutine under the deadline, ending in a clear error when it passes.

Must not import httpx or deepdiff; knows nothing of the commands themselves.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from reconciler.core.errors import ReconcilerError
from reconciler.core.interpolate import VAR_PREFIX
from reconciler.core.limits import Limits
from reconciler.core.masking import REDACTOR

if TYPE_CHECKING:
    import logging

T = TypeVar("T")

SECRET_NAME = re.compile(r"API_KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
"""Process variables whose values are masked in all output from the start of a run."""

_META = "reconciler.safety"
_VERBOSE = "reconciler.verbose"


class DeadlineError(ReconcilerError):
    """The command's deadline (`--timeout`) passed."""


class RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines to `inner`, each through the run's redactor
    (a secret split across two writes is still one line when it is masked)."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self._pending = ""

    @property
    def inner(self) -> TextIO:
        return self._inner

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._inner, "errors", None)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(self._inner.isatty())

    def fileno(self) -> int:
        return self._inner.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("write() argument must be str")  # click probes for a text stream
        # The text up to its last newline is written with what was pending, the rest kept: a
        # plan's 26 MB ends in its newline, and is handed on as it is, not copied twice.
        cut = text.rfind("\n") + 1
        if not cut:
            self._pending += text
            return len(text)
        if self._pending:
            lines, self._pending = self._pending + text[:cut], text[cut:]
        else:
            lines, self._pending = (text, "") if cut == len(text) else (text[:cut], text[cut:])
        self._inner.write(REDACTOR.text(lines))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._inner.write(REDACTOR.text(self._pending))
            self._pending = ""
        self._inner.flush()


class RedactingFilter:
    """Log records with their message masked like everything else printed (a logging filter:
    an object with `filter`, so that defining it imports no logging)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR.text(record.getMessage())
        record.args = None
        return True


_FILTER = RedactingFilter()


def install(ctx: click.Context) -> None:
    """Mask everything this command prints, from now until its context closes. The redactor
    starts empty: secrets are this run's."""
    REDACTOR.clear()
    wrapped: list[tuple[str, TextIO]] = []
    for name in ("stdout", "stderr"):
        current = getattr(sys, name)
        if current is not None and not isinstance(current, RedactingStream):
            setattr(sys, name, RedactingStream(current))
            wrapped.append((name, current))

    def restore() -> None:
        for name, original in wrapped:
            stream = getattr(sys, name)
            if isinstance(stream, RedactingStream):
                stream.flush()
                setattr(sys, name, original)

    ctx.call_on_close(restore)


def options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The group's safety options (see the module docstring)."""
    func = click.option(
        "--allow-outside-files",
        is_flag=True,
        help="Let manifests name files outside their directory (absolute paths, .., "
        "symlinks out). Off by default: a pull request must not read the runner's files.",
    )(func)
    func = click.option(
        "--request-timeout",
        type=float,
        metavar="SECONDS",
        help=f"Seconds one HTTP request may take, sending to last byte (default "
        f"{Limits().request_timeout:g}; env {Limits.ENV['request_timeout']}).",
    )(func)
    func = click.option(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"Deadline for the whole command, 0 for none (default {Limits().deadline:g}; env "
        f"{Limits.ENV['deadline']}).",
    )(func)
    return func


def configure(
    ctx: click.Context,
    timeout: float | None,
    request_timeout: float | None,
    allow_outside_files: bool,
    *,
    verbose: bool = False,
    rate: float | None = None,
) -> None:
    """Keep the run's settings for its commands (`limits`, `allow_outside_files`)."""
    # A bad bound is a ConfigError, shown and turned into an exit code by the group
    # (reconciler.cli.errors), like every other error.
    limits = Limits.from_environ(os.environ).with_timeouts(timeout, request_timeout).with_rate(rate)
    ctx.meta[_META] = (limits, allow_outside_files, time.monotonic())
    ctx.meta[_VERBOSE] = verbose
    # Known before any of them is used: a message that quotes one (a server's, a library's,
    # even a bug's) is masked like everything else.
    REDACTOR.add(
        *(
            value
            for name, value in os.environ.items()
            if SECRET_NAME.search(name) and not name.startswith(VAR_PREFIX)
        )
    )


class InternalError(ReconcilerError):
    """An exception that is no user's error: a bug of the tool, shown in one line."""


def internal_error(error: Exception) -> InternalError:
    """One line for an unexpected exception (the traceback only with `-v`, on stderr)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_VERBOSE):
        import traceback  # a bug's report only: 6 M instructions no valid run pays

        traceback.print_exception(error, file=sys.stderr)
    detail = str(error).splitlines()[0] if str(error) else ""
    return InternalError(
        f"internal error ({type(error).__name__}{': ' + detail[:200] if detail else ''}); "
        "this is a bug in reconciler, please report it (-v shows the traceback). If it was "
        "applying, run `reconciler plan` to see what was done."
    )


def _settings() -> tuple[Limits, bool, float]:
    ctx = click.get_current_context(silent=True)
    found = ctx.meta.get(_META) if ctx is not None else None
    if found is None:
        return Limits.from_environ(os.environ), False, time.monotonic()
    settings: tuple[Limits, bool, float] = found
    return settings


def limits() -> Limits:
    """The operator's bounds for this command."""
    return _settings()[0]


def allow_outside_files() -> bool:
    return _settings()[1]


def filter_http_logs() -> None:
    """Mask the `reconciler.http` log records (kept for the process; adding it again is a no-op).
    Done by the first run that can send a request, not at start-up: `validate` imports no
    logging."""
    import logging

    logging.getLogger("reconciler.http").addFilter(_FILTER)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, ended with a `DeadlineError` when the command's deadline passes."""
    filter_http_logs()
    chosen, _, started = _settings()
    if not chosen.deadline:
        return _run_handing_back(coro)
    left = chosen.deadline - (time.monotonic() - started)

    import asyncio

    async def bounded() -> T:
        try:
            return await asyncio.wait_for(coro, max(left, 0.001))
        except TimeoutError:
            raise DeadlineError(
                f"the command did not finish within its deadline of {chosen.deadline:g} s "
                f"(--timeout, or {Limits.ENV['deadline']}); it was stopped. If it was applying, "
                "the changes reported above as ok were made and a request in flight may have "
                "taken effect: run `reconciler plan` to see what remains."
            ) from None

    return _run_handing_back(bounded())


def _run_handing_back(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, its result handed back outside the main task. asyncio.run takes
    its Ctrl-C handler back with `signal.signal`, which names the handler it replaces by
    formatting its repr: the handler holds the main task, the task's repr holds its result, and
    a plan of 100,000 recipients is a 30 MB repr (0.5 s of CPU, thrown away)."""
    result: list[T] = []

    import asyncio

    async def main() -> None:
        result.append(await coro)

    asyncio.run(main())
    return result[0]
