"""`python -m reconciler.emulator`: serve the emulator without the product's CLI.

Owns only argument parsing for `serve`. Must not import any reconciler module other than the
emulator's own.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reconciler.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--api-key", default=EmulatorConfig.api_key)
    parser.add_argument("--state-file")
    parser.add_argument("--max-page-size", type=int, default=EmulatorConfig.max_page_size)
    parser.add_argument("--latency", type=float, default=EmulatorConfig.latency)
    parser.add_argument("--calls-per-minute", type=int, default=EmulatorConfig.calls_per_minute)
    parser.add_argument("--start-time", type=datetime.fromisoformat)
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        api_key=args.api_key,
        max_page_size=args.max_page_size,
        latency=args.latency,
        state_file=args.state_file,
        calls_per_minute=args.calls_per_minute,
        start_time=args.start_time,
    )
    serve(config, host=args.host, port=args.port, port_file=args.port_file)


if __name__ == "__main__":
    main()
