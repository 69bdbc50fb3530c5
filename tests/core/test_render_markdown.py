"""Issue 13, item 6: the markdown comment shows request bodies collapsed, keeps a table of
every resource when cut to fit, and says where the full plan is; masked throughout."""

from __future__ import annotations

import pytest

from reconciler.core.domain import (
    Action,
    Change,
    FieldChange,
    FieldOp,
    Plan,
    Request,
    ResourceKey,
)
from reconciler.core.render import render_markdown

NUMBER = "+14155550100"


def agent(name: str, prompt: str = "Hi", action: Action = Action.CREATE) -> Change:
    body = {"name": name, "callTemplate": {"systemPrompt": prompt}}
    return Change(
        ResourceKey("Agent", name),
        "ultravox",
        action,
        fields=(FieldChange("callTemplate.systemPrompt", FieldOp.ADD, after=prompt),),
        requests=(Request("POST", "/api/agents", body, capture="agentId"),),
    )


BATCH = Change(
    ResourceKey("ScheduledBatch", "renewals"),
    "ultravox",
    Action.CREATE,
    fields=(FieldChange("webhookSecret", FieldOp.ADD, after="s3cr3t-value", sensitive=True),),
    requests=(
        Request(
            "POST",
            "/api/agents/a-1/scheduled_batches",
            {
                "webhookSecret": {"$secret": "HOOK_SECRET"},
                "calls": [
                    {"medium": {"twilio": {"outgoing": {"to": NUMBER, "from": "+14155550199"}}}},
                    {"templateContext": {"note": "call back on +1 415 555 0177"}},
                ],
            },
        ),
    ),
    notes=("2 recipients: +1415***0100, +1415***0177",),
)

SECTION = """\
<details><summary><code>+</code> <b>ScheduledBatch/renewals</b> will be created</summary>

```diff
+ webhookSecret: (sensitive value)
# 2 recipients: +1415***0100, +1415***0177
```

Requests:

<details><summary><code>POST /api/agents/a-1/scheduled_batches</code> (body)</summary>

```json
{
  "webhookSecret": "(secret from $HOOK_SECRET)",
  "calls": [
    {
      "medium": {
        "twilio": {
          "outgoing": {
            "to": "+1415***0100",
            "from": "+1415***0199"
          }
        }
      }
    },
    {
      "templateContext": {
        "note": "call back on +1415***0177"
      }
    }
  ]
}
```

</details>

</details>
"""


def test_bodies_are_collapsed_and_masked() -> None:
    md = render_markdown(Plan(changes=(BATCH,), environment="prod"))
    assert md.endswith("\n" + SECTION + "\n")
    assert "| `+` | `ScheduledBatch/renewals` | create |" in md.splitlines()
    for private in (NUMBER, "+14155550199", "555 0177", "s3cr3t-value"):
        assert private not in md


def test_a_request_without_a_body_is_a_line() -> None:
    delete = Change(
        ResourceKey("Agent", "old"),
        "ultravox",
        Action.DELETE,
        requests=(Request("DELETE", "/api/agents/a-2"),),
        resource_id="a-2",
    )
    md = render_markdown(Plan(changes=(delete,)))
    assert "Requests:\n\n- `DELETE /api/agents/a-2`\n\n</details>\n" in md
    assert "| `-` | `Agent/old` | delete (id `a-2`) |" in md.splitlines()


def test_table_rows_name_renames_and_escape_bars() -> None:
    renamed = Change(
        ResourceKey("Agent", "new|name"),
        "ultravox",
        Action.UPDATE,
        resource_id="a-3",
        renamed_from="old_name",
    )
    md = render_markdown(Plan(changes=(renamed,)))
    assert md.splitlines()[4:8] == [
        "| | Resource | Action |",
        "|---|---|---|",
        "| `~` | `Agent/new\\|name` (renamed from `old_name`) | update (id `a-3`) |",
        "",
    ]


FULL_PLAN = (
    "The full plan is the JSON file `reconciler plan --out plan.json` saves (the example "
    "workflow docs/workflows/plan-on-pull-request.yml uploads it as the artifact "
    "`reconciler-plan-{env}`); `reconciler show plan.json` prints it whole._"
)


@pytest.mark.parametrize(
    ("limit", "environment", "bodies", "note"),
    [
        pytest.param(
            2900,
            "prod",
            1,
            "_The request bodies of 2 of 3 resources were cut to fit a comment. "
            + FULL_PLAN.format(env="prod"),
            id="bodies-go-first",
        ),
        pytest.param(
            2500,
            "prod",
            0,
            "_The request bodies of 3 of 3 resources were cut to fit a comment. "
            + FULL_PLAN.format(env="prod"),
            id="no-body-fits",
        ),
        pytest.param(
            1500,
            None,
            0,
            "_2 of 3 resource details were cut to fit a comment, and the request bodies of "
            "1 of the resources shown. " + FULL_PLAN.format(env="ENV"),
            id="then-sections",
        ),
        pytest.param(
            1100,
            "staging",
            0,
            "_3 of 3 resource details were cut to fit a comment. "
            + FULL_PLAN.format(env="staging"),
            id="table-only",
        ),
    ],
)
def test_cut_to_fit_keeps_the_table_and_says_where_the_full_plan_is(
    limit: int, environment: str | None, bodies: int, note: str
) -> None:
    changes = tuple(agent(f"bot_{i}", "x" * 400) for i in range(3))
    plan = Plan(changes=changes, environment=environment)
    md = render_markdown(plan, limit=limit)
    assert len(md) <= limit
    assert md.endswith("\n" + note + "\n")
    assert md.count("```json") == bodies
    for i in range(3):
        assert f"| `+` | `Agent/bot_{i}` | create |" in md.splitlines()
    # Sections are whole, and a cut one is neither shown nor half shown.
    assert md.count("<details>") == md.count("</details>")
    assert md.count("```") % 2 == 0
    # The fields of every section shown stay, bodies or not.
    assert md.count("<b>Agent/bot_") == md.count("+ callTemplate.systemPrompt: ")
    # Uncut, nothing says so.
    whole = render_markdown(plan)
    assert "were cut" not in whole and whole.count("```json") == 3


def test_a_table_too_long_for_the_limit_counts_what_it_leaves_out() -> None:
    plan = Plan(changes=tuple(agent(f"bot_{i:03}") for i in range(100)))
    md = render_markdown(plan, limit=2000)
    assert len(md) <= 2000
    rows = [line for line in md.splitlines() if line.startswith("| `+` |")]
    assert rows[0] == "| `+` | `Agent/bot_000` | create |"
    assert f"| | … and {100 - len(rows)} more (see the full plan) | |" in md.splitlines()
    assert md.endswith(
        "\n_100 of 100 resource details were cut to fit a comment. "
        + (FULL_PLAN.format(env="ENV") + "\n")
    )
