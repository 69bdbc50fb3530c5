"""Field-level differences between two normalized objects.

Owns the one use of deepdiff in the package: it turns deepdiff's tree report into typed
`FieldChange`s with dotted paths, sorted by path. deepdiff is imported on the first diff that
needs it, not with this module. Pure; must not import httpx or the client.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.core import fieldpaths as paths
from reconciler.core.domain import FieldChange, FieldOp

if TYPE_CHECKING:
    from deepdiff import DeepDiff

_OPS: dict[str, FieldOp] = {
    "values_changed": FieldOp.CHANGE,
    "type_changes": FieldOp.CHANGE,
    "dictionary_item_added": FieldOp.ADD,
    "iterable_item_added": FieldOp.ADD,
    "dictionary_item_removed": FieldOp.REMOVE,
    "iterable_item_removed": FieldOp.REMOVE,
}


@functools.cache
def _deepdiff() -> tuple[type[DeepDiff], dict[str, Any]]:
    """deepdiff's class and the options every call passes, imported on first use: it costs a
    tenth of a second of CPU at start-up (issue 14's `python -X importtime`), and a plan in
    which nothing changed, or `validate`, never needs it (`same` decides those)."""
    from deepdiff import DeepDiff

    # deepdiff >= 8.1 reports two dicts that share few keys as one whole-value change (of the
    # root for a create, of `callTemplate` for a big edit), which would hide the keys a PATCH
    # must clear.
    always_deeper: dict[str, Any] = (
        {"threshold_to_diff_deeper": 0}
        if "threshold_to_diff_deeper" in inspect.signature(DeepDiff.__init__).parameters
        else {}
    )
    return DeepDiff, always_deeper


def diff(
    live: dict[str, Any], desired: dict[str, Any], sensitive: Iterable[str] = ()
) -> tuple[FieldChange, ...]:
    """What must change in `live` to become `desired`, one entry per differing leaf or key.

    Lists are compared in order: an agent's tools and messages are ordered in the API.
    An object or list added or removed whole is listed leaf by leaf (`callTemplate.voice`,
    `callTemplate.selectedTools[0].toolName`), so the paths are the same whether or not its
    parent existed, and a sensitive leaf stays flagged.
    """
    if same(live, desired):
        return ()
    # Only the keys that differ go to deepdiff (a prompt of 8 KB that did not change costs
    # nothing), at the same paths, so its report is the same as for the whole objects.
    before, after = _differing(live, desired)
    deep_diff, always_deeper = _deepdiff()
    # JSON has one number type: protobuf prints a whole float as `1`, a manifest says `1.0`.
    report = deep_diff(
        before,
        after,
        view="tree",
        verbose_level=2,
        ignore_numeric_type_changes=True,
        **always_deeper,
    )
    secret_patterns = tuple(paths.parse(p) for p in sensitive)
    changes: list[FieldChange] = []
    for report_type, op in _OPS.items():
        for level in report.get(report_type, ()):
            found = tuple(level.path(output_format="list"))
            if op is FieldOp.CHANGE:
                pairs = [(found, level.t1, level.t2)]
            elif op is FieldOp.ADD:
                pairs = [(path, None, leaf) for path, leaf in _leaves(found, level.t2)]
            else:
                pairs = [(path, leaf, None) for path, leaf in _leaves(found, level.t1)]
            for path, before, after in pairs:
                is_secret = any(paths.is_prefix(p, path) for p in secret_patterns)
                changes.append(
                    FieldChange(
                        path=paths.format_path(path),
                        op=op,
                        before=before,
                        after=after,
                        sensitive=is_secret,
                    )
                )
    return tuple(sorted(changes, key=lambda c: _sort_key(c.path)))


def _differing(a: dict[str, Any], b: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`a` and `b` without the keys whose values are `same` on both sides, recursively through
    objects (lists stay whole: deepdiff compares them by index)."""
    left: dict[str, Any] = {}
    right: dict[str, Any] = {}
    for key in a.keys() | b.keys():
        if key not in b:
            left[key] = a[key]
        elif key not in a:
            right[key] = b[key]
        elif isinstance(a[key], dict) and isinstance(b[key], dict):
            if not same(a[key], b[key]):
                left[key], right[key] = _differing(a[key], b[key])
        elif not same(a[key], b[key]):
            left[key], right[key] = a[key], b[key]
    return left, right


def _leaves(path: paths.Path, value: Any) -> list[tuple[paths.Path, Any]]:
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves((*path, key), item)]
    if isinstance(value, list) and value:
        return [leaf for i, item in enumerate(value) for leaf in _leaves((*path, i), item)]
    return [(path, value)]


def _sort_key(text: str) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, s) if isinstance(s, int) else (1, s) for s in paths.parse(text))


def same(a: Any, b: Any) -> bool:
    """Equal as `diff` compares: numbers by value, but `true` is not `1`.

    Most resources of a plan have not changed; this decides that without building deepdiff's
    tree report (a profile of a 1,000-agent plan spent a third of its CPU there). It only ever
    answers "equal" when `diff` would find nothing; anything else goes to deepdiff.
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(value, b[key]) for key, value in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)
