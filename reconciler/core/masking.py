"""Masking of phone numbers and contact ids: one rule for plans, notes, status and logs.

Owns how much of a number is shown (`+1415***0100`: enough to recognise, not enough to dial)
and which JSON fields hold contacts whatever they look like. Pure; imports nothing from the
package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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


_DIGIT = re.compile(r"\d")
"""What every pattern here needs at least one of: a string without it has nothing to mask."""


def masked(value: Any) -> Any:
    """A copy of a JSON value with every phone number masked (E.164 values, contact fields,
    and E.164-looking runs inside free text or as bare integers), and every
    `{"$secret": NAME}` reference shown as the variable it comes from."""
    # The exact types first: a plan's body of 100,000 calls is a million values (the checks
    # below still take the subclasses, as before).
    kind = type(value)
    if kind is str:
        return _masked_text(value)
    if kind is dict:
        return _masked_dict(value)
    if kind is list:
        return [masked(v) for v in value]
    return _masked_other(value)


def _masked_dict(value: dict[Any, Any]) -> Any:
    """`masked` of an exact dict: each value of an exact type masked here, without `masked`'s
    dispatch (a body of 100,000 calls is 600,000 dicts: 0.91 s of CPU, now 0.63 s)."""
    if len(value) == 1 and "$secret" in value:
        return f"(secret from ${value['$secret']})"
    out: dict[Any, Any] = {}
    for k, v in value.items():
        kind = type(v)
        if kind is str:
            out[k] = mask_number(v) if k in CONTACT_FIELDS else _masked_text(v)
        elif kind is dict:
            out[k] = _masked_dict(v)
        elif k in CONTACT_FIELDS and isinstance(v, str):
            out[k] = mask_number(v)
        elif kind is list:
            out[k] = [masked(item) for item in v]
        else:
            out[k] = _masked_other(v)
    return out


def _masked_other(value: Any) -> Any:
    """`masked` of anything but an exact str, dict or list."""
    if isinstance(value, str):
        return mask_numbers_in_text(mask_phone(value))
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and 11 <= len(str(abs(value))) <= 15:
        return mask_number(str(value))
    if isinstance(value, (list, tuple)):
        # A tuple is a JSON array too (json.dumps writes it as one): masked, as a list.
        return [masked(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return f"(secret from ${value['$secret']})"
        return {
            k: mask_number(v) if k in CONTACT_FIELDS and isinstance(v, str) else masked(v)
            for k, v in value.items()
        }
    return value


# --- free text: numbers anywhere, and the secret values of this run ---------------------------

# A `+` and 7 to 19 digits, maybe grouped by spaces, dots, dashes or parentheses (as people
# write numbers in prompts); or, without the `+`, 10 to 15 digits grouped by spaces, dashes or
# parentheses (`1 (415) 555-0199`), or 11 to 15 in one run (an E.164 number without its `+`).
# Runs inside words, ids (UUID groups), decimals, times and paths are left alone; so are ten
# digits in one run (unix seconds). The leading `(?=[+(\d])` matches nothing the rest would not
# (every match starts with one of those), but lets the scan skip the other characters before
# trying the lookbehind: half the time over a plan's 26 MB of text.
_NUMBER_IN_TEXT = re.compile(
    r"(?=[+(\d])(?<![\w+.\-/:#])"
    r"(?:\+\d(?:[ ().-]{0,2}\d){6,18}|\(?\d[\d ()-]{8,26}\d)(?![\w\-/:])"
)


def _one_number(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw.startswith("+"):
        grouped = any(not ch.isdigit() for ch in raw)
        if not (10 <= len(digits) <= 15) or (not grouped and len(digits) < 11):
            return raw
    return mask_number(("+" if raw.startswith("+") else "") + digits)


def mask_numbers_in_text(text: str) -> str:
    """Every E.164-looking run of digits in `text` masked (`call +1415***0100 now`)."""
    if len(text) >= _LONG and text.isascii():
        return _numbers_in_long_text(text)
    # `_DIGIT`, not `str.isdigit` per character: the pattern needs a `\d`, and a regex finds
    # one without a Python step per character.
    return _NUMBER_IN_TEXT.sub(_one_number, text) if _DIGIT.search(text) else text


_LONG = 65_536
"""From how many characters a text is searched for runs before the pattern is run (a plan's
26 MB line of a masked body: 0.66 s of the pattern, 0.10 s this way)."""
_RUN_CHARS = b"+0123456789 ().-"
_RUN_TABLE = bytes(ord("x") if byte in _RUN_CHARS else ord(".") for byte in range(256))
_RUN = re.compile(rb"xxxxxxxx+")
"""Every match of `_NUMBER_IN_TEXT` is 8 or more characters all of `_RUN_CHARS` (`+` and 7
digits with separators; or 10 of digits, spaces, parentheses and dashes), so it lies inside
one such run: outside the runs there is nothing to mask."""
_DENSE = 200
"""Up to how many characters per run (on average) a piece is searched by the pattern alone:
a text full of numbers (an unmasked body) has a run every few dozen."""
_PIECE = 1 << 20
"""How many characters are searched for runs at a time (at most twice that many bytes more in
memory, not twice the text's size)."""
_RUN_REST = re.compile(r"[+0-9 ().\-]*")
"""The rest of a run from where a piece would end: a piece ends where no run goes on."""


def _numbers_in_long_text(text: str) -> str:
    """`_NUMBER_IN_TEXT.sub(_one_number, text)` for an ASCII `text` (so its characters are its
    bytes): the runs found in bytes by C code (`translate`, a literal-prefix search), a piece
    at a time, the pattern run only over each run, with the text around it visible to its
    lookbehind (`pos` moves the start, not the string's beginning) and the one character
    after it to its lookahead. A piece ends after a run, so no run (no match) spans two."""
    pieces: list[str] = []
    last = 0
    start = 0
    while start < len(text):
        stop = _RUN_REST.match(text, min(start + _PIECE, len(text))).end()  # type: ignore[union-attr]
        marks = text[start:stop].encode("ascii").translate(_RUN_TABLE)
        if marks.count(b"xxxxxxxx") * _DENSE > len(marks):
            spans = [(start, stop)]
        else:
            spans = [(start + run.start(), start + run.end()) for run in _RUN.finditer(marks)]
        for first, end in spans:
            for match in _NUMBER_IN_TEXT.finditer(text, first, end + 1):
                pieces += (text[last : match.start()], _one_number(match))
                last = match.end()
        start = stop
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _masked_text(text: str) -> str:
    """`mask_numbers_in_text(mask_phone(text))`, each pattern tried once: a whole E.164 value
    masked by `mask_phone` is left as it is by the other (its `***` cuts every run of digits
    to at most four, and only its first character is a `+`)."""
    # Both patterns need 8 characters at least (`+` and 7 digits): ids, counts, short names.
    if len(text) < 8 or not _DIGIT.search(text):
        return text
    if _E164.match(text):
        return f"{text[:5]}***{text[-4:]}"
    return _NUMBER_IN_TEXT.sub(_one_number, text)


# --- a large value shown as JSON: masked in its text ------------------------------------------


def masked_json(value: Any) -> str:
    """`json.dumps(masked(value), ensure_ascii=False)`: how a plan shows a value. A large one
    (a batch's body of 100,000 calls: 600,000 dicts) is masked in its JSON text where that
    gives the same text, and copied dict by dict only where it may not."""
    if _large(value):
        shown = _masked_in_text(value)
        if shown is not None:
            return shown
    return json.dumps(masked(value), ensure_ascii=False)


_MANY = 1_000
"""From how many items in a list (a body's, or the body) its JSON text is masked instead of a
copy of it: below that, the copy costs less than the second look at the value."""


def _large(value: Any) -> bool:
    if type(value) is list:
        return len(value) >= _MANY
    return type(value) is dict and any(
        type(item) is list and len(item) >= _MANY for item in value.values()
    )


_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)
"""`json.dumps(value, ensure_ascii=False)` but for cycles, which it ends in RecursionError, not
ValueError (and then the copy is made, and ends as it always did)."""
_CONTACT_VALUE = re.compile(
    '("(?:' + "|".join(re.escape(field) for field in sorted(CONTACT_FIELDS)) + ')": ")([^"]*)(?=")'
)
"""A contact field's string value in JSON text without escapes: a string followed by `: ` is a
key (strings hold no quote), and the field names are no text between two strings."""
_PLAIN_INT = re.compile(r" ?-?\d{1,10}")
"""A run of pattern characters outside strings `masked` leaves alone: an integer of at most ten
digits (and the space before it). Floats and longer integers take the copy."""


