"""The one small interface every vendor implements.

Owns: `Api` (what a provider may ask of the HTTP client), `NormalizationTable` (per resource
kind: read-only and write-only fields, server defaults, server-computed fields, durations,
datetimes, PATCH granularity), `ResourceType` (manifest model, read, plan) and `Provider`.
A vendor is a folder under `reconciler/providers/` exporting one `Provider`; nothing outside
that folder branches on a vendor's name. Must not import httpx or deepdiff.
"""

from __future__ import annotations

import dataclasses
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from reconciler.core.domain import JSON, DesiredResource, LiveResource, SourceRef
from reconciler.core.errors import Diagnostic
from reconciler.manifests.environment import ProviderOverride

if TYPE_CHECKING:
    # Types only: validate reads manifests and makes no plan, so it neither creates the
    # plan's classes nor imports the planning (see `reconciler.core.changes`).
    from reconciler.core.domain import Change, Request
    from reconciler.core.normalize import NormalizationTable
    from reconciler.core.planning import PlanOptions


class Api(Protocol):
    """The HTTP operations a provider may use; implemented by
    `reconciler.runtime.client.ApiClient`."""

    settings: ProviderSettings
    """The effective settings of this run (environment overrides applied): a provider builds
    its paths from `settings.path_prefix`."""

    async def list_all(self, path: str, params: Mapping[str, str] | None = None) -> list[JSON]:
        """Every item of a paginated list, following the vendor's cursor until the end."""
        ...

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        """One GET, parsed JSON."""
        ...

    async def send(self, request: Request) -> JSON:
        """Send one planned request (secrets and references already resolved)."""
        ...


@runtime_checkable
class ServerClock(Protocol):
    """An `Api` that knows the server's clock (from its `Date` answers)."""

    def server_now(self) -> datetime | None: ...


def server_now(api: object) -> datetime | None:
    """The server's clock as `api` last heard it; None when it cannot tell (a test double, or
    a server that sends no `Date`): callers then use their own clock."""
    return api.server_now() if isinstance(api, ServerClock) else None


async def read_list(
    api: Api, path: str, convert: Callable[[JSON], LiveResource]
) -> list[LiveResource]:
    """Every item of the list at `path`, converted by `convert` (pure, thread-safe: it may run
    in another thread). An `Api` that offers `convert_pages` (a plan's reader, which converts
    each page while the next one is read) does the work; any other lists, then converts."""
    converting = getattr(api, "convert_pages", None)
    if converting is not None:
        found: list[LiveResource] = await converting(path, convert)
        return found
    return [convert(item) for item in await api.list_all(path)]


class PageFormatError(Exception):
    """A page of a list that is not of the shape its pagination expects (the message says
    how); the client turns it into an `ApiError`, so a list is never returned in part."""


def unexpected_page(page: JSON, key: str) -> PageFormatError:
    shape = type(page).__name__ if not isinstance(page, dict) else f"keys {sorted(page)}"
    return PageFormatError(f"unexpected list response: expected `{key}`, got {shape}")


@dataclass(frozen=True)
class PageRequest:
    """One page's GET: `target` is a path below the base URL or a full URL the server gave."""

    target: str
    params: Mapping[str, str] | None = None


class Pagination(Protocol):
    """A vendor's cursor style; the client sends the requests and guards against loops."""

    def first(self, path: str, params: Mapping[str, str] | None, page_size: int) -> PageRequest:
        """The request for the first page of the list at `path`."""
        ...

    def read(self, page: JSON, current: PageRequest) -> tuple[list[JSON], PageRequest | None]:
        """The items of one page and the request for the next one (None after the last);
        raises `PageFormatError` for a page of another shape."""
        ...


