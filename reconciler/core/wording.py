"""Counts in messages: `count(1, "resource")` is "1 resource", `count(2, "resource")` is
"2 resources". The one helper every user-facing message that prints a count goes through,
so no message says "1 resources", "1 recipient(s)" or "2 error".

Pure; imports nothing from the package.
"""

from __future__ import annotations


def count(number: float, singular: str, plural: str | None = None) -> str:
    """`number` and the noun that agrees with it: `singular` for exactly one, else `plural`
    (by default `singular` + "s"; "0.5 seconds", as English has it). The words may carry
    their verb, so it agrees too: `count(n, "recipient was", "recipients were")`."""
    return f"{number} {agree(number, singular, plural)}"


def agree(number: float, singular: str, plural: str | None = None) -> str:
    """The word alone that agrees with `number`, for one that stands apart from the count
    (`f"{count(n, 'batch', 'batches')} still pending {agree(n, 'stops', 'stop')}"`)."""
    return singular if number == 1 else (plural or singular + "s")
