"""Duplicates in the campaign kit (issue 10, items 1 and 2), without a vendor or a network.

Which part of a campaign is a copy, which copy every process agrees to remove, and when the
tool can no longer repair it: table-driven over parts built by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import pytest

from reconciler.core.domain import Action, Change, Request, ResourceKey
from reconciler.providers.campaigns.duplicates import (
    Duplicates,
    find_duplicates,
    removal_note,
    stuck_message,
    with_removals,
)
from reconciler.providers.campaigns.state import LiveRecipient, Part

IDLE = frozenset({"pending", "cancelled"})
WAITING = frozenset({"pending"})
DROPPED = frozenset({"cancelled"})


def part(ident: str, created: int, *recipients: tuple[str, str], status: str = "pending") -> Part:
    """A part holding (key, status) recipients; `status` is the batch's."""
    return Part(
        id=ident,
        number=1,
        name="spring",
        recipients=tuple(LiveRecipient(k, s, masked=f"+1415***{k}") for k, s in recipients),
        batch={"id": ident, "created": created},
        status=status,
    )


def find(*parts: Part) -> Duplicates:
    return find_duplicates(
        parts,
        idle=IDLE,
        waiting=WAITING,
        dropped=DROPPED,
        part_started=lambda p: p.status != "pending",
        created=lambda p: p.batch["created"],
    )


def removed(found: Duplicates) -> list[str]:
    return [c.part.id for c in found.removable]


@dataclass(frozen=True)
class Case:
    name: str
    parts: tuple[Part, ...]
    removable: tuple[str, ...]
    stuck: tuple[str, ...] = ()


P = ("0100", "pending")
Q = ("0101", "pending")
CASES = [
    Case("one part", (part("a", 1, P, Q),), ()),
    Case("disjoint parts", (part("a", 1, P), part("b", 2, Q)), ()),
    Case("the newer copy goes", (part("a", 1, P, Q), part("b", 2, P, Q)), ("b",)),
    Case("a tie goes to the lowest id", (part("b", 1, P, Q), part("a", 1, P, Q)), ("b",)),
    Case(
        "a started part is kept, even when newer",
        (part("a", 1, P, Q), part("b", 2, ("0100", "completed"), Q, status="in_progress")),
        ("a",),
    ),
    Case(
        "three copies: both newer ones go",
        (part("a", 1, P), part("b", 2, P), part("c", 3, P)),
        ("b", "c"),
    ),
    Case("a partial copy goes whole", (part("a", 1, P), part("b", 2, P, Q)), ("b",)),
    Case(
        "both started and someone waits: stuck",
        (
            part("a", 1, ("0100", "completed"), Q, status="in_progress"),
            part("b", 2, ("0100", "in_progress"), Q, status="in_progress"),
        ),
        (),
        ("b",),
    ),
    Case(
        "both finished calling them: history, not a duplicate",
        (
            part("a", 1, ("0100", "completed"), status="completed"),
            part("b", 2, ("0100", "failed"), status="failed"),
        ),
        (),
    ),
    Case(
        "a cancelled recipient counts in no pair",
        (part("a", 1, ("0100", "cancelled"), status="cancelled"), part("b", 2, P)),
        (),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_which_part_is_a_copy(case: Case) -> None:
    found = find(*case.parts)
    assert tuple(removed(found)) == case.removable
    assert tuple(c.part.id for c in found.stuck) == case.stuck
    assert found.empty == (not case.removable and not case.stuck)


def test_every_process_agrees_whatever_order_it_lists_the_parts_in() -> None:
    parts = (part("b", 5, P, Q), part("a", 5, P, Q), part("c", 4, P, Q), part("d", 6, Q))
    verdicts = {tuple(removed(find(*order))) for order in permutations(parts)}
    assert verdicts == {("a", "b", "d")}  # c is the oldest: it is kept


def test_a_process_that_sees_fewer_parts_never_removes_the_one_kept() -> None:
    """A process lists the account at its own moment and may not see every copy yet; what it
    removes is never what a process that sees all of them keeps (convergence, item 1)."""
    parts = [part("x", 3, P), part("m", 3, P), part("z", 1, P)]
    kept_by_all = {p.id for p in find(*parts).kept(parts)}
    for size in (1, 2):
        for seen in permutations(parts, size):
            assert not set(removed(find(*seen))) & kept_by_all


def test_kept_is_the_parts_without_the_removable_copies() -> None:
    parts = [part("a", 1, P), part("b", 2, P), part("c", 3, Q)]
    assert [p.id for p in find(*parts).kept(parts)] == ["a", "c"]


def test_messages_name_the_batches_and_only_masked_numbers() -> None:
    found = find(part("a", 1, P, Q), part("b", 2, P, Q))
    note = removal_note(found.removable[0], "cancelled")
    assert "batch b repeats 2 recipients of batch a" in note and "cancelled" in note
    assert "+1415***0100, +1415***0101" in note
    stuck = find(
        part("a", 1, ("0100", "completed"), Q, status="in_progress"),
        part("b", 2, ("0100", "initiated"), Q, status="in_progress"),
    )
    message = stuck_message(ResourceKey("BatchCall", "spring"), stuck.stuck, "cancel one")
    assert message.startswith("BatchCall/spring would call people twice: batch b and batch a")
    assert "+1415***0101" in message and "cancel one, then plan again" in message


def test_with_removals_puts_the_removals_first() -> None:
    key = ResourceKey("BatchCall", "spring")
    cancel = Request("POST", "/x/b/cancel")
    alone = with_removals(key, "threetone", "a", [cancel], ["note"], None)
    assert (alone.action, alone.requests, alone.resource_id) == (Action.UPDATE, (cancel,), "a")
    rest = Change(key, "threetone", Action.REPLACE, requests=(Request("POST", "/x/submit"),))
    merged = with_removals(key, "threetone", "a", [cancel], ["note"], rest)
    assert merged.action is Action.REPLACE
    assert [r.path for r in merged.requests] == ["/x/b/cancel", "/x/submit"]
    assert merged.notes == ("note",) and merged.resource_id == "a"
