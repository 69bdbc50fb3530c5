"""Duplicates: recipients that two live parts of one campaign will call, and which copy goes.

Every recipient of a campaign belongs in one part. Two applies running at the same time, or a
write whose answer was lost and that was made again, can leave two parts holding the same
people: the later one is a copy. Every process, and every later plan, must agree on which part
is kept without talking to each other, so the order is one they all read alike from the
account: a part that has started first (calls cannot be taken back), then the oldest (the
server's creation time), then the lowest id.

`find_duplicates` walks the parts in that order and, for each, finds the recipients it shares
with a part kept before it (by key, or by hashed destination where the kind has one):

- a copy that has not started is *removable*: cancel or delete it, whole, before anyone is
  dialled from it (its other recipients, if any, are planned again from the parts kept);
- a copy that has started is *stuck*: both parts will call those people, or have; the tool
  cannot take calls out of a started batch, so a plan stops and names them.

A shared recipient counts only while someone is still to be called in one of the two parts:
two parts that both finished calling someone are history, not something to repair.

Also the words and the change every kind uses for them: `removal_note`, `stuck_message`,
`with_removals`. Pure: must not import httpx, deepdiff, pydantic or any vendor folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.core.domain import Action, Change, Request, ResourceKey
from reconciler.core.wording import count
from reconciler.providers.campaigns.recipients import MAX_SHOWN
from reconciler.providers.campaigns.state import LiveRecipient, Part


@dataclass(frozen=True)
class Copy:
    """A part that repeats recipients of parts kept before it."""

    part: Part
    kept: tuple[Part, ...]
    """The parts it repeats recipients of, in the order above (the first is the oldest)."""
    shared: tuple[LiveRecipient, ...]
    """Its recipients that a kept part holds too."""
    started: bool
    """Whether anyone may have been dialled from it (then it cannot be removed)."""


@dataclass(frozen=True)
class Duplicates:
    removable: tuple[Copy, ...] = ()
    """Copies nobody was dialled from: removing each keeps everyone called once."""
    stuck: tuple[Copy, ...] = ()
    """Copies that have started: people may be called twice, and the tool cannot stop it."""

    @property
    def empty(self) -> bool:
        return not (self.removable or self.stuck)

    def kept(self, parts: Sequence[Part]) -> tuple[Part, ...]:
        """`parts` without the removable copies, in their order."""
        gone = {c.part.id for c in self.removable}
        return tuple(p for p in parts if p.id not in gone)


def _identities(recipient: LiveRecipient) -> list[tuple[str, str]]:
    found = [("key", recipient.key)] if recipient.key else []
    return found + ([("reach", recipient.reach)] if recipient.reach else [])


def find_duplicates(
    parts: Sequence[Part],
    *,
    idle: frozenset[str],
    waiting: frozenset[str],
    dropped: frozenset[str],
    part_started: Callable[[Part], bool],
    created: Callable[[Part], Any],
) -> Duplicates:
    """The copies among a campaign's live parts (see the module's rules).

    `idle`: recipient statuses of someone nobody has called yet (a part whose recipients are
    all idle, and that the kind does not call started, has not started); `waiting`: statuses
    of someone still to be called; `dropped`: statuses of someone who never will be (the call
    expired or was cancelled), who counts in no pair; `created`: the part's creation time as
    something that sorts (ties go to the lowest id).
    """

    def started(part: Part) -> bool:
        return part_started(part) or any(r.status not in idle for r in part.recipients)

    ordered = sorted(parts, key=lambda p: (not started(p), created(p), p.id))
    claimed: dict[tuple[str, str], tuple[Part, LiveRecipient]] = {}
    removable: list[Copy] = []
    stuck: list[Copy] = []
    for part in ordered:
        counted = [r for r in part.recipients if r.status not in dropped]
        shared: list[LiveRecipient] = []
        kept: list[Part] = []
        for recipient in counted:
            for identity in _identities(recipient):
                hit = claimed.get(identity)
                if hit is None:
                    continue
                other, earlier = hit
                if recipient.status in waiting or earlier.status in waiting:
                    shared.append(recipient)
                    if other not in kept:
                        kept.append(other)
                break
        began = started(part)
        if shared:
            copy = Copy(part, tuple(kept), tuple(shared), began)
            if not began:
                removable.append(copy)
                continue  # the whole part goes: its recipients claim nothing
            stuck.append(copy)
        for recipient in counted:
            for identity in _identities(recipient):
                claimed.setdefault(identity, (part, recipient))
    return Duplicates(tuple(removable), tuple(stuck))


def _shown(recipients: Sequence[LiveRecipient]) -> str:
    masked = [r.masked for r in recipients if r.masked]
    shown = ", ".join(masked[:MAX_SHOWN])
    more = len(recipients) - min(len(masked), MAX_SHOWN)
    return shown + (f" and {more} more" if more > 0 else "") if shown else f"{len(recipients)}"


def removal_note(copy: Copy, removed: str) -> str:
    """What a plan says of a copy it removes (`removed`: "deleted", "cancelled")."""
    kept = ", ".join(p.id for p in copy.kept)
    return (
        f"duplicate: batch {copy.part.id} repeats {count(len(copy.shared), 'recipient')} of batch "
        f"{kept} and nobody has been dialled from it yet, so it is {removed} and each is "
        f"called once ({_shown(copy.shared)})"
    )


def stuck_message(key: ResourceKey, copies: Sequence[Copy], advice: str) -> str:
    """Why a plan stops on copies that have started: the batches and the masked numbers."""
    lines = [
        f"batch {c.part.id} and batch {', '.join(p.id for p in c.kept)} both hold "
        f"{count(len(c.shared), 'recipient')} and both have started: {_shown(c.shared)}"
        for c in copies
    ]
    return (
        f"{key} would call people twice: "
        + "; ".join(lines)
        + f". Calls cannot be taken out of a started batch; {advice}, then plan again."
    )


def with_removals(
    key: ResourceKey,
    provider: str,
    kept_id: str,
    removals: Sequence[Request],
    notes: Sequence[str],
    rest: Change | None,
) -> Change:
    """The change that removes the copies first, then does what the kept parts still need."""
    if rest is None:
        return Change(
            key=key,
            provider=provider,
            action=Action.UPDATE,
            requests=tuple(removals),
            resource_id=kept_id,
            notes=tuple(notes),
        )
    return replace(
        rest,
        requests=(*removals, *rest.requests),
        notes=(*notes, *rest.notes),
        resource_id=rest.resource_id or kept_id,
    )
