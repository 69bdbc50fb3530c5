"""Field types every manifest kind shares, defined once.

Owns phone numbers (`canonical_number`: parsed and checked with `phonenumbers`, written in
E.164; `is_e164`, the pydantic types `E164Number` and `Region`, `E164_PATTERN`), the
resource name pattern (`NAME_PATTERN`: a resource's identity in the manifests, also an
environment's name), the protobuf duration pattern (`DURATION_PATTERN`), what each pattern means
in an error message (`PATTERN_HINTS`), and `Lifecycle` (`preventDestroy`, read by the core as
`DesiredResource.prevent_destroy`).

Pure data and pydantic: must not import httpx, deepdiff, click, any provider, or any other
module of `reconciler.manifests` (they import this one).
"""

from __future__ import annotations

import functools
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


_WRITTEN_NUMBER = re.compile(r"\+?[0-9 ().\-/]*[0-9][0-9 ().\-/]*")
"""What a written phone number may hold once trimmed: ASCII digits, an optional leading `+`
and the separators people type. `phonenumbers` itself is lenient (it turns letters into
digits, drops what it does not read, keeps an extension apart): anything else is refused
before it gets there, so no number is dialled that the manifest did not spell."""


@functools.lru_cache(maxsize=65_536)
def canonical_number(text: str, region: str | None = None) -> str:
    """`text` as the E.164 number it spells (`+14155550100`), or a `ValueError` saying why not.

    Surrounding whitespace is dropped; separators (`+1 415-555-0100`, `(415) 555-0100`) are
    read by `phonenumbers`; a number without `+` needs `region` (ISO 3166-1, `US`), the
    campaign's or the environment's `defaultRegion`. A number no numbering plan allows (too
    short or too long for its country) is refused. The message masks the number: an error is
    a log line (built only for a number refused: 100,000 good ones need none).
    """
    trimmed = text.strip()
    if not _WRITTEN_NUMBER.fullmatch(trimmed):
        shown = repr(mask_number(trimmed))
        raise ValueError(
            f"{shown} is not an E.164 number like +14155550100, nor a phone number in another "
            "form (digits, a leading + and the separators space ( ) . - /, nothing else)"
        )
    if not trimmed.startswith("+") and region is None:
        shown = repr(mask_number(trimmed))
        raise ValueError(
            f"{shown} is not an E.164 number like +14155550100 (no country code): write it "
            "with +<country code>, or set defaultRegion (e.g. US) on the campaign or in the "
            "environment file to read national numbers"
        )
    import phonenumbers  # here, not at the top: 20 ms of start-up a manifest without numbers skips

    try:
        parsed = phonenumbers.parse(trimmed, region)
    except phonenumbers.NumberParseException:
        shown = repr(mask_number(trimmed))
        raise ValueError(f"{shown} is not an E.164 number: no country code reads it") from None
    if not phonenumbers.is_possible_number(parsed):
        shown = repr(mask_number(trimmed))
        raise ValueError(
            f"{shown} is not an E.164 number: no numbering plan of +{parsed.country_code} "
            "has numbers of its length"
        )
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


_E164 = re.compile(E164_PATTERN)
"""`E164_PATTERN` compiled once (`re.fullmatch` with its text looks it up in re's cache on
every call)."""


def is_e164(text: str) -> bool:
    """Whether `text` is a possible phone number written exactly in E.164 (`+14155550100`)."""
    if _E164.fullmatch(text) is None:
        return False
    try:
        return canonical_number(text, None) == text  # the key `canonical_or_same` caches
    except ValueError:
        return False


def e164_validator(value: str) -> str:
    """The validator of `E164Number` (the loader recognises the type by it, for its hints)."""
    # Masked even when malformed: an error message is a log line. `None` spelled out: the
    # cache keys `(value,)` and `(value, None)` apart, and each number would be parsed twice.
    return canonical_number(value, None)


E164Number = Annotated[StrictStr, AfterValidator(e164_validator)]
"""A string field holding a phone number in international form, kept in E.164 (a number
without a country code is read with the campaign's `defaultRegion` before this checks it)."""


def _region(value: str) -> str:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"{value!r} is not a region of the phone numbering plans: an ISO 3166-1 code in "
            "capitals, like US, GB or DE"
        )
    return value


Region = Annotated[StrictStr, AfterValidator(_region)]
"""`defaultRegion`: the country whose national format numbers without `+` are read in."""


def canonical_or_same(value: object, region: str | None) -> object:
    """`value` in E.164 when it is a phone number (read with `region`), else unchanged: a
    model's own validation then says what is wrong with it, at its line."""
    if not isinstance(value, str):
        return value
    try:
        return canonical_number(value, region)
    except ValueError:
        return value


def known_region(value: object) -> str | None:
    """A `defaultRegion` as a model reads it before validating it: the region when it is one,
    else None (the field's own validation reports a bad one)."""
    import phonenumbers

    return value if isinstance(value, str) and value in phonenumbers.SUPPORTED_REGIONS else None


class Lifecycle(BaseModel):
    """How the tool treats the resource itself (not sent to the API)."""

    model_config = ConfigDict(extra="forbid")

    preventDestroy: StrictBool = False


def prevents_destroy(lifecycle: Lifecycle | None) -> bool:
    """Whether a document's `lifecycle:` forbids plans that delete or replace it."""
    return bool(lifecycle and lifecycle.preventDestroy)
