"""Where credentials may go: the origins (scheme, host, port) a provider's key may be sent to.

Owns the rule that a base URL read from a file (an environment file under the manifests, a
saved plan) is trusted only when its origin is the vendor's default, the one the operator set
in the process environment (`ULTRAVOX_BASE_URL`, ...), or one the operator lists in
`RECONCILER_ALLOWED_HOSTS`; and how that list is written. A pull request controls the files;
the operator controls the process environment. Pure: the caller passes the environment in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from reconciler.core.errors import ConfigError

ALLOWED_HOSTS_ENV = "RECONCILER_ALLOWED_HOSTS"
"""Origins a file may point a provider at, besides its default: comma- or space-separated,
each `scheme://host[:port]`, or `host[:port]` for https."""

Origin = tuple[str, str, int]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, the port made explicit; None if it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def show(found: Origin) -> str:
    scheme, host, port = found
    shown_host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown_host}" + ("" if _DEFAULT_PORTS[scheme] == port else f":{port}")


def allowed_list(environ: Mapping[str, str]) -> set[Origin]:
    """The origins `RECONCILER_ALLOWED_HOSTS` names."""
    found: set[Origin] = set()
    for entry in environ.get(ALLOWED_HOSTS_ENV, "").replace(",", " ").split():
        parsed = origin(entry if "://" in entry else f"https://{entry}")
        if parsed is None:
            raise ConfigError(
                f"{ALLOWED_HOSTS_ENV}: {entry!r} is not an origin like https://api.example.com "
                "or http://127.0.0.1:8765"
            )
        found.add(parsed)
    return found


def check_file_base_url(
    url: str,
    *,
    trusted: Iterable[str],
    environ: Mapping[str, str],
    where: str,
) -> None:
    """Refuse `url` (read from a file, `where` names it) unless its origin is one of `trusted`
    (the vendor's default, the operator's own base URL) or listed in `RECONCILER_ALLOWED_HOSTS`.

    The API key travels with every request to that origin, so a pull request must not be able
    to choose it."""
    found = origin(url)
    if found is None:
        raise ConfigError(f"{where}: {url!r} is not an http:// or https:// URL with a host")
    allowed = {o for o in (origin(t) for t in trusted) if o is not None} | allowed_list(environ)
    if found in allowed:
        return
    raise ConfigError(
        f"{where}: base URL {show(found)} is not the provider's (scheme, host and port must be "
        f"one of: {', '.join(sorted(show(o) for o in allowed))}); the API key is sent there, so "
        f"only the operator can allow it: add it to {ALLOWED_HOSTS_ENV} in the process "
        "environment"
    )
