"""Rendering a plan for people and machines: text (terminals), markdown (PR comments), json.

Owns the look of a plan: `+ create`, `~ update`, `- delete`, `-/+ replace`, field lines
`old -> new` (a default sent marked `(default)`, a part a PATCH sends unchanged `(unchanged)`),
multi-line strings as unified diffs, the requests with their bodies (whole, or cut with
`compact`; in markdown collapsed, under a table of every resource that survives any cut), the
warnings and the summary line. Phone numbers are masked and secrets never shown in text and
markdown. Pure (but for pausing the cycle collector while a body is shown): takes a `Plan`,
returns a string; must not import httpx, deepdiff, the client or apply.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any

from reconciler.core.domain import Action, Change, FieldChange, FieldOp, Plan, Request
from reconciler.core.limits import MAX_BODY_CHARS
from reconciler.core.masking import mask_phone, masked, masked_json
from reconciler.core.planfile import SENSITIVE, plan_to_json
from reconciler.core.planning import StateDifference
from reconciler.core.wording import agree, count

_SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "-/+",
}
_VERB = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.DELETE: "will be deleted",
    Action.REPLACE: "will be replaced",
}
_COLOR = {"+": "32", "~": "33", "-": "31", "-/+": "35", "!": "33;1", "#": "2"}


def _show(value: Any) -> str:
    return masked_json(value)


def summary_line(plan: Plan) -> str:
    if plan.is_empty:
        return "No changes. The live state matches the manifests."
    counts = plan.summary()
    text = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete"
    )
    if counts["replace"]:
        text += f", {counts['replace']} to replace"
    return text + "."


def _field_lines(field: FieldChange) -> list[tuple[str, str]]:
    """(symbol, text) pairs for one field; multi-line strings become unified diffs. A field
    sent at the API's default says `(default)`; one sent unchanged (KEEP) is unmarked and
    says `(unchanged)`."""
    lines = _value_lines(field)
    note = _NOTE.get((field.op is FieldOp.KEEP, field.default))
    if note:
        symbol, text = lines[0]
        lines[0] = (symbol, f"{text} ({note})")
    return lines


_NOTE = {(False, True): "default", (True, False): "unchanged", (True, True): "unchanged, default"}


def _value_lines(field: FieldChange) -> list[tuple[str, str]]:
    if field.op is FieldOp.KEEP:
        # Not a difference: one line, the value as sent (a long text is in the body anyway).
        return [("#", f"{field.path}: {SENSITIVE if field.sensitive else _show(field.after)}")]
    if field.sensitive:
        symbol = {FieldOp.ADD: "+", FieldOp.REMOVE: "-", FieldOp.CHANGE: "~"}[field.op]
        return [(symbol, f"{field.path}: {SENSITIVE}")]
    before, after = field.before, field.after
    multiline = any(isinstance(v, str) and "\n" in v for v in (before, after))
    if multiline and field.op is not FieldOp.CHANGE:
        symbol = "+" if field.op is FieldOp.ADD else "-"
        text = after if field.op is FieldOp.ADD else before
        shown = text.splitlines() if isinstance(text, str) else [_show(text)]
        return [(symbol, f"{field.path}: |")] + [(symbol, f"    {mask_phone(x)}") for x in shown]
    if multiline:
        old = before.splitlines() if isinstance(before, str) else []
        new = after.splitlines() if isinstance(after, str) else []
        lines = [("~", f"{field.path}:")]
        import difflib  # only a changed multi-line text needs it, not every command's start

        for line in difflib.unified_diff(old, new, n=2, lineterm=""):
            if line.startswith(("+++", "---")):
                continue  # the field path above already says what is compared
            if line.startswith("@@"):
                lines.append(("#", "  " + line))
                continue
            # The line's own +/-/space becomes the row's mark, so it is not shown twice.
            mark = line[:1] if line[:1] in "+-" else "#"
            lines.append((mark, "    " + mask_phone(line[1:])))
        return lines
    if field.op is FieldOp.ADD:
        return [("+", f"{field.path}: {_show(after)}")]
    if field.op is FieldOp.REMOVE:
        return [("-", f"{field.path}: {_show(before)} -> (unset)")]
    return [("~", f"{field.path}: {_show(before)} -> {_show(after)}")]


def _request_line(request: Request, *, compact: bool = False, prefix: str = "") -> str:
    """`prefix` and `METHOD path body`: the body whole (masked), or with `compact` cut after
    `MAX_BODY_CHARS` characters. Joined once: a body of 100,000 calls is 26 MB of text."""
    text = f"{prefix}{request.method} {request.path}"
    if request.body is None:
        return text
    body = _unwalked(_show, request.body)
    if compact and len(body) > MAX_BODY_CHARS:
        body = f"{body[:MAX_BODY_CHARS]}... ({len(body):,} characters in all)"
    return "".join((text, " ", body))


def _unwalked(show: Callable[[Any], str], body: Any) -> str:
    """`show(body)` with the cycle collector paused: the masked copy of a body (600,000 dicts
    for 100,000 calls, in no cycle) is gone when it resumes, so no collection walks it (0.14 s
    of CPU in three collections before)."""
    if not gc.isenabled():
        return show(body)
    gc.disable()
    try:
        return show(body)
    finally:
        gc.enable()


def _header(change: Change) -> str:
    ident = f" (id {change.resource_id})" if change.resource_id else ""
    return f"{_SYMBOL[change.action]} {_named(change)} {_VERB[change.action]}{ident}"


def _named(change: Change) -> str:
    """`Agent/new_name (renamed from old_name)`, or just the key."""
    renamed = f" (renamed from {change.renamed_from})" if change.renamed_from else ""
    return f"{change.key}{renamed}"


def where_lines(plan: Plan) -> list[str]:
    """Where a plan acts, first in every rendering: the environment (or "no environment"),
    and per provider the base URL and the name of the variable the key came from."""
    lines = [f"Environment: {plan.environment}" if plan.environment else "No environment"]
    for name, endpoint in sorted(plan.endpoints.items()):
        lines.append(
            f"  {name}: {endpoint.get('baseUrl', '?')} (key from ${endpoint.get('apiKeyEnv', '?')})"
        )
    return lines


def unmanaged_lines(plan: Plan, *, most: int | None = 20) -> list[str]:
    """The live objects `--prune` left alone, once, by kind (the ones no claim covers): a
    line of counts, then a line per kind naming at most `most` of them (None: all)."""
    if not plan.unmanaged:
        return []
    by_kind: dict[str, list[str]] = {}
    for item in plan.unmanaged:
        by_kind.setdefault(item.key.kind, []).append(item.key.name)
    counts = ", ".join(f"{kind}: {len(names)}" for kind, names in sorted(by_kind.items()))
    lines = [
        f"Not managed here: {count(len(plan.unmanaged), 'live object')} ({counts}) that no "
        "Ownership claim covers; --prune leaves them alone"
    ]
    for kind, names in sorted(by_kind.items()):
        shown = names if most is None else names[:most]
        more = f" and {len(names) - len(shown)} more" if len(shown) < len(names) else ""
        lines.append(f"    {kind}: {', '.join(shown)}{more}")
    return lines


def render_text(plan: Plan, *, color: bool = False, compact: bool = False) -> str:
    """The plan for a terminal: each change with its fields and its requests, bodies whole
    (masked; `compact`: long ones cut), then warnings, what `--prune` left alone, the summary."""

    def paint(symbol: str, text: str) -> str:
        return f"\x1b[{_COLOR[symbol]}m{text}\x1b[0m" if color and symbol in _COLOR else text

    out: list[str] = [*where_lines(plan), ""]
    for change in plan.changes:
        symbol = _SYMBOL[change.action]
        out.append(paint(symbol, _header(change)))
        for field in change.fields:
            for mark, text in _field_lines(field):
                out.append(paint(mark, f"    {mark if mark != '#' else ' '} {text}"))
        for note in change.notes:
            out.append(f"    # {note}")
        for request in change.requests:
            out.append(paint("#", _request_line(request, compact=compact, prefix="    => ")))
        out.append("")
    for warning in plan.warnings:
        out.append(paint("!", f"Warning: {warning}"))
    if plan.warnings:
        out.append("")
    unmanaged = unmanaged_lines(plan)
    if unmanaged:
        out += [paint("#", line) for line in unmanaged] + [""]
    out.append(summary_line(plan))
    return "\n".join(out)


MARKDOWN_LIMIT = 65_000
FULL_PLAN_FILE = "plan.json"
_ACTION_WORD = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "delete",
    Action.REPLACE: "replace",
}


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: where it acts, the summary, warnings and deletions, a table of
    every resource and its action, then one collapsible section per resource (its field
    diff, each request body in a collapsed block of its own).

    Over `limit` characters, request bodies are cut first, then whole sections from the end,
    with a note saying so and where the full plan is; the table always stays (should it not
    fit either, its last row counts the resources it leaves out).
    """
    where = where_lines(plan)
    head = [where[0] + "".join(f" · `{line.strip()}`" for line in where[1:]), ""]
    head += [f"**{summary_line(plan)}**", ""]
    for warning in plan.warnings:
        head.append(f"> [!WARNING]\n> {warning}")
        head.append("")
    deletions = [c for c in plan.changes if c.action in (Action.DELETE, Action.REPLACE)]
    if deletions:
        head.append("Destroys: " + ", ".join(f"`{c.key}`" for c in deletions))
        head.append("")
    # A blank line before the first <details>: GitHub renders HTML blocks only after one.
    text = "\n".join(head) + "\n"
    full = [_markdown_section(c, bodies=True) for c in plan.changes]
    short = [_markdown_section(c, bodies=False) for c in plan.changes]
    unmanaged = unmanaged_lines(plan, most=None)
    if unmanaged:
        body = "\n".join(f"- {line.strip()}" for line in unmanaged[1:])
        listed = f"<details><summary>{unmanaged[0]}</summary>\n\n{body}\n\n</details>\n"
        full.append(listed)
        short.append(listed)
    # Room for the longest note these counts can make, so the note never pushes it over.
    note_room = len(_cut_note(plan, len(full), len(full), len(full))) + 2
    text += _table(plan.changes, limit - len(text) - note_room)
    room = limit - len(text)
    if sum(map(len, full)) <= room:
        return text + "".join(full)
    # Every resource's fields before anyone's bodies: the short forms, in order, while they
    # fit; then, in the same order, the bodies back while they fit.
    room -= note_room
    kept: list[str] = []
    for section in short:
        if len(section) > room:
            break
        kept.append(section)
        room -= len(section)
    bodies_cut = 0
    for i, section in enumerate(kept):
        grown = len(full[i]) - len(section)
        if grown and grown <= room:
            kept[i] = full[i]
            room -= grown
        elif grown:
            bodies_cut += 1
    text += "".join(kept)
    return text + "\n" + _cut_note(plan, len(full) - len(kept), len(full), bodies_cut) + "\n"


