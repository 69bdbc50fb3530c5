"""The small immutable vocabulary every step of the pipeline speaks.

Owns: resource keys, desired/live resources and fingerprints; re-exports, from
`reconciler.core.changes`, what a plan is made of (`Action`, field changes, requests, changes,
reads, `Plan`), imported only when first asked for: `validate` makes no plan. A resource
carries what the core may read (its body, identity, `prevent_destroy`, `secrets`) and, in
`detail`, kind-specific state the core never looks into (read with `detail_of`, which fails
loudly on the wrong type). Pure data: this module must not import httpx, deepdiff, click,
pydantic or any other module of the package except `reconciler.core.errors` (and
`reconciler.core.changes`, when first asked for one of its names).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from reconciler.core.changes import Action as Action
    from reconciler.core.changes import Change as Change
    from reconciler.core.changes import FieldChange as FieldChange
    from reconciler.core.changes import FieldOp as FieldOp
    from reconciler.core.changes import Hold as Hold
    from reconciler.core.changes import Plan as Plan
    from reconciler.core.changes import Read as Read
    from reconciler.core.changes import Request as Request
    from reconciler.core.changes import Unmanaged as Unmanaged
else:
    _CHANGES = frozenset(
        (
            "Action",
            "Change",
            "FieldChange",
            "FieldOp",
            "Hold",
            "Plan",
            "Read",
            "Request",
            "Unmanaged",
        )
    )

    def __getattr__(name: str) -> Any:
        # The plan's classes are created by the first module that asks for one: `validate`
        # never does, and creating them costs some 40 M instructions of its start-up.
        if name in _CHANGES:
            from reconciler.core import changes

            return getattr(changes, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


JSON = Any
"""A value as it appears in an API body: dict, list, str, int, float, bool or None."""


@dataclass(frozen=True, order=True)
class ResourceKey:
    """Identity of a resource in the manifests: its kind and its name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ResourceKey:
        kind, sep, name = text.partition("/")
        if not sep or not kind or not name:
            raise ValueError(f"expected Kind/name, got {text!r}")
        return cls(kind, name)


@dataclass(frozen=True)
class SourceRef:
    """Where a manifest document starts, and the line of each of its keys and list items."""

    file: str
    line: int
    lines: Mapping[tuple[str | int, ...], int] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    """The 1-based line of every key and list item of the document, by path (may be empty)."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def line_of(self, *loc: str | int) -> int:
        """The line of the deepest part of `loc` the document spells out, else its first."""
        for end in range(len(loc), 0, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return self.line


@dataclass(frozen=True)
class DesiredResource:
    """What the manifests ask for, in the vendor API's own field names.

    `spec` is the body the resource would be created with. What is not part of that body is
    typed: the generic settings below, which the core reads, and `detail`, the kind's own state
    (a campaign's recipients and agent reference), which only the kind reads.
    """

    key: ResourceKey
    provider: str
    spec: Mapping[str, JSON]
    source: SourceRef
    ignore_changes: tuple[str, ...] = ()
    depends_on: tuple[ResourceKey, ...] = ()
    prevent_destroy: bool = False
    """`lifecycle.preventDestroy`: a plan that would delete or replace the resource fails."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret field (dotted manifest path) -> the variable its value comes from; never a value."""
    detail: object | None = None
    """Kind-specific state (an immutable object of the kind's own type); see `detail_of`."""
    previous_names: tuple[str, ...] = ()
    """Names the resource had before (`previousNames`): a live object found under one of them,
    when none has the current name, is this resource renamed (same id), not another one."""


@dataclass(frozen=True)
class LiveResource:
    """One object as read from the live account, with the fingerprint of what was read."""

    key: ResourceKey
    provider: str
    id: str
    body: Mapping[str, JSON]
    digest: str
    detail: object | None = None
    """Kind-specific state of what was read (a campaign's parts); see `detail_of`."""


Detail = TypeVar("Detail")


def detail_of(resource: DesiredResource | LiveResource, kind: type[Detail]) -> Detail:
    """`resource.detail` as the type its kind put there; a `TypeError` naming the resource and
    what it holds instead, never a silent cast."""
    detail = resource.detail
    if not isinstance(detail, kind):
        raise TypeError(
            f"{resource.key}: expected a {kind.__name__} as its detail, "
            f"found {type(detail).__name__}"
        )
    return detail


def fingerprint(body: JSON) -> str:
    """A stable digest of a JSON value, independent of key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
