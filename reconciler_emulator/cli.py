"""The emulator's one command line: `python -m reconciler_emulator` and `reconciler emulator`.

Owns: `command`, a click command, and `main`. The product does not import this module: it is
registered under the entry-point group `reconciler.commands` (name `emulator`, see
pyproject.toml), and the product's CLI loads the commands of that group by name when asked
for one, so `reconciler emulator ...` runs exactly this command with the same flags. Importing
this module costs click only: uvicorn and starlette are imported when the command runs (so a
missing `emulator` extra is reported then, clearly). Must not import anything of the product.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from reconciler_emulator.config import EmulatorConfig
from reconciler_emulator.faults import parse_fault_spec
from reconciler_emulator.jsontypes import JSON

DEFAULT_PORT = 8765
INSTALL_HINT = "pip install 'reconciler[emulator]'"


def _faults(
    ctx: click.Context, param: click.Parameter, specs: tuple[str, ...]
) -> tuple[dict[str, JSON], ...]:
    try:
        return tuple(parse_fault_spec(spec) for spec in specs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _start_time(ctx: click.Context, param: click.Parameter, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 date and time, like 2030-01-14T16:00:00Z", ctx=ctx
        ) from None


@click.command(name="emulator", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False),
    help="Write the port actually bound to FILE once the emulator accepts connections.",
)
@click.option(
    "--api-key",
    envvar="ULTRAVOX_API_KEY",
    default=EmulatorConfig.api_key,
    show_default=True,
    help="The API key every vendor API accepts (default: $ULTRAVOX_API_KEY).",
)
@click.option(
    "--state",
    "--state-file",
    "state_file",
    type=click.Path(dir_okay=False),
    help="Load the account from FILE at start (if it exists) and save it after every write.",
)
@click.option(
    "--latency",
    default=EmulatorConfig.latency,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds from an API request's arrival to its answer, the emulator's own work "
    "counted inside them (as in a vendor's latency); work that takes longer is answered "
    "at once.",
)
@click.option(
    "--max-page-size",
    default=EmulatorConfig.max_page_size,
    show_default=True,
    type=click.IntRange(1),
    help="The largest page the emulator serves (it clamps pageSize and limit).",
)
@click.option(
    "--calls-per-minute",
    default=EmulatorConfig.calls_per_minute,
    show_default=True,
    type=click.IntRange(1),
    help="How fast batches dial once they start, on the virtual clock.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="STATUS:COUNT[:RETRY_AFTER]",
    callback=_faults,
    help="Answer the next COUNT API requests with STATUS (429, 500, 502, 503), with a "
    "Retry-After header if given; repeatable. More rules: PUT /_emulator/faults.",
)
@click.option(
    "--start-time",
    metavar="DATETIME",
    callback=_start_time,
    help="Where the virtual clock starts (ISO 8601; naive means UTC). Default: now.",
)
def command(
    host: str,
    port: int,
    port_file: str | None,
    api_key: str,
    state_file: str | None,
    latency: float,
    max_page_size: int,
    calls_per_minute: int,
    faults: tuple[dict[str, Any], ...],
    start_time: datetime | None,
) -> None:
    """Run the API emulator (Ultravox, Threetone and ElevenLabs batch calling) for demos and
    tests.

    Prints one line, `reconciler emulator listening on http://HOST:PORT`, once it accepts
    connections, and stops cleanly on SIGINT or SIGTERM. Faults (429/5xx bursts, a write that
    is accepted and then answered late), the request journal and the virtual clock are under
    /_emulator/; see the README.
    """
    try:
        from reconciler_emulator.server import serve
    except ModuleNotFoundError as missing:
        if (missing.name or "").startswith("reconciler_emulator"):
            raise
        raise click.ClickException(
            f"the emulator needs {missing.name or 'a package'} that is not installed; "
            f"install the emulator extra: {INSTALL_HINT}"
        ) from None
    config = EmulatorConfig(
        api_key=api_key,
        max_page_size=max_page_size,
        latency=latency,
        state_file=state_file,
        calls_per_minute=calls_per_minute,
        start_time=start_time,
        faults=faults,
    )
    serve(config, host=host, port=port, port_file=port_file)


def main(argv: list[str] | None = None) -> None:
    command.main(args=argv, prog_name="python -m reconciler_emulator")
