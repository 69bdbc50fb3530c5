"""The emulator's virtual clock, and timestamps printed and parsed the way the APIs do.

Owns: `VirtualClock` (one per emulator, shared by every vendor API: it only moves when told
to, through `POST /_emulator/advance`), ISO-8601 formatting (`...Z`, microseconds only when
non-zero) and parsing of client datetimes. Vendor-neutral and pure: must not import starlette,
uvicorn, httpx, any vendor package or anything of the product.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


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


class VirtualClock:
    """Starts at `start` (default: the real time, whole seconds) and moves only forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = as_utc(start) if start is not None else real_now()
        self.now = self.start

    def rewind(self) -> None:
        """Back to the start (an emulator reset)."""
        self.now = self.start

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("The clock only moves forward.")
        self.now = self.now + timedelta(seconds=seconds)
        return self.now

    def iso(self) -> str:
        return to_iso(self.now)
