"""Field-level differences between two normalized objects.

Owns the one use of deepdiff in the package: it turns deepdiff's tree report into typed
`FieldChange`s with dotted paths, sorted by path. Pure; must not import httpx or the client.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from deepdiff import DeepDiff

from reconciler import paths
from reconciler.domain import FieldChange, FieldOp

_OPS: dict[str, FieldOp] = {
    "values_changed": FieldOp.CHANGE,
    "type_changes": FieldOp.CHANGE,
    "dictionary_item_added": FieldOp.ADD,
    "iterable_item_added": FieldOp.ADD,
    "dictionary_item_removed": FieldOp.REMOVE,
    "iterable_item_removed": FieldOp.REMOVE,
}

# deepdiff >= 8.1 reports two dicts that share few keys as one whole-value change (of the root
# for a create, of `callTemplate` for a big edit), which would hide the keys a PATCH must clear.
_ALWAYS_DEEPER: dict[str, Any] = (
    {"threshold_to_diff_deeper": 0}
    if "threshold_to_diff_deeper" in inspect.signature(DeepDiff.__init__).parameters
    else {}
)


def diff(
    live: dict[str, Any], desired: dict[str, Any], sensitive: Iterable[str] = ()
) -> tuple[FieldChange, ...]:
    """What must change in `live` to become `desired`, one entry per differing leaf or key.

    Lists are compared in order: an agent's tools and messages are ordered in the API.
    """
    report = DeepDiff(live, desired, view="tree", verbose_level=2, **_ALWAYS_DEEPER)
    secret_patterns = tuple(paths.parse(p) for p in sensitive)
    changes: list[FieldChange] = []
    for report_type, op in _OPS.items():
        for level in report.get(report_type, ()):
            path = tuple(level.path(output_format="list"))
            is_secret = any(paths.is_prefix(p, path) for p in secret_patterns)
            changes.append(
                FieldChange(
                    path=paths.format_path(path),
                    op=op,
                    before=None if op is FieldOp.ADD else level.t1,
                    after=None if op is FieldOp.REMOVE else level.t2,
                    sensitive=is_secret,
                )
            )
    return tuple(sorted(changes, key=lambda c: _sort_key(c.path)))


def _sort_key(text: str) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, s) if isinstance(s, int) else (1, s) for s in paths.parse(text))
