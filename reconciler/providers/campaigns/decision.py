"""What a plan may do to a live campaign: the one decision both vendors' campaign kinds share.

Owns the parts' identity rules (`clashes`: two live parts claiming one ordinal cannot be told
apart; `next_number`: the ordinal of a new supplemental part), whether a campaign has started
(`has_started`), and the started/not-started decision (`decide`):

- not started, recipients removed or changed: replace (remove the parts, create it whole);
- not started, recipients added or fields changed: supplement, or replace where a batch cannot
  be modified after submission;
- started, recipients removed or changed, a field of a batch that cannot be modified changed,
  or a part stopped for good: refuse, with every reason;
- started, recipients added or fields changed: supplement (only the added recipients go to a
  new part; fields are updated in place where the API allows it);
- nothing differs: nothing.

A kind words the refusals, builds the requests, and adds what only its API has (Ultravox's
one-way pause, batch calling's cancel and retry). Pure: must not import httpx, deepdiff,
pydantic or any vendor folder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.providers.campaigns.recipients import RecipientChanges
from reconciler.providers.campaigns.state import Part


def clashes(parts: Sequence[Part]) -> list[tuple[Part, ...]]:
    """Groups of live parts that claim the same ordinal, by ordinal (none when all differ)."""
    counts = Counter(p.number for p in parts)
    return [
        tuple(p for p in parts if p.number == number)
        for number in sorted(n for n, count in counts.items() if count > 1)
    ]


def next_number(parts: Sequence[Part]) -> int:
    """The ordinal of a new supplemental part: after every live one."""
    return max(p.number for p in parts) + 1


def has_started(
    parts: Sequence[Part], *, idle: frozenset[str], part_started: Callable[[Part], bool]
) -> bool:
    """Whether anyone may have been dialled: a recipient in a status outside `idle` (the
    statuses of someone nobody has called yet), or a part the kind says has started."""
    return any(part_started(p) or any(r.status not in idle for r in p.recipients) for p in parts)


class Verdict(StrEnum):
    NOTHING = "nothing"
    """Recipients and fields match (a kind may still have its own actions, like a retry)."""
    REPLACE = "replace"
    """Nobody was dialled: remove the live parts and create the campaign again, whole."""
    SUPPLEMENT = "supplement"
    """Keep the live parts: update in place what the API allows, and send only the added
    recipients, in a supplemental part."""
    REFUSE = "refuse"
    """The change cannot be made without dialling someone twice or losing track; nothing is
    sent. `Decision.refusals` says why."""


class Refusal(StrEnum):
    """Why a started campaign refuses a change; the kind says it in its API's terms."""

    STOPPED = "stopped"
    """A part was stopped for good after calls started (cancelled), and cannot resume."""
    FIELDS = "fields"
    """A field of a batch that cannot be modified after submission changed."""
    REMOVED = "removed"
    """Recipients were removed: calls cannot be taken out of a started batch."""
    CHANGED = "changed"
    """Recipients were edited: a submitted recipient cannot be modified."""


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    recipients: RecipientChanges
    refusals: tuple[Refusal, ...] = ()
    """Every reason, in the order above, when the verdict is `REFUSE`."""


def decide(
    recipients: RecipientChanges,
    *,
    started: bool,
    modifiable: bool,
    fields_changed: bool = False,
    stopped: bool = False,
) -> Decision:
    """The decision for one live campaign (see the module's table).

    `modifiable`: the API updates a batch's own fields in place (Ultravox PATCH); otherwise a
    batch cannot be modified after submission (batch calling), so any change replaces it
    while nobody was dialled. Recipients are never modified in place. `stopped`: a part was
    stopped for good (only refused once started; a kind decides what stopped means).
    """
    edited = bool(recipients.removed or recipients.changed)
    grows = bool(recipients.added or fields_changed)
    if not started:
        if edited or (grows and not modifiable):
            return Decision(Verdict.REPLACE, recipients)
        return Decision(Verdict.SUPPLEMENT if grows else Verdict.NOTHING, recipients)
    refusals = [
        reason
        for reason, applies in (
            (Refusal.STOPPED, stopped),
            (Refusal.FIELDS, fields_changed and not modifiable),
            (Refusal.REMOVED, bool(recipients.removed)),
            (Refusal.CHANGED, bool(recipients.changed)),
        )
        if applies
    ]
    if refusals:
        return Decision(Verdict.REFUSE, recipients, tuple(refusals))
    return Decision(Verdict.SUPPLEMENT if grows else Verdict.NOTHING, recipients)
