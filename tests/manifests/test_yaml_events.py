"""Documents built straight from libyaml's events (`documents._from_events`, issue 14) are the
documents the loader builds: the same data (types included), the same line of every key and
item, the same diagnostics, in the same order. Anything the events path does not take on
(anchors, tags, merges, complex keys, nesting beyond the bound, syntax errors, values the
constructors refuse) goes to the loader, whose answer is then the only one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.errors import Diagnostic
from reconciler.manifests import documents

pytestmark = pytest.mark.skipif(
    not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml"
)


def read(path: Path, *, events: bool, fast: bool = True) -> tuple[list[Any], list[Diagnostic]]:
    """What `read_documents` makes of `path`: events path, C loader, or pure loader."""
    saved = documents._from_events, documents._FAST
    try:
        if not events:
            documents._from_events = lambda text, depth: None  # type: ignore[assignment]
        if not fast:
            documents._FAST = None
        diagnostics: list[Diagnostic] = []
        found = documents.read_documents([path], diagnostics)
    finally:
        documents._from_events, documents._FAST = saved
    # repr keeps the types apart (1, 1.0 and True are equal in Python, not in a manifest).
    return [(d.source, repr(d.data), dict(d.positions)) for d in found], diagnostics


def same_three_ways(path: Path) -> None:
    by_events = read(path, events=True)
    assert by_events == read(path, events=False)
    assert by_events == read(path, events=False, fast=False)


TEXTS = [
    "kind: Agent\nname: a\n",
    "kind: Agent\nname: a\nname: b\nx:\n  y: 1\n  y: 2\n",  # duplicates, in order
    "kind: Agent\n1: int key\n01: same int, other text\nnull: k\n~: k2\ntrue: b\n",
    "kind: A\nwhen: 2030-01-02\nat: 2030-01-02T03:04:05Z\nn: .nan\ni: .inf\no: 0o17\nh: 0x1f\n",
    "kind: A\nyes: no\non: off\ns: 'quoted 30'\nd: \"30\"\nb: |\n  block\n  text\nf: >\n  folded\n",
    "kind: A\nflow: {a: [1, 2, {b: c}], d: []}\nempty: {}\nnone:\nlist:\n- a\n- - b\n  - c\n",
    "---\n---\nkind: A\n---\n- not a mapping\n---\njust text\n---\nname: no kind\n...\n",
    "kind: A\nx: &anchor {a: 1}\ny: *anchor\n",  # aliases: the loader
    "kind: A\nbase: &b {a: 1}\nmerged:\n  <<: *b\n  c: 2\n",  # a merge: the loader
    "kind: A\nx: !!str 30\ny: !custom z\n",  # tags: the loader (an unknown one is an error)
    "kind: A\n? [complex, key]\n: value\n",  # a key that is a list
    "kind: A\nwhen: 2030-13-45\n",  # a value the constructor refuses
    "kind: A\nx: " + "[" * 70 + "]" * 70 + "\n",  # deeper than the bound
    "kind: A\nx: [unclosed\n",  # a syntax error
    "kind: A\n=: value key\n",
    "",
    "# only a comment\n",
    # Literal blocks, lifted out while libyaml reads the text (`_lift_literals`) or left in.
    *(
        f"kind: A\n{body}after: 1\n"
        for body in (
            "p: |\n  one\n    more indented  \n  # not a comment\n  k: |\n    inner\n",
            "l:\n  - p: |\n      in a list\n    q: |\n      x\n\n\n# comment\n",
            "p: |\n  blank line\n\n  inside\n",
            "p: |\n  spaces-only line\n     \n  inside\n",
            "p: |\n  tab\there\n",
            "p: |\n  Última línea ü \u2028 ls\n",
            "p: |\n  bad \x07 char\n",
            "p: |\n  ---\n  ...\n",
            'q: "quoted\n  k: |\n    still quoted"\n',
            "f: {a: |\n  x}\n",
            "p: |\n  @@reconciler-literal-0\n",
            "p: |\n  a\n b: wrong indent\n",
        )
    ),
    "kind: A\np: |\n  at the end, no line break",
    "kind: A\np: |\r\n  crlf\r\n",
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_events_path_agrees_with_the_loaders(text: str, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    same_three_ways(path)


def test_events_path_takes_plain_manifests_and_leaves_the_rest() -> None:
    assert documents._from_events(TEXTS[1], 64) is not None
    assert documents._from_events(TEXTS[6], 64) is not None
    for unusual in TEXTS[7:14]:
        assert documents._from_events(unusual, 64) is None, unusual


KEYS = st.sampled_from(["kind", "name", "a", "b", "1", "null", "yes", "x y", "é"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["30s", "0o7", "2030-01-02", "~", "Yes", "1e3", "-.inf", "<<", "="]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=15,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    docs=st.lists(st.dictionaries(KEYS, VALUES, max_size=5), min_size=1, max_size=3),
    flow=st.sampled_from([False, None, True]),
    duplicate=st.booleans(),
)
def test_events_path_agrees_on_random_documents(
    docs: list[dict[str, Any]], flow: bool | None, duplicate: bool, tmp_path: Path
) -> None:
    text = yaml.safe_dump_all(docs, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    if duplicate:
        text += "kind: again\nkind: twice\n"
    path = tmp_path / "random.yaml"
    path.write_text(text)
    same_three_ways(path)


def test_the_ascii_check_allows_exactly_what_yaml_allows() -> None:
    for code in range(128):
        allowed = bytes([code]) in documents._PRINTABLE_ASCII
        assert allowed is (documents._UNPRINTABLE.search(chr(code)) is None), code


def test_plain_literal_blocks_are_lifted_and_read_as_libyaml_reads_them() -> None:
    text = "kind: A\np: |\n  one\n    two  \n  k: |\n    three\nafter: 1\n"
    lifted = documents._lift_literals(text)
    assert lifted is not None
    short, values = lifted
    assert short.count("\n") == text.count("\n")  # every line where it was
    assert list(values.values()) == ["one\n  two  \nk: |\n  three\n"]
    whole = documents._read_events(text, {}, 64)
    assert whole is not None and documents._from_events(text, 64) == whole
    # What it does not know exactly is left to libyaml: a blank line, a tab, no final break.
    for unknown in TEXTS[-14:]:
        if "blank line" in unknown or "tab" in unknown or "no line break" in unknown:
            assert documents._lift_literals(unknown) is None, unknown
    # A lifted block that does not come back whole and literal: the text is read whole.
    quoted = 'kind: A\nq: "x\n  k: |\n    y"\n'
    lifted_quoted = documents._lift_literals(quoted)
    assert lifted_quoted is not None
    assert documents._read_events(*lifted_quoted, 64) is None
    assert documents._from_events(quoted, 64) == documents._read_events(quoted, {}, 64)
