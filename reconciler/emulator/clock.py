"""Timestamps of the emulator's virtual clock, printed and parsed the way the API does.

Owns: ISO-8601 formatting (`...Z`, microseconds only when non-zero) and parsing of client
datetimes. Must not import starlette, uvicorn, httpx or any reconciler module.
"""

from __future__ import annotations

from datetime import UTC, datetime


def real_now() -> datetime:
    """The real time in UTC, whole seconds (only used when no start time is configured)."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, as the API does for its UTC time zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_iso(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """A client datetime; raises ValueError with DRF's message when it is not one."""
    try:
        return as_utc(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        raise ValueError(
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
        ) from None
