"""Property: applies running at the same time, numbers written any way, two environments, and
still nobody is dialled twice, and no campaign runs where it is not declared (issue 10).

Random sequences of manifest edits (add or remove recipients, the same numbers written in
another format), virtual time, and runs of the real pipeline (engine: plan + apply, in
process) against two emulators standing for staging and prod: alone, two at once in one
event loop (their requests interleave, as two processes' do), or with another apply's copy
of each submit sent a moment before it (`Racing`). The ScheduledBatch runs in
staging only, the BatchCall in prod only. After every step, in each account, each number is in
at most one live batch and was dialled at most once, and neither campaign is in the other
account; once the edits stop, plans settle to "No changes" and time dials each number once.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.errors import PlanError, ReconcilerError
from reconciler.providers import registry
from reconciler.runtime import engine
from reconciler.runtime.apply import apply_plan
from reconciler_emulator import EmulatorConfig
from tests.runtime.test_concurrent_apply import Racing
from tests.support.emulators import InProcessEmulator, hooks_for

POOL = [f"+1628555{i:04d}" for i in range(10)]
START = datetime(2031, 3, 2, 8, 0, tzinfo=UTC)

FORMATS: list[Callable[[str], str]] = [
    lambda n: n,
    lambda n: n + "\n",
    lambda n: f"  {n} ",
    lambda n: f"+1 {n[2:5]}-{n[5:8]}-{n[8:]}",
    lambda n: f"+1 ({n[2:5]}) {n[5:8]} {n[8:]}",
    lambda n: f"({n[2:5]}) {n[5:8]}-{n[8:]}",  # national: read with defaultRegion US
    lambda n: f"{n[2:5]}.{n[5:8]}.{n[8:]}",
]

edits = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(POOL)),
    st.tuples(st.just("remove"), st.sampled_from(POOL)),
    st.tuples(st.just("reformat"), st.integers(min_value=0, max_value=10**6)),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=30)),
    st.tuples(st.just("race"), st.sampled_from(["staging", "prod"])),
    st.tuples(st.just("run"), st.sampled_from(["staging", "prod"])),
    st.tuples(st.just("copied"), st.sampled_from(["staging", "prod"])),
)


def written(numbers: list[str], seed: int) -> list[str]:
    return [FORMATS[(seed + i) % len(FORMATS)](n) for i, n in enumerate(numbers)]


def manifest_text(numbers: list[str], seed: int) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\n", "\\n") + '"'

    calls = "".join(
        f'  - medium: {{twilio: {{outgoing: {{to: {quoted(n)}, from: "+16285550990"}}}}}}\n'
        for n in written(numbers, seed)
    )
    recipients = "".join(f"  - phone_number: {quoted(n)}\n" for n in written(numbers, seed + 3))
    return (
        "kind: Agent\nname: dialler\ncallTemplate:\n  systemPrompt: You remind people.\n---\n"
        "kind: ScheduledBatch\nname: reminders\nagent: dialler\nenvironments: [staging]\n"
        'defaultRegion: US\nwindowStart: "2031-03-02T09:00:00Z"\n'
        'windowEnd: "2031-03-02T15:00:00Z"\ncalls:\n' + calls + "---\n"
        "kind: BatchCall\nprovider: threetone\nname: spring\nagentId: agent_prop\n"
        'environments: [prod]\ndefaultRegion: US\nscheduledTime: "2031-03-02T09:00:00Z"\n'
        "recipients:\n" + recipients
    )


def environment_files(root: Path, accounts: dict[str, InProcessEmulator]) -> None:
    (root / "environments").mkdir()
    for name, emulator in accounts.items():
        (root / "environments" / f"{name}.yaml").write_text(
            f"providers:\n"
            f"  ultravox: {{baseUrl: {emulator.base_url}, apiKeyEnv: KEY_{name.upper()}}}\n"
            f"  threetone: {{baseUrl: {emulator.base_url}, apiKeyEnv: KEY_{name.upper()}}}\n"
        )


def live(emulator: InProcessEmulator) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(numbers in live Ultravox batches, in live batch-calling batches, dialled)."""
    state = emulator.admin.state()
    ultravox: Counter[str] = Counter()
    calling: Counter[str] = Counter()
    dialled: Counter[str] = Counter()
    for batch in state["batches"]:
        for call in batch["calls"]:
            ultravox[call["medium"]["twilio"]["outgoing"]["to"]] += 1
    for call in state["calls"]:
        dialled[call["medium"]["twilio"]["outgoing"]["to"]] += 1
    for batch in state["batch_calls"]:
        for r in batch["recipients"]:
            if batch["status"] != "cancelled":
                calling[r["phone_number"]] += 1
            if r.get("dispatched") or r["status"] not in ("pending", "cancelled"):
                dialled[r["phone_number"]] += 1
    return ultravox, calling, dialled


