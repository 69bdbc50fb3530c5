"""The emulator's name for "any JSON value".

Owns: `JSON`. The emulator imports nothing from the product, so it spells this itself (the
product's `reconciler.core.domain.JSON` is the same `Any`). Imports nothing.
"""

from __future__ import annotations

from typing import Any

JSON = Any
"""A decoded JSON value: dict, list, str, int, float, bool or None."""
