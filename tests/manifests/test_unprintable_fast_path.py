"""A file is searched for control characters only when libyaml could not read it (issue 14):
libyaml's reader refuses each character PyYAML's rule (`_UNPRINTABLE`) refuses, wherever it
stands, so every one of them is still reported at its line, as before."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.errors import Diagnostic
from reconciler.manifests import documents

REFUSED = [
    *(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)),
    0x7F,
    *(c for c in range(0x80, 0xA0) if c != 0x85),
    0xFFFE,
    0xFFFF,
]
PLACES = ['description: "a{}b"\n', "description: |\n  a{}b\n", "# a{}b\n"]


def test_every_refused_character_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    assert [c for c in REFUSED if not documents._UNPRINTABLE.match(chr(c))] == []
    for code in REFUSED:
        for place in PLACES:
            path.write_text("kind: Agent\nname: a\n" + place.format(chr(code)), encoding="utf-8")
            diagnostics: list[Diagnostic] = []
            assert documents.read_documents([path], diagnostics) == []
            message = f"control character U+{code:04X} is not allowed in YAML"
            assert diagnostics == [Diagnostic(str(path), 3 + ("|" in place), message)]
