"""The pipeline, wired: manifests -> desired; client -> live; plan; stale check; apply.

Owns the order of the steps and which providers a run talks to, so the CLI stays a thin
shell over it. Opens API clients through `reconciler.runtime.client` (the only HTTP
module); holds no rendering and never exits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.core.domain import DesiredResource, LiveResource, Plan, ResourceKey
from reconciler.core.errors import PlanError, StalePlanError
from reconciler.core.planning import (
    PlanOptions,
    StateDifference,
    build_plan,
    compare_states,
    restrict,
)
from reconciler.manifests.environment import Environment, ProviderOverride, load_environment
from reconciler.manifests.loader import parse_manifests
from reconciler.providers import registry
from reconciler.providers.base import Api, Provider, ProviderSettings
from reconciler.runtime.apply import ApplyReport, ChangeResult, apply_plan
from reconciler.runtime.client import NO_HOOKS as NO_HOOKS
from reconciler.runtime.client import ApiClient, settings_from_env
from reconciler.runtime.client import ClientHooks as ClientHooks


@dataclass
class Session:
    """API clients for the providers a run needs, opened on first use."""

    environ: Mapping[str, str]
    concurrency: int = 8
    timeout: float = 30.0
    overrides: Mapping[str, ProviderOverride] = field(default_factory=dict)
    """Per provider name: what an environment file changes (base URL, key variable, ...)."""
    hooks: ClientHooks = NO_HOOKS
    """What the clients use instead of the network and `asyncio.sleep` (tests); none in
    production."""
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _clients: dict[str, Api] = field(default_factory=dict)
    _endpoints: dict[str, dict[str, str]] = field(default_factory=dict)

    async def __aenter__(self) -> Session:
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.__aexit__(None, None, None)

    def settings(self, provider: Provider) -> ProviderSettings:
        """The provider's settings with this run's environment overrides applied."""
        override = self.overrides.get(provider.name)
        return provider.settings.overridden(override) if override else provider.settings

    def all_settings(self) -> dict[str, ProviderSettings]:
        return {p.name: self.settings(p) for p in registry.PROVIDERS}

    def endpoints(self) -> dict[str, dict[str, str]]:
        """Where each opened client points: base URL and key variable (never the key)."""
        return {name: dict(values) for name, values in self._endpoints.items()}

    async def api(self, provider: Provider) -> Api:
        if provider.name not in self._clients:
            settings = self.settings(provider)
            override = self.overrides.get(provider.name)
            base_url, key = settings_from_env(
                settings, self.environ, base_url=override.base_url if override else None
            )
            self._endpoints[provider.name] = {
                "baseUrl": base_url,
                "apiKeyEnv": settings.api_key_env,
            }
            client = ApiClient(
                settings,
                base_url=base_url,
                api_key=key,
                concurrency=self.concurrency,
                timeout=self.timeout,
                **self.hooks.client_options(),
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
                mine = [d for d in desired if d.key.kind == rt.kind and d.provider == provider.name]
                found += await rt.read(api, mine, found)
        return found

    batches = await asyncio.gather(*(one(p) for p in providers))
    return [item for batch in batches for item in batch]


def providers_for(kinds: set[str], names: set[str] | None = None) -> list[Provider]:
    """Providers serving any of `kinds` (and, when given, named in `names`)."""
    return [
        p
        for p in registry.PROVIDERS
        if any(rt.kind in kinds for rt in p.resource_types) and (names is None or p.name in names)
    ]


async def make_plan(
    session: Session, desired: Sequence[DesiredResource], options: PlanOptions
) -> Plan:
    kinds = {d.key.kind for d in desired}
    providers = providers_for(kinds, {d.provider for d in desired})
    if options.prune:
        kinds |= {rt.kind for p in providers for rt in p.resource_types}
    live = await read_live(session, providers, desired, kinds)
    options = replace(
        options,
        path_prefixes={name: s.path_prefix for name, s in session.all_settings().items()},
    )
    return build_plan(registry.resource_types(), desired, live, options)


async def collect_status(
    session: Session, desired: Sequence[DesiredResource]
) -> list[dict[str, Any]]:
    """Progress of every desired resource that reports one (campaigns), in manifest order."""
    kinds = {d.key.kind for d in desired}
    providers = providers_for(kinds, {d.provider for d in desired})
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
    names = {r.provider for r in plan.reads}
    live = await read_live(session, providers_for(kinds, names), [], kinds)
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
                "the plan is stale: the live account changed since it was made; "
                "nothing was sent:\n"
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


@dataclass(frozen=True)
class Workspace:
    """What a command works on: manifest paths, the selected environment, the process env."""

    paths: tuple[str, ...]
    environ: Mapping[str, str]
    environment: Environment | None = None
    hooks: ClientHooks = NO_HOOKS
    """Passed to every session the workspace opens (see `Session.hooks`)."""

    @classmethod
    def open(
        cls,
        paths: Sequence[str],
        environ: Mapping[str, str],
        env_name: str | None,
        hooks: ClientHooks = NO_HOOKS,
    ) -> Workspace:
        environment = load_environment(paths, env_name) if env_name else None
        return cls(tuple(paths), environ, environment, hooks)

    @property
    def env_name(self) -> str | None:
        return self.environment.name if self.environment else None

    def desired(self, *, require_secrets: bool = True) -> list[DesiredResource]:
        return parse_manifests(
            self.paths,
            registry.kinds(),
            self.environ,
            self.environment,
            require_secrets=require_secrets,
        )

    def session(self, **options: Any) -> Session:
        overrides = self.environment.providers if self.environment else {}
        return Session(self.environ, overrides=overrides, hooks=self.hooks, **options)

    def required_name(self) -> str | None:
        return self.environment.requires if self.environment else None

    def required(self) -> Workspace | None:
        """The environment this one requires to be in sync first (`requires:`), if any."""
        if self.environment is None or not self.environment.requires:
            return None
        return Workspace.open(self.paths, self.environ, self.environment.requires, self.hooks)


async def plan_workspace(
    workspace: Workspace,
    desired: Sequence[DesiredResource],
    options: PlanOptions,
    targets: Sequence[ResourceKey] = (),
    session: Session | None = None,
) -> Plan:
    async def run(active: Session) -> Plan:
        plan = await make_plan(active, desired, options)
        if targets:
            plan = restrict(plan, targets, desired)
        return replace(plan, environment=workspace.env_name, endpoints=active.endpoints())

    if session is not None:
        return await run(session)
    async with workspace.session() as fresh:
        return await run(fresh)


async def promotion_gate(workspace: Workspace) -> None:
    """Refuse when the required environment's live account does not match the manifests."""
    required = workspace.required()
    if required is None:
        return
    pending = await plan_workspace(required, required.desired(), PlanOptions())
    if not pending.is_empty:
        names = ", ".join(str(c.key) for c in pending.changes)
        raise PlanError(
            f"environment {workspace.env_name!r} requires {required.env_name!r} to match the "
            f"manifests first, but {required.env_name!r} has pending changes ({names}); "
            f"apply there first (reconciler apply --env {required.env_name}). Nothing was sent."
        )


