"""The session-level leak check (issue 11): no secret value in any output or file of a run.

Every `reconciler` command the suite runs (`tests.support.cli.Cli`, in process, and `RealCli`,
the executable) is watched: the secret values it was given (every variable of its environment
whose name says it holds a secret: `*API_KEY*`, `*SECRET*`, `*TOKEN*`, `*PASSWORD*`, set by the
test rather than inherited) must not appear in what it printed, nor in any file it wrote or
changed under its working directory (plans, exports). A leak fails the test that caused it,
naming the command, the variable and where its value showed up.

`MARKERS` are values tests may use on purpose (the shapes of real keys and webhook secrets);
`scan` is what the watcher and the leak tests both use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SECRET_NAME = re.compile(r"API_KEY|SECRET|TOKEN|PASSWORD", re.IGNORECASE)
MIN_LENGTH = 6
"""Shorter values are not distinctive enough to tell a leak from a coincidence."""
MAX_FILE = 4 * 1024 * 1024

MARKERS = {
    "api_key": "uvx-MARKER-apikey-7f3a9c1e55d2",
    "webhook": "whsec-MARKER-webhook-c0ffee1234",
    "token": "tok-MARKER-tooltoken-91b2c3d4e5",
    "shared": "sig-MARKER-sharedsecret-0a1b2c3d",
}


@dataclass
class Leak:
    command: str
    variable: str
    where: str

    def __str__(self) -> str:
        return f"`reconciler {self.command}` leaked ${self.variable} in {self.where}"


@dataclass
class Watch:
    leaks: list[Leak] = field(default_factory=list)
    commands: int = 0


WATCH = Watch()


def secret_values(env: Mapping[str, str], inherited: Mapping[str, str]) -> dict[str, str]:
    """value -> variable, for the secrets a command was given (not those it inherited)."""
    return {
        value: name
        for name, value in env.items()
        if SECRET_NAME.search(name) and len(value) >= MIN_LENGTH and inherited.get(name) != value
    }


def scan(text: str, secrets: Mapping[str, str]) -> list[str]:
    """The variables whose values appear in `text`."""
    return sorted({name for value, name in secrets.items() if value in text})


def _files(root: Path) -> dict[Path, tuple[float, int]]:
    found: dict[Path, tuple[float, int]] = {}
    if not root.is_dir():
        return found
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                stat = path.stat()
                found[path] = (stat.st_mtime, stat.st_size)
        except OSError:
            continue
    return found


def _written(before: Mapping[Path, tuple[float, int]], root: Path) -> Iterator[Path]:
    for path, mark in _files(root).items():
        if before.get(path) != mark and mark[1] <= MAX_FILE:
            yield path


def watched(call: Callable[..., Any]) -> Callable[..., Any]:
    """`Cli.__call__` that records every leak of the command it runs."""

    def wrapper(self: Any, *args: str, **kwargs: Any) -> Any:
        env = {**self.env, **(kwargs.get("env") or {})}
        root = Path(self.cwd)
        before = _files(root)
        result = call(self, *args, **kwargs)
        secrets = secret_values(env, os.environ)
        if not secrets:
            return result
        WATCH.commands += 1
        command = " ".join(args)
        for stream in ("stdout", "stderr"):
            for name in scan(getattr(result, stream), secrets):
                WATCH.leaks.append(Leak(command, name, stream))
        for path in _written(before, root):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for name in scan(text, secrets):
                WATCH.leaks.append(Leak(command, name, f"the file {path.relative_to(root)}"))
        return result

    wrapper.__wrapped__ = call  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    """Watch every command of the suite (idempotent)."""
    from tests.support import cli

    for cls in (cli.Cli, cli.RealCli):
        current = cls.__dict__.get("__call__")
        if current is not None and not hasattr(current, "__wrapped__"):
            cls.__call__ = watched(current)  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def no_secret_leaks() -> Iterator[None]:
    """Fails the test if a command it ran printed or wrote a secret value it was given."""
    install()
    start = len(WATCH.leaks)
    yield
    found = WATCH.leaks[start:]
    if found:
        pytest.fail("secret values leaked:\n" + "\n".join(f"  {leak}" for leak in found))