def _cut_note(plan: Plan, cut: int, sections: int, bodies_cut: int) -> str:
    """What was cut to fit a comment, and where the whole plan is: the file `plan --out`
    saves, which the example workflow uploads as an artifact."""
    if cut and bodies_cut:
        said = (
            f"{cut} of {count(sections, 'resource detail')} {agree(cut, 'was', 'were')} cut to "
            f"fit a comment, and the request bodies of {bodies_cut} of the resources shown"
        )
    elif cut:
        said = (
            f"{cut} of {count(sections, 'resource detail')} {agree(cut, 'was', 'were')} cut to "
            "fit a comment"
        )
    else:
        said = (
            f"The request bodies of {bodies_cut} of {count(sections, 'resource')} were cut to "
            "fit a comment"
        )
    artifact = f"reconciler-plan-{plan.environment or 'ENV'}"
    return (
        f"_{said}. The full plan is "
        f"the JSON file `reconciler plan --out {FULL_PLAN_FILE}` saves (the example workflow "
        f"docs/workflows/plan-on-pull-request.yml uploads it as the artifact `{artifact}`); "
        f"`reconciler show {FULL_PLAN_FILE}` prints it whole._"
    )


def _table(changes: tuple[Change, ...], room: int) -> str:
    """Every resource and its action, one row each; rows that do not fit in `room` are
    counted in a last row instead."""
    if not changes:
        return ""
    text = "| | Resource | Action |\n|---|---|---|\n"
    for i, change in enumerate(changes):
        renamed = f" (renamed from `{_cell(change.renamed_from)}`)" if change.renamed_from else ""
        ident = f" (id `{_cell(change.resource_id)}`)" if change.resource_id else ""
        row = (
            f"| `{_SYMBOL[change.action]}` | `{_cell(str(change.key))}`{renamed} | "
            f"{_ACTION_WORD[change.action]}{ident} |\n"
        )
        more = f"| | … and {len(changes) - i} more (see the full plan) | |\n"
        last = i == len(changes) - 1
        if len(text) + len(row) + (0 if last else len(more)) > room:
            text += more
            break
        text += row
    return text + "\n"


