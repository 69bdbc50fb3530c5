"""The pipeline, wired: manifests -> desired; client -> live; plan; stale check; apply.

Owns the order of the steps and which providers a run talks to, so the CLI stays a thin
shell over it. Opens API clients through `reconciler.runtime.client` (the only HTTP
module); holds no rendering and never exits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reconciler.core import fieldpaths
from reconciler.core.domain import JSON, DesiredResource, LiveResource, ResourceKey
from reconciler.core.errors import (
    ApiError,
    ConfigError,
    PlanError,
    ReconcilerError,
    StalePlanError,
)
from reconciler.core.limits import DEFAULTS, Limits
from reconciler.core.masking import REDACTOR
from reconciler.core.normalize import Forms, NormalizationTable
from reconciler.core.origins import check_file_base_url
from reconciler.core.ownership import (
    Ownership,
    document_text,
    suggested_claims,
    suggested_name,
)
from reconciler.core.wording import count
from reconciler.manifests.environment import Environment, ProviderOverride, load_environment
from reconciler.manifests.loader import Manifests, load_manifests
from reconciler.providers import registry
from reconciler.providers.base import Api, Provider, ProviderSettings, load_type, server_now

if TYPE_CHECKING:
    from concurrent.futures import Future

    # Types only, and the planning imported by the functions that plan: validate makes no
    # plan, and would create the plan's classes with them (see `reconciler.core.changes`).
    from reconciler.core.domain import Plan, Request
    from reconciler.core.planning import PlanOptions, StateDifference
    from reconciler.runtime.apply import ApplyReport, ChangeResult, Stop
    from reconciler.runtime.client import NO_HOOKS as NO_HOOKS
    from reconciler.runtime.client import ApiClient
    from reconciler.runtime.client import ClientHooks as ClientHooks
else:

    def __getattr__(name: str) -> Any:
        # The client, and httpx with it (a tenth of a second of start-up), is imported by the
        # first command that opens a session, not by `validate` (a pre-commit hook).
        if name in ("ClientHooks", "NO_HOOKS"):
            from reconciler.runtime import client

            return getattr(client, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _no_hooks() -> ClientHooks:
    from reconciler.runtime.client import NO_HOOKS

    return NO_HOOKS


@dataclass
class Session:
    """API clients for the providers a run needs, opened on first use."""

    environ: Mapping[str, str]
    concurrency: int = 8
    timeout: float = 30.0
    overrides: Mapping[str, ProviderOverride] = field(default_factory=dict)
    """Per provider name: what an environment file changes (base URL, key variable, ...)."""
    hooks: ClientHooks = field(default_factory=_no_hooks)
    """What the clients use instead of the network and `asyncio.sleep` (tests); none in
    production."""
    limits: Limits = DEFAULTS
    """Bounds of every client (response size, pages per list)."""
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

    def clocks(self) -> dict[str, datetime]:
        """Per opened provider, the time on its server's clock (its latest `Date` answer)."""
        found = {name: server_now(api) for name, api in self._clients.items()}
        return {name: moment for name, moment in found.items() if moment is not None}

    def endpoints(self) -> dict[str, dict[str, str]]:
        """Where each opened client points: base URL and key variable (never the key)."""
        return {name: dict(values) for name, values in self._endpoints.items()}

    async def api(self, provider: Provider) -> Api:
        if provider.name not in self._clients:
            settings = self.settings(provider)
            override = self.overrides.get(provider.name)
            if override is not None and override.base_url:
                # From a file (an environment file, a saved plan): the key goes there only
                # where the operator allows it.
                check_file_base_url(
                    override.base_url,
                    trusted=trusted_base_urls(provider, self.environ),
                    environ=self.environ,
                    where=f"providers.{provider.name}.baseUrl",
                )
            from reconciler.runtime.client import ApiClient, settings_from_env

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
                limits=self.limits,
                **self.hooks.client_options(),
            )
            self._clients[provider.name] = await self._stack.enter_async_context(client)
        return self._clients[provider.name]