async def plan_and_apply(
    path: Path, environ: dict[str, str], env: str, hooks: Any, *, copied: bool = False
) -> bool:
    """One CI run in `env`: plan, then apply. True when the plan had nothing to do.

    `copied`: another apply sends each batch submit of this one a moment before it does (after
    this one listed the account again): the race the hold and the settling are for."""
    workspace = engine.Workspace.open([str(path)], environ, env, hooks)
    plan = await engine.plan_workspace(workspace, workspace.desired(), engine.plan_options(False))
    if plan.is_empty:
        return True
    async with workspace.session() as session:
        if not copied:
            await engine.run_apply(
                session, plan, check_stale=False, concurrency=4, on_result=lambda _: None
            )
            return False
        kinds = registry.kinds()
        apis: dict[str, Any] = {}
        for provider in registry.PROVIDERS:
            if any(c.provider == provider.name for c in plan.changes):
                inner = await session.api(provider)
                apis[provider.name] = Racing(
                    inner, lambda r: any(k.creates_batch(r) for k in kinds.values())
                )
        await apply_plan(plan, apis, kinds, environ=environ)
    return False


async def race(path: Path, environ: dict[str, str], env: str, hooks: Any) -> list[Any]:
    """Two runs at once: their reads and writes interleave in one event loop."""
    return list(
        await asyncio.gather(
            plan_and_apply(path, environ, env, hooks),
            plan_and_apply(path, environ, env, hooks),
            return_exceptions=True,
        )
    )


@settings(
    max_examples=int(os.environ.get("RECONCILER_PROPERTY_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    initial=st.sets(st.sampled_from(POOL), min_size=1, max_size=4),
    steps=st.lists(edits, max_size=7),
)
def test_nobody_is_dialled_twice_whatever_runs_at_once(
    initial: set[str], steps: list[tuple[str, Any]]
) -> None:
    config = EmulatorConfig(api_key="prop-key", start_time=START, calls_per_minute=2)
    accounts = {name: InProcessEmulator.create(config) for name in ("staging", "prod")}
    hooks = hooks_for(*accounts.values())
    environ = {
        "KEY_STAGING": "prop-key",
        "KEY_PROD": "prop-key",
        "RECONCILER_ALLOWED_HOSTS": " ".join(e.base_url for e in accounts.values()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        environment_files(root, accounts)
        path = root / "campaigns.yaml"
        numbers, seed = sorted(initial), 0

        def check() -> None:
            for name, emulator in accounts.items():
                ultravox, calling, dialled = live(emulator)
                assert max([*ultravox.values(), *calling.values()], default=0) <= 1, name
                assert max(dialled.values(), default=0) <= 1, (name, dialled)
                # Each campaign only where it is declared.
                assert not (calling if name == "staging" else ultravox), name

        def run(env: str, together: bool, copied: bool = False) -> None:
            nonlocal numbers
            path.write_text(manifest_text(numbers, seed))
            coroutine = (
                race(path, environ, env, hooks)
                if together
                else plan_and_apply(path, environ, env, hooks, copied=copied)
            )
            try:
                outcomes = asyncio.run(coroutine)
            except ReconcilerError as error:
                outcomes = [error]
            for outcome in outcomes if isinstance(outcomes, list) else [outcomes]:
                if isinstance(outcome, PlanError):
                    # A refused edit (recipients removed after calls started) sends nothing.
                    assert "after calls started" in str(outcome), outcome
                elif isinstance(outcome, BaseException):
                    raise outcome
            check()

        run("staging", together=False)
        run("prod", together=False)
        for action, value in steps:
            if action == "add" and value not in numbers:
                numbers = sorted([*numbers, value])
            elif action == "remove" and value in numbers and len(numbers) > 1:
                numbers = [n for n in numbers if n != value]
            elif action == "reformat":
                seed = value
            elif action == "advance":
                for emulator in accounts.values():
                    emulator.admin.advance(value * 60)
                check()
            elif action in ("race", "run", "copied"):
                run(value, together=action == "race", copied=action == "copied")
                # What could not be removed after calls started is put back, as told.
                for emulator in accounts.values():
                    ultravox, calling, _ = live(emulator)
                    numbers = sorted({*numbers, *ultravox, *calling})

        for emulator in accounts.values():  # the last removals may have come too late
            ultravox, calling, _ = live(emulator)
            numbers = sorted({*numbers, *ultravox, *calling})
        path.write_text(manifest_text(numbers, seed))
        for env in ("staging", "prod"):
            settled = False
            for _ in range(4):
                settled = asyncio.run(plan_and_apply(path, environ, env, hooks))
                if settled:
                    break
            assert settled, f"the plan of {env} did not settle"
        for emulator in accounts.values():
            emulator.admin.advance(12 * 3600)
        check()
        staging, prod = (live(e)[2] for e in accounts.values())
        assert staging == dict.fromkeys(numbers, 1) or all(v <= 1 for v in staging.values())
        assert all(v <= 1 for v in prod.values())
