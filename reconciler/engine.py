"""The pipeline, wired: manifests -> desired; client -> live; plan; stale check; apply.

Owns the order of the steps and which providers a run talks to, so the CLI stays a thin
shell over it. Opens API clients through `reconciler.client` (the only HTTP module); holds no
rendering and never exits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from reconciler import registry
from reconciler.apply import ApplyReport, ChangeResult, apply_plan
from reconciler.client import ApiClient, settings_from_env
from reconciler.domain import DesiredResource, LiveResource, Plan, ResourceKey
from reconciler.errors import StalePlanError
from reconciler.manifest import parse_manifests
from reconciler.plan import build_plan
from reconciler.providers.base import Api, PlanOptions, Provider


def load_desired(paths: Sequence[str], environ: Mapping[str, str]) -> list[DesiredResource]:
    """Parse and validate every manifest under `paths`; raises one ManifestError for all."""
    return parse_manifests(paths, registry.kinds(), environ)


@dataclass
class Session:
    """API clients for the providers a run needs, opened on first use."""

    environ: Mapping[str, str]
    concurrency: int = 8
    timeout: float = 30.0
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _clients: dict[str, Api] = field(default_factory=dict)

    async def __aenter__(self) -> Session:
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.__aexit__(None, None, None)

    async def api(self, provider: Provider) -> Api:
        if provider.name not in self._clients:
            base_url, key = settings_from_env(provider.settings, self.environ)
            client = ApiClient(
                provider.settings,
                base_url=base_url,
                api_key=key,
                concurrency=self.concurrency,
                timeout=self.timeout,
            )
            self._clients[provider.name] = await self._stack.enter_async_context(client)
        return self._clients[provider.name]


async def read_live(
    session: Session,
    providers: Sequence[Provider],
    desired: Sequence[DesiredResource],
    kinds: set[str],
) -> list[LiveResource]:
    """Every live object of `kinds` (and the kinds they refer to), read concurrently.

    Kinds of a provider are read in `order`, so a child kind (batches) finds its parents
    (agents) among what was already read instead of listing them again.
    """

    async def one(provider: Provider) -> list[LiveResource]:
        api = await session.api(provider)
        found: list[LiveResource] = []
        types = sorted(provider.resource_types, key=lambda rt: rt.order)
        needed = [rt for rt in types if rt.kind in kinds]
        if not needed:
            return found
        last = max(rt.order for rt in needed)
        for rt in types:
            if rt.order <= last:
                found += await rt.read(api, [d for d in desired if d.key.kind == rt.kind], found)
        return found

    batches = await asyncio.gather(*(one(p) for p in providers))
    return [item for batch in batches for item in batch]


def providers_for(kinds: set[str]) -> list[Provider]:
    return [p for p in registry.PROVIDERS if any(rt.kind in kinds for rt in p.resource_types)]


async def make_plan(
    session: Session, desired: Sequence[DesiredResource], options: PlanOptions
) -> Plan:
    kinds = {d.key.kind for d in desired}
    providers = providers_for(kinds)
    if options.prune:
        kinds |= {rt.kind for p in providers for rt in p.resource_types}
    live = await read_live(session, providers, desired, kinds)
    return build_plan(registry.resource_types(), desired, live, options)


async def collect_status(
    session: Session, desired: Sequence[DesiredResource]
) -> list[dict[str, Any]]:
    """Progress of every desired resource that reports one (campaigns), in manifest order."""
    kinds = {d.key.kind for d in desired}
    providers = providers_for(kinds)
    live = {item.key: item for item in await read_live(session, providers, desired, kinds)}
    types = registry.kinds()
    apis = {p.name: await session.api(p) for p in providers}
    reports = await asyncio.gather(
        *(
            types[d.key.kind].status(apis[d.provider], d, live.get(d.key))
            for d in desired
            if d.provider in apis
        )
    )
    return [r for r in reports if r is not None]


async def stale_reasons(session: Session, plan: Plan) -> list[str]:
    """How the live objects a saved plan read differ from now; empty when it is fresh."""
    kinds = {r.key.kind for r in plan.reads}
    live = await read_live(session, providers_for(kinds), [], kinds)
    now: dict[ResourceKey, LiveResource] = {item.key: item for item in live}
    reasons = []
    for read in plan.reads:
        current = now.get(read.key)
        if read.digest is None and current is not None:
            reasons.append(f"{read.key} now exists (id {current.id}); the plan would create it")
        elif read.digest is not None and current is None:
            reasons.append(f"{read.key} (id {read.id}) no longer exists")
        elif current is not None and (current.id != read.id or current.digest != read.digest):
            reasons.append(f"{read.key} (id {current.id}) changed since the plan was made")
    return reasons


async def run_apply(
    session: Session,
    plan: Plan,
    *,
    check_stale: bool,
    concurrency: int,
    on_result: Callable[[ChangeResult], None],
) -> ApplyReport:
    if check_stale:
        reasons = await stale_reasons(session, plan)
        if reasons:
            raise StalePlanError(
                "the saved plan is stale; nothing was sent:\n"
                + "\n".join(f"  - {r}" for r in reasons)
                + "\nRun `reconciler plan` again and review the new plan."
            )
    providers = {c.provider for c in plan.changes}
    apis = {p.name: await session.api(p) for p in registry.PROVIDERS if p.name in providers}
    return await apply_plan(
        plan,
        apis,
        registry.kinds(),
        environ=session.environ,
        concurrency=concurrency,
        on_result=on_result,
    )


def plan_options(prune: bool) -> PlanOptions:
    return PlanOptions(prune=prune)