@dataclass(frozen=True)
class ProviderSettings:
    """How to reach a vendor; every value can be overridden per environment."""

    name: str
    base_url_env: str
    default_base_url: str
    api_key_env: str
    api_key_header: str
    pagination: Pagination
    """How the vendor's lists are paged; owned by the vendor's folder."""
    page_size: int = 1000
    path_prefix: str = ""
    """Prefix of the vendor's paths, for vendors whose API moves between presets
    (`/v1/voiceai/batch-calling` on Threetone, `/v1/convai/batch-calling` on ElevenLabs)."""
    api_root: str = ""
    """The path every request of the vendor starts with when `path_prefix` is empty (`/api`
    on Ultravox): a base URL that ends in it would double it, so the client drops it there."""

    def overridden(self, override: ProviderOverride) -> ProviderSettings:
        """These settings with what an environment file changes (the base URL is read with
        the key, by the client)."""
        if not (override.apiKeyEnv or override.apiKeyHeader or override.pathPrefix is not None):
            return self
        return dataclasses.replace(
            self,
            api_key_env=override.apiKeyEnv or self.api_key_env,
            api_key_header=override.apiKeyHeader or self.api_key_header,
            path_prefix=self.path_prefix if override.pathPrefix is None else override.pathPrefix,
        )


