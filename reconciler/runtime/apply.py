"""Apply: send a plan's requests, in order, with bounded concurrency.

Owns executing changes phase by phase (parents before children, deletions in reverse),
resolving `{ref:Kind/name}` ids created earlier in the same run and `{"$secret": NAME}` values
from the environment (secrets are never stored in a plan), reading back what was written,
and the report of what was done, what failed and what was not attempted.
Talks to the network only through the `Api` protocol; must not import httpx or deepdiff.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from reconciler.core.domain import JSON, Change, Plan, Request
from reconciler.core.errors import ConfigError, ReconcilerError
from reconciler.providers.base import Api, ResourceType

_REF = re.compile(r"\{ref:([^}]+)\}")


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    error: str | None = None
    warnings: tuple[str, ...] = ()
    sent: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)

    @property
    def failed(self) -> list[ChangeResult]:
        return [r for r in self.results if not r.ok]

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


async def apply_plan(
    plan: Plan,
    apis: Mapping[str, Api],
    types: Mapping[str, ResourceType],
    *,
    environ: Mapping[str, str],
    concurrency: int = 4,
    on_result: Callable[[ChangeResult], None] = lambda _: None,
) -> ApplyReport:
    """Run every change of `plan`; a failed phase stops the phases after it."""
    check_secrets(plan, environ)
    report = ApplyReport()
    refs: dict[str, str] = {}
    gate = asyncio.Semaphore(concurrency)

    async def run(change: Change) -> ChangeResult:
        async with gate:
            responses: list[JSON] = []
            try:
                for request in change.requests:
                    ready = Request(
                        request.method,
                        _resolve_refs(request.path, refs),
                        _resolve_secrets(_resolve_body_refs(request.body, refs), environ),
                    )
                    response = await apis[change.provider].send(ready)
                    responses.append(response)
                    if request.capture:
                        if not isinstance(response, dict) or request.capture not in response:
                            raise ReconcilerError(
                                f"{ready.method} {ready.path} succeeded, but its response has no "
                                f"{request.capture!r}, so {change.key} cannot be referred to"
                            )
                        refs[str(change.key)] = str(response[request.capture])
            except ReconcilerError as exc:
                result = ChangeResult(change, error=exc.render(), sent=len(responses))
            else:
                rt = types.get(change.key.kind)
                warnings = tuple(rt.verify(change, responses)) if rt else ()
                result = ChangeResult(change, warnings=warnings, sent=len(responses))
            on_result(result)
            return result

    phases = [list(group) for _, group in groupby(plan.changes, key=lambda c: c.order)]
    for index, phase in enumerate(phases):
        results = await asyncio.gather(*(run(change) for change in phase))
        report.results.extend(results)
        if any(not r.ok for r in results):
            report.not_attempted = [c for later in phases[index + 1 :] for c in later]
            break
    return report
