"""Error answers, the same mechanism for every vendor API and the admin routes.

Owns: `ApiProblem` (an HTTP status with a JSON body, raised anywhere below the HTTP layer and
answered by whoever serves the request) and `detail`. Vendor-neutral: each vendor API builds its
own error bodies (DRF style for Ultravox, FastAPI style for batch calling) as `ApiProblem`s.
Pure: must not import starlette, uvicorn, httpx, any vendor package or anything of the product.
"""

from __future__ import annotations

from reconciler_emulator.jsontypes import JSON


class ApiProblem(Exception):
    """Raised anywhere below the HTTP layer; the app answers with `status` and `body`."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(f"HTTP {status}: {body!r}")
        self.status = status
        self.body = body


def detail(status: int, message: str) -> ApiProblem:
    """`{"detail": message}`, the shape both DRF and FastAPI give simple errors."""
    return ApiProblem(status, {"detail": message})