class ResourceType(ABC):
    """One kind of resource of one vendor (`Agent`, `ScheduledBatch`, `BatchCall`, ...)."""

    kind: ClassVar[str]
    provider: ClassVar[str]
    order: ClassVar[int]
    """Apply order between kinds: lower first (agents before the batches that use them)."""
    manifest_model: ClassVar[type[BaseModel]]
    table: ClassVar[NormalizationTable]
    export_directory: ClassVar[str] = ""
    """The folder `reconciler export` writes this kind's manifests to."""
    secret_fields: ClassVar[tuple[str, ...]] = ()
    """Manifest fields that hold secrets: they must be `${VARIABLE}` references, and plans
    carry the variable's name, never the value."""
    declares_environments: ClassVar[bool] = False
    """A kind that dials people (a campaign): with `--env`, its documents must name their
    `environments:`, so a campaign never runs in an environment nobody chose for it."""
    normalizes_ahead: ClassVar[bool] = False
    """A kind whose `plan` compares with `PlanOptions.forms`: a plan normalizes its desired
    specs and live bodies (with `comparison_table`) while the reads are in flight."""
    guards_writes: ClassVar[bool] = False
    """A kind whose writes dial people (a campaign): apply lists it again right before
    writing it (`reread`), and after a write that created a batch removes the copies that
    applies running at the same time made (`creates_batch`, `repair`)."""

    @abstractmethod
    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        """Turn a validated manifest document into desired state (pure)."""

    def check(self, desired: Sequence[DesiredResource]) -> list[Diagnostic]:
        """Rules across documents, given every desired resource of the run (references to
        other resources); none by default. Called only when the run holds a resource of this
        kind (a kind no manifest uses has nothing to check, and its type is not imported)."""
        return []

    @abstractmethod
    async def read(
        self,
        api: Api,
        desired: Sequence[DesiredResource],
        known: Sequence[LiveResource] = (),
    ) -> list[LiveResource]:
        """Read the live objects of this kind: list requests only, never one GET per object.

        `known` holds what kinds of lower `order` of the same provider already read (a batch
        reader finds its agents there instead of listing them again).
        """

    @abstractmethod
    def plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        """The change that takes `live` to `desired` (pure); None when nothing is to be done."""

    def warnings(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> list[str]:
        """Things a reviewer must know that are not changes (an ended batch's edits, say)."""
        return []

    def comparable(
        self, resource: DesiredResource | LiveResource, desired: DesiredResource | None = None
    ) -> dict[str, JSON]:
        """What `diff-env` compares of a resource, as a plan compares it with its manifest.

        A desired resource: its spec, normalized by `comparison_table`. A live object
        (`diff-env --live`): `compared_body`, normalized by the same table, without the
        server-computed fields that `desired` (the manifest of that account's environment; None
        for an object none declares) leaves to the server: what the server sets (ids,
        timestamps, its own choices) never counts.
        """
        from reconciler.core.normalize import align, normalize

        table = self.comparison_table(resource.provider)
        if isinstance(resource, DesiredResource):
            return normalize(resource.spec, table)
        wanted = normalize(desired.spec, table) if desired is not None else {}
        _, have = align(wanted, normalize(self.compared_body(resource, desired), table), table)
        return have

    def comparison_table(self, provider: str) -> NormalizationTable:
        """The table a plan compares this kind with for `provider` (the kind's own, by default;
        a kind served by several vendors has one per vendor)."""
        return self.table

    def compared_body(
        self, live: LiveResource, desired: DesiredResource | None
    ) -> Mapping[str, JSON]:
        """A live object's body as a plan compares it with `desired` (as read, by default)."""
        return live.body

    async def status(
        self, api: Api, desired: DesiredResource, live: LiveResource | None
    ) -> dict[str, JSON] | None:
        """Progress of a resource that does work over time (a campaign); None for others.

        The shape is the one `reconciler status --format json` prints: `kind`, `name`,
        `state`, `total`, `completed`, `statuses` (count per status), `endReasons`, `calls`.
        Phone numbers in it are masked.
        """
        return None

    async def reread(
        self, api: Api, change: Change, *, settling: bool = False
    ) -> LiveResource | None:
        """The live object `change` is about, read again now exactly as a plan reads it (the
        same id and digest for the same account): None when absent. Only for kinds that
        `guards_writes`; `change`'s references are resolved. `settling`: read only what
        `repair` needs (a kind may then skip recipients that cannot be copies; the digest
        does not matter)."""
        raise NotImplementedError(f"{self.kind} does not guard its writes")

    def conflict(self, live: LiveResource | None, change: Change) -> str | None:
        """Why `change`, planned earlier, must not be sent now that the campaign is `live`
        (listed again right before it): it would call someone twice (its recipients are in a
        live batch already, a batch it replaces has started). None: it may be sent. Progress
        alone is no conflict (pure)."""
        return None

    def creates_batch(self, request: Request) -> bool:
        """Whether `request` creates a call batch (then apply settles the campaign after it)."""
        return False

    def repair(self, live: LiveResource, change: Change) -> Change | None:
        """After `change` created (or may have created) a batch: the change that removes the
        copies nobody was dialled from, as every process agrees (None: there are none); a
        `PlanError` naming them when copies both started (pure)."""
        return None

    def verify(self, change: Change, responses: Sequence[JSON]) -> list[str]:
        """Warnings from reading back what apply wrote (a key the server kept, say)."""
        return []

    def export(self, live: LiveResource, known: Sequence[LiveResource]) -> dict[str, JSON] | None:
        """The manifest document that reproduces `live` (pure); None: not exported.

        `known` is everything read from the account (a batch names its agent from there). The
        document holds values as a manifest means them after interpolation
        (`reconciler.runtime.export` escapes a literal `${`); secrets appear only as
        `{"$secret": "VARIABLE"}` references, never as values; defaults and fields left to the
        server are left out. None by default: a kind the tool does not manage account-wide (or
        cannot rebuild) is not exported. Raise `NotExported` to skip one resource and say why.
        """
        return None

    def export_attachments(self, live: LiveResource) -> dict[str, str]:
        """Files written beside the exported manifest (name -> text; a BatchCall's recipients
        file, which its `recipientsFrom` names); none by default. Pure."""
        return {}

    async def complete_for_export(
        self, api: Api, found: Sequence[LiveResource]
    ) -> list[LiveResource]:
        """`found` (read without manifests) with what `export` needs that `read` leaves out
        then (a campaign's recipients); as read by default."""
        return list(found)


class NotExported(Exception):
    """`ResourceType.export` cannot reproduce this resource as a manifest; the message says
    why, and `reconciler export` prints it for that resource."""


@dataclass(frozen=True)
class Provider:
    """A vendor: its settings, and its resource kinds, each named with the module attribute
    that holds its type (`types`: (kind, "module:attribute") pairs). A type's module is
    imported when the type is first asked for (issue 14): `validate` of agents imports no
    batch-calling code. Settings are always loaded (base URLs and API-key variables concern
    every run)."""

    settings: ProviderSettings
    types: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds, without importing their types."""
        return tuple(kind for kind, _ in self.types)

    @property
    def resource_types(self) -> tuple[ResourceType, ...]:
        return tuple(load_type(where) for _, where in self.types)


def load_type(where: str) -> ResourceType:
    """The resource type at "module:attribute", its module imported on first use."""
    module, _, attribute = where.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if not isinstance(found, ResourceType):
        raise TypeError(f"{where} is not a ResourceType")
    return found
