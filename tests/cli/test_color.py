"""Colour only on a terminal, and never with NO_COLOR set to anything but "" (issue 13, item
8). The commands run in process through click's CliRunner with `color=True`, so click strips
nothing and what the command decided is what is seen; the terminal is faked by replacing
`reconciler.cli.common.stdout_is_terminal` (the CLI tests otherwise run without a TTY).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import common
from reconciler.cli.main import cli as reconciler_group

AGENT = "kind: Agent\nname: support\ncallTemplate:\n  voice: Jessica\n"
PROD = "overrides:\n  Agent/support:\n    callTemplate:\n      voice: Mark\n"

COLOURED = (
    "\x1b[33m~ Agent/support differs\x1b[0m\n"
    '\x1b[33m    ~ callTemplate.voice: "Jessica" -> "Mark"\x1b[0m\n'
    "\n"
    "staging -> prod: 1 differs, 0 only in staging, 0 only in prod.\n"
)
PLAIN = (
    "~ Agent/support differs\n"
    '    ~ callTemplate.voice: "Jessica" -> "Mark"\n'
    "\n"
    "staging -> prod: 1 differs, 0 only in staging, 0 only in prod.\n"
)


def diff_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, terminal: bool, **env: str) -> str:
    """`reconciler diff-env staging prod` (desired states: no network), its stdout."""
    (tmp_path / "environments").mkdir(exist_ok=True)
    (tmp_path / "agents.yaml").write_text(AGENT)
    (tmp_path / "environments" / "staging.yaml").write_text("description: staging\n")
    (tmp_path / "environments" / "prod.yaml").write_text(PROD)
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: terminal)
    unset: dict[str, str | None] = {"NO_COLOR": None}
    result = CliRunner().invoke(
        reconciler_group,
        ["diff-env", "staging", "prod", str(tmp_path)],
        env={**unset, **env},
        color=True,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_terminal_gets_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert diff_env(tmp_path, monkeypatch, terminal=True) == COLOURED


def test_no_terminal_gets_no_escape_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert diff_env(tmp_path, monkeypatch, terminal=False) == PLAIN


@pytest.mark.parametrize("value", ["1", "0", "false", "no", " "])
def test_no_color_set_to_anything_turns_colour_off(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert diff_env(tmp_path, monkeypatch, terminal=True, NO_COLOR=value) == PLAIN


def test_no_color_empty_is_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert diff_env(tmp_path, monkeypatch, terminal=True, NO_COLOR="") == COLOURED


@pytest.mark.parametrize(
    ("terminal", "environ", "expected"),
    [
        (True, {}, True),
        (True, {"NO_COLOR": ""}, True),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": "0"}, False),
        (False, {}, False),
        (False, {"NO_COLOR": ""}, False),
    ],
)
def test_wants_color(terminal: bool, environ: dict[str, str], expected: bool) -> None:
    assert common.wants_color(terminal, environ) is expected


def test_a_stdout_that_cannot_say_is_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Closed:
        def isatty(self) -> bool:
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr("sys.stdout", Closed())
    assert common.stdout_is_terminal() is False