def trusted_base_urls(provider: Provider, environ: Mapping[str, str]) -> list[str]:
    """Base URLs a file may name for `provider` without the operator's allow-list: the
    vendor's default and the one the operator set in the process environment."""
    own = environ.get(provider.settings.base_url_env, "").strip()
    return [provider.settings.default_base_url, *([own] if own else [])]


def api_key_variables(environment: Environment | None) -> frozenset[str]:
    """The variables holding the providers' API keys (defaults and this environment's): no
    manifest field may read them."""
    names = {p.settings.api_key_env for p in registry.PROVIDERS}
    if environment is not None:
        names |= {o.apiKeyEnv for o in environment.providers.values() if o.apiKeyEnv}
    return frozenset(names)


def check_environment_endpoints(environment: Environment, environ: Mapping[str, str]) -> None:
    """Every `baseUrl` of an environment file, checked before anything is read or sent."""
    for name, override in environment.providers.items():
        if override.base_url:
            check_file_base_url(
                override.base_url,
                trusted=trusted_base_urls(registry.provider(name), environ),
                environ=environ,
                where=f"{environment.where(name)}: providers.{name}.baseUrl",
            )


async def read_live(
    session: Session,
    providers: Sequence[Provider],
    desired: Sequence[DesiredResource],
    kinds: set[str],
    ahead: Ahead | None = None,
) -> list[LiveResource]:
    """Every live object of `kinds` (and the kinds they refer to), read concurrently.

    Kinds of a provider are read in `order`, so a child kind (batches) finds its parents
    (agents) among what was already read instead of listing them again. With `ahead`, the
    pages of a kind that `normalizes_ahead` are normalized as they come.
    """
    import asyncio

    async def one(provider: Provider) -> list[LiveResource]:
        api: Api = await session.api(provider)
        found: list[LiveResource] = []
        # A provider declares its kinds in their `order` (a test holds every provider to it):
        # the kinds after the last one needed are not even imported (a plan of agents
        # imports no campaign code).
        declared = [kind for kind, _ in provider.types]
        needed = [i for i, kind in enumerate(declared) if kind in kinds]
        if not needed:
            return found
        for _, where in provider.types[: max(needed) + 1]:
            rt = load_type(where)
            mine = [d for d in desired if d.key.kind == rt.kind and d.provider == provider.name]
            reader = api
            if ahead is not None and rt.normalizes_ahead:
                reader = ahead.reader(api, rt.comparison_table(provider.name), rt.table.sensitive)
            read = await _read_kind(rt, reader, mine, found, provider.name)
            secrets = reader.secrets if isinstance(reader, _PageNormalizing) else None
            if secrets is None:
                _remember_live_secrets(rt, read)
            else:
                # Found by the thread, page by page; the masking is changed here only.
                for value in secrets:
                    REDACTOR.add_json(value)
            found += read
        return found

    batches = await asyncio.gather(*(one(p) for p in providers))
    return [item for batch in batches for item in batch]


async def _read_kind(
    rt: Any, api: Api, desired: list[DesiredResource], known: list[LiveResource], provider: str
) -> list[LiveResource]:
    """A kind's live objects; an answer of a shape the kind cannot read (a `null` item, an
    object without its id) is an error naming the kind, never a traceback."""
    try:
        found: list[LiveResource] = await rt.read(api, desired, known)
    except ReconcilerError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise ApiError(
            "GET",
            f"({provider} {rt.kind} list)",
            200,
            f"the API answered with data of an unexpected shape ({type(exc).__name__}: {exc})",
        ) from None
    return found


def _remember_live_secrets(rt: Any, found: Sequence[LiveResource]) -> None:
    """Secrets the account returned (a webhook secret the server chose) are masked in every
    output, like the ones the manifests name."""
    for pattern in rt.table.sensitive:
        parsed = fieldpaths.parse(pattern)
        for item in found:
            for path in fieldpaths.expand(item.body, parsed):
                REDACTOR.add_json(fieldpaths.get(item.body, path))


