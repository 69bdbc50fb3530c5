"""Apply: send a plan's requests, in order, with bounded concurrency.

Owns executing changes phase by phase (parents before children, deletions in reverse),
resolving `{ref:Kind/name}` ids created earlier in the same run and `{"$secret": NAME}` values
from the environment (secrets are never stored in a plan), reading back what was written,
and the report of what was done, what failed, what may have taken effect and what was not
attempted.

Campaigns dial people, so a kind that `guards_writes` gets three more steps, for applies that
run at the same time (issue 10): right before its first write, the campaign is listed again
and the change is skipped, nothing sent, when it would now call someone twice
(`ResourceType.conflict`: another apply got there first); a request that creates a batch has
its start held back (`Hold`) by the server's clock, so no call starts for a short while; and
after such a write, the campaign is listed again and copies nobody was dialled from are
removed (`ResourceType.repair`: every process keeps the same one). A `Stop` (Ctrl-C,
SIGTERM) lets the changes in flight finish and starts no other. Talks to the network only
through the `Api` protocol; must not import httpx or deepdiff.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import groupby
from typing import Any

from reconciler.core.domain import JSON, Action, Change, Hold, LiveResource, Plan, Request
from reconciler.core.errors import (
    ApiError,
    ConfigError,
    PlanError,
    ReconcilerError,
    TransportError,
)
from reconciler.providers.base import Api, ResourceType, server_now

_REF = re.compile(r"\{ref:([^}]+)\}")


MAY_HAVE = "it may have taken effect; the next plan will tell"


class Outcome(StrEnum):
    """How a change ended, as the result line starts."""

    DONE = "ok"
    PARTIAL = "PARTIAL"
    """Some requests were sent, then one failed: what was sent took effect."""
    UNKNOWN = "UNKNOWN"
    """A write got no answer (or a gateway gave up on it): it may have taken effect."""
    FAILED = "FAILED"
    """Nothing took effect."""
    SKIPPED = "SKIPPED"
    """Not sent: the campaign is no longer what the plan read."""


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    error: str | None = None
    warnings: tuple[str, ...] = ()
    sent: int = 0
    uncertain: bool = False
    """The last write got no answer: it may have taken effect (`error` says which)."""
    skipped: str | None = None
    """Why nothing was sent: the campaign changed since the plan read it."""
    notes: tuple[str, ...] = ()
    """What apply found and did beyond the plan's requests (a copy it removed)."""
    in_flight: bool = False
    """It was under way when a stop was asked for (and was let finish)."""
    resource_id: str | None = None
    """The id of the object: the one a create made (from its response), else the one planned."""
    requests: tuple[str, ...] = ()
    """`METHOD path` of each request sent, references resolved (no body: it may hold secrets)."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None

    @property
    def outcome(self) -> Outcome:
        if self.skipped is not None:
            return Outcome.SKIPPED
        if self.error is None:
            return Outcome.DONE
        if self.uncertain:
            return Outcome.UNKNOWN
        return Outcome.PARTIAL if self.sent else Outcome.FAILED


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    stopped: str | None = None
    """What stopped the apply before it was through (`SIGINT`, `SIGTERM`), if anything."""

    @property
    def failed(self) -> list[ChangeResult]:
        """Every change that did not go as planned (failed, partly done, may have taken
        effect); skipped ones are `skipped`."""
        return [r for r in self.results if not r.ok and r.skipped is None]

    def having(self, outcome: Outcome) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def skipped(self) -> list[ChangeResult]:
        return self.having(Outcome.SKIPPED)

    @property
    def in_flight(self) -> list[ChangeResult]:
        """The changes under way when the stop came (each finished, one way or another)."""
        return [r for r in self.results if r.in_flight]

    @property
    def complete(self) -> bool:
        return all(r.ok for r in self.results) and not self.not_attempted and not self.stopped

    @property
    def done(self) -> list[ChangeResult]:
        return [r for r in self.results if r.ok]

    @property
    def warnings(self) -> list[str]:
        return [w for r in self.results for w in r.warnings]


def secret_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return {str(value["$secret"])}
        return set().union(*(secret_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(secret_names(v) for v in value)) if value else set()
    return set()


def check_secrets(plan: Plan, environ: Mapping[str, str]) -> None:
    """Every secret a plan needs must be in the environment before anything is sent."""
    needed = set().union(*(secret_names(r.body) for c in plan.changes for r in c.requests))
    missing = sorted(name for name in needed if not environ.get(name))
    if missing:
        raise ConfigError(
            "the plan needs secrets that are not set in the environment: "
            + ", ".join(f"${name}" for name in missing)
            + "; nothing was sent"
        )


def _resolve_secrets(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return environ[str(value["$secret"])]
        return {k: _resolve_secrets(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, environ) for v in value]
    return value


def _resolve_refs(text: str, refs: Mapping[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in refs:
            raise ReconcilerError(f"{name} was not created in this run, so its id is unknown")
        return refs[name]

    return _REF.sub(sub, text)


def _resolve_body_refs(value: Any, refs: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _resolve_refs(value, refs) if "{ref:" in value else value
    if isinstance(value, dict):
        return {k: _resolve_body_refs(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_body_refs(v, refs) for v in value]
    return value


def _result_id(change: Change, refs: Mapping[str, str]) -> str | None:
    """A create's (or replace's) new id when it made one; else the id the plan named."""
    made = refs.get(str(change.key))
    if made is not None and change.action in (Action.CREATE, Action.REPLACE):
        return made
    return change.resource_id or made


@dataclass
class Stop:
    """Asked for by a signal handler: no change starts after it; those in flight finish."""

    reason: str | None = None

    def request(self, reason: str) -> None:
        self.reason = self.reason or reason


def held_body(body: JSON, hold: Hold, now: datetime) -> JSON:
    """`body` with its start (`hold.field`) no earlier than `hold.seconds` after `now` (the
    server's clock; a second more, as a `Date` answer counts whole seconds)."""
    if not isinstance(body, dict):
        return body
    earliest = now + timedelta(seconds=hold.seconds + 1)
    current = body.get(hold.field)
    if hold.unix:
        at_least = math.ceil(earliest.timestamp())
        if isinstance(current, int) and not isinstance(current, bool) and current >= at_least:
            return body
        return {**body, hold.field: at_least}
    if isinstance(current, str):
        try:
            if datetime.fromisoformat(current.replace("Z", "+00:00")) >= earliest:
                return body
        except ValueError:
            return body  # not a time: the server says what is wrong with it
    whole = earliest.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    return {**body, hold.field: whole.strftime("%Y-%m-%dT%H:%M:%SZ")}


GATEWAY_STATUSES = frozenset({502, 504})
"""A proxy's answer that the server behind it did not give in time: it may still have done
the write (a 500 is the server's own failure, and a 503 says it did nothing)."""


def _may_have_taken_effect(error: ReconcilerError, request: Request) -> bool:
    """A write with no answer, or one a gateway gave up on: the server may have done it."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if isinstance(error, TransportError):
        return error.ambiguous
    return isinstance(error, ApiError) and error.status in GATEWAY_STATUSES


def _partly(change: Change, sent: list[Request], uncertain: bool) -> str:
    """What a change that failed midway did before, and what that leaves."""
    done = ", ".join(f"{r.method} {r.path}" for r in sent)
    if change.action is not Action.REPLACE:
        return f"; before it, {done} took effect"
    absent = (
        f"unless that submit took effect, {change.key} is absent"
        if uncertain
        else f"{change.key} is absent"
    )
    return (
        f"; halfway: {done} took effect (the old batch removed), so {absent} until the next "
        "apply (run `reconciler plan`, then apply)"
    )


async def apply_plan(
    plan: Plan,
    apis: Mapping[str, Api],
    types: Mapping[str, ResourceType],
    *,
    environ: Mapping[str, str],
    concurrency: int = 4,
    on_result: Callable[[ChangeResult], None] = lambda _: None,
    stop: Stop | None = None,
) -> ApplyReport:
    """Run every change of `plan`; a failed phase stops the phases after it, and so does a
    `stop` (the changes in flight finish first)."""
    import asyncio

    check_secrets(plan, environ)
    report = ApplyReport()
    refs: dict[str, str] = {}
    gate = asyncio.Semaphore(concurrency)
    stop = stop or Stop()
    not_started: list[Change] = []

    def resolved(request: Request) -> Request:
        return Request(
            request.method,
            _resolve_refs(request.path, refs),
            _resolve_secrets(_resolve_body_refs(request.body, refs), environ),
            request.description,
            request.capture,
            request.hold,
        )

    async def run(change: Change) -> ChangeResult | None:
        async with gate:
            if stop.reason is not None:
                not_started.append(change)
                return None
            result = await _run_change(change, apis[change.provider], types, resolved, refs)
            if stop.reason is not None:
                result = replace(result, in_flight=True)
            on_result(result)
            return result

    phases = [list(group) for _, group in groupby(plan.changes, key=lambda c: c.order)]
    for index, phase in enumerate(phases):
        results = [r for r in await asyncio.gather(*(run(c) for c in phase)) if r is not None]
        report.results.extend(results)
        if stop.reason is not None or any(not r.ok for r in results):
            later = [c for after in phases[index + 1 :] for c in after]
            report.not_attempted = [*not_started, *later]
            break
    report.stopped = stop.reason
    return report


async def _run_change(
    change: Change,
    api: Api,
    types: Mapping[str, ResourceType],
    resolved: Callable[[Request], Request],
    refs: dict[str, str],
) -> ChangeResult:
    """One change: its requests in order, guarded for a campaign kind (see the module)."""
    rt = types.get(change.key.kind)
    guarded = rt is not None and rt.guards_writes
    responses: list[JSON] = []
    sent: list[Request] = []
    ready_change = change
    if rt is not None and guarded:
        try:
            # A campaign's paths name ids of earlier phases only (its agent).
            ready_change = replace(change, requests=tuple(resolved(r) for r in change.requests))
            skipped = await _changed_since(rt, api, ready_change)
        except ReconcilerError as exc:
            return ChangeResult(change, error=exc.render())
        if skipped is not None:
            return ChangeResult(change, skipped=skipped)
    error: str | None = None
    uncertain = False
    wrote_batch = False
    for request in change.requests:
        try:
            ready = resolved(request)
        except ReconcilerError as exc:
            error = exc.render() + (_partly(change, sent, False) if sent else "")
            break
        if ready.hold is not None:
            ready = replace(ready, body=held_body(ready.body, ready.hold, _clock(api)))
        creates = rt is not None and guarded and rt.creates_batch(ready)
        try:
            response = await api.send(ready)
        except ReconcilerError as exc:
            uncertain = _may_have_taken_effect(exc, ready)
            wrote_batch = wrote_batch or (creates and uncertain)
            error = exc.render() + (f": {MAY_HAVE}" if uncertain else "")
            if sent:
                error += _partly(change, sent, uncertain)
            break
        wrote_batch = wrote_batch or creates
        responses.append(response)
        sent.append(ready)
        if request.capture:
            if not isinstance(response, dict) or request.capture not in response:
                error = (
                    f"{ready.method} {ready.path} succeeded, but its response has no "
                    f"{request.capture!r}, so {change.key} cannot be referred to"
                )
                break
            refs[str(change.key)] = str(response[request.capture])
    notes: tuple[str, ...] = ()
    if rt is not None and wrote_batch:
        notes, problem, there = await _settle(rt, api, ready_change)
        if problem is not None:
            error = f"{error}; {problem}" if error else problem
        if uncertain and there and change.action is Action.CREATE:
            # The answer was lost, but the campaign is there: the write took effect.
            error, uncertain = None, False
            notes = ("the answer to the submit was lost, but the batch is there", *notes)
    shown = tuple(f"{r.method} {r.path}" for r in sent)
    if error is not None:
        return ChangeResult(
            change,
            error=error,
            sent=len(sent),
            uncertain=uncertain,
            notes=notes,
            resource_id=_result_id(change, refs),
            requests=shown,
        )
    warnings = tuple(rt.verify(change, responses)) if rt else ()
    return ChangeResult(
        change,
        warnings=warnings,
        sent=len(sent),
        notes=notes,
        resource_id=_result_id(change, refs),
        requests=shown,
    )


def _clock(api: Api) -> datetime:
    """Now on the server's clock (its latest `Date`, read right before), else this host's."""
    return server_now(api) or datetime.now(UTC)


async def _changed_since(rt: ResourceType, api: Api, change: Change) -> str | None:
    """Why `change` must not be sent, the campaign listed again now (None: it may be).

    Not "anything changed": calls progress all the time in a running campaign. What the kind
    says would make the change call someone twice (`ResourceType.conflict`): its recipients
    already in a live batch, a batch it replaces started meanwhile."""
    fresh = await rt.reread(api, change)
    reason = rt.conflict(fresh, change)
    if reason is None:
        return None
    return (
        f"{change.key}: {reason} since the plan read the account; another apply may be "
        "running. Nothing was sent for it; run `reconciler plan` to see what remains"
    )


async def _copies_gone(rt: ResourceType, api: Api, change: Change) -> bool:
    """Whether, listed once more, the campaign has no copy left to remove."""
    try:
        fresh = await rt.reread(api, change, settling=True)
        return fresh is None or rt.repair(fresh, change) is None
    except ReconcilerError:
        return False


async def _settle(
    rt: ResourceType, api: Api, change: Change
) -> tuple[tuple[str, ...], str | None, bool]:
    """After a write that created (or may have created) a batch: list the campaign again and
    remove the copies nobody was dialled from (an apply running at the same time made one).

    Returns (notes, a problem, whether the campaign is there now)."""
    try:
        fresh: LiveResource | None = await rt.reread(api, change, settling=True)
    except ReconcilerError as exc:
        return (), f"listing it again after the write failed ({exc.render()}): {MAY_HAVE}", False
    if fresh is None:
        return (), None, False
    try:
        repair = rt.repair(fresh, change)
    except PlanError as stuck:
        return (), str(stuck), True
    if repair is None:
        return (), None, True
    problems: list[str] = []
    for request in repair.requests:
        try:
            await api.send(request)
        except ApiError as exc:
            if exc.status != 404:  # 404: an apply running at the same time removed it first
                problems.append(exc.render())
        except ReconcilerError as exc:
            problems.append(exc.render())
    notes = tuple(f"an apply running at the same time made a copy; {note}" for note in repair.notes)
    if problems and await _copies_gone(rt, api, change):
        problems = []  # the other apply removed them first (a cancel of a cancelled batch)
    if problems:
        return (
            notes,
            (
                "a copy could not be removed ("
                + "; ".join(problems)
                + "); the next plan removes it "
                "while nobody has been dialled from it"
            ),
            True,
        )
    return notes, None, True
