"""A plan made through the fast paths of issue 14 is, byte for byte, the plan made through the
straightforward ones, on a small generated workload of the benchmark's kind.

Fast: YAML built from libyaml's events, normalize walking a trie of the table, align copying
only what it removes from. Straightforward: PyYAML's pure loader, and the reference
`normalize` and `align` (tests/core/test_normalize_reference.py), which match every path
against every pattern and deep-copy both sides. Each plan (creates, then updates, removals
and defaults after an apply, then none) is made both ways, as text and as JSON.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.core import normalize as normalize_module
from reconciler.manifests import documents
from tests.conftest import Cli
from tests.core.test_normalize_reference import reference_align, reference_normalize

WORDS = ["customer", "order", "refund", "renewal", "verify", "politely", "{{companyName}}"]


def agent(index: int, rng: random.Random, temperature: float) -> str:
    prompt = "\n    ".join(
        " ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(rng.randint(2, 6))
    )
    tools = "  selectedTools:\n    - toolName: hangUp\n" if index % 2 else ""
    return (
        f"kind: Agent\nname: bench_agent_{index:03d}\ncallTemplate:\n"
        f"  systemPrompt: |\n    {prompt}\n  voice: Jessica\n  temperature: {temperature}\n"
        f"  joinTimeout: {'30.000s' if index % 3 else '30s'}\n  maxDuration: 1200s\n"
        "  inactivityMessages:\n    - duration: 8s\n      message: Are you still there?\n"
        f"{tools}"
    )


def workload(directory: Path, temperature: float, count: int = 7) -> Path:
    rng = random.Random(14)
    directory.mkdir(parents=True, exist_ok=True)
    docs = [agent(i, rng, temperature if i % 2 else 0.4) for i in range(count)]
    (directory / "agents_a.yaml").write_text("---\n".join(docs[:4]))
    (directory / "agents_b.yaml").write_text("---\n".join(docs[4:]))
    return directory


@contextmanager
def straightforward(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patched:
        patched.setattr(documents, "_FAST", None)
        for name, module in list(sys.modules.items()):
            if not name.startswith("reconciler.") or module is None:
                continue
            if getattr(module, "normalize", None) is normalize_module.normalize:
                patched.setattr(module, "normalize", reference_normalize)
            if getattr(module, "align", None) is normalize_module.align:
                patched.setattr(module, "align", reference_align)
        yield


def both_ways(cli: Cli, path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    fast = (cli("plan", str(path)).stdout, cli("plan", "--format", "json", str(path)).stdout)
    with straightforward(monkeypatch):
        slow = (cli("plan", str(path)).stdout, cli("plan", "--format", "json", str(path)).stdout)
    assert fast[0].encode() == slow[0].encode()
    assert fast[1].encode() == slow[1].encode()
    return fast


def test_fast_and_straightforward_paths_make_the_same_plans(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = workload(tmp_path / "first", temperature=0.4)
    text, _ = both_ways(cli, first, monkeypatch)
    assert "7 to create" in text
    applied = cli("apply", "--auto-approve", str(first))
    assert applied.code == 0, applied.output

    changed = workload(tmp_path / "changed", temperature=0.7)
    # One agent drops its tool, another its inactivity message (a key the PATCH must clear).
    (changed / "agents_a.yaml").write_text(
        (changed / "agents_a.yaml")
        .read_text()
        .replace("  selectedTools:\n    - toolName: hangUp\n", "", 1)
    )
    (changed / "agents_b.yaml").write_text(
        (changed / "agents_b.yaml")
        .read_text()
        .replace(
            "  inactivityMessages:\n    - duration: 8s\n      message: Are you still there?\n",
            "",
            1,
        )
    )
    text, _ = both_ways(cli, changed, monkeypatch)
    assert "to update" in text

    text, _ = both_ways(cli, first, monkeypatch)
    assert "No changes." in text
