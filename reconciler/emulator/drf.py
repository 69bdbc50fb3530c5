"""Error answers in the style of Django REST framework, which the Ultravox API is built on.

Owns: `ApiProblem` (an HTTP status with a DRF body) and the helpers that build the common ones.
Must not import starlette, uvicorn, httpx or any reconciler module other than reconciler.domain.
"""

from __future__ import annotations

from reconciler.core.domain import JSON


class ApiProblem(Exception):
    """Raised anywhere below the HTTP layer; the app answers with `status` and `body`."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(f"HTTP {status}: {body!r}")
        self.status = status
        self.body = body


def not_found() -> ApiProblem:
    return ApiProblem(404, {"detail": "Not found."})


def detail(status: int, message: str) -> ApiProblem:
    return ApiProblem(status, {"detail": message})


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
