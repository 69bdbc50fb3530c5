"""What a plan is made of: actions, field changes, requests, changes, reads and `Plan`.

Part of the core's vocabulary (`reconciler.core.domain` re-exports every name, so importers
write `from reconciler.core.domain import Plan`), in a module of its own so that a command that
makes no plan (`validate`, a pre-commit hook) does not build these classes at start-up (each
frozen dataclass costs some 5 M instructions to create). Pure data: must not import httpx,
deepdiff, click, pydantic or any other module of the package except `reconciler.core.domain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.core.domain import JSON, ResourceKey


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"


class FieldOp(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    CHANGE = "change"
    KEEP = "keep"
    """Sent as the server already holds it: a PATCH sends a key whole, unchanged parts too."""


@dataclass(frozen=True)
class FieldChange:
    """One field that differs, or that a request sends (KEEP: unchanged, `after` is what is
    sent). `before`/`after` are None for ADD/REMOVE respectively."""

    path: str
    op: FieldOp
    before: JSON = None
    after: JSON = None
    sensitive: bool = False
    default: bool = False
    """`after` is the API's default (documented, or a proto3 zero value): comparing counts it
    as absence, but the request sends it as the manifest wrote it."""


@dataclass(frozen=True)
class Hold:
    """A start time apply may move later when it sends a request that creates a call batch:
    to `seconds` after the server's clock at that moment, when the body asks for earlier (or
    for now). No call of the batch can then start before the hold is over, so a copy that an
    apply running at the same time made can be removed before anyone is dialled from it.

    `field` is the body's key of the start time; `unix`: it holds unix seconds, else an ISO
    8601 time. Pure data: apply does the moving (`reconciler.runtime.apply`).
    """

    field: str
    seconds: float
    unix: bool = False

    def to_json(self) -> dict[str, JSON]:
        return {"field": self.field, "seconds": self.seconds, "unix": self.unix}

    @classmethod
    def from_json(cls, data: Any) -> Hold:
        if not isinstance(data, Mapping) or not isinstance(data.get("field"), str):
            raise ValueError("a request's hold must name its field")
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("a request's hold must be a non-negative number of seconds")
        return cls(str(data["field"]), float(seconds), bool(data.get("unix", False)))


@dataclass(frozen=True)
class Request:
    """One HTTP request exactly as apply will send it.

    `path` may hold a reference such as `{Agent/support_bot.agentId}` to an id that only exists
    once an earlier request of the same plan has created it; apply substitutes it. `body` may
    hold `{"$secret": "NAME"}` objects that apply resolves from the environment, so no secret is
    ever stored in a plan.
    """

    method: str
    path: str
    body: JSON = None
    description: str = ""
    capture: str | None = None
    """Field of the response that holds the id of the object this request creates; apply
    records it so later requests can refer to `{ref:Kind/name}`."""
    hold: Hold | None = None
    """For a request that creates a call batch: the start time apply holds back (see `Hold`)."""

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"method": self.method, "path": self.path}
        if self.body is not None:
            out["body"] = self.body
        if self.description:
            out["description"] = self.description
        if self.capture:
            out["capture"] = self.capture
        if self.hold is not None:
            out["hold"] = self.hold.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Request:
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            body=data.get("body"),
            description=str(data.get("description", "")),
            capture=data.get("capture"),
            hold=Hold.from_json(data["hold"]) if data.get("hold") is not None else None,
        )


@dataclass(frozen=True)
class Change:
    """Everything one resource needs: the action, the fields that differ, the requests."""

    key: ResourceKey
    provider: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    requests: tuple[Request, ...] = ()
    resource_id: str | None = None
    notes: tuple[str, ...] = ()
    order: int = 0
    renamed_from: str | None = None
    """The live name the change renames (`previousNames`): the object keeps its id."""


@dataclass(frozen=True)
class Read:
    """Fingerprint of one live object a plan was computed from (digest None: it was absent)."""

    key: ResourceKey
    provider: str
    id: str | None
    digest: str | None


@dataclass(frozen=True)
class Unmanaged:
    """A live object `--prune` found absent from the manifests and left alone: no claim of
    the manifests' Ownership covers its kind and name (another team's, say)."""

    key: ResourceKey
    provider: str
    id: str


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    reads: tuple[Read, ...] = ()
    warnings: tuple[str, ...] = ()
    environment: str | None = None
    """The `--env` the plan was made for."""
    endpoints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per provider the plan read: `baseUrl` and `apiKeyEnv` (never a key), so `apply --plan`
    talks to the very account that was reviewed."""
    unmanaged: tuple[Unmanaged, ...] = ()
    """With `--prune`: the live objects absent from the manifests that no Ownership claim
    covers, listed once and never touched."""

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts
