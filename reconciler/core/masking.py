"""Masking of phone numbers and contact ids: one rule for plans, notes, status and logs.

Owns how much of a number is shown (`+1415***0100`: enough to recognise, not enough to dial)
and which JSON fields hold contacts whatever they look like. Pure; imports nothing from the
package.
"""

from __future__ import annotations

import re
from typing import Any

_E164 = re.compile(r"^\+\d{7,15}$")

# Fields that hold whom a call reaches, whatever the value looks like (a WhatsApp user id is
# not E.164, a SIP address is not a number).
CONTACT_FIELDS = frozenset({"to", "from", "phone_number", "whatsapp_user_id"})


def mask_number(number: str | None) -> str:
    """`+14155550100` -> `+1415***0100`; too short to mask partly -> `***`."""
    if not number:
        return "(no number)"
    return f"{number[:5]}***{number[-4:]}" if len(number) > 9 else "***"


def mask_phone(text: str) -> str:
    """Mask `text` if it is an E.164 number; any other text is returned as it is."""
    return f"{text[:5]}***{text[-4:]}" if _E164.match(text) else text


def masked(value: Any) -> Any:
    """A copy of a JSON value with every E.164 number and every contact field masked, and
    every `{"$secret": NAME}` reference shown as the variable it comes from."""
    if isinstance(value, str):
        return mask_phone(value)
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return f"(secret from ${value['$secret']})"
        return {
            k: mask_number(v) if k in CONTACT_FIELDS and isinstance(v, str) else masked(v)
            for k, v in value.items()
        }
    return value