def _masked_in_text(value: Any) -> str | None:
    """`json.dumps(masked(value), ensure_ascii=False)` made from `json.dumps(value, ...)` (C code)
    by masking its text, or None where that could differ and the copy must be made.

    It is the same text when the JSON has no escape (every string is its characters between
    two quotes, and a quote is always a string's end or start), is ASCII (so runs are found in
    bytes) and holds no `$secret` (a reference `masked` shows by name); a tuple is an array
    to both. Then: a contact field's string
    value is `mask_number`ed; any other string `masked` could change has 8 or more of the
    pattern characters in a run (see `_RUN`), found by C code, and is `_masked_text`ed whole
    (but a key, which `masked` leaves alone: then the copy); outside strings such a run is a
    number, which must be an integer `masked` leaves alone."""
    try:
        text = _ENCODER.encode(value)
    except Exception:  # the copy is made, and fails as it always did
        return None
    if not text.isascii() or "\\" in text or '"$secret"' in text:
        return None
    # Split into [before, key, value, between, key, value, ...] by C code; the values masked.
    pieces = _CONTACT_VALUE.split(text)
    if len(pieces) > 1:
        pieces[2::3] = map(mask_number, pieces[2::3])
        text = "".join(pieces)
    pieces = []
    last = 0
    # Contact values are masked now: `mask_number` leaves no run of 8 (`***` cuts it).
    quotes = counted = done = 0
    for first, end in _runs(text):
        quotes += text.count('"', counted, first)
        counted = first
        if not quotes & 1:
            if _PLAIN_INT.fullmatch(text, first, end):
                continue
            return None
        start = text.rfind('"', 0, first) + 1
        if start < done:
            continue  # a second run in a string masked already
        done = stop = text.find('"', end)
        if text.startswith(":", stop + 1):
            return None
        pieces += (text[last:start], _masked_text(text[start:stop]))
        last = stop
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _runs(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of every run of 8 or more pattern characters in an ASCII `text`, found
    a piece at a time as `_numbers_in_long_text` finds them."""
    start = 0
    while start < len(text):
        stop = _RUN_REST.match(text, min(start + _PIECE, len(text))).end()  # type: ignore[union-attr]
        marks = text[start:stop].encode("ascii").translate(_RUN_TABLE)
        for run in _RUN.finditer(marks):
            yield start + run.start(), start + run.end()
        start = stop


SECRET_MASK = "***"
MIN_SECRET = 4
"""Shorter values are not secrets anyone can protect by masking (they are not redacted)."""
_WHOLE_TOKEN = 8
"""Values shorter than this are redacted only where they stand alone (not inside a word)."""
_SEARCHED = 16
"""Up to how many secrets a text is searched for each before the pattern is run on it."""


class Redactor:
    """The one masking pass over everything the tool prints or writes.

    It knows this run's secret values (API keys, the values of secret variables, secrets the
    live account returned) and masks them wherever they appear, then masks phone numbers in
    free text. Holds state (the values added), but does no I/O.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: object) -> None:
        """Remember secret values (strings; anything else is ignored)."""
        for value in values:
            fresh = isinstance(value, str) and value not in self._secrets
            if fresh and isinstance(value, str) and len(value.strip()) >= MIN_SECRET:
                self._secrets.add(value)
                self._pattern = None

    def add_json(self, value: Any) -> None:
        """Remember every string of a JSON value (a secret map's values, say)."""
        if isinstance(value, dict):
            for item in value.values():
                self.add_json(item)
        elif isinstance(value, list):
            for item in value:
                self.add_json(item)
        else:
            self.add(value)

    def clear(self) -> None:
        self._secrets.clear()
        self._pattern = None

    def __contains__(self, value: object) -> bool:
        return value in self._secrets

    def secrets(self, text: str) -> str:
        """`text` with every known secret value replaced by `***`."""
        if not self._secrets or not text:
            return text
        # A substring search per secret (fast) before the pattern (a regex step per character
        # of a plan's 26 MB), which only matches where a secret value is.
        if len(self._secrets) <= _SEARCHED and not any(s in text for s in self._secrets):
            return text
        if self._pattern is None:
            alternatives = []
            for secret in sorted(self._secrets, key=len, reverse=True):
                escaped = re.escape(secret)
                if len(secret) < _WHOLE_TOKEN:
                    escaped = rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
                alternatives.append(escaped)
            self._pattern = re.compile("|".join(alternatives))
        return self._pattern.sub(SECRET_MASK, text)

    @property
    def single_line(self) -> bool:
        """Whether no secret spans a newline: then text redacted in pieces that each end just
        before a newline is redacted exactly as the whole text would be."""
        return not any("\n" in secret for secret in self._secrets)

    def text(self, text: str) -> str:
        """What may be printed of `text`: secrets and phone numbers masked."""
        return mask_numbers_in_text(self.secrets(text))


REDACTOR = Redactor()
"""The run's redactor: the command line installs it on its output streams and log handlers;
the runtime adds the secret values it meets."""
