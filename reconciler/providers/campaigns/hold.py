"""The hold of a new call batch, as plans see it afterwards (issue 10).

A request that creates a batch carries a `Hold`: apply moves the batch's start to a short
while after the server's clock when the manifest asks for earlier (or for now), so that no
call starts before applies running at the same time have removed each other's copies. The
server then holds a later start than the manifest says. That is not a change to make: a live
start later than the manifest's (or one where the manifest has none) by no more than the
longest hold after the batch's creation is the manifest's start, held (`held_back`).

Owns `held` (a plan's requests that create batches, with the hold and the note that says it)
and `held_back`. Pure: must not import httpx, deepdiff, pydantic or any vendor folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from reconciler.core.domain import Change, Hold, Request
from reconciler.core.limits import MAX_HOLD

SLACK = timedelta(seconds=60)
"""Beyond the longest hold: the server's clock and the `Date` it told apply may differ."""


def held(
    change: Change | None,
    seconds: float | None,
    creates: Callable[[Request], bool],
    field: str,
    *,
    unix: bool = False,
) -> Change | None:
    """`change` with a `Hold` of `seconds` on each request that `creates` a batch, and a note
    for the reviewer; unchanged without a hold (None or 0) or such a request."""
    if change is None or not seconds:
        return change
    requests = tuple(
        replace(r, hold=Hold(field, seconds, unix)) if creates(r) else r for r in change.requests
    )
    if requests == change.requests:
        return change
    note = (
        f"held: no call of a new batch starts within {seconds:g} s of its submission ({field} "
        "is moved to then when the manifest asks for earlier), so a copy made by an apply "
        "running at the same time is removed before anyone is dialled from it"
    )
    return replace(change, requests=requests, notes=(*change.notes, note))


def held_back(live: datetime | None, wanted: datetime | None, created: datetime | None) -> bool:
    """Whether a live start is the manifest's (`wanted`, None for "now") moved later by a
    hold: later than it, and no later than the longest hold after the batch's creation."""
    if live is None or created is None or (wanted is not None and live <= wanted):
        return False
    return live <= created + timedelta(seconds=MAX_HOLD) + SLACK
