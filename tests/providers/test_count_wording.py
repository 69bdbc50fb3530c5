"""Counts in the campaign messages agree with their number (issue 13, item 8): "1 recipient
was removed", "2 recipients were removed", never "1 recipient(s)". Each message is asserted
whole, for one and for two, from the pure functions that word it.
"""

from __future__ import annotations

import pytest

from reconciler.core.domain import ResourceKey
from reconciler.providers.batchcalling.batch_calls import _refusal
from reconciler.providers.campaigns.decision import Refusal
from reconciler.providers.campaigns.duplicates import (
    Duplicates,
    find_duplicates,
    removal_note,
    stuck_message,
)
from reconciler.providers.campaigns.recipients import RecipientChanges
from reconciler.providers.campaigns.state import LiveRecipient, Part, Recipient
from reconciler.providers.ultravox.batches import _uncallable

KEYS = ("0100", "0101")


def recipient(key: str) -> Recipient:
    return Recipient(key=key, number=f"+1415555{key}", payload={})


def part(ident: str, created: int, keys: tuple[str, ...], status: str = "pending") -> Part:
    return Part(
        id=ident,
        number=1,
        name="spring",
        recipients=tuple(LiveRecipient(k, "pending", f"+1415***{k}") for k in keys),
        batch={"created": created},
        status=status,
    )


def duplicates(keys: tuple[str, ...], status: str = "pending") -> tuple[Part, ...]:
    return (part("a", 1, keys, status), part("b", 2, keys, status))


def found(parts: tuple[Part, ...]) -> Duplicates:
    return find_duplicates(
        parts,
        idle=frozenset({"pending"}),
        waiting=frozenset({"pending"}),
        dropped=frozenset(),
        part_started=lambda p: p.status != "pending",
        created=lambda p: p.batch["created"],
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            KEYS[:1],
            "duplicate: batch b repeats 1 recipient of batch a and nobody has been dialled from "
            "it yet, so it is cancelled and each is called once (+1415***0100)",
        ),
        (
            KEYS,
            "duplicate: batch b repeats 2 recipients of batch a and nobody has been dialled from "
            "it yet, so it is cancelled and each is called once (+1415***0100, +1415***0101)",
        ),
    ],
)
def test_a_removed_copy_counts_its_recipients(keys: tuple[str, ...], expected: str) -> None:
    assert removal_note(found(duplicates(keys)).removable[0], "cancelled") == expected


@pytest.mark.parametrize(
    ("keys", "held"),
    [(KEYS[:1], "1 recipient"), (KEYS, "2 recipients")],
)
def test_a_stuck_copy_counts_its_recipients(keys: tuple[str, ...], held: str) -> None:
    stuck = found(duplicates(keys, status="in_progress")).stuck
    message = stuck_message(ResourceKey("BatchCall", "spring"), stuck, "cancel one")
    shown = ", ".join(f"+1415***{k}" for k in keys)
    assert message == (
        f"BatchCall/spring would call people twice: batch b and batch a both hold {held} and "
        f"both have started: {shown}. Calls cannot be taken out of a started batch; cancel "
        "one, then plan again."
    )


@pytest.mark.parametrize(
    ("keys", "wording"),
    [(KEYS[:1], "1 recipient was"), (KEYS, "2 recipients were")],
)
def test_a_batchcall_refusal_counts_removed_recipients(keys: tuple[str, ...], wording: str) -> None:
    removed = tuple(LiveRecipient(k, "completed", f"+1415***{k}") for k in keys)
    message = _refusal(Refusal.REMOVED, (), (), RecipientChanges(removed=removed))
    shown = ", ".join(f"+1415***{k}" for k in keys)
    assert message == (
        f"{wording} removed from the manifest after calls started ({shown}); the API cannot "
        "take recipients out of a batch. Put them back, or set `cancelled: true`"
    )


@pytest.mark.parametrize(
    ("keys", "wording"),
    [(KEYS[:1], "1 recipient"), (KEYS, "2 recipients")],
)
def test_a_batchcall_refusal_counts_changed_recipients(keys: tuple[str, ...], wording: str) -> None:
    changed = tuple(recipient(k) for k in keys)
    message = _refusal(Refusal.CHANGED, (), (), RecipientChanges(changed=changed))
    shown = ", ".join(f"+1415***{k}" for k in keys)
    assert message == (
        f"{wording} changed after calls started ({shown}); a submitted recipient cannot be "
        "modified. Put the old values back, or call them in a new BatchCall (a new name)"
    )


@pytest.mark.parametrize(
    ("keys", "wording"),
    [(KEYS[:1], "1 recipient"), (KEYS, "2 recipients")],
)
def test_uncallable_scheduled_calls_are_counted(keys: tuple[str, ...], wording: str) -> None:
    key = ResourceKey("ScheduledBatch", "renewals")
    message = _uncallable(
        key, [recipient(k) for k in keys], "windowEnd 2030-01-01T00:00:00Z is past"
    )
    shown = ", ".join(f"+1415***{k}" for k in keys)
    assert message.startswith(
        f"ScheduledBatch/renewals: {wording} the manifest wants called can no longer be called, "
        f"because windowEnd 2030-01-01T00:00:00Z is past: {shown}. Nothing was sent."
    )
