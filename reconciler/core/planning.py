"""Planning: from desired and live resources to an ordered, immutable `Plan`.

Owns matching resources by identity, the generic field comparison (normalize both sides,
align, diff), building minimal PATCH bodies at the granularity a table states, the order
changes run in, and the reads (fingerprints) a saved plan is checked against.
Pure: no network, clock or environment; must not import httpx, the client or apply.
"""

from __future__ import annotations

import copy
import marshal
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from reconciler.core import fieldpaths as paths
from reconciler.core import requestpaths
from reconciler.core.diff import diff
from reconciler.core.domain import (
    Action,
    Change,
    DesiredResource,
    FieldChange,
    FieldOp,
    LiveResource,
    Plan,
    Read,
    ResourceKey,
    Unmanaged,
)
from reconciler.core.errors import PlanError
from reconciler.core.normalize import Forms, NormalizationTable, align, normalize
from reconciler.core.ownership import Ownership

_MISSING = object()


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    live: Mapping[ResourceKey, LiveResource] = field(default_factory=dict)
    """Every live resource read for this plan, for kinds that refer to others (a batch's
    agent); filled in by `build_plan`."""
    path_prefixes: Mapping[str, str] = field(default_factory=dict)
    """Per provider name, the effective prefix of its API paths (environment overrides
    applied), for types whose request paths depend on it."""
    now: datetime | None = None
    """The time the plan is made (the caller's clock; the core reads none), for checks the
    server would make against it (a window already over); None skips them."""
    clocks: Mapping[str, datetime] = field(default_factory=dict)
    """Per provider name, the time on that server's clock when the plan read it (its `Date`
    answers), for the same checks; a provider without one falls back to `now`."""
    hold: float | None = None
    """Seconds after submission during which no call of a new batch may start (`Hold`), so
    that applies running at the same time can remove each other's copies first; None or 0:
    no hold (the engine fills in the operator's setting, `Limits.campaign_hold`)."""
    ownership: Ownership | None = None
    """What the manifests own (`kind: Ownership`): with `prune`, only live objects it claims
    are deleted; `prune` without it is refused."""
    forms: Forms | None = field(default=None, compare=False, repr=False)
    """Normalized bodies the caller computed ahead (while reading the live side), for the
    kinds that plan with them; None: each is normalized when compared."""


