"""The campaign kit (`reconciler.providers.campaigns`) without a vendor or a network: unique
recipients, matching, the started/not-started decision, part identity, masked lists, status
counting and the typed state accessors, table-driven."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from reconciler.core.domain import DesiredResource, LiveResource, ResourceKey, SourceRef
from reconciler.core.masking import mask_number
from reconciler.providers.campaigns.decision import (
    Refusal,
    Verdict,
    clashes,
    decide,
    has_started,
    next_number,
)
from reconciler.providers.campaigns.recipients import (
    Located,
    RecipientChanges,
    compare_recipients,
    recipient_list,
    unique,
    unique_listed,
)
from reconciler.providers.campaigns.state import (
    DesiredCampaign,
    LiveCampaign,
    LiveRecipient,
    Part,
    Recipient,
    desired_campaign,
    live_campaign,
)
from reconciler.providers.campaigns.status import count_statuses, not_created, report_head, tally

A, B, C = "+14155550100", "+14155550101", "+14155550102"


def wanted(
    key: str, number: str | None = None, reach: str | None = None, **payload: str
) -> Recipient:
    return Recipient(key, number, {"id": key, **payload}, reach)


def live(key: str | None, status: str = "pending", reach: str | None = None) -> LiveRecipient:
    return LiveRecipient(key, status, masked=f"masked-{key}", reach=reach)


def part(number: int, *statuses: str, status: str | None = None, ident: str = "") -> Part:
    recipients = tuple(live(f"r{number}-{i}", s) for i, s in enumerate(statuses))
    return Part(
        id=ident or f"b{number}",
        number=number,
        name=f"spring~{number}",
        recipients=recipients,
        batch={"id": ident or f"b{number}"},
        status=status,
    )


# --- unique: each recipient once, duplicates at their own file and line ----------------------

MANIFEST = "campaign.yaml"
FILE = "recipients.csv"


@dataclass(frozen=True)
class UniqueCase:
    name: str
    located: tuple[Located, ...]
    kept: tuple[str, ...]
    problems: tuple[str, ...]
    inline_file: str | None = None


UNIQUE_CASES = [
    UniqueCase(
        "all different",
        (Located(MANIFEST, 5, wanted("r-1", A)), Located(FILE, 2, wanted("r-2", B))),
        ("r-1", "r-2"),
        (),
    ),
    UniqueCase(
        "the same key twice: the second is reported where it is, naming the first",
        (Located(MANIFEST, 5, wanted("r-1", A)), Located(FILE, 3, wanted("r-1", A))),
        ("r-1",),
        (
            "recipients.csv:3: recipient +1415***0100 is listed twice in batch 'x' "
            "(first at campaign.yaml:5)",
        ),
    ),
    UniqueCase(
        "another key that reaches the same number is a duplicate too",
        (
            Located(FILE, 2, wanted("cust-1", A, reach="h-A")),
            Located(FILE, 9, wanted("cust-2", A, reach="h-A")),
        ),
        ("cust-1",),
        (
            "recipients.csv:9: recipient +1415***0100 is listed twice in batch 'x' "
            "(first at recipients.csv:2)",
        ),
    ),
    UniqueCase(
        "without a second identity only the key counts",
        (Located(FILE, 2, wanted("r-1", A)), Located(FILE, 3, wanted("r-2", A))),
        ("r-1", "r-2"),
        (),
    ),
    UniqueCase(
        "inline duplicates are dropped silently: the manifest model reports them",
        (Located(MANIFEST, 5, wanted("r-1", A)), Located(MANIFEST, 5, wanted("r-1", A))),
        ("r-1",),
        (),
        inline_file=MANIFEST,
    ),
    UniqueCase(
        "a file duplicate of an inline recipient is still reported",
        (Located(MANIFEST, 5, wanted("r-1", A)), Located(FILE, 4, wanted("r-1", A))),
        ("r-1",),
        (
            "recipients.csv:4: recipient +1415***0100 is listed twice in batch 'x' "
            "(first at campaign.yaml:5)",
        ),
        inline_file=MANIFEST,
    ),
    UniqueCase(
        "a call without a number is shown as such",
        (Located(MANIFEST, 5, wanted("r-1")), Located(MANIFEST, 6, wanted("r-1"))),
        ("r-1",),
        (
            "campaign.yaml:6: recipient (no number) is listed twice in batch 'x' "
            "(first at campaign.yaml:5)",
        ),
    ),
]


@pytest.mark.parametrize("case", UNIQUE_CASES, ids=[c.name for c in UNIQUE_CASES])
def test_unique_keeps_first_listings_and_locates_duplicates(case: UniqueCase) -> None:
    kept, problems = unique(
        case.located, container="batch 'x'", mask=mask_number, inline_file=case.inline_file
    )
    assert tuple(r.key for r in kept) == case.kept
    assert tuple(str(p) for p in problems) == case.problems


@pytest.mark.parametrize("case", UNIQUE_CASES, ids=[c.name for c in UNIQUE_CASES])
def test_unique_reads_plain_listings_and_says_which_it_kept(case: UniqueCase) -> None:
    # A recipients file's rows are listed as plain (file, line, recipient) tuples.
    plain = [(item.file, item.line, item.recipient) for item in case.located]
    kept, problems = unique(
        plain, container="batch 'x'", mask=mask_number, inline_file=case.inline_file
    )
    assert tuple(r.key for r in kept) == case.kept
    assert tuple(str(p) for p in problems) == case.problems
    indices, again = unique_listed(
        plain, container="batch 'x'", mask=mask_number, inline_file=case.inline_file
    )
    assert tuple(plain[i][2] for i in indices) == kept
    assert again == problems
    listed = iter(case.located)  # any iterable, read once
    assert unique(
        listed, container="batch 'x'", mask=mask_number, inline_file=case.inline_file
    ) == (
        kept,
        problems,
    )


# --- compare_recipients: added, removed, changed ----------------------------------------------


def data_differs(want: Recipient, have: LiveRecipient) -> bool:
    return have.reach != want.reach or want.payload.get("greeting") == "changed"


@dataclass(frozen=True)
class MatchCase:
    name: str
    wanted: tuple[Recipient, ...]
    live: tuple[LiveRecipient, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str | None, ...] = ()
    changed: tuple[str, ...] = ()
    differs: Callable[[Recipient, LiveRecipient], bool] | None = None


MATCH_CASES = [
    MatchCase("the same recipients", (wanted("r-1"), wanted("r-2")), (live("r-1"), live("r-2"))),
    MatchCase(
        "one added, in manifest order",
        (wanted("r-3"), wanted("r-1"), wanted("r-2")),
        (live("r-1"), live("r-2")),
        added=("r-3",),
    ),
    MatchCase("one removed", (wanted("r-1"),), (live("r-1"), live("r-2")), removed=("r-2",)),
    MatchCase(
        "a live call without a key is never matched: removed",
        (wanted("r-1"),),
        (live("r-1"), live(None)),
        removed=(None,),
    ),
    MatchCase(
        "matched by hashed number when the server gave its own id",
        (wanted("cust-1", reach="h-A"),),
        (live("rcp_999", reach="h-A"),),
    ),
    MatchCase(
        "matched by key first: the same id now reaching another number is changed",
        (wanted("cust-1", reach="h-B"),),
        (live("cust-1", reach="h-A"),),
        changed=("cust-1",),
        differs=data_differs,
    ),
    MatchCase(
        "edited data is changed when the kind compares it",
        (wanted("cust-1", reach="h-A", greeting="changed"),),
        (live("cust-1", reach="h-A"),),
        changed=("cust-1",),
        differs=data_differs,
    ),
    MatchCase(
        "without a comparison nothing counts as changed",
        (wanted("cust-1", reach="h-B"),),
        (live("cust-1", reach="h-A"),),
    ),
    MatchCase(
        "a live recipient whose number is still wanted under another key is not removed",
        (wanted("cust-2", reach="h-A"),),
        (live("cust-1", reach="h-A"),),
    ),
]


@pytest.mark.parametrize("case", MATCH_CASES, ids=[c.name for c in MATCH_CASES])
def test_compare_recipients(case: MatchCase) -> None:
    changes = compare_recipients(case.wanted, case.live, case.differs)
    assert tuple(r.key for r in changes.added) == case.added
    assert tuple(r.key for r in changes.removed) == case.removed
    assert tuple(r.key for r in changes.changed) == case.changed
    assert changes.empty == (not (case.added or case.removed or case.changed))


# --- the decision -----------------------------------------------------------------------------

ADDED = RecipientChanges(added=(wanted("r-9"),))
REMOVED = RecipientChanges(removed=(live("r-1"),))
CHANGED = RecipientChanges(changed=(wanted("r-1"),))
SAME = RecipientChanges()
R, S, N, X = Verdict.REPLACE, Verdict.SUPPLEMENT, Verdict.NOTHING, Verdict.REFUSE

# (started, modifiable, recipients, fields changed, stopped) -> (verdict, refusals)
DECISIONS: list[
    tuple[str, bool, bool, RecipientChanges, bool, bool, Verdict, tuple[Refusal, ...]]
] = [
    ("nothing differs", False, True, SAME, False, False, N, ()),
    ("nothing differs, fixed batch", False, False, SAME, False, False, N, ()),
    ("not started, removed: replace", False, True, REMOVED, False, False, R, ()),
    ("not started, changed: replace", False, False, CHANGED, False, False, R, ()),
    ("not started, added, modifiable: supplement", False, True, ADDED, False, False, S, ()),
    ("not started, added, fixed batch: replace", False, False, ADDED, False, False, R, ()),
    ("not started, field, modifiable: in place", False, True, SAME, True, False, S, ()),
    ("not started, field, fixed batch: replace", False, False, SAME, True, False, R, ()),
    ("started, added: supplement", True, False, ADDED, False, False, S, ()),
    ("started, added, modifiable: supplement", True, True, ADDED, False, False, S, ()),
    ("started, field, modifiable: in place", True, True, SAME, True, False, S, ()),
    ("started, field, fixed batch: refused", True, False, SAME, True, False, X, (Refusal.FIELDS,)),
    ("started, removed: refused", True, True, REMOVED, False, False, X, (Refusal.REMOVED,)),
    ("started, changed: refused", True, False, CHANGED, False, False, X, (Refusal.CHANGED,)),
    ("started, stopped: refused", True, False, SAME, False, True, X, (Refusal.STOPPED,)),
    (
        "started, everything at once: every reason, in order",
        True,
        False,
        RecipientChanges(added=ADDED.added, removed=REMOVED.removed, changed=CHANGED.changed),
        True,
        True,
        X,
        (Refusal.STOPPED, Refusal.FIELDS, Refusal.REMOVED, Refusal.CHANGED),
    ),
    ("not started, stopped alone does not refuse", False, False, SAME, False, True, N, ()),
    ("started, nothing differs", True, False, SAME, False, False, N, ()),
]


@pytest.mark.parametrize(
    ("started", "modifiable", "recipients", "fields", "stopped", "verdict", "refusals"),
    [d[1:] for d in DECISIONS],
    ids=[d[0] for d in DECISIONS],
)
def test_decide(
    started: bool,
    modifiable: bool,
    recipients: RecipientChanges,
    fields: bool,
    stopped: bool,
    verdict: Verdict,
    refusals: tuple[Refusal, ...],
) -> None:
    decision = decide(
        recipients, started=started, modifiable=modifiable, fields_changed=fields, stopped=stopped
    )
    assert (decision.verdict, decision.refusals) == (verdict, refusals)
    assert decision.recipients is recipients


STARTED_CASES = [
    ("every call waiting", [part(1, "FUTURE", "FUTURE")], False),
    ("a call made", [part(1, "FUTURE", "SUCCESS")], True),
    ("a later part's call made", [part(1, "FUTURE"), part(2, "PENDING")], True),
    ("a part the kind says started", [part(1, "FUTURE", status="ended")], True),
    ("no recipients read yet", [part(1)], False),
]


@pytest.mark.parametrize(
    ("parts", "expected"), [c[1:] for c in STARTED_CASES], ids=[c[0] for c in STARTED_CASES]
)
def test_has_started(parts: list[Part], expected: bool) -> None:
    assert (
        has_started(parts, idle=frozenset({"FUTURE"}), part_started=lambda p: p.status == "ended")
        is expected
    )


@pytest.mark.parametrize(
    ("numbers", "clashing", "following"),
    [
        ([1], [], 2),
        ([1, 2, 3], [], 4),
        ([1, 3], [], 4),
        ([1, 1, 2], [(1, 1)], 3),
        ([1, 2, 2, 3, 3], [(2, 2), (3, 3)], 4),
    ],
)
def test_part_identity(numbers: list[int], clashing: list[tuple[int, ...]], following: int) -> None:
    parts = [part(n, ident=f"b{i}") for i, n in enumerate(numbers)]
    assert [tuple(p.number for p in group) for group in clashes(parts)] == clashing
    assert next_number(parts) == following


# --- notes and status -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ([], "none"),
        ([None, None], "none"),
        ([A], "+1415***0100"),
        ([A, B, C], "+1415***0100, +1415***0101, +1415***0102"),
        ([A] * 7, ", ".join(["+1415***0100"] * 5) + " and 2 more"),
        ([A, None, None], "+1415***0100 and 2 more"),
        ([None] * 6 + [A], "+1415***0100 and 6 more"),
    ],
)
def test_recipient_list_masks_and_counts(numbers: list[str | None], expected: str) -> None:
    recipients = [wanted(f"r-{i}", n) for i, n in enumerate(numbers)]
    assert recipient_list(recipients, mask_number, without_numbers="none") == expected
    assert A not in recipient_list(recipients, mask_number)


def test_status_counts_every_known_status_and_tallies_sorted() -> None:
    recipients = [live("a", "done"), live("b", "odd"), live("c", "done"), live("d", "waiting")]
    assert list(count_statuses(recipients, ("waiting", "done", "never")).items()) == [
        ("waiting", 1),
        ("done", 2),
        ("never", 0),
        ("odd", 1),
    ]
    assert list(tally(["b", "a", "b"]).items()) == [("a", 1), ("b", 2)]
    assert tally([]) == {}


SOURCE = SourceRef("campaign.yaml", 1)


def campaign_resource(detail: object) -> DesiredResource:
    return DesiredResource(
        ResourceKey("BatchCall", "spring"), "threetone", {}, SOURCE, detail=detail
    )


def test_report_head_and_not_created() -> None:
    desired = campaign_resource(DesiredCampaign((wanted("r-1", A), wanted("r-2", B))))
    assert report_head(desired) == {
        "kind": "BatchCall",
        "name": "spring",
        "provider": "threetone",
        "recipients": 2,
    }
    assert list(not_created(desired, "cancelled").items())[-3:] == [
        ("state", "cancelled"),
        ("total", 0),
        ("completed", 0),
    ]


# --- the typed state --------------------------------------------------------------------------


def test_typed_state_is_read_through_checked_accessors() -> None:
    campaign = DesiredCampaign((wanted("r-1", A),), agent="caller")
    assert desired_campaign(campaign_resource(campaign)) is campaign
    parts = (part(1, "FUTURE", "SUCCESS"), part(2, "FUTURE"))
    found = LiveResource(
        ResourceKey("ScheduledBatch", "x"), "ultravox", "b1", {}, "sha256:x", LiveCampaign(parts)
    )
    assert [r.key for r in live_campaign(found).recipients] == ["r1-0", "r1-1", "r2-0"]


@pytest.mark.parametrize("detail", [None, {"recipients": []}, LiveCampaign(())])
def test_the_wrong_detail_fails_loudly(detail: object) -> None:
    with pytest.raises(TypeError, match=r"BatchCall/spring: expected a DesiredCampaign"):
        desired_campaign(campaign_resource(detail))


def test_campaign_state_is_immutable() -> None:
    campaign = DesiredCampaign((wanted("r-1", A),))
    with pytest.raises(AttributeError):
        campaign.cancelled = True  # type: ignore[misc]