def saved_plan_session(plan: Plan, environ: Mapping[str, str], **options: Any) -> Session:
    """A session that talks to the accounts a saved plan was made against."""
    overrides = {
        name: ProviderOverride(baseUrl=values.get("baseUrl"), apiKeyEnv=values.get("apiKeyEnv"))
        for name, values in plan.endpoints.items()
    }
    return Session(environ, overrides=overrides, **options)


async def state_of(workspace: Workspace, live: bool) -> dict[ResourceKey, dict[str, Any]]:
    """A workspace's desired state, or (live) the account's objects of the manifests' kinds."""
    types = registry.kinds()
    desired = workspace.desired()
    if not live:
        return {d.key: types[d.key.kind].comparable(d) for d in desired}
    kinds = {d.key.kind for d in desired}
    async with workspace.session() as session:
        found = await read_live(session, providers_for(kinds), desired, kinds)
    return {item.key: types[item.key.kind].comparable(item) for item in found}


async def diff_environments(
    paths: Sequence[str],
    environ: Mapping[str, str],
    left: str,
    right: str,
    live: bool,
    hooks: ClientHooks = NO_HOOKS,
) -> list[StateDifference]:
    first = Workspace.open(paths, environ, left, hooks)
    second = Workspace.open(paths, environ, right, hooks)
    states = await asyncio.gather(state_of(first, live), state_of(second, live))
    return compare_states(registry.kinds(), states[0], states[1], (left, right))
