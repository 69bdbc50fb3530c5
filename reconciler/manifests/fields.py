"""Field types every manifest kind shares, defined once.

Owns the E.164 phone number (`E164_PATTERN`, `is_e164`, the pydantic type `E164Number`), the
resource name pattern (`NAME_PATTERN`: a resource's identity in the manifests, also an
environment's name), the protobuf duration pattern (`DURATION_PATTERN`), what each pattern means
in an error message (`PATTERN_HINTS`), and `Lifecycle` (`preventDestroy`, read by the core as
`DesiredResource.prevent_destroy`).

Pure data and pydantic: must not import httpx, deepdiff, click, any provider, or any other
module of `reconciler.manifests` (they import this one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StrictStr

from reconciler.core.masking import mask_number

E164_PATTERN = r"^\+[1-9]\d{1,14}$"
"""A phone number in E.164: `+`, then 2 to 15 digits, the first not 0."""

NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
"""A resource's identity in the manifests (DESIGN.md, "Manifests")."""

DURATION_PATTERN = r"^-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,9})?s$"
"""The proto3 JSON form of `google.protobuf.Duration`, as protobuf-based APIs declare it
(negative durations match it, as in the vendor's schema; a manifest's rules refuse them)."""

PATTERN_HINTS: Mapping[str, str] = {
    DURATION_PATTERN: 'a duration like "30s" or "0.5s"',
    NAME_PATTERN: 'a name of 1 to 64 letters, digits, "_" and "-"',
}
"""What a pattern means, for the message when a value does not match it (keyed by the
pattern's text, so a model that spells a pattern differently gets no hint)."""


def is_e164(text: str) -> bool:
    """Whether `text` is an E.164 number like `+14155550100`."""
    return re.match(E164_PATTERN, text) is not None


def _e164(value: str) -> str:
    if not is_e164(value):
        # Masked even when malformed: an error message is a log line.
        raise ValueError(f"{mask_number(value)!r} is not an E.164 number like +14155550100")
    return value


E164Number = Annotated[StrictStr, AfterValidator(_e164)]
"""A string field holding an E.164 phone number."""


class Lifecycle(BaseModel):
    """How the tool treats the resource itself (not sent to the API)."""

    model_config = ConfigDict(extra="forbid")

    preventDestroy: StrictBool = False


def prevents_destroy(lifecycle: Lifecycle | None) -> bool:
    """Whether a document's `lifecycle:` forbids plans that delete or replace it."""
    return bool(lifecycle and lifecycle.preventDestroy)
