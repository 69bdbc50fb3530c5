"""`safety.run` hands a command's result back without asyncio ever formatting its repr (which,
for a plan of 100,000 recipients, is 30 MB built and thrown away when Ctrl-C's handler is
taken back)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from reconciler.cli import safety


class Costly:
    def __init__(self) -> None:
        self.reprs = 0

    def __repr__(self) -> str:
        self.reprs += 1
        return "Costly()"


@pytest.fixture
def default_sigint() -> Iterator[None]:
    # asyncio.run installs its own Ctrl-C handler only over Python's default one.
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("deadline", ["0", "60"], ids=["no deadline", "deadline"])
def test_the_result_comes_back_unformatted(
    default_sigint: None, monkeypatch: pytest.MonkeyPatch, deadline: str
) -> None:
    monkeypatch.setenv("RECONCILER_TIMEOUT", deadline)  # 0: no deadline
    value = Costly()

    async def command() -> Costly:
        return value

    assert safety.run(command()) is value
    assert value.reprs == 0
