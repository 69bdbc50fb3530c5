"""Counts in what the renderers print agree with their number (issue 13, item 8): "1 live
object", "1 of 3 resource details was cut", "1 earlier call", "1 differs". Each line is
asserted whole, for one and for more."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.domain import FieldChange, FieldOp, Plan, ResourceKey, Unmanaged
from reconciler.core.planning import StateDifference
from reconciler.core.render import (
    _cut_note,
    render_state_differences,
    render_status,
    unmanaged_lines,
)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("a",), "Not managed here: 1 live object (Agent: 1) that no Ownership claim covers"),
        (("a", "b"), "Not managed here: 2 live objects (Agent: 2) that no Ownership claim covers"),
    ],
)
def test_unmanaged_objects_are_counted(names: tuple[str, ...], expected: str) -> None:
    plan = Plan(unmanaged=tuple(Unmanaged(ResourceKey("Agent", n), "ultravox", n) for n in names))
    assert unmanaged_lines(plan)[0] == expected + "; --prune leaves them alone"


@pytest.mark.parametrize(
    ("cut", "sections", "bodies", "said"),
    [
        (1, 1, 0, "1 of 1 resource detail was cut to fit a comment"),
        (1, 3, 0, "1 of 3 resource details was cut to fit a comment"),
        (2, 3, 0, "2 of 3 resource details were cut to fit a comment"),
        (
            1,
            3,
            1,
            "1 of 3 resource details was cut to fit a comment, and the request bodies of 1 of "
            "the resources shown",
        ),
        (0, 1, 1, "The request bodies of 1 of 1 resource were cut to fit a comment"),
        (0, 2, 2, "The request bodies of 2 of 2 resources were cut to fit a comment"),
    ],
)
def test_the_cut_note_counts_what_it_cut(cut: int, sections: int, bodies: int, said: str) -> None:
    assert _cut_note(Plan(environment="prod"), cut, sections, bodies) == (
        f"_{said}. The full plan is the JSON file `reconciler plan --out plan.json` "
        "saves (the example workflow docs/workflows/plan-on-pull-request.yml uploads it as the "
        "artifact `reconciler-plan-prod`); `reconciler show plan.json` prints it "
        "whole._"
    )


def report(calls: int, shared: int) -> dict[str, Any]:
    return {
        "kind": "BatchCall",
        "name": "spring",
        "state": "running",
        "total": calls,
        "completed": calls,
        "batches": [{"id": "a"}, {"id": "b"}],
        "duplicates": [
            {"batch": "b", "of": ["a"], "recipients": shared, "numbers": ["+1415***0100"]}
        ],
        "calls": [
            {"callId": f"c{i}", "to": "+1415***0100", "endReason": "completed"}
            for i in range(calls)
        ],
    }


@pytest.mark.parametrize(
    ("calls", "shared", "earlier", "repeats"),
    [(6, 1, "1 earlier call", "1 recipient"), (7, 2, "2 earlier calls", "2 recipients")],
)
def test_status_counts_earlier_calls_and_repeated_recipients(
    calls: int, shared: int, earlier: str, repeats: str
) -> None:
    lines = render_status([report(calls, shared)]).splitlines()
    assert lines[3] == (
        f"    duplicate: batch b repeats {repeats} of batch a; nobody dialled from it yet: the "
        "next plan removes it (+1415***0100)"
    )
    assert lines[-1] == f"    ... {earlier} (see --format json)"


@pytest.mark.parametrize(
    ("differing", "summary"),
    [
        (1, "staging -> prod: 1 differs, 0 only in staging, 0 only in prod."),
        (2, "staging -> prod: 2 differ, 0 only in staging, 0 only in prod."),
    ],
)
def test_diff_env_counts_what_differs(differing: int, summary: str) -> None:
    differences = [
        StateDifference(
            ResourceKey("Agent", f"a{i}"),
            None,
            (FieldChange("callTemplate.voice", FieldOp.CHANGE, "Mark", "Jessica"),),
        )
        for i in range(differing)
    ]
    text = render_state_differences(differences, ("staging", "prod"))
    assert text.splitlines()[-1] == summary