class Ahead:
    """Work done in a worker thread while a plan's reads wait for the network (issue 14: the
    10 pages of 1,000 agents are half a second of waiting). The event loop only hands work
    over; the thread normalizes the desired specs (`expect`), turns each page into live
    resources (`read_list`), normalizes them and compares each with the desired resource of
    its key, into `forms`, which planning reads once it has finished (leaving the `with`
    block waits for it). Anything it cannot normalize or compare is left to planning, which
    does it again and reports its problem where it always did; a page it cannot convert
    raises where the conversion always did, after the list is read."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.forms = Forms()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="reconciler-normalize")
        self._expected: dict[ResourceKey, tuple[DesiredResource, NormalizationTable]] = {}
        self._waiting: list[tuple[Mapping[str, Any], NormalizationTable]] = []

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.start()
        self._pool.shutdown(wait=True, cancel_futures=exc[0] is not None)

    def expect(self, desired: Iterable[tuple[DesiredResource, NormalizationTable]]) -> None:
        """Desired resources to normalize, each with its comparison table. The thread starts
        on them with the first page (`start`): before it is in, the thread would only slow
        the first request, while the network wait after it is idle."""
        for resource, table in desired:
            self._expected[resource.key] = (resource, table)
            self._waiting.append((resource.spec, table))

    def start(self) -> None:
        """Hand the desired side to the thread, once (before any page's work)."""
        if self._waiting:
            work, self._waiting = self._waiting, []
            self._pool.submit(self._run, work)

    def normalize(self, work: Iterable[tuple[Mapping[str, Any], NormalizationTable]]) -> None:
        self.start()
        self._pool.submit(self._run, list(work))

    def reader(self, api: Api, table: NormalizationTable, sensitive: Sequence[str] = ()) -> Api:
        """`api` whose lists hand each page to this thread (a client with `on_page`);
        `sensitive`: the patterns of the kind's secret fields (`_remember_live_secrets`)."""
        from reconciler.runtime.client import ApiClient

        if not isinstance(api, ApiClient):
            return api
        return _PageNormalizing(api, self, table, tuple(map(fieldpaths.parse, sensitive)))

    def _run(self, work: list[tuple[Mapping[str, Any], NormalizationTable]]) -> None:
        for body, table in work:
            try:
                self.forms.add(body, table)
            except Exception:
                continue  # planning normalizes it again, and says what is wrong with it

    def page(
        self,
        convert: Callable[[JSON], LiveResource],
        items: list[JSON],
        table: NormalizationTable,
        sensitive: Sequence[fieldpaths.Path],
    ) -> Future[tuple[list[LiveResource], list[Any]]]:
        """Hand a page to the thread (after the desired side): see `_page`."""
        self.start()
        return self._pool.submit(self._page, convert, items, table, sensitive)

    def _page(
        self,
        convert: Callable[[JSON], LiveResource],
        items: list[JSON],
        table: NormalizationTable,
        sensitive: Sequence[fieldpaths.Path],
    ) -> tuple[list[LiveResource], list[Any]]:
        """A page's live resources (in the thread), each compared with the desired one of its
        key, and the secret values they hold (added to the masking by the event loop)."""
        from reconciler.core.planning import compare

        found = [convert(item) for item in items]
        secrets = [
            fieldpaths.get(item.body, path)
            for pattern in sensitive
            for item in found
            for path in fieldpaths.expand(item.body, pattern)
        ]
        for live in found:
            try:
                self.forms.add(live.body, table)
            except Exception:
                continue  # planning normalizes it again, and says what is wrong with it
            expected = self._expected.get(live.key)
            if expected is None or expected[1] is not table:
                continue
            try:
                result = compare(expected[0], live, table, self.forms)
            except Exception:
                continue  # planning compares them again, and says what is wrong
            self.forms.add_comparison(expected[0], live, table, result)
            # What is compared needs no live form any more, nor a desired one that matches
            # (planning uses it only for a change): a 10,000-agent plan holds less.
            self.forms.forget(live.body, table)
            if not result:
                self.forms.forget(expected[0].spec, table)
        return found, secrets


@dataclass
class _PageNormalizing:
    """An `ApiClient` whose lists give every page to `ahead`'s thread as it comes."""

    client: ApiClient
    ahead: Ahead
    table: NormalizationTable
    sensitive: tuple[fieldpaths.Path, ...]
    settings: ProviderSettings = field(init=False)
    secrets: list[Any] | None = field(init=False, default=None)
    """The secret values of the live resources `convert_pages` read (None before it ran)."""

    def __post_init__(self) -> None:
        self.settings = self.client.settings

    def _normalize(self, items: list[JSON]) -> None:
        self.ahead.normalize((item, self.table) for item in items)

    async def list_all(self, path: str, params: Mapping[str, str] | None = None) -> list[JSON]:
        return await self.client.list_all(path, params, on_page=self._normalize)

    async def convert_pages(
        self, path: str, convert: Callable[[JSON], LiveResource]
    ) -> list[LiveResource]:
        """The list at `path`, each page converted, normalized and compared in the thread
        while the next is read (`reconciler.providers.base.read_list`)."""
        import asyncio

        pages: list[asyncio.Future[tuple[list[LiveResource], list[Any]]]] = []

        def on_page(items: list[JSON]) -> None:
            done = self.ahead.page(convert, items, self.table, self.sensitive)
            pages.append(asyncio.wrap_future(done))

        await self.client.list_all(path, on_page=on_page)
        found: list[LiveResource] = []
        secrets: list[Any] = []
        for page in pages:
            resources, values = await page
            found += resources
            secrets += values
        self.secrets = secrets
        return found

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        return await self.client.get(path, params)

    async def send(self, request: Request) -> JSON:
        return await self.client.send(request)


def providers_for(kinds: set[str], names: set[str] | None = None) -> list[Provider]:
    """Providers serving any of `kinds` (and, when given, named in `names`)."""
    return [
        p
        for p in registry.PROVIDERS
        if any(kind in kinds for kind in p.kinds) and (names is None or p.name in names)
    ]


async def make_plan(
    session: Session, desired: Sequence[DesiredResource], options: PlanOptions
) -> Plan:
    kinds = {d.key.kind for d in desired}
    providers = providers_for(kinds, {d.provider for d in desired})
    if options.prune and options.ownership is not None:
        # What the manifests own may sit with a provider they no longer use (the last
        # campaign taken out): a configured provider (its key is set) serving a claimed kind
        # is read too.
        claimed = {kind for kind, patterns in options.ownership.claims.items() if patterns}
        providers += [
            p
            for p in providers_for(claimed)
            if p not in providers and session.environ.get(session.settings(p).api_key_env)
        ]
    if options.prune:
        kinds |= {kind for p in providers for kind in p.kinds}
    with Ahead() as ahead:
        # Nothing has been sent before this point (the manifests are all valid by now); the
        # reads wait for the network most of their time, and the normalizing is done then.
        types = registry.kinds()
        ahead.expect(
            (d, types[d.key.kind].comparison_table(d.provider))
            for d in desired
            if types[d.key.kind].normalizes_ahead
        )
        live = await read_live(session, providers, desired, kinds, ahead)
    options = replace(
        options,
        forms=ahead.forms,
        path_prefixes={name: s.path_prefix for name, s in session.all_settings().items()},
        now=options.now or datetime.now(UTC),
        clocks={**session.clocks(), **options.clocks},
    )
    # A kind with neither a desired nor a live resource adds nothing to a plan: its type
    # (batch calling's, for a plan of agents) is not even imported.
    present = {d.key.kind for d in desired} | {item.key.kind for item in live}
    from reconciler.core.planning import build_plan

    return build_plan(registry.resource_types(present), desired, live, options)


async def collect_status(
    session: Session, desired: Sequence[DesiredResource]
) -> list[dict[str, Any]]:
    """Progress of every desired resource that reports one (campaigns), in manifest order."""
    import asyncio

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
    stop: Stop | None = None,
) -> ApplyReport:
    """Apply `plan` (after its stale check, when asked); `stop` stops it between changes."""
    if check_stale:
        reasons = await stale_reasons(session, plan)
        if reasons:
            raise StalePlanError(
                "the plan is stale: the live account changed since it was made; "
                "nothing was sent:\n"
                + "\n".join(f"  - {r}" for r in reasons)
                + "\nRun `reconciler plan` again and review the new plan."
            )
    # Imported by the run that applies: `validate` does without it.
    from reconciler.runtime.apply import apply_plan

    providers = {c.provider for c in plan.changes}
    apis = {p.name: await session.api(p) for p in registry.PROVIDERS if p.name in providers}
    return await apply_plan(
        plan,
        apis,
        registry.kinds(),
        environ=session.environ,
        concurrency=concurrency,
        on_result=on_result,
        stop=stop,
    )


