"""Rendering a plan for people and machines: text (terminals), markdown (PR comments), json.

Owns the look of a plan: `+ create`, `~ update`, `- delete`, `-/+ replace`, field lines
`old -> new`, multi-line strings as unified diffs, the requests, warnings and the summary line.
Phone numbers are masked and secrets never shown in text and markdown. Pure: takes a `Plan`,
returns a string; must not import httpx, deepdiff, the client or apply.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any

from reconciler.core.domain import Action, Change, FieldChange, FieldOp, Plan, Request
from reconciler.core.masking import mask_phone, masked
from reconciler.core.planfile import SENSITIVE, plan_to_json
from reconciler.core.planning import StateDifference

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
MAX_BODY_CHARS = 1200


def _show(value: Any) -> str:
    return json.dumps(masked(value), ensure_ascii=False, sort_keys=False)


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
    """(symbol, text) pairs for one field; multi-line strings become unified diffs."""
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


def _request_line(request: Request) -> str:
    text = f"{request.method} {request.path}"
    if request.body is not None:
        body = _show(request.body)
        if len(body) > MAX_BODY_CHARS:
            body = f"{body[:MAX_BODY_CHARS]}... ({len(body):,} characters in all)"
        text += f" {body}"
    return text


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
        f"Not managed here: {len(plan.unmanaged)} live objects ({counts}) that no Ownership "
        "claim covers; --prune leaves them alone"
    ]
    for kind, names in sorted(by_kind.items()):
        shown = names if most is None else names[:most]
        more = f" and {len(names) - len(shown)} more" if len(shown) < len(names) else ""
        lines.append(f"    {kind}: {', '.join(shown)}{more}")
    return lines


def render_text(plan: Plan, *, color: bool = False) -> str:
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
            out.append(paint("#", f"    => {_request_line(request)}"))
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


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: summary first, then one collapsible section per resource.

    Over `limit` characters, resource details are cut (with a note) while the summary, the
    deletions and the warnings stay.
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
    sections = [_markdown_section(c) for c in plan.changes]
    unmanaged = unmanaged_lines(plan, most=None)
    if unmanaged:
        body = "\n".join(f"- {line.strip()}" for line in unmanaged[1:])
        sections.append(f"<details><summary>{unmanaged[0]}</summary>\n\n{body}\n\n</details>\n")
    # A blank line before the first <details>: GitHub renders HTML blocks only after one.
    text = "\n".join(head) + "\n"
    kept = 0
    for section in sections:
        note_room = 200
        if len(text) + len(section) + note_room > limit:
            break
        text += section
        kept += 1
    if kept < len(sections):
        text += (
            f"\n_{len(sections) - kept} of {len(sections)} resource details were cut to fit "
            f"a comment; run `reconciler plan` for the full plan._\n"
        )
    return text


def _markdown_section(change: Change) -> str:
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
        lines.append("Requests:")
        for request in change.requests:
            lines.append(f"- `{request.method} {request.path}`")
    lines += ["", "</details>", ""]
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
            out.append(f"    ... {len(calls) - 5} earlier calls (see --format json)")
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
        f"duplicate: batch {copy['batch']} repeats {copy['recipients']} recipient(s) of "
        f"batch {', '.join(copy.get('of') or [])}"
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
            f"{left} -> {right}: {counts['diff']} differ, {counts['only']} only in {left}, "
            f"{counts['other']} only in {right}."
        )
    return "\n".join(out)
