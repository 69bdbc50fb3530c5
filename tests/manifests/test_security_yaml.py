"""Hostile YAML (issue 11): every bound has a clear error at file:line, and nothing explodes.

Alias bombs, recursive aliases, deep nesting, control characters, values PyYAML's constructors
refuse, and files over the size bound are each reported as a diagnostic, never a traceback,
and fast: each case here finishes in well under a second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.core.errors import ManifestError
from reconciler.core.limits import Limits
from reconciler.manifests.documents import collect_files, load_documents

# 427 bytes: nine levels of nine aliases expand to 9**9 (387 million) strings.
ALIAS_BOMB = "kind: Agent\nname: bomb\n" + "".join(
    f"{chr(ord('a') + level)}: &{chr(ord('a') + level)} ["
    + ",".join([f"*{chr(ord('a') + level - 1)}"] * 9 if level else ['"lol"'] * 9)
    + "]\n"
    for level in range(9)
)


def errors_of(path: Path, limits: Limits | None = None) -> str:
    started = time.perf_counter()
    with pytest.raises(ManifestError) as caught:
        if limits is None:
            load_documents([str(path)])
        else:
            load_documents([str(path)], limits)
    assert time.perf_counter() - started < 2, "a bound must stop the work early"
    return str(caught.value)


def write(tmp_path: Path, text: str | bytes, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_an_alias_bomb_stops_at_the_alias_bound(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB.encode()) < 500
    message = errors_of(write(tmp_path, ALIAS_BOMB))
    assert "m.yaml:" in message
    assert "YAML aliases expand to more than 10,000 nodes" in message
    assert "RECONCILER_MAX_YAML_ALIAS_NODES" in message


def test_the_alias_bound_is_the_operators_to_raise(tmp_path: Path) -> None:
    text = 'kind: Agent\nname: a\nx: &x ["a", "b", "c"]\ny: [*x, *x, *x, *x]\n'
    path = write(tmp_path, text)
    assert "more than 8 nodes" in errors_of(path, Limits(max_yaml_alias_nodes=8))
    (document,) = load_documents([str(path)], Limits(max_yaml_alias_nodes=16))
    assert document.data["y"] == [["a", "b", "c"]] * 4


def test_a_recursive_alias_is_refused_at_its_line(tmp_path: Path) -> None:
    message = errors_of(write(tmp_path, "kind: Agent\nname: a\nloop: &a [1, *a]\n"))
    assert "m.yaml:3: recursive YAML alias" in message


def test_a_recursive_mapping_alias_is_refused(tmp_path: Path) -> None:
    message = errors_of(write(tmp_path, "kind: Agent\nname: a\nloop: &a {self: *a}\n"))
    assert "recursive YAML alias" in message


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_stops_at_the_depth_bound(tmp_path: Path, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = "kind: Agent\nname: a\ndeep: " + opening * 5000 + "1" + closing * 5000 + "\n"
    message = errors_of(write(tmp_path, text))
    assert "m.yaml:3: nested deeper than 64 levels" in message
    assert "RECONCILER_MAX_DEPTH" in message


def test_nesting_within_the_bound_is_read(tmp_path: Path) -> None:
    text = "kind: Agent\nname: a\ndeep: " + "[" * 30 + "1" + "]" * 30 + "\n"
    (document,) = load_documents([str(write(tmp_path, text))])
    assert document.data["name"] == "a"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x85\x86"[1]])
def test_a_control_character_is_an_error_at_its_line(tmp_path: Path, char: str) -> None:
    message = errors_of(write(tmp_path, f"kind: Agent\nname: a\ndescription: x{char}y\n"))
    assert f"m.yaml:3: control character U+{ord(char):04X} is not allowed in YAML" in message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" * 5000, "integer string conversion"),
        ("2030-13-45", "month must be in 1..12"),
    ],
    ids=["huge-integer", "impossible-date"],
)
def test_values_the_yaml_constructors_refuse(tmp_path: Path, value: str, message: str) -> None:
    text = errors_of(write(tmp_path, f"kind: Agent\nname: a\ndescription: {value}\n"))
    assert "m.yaml:1: YAML value error" in text and message in text


def test_a_file_over_the_size_bound_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, "kind: Agent\nname: a\ndescription: " + "x" * 200 + "\n")
    message = errors_of(path, Limits(max_file_bytes=100))
    assert "cannot read: larger than 100 bytes" in message
    assert "RECONCILER_MAX_FILE_BYTES" in message


def test_other_documents_of_the_file_are_still_checked(tmp_path: Path) -> None:
    text = "kind: Agent\nname: a\nloop: &a [*a]\n---\nkind: Agent\nname: b\nname: c\n"
    message = errors_of(write(tmp_path, text))
    assert "m.yaml:3: recursive YAML alias" in message
    assert 'm.yaml:7: duplicate key "name"' in message


def test_a_symlinked_manifest_out_of_the_directory_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: Agent\nname: stolen\n")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "real.yaml").write_text("kind: Agent\nname: real\n")
    os.symlink(outside, manifests / "link.yaml")
    with pytest.raises(ManifestError, match="a symlink out of the manifest directory") as caught:
        collect_files([str(manifests)])
    assert "link.yaml: " in str(caught.value) and "--allow-outside-files" in str(caught.value)


def test_limits_come_from_the_process_environment() -> None:
    limits = Limits.from_environ(
        {"RECONCILER_MAX_YAML_ALIAS_NODES": "5", "RECONCILER_REQUEST_TIMEOUT": "2.5"}
    )
    assert (limits.max_yaml_alias_nodes, limits.request_timeout) == (5, 2.5)
    assert limits.max_depth == Limits().max_depth
    for bad in ("many", "0", "-3"):
        with pytest.raises(Exception, match="RECONCILER_MAX_PAGES"):
            Limits.from_environ({"RECONCILER_MAX_PAGES": bad})
