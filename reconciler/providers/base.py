"""The one small interface every vendor implements.

Owns: `Api` (what a provider may ask of the HTTP client), `NormalizationTable` (per resource
kind: read-only and write-only fields, server defaults, server-computed fields, durations,
datetimes, PATCH granularity), `ResourceType` (manifest model, read, plan) and `Provider`.
A vendor is a folder under `reconciler/providers/` exporting one `Provider`; nothing outside
that folder branches on a vendor's name. Must not import httpx or deepdiff.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from pydantic import BaseModel

from reconciler.domain import (
    JSON,
    Change,
    DesiredResource,
    LiveResource,
    Request,
    ResourceKey,
    SourceRef,
)
from reconciler.errors import Diagnostic


class Api(Protocol):
    """The HTTP operations a provider may use; implemented by `reconciler.client.ApiClient`."""

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


@dataclass(frozen=True)
class NormalizationTable:
    """What the API does to a resource that is not a real difference.

    Paths are dotted (`callTemplate.vadSettings.turnEndpointDelay`); `[]` stands for every
    element of a list (`callTemplate.inactivityMessages[].duration`).
    """

    read_only: tuple[str, ...] = ()
    write_only: tuple[str, ...] = ()
    defaults: Mapping[str, JSON] = field(default_factory=dict)
    server_computed: tuple[str, ...] = ()
    durations: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    presence: tuple[str, ...] = ()
    """Paths where an empty object is meaningful (a oneof member such as `medium.webRtc`)."""
    sensitive: tuple[str, ...] = ()
    """Paths whose values are never shown (secrets); diffs there say only that they changed."""
    zero_is_default: bool = False
    """proto3 JSON: false, 0, "", [] and {} outside `presence` paths mean "unset"."""
    patch_root: str | None = None
    """PATCH merges the top-level keys under this path; each key's value is replaced whole and
    `null` clears it. None: the resource is patched at its own top level."""


@dataclass(frozen=True)
class ProviderSettings:
    """How to reach a vendor; every value can be overridden per environment."""

    name: str
    base_url_env: str
    default_base_url: str
    api_key_env: str
    api_key_header: str
    pagination: Literal["next_url", "last_doc"] = "next_url"
    """`next_url`: `{next, results}` with `next` a full URL (Ultravox, DRF cursor);
    `last_doc`: `limit` + `last_doc` -> `{batch_calls, next_doc, has_more}` (Threetone)."""
    page_size: int = 1000
    path_prefix: str = ""
    """Prefix of the vendor's paths, for vendors whose API moves between presets
    (`/v1/voiceai/batch-calling` on Threetone, `/v1/convai/batch-calling` on ElevenLabs)."""


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    live: Mapping[ResourceKey, LiveResource] = field(default_factory=dict)
    """Every live resource read for this plan, for kinds that refer to others (a batch's
    agent); filled in by `build_plan`."""
    settings: Mapping[str, ProviderSettings] = field(default_factory=dict)
    """The effective settings per provider name (environment overrides applied), for types
    whose request paths depend on them."""


class ResourceType(ABC):
    """One kind of resource of one vendor (`Agent`, `ScheduledBatch`, `BatchCall`, ...)."""

    kind: ClassVar[str]
    provider: ClassVar[str]
    order: ClassVar[int]
    """Apply order between kinds: lower first (agents before the batches that use them)."""
    manifest_model: ClassVar[type[BaseModel]]
    table: ClassVar[NormalizationTable]
    secret_fields: ClassVar[tuple[str, ...]] = ()
    """Manifest fields that hold secrets: they must be `${VARIABLE}` references, and plans
    carry the variable's name, never the value."""

    @abstractmethod
    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        """Turn a validated manifest document into desired state (pure)."""

    def check(self, desired: Sequence[DesiredResource]) -> list[Diagnostic]:
        """Rules across documents, given every desired resource of the run (references to
        other resources); none by default."""
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

    def comparable(self, resource: DesiredResource | LiveResource) -> dict[str, JSON]:
        """What `diff-env` compares of a resource: by default its API body (`spec` or `body`)."""
        return dict(resource.spec if isinstance(resource, DesiredResource) else resource.body)

    async def status(
        self, api: Api, desired: DesiredResource, live: LiveResource | None
    ) -> dict[str, JSON] | None:
        """Progress of a resource that does work over time (a campaign); None for others.

        The shape is the one `reconciler status --format json` prints: `kind`, `name`,
        `state`, `total`, `completed`, `statuses` (count per status), `endReasons`, `calls`.
        Phone numbers in it are masked.
        """
        return None

    def verify(self, change: Change, responses: Sequence[JSON]) -> list[str]:
        """Warnings from reading back what apply wrote (a key the server kept, say)."""
        return []

    def export(self, live: LiveResource, known: Sequence[LiveResource]) -> dict[str, JSON] | None:
        """The manifest document that reproduces `live` (pure); None: not exported.

        `known` is everything read from the account (a batch names its agent from there). The
        document holds values as a manifest means them after interpolation (`reconciler.export`
        escapes a literal `${`); secrets appear only as `{"$secret": "VARIABLE"}` references,
        never as values; defaults and fields left to the server are left out. None by default:
        a kind the tool does not manage account-wide (or cannot rebuild) is not exported.
        """
        return None


@dataclass(frozen=True)
class Provider:
    settings: ProviderSettings
    resource_types: tuple[ResourceType, ...]

    @property
    def name(self) -> str:
        return self.settings.name
