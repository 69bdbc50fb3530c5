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
    found = _without_lists(before, after, ())
    if found is None:
        found = _deep_changes(before, after)
    secret_patterns = tuple(paths.parse(p) for p in sensitive)
    changes = [
        FieldChange(
            path=paths.format_path(path),
            op=op,
            before=old,
            after=new,
            sensitive=any(paths.is_prefix(p, path) for p in secret_patterns),
        )
        for path, op, old, new in found
    ]
    return tuple(sorted(changes, key=lambda c: _sort_key(c.path)))


Found = list[tuple[paths.Path, FieldOp, Any, Any]]
"""Differences as (path, op, before, after), one per leaf, in no particular order."""


def _deep_changes(before: dict[str, Any], after: dict[str, Any]) -> Found:
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
    found: Found = []
    for report_type, op in _OPS.items():
        for level in report.get(report_type, ()):
            at = tuple(level.path(output_format="list"))
            if op is FieldOp.CHANGE:
                found.append((at, op, level.t1, level.t2))
            elif op is FieldOp.ADD:
                found += [(path, op, None, leaf) for path, leaf in _leaves(at, level.t2)]
            else:
                found += [(path, op, leaf, None) for path, leaf in _leaves(at, level.t1)]
    return found


def _without_lists(before: dict[str, Any], after: dict[str, Any], at: paths.Path) -> Found | None:
    """The differences of two `_differing` halves when no list is compared with a list and no
    bool with a number, else None (deepdiff decides those: lists by index, and its numeric
    rules). What is left has one answer, the one deepdiff's report gives: a key on one side is
    added or removed leaf by leaf, two objects are compared key by key, anything else is one
    change of the whole value. A plan of 1,000 updates spent half a second building deepdiff's
    report for them (a changed `temperature` each); `tests/core/test_diff_fast.py` holds the
    two answers equal."""
    found: Found = []
    for key in before.keys() | after.keys():
        path = (*at, key)
        if key not in after:
            found += [(p, FieldOp.REMOVE, leaf, None) for p, leaf in _leaves(path, before[key])]
        elif key not in before:
            found += [(p, FieldOp.ADD, None, leaf) for p, leaf in _leaves(path, after[key])]
        else:
            old, new = before[key], after[key]
            if isinstance(old, dict) and isinstance(new, dict):
                deeper = _without_lists(old, new, path)
                if deeper is None:
                    return None
                found += deeper
            elif (isinstance(old, list) and isinstance(new, list)) or _bool_and_number(old, new):
                return None
            else:
                found.append((path, FieldOp.CHANGE, old, new))
    return found


def _bool_and_number(a: Any, b: Any) -> bool:
    if isinstance(a, bool):
        return isinstance(b, int | float) and not isinstance(b, bool)
    return isinstance(b, bool) and isinstance(a, int | float)


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
