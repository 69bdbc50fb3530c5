"""The one fault mechanism of the emulator, for every vendor API alike.

Owns: `FaultRule` (what misbehaves and how), `Faults` (the armed rules, consumed one request at
a time), `parse_fault` (a rule as `PUT /_emulator/faults` and `EmulatorConfig.faults` take it),
`parse_fault_spec` (the command line's `STATUS:COUNT[:RETRY_AFTER]`) and `fault_answer` (the
answer a status fault gives). Two modes: "status" answers 429/500/502/503 and does nothing;
"accept_then_hang" performs the request and answers only after `seconds` (a write accepted,
then answered too late). `gateway.Traffic` applies them to Ultravox, Threetone and ElevenLabs
requests alike; no vendor API has its own copy. Pure: must not import starlette, uvicorn,
httpx, any vendor package or anything of the product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem

FAULT_STATUSES = (429, 500, 502, 503)
FAULT_MESSAGES: Mapping[int, str] = {
    429: "Request was throttled.",
    500: "A server error occurred.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable, try again later.",
}


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, {"detail": message})


def _type_name(value: JSON) -> str:
    return type(value).__name__ if value is not None else "NoneType"


@dataclass
class FaultRule:
    """The next `count` API requests matching `method`/`path_prefix` misbehave.

    mode "status": answered with `status` (429/500/502/503) and nothing is done.
    mode "accept_then_hang": performed normally, then answered only after `seconds`.
    """

    mode: str
    count: int
    status: int | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    method: str | None = None
    path_prefix: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.count <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, JSON]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def parse_fault(raw: JSON) -> FaultRule:
    """One fault rule from the admin API; raises ApiProblem (400) when malformed."""
    if not isinstance(raw, dict):
        raise _bad(f"A fault rule must be an object, got {_type_name(raw)}.")
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _bad("count must be a positive integer.")
    method = raw.get("method")
    if method is not None and not isinstance(method, str):
        raise _bad("method must be a string.")
    prefix = raw.get("path_prefix")
    if prefix is not None and not isinstance(prefix, str):
        raise _bad("path_prefix must be a string.")
    common: dict[str, Any] = {
        "count": count,
        "method": method.upper() if method else None,
        "path_prefix": prefix,
    }
    mode = raw.get("mode", "status")
    if mode == "accept_then_hang":
        seconds = raw.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise _bad("seconds must be a non-negative number.")
        return FaultRule(mode=mode, seconds=float(seconds), **common)
    if mode != "status":
        raise _bad(f"Unknown fault mode {mode!r}.")
    status = raw.get("status")
    if status not in FAULT_STATUSES:
        raise _bad(f"status must be one of {list(FAULT_STATUSES)}.")
    retry_after = raw.get("retry_after")
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, str | int)
    ):
        raise _bad("retry_after must be a string, an integer or null.")
    return FaultRule(
        mode=mode,
        status=status,
        retry_after=None if retry_after is None else str(retry_after),
        **common,
    )


def parse_fault_spec(spec: str) -> dict[str, JSON]:
    """`STATUS:COUNT[:RETRY_AFTER]` (the `--fault` option) as a rule for `parse_fault`;
    raises ValueError with the message to show."""
    parts = spec.split(":")
    try:
        status, count = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"{spec!r}: expected STATUS:COUNT[:RETRY_AFTER]") from None
    if status not in FAULT_STATUSES or count < 1 or len(parts) > 3:
        raise ValueError(f"{spec!r}: STATUS is 429, 500, 502 or 503; COUNT >= 1")
    rule: dict[str, JSON] = {"status": status, "count": count}
    if len(parts) == 3:
        rule["retry_after"] = parts[2]
    return rule


def fault_answer(rule: FaultRule) -> tuple[int, JSON, dict[str, str]]:
    """The answer of a "status" rule: (status, body, headers)."""
    assert rule.status is not None
    message = FAULT_MESSAGES[rule.status]
    headers: dict[str, str] = {}
    if rule.retry_after is not None:
        headers["Retry-After"] = rule.retry_after
        if rule.status == 429 and rule.retry_after.isdigit():
            message = f"Request was throttled. Expected available in {rule.retry_after} seconds."
    return rule.status, {"detail": message}, headers


class Faults:
    """The armed rules, in order; the first rule matching a request is used once."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def set(self, rules: JSON) -> list[dict[str, JSON]]:
        """Replace every rule (all or nothing: a malformed rule changes nothing)."""
        if not isinstance(rules, list):
            raise _bad("Expected a list of fault rules.")
        self.rules = [parse_fault(rule) for rule in rules]
        return self.to_json()

    def clear(self) -> None:
        self.rules.clear()

    def to_json(self) -> list[dict[str, JSON]]:
        return [rule.to_json() for rule in self.rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first armed rule matching this request, with one use consumed."""
        for rule in self.rules:
            if rule.matches(method, path):
                rule.count -= 1
                return rule
        return None
