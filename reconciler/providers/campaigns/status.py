"""Progress reports of campaigns (`reconciler status`): the parts every vendor's report shares.

Owns the report's head (`kind`, `name`, `provider`, `recipients`), the report of a campaign
not created yet, its duplicates (`duplicate_reports`: copies of recipients in two live
batches, never "supplemental"), and the counting: recipients per status (every known status
listed, zero or not) and sorted tallies (end reasons). The shape is `ResourceType.status`'s;
a kind adds its state, its batches and its calls. Phone numbers never appear here unmasked.
Pure: must not import httpx, deepdiff, pydantic or any vendor folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.core.domain import JSON, DesiredResource
from reconciler.providers.campaigns.duplicates import Duplicates
from reconciler.providers.campaigns.recipients import MAX_SHOWN
from reconciler.providers.campaigns.state import LiveRecipient, desired_campaign


def report_head(desired: DesiredResource) -> dict[str, JSON]:
    """What every campaign report starts with."""
    return {
        "kind": desired.key.kind,
        "name": desired.key.name,
        "provider": desired.provider,
        "recipients": len(desired_campaign(desired).recipients),
    }


def not_created(desired: DesiredResource, state: str = "not created") -> dict[str, JSON]:
    """The report of a campaign with no live part."""
    return {**report_head(desired), "state": state, "total": 0, "completed": 0}


def count_statuses(recipients: Iterable[LiveRecipient], known: Sequence[str]) -> dict[str, int]:
    """Recipients per status: every `known` status (in its order, zero included), then any
    other status the server reported, in the order first seen."""
    counts = dict.fromkeys(known, 0)
    for recipient in recipients:
        counts[recipient.status] = counts.get(recipient.status, 0) + 1
    return counts


def tally(values: Iterable[str]) -> dict[str, int]:
    """How often each value occurs, sorted by value (only values that occur)."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def duplicate_reports(found: Duplicates) -> list[dict[str, JSON]]:
    """Each copy among a campaign's batches: which batch repeats which, how many recipients
    (their numbers masked), and whether it has started (then people may be called twice)."""
    return [
        {
            "batch": copy.part.id,
            "of": [p.id for p in copy.kept],
            "recipients": len(copy.shared),
            "numbers": [r.masked for r in copy.shared[:MAX_SHOWN] if r.masked],
            "started": copy.started,
        }
        for copy in (*found.removable, *found.stuck)
    ]