def plan_options(prune: bool) -> PlanOptions:
    from reconciler.core.planning import PlanOptions

    return PlanOptions(prune=prune)


@dataclass(frozen=True)
class Workspace:
    """What a command works on: manifest paths, the selected environment, the process env."""

    paths: tuple[str, ...]
    environ: Mapping[str, str]
    environment: Environment | None = None
    hooks: ClientHooks | None = None
    """Passed to every session the workspace opens (see `Session.hooks`); None: nothing
    swapped (`NO_HOOKS`)."""
    limits: Limits = DEFAULTS
    """The operator's bounds (files, YAML, answers, time; see `reconciler.core.limits`)."""
    allow_outside_files: bool = False
    """`--allow-outside-files`: manifests may name files outside their directory."""
    _ownership: list[Ownership | None] = field(default_factory=list, compare=False, repr=False)
    """What the last load of the manifests found to own (`ownership`), once loaded."""

    @classmethod
    def open(
        cls,
        paths: Sequence[str],
        environ: Mapping[str, str],
        env_name: str | None,
        hooks: ClientHooks | None = None,
        *,
        limits: Limits = DEFAULTS,
        allow_outside_files: bool = False,
    ) -> Workspace:
        environment = None
        if env_name:
            names = [p.name for p in registry.PROVIDERS]
            environment = load_environment(paths, env_name, names, limits)
            check_environment_endpoints(environment, environ)
        return cls(tuple(paths), environ, environment, hooks, limits, allow_outside_files)

    @property
    def env_name(self) -> str | None:
        return self.environment.name if self.environment else None

    def desired(self, *, require_secrets: bool = True) -> list[DesiredResource]:
        return self.manifests(require_secrets=require_secrets).desired

    def manifests(self, *, require_secrets: bool = True) -> Manifests:
        loaded = load_manifests(
            self.paths,
            registry.kinds(),
            self.environ,
            self.environment,
            require_secrets=require_secrets,
            forbidden=api_key_variables(self.environment),
            limits=self.limits,
            allow_outside_files=self.allow_outside_files,
        )
        self._ownership[:] = [loaded.ownership]
        return loaded

    def ownership(self) -> Ownership | None:
        """The manifests' `kind: Ownership` (claims added up), None when they have none."""
        if not self._ownership:
            self.manifests(require_secrets=False)
        return self._ownership[0]

    def session(self, **options: Any) -> Session:
        overrides = self.environment.providers if self.environment else {}
        options.setdefault("timeout", self.limits.request_timeout)
        if self.hooks is not None:
            options.setdefault("hooks", self.hooks)
        return Session(self.environ, overrides=overrides, limits=self.limits, **options)

    def other(self, env_name: str | None) -> Workspace:
        """The same manifests and settings, with another environment."""
        return Workspace.open(
            self.paths,
            self.environ,
            env_name,
            self.hooks,
            limits=self.limits,
            allow_outside_files=self.allow_outside_files,
        )

    def required_name(self) -> str | None:
        return self.environment.requires if self.environment else None

    def required(self) -> Workspace | None:
        """The environment this one requires to be in sync first (`requires:`), if any."""
        if self.environment is None or not self.environment.requires:
            return None
        return self.other(self.environment.requires)