def _cell(text: str) -> str:
    # A `|` would end the table cell, even inside code.
    return text.replace("|", "\\|")


def _markdown_section(change: Change, *, bodies: bool) -> str:
    import html  # only markdown needs it, not every command's start

    lines = [
        f"<details><summary><code>{_SYMBOL[change.action]}</code> "
        f"<b>{_named(change)}</b> {_VERB[change.action]}</summary>",
        "",
        "```diff",
    ]
    for field in change.fields:
        for mark, text in _field_lines(field):
            prefix = {"~": "!", "#": " "}.get(mark, mark)
            lines.append(f"{prefix} {text}")
    for note in change.notes:
        lines.append(f"# {note}")
    lines.append("```")
    if change.requests:
        lines.append("")
        lines += ["Requests:", ""]
        for request in change.requests:
            line = f"{request.method} {request.path}"
            if request.body is None or not bodies:
                lines.append(f"- `{line}`")
                continue
            # A block of its own, collapsed: the exact body, masked as everywhere else (an
            # HTML block starts only after a blank line).
            shown = json.dumps(masked(request.body), indent=2, ensure_ascii=False)
            if lines[-1]:
                lines.append("")
            lines += [
                f"<details><summary><code>{html.escape(line)}</code> (body)</summary>",
                "",
                "```json",
                shown,
                "```",
                "",
                "</details>",
                "",
            ]
    if lines[-1]:
        lines.append("")
    lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    """The plan for machines, as printed: phone numbers masked (a log is no place for them).

    `plan --out FILE` saves the same document unmasked, because apply sends exactly it.
    """
    return json.dumps(masked(plan_to_json(plan)), indent=2, ensure_ascii=False)


