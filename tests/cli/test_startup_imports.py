"""What a command imports at start-up (issue 14): `validate` runs in pre-commit hooks, so it
must not pay for what only network commands need (the HTTP client and httpx, and asyncio: a
command that reads no account runs no event loop), what only a plan with changes needs
(deepdiff), phonenumbers for manifests without a phone number, nor the types of kinds the
manifests do not use, nor what only a typo's suggestion (difflib), markdown (html) or an apply
needs. Checked in a fresh interpreter: this test process has long imported
everything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from reconciler.cli.main import cli
try:
    cli.main(sys.argv[1:], prog_name="reconciler")
except SystemExit as exit:
    code = exit.code
LAZY = (
    "asyncio",
    "httpx",
    "deepdiff",
    "phonenumbers",
    "difflib",
    "html",
    "reconciler.runtime.apply",
    "reconciler.runtime.client",
    "reconciler.providers.ultravox.batches",
    "reconciler.providers.batchcalling.batch_calls",
)
loaded = sorted(m for m in LAZY if m in sys.modules)
print(json.dumps({"code": code, "loaded": loaded}))
"""


def probe(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_validate_imports_neither_the_client_nor_deepdiff_nor_asyncio(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(
        "kind: Agent\nname: support\ncallTemplate:\n  systemPrompt: Help.\n"
    )
    assert probe("validate", str(tmp_path)) == {"code": 0, "loaded": []}
