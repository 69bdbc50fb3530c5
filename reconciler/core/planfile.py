"""The JSON form of a plan: what `--format json` prints and `plan --out` saves.

Owns `format_version`, the mapping between `Plan` and JSON, and reading a saved plan back
(with a clear error for a file that is not one). Pure apart from nothing: callers read and
write the files. Must not import httpx or deepdiff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import __version__
from reconciler.core.domain import (
    JSON,
    Action,
    Change,
    FieldChange,
    FieldOp,
    Plan,
    Read,
    Request,
    ResourceKey,
    Unmanaged,
)
from reconciler.core.errors import ConfigError

FORMAT_VERSION = 1
SENSITIVE = "(sensitive value)"


def field_to_json(field: FieldChange) -> dict[str, JSON]:
    out: dict[str, JSON] = {"path": field.path, "op": field.op.value}
    if field.op not in (FieldOp.ADD, FieldOp.KEEP):
        out["before"] = SENSITIVE if field.sensitive else field.before
    if field.op is not FieldOp.REMOVE:
        out["after"] = SENSITIVE if field.sensitive else field.after
    if field.sensitive:
        out["sensitive"] = True
    if field.default:
        out["default"] = True
    return out


def plan_to_json(plan: Plan) -> dict[str, JSON]:
    return {
        "format_version": FORMAT_VERSION,
        "tool": f"reconciler {__version__}",
        # Where the plan acts comes first (issue 12): the environment (null: none) and, per
        # provider, the base URL and the name of the key's variable.
        "environment": plan.environment,
        "endpoints": {name: dict(values) for name, values in plan.endpoints.items()},
        "changes": [
            {
                "kind": c.key.kind,
                "name": c.key.name,
                "provider": c.provider,
                "action": c.action.value,
                "resource_id": c.resource_id,
                "fields": [field_to_json(f) for f in c.fields],
                "notes": list(c.notes),
                "requests": [r.to_json() for r in c.requests],
                "order": c.order,
                "renamed_from": c.renamed_from,
            }
            for c in plan.changes
        ],
        "reads": [
            {
                "kind": r.key.kind,
                "name": r.key.name,
                "provider": r.provider,
                "id": r.id,
                "digest": r.digest,
            }
            for r in plan.reads
        ],
        "warnings": list(plan.warnings),
        "unmanaged": [
            {"kind": u.key.kind, "name": u.key.name, "provider": u.provider, "id": u.id}
            for u in plan.unmanaged
        ],
        "summary": plan.summary(),
    }


def plan_from_json(data: Any, origin: str) -> Plan:
    """A saved plan back as a `Plan`; `origin` names the file in errors."""
    if not isinstance(data, Mapping) or "format_version" not in data:
        raise ConfigError(f"{origin}: not a saved reconciler plan (no format_version)")
    if data["format_version"] != FORMAT_VERSION:
        raise ConfigError(
            f"{origin}: plan format_version {data['format_version']} is not supported "
            f"(this reconciler reads version {FORMAT_VERSION}); plan again"
        )
    try:
        changes = tuple(
            Change(
                key=ResourceKey(c["kind"], c["name"]),
                provider=c["provider"],
                action=Action(c["action"]),
                fields=tuple(
                    FieldChange(
                        path=f["path"],
                        op=FieldOp(f["op"]),
                        before=f.get("before"),
                        after=f.get("after"),
                        sensitive=bool(f.get("sensitive", False)),
                        default=bool(f.get("default", False)),
                    )
                    for f in c.get("fields", [])
                ),
                requests=tuple(Request.from_json(r) for r in c.get("requests", [])),
                resource_id=c.get("resource_id"),
                notes=tuple(c.get("notes", [])),
                order=int(c.get("order", 0)),
                renamed_from=_optional_text(c.get("renamed_from")),
            )
            for c in data["changes"]
        )
        # Absent from plans saved before ownership (issue 12): nothing was left alone then.
        unmanaged = tuple(
            Unmanaged(ResourceKey(u["kind"], u["name"]), u["provider"], u["id"])
            for u in data.get("unmanaged", [])
        )
        reads = tuple(
            Read(ResourceKey(r["kind"], r["name"]), r["provider"], r.get("id"), r.get("digest"))
            for r in data["reads"]
        )
        warnings = data.get("warnings", [])
        if not isinstance(warnings, list):
            raise TypeError(f"warnings must be a list, not {type(warnings).__name__}")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: malformed saved plan ({exc!r}); plan again") from exc
    environment = data.get("environment")
    if environment is not None and not isinstance(environment, str):
        raise ConfigError(f"{origin}: malformed saved plan (environment); plan again")
    endpoints = data.get("endpoints") or {}
    if not isinstance(endpoints, Mapping) or not all(
        isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values())
        for v in endpoints.values()
    ):
        raise ConfigError(f"{origin}: malformed saved plan (endpoints); plan again")
    return Plan(
        changes=changes,
        reads=reads,
        warnings=tuple(str(w) for w in warnings),
        environment=environment,
        endpoints={str(k): dict(v) for k, v in endpoints.items()},
        unmanaged=unmanaged,
    )


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a string or null, not {type(value).__name__}")
    return value