async def plan_workspace(
    workspace: Workspace,
    desired: Sequence[DesiredResource],
    options: PlanOptions,
    targets: Sequence[ResourceKey] = (),
    session: Session | None = None,
) -> Plan:
    if options.prune and options.ownership is None:
        options = replace(options, ownership=workspace.ownership())
        if options.ownership is None:
            raise ConfigError(prune_needs_ownership(workspace, desired))

    if options.hold is None:
        # New batches are held for the operator's hold (RECONCILER_CAMPAIGN_HOLD).
        options = replace(options, hold=workspace.limits.campaign_hold)

    async def run(active: Session) -> Plan:
        plan = await make_plan(active, desired, options)
        if targets:
            from reconciler.core.planning import restrict

            plan = restrict(plan, targets, desired)
        return replace(plan, environment=workspace.env_name, endpoints=active.endpoints())

    if session is not None:
        return await run(session)
    async with workspace.session() as fresh:
        return await run(fresh)


def prune_needs_ownership(workspace: Workspace, desired: Sequence[DesiredResource]) -> str:
    """Why `--prune` is refused without a `kind: Ownership` document, and the one to add."""
    first = Path(workspace.paths[0]) if workspace.paths else Path(".")
    where = (first if first.is_dir() else first.parent) / "ownership.yaml"
    claims = suggested_claims(d.key for d in desired) or {"Agent": ["*"]}
    example = document_text(suggested_name(claims), claims)
    return (
        "--prune deletes only what the manifests own, and they have no kind: Ownership "
        "document; nothing was sent. Add one (the shell-style patterns say which live objects "
        f"this repository owns; everything else is left alone), e.g. {where}:\n\n"
        + "".join(f"    {line}\n" for line in example.splitlines())
    )


