"""Error answers in the style of Django REST framework, which the Ultravox API is built on.

Owns: the helpers that build the common DRF answers as `ApiProblem`s (the emulator's one error
type, from `reconciler_emulator.problems`). Pure: must not import starlette, uvicorn, httpx or
anything of the product.
"""

from __future__ import annotations

from reconciler_emulator.jsontypes import JSON
from reconciler_emulator.problems import ApiProblem, detail

__all__ = [
    "ApiProblem",
    "detail",
    "field_errors",
    "not_an_object",
    "not_found",
    "type_name",
]


def not_found() -> ApiProblem:
    return ApiProblem(404, {"detail": "Not found."})


def field_errors(errors: dict[str, JSON]) -> ApiProblem:
    """400 with `{"field": ["message", ...]}` (values may nest, as DRF's do for lists)."""
    return ApiProblem(400, errors)


def type_name(value: JSON) -> str:
    """The Python type name DRF puts into its "Expected ... but got type" messages."""
    return type(value).__name__ if value is not None else "NoneType"


def not_an_object(value: JSON) -> ApiProblem:
    """DRF's answer to a body that is not a JSON object."""
    return field_errors(
        {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type_name(value)}."]}
    )
