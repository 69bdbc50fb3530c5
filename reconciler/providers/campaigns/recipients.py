"""Recipients of a campaign: unique in the manifests, matched against the live parts, shown masked.

Owns the rules every vendor's campaign kind shares about recipients:
- `unique`: each recipient once, by its stable key (and, where a kind has one, by its hashed
  destination too); every duplicate is a `Diagnostic` at its own file and line naming where
  it was listed first (`unique_listed`: which listings it kept, for where each is listed).
- `compare_recipients`: which recipients the manifest adds, which live ones it removes, and
  which it changes (by key first, then by hashed destination), so a number already submitted
  is never submitted again.
- `recipient_list`: masked numbers for plan notes, never a whole number.
Pure: must not import httpx, deepdiff, pydantic or any vendor folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from reconciler.core.errors import Diagnostic
from reconciler.providers.campaigns.state import LiveRecipient, Recipient

MAX_SHOWN = 5
"""How many masked numbers a note lists before "and N more"."""


class Located(NamedTuple):
    """A recipient and where the manifests list it (the manifest, or a recipients file).

    A named tuple, not a dataclass: 100,000 of them are made for a campaign's file, a third
    of the time of a dataclass each; a plain `(file, line, recipient)` is one as well."""

    file: str
    line: int
    recipient: Recipient


Listed = tuple[str, int, Recipient]
"""A recipient and where it is listed: a `Located`, or the plain tuple of the same."""


def unique(
    located: Iterable[Listed],
    *,
    container: str,
    mask: Callable[[str | None], str],
    inline_file: str | None = None,
) -> tuple[tuple[Recipient, ...], list[Diagnostic]]:
    """The recipients, each once (first listing wins), and a problem for every duplicate.

    A recipient is a duplicate when its key, or its hashed destination (`reach`), was seen
    before. `container` names the campaign in the message (`batch 'renewals'`); `mask` shows
    the duplicate's number. Duplicates where both listings are in `inline_file` are dropped
    without a message: the manifest model reports those at their own line.
    """
    listed = located if isinstance(located, Sequence) else tuple(located)
    kept, problems = unique_listed(listed, container=container, mask=mask, inline_file=inline_file)
    return tuple(listed[index][2] for index in kept), problems


def unique_listed(
    listed: Sequence[Listed],
    *,
    container: str,
    mask: Callable[[str | None], str],
    inline_file: str | None = None,
) -> tuple[list[int], list[Diagnostic]]:
    """`unique`, as the indices of the listings kept (for a kind that keeps more of them than
    the recipient: where each is listed)."""
    # One dict per identity, each to the index of its first listing (the listing itself is
    # looked up only for a duplicate): 100,000 rows pass through here in the main process.
    by_key: dict[str, int] = {}
    by_reach: dict[str, int] = {}
    kept: list[int] = []
    problems: list[Diagnostic] = []
    for index, (file, line, recipient) in enumerate(listed):
        key, reach = recipient.key, recipient.reach
        first = by_key.get(key)
        if first is None and reach is not None:
            first = by_reach.get(reach)
        if first is None:
            by_key[key] = index
            if reach is not None:
                by_reach[reach] = index
            kept.append(index)
            continue
        first_file, first_line, _ = listed[first]
        if inline_file is None or file != inline_file or first_file != inline_file:
            problems.append(
                Diagnostic(
                    file,
                    line,
                    f"recipient {mask(recipient.number)} is listed twice in {container} "
                    f"(first at {first_file}:{first_line})",
                )
            )
    return kept, problems


@dataclass(frozen=True)
class RecipientChanges:
    """How the manifest's recipients differ from the live parts' recipients."""

    added: tuple[Recipient, ...] = ()
    """In the manifest, in no live part: the only recipients a supplemental part may hold."""
    removed: tuple[LiveRecipient, ...] = ()
    """In a live part, no longer in the manifest."""
    changed: tuple[Recipient, ...] = ()
    """In both, but what was sent for them differs (or the key now reaches someone else)."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def compare_recipients(
    wanted: Sequence[Recipient],
    live: Sequence[LiveRecipient],
    differs: Callable[[Recipient, LiveRecipient], bool] | None = None,
) -> RecipientChanges:
    """Added, removed and changed recipients.

    A wanted recipient matches the live one with its key, else the live one with its hashed
    destination (a safety net: a number already submitted is never submitted again, even when
    the server assigned its own ids or the manifest added an id later). `differs` says whether
    a matched pair changed; without it, nothing counts as changed (a kind whose key is the
    whole identity).
    """
    by_key = {r.key: r for r in live if r.key}
    by_reach = {r.reach: r for r in live if r.reach}
    wanted_keys = {w.key for w in wanted}
    wanted_reach = {w.reach for w in wanted if w.reach}
    added: list[Recipient] = []
    changed: list[Recipient] = []
    for recipient in wanted:
        match = by_key.get(recipient.key) or (
            by_reach.get(recipient.reach) if recipient.reach else None
        )
        if match is None:
            added.append(recipient)
        elif differs is not None and differs(recipient, match):
            changed.append(recipient)
    removed = tuple(
        r
        for r in live
        if r.key not in wanted_keys and (r.reach is None or r.reach not in wanted_reach)
    )
    return RecipientChanges(tuple(added), removed, tuple(changed))


def recipient_list(
    recipients: Sequence[Recipient], mask: Callable[[str], str], *, without_numbers: str = ""
) -> str:
    """`+1415***0100, +1415***0101 and 3 more`: the first numbers masked, the rest counted.

    Recipients without a number (calls that are not outgoing) are counted, not shown;
    `without_numbers` is the text when none has one.
    """
    numbers = [r.number for r in recipients if r.number]
    if not numbers:
        return without_numbers
    shown = ", ".join(mask(n) for n in numbers[:MAX_SHOWN])
    more = len(recipients) - min(len(numbers), MAX_SHOWN)
    return shown + (f" and {more} more" if more > 0 else "")
