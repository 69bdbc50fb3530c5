"""The typed state of an outbound campaign, desired and live, for every vendor's campaign kind.

Owns the immutable records a campaign kind puts in `DesiredResource.detail` and
`LiveResource.detail` (`DesiredCampaign` with its `Recipient`s; `LiveCampaign` with its `Part`s
and their `LiveRecipient`s), and the typed accessors `desired_campaign` / `live_campaign`, which
fail loudly when a resource holds anything else. Vendor payloads stay in the vendor's own
shape (`Recipient.payload`, `Part.batch`); everything the shared logic reads is an attribute.
Pure data: must not import httpx, deepdiff, pydantic or any vendor folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.core.domain import JSON, DesiredResource, LiveResource, detail_of


@dataclass(frozen=True)
class Recipient:
    """One recipient of a desired campaign: whom it reaches, and what is sent for it."""

    key: str
    """The stable recipient key the tool sends with it, so a live recipient is recognised:
    Ultravox's `reconciler.recipient` metadata, batch calling's recipient `id`. Never a
    phone number."""
    number: str | None
    """Whom it reaches (a phone number or a WhatsApp id), shown masked; None for a call that is
    not outgoing."""
    payload: Mapping[str, JSON]
    """Exactly what a request body carries for this recipient (the vendor's shape)."""
    reach: str | None = None
    """A second identity: the hashed destination, so a number already submitted under another
    key is still recognised (batch calling); None where the key is the only identity."""


@dataclass(frozen=True)
class DesiredCampaign:
    """What a campaign manifest asks for beyond the batch's own fields (`spec`)."""

    recipients: tuple[Recipient, ...]
    """Unique recipients, in manifest order (inline first, then the recipients file)."""
    agent: str | None = None
    """The Agent manifest it runs on, when it names one (ScheduledBatch `agent:`)."""
    agent_id: str | None = None
    """The vendor's agent id, when the manifest gives it directly."""
    cancelled: bool = False
    """`cancelled: true` (BatchCall): cancel what is still to be called."""
    retries: int | None = None
    """`retries: N` (BatchCall): retry a finished part's failed calls until its count is N."""
    origins: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    """Where each recipient is listed (file, line), in the order of `recipients`, for the
    checks across documents (a call's template variables); empty where unknown."""


@dataclass(frozen=True)
class LiveRecipient:
    """One recipient (or scheduled call) of a live part, as the plan keeps it."""

    key: str | None
    """The stable recipient key it was sent with; None when the server holds none."""
    status: str
    """The vendor's status of this recipient or call, as text (`FUTURE`, `pending`, ...)."""
    masked: str = ""
    """Whom it reaches, masked (`+1415***0100`); never the whole number."""
    call_id: str | None = None
    """The id of the call made to it, if any (Ultravox `callId`; batch calling's
    `conversation_id`, else the recipient id)."""
    reach: str | None = None
    """The hashed destination (batch calling), the second identity; see `Recipient.reach`."""
    sent: Mapping[str, JSON] | None = None
    """What the server echoes of what was sent for it (Ultravox: the scheduled call's fields,
    for export; batch calling: the client data, for comparison); None when it echoes nothing."""


@dataclass(frozen=True)
class Part:
    """One API batch of a campaign: the first, or a supplemental one holding recipients added
    after calls started."""

    id: str
    number: int
    """Ordinal: 1 for the first part, 2, 3, ... for the supplemental ones."""
    name: str
    """What the part is named by in the account (batch calling: `name~2`; Ultravox: the
    campaign name its calls carry)."""
    recipients: tuple[LiveRecipient, ...]
    batch: Mapping[str, JSON]
    """The batch as listed, in the vendor's shape: the fields a plan compares and reports."""
    status: str | None = None
    """The vendor's status of the batch, where it has one (batch calling)."""
    agent_id: str | None = None
    """The agent the batch runs on."""


@dataclass(frozen=True)
class LiveCampaign:
    """Every part of one campaign as read, first part first."""

    parts: tuple[Part, ...]
    agent_id: str | None = None
    """The agent all parts live under, where the API nests batches under agents (Ultravox)."""
    history: tuple[str, ...] = ()
    """Ids of batches that carry the campaign's name but are no part of it (batch calling:
    cancelled before anyone was dialled, what a replace leaves behind)."""

    @property
    def recipients(self) -> tuple[LiveRecipient, ...]:
        """The recipients of every part, in part order."""
        return tuple(r for p in self.parts for r in p.recipients)


def desired_campaign(resource: DesiredResource) -> DesiredCampaign:
    """The campaign state of a desired campaign resource (a `TypeError` for any other)."""
    return detail_of(resource, DesiredCampaign)


def live_campaign(resource: LiveResource) -> LiveCampaign:
    """The campaign state of a live campaign resource (a `TypeError` for any other)."""
    return detail_of(resource, LiveCampaign)