async def promotion_gate(workspace: Workspace) -> None:
    """Refuse when the required environment's live account does not match the manifests."""
    required = workspace.required()
    if required is None:
        return
    from reconciler.core.planning import PlanOptions

    pending = await plan_workspace(required, required.desired(), PlanOptions())
    if not pending.is_empty:
        names = ", ".join(str(c.key) for c in pending.changes)
        raise PlanError(
            f"environment {workspace.env_name!r} requires {required.env_name!r} to match the "
            f"manifests first, but {required.env_name!r} has pending changes ({names}); "
            f"apply there first (reconciler apply --env {required.env_name}). Nothing was sent."
        )


def saved_plan_session(plan: Plan, environ: Mapping[str, str], **options: Any) -> Session:
    """A session that talks to the accounts a saved plan was made against (base URLs the
    operator allows only: a saved plan is a file, see `Session.api`)."""
    known = {p.name for p in registry.PROVIDERS}
    overrides = {}
    for name, values in plan.endpoints.items():
        if name not in known:
            raise ConfigError(f"the saved plan names an unknown provider {name!r} (endpoints)")
        try:
            overrides[name] = ProviderOverride(
                baseUrl=values.get("baseUrl"), apiKeyEnv=values.get("apiKeyEnv")
            )
        except ValidationError as exc:
            raise ConfigError(
                f"the saved plan's endpoints.{name} is malformed "
                f"({count(exc.error_count(), 'problem')}); plan again"
            ) from None
    return Session(environ, overrides=overrides, **options)


async def state_of(workspace: Workspace, live: bool) -> dict[ResourceKey, dict[str, Any]]:
    """A workspace's desired state, or (live) the account's objects of the manifests' kinds,
    each as a plan of this environment compares it (`ResourceType.comparable`: normalized by
    the kind's own table, what the server sets left out).

    Only the providers the manifests use are read: no key of a vendor no manifest names is
    needed (nor sent anywhere)."""
    types = registry.kinds()
    desired = workspace.desired()
    if not live:
        return {d.key: types[d.key.kind].comparable(d) for d in desired}
    kinds = {d.key.kind for d in desired}
    providers = providers_for(kinds, {d.provider for d in desired})
    async with workspace.session() as session:
        found = await read_live(session, providers, desired, kinds)
    declared = {d.key: d for d in desired}
    return {
        item.key: types[item.key.kind].comparable(item, declared.get(item.key)) for item in found
    }


async def diff_environments(
    paths: Sequence[str],
    environ: Mapping[str, str],
    left: str,
    right: str,
    live: bool,
    hooks: ClientHooks | None = None,
    *,
    limits: Limits = DEFAULTS,
    allow_outside_files: bool = False,
) -> list[StateDifference]:
    import asyncio

    first = Workspace.open(
        paths, environ, left, hooks, limits=limits, allow_outside_files=allow_outside_files
    )
    second = first.other(right)
    states = await asyncio.gather(state_of(first, live), state_of(second, live))
    from reconciler.core.planning import compare_states

    return compare_states(registry.kinds(), states[0], states[1], (left, right))
