"""`Document.plain`: a document is plain (interpolation has nothing to substitute in it) only
when its file's text holds no `$`, nor a double-quoted escape that spells one."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests import documents


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ("plain text", True),
        ('"a \\\\ backslash"', True),
        ("${NAME}", False),
        ("costs $5", False),
        ('"\\x24{NAME}"', False),
        ('"\\u0024{NAME}"', False),
        ('"\\U00000024{NAME}"', False),
    ],
)
def test_a_document_is_plain_only_when_no_value_can_hold_a_dollar(
    tmp_path: Path, value: str, plain: bool
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(f"kind: Agent\nname: a\ndescription: {value}\n---\nkind: Agent\nname: b\n")
    found = documents.load_documents([str(path)])
    assert [d.plain for d in found] == [plain, plain]
    if plain:
        assert "$" not in str(found[0].data)