RENDERERS: dict[str, Callable[[Plan], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = round(width * done / total) if total else 0
    percent = f"{100 * done / total:5.1f}%" if total else "   - "
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent}"


def render_status(reports: list[dict[str, Any]], *, bars: bool = False) -> str:
    """Campaign progress: per resource its state, totals, counts per status and end reasons."""
    if not reports:
        return "No campaigns in these manifests."
    out: list[str] = []
    for report in reports:
        total, completed = int(report.get("total", 0)), int(report.get("completed", 0))
        out.append(f"{report['kind']}/{report['name']}: {report['state']}")
        line = f"    {completed}/{total} completed"
        if bars:
            line = f"    {_bar(completed, total)}  {completed}/{total} completed"
        out.append(line)
        statuses = report.get("statuses") or {}
        if statuses:
            out.append("    " + "  ".join(f"{k}: {v}" for k, v in statuses.items()))
        reasons = report.get("endReasons") or {}
        if reasons:
            out.append("    ended: " + "  ".join(f"{k}: {v}" for k, v in reasons.items()))
        batches = report.get("batches") or []
        copies = report.get("duplicates") or []
        if len(batches) > 1:
            out.append(f"    {len(batches)} batches ({_batch_kinds(len(batches), len(copies))})")
        for copy in copies:
            out.append("    " + _duplicate_line(copy))
        calls = report.get("calls") or []
        for call in calls[-5:]:
            outcome = call.get("endReason") or "in progress"
            out.append(f"    call {call['callId']} to {call['to']}: {outcome}")
        if len(calls) > 5:
            out.append(f"    ... {count(len(calls) - 5, 'earlier call')} (see --format json)")
    return "\n".join(out)


def _batch_kinds(total: int, copies: int) -> str:
    """`the first, 1 supplemental and 1 duplicate`: what a campaign's batches are."""
    kinds = ["the first"]
    if total - 1 - copies:
        kinds.append(f"{total - 1 - copies} supplemental")
    if copies:
        kinds.append(f"{copies} duplicate")
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]


def _duplicate_line(copy: dict[str, Any]) -> str:
    """One copy of recipients in two live batches (numbers already masked)."""
    numbers = ", ".join(copy.get("numbers") or [])
    head = (
        f"duplicate: batch {copy['batch']} repeats "
        f"{count(int(copy['recipients']), 'recipient')} of batch {', '.join(copy.get('of') or [])}"
    )
    if copy.get("started"):
        return f"{head}; both started: they may be called twice ({numbers})"
    return f"{head}; nobody dialled from it yet: the next plan removes it ({numbers})"


def render_state_differences(
    differences: list[StateDifference], names: tuple[str, str], *, color: bool = False
) -> str:
    """`diff-env`: what differs between two environments, resource by resource."""

    def paint(symbol: str, text: str) -> str:
        return f"\x1b[{_COLOR[symbol]}m{text}\x1b[0m" if color and symbol in _COLOR else text

    left, right = names
    out: list[str] = []
    for item in differences:
        if item.only_in == left:
            out.append(paint("-", f"- {item.key} only in {left}"))
        elif item.only_in == right:
            out.append(paint("+", f"+ {item.key} only in {right}"))
        else:
            out.append(paint("~", f"~ {item.key} differs"))
            for field in item.fields:
                for mark, text in _field_lines(field):
                    out.append(paint(mark, f"    {mark if mark != '#' else ' '} {text}"))
    if not differences:
        out.append(f"No differences between {left} and {right}.")
    else:
        counts = {
            "only": sum(1 for d in differences if d.only_in == left),
            "other": sum(1 for d in differences if d.only_in == right),
            "diff": sum(1 for d in differences if d.only_in is None),
        }
        out.append("")
        out.append(
            f"{left} -> {right}: {count(counts['diff'], 'differs', 'differ')}, "
            f"{counts['only']} only in {left}, "
            f"{counts['other']} only in {right}."
        )
    return "\n".join(out)
