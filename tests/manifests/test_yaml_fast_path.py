"""libyaml's loader (the fast path of `reconciler.manifests.documents`) reads every manifest
exactly as the pure-Python loader does: the same data and the same line of every key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.core.errors import Diagnostic
from reconciler.manifests import documents
from reconciler.manifests.documents import Document

REPO = Path(__file__).resolve().parents[2]
CORPUS = sorted([*(REPO / "manifests").rglob("*.yaml"), *(REPO / "tests" / "data").rglob("*.yaml")])


def load(
    path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Document], list[Diagnostic]]:
    monkeypatch.setattr(documents, "_FAST", yaml.CSafeLoader if fast else None)
    diagnostics: list[Diagnostic] = []
    found = documents.read_documents([path], diagnostics)
    return found, diagnostics


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(REPO)))
def test_fast_and_pure_loaders_agree(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = load(path, True, monkeypatch)
    pure = load(path, False, monkeypatch)
    assert [(d.source, d.data, dict(d.positions)) for d in fast[0]] == [
        (d.source, d.data, dict(d.positions)) for d in pure[0]
    ]
    assert fast[1] == pure[1]


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml")
@pytest.mark.parametrize(
    ("text", "pure"),
    [
        ("kind: Agent\nname: a\n", False),
        ("kind: Agent\nname: [unclosed\n", True),  # syntax error: the pure loader words it
        ("kind: Agent\nx: " + "[" * 200 + "]" * 200 + "\n", True),  # deeper than the bound
    ],
)
def test_texts_libyaml_cannot_take_as_they_are_go_to_the_pure_loader(text: str, pure: bool) -> None:
    loader = documents._loader(text, max_depth=64)
    assert isinstance(loader, documents._BoundedLoader) is pure
