"""The one error tree of the tool.

Every error a user can meet derives from `ReconcilerError` and carries the exit code the CLI
uses for it. Only `reconciler.cli.errors` turns these into exits; everything else raises. This
module imports nothing from the rest of the package but `reconciler.core.wording` (counts in
messages; pure, imports nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.wording import count


class ReconcilerError(Exception):
    """Base of every user-facing error; `exit_code` is what the process exits with."""

    exit_code: int = 1

    def render(self) -> str:
        """The message as shown to a user (no traceback)."""
        return str(self)


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one manifest, pinned to a file and a line (0: the path itself, a file
    that cannot be read or a directory without manifests, shown without a line)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class ManifestError(ReconcilerError):
    """All problems found in the manifests of one run, reported together."""

    def __init__(self, diagnostics: list[Diagnostic], *, partial: object | None = None) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.message))
        self.partial = partial
        """What was made despite the problems (a resource with them), for the checks across
        documents to see, so their problems come in the same run; never applied."""
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def render(self) -> str:
        return f"{self}\n{count(len(self.diagnostics), 'error')} in manifests; nothing was sent."


class ConfigError(ReconcilerError):
    """Missing or invalid settings: API keys, base URLs, environment files, flags."""


class ApiError(ReconcilerError):
    """The vendor API answered with an error status. The server's message is kept verbatim."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        super().__init__(f"{method} {path} -> HTTP {status}: {message}")


class TransportError(ReconcilerError):
    """No answer from the API (connection refused, reset, timed out) after all retries."""

    def __init__(
        self,
        method: str,
        path: str,
        reason: str,
        *,
        ambiguous: bool = False,
        attempts: int = 1,
        url: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.reason = reason
        """The last attempt's cause (`ConnectError: ... (Connection refused)`)."""
        self.ambiguous = ambiguous
        """True when the request may have taken effect (a write that timed out after sending)."""
        self.attempts = attempts
        self.url = url or path
        """Where it went: the base URL and the path, no query, no key."""
        super().__init__(f"{method} {self.url} failed after {count(attempts, 'attempt')}: {reason}")


class PlanError(ReconcilerError):
    """The desired state cannot be reached safely (e.g. un-pausing a paused batch)."""


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches the live account; nothing was sent."""


class ApprovalError(ReconcilerError):
    """Apply needs a `yes` it could not get (declined, or no terminal to ask)."""


class ApplyError(ReconcilerError):
    """Some changes of an apply failed; the message says what was done and what was not."""
