"""Strict validators built from the official ElevenLabs SDK's own types.

The SDK's models are `UncheckedBaseModel`s: `extra="allow"` and, when the client parses an
answer, no validation at all (`construct_type`), so the SDK accepts anything. `strict_model`
rebuilds an SDK type as a strict pydantic model from its own annotations:

* every field of the SDK type must be present (a FastAPI server with a pydantic response model
  serializes every field, nulls and defaults included); `Optional` fields may be null, the
  others may not;
* no field the SDK type does not have (`extra="forbid"`);
* strict types (no "1" for 1, no 1 for True); the SDK's open enums (`Literal[...] | Any`, kept
  open so new server values do not break old clients) are closed to their listed values;
* nested SDK types, lists and dicts recursively.

Test support only: imports nothing from `reconciler` or `reconciler_emulator`.
"""

from __future__ import annotations

import inspect
import typing
from functools import cache
from types import GenericAlias
from typing import Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

_STRICT = ConfigDict(extra="forbid", strict=True)


def _is_sdk_model(value: object) -> bool:
    return inspect.isclass(value) and issubclass(value, BaseModel)


def _strict(annotation: Any, complete: bool) -> Any:
    """The strict counterpart of one SDK annotation."""
    if annotation is Any or annotation is type(None):
        return annotation
    if _is_sdk_model(annotation):
        return strict_model(annotation, complete=complete)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return annotation
    if origin is Union:
        members = list(args)
        if Any in members and any(typing.get_origin(m) is Literal for m in members):
            members.remove(Any)  # an open enum, closed to the values the SDK lists
        converted = tuple(_strict(m, complete) for m in members)
        return converted[0] if len(converted) == 1 else Union[converted]  # noqa: UP007
    if origin in (list, typing.List, typing.Sequence, tuple):  # noqa: UP006
        return GenericAlias(list, (_strict(args[0], complete),)) if args else list[Any]
    if origin in (dict, typing.Dict, typing.Mapping):  # noqa: UP006
        return (
            GenericAlias(dict, (_strict(args[0], complete), _strict(args[1], complete)))
            if args
            else dict[str, Any]
        )
    return annotation


@cache
def strict_model(sdk_type: type[BaseModel], *, complete: bool = True) -> type[BaseModel]:
    """`sdk_type` as a strict pydantic model. `complete` (answers): every field must be
    present; otherwise (requests) only the SDK's required ones."""
    hints = typing.get_type_hints(sdk_type)
    fields: dict[str, Any] = {}
    for name, info in sdk_type.model_fields.items():
        annotation = _strict(hints.get(name, info.annotation), complete)
        default = ... if complete or info.is_required() else None
        fields[name] = (annotation, pydantic.Field(default, alias=info.alias or name))
    suffix = "" if complete else "Request"
    model: type[BaseModel] = create_model(
        f"Strict{sdk_type.__name__}{suffix}", __config__=_STRICT, **fields
    )
    return model


def problems(sdk_type: type[BaseModel], answer: Any, *, complete: bool = True) -> list[str]:
    """Every way `answer` (decoded JSON) breaks `sdk_type`, strictly; empty when it conforms.
    `complete=False` checks a request body: fields the SDK does not require may be left out."""
    adapter: TypeAdapter[Any] = TypeAdapter(strict_model(sdk_type, complete=complete))
    try:
        adapter.validate_python(answer)
    except pydantic.ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in error['loc']) or '(answer)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
    return []