class Planner(Protocol):
    """What planning needs of a resource kind; `reconciler.providers.base.Planner`
    implements it. Declared here so the pure core never imports a provider."""

    @property
    def kind(self) -> str: ...

    @property
    def order(self) -> int:
        """Apply order between kinds: lower first (agents before the batches that use them)."""
        ...

    @property
    def table(self) -> NormalizationTable: ...

    def plan(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> Change | None: ...

    def warnings(
        self, desired: DesiredResource | None, live: LiveResource | None, options: PlanOptions
    ) -> list[str]: ...


def _normalized(obj: Any, table: NormalizationTable, forms: Forms | None) -> dict[str, Any]:
    return forms.get(obj, table) if forms is not None else normalize(obj, table)


def compare(
    desired: DesiredResource,
    live: LiveResource,
    table: NormalizationTable,
    forms: Forms | None = None,
) -> tuple[FieldChange, ...]:
    """Field differences between a desired and a live resource, after normalizing both
    (`forms`: what was normalized, or compared, ahead)."""
    if forms is not None:
        made: tuple[FieldChange, ...] | None = forms.comparison(desired, live, table)
        if made is not None:
            return made
    want, have = align(
        _normalized(desired.spec, table, forms),
        _normalized(live.body, table, forms),
        table,
        desired.ignore_changes,
    )
    return diff(have, want, table.sensitive)


def additions(
    desired: DesiredResource, table: NormalizationTable, forms: Forms | None = None
) -> tuple[FieldChange, ...]:
    """The fields a create sends (its body is the spec), shown as additions; those at the
    API's default (documented, or a proto3 zero value) are marked `default`."""
    want, _ = align(_normalized(desired.spec, table, forms), {}, table)
    return sent_fields(diff({}, want, table.sensitive), desired.spec, want, None, table)


def update_fields(
    desired: DesiredResource,
    live: LiveResource,
    changes: Sequence[FieldChange],
    body: Mapping[str, Any],
    table: NormalizationTable,
    forms: Forms | None = None,
) -> tuple[FieldChange, ...]:
    """The field list of an update: `changes` (from `compare`), and every other leaf the
    PATCH `body` (from `patch_body`) sends, since a key is sent whole: a change to a default
    is shown with the value sent, the rest as KEEP (defaults marked)."""
    want = _normalized(desired.spec, table, forms)
    return sent_fields(changes, body, want, live.body, table)


def sent_fields(
    changes: Sequence[FieldChange],
    body: Mapping[str, Any],
    want: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    table: NormalizationTable,
) -> tuple[FieldChange, ...]:
    """`changes` completed with every leaf of `body` (the request's, in the spec's field
    names) that none of them covers, so a plan lists all a request sends, sorted by path.

    `want` is the normalized desired side: a leaf it lacks is at the API's default (unless
    the table drops its path as read- or write-only). `live` is None for a create (each leaf
    is an ADD), else the live body (a leaf is KEEP, and a REMOVE of a leaf the body sends,
    which can only be a default, becomes the CHANGE to the value sent).
    """
    exact = {paths.parse(c.path): c for c in changes}
    # A leaf is covered when a change is at it, above it or below it.
    covered = {path[:depth] for path in exact for depth in range(1, len(path) + 1)}
    removed = [paths.parse(p) for p in (*table.read_only, *table.write_only)]
    secret = [paths.parse(p) for p in table.sensitive]
    out = list(changes)
    added = False

    def at_default(path: paths.Path) -> bool:
        dropped = paths.get(want, path, _MISSING) is _MISSING
        return dropped and not any(paths.is_prefix(p, path) for p in removed)

    for path, value in _body_leaves((), body):
        found = exact.get(path)
        if found is not None:
            if found.op is FieldOp.REMOVE and value is not None:
                out[out.index(found)] = replace(
                    found, op=FieldOp.CHANGE, after=value, default=at_default(path)
                )
            continue
        if path in covered or any(path[:depth] in exact for depth in range(1, len(path))):
            continue  # a change below it (an object added leaf by leaf) or above it says it
        is_secret = any(paths.is_prefix(p, path) for p in secret)
        op = FieldOp.ADD if live is None else FieldOp.KEEP
        out.append(
            FieldChange(
                paths.format_path(path), op, None, value, is_secret, default=at_default(path)
            )
        )
        added = True
    return tuple(sorted(out, key=lambda c: _path_order(c.path))) if added else tuple(out)


def _body_leaves(path: paths.Path, value: Any) -> Iterable[tuple[paths.Path, Any]]:
    """Every leaf of a body with its path; an empty object or list is a leaf, as in `diff`,
    and so is a secret's reference (`{"$secret": NAME}`)."""
    if isinstance(value, Mapping) and value and set(value) != {"$secret"}:
        for key, item in value.items():
            yield from _body_leaves((*path, key), item)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from _body_leaves((*path, i), item)
    elif path:
        yield path, value


def _path_order(text: str) -> tuple[tuple[int, str | int], ...]:
    # The order `diff` lists its changes in: list indices before keys, each in its order.
    return tuple((0, s) if isinstance(s, int) else (1, s) for s in paths.parse(text))


def removals(
    live: LiveResource, table: NormalizationTable, forms: Forms | None = None
) -> tuple[FieldChange, ...]:
    return diff(_normalized(live.body, table, forms), {}, table.sensitive)


def patch_targets(changes: Iterable[FieldChange], table: NormalizationTable) -> list[paths.Path]:
    """The keys a PATCH must carry: each changed top-level key under `table.patch_root`."""
    root = paths.parse(table.patch_root) if table.patch_root else ()
    targets: list[paths.Path] = []
    for change in changes:
        path = paths.parse(change.path)
        depth = len(root) + 1 if paths.is_prefix(root, path) and len(path) > len(root) else 1
        target = path[:depth]
        if target not in targets:
            targets.append(target)
    return targets


def patch_body(
    desired: DesiredResource,
    live: LiveResource,
    changes: Sequence[FieldChange],
    table: NormalizationTable,
) -> dict[str, Any]:
    """A PATCH body with only the changed keys, each sent whole, `null` for a key now unset.

    A key is sent as the manifest wrote it; paths in `ignoreChanges` below it keep the live
    value (or stay unset), so a whole-key write never overwrites what a team left to the console.
    """
    body: dict[str, Any] = {}
    ignored = [paths.parse(p) for p in desired.ignore_changes]
    for target in patch_targets(changes, table):
        value = paths.get(desired.spec, target, _MISSING)
        missing = value is _MISSING  # checked before the copy: deepcopy(_MISSING) is not it
        value = {} if missing else copy.deepcopy(value)
        for pattern in ignored:
            if not (len(pattern) > len(target) and paths.is_prefix(target, pattern)):
                continue
            below = pattern[len(target) :]
            holder = {"v": value}
            paths.remove(holder, ("v", *below))
            for concrete in paths.expand(live.body, pattern):
                if all(isinstance(s, str) for s in concrete):
                    paths.put(
                        holder, ("v", *concrete[len(target) :]), paths.get(live.body, concrete)
                    )
            value = holder["v"]
        # Unset in the manifest: `null`, unless ignored live values below it must be kept.
        paths.put(body, target, None if missing and value == {} else value)
    return body


def _phase(rt: Planner, action: Action) -> int:
    # Creates and updates run parents first (agents before their batches); deletes run
    # children first, so nothing is deleted while something still refers to it.
    return 1000 - rt.order if action is Action.DELETE else rt.order


def build_plan(
    types: Sequence[Planner],
    desired: Sequence[DesiredResource],
    live: Sequence[LiveResource],
    options: PlanOptions,
) -> Plan:
    """Pair desired and live resources of every kind and collect the changes, in run order.

    A desired resource with `previous_names` is paired with the live object of one of those
    names when none has its own name (a rename: one update, same id). With `prune`, a live
    object absent from the manifests is deleted only when `options.ownership` claims it;
    every other one is listed in `Plan.unmanaged` and left alone. `prune` without an
    ownership is refused.
    """
    if options.prune and options.ownership is None:
        raise PlanError(
            "--prune deletes only what a kind: Ownership document of the manifests claims, "
            "and there is none; nothing was sent"
        )
    by_kind_desired: dict[str, dict[ResourceKey, DesiredResource]] = defaultdict(dict)
    by_kind_live: dict[str, dict[ResourceKey, LiveResource]] = defaultdict(dict)
    for resource in desired:
        by_kind_desired[resource.key.kind][resource.key] = resource
    problems: list[str] = []
    for item in live:
        seen = by_kind_live[item.key.kind].get(item.key)
        if seen is not None:
            problems.append(
                f"two live {item.key.kind} objects claim the name {item.key.name!r} "
                f"(ids {seen.id} and {item.id}); rename or delete one in the console"
            )
        by_kind_live[item.key.kind][item.key] = item
    if problems:
        raise PlanError("\n".join(problems))

    refusals: list[str] = []
    renamed = _pair_renames(by_kind_desired, by_kind_live, refusals)
    # A resource's previous names are protected as it is (`lifecycle.preventDestroy`).
    protected = {
        ResourceKey(d.key.kind, old): d
        for d in desired
        if d.prevent_destroy
        for old in d.previous_names
    }
    options = replace(
        options, live={k: v for kind in by_kind_live.values() for k, v in kind.items()}
    )
    changes: list[Change] = []
    reads: list[Read] = []
    warnings: list[str] = []
    unmanaged: list[Unmanaged] = []
    for rt in types:
        wanted, found = by_kind_desired[rt.kind], by_kind_live[rt.kind]
        for key in sorted(wanted.keys() | found.keys()):
            have = found.get(key)
            if (
                options.prune
                and options.ownership is not None
                and have is not None
                and key not in wanted
                and not options.ownership.owns(key)
            ):
                unmanaged.append(Unmanaged(key, have.provider, have.id))
                continue
            warnings += rt.warnings(wanted.get(key), have, options)
            try:
                change = rt.plan(wanted.get(key), have, options)
            except PlanError as refusal:
                refusals.append(str(refusal))
                continue
            if key in wanted or change is not None:
                # A type may serve several providers (BatchCall: threetone and elevenlabs);
                # the read belongs to the provider of the resource itself.
                provider = have.provider if have else wanted[key].provider
                if key in renamed:
                    # The object as read, under the name it has; and the new name, absent.
                    assert have is not None
                    reads.append(Read(renamed[key], provider, have.id, have.digest))
                    reads.append(Read(key, provider, None, None))
                elif have is not None:
                    reads.append(Read(key, provider, have.id, have.digest))
                else:
                    reads.append(Read(key, provider, None, None))
            if change is None:
                continue
            if key in renamed:
                change = replace(change, renamed_from=renamed[key].name)
            wanted_here = wanted.get(key)
            if wanted_here is not None and wanted_here.secrets:
                change = _with_secret_references(change, wanted_here.secrets)
            unsafe = request_problems(change)
            if unsafe:
                refusals.append(f"{key}: {unsafe}")
                continue
            guard = wanted_here if wanted_here is not None else protected.get(key)
            if (
                change.action in (Action.DELETE, Action.REPLACE)
                and guard is not None
                and guard.prevent_destroy
            ):
                under = "" if guard.key == key else f" (a previous name of {guard.key})"
                refusals.append(
                    f"{key}{under} has lifecycle.preventDestroy set, but the plan would "
                    f"{change.action.value} it ({guard.source}); remove the setting "
                    "first if this is intended"
                )
                continue
            changes.append(_with_order(change, _phase(rt, change.action)))
    if refusals:
        raise PlanError(
            "the plan cannot be made safely; nothing was sent:\n"
            + "\n".join(f"  - {r}" for r in refusals)
        )
    changes.sort(key=lambda c: (c.order, c.key))
    return Plan(
        changes=tuple(changes),
        reads=tuple(reads),
        warnings=tuple(warnings),
        unmanaged=tuple(sorted(unmanaged, key=lambda u: u.key)),
    )


def _pair_renames(
    desired: Mapping[str, dict[ResourceKey, DesiredResource]],
    live: dict[str, dict[ResourceKey, LiveResource]],
    refusals: list[str],
) -> dict[ResourceKey, ResourceKey]:
    """Re-key, in `live`, each object found under a previous name of a desired resource that
    has no live object of its own name; returns new key -> the key it was read under.

    Both names live, or several previous names live, is a refusal naming the ids: which one
    is the resource is the operator's call, not the tool's."""
    renamed: dict[ResourceKey, ResourceKey] = {}
    for kind, wanted in desired.items():
        found = live[kind]
        for key, resource in sorted(wanted.items()):
            olds = [
                found[old]
                for old in (ResourceKey(kind, n) for n in resource.previous_names)
                if old in found and old not in wanted and old not in renamed.values()
            ]
            if not olds:
                continue
            if key in found:
                refusals.append(
                    f"{key} and its previous name {olds[0].key.name!r} both exist in the live "
                    f"account (ids {found[key].id} and {olds[0].id}); the manifest renames "
                    f"{olds[0].key.name!r} to {key.name!r}, so delete or rename one of them in "
                    "the console, or take the name out of previousNames"
                )
                continue
            if len(olds) > 1:
                shown = ", ".join(f"{o.key.name!r} (id {o.id})" for o in olds)
                refusals.append(
                    f"{key}: several of its previous names exist in the live account: {shown}; "
                    "keep one of them, or take the others out of previousNames"
                )
                continue
            old = olds[0]
            del found[old.key]
            found[key] = replace(old, key=key)
            renamed[key] = old.key
    return renamed


def _with_order(change: Change, order: int) -> Change:
    return replace(change, order=order)


def _with_secret_references(change: Change, secrets: Mapping[str, str]) -> Change:
    """The change with every secret field of its request bodies sent as `{"$secret": NAME}`:
    apply reads the variable at send time, and no plan, output or file holds the value.

    Whatever a kind builds its bodies from, a secret path of the manifest (the API's own field
    names) that appears in a body is replaced; a new kind cannot forget it."""
    requests = []
    for request in change.requests:
        body = request.body
        if isinstance(body, dict):
            body = copy.deepcopy(body)
            for text, variable in secrets.items():
                path = paths.parse(text)
                parent = paths.get(body, path[:-1]) if path else None
                last = path[-1] if path else None
                in_map = isinstance(parent, dict) and isinstance(last, str) and last in parent
                in_list = isinstance(parent, list) and isinstance(last, int) and last < len(parent)
                if in_map or in_list:
                    parent[last] = {"$secret": variable}  # type: ignore[index]
        requests.append(replace(request, body=body))
    return replace(change, requests=tuple(requests))


def request_problems(change: Change) -> str | None:
    """Why a change's requests may not be sent: a path an id moved elsewhere (`..`, `//`), or a
    body with a number JSON cannot carry (NaN, infinity)."""
    for request in change.requests:
        problem = requestpaths.problem(request.path, refs=True)
        if problem:
            return f"refused to plan {request.method} {request.path!r}: {problem}"
        if _has_non_finite(request.body):
            return (
                f"refused to plan {request.method} {request.path}: its body holds a number "
                "that is not finite (NaN or infinity), which JSON cannot carry"
            )
    return None


def _has_non_finite(value: Any) -> bool:
    """Whether a float in `value`'s dicts and lists is NaN or infinite.

    Asked of marshal first (C code: 0.05 s of CPU for a body of 100,000 calls, the walk 0.14 s):
    it writes a float as its 8 bytes, low byte first, and a NaN's or an infinity's last byte is
    0x7f or 0xff, after one of 0xf0 or more. Without such a pair there is none; with one (a
    negative integer, a length of 127) the walk says."""
    try:
        data = marshal.dumps(value, 2)
        if not (b"\x7f" in data or b"\xff" in data) or not _NON_FINITE_BYTES.search(data):
            return False
    except ValueError:  # a subclass of a type marshal knows, or nested too deeply: walked
        pass
    return _walked_non_finite(value)


_NON_FINITE_BYTES = re.compile(rb"[\xf0-\xff][\x7f\xff]")


def _walked_non_finite(value: Any) -> bool:
    """`_has_non_finite` by a loop over a stack, the exact types first, a dict's strings passed
    over where they are met rather than stacked."""
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for child in item.values():
                if type(child) is not str:
                    push(child)
        elif kind is list:
            extend(item)
        elif kind is str:
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            extend(item.values())
        elif isinstance(item, list):
            extend(item)
    return False


def dependencies(
    targets: Iterable[ResourceKey], desired: Sequence[DesiredResource]
) -> set[ResourceKey]:
    """`targets` and everything they depend on, transitively (a batch's agent)."""
    by_key = {d.key: d for d in desired}
    found: set[ResourceKey] = set()
    pending = list(targets)
    while pending:
        key = pending.pop()
        if key in found:
            continue
        found.add(key)
        if key in by_key:
            pending.extend(by_key[key].depends_on)
    return found


def restrict(
    plan: Plan, targets: Sequence[ResourceKey], desired: Sequence[DesiredResource]
) -> Plan:
    """Only the changes of `targets` and of what they depend on (`--target`)."""
    known = {d.key for d in desired} | {c.key for c in plan.changes} | {r.key for r in plan.reads}
    unknown = [str(t) for t in targets if t not in known]
    if unknown:
        raise PlanError(
            "--target names no resource of the manifests or the live account: " + ", ".join(unknown)
        )
    keep = dependencies(targets, desired)
    # A renamed resource was read under its previous name.
    previous = {
        ResourceKey(d.key.kind, old) for d in desired if d.key in keep for old in d.previous_names
    }
    return Plan(
        changes=tuple(c for c in plan.changes if c.key in keep),
        reads=tuple(r for r in plan.reads if r.key in keep or r.key in previous),
        warnings=plan.warnings,
        environment=plan.environment,
        endpoints=plan.endpoints,
        unmanaged=plan.unmanaged,
    )


@dataclass(frozen=True)
class StateDifference:
    """How one resource differs between two states (two environments, or two accounts)."""

    key: ResourceKey
    only_in: str | None
    """The side that alone has the resource; None when both have it and `fields` differ."""
    fields: tuple[FieldChange, ...] = ()


def compare_states(
    types: Mapping[str, Planner],
    left: Mapping[ResourceKey, Mapping[str, Any]],
    right: Mapping[ResourceKey, Mapping[str, Any]],
    names: tuple[str, str],
) -> list[StateDifference]:
    """Resource by resource, field by field: what `right` has that `left` has otherwise.

    Both sides are normalized with the kind's table, so defaults and formats never count.
    """
    differences: list[StateDifference] = []
    for key in sorted(left.keys() | right.keys()):
        if key not in right:
            differences.append(StateDifference(key, names[0]))
        elif key not in left:
            differences.append(StateDifference(key, names[1]))
        else:
            table = types[key.kind].table
            fields = diff(
                normalize(left[key], table), normalize(right[key], table), table.sensitive
            )
            if fields:
                differences.append(StateDifference(key, None, fields))
    return differences
