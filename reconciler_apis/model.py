"""The vocabulary of the response tables: a `Model` is a vendor's response type, a `Field` one
of its fields with its default, its origin and the source that says so.

Owns `serialize` (a value as a pydantic response model would serialize it: every field, a
missing one as its default, an explicit null kept, unknown keys dropped), `defaults` (the
non-null defaults of a model as dotted paths, `[]` for every element of a list: what the
product's normalization treats as absence) and `field_names`. Pure: the standard library only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = Any

ECHO = "echo"
"""The request's value, as it was sent (and validated)."""
INVENTED = "invented"
"""Made up by the server: ids, timestamps, names of things it knows (`agent_name`)."""
COMPUTED = "computed"
"""Derived from the server's state: statuses, counters."""
DEFAULT = "default"
"""Never set through this API: always its default."""

ORIGINS = (ECHO, INVENTED, COMPUTED, DEFAULT)


@dataclass(frozen=True)
class Field:
    """One field of a response model."""

    name: str
    default: JSON = None
    """What a response shows when nothing set the field (None: null)."""
    source: str = ""
    """Where the default (and the field) comes from; empty: the model's own source."""
    origin: str = ECHO
    model: Model | None = None
    """The field's own model when it is an object (or, with `many`, a list of objects)."""
    many: bool = False
    fill: bool = False
    """Required object: a response always carries it, its own defaults filled in."""
    opaque: bool = False
    """A value the tables do not model further (a free-form object, or a nested type no manifest
    can write): echoed as it was sent."""

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"{self.name}: unknown origin {self.origin!r}")
        if self.fill and self.model is None:
            raise ValueError(f"{self.name}: fill needs a model")


@dataclass(frozen=True)
class Model:
    """One response (or request) type of a vendor API."""

    name: str
    """The vendor's own name of the type (`BatchCallResponse`)."""
    source: str
    """Where its fields are defined (a file of the SDK, a seed document, an OpenAPI component)."""
    fields: tuple[Field, ...]
    notes: str = ""
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(f.name for f in self.fields)
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a field is listed twice")
        object.__setattr__(self, "names", names)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")

    def extended(self, name: str, source: str, *extra: Field, notes: str = "") -> Model:
        """This model with `extra` fields after its own (a detailed response)."""
        return Model(name, source, (*self.fields, *extra), notes or self.notes)


def plain(names: str, *, origin: str = ECHO, source: str = "") -> tuple[Field, ...]:
    """Fields with a null default, from a space-separated list of names."""
    return tuple(Field(name, origin=origin, source=source) for name in names.split())


def serialize(model: Model, value: Mapping[str, JSON] | None) -> dict[str, JSON]:
    """`value` as a response of `model`: every field, in the model's order; a missing one as its
    default (a `fill` object with its own defaults); an explicit null stays null; a nested object
    serialized by its model; keys the model does not have dropped."""
    given: Mapping[str, JSON] = value if isinstance(value, Mapping) else {}
    out: dict[str, JSON] = {}
    for spec in model.fields:
        item = given.get(spec.name)
        if item is None and spec.fill and spec.model is not None:
            out[spec.name] = serialize(spec.model, None)  # a required object is never null
        elif spec.name not in given:
            out[spec.name] = copy.deepcopy(spec.default)
        elif item is None:
            out[spec.name] = None
        elif spec.model is None or spec.opaque:
            out[spec.name] = copy.deepcopy(item)
        elif spec.many:
            out[spec.name] = [
                serialize(spec.model, element) if isinstance(element, Mapping) else element
                for element in (item if isinstance(item, list) else [])
            ]
        elif isinstance(item, Mapping):
            out[spec.name] = serialize(spec.model, item)
        else:
            out[spec.name] = copy.deepcopy(item)
    return out


def defaults(model: Model, prefix: str = "") -> dict[str, JSON]:
    """The non-null defaults of `model` and its nested models, by dotted path (`[]`: every
    element of a list), e.g. `recipients[].conversation_initiation_client_data.source_info.source`.
    """
    found: dict[str, JSON] = {}
    for spec in model.fields:
        path = f"{prefix}{spec.name}"
        if spec.default is not None:
            found[path] = copy.deepcopy(spec.default)
        if spec.model is not None and not spec.opaque:
            inner = f"{path}[]." if spec.many else f"{path}."
            found.update(defaults(spec.model, inner))
    return found


def field_names(model: Model) -> tuple[str, ...]:
    return model.names


def walk(model: Model, prefix: str = "") -> Iterator[tuple[str, Field]]:
    """Every (dotted path, field) of `model` and its nested models, depth first."""
    for spec in model.fields:
        path = f"{prefix}{spec.name}"
        yield path, spec
        if spec.model is not None and not spec.opaque:
            yield from walk(spec.model, f"{path}[]." if spec.many else f"{path}.")
