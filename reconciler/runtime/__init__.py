"""The pipeline at run time: the engine, the API client, apply, saved plans, export.

Before any of it imports httpx (only `client` does): httpx imports its own command line
(`httpx._main`, with rich and pygments) whenever those happen to be installed, about 0.07 s
of CPU of every network command (`python -X importtime`, issue 14). No process of this tool
runs httpx's command line, so that module is marked absent; httpx then defines the stub it
uses when they are missing.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
