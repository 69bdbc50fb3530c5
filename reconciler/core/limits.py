"""The bounds every run keeps, so no input and no server answer can make it hang or exhaust memory.

Owns the defaults (`Limits`), the process variables that override them (`RECONCILER_MAX_*`,
documented in the README's "Security" section) and reading those from a given mapping. The
limits are the operator's: they come from the process environment or the command line, never
from a file under the manifests. Pure: the caller passes the environment in; imports nothing
from the package but the error tree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.errors import ConfigError

MAX_BODY_CHARS = 1200
"""Where `--compact` cuts a request body in a text plan (here, not in the renderer: the flag's
help text says it, and `validate` does not import the renderer)."""


@dataclass(frozen=True)
class Limits:
    """Every bound, with its default. `ENV` names the variable that overrides each."""

    max_file_bytes: int = 10 * 1024 * 1024
    """Size of one file read: a manifest, an environment file, a recipients file, a saved plan."""
    max_yaml_alias_nodes: int = 10_000
    """YAML nodes one file may reach through aliases (`*name`): an alias bomb stops here."""
    max_depth: int = 64
    """Nesting of a YAML document, a saved plan, or a JSON answer of the API."""
    max_response_bytes: int = 32 * 1024 * 1024
    """One API answer, as received (compressed) and once decoded: a gzip bomb stops here."""
    max_pages: int = 1_000
    """Pages of one list: a server handing out fresh cursors forever stops here."""
    request_timeout: float = 30.0
    """Seconds one HTTP request may take from sending to the last byte of its answer."""
    deadline: float = 900.0
    """Seconds a whole command may take (`--timeout`); 0 means no deadline."""
    campaign_hold: float = 60.0
    """Seconds after a call batch is submitted before any of its calls may start, so that
    applies running at the same time can remove each other's copies first; 0 turns it off."""
    rate: float = 0.0
    """Requests per second one API client may start, across all its workers and retries
    included (`--rate`); 0 means no cap."""

    ENV = {
        "max_file_bytes": "RECONCILER_MAX_FILE_BYTES",
        "max_yaml_alias_nodes": "RECONCILER_MAX_YAML_ALIAS_NODES",
        "max_depth": "RECONCILER_MAX_DEPTH",
        "max_response_bytes": "RECONCILER_MAX_RESPONSE_BYTES",
        "max_pages": "RECONCILER_MAX_PAGES",
        "request_timeout": "RECONCILER_REQUEST_TIMEOUT",
        "deadline": "RECONCILER_TIMEOUT",
        "campaign_hold": "RECONCILER_CAMPAIGN_HOLD",
        "rate": "RECONCILER_RATE",
    }

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Limits:
        """The defaults, with what the process variables in `ENV` override."""
        values: dict[str, Any] = {}
        for name, variable in cls.ENV.items():
            text = environ.get(variable, "").strip()
            if text:
                values[name] = _parse(variable, text, integer=name.startswith("max_"))
        return dataclasses.replace(cls(), **values)

    def with_timeouts(self, deadline: float | None, request_timeout: float | None) -> Limits:
        """These limits with the command line's `--timeout` / `--request-timeout`, when given."""
        changed: dict[str, Any] = {}
        if deadline is not None:
            changed["deadline"] = _non_negative("--timeout", deadline)
        if request_timeout is not None:
            changed["request_timeout"] = _positive("--request-timeout", request_timeout)
        return dataclasses.replace(self, **changed) if changed else self

    def with_rate(self, rate: float | None) -> Limits:
        """These limits with the command line's `--rate`, when given."""
        if rate is None:
            return self
        return dataclasses.replace(self, rate=_rate("--rate", rate))


DEFAULTS = Limits()

MAX_HOLD = 3600.0
"""The longest hold of a new call batch (`Limits.campaign_hold`): a start up to this long
after a batch's creation, later than its manifest asks, is the hold's doing, not a change."""


def _parse(variable: str, text: str, *, integer: bool) -> float | int:
    try:
        value: float | int = int(text) if integer else float(text)
    except ValueError:
        kind = (
            "a whole number"
            if integer
            else "a number of requests per second"
            if variable == Limits.ENV["rate"]
            else "a number of seconds"
        )
        raise ConfigError(f"{variable} must be {kind}, not {text!r}") from None
    if variable == Limits.ENV["deadline"]:
        return _non_negative(variable, value)
    if variable == Limits.ENV["campaign_hold"]:
        if not 0 <= value <= MAX_HOLD:
            raise ConfigError(
                f"{variable} must be 0 (no hold) to {MAX_HOLD:g} seconds, not {value!r}"
            )
        return value
    if variable == Limits.ENV["rate"]:
        return _rate(variable, value)
    return _positive(variable, value)


def _positive(source: str, value: float) -> float:
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{source} must be a positive number, not {value!r}")
    return value


def _rate(source: str, value: float) -> float:
    if not value >= 0 or value == float("inf"):
        raise ConfigError(
            f"{source} must be 0 (no cap) or a positive number of requests per second, "
            f"not {value!r}"
        )
    return value


def _non_negative(source: str, value: float) -> float:
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{source} must be 0 (no deadline) or a positive number, not {value!r}")
    return value
