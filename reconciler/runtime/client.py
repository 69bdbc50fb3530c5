"""The HTTP client: the only module of the package that imports httpx.

Owns: `ApiClient` (the async implementation of `reconciler.providers.base.Api`: auth header,
pagination (each vendor's style, from its provider folder), retries with backoff, bounded
concurrency, request counters, request logging) and `settings_from_env` (base URL and API
key from the environment).

Everything else speaks to the network through `Api`; no other module may import httpx. This
module must not import deepdiff, the emulator, or any pipeline step (normalize, diff, plan,
render, apply, cli).

Safety rules this module keeps:

* The API key is sent in one header and nowhere else: it is not stored in the client's default
  headers, and it never appears in an exception message, a repr or a log line (server messages
  and transport errors are scrubbed of it, in case a server or a library echoes it).
* Writes are never repeated blindly. 429 and 503 mean "not processed, come back later" and are
  retried for every method. Other 5xx answers and transport failures are retried only for
  idempotent methods. A non-idempotent request (POST, PATCH) that may have reached the server
  but got no answer raises `TransportError` with `ambiguous = True`: the caller must read the
  live state before doing anything else, because a retried batch submit can dial real phones
  twice. A DELETE retried after an attempt that may have reached the server, answered 404,
  is done: that attempt deleted it, and only its answer was lost.
* A list is all of it or an error, never a silent prefix: a plan computed from a partial list
  would create what already exists.

`TransportError` attribute `ambiguous` (set on every `TransportError` this module raises):
True when the request was a write (not GET/HEAD/OPTIONS) that may have reached the server and
got no answer, so whether it took effect is unknown; False when it surely was not sent or
cannot have changed anything. `TransportError.ambiguous` is declared in `reconciler.core.errors`.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json as _json
import logging
import os
import random as _random
import ssl
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urljoin, urlsplit

import httpx

from reconciler.core import requestpaths
from reconciler.core.domain import JSON, Request
from reconciler.core.errors import ApiError, ConfigError, TransportError
from reconciler.core.limits import DEFAULTS, Limits
from reconciler.core.masking import REDACTOR, masked
from reconciler.core.wording import agree
from reconciler.providers.base import PageFormatError, ProviderSettings
from reconciler.runtime.pacing import Pacer

if TYPE_CHECKING:
    from reconciler.providers.base import Api

__all__ = ["ApiClient", "ClientHooks", "settings_from_env"]

logger = logging.getLogger("reconciler.http")
"""One line per request at DEBUG (`-v`: method, URL, status, milliseconds, attempt); the
retries and what they wait for at INFO (said at every verbosity)."""
bodies = logging.getLogger("reconciler.http.bodies")
"""The bodies sent and received at DEBUG (`-vv`), masked (`_shown_body`)."""

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that may be repeated: sending one twice leaves the same state as sending it once."""

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing on the server, so a lost answer is never ambiguous."""

RETRY_ANY_METHOD: Final = frozenset({429, 503})
"""Statuses that say the request was not processed; retried for every method."""

BACKOFF_BASE: Final = 0.5
"""Seconds; the first retry waits up to this long, each further one up to twice as long."""

MAX_MESSAGE: Final = 2000
"""Characters of a server's error text kept in an error message."""

# Failures that happen before a single byte of the request left this process: retrying them
# can never duplicate a write. Everything else (read/write timeouts, resets, protocol errors)
# may happen after the server got the request.
# Failures that a retry cannot fix (a bad URL scheme, a header httpx refuses to send).
_NOT_RETRYABLE: Final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, *_NOT_RETRYABLE)


Sleep = Callable[[float], Awaitable[None]]
"""How a client waits between retries (`asyncio.sleep` unless a caller injects another)."""


@dataclass(frozen=True)
class ClientHooks:
    """What a caller may swap in every `ApiClient` a run opens, as httpx lets one swap its
    transport: `transport` instead of the network (an `httpx.ASGITransport` over an
    in-process server, an `httpx.MockTransport`), `sleep` instead of `asyncio.sleep` for the
    waits between retries (and the `--rate` pacing), `random` instead of `random.random` for
    their jitter, `clock` instead of `time.monotonic` for the pacing. The default (nothing
    swapped) is what production runs with; the clients behave the same either way, only
    where bytes go and how time passes differ.
    """

    transport: httpx.AsyncBaseTransport | None = None
    sleep: Sleep | None = None
    random: Callable[[], float] | None = None
    clock: Callable[[], float] | None = None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `ApiClient` (only what is swapped)."""
        options: dict[str, Any] = {}
        if self.transport is not None:
            options["transport"] = self.transport
        if self.sleep is not None:
            options["sleep"] = self.sleep
        if self.random is not None:
            options["random"] = self.random
        if self.clock is not None:
            options["clock"] = self.clock
        return options


NO_HOOKS: Final = ClientHooks()


class _ApiKeyAuth(httpx.Auth):
    """Puts the key in its header at send time, so it is not in the client's default headers
    (whose repr would show it) and cannot follow a redirect to another host."""

    def __init__(self, header: str, key: str) -> None:
        self._header = header
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._key
        yield request

    def __repr__(self) -> str:
        return f"_ApiKeyAuth(header={self._header!r}, key='***')"


class ApiClient:
    """Async client for one vendor API; implements `reconciler.providers.base.Api`.

    Use as `async with ApiClient(settings, base_url=..., api_key=...) as api:`. `transport`
    lets tests inject `httpx.MockTransport`; `sleep` and `random` make backoff deterministic.
    `stats` counts the requests actually sent per method (retries included); `retries` counts
    the retries alone.
    """

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        base_url: str,
        api_key: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_backoff: float = 30.0,
        concurrency: int = 8,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        limits: Limits = DEFAULTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        _check_api_key(api_key, settings.api_key_env)
        REDACTOR.add(api_key)
        self.settings = settings
        self.limits = limits
        self.timeout = timeout
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.stats: Counter[str] = Counter()
        self.retries = 0
        self._api_key = api_key
        self._sleep = sleep
        self._random = random
        self._semaphore = asyncio.Semaphore(concurrency)
        self._date: tuple[datetime, float] | None = None
        """The server's latest `Date` header and when (monotonic) it arrived."""
        self._date_text = ""
        """That header as received."""
        self._base = httpx.URL(self.base_url)
        self._origin_text = _origin(self._base)
        self._base_path = self._base.path.rstrip("/")
        self._pacer = Pacer(limits.rate, sleep=sleep, clock=clock) if limits.rate else None
        """At most `limits.rate` request starts per second (`--rate`), retries included."""
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=_ApiKeyAuth(settings.api_key_header, api_key),
            # Only encodings this client decodes itself, with a bound (see `_read_body`).
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": "reconciler",
            },
            transport=transport,
            # Unless a transport is given (tests), the TLS context every client shares.
            verify=_tls_for(self._base) if transport is None else True,
            timeout=timeout,
            # A redirect would resend the request (a POST, maybe) somewhere we did not choose.
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return (
            f"ApiClient(provider={self.settings.name!r}, base_url={self.base_url!r}, "
            f"{self.settings.api_key_header}='***')"
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the Api protocol ----------------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        """One GET, parsed JSON."""
        return await self.request("GET", path, params=params)

    async def send(self, request: Request) -> JSON:
        """Send one planned request (references and secrets already resolved by the caller)."""
        return await self.request(request.method, request.path, json=request.body)

    async def list_all(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        on_page: Callable[[list[JSON]], object] | None = None,
    ) -> list[JSON]:
        """Every item of a paginated list: one request per page, in the vendor's cursor style.

        Raises `ApiError` rather than return part of a list (a page of an unexpected shape, a
        cursor that repeats, a "has more" without a cursor). `on_page` is given each page's
        items, in order, once the request for the next page is written (before its answer
        comes; the last page as it comes): it must return at once (a plan hands them to a
        thread that normalizes them meanwhile, which would otherwise hold the interpreter
        while this one writes the request).
        """
        pagination = self.settings.pagination
        shown = self._shown(path)
        page_request = pagination.first(path, params, self.settings.page_size)
        items: list[JSON] = []
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        pages = 0
        handed: _Once | None = None  # the page before, handed over once the next is asked for
        while True:
            pages += 1
            if pages > self.limits.max_pages:
                raise ApiError(
                    "GET",
                    shown,
                    200,
                    f"the list goes on beyond {self.limits.max_pages:,} pages (the limit; raise "
                    f"it with {Limits.ENV['max_pages']}); a server handing out new cursors "
                    "forever would never end",
                )
            target = page_request.target
            if "://" not in target and target != path:
                target = urljoin(self.base_url + "/", target)
            try:
                page = await self.request("GET", target, params=page_request.params, written=handed)
            finally:
                if handed is not None:
                    handed()  # not written (an in-process transport says nothing): now
            try:
                found, following = pagination.read(page, page_request)
            except PageFormatError as problem:
                raise ApiError("GET", shown, 200, str(problem)) from None
            items.extend(found)
            if following is None:
                if on_page is not None:
                    on_page(found)
                return items
            marker = (following.target, tuple(sorted((following.params or {}).items())))
            if marker in seen:
                raise ApiError("GET", shown, 200, "pagination loop: a page cursor repeated")
            seen.add(marker)
            page_request = following
            handed = None if on_page is None else _Once(on_page, found)

    def server_now(self) -> datetime | None:
        """The time on the server's clock, as its latest `Date` header told it plus the time
        since (whole seconds: it may be up to a second behind); None before any answer with
        one. What "now" means to the server: when a batch scheduled "now" starts dialling."""
        if self._date is None:
            return None
        told, at = self._date
        return told + timedelta(seconds=time.monotonic() - at)

    def _note_date(self, value: str | None) -> None:
        if not value:
            return
        if self._date is not None and value == self._date_text:
            # The same second as the last answer (most answers): no need to parse it again.
            self._date = (self._date[0], time.monotonic())
            return
        self._date_text = value
        try:
            told = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return  # a server with no clock, or a broken one, tells nothing
        if told.tzinfo is None:
            told = told.replace(tzinfo=UTC)
        self._date = (told, time.monotonic())

    # -- lower level ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: JSON = None,
        written: Callable[[], object] | None = None,
    ) -> JSON:
        """Send one request with retries; parsed JSON, or None for 204 or an empty body.

        `path` is relative to the base URL, or a full URL (a `next` link). Raises `ApiError`
        for an HTTP error status and `TransportError` (with `ambiguous`) when no answer came.
        `written` is called each time the whole request has been written to the connection
        (transports that write nothing, in-process ones, do not call it).
        """
        response = await self._send_with_retries(
            method.upper(), path, params=params, json=json, written=written
        )
        return self._parse(method.upper(), self._shown(path), response)

    async def _send_with_retries(
        self,
        method: str,
        target: str,
        *,
        params: Mapping[str, str] | None,
        json: JSON,
        written: Callable[[], object] | None = None,
    ) -> httpx.Response:
        shown = self._shown(target)
        url = self._url(method, target)
        where = self._where(target)
        idempotent = method in IDEMPOTENT_METHODS
        content = None if json is None else _encode(json)
        headers = None if content is None else {"Content-Type": "application/json"}
        if content is not None and bodies.isEnabledFor(logging.DEBUG):
            bodies.debug("%s %s request body: %s", method, where, _shown_body(content))
        attempt = 0
        arrived = False  # whether an earlier attempt may have reached the server
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            paced = False  # whether the pacer holds everyone for this wait (a 429)
            async with self._semaphore:
                if self._pacer is not None:
                    await self._pacer.wait()
                self.stats[method] += 1
                started = time.perf_counter()
                try:
                    response = await self._exchange(
                        method, url, params=params, content=content, headers=headers,
                        written=written,
                    )  # fmt: skip
                    self._note_date(response.headers.get("Date"))
                except httpx.TransportError as exc:
                    reason = self._scrub(_describe(exc))
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug(
                            "%s %s -> %s (%.0f ms, attempt %d)",
                            method,
                            where,
                            type(exc).__name__,
                            (time.perf_counter() - started) * 1000,
                            attempt,
                        )
                    sent = not isinstance(exc, _NOT_SENT)
                    ambiguous = sent and method not in SAFE_METHODS
                    arrived = arrived or sent
                    if isinstance(exc, _NOT_RETRYABLE) or not idempotent or last:
                        raise TransportError(
                            method, shown, reason, ambiguous=ambiguous, attempts=attempt, url=where
                        ) from None
                    delay = self._backoff(attempt)
                    why = reason
                else:
                    status = response.status_code
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug(
                            "%s %s -> %d (%.0f ms, attempt %d)",
                            method,
                            where,
                            status,
                            (time.perf_counter() - started) * 1000,
                            attempt,
                        )
                        if bodies.isEnabledFor(logging.DEBUG) and response.content:
                            bodies.debug(
                                "%s %s response body: %s",
                                method,
                                where,
                                _shown_body(response.content),
                            )
                    retryable = status in RETRY_ANY_METHOD or (status >= 500 and idempotent)
                    if method == "DELETE" and status == 404 and arrived:
                        # An earlier attempt may have deleted it, its answer lost: gone, as
                        # asked (issue 10).
                        logger.info("%s %s: gone after a retry; counted as done", method, where)
                        return httpx.Response(204, request=response.request)
                    if status < 400 or not retryable or last:
                        return response
                    arrived = arrived or status not in RETRY_ANY_METHOD
                    delay = self._retry_after(response.headers.get("Retry-After"), attempt)
                    why = str(status)
                    if status == 429 and self._pacer is not None:
                        # A rate limit is the account's, not this request's: no worker of
                        # this client starts anything before the wait is over.
                        self._pacer.hold(delay)
                        paced = True
            self.retries += 1
            # Said at every verbosity: a run that waits says what for.
            logger.info(
                "%s %s: %s, retrying in %s s (%d/%d)",
                method,
                where,
                why,
                _seconds(delay),
                attempt,
                self.max_attempts - 1,
            )
            if not paced:
                # Sleep outside the semaphore: a request waiting out a rate limit must not
                # hold a slot other requests could use.
                await self._sleep(delay)

    def _shown(self, target: str) -> str:
        """The path a request goes to, as errors name it: no scheme, host or query."""
        if "://" in target:
            return _display_path(target)
        return self._base_path + _display_path(target)

    def _where(self, target: str) -> str:
        """The URL a request goes to, as network errors and `-v` name it: the base URL
        included, no query (a cursor or a token may sit there), no credentials."""
        if "://" in target:
            try:
                return _display_url(httpx.URL(target))
            except httpx.InvalidURL:
                return "(link)"
        return self._origin_text + self._shown(target)

    def _url(self, method: str, target: str) -> str | httpx.URL:
        """A relative path as given (httpx joins it to the base URL), or a checked full URL.

        Either way the path is checked (`reconciler.core.requestpaths`): an id that holds `..`
        or a `//` that names another host never leaves this process."""
        if "://" not in target:
            problem = requestpaths.problem(target.split("?", 1)[0])
            if problem:
                raise ApiError(method, _display_path(target), 0, f"refused to send: {problem}")
            return target
        try:
            url = httpx.URL(target)
        except httpx.InvalidURL:
            raise ApiError(method, "(link)", 200, "the server's link is not a URL") from None
        if (
            self._base.scheme == "https"
            and url.scheme == "http"
            and url.host == self._base.host
            and url.port is None
        ):
            # DRF behind a TLS-terminating proxy builds `next` links with http://; following
            # one as given would send the key in clear text.
            url = url.copy_with(scheme="https", port=self._base.port)
        base = self._base
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            # A `next` link is followed with our API key attached: only to the very origin
            # (scheme, host and port) the key is meant for.
            raise ApiError(
                method,
                _display_path(target),
                200,
                f"refusing to follow a link to another host, scheme or port ({_origin(url)}, "
                f"not {_origin(self._base)}) with the API key",
            )
        problem = requestpaths.problem(url.path)
        if problem:
            raise ApiError(method, _display_path(target), 200, f"refused to follow: {problem}")
        return url

    async def _exchange(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        written: Callable[[], object] | None = None,
    ) -> httpx.Response:
        """One request and its whole answer, within `timeout` seconds from sending to the last
        byte (a server sending one byte every few seconds cannot hold a run), the answer at
        most `limits.max_response_bytes` as received and once decoded; `written()` once the
        request is written (httpcore's `trace` extension says so)."""
        request = self._http.build_request(
            method,
            url,
            params=params,
            content=content,
            headers=headers,
            extensions=None if written is None else {"trace": _tracing_written(written)},
        )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._http.send(request, stream=True)
                try:
                    body = await self._read_body(method, request, response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"no complete answer within {self.timeout:g} s", request=request
            ) from None
        kept = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=kept, content=body, request=request)

    async def _read_body(
        self, method: str, request: httpx.Request, response: httpx.Response
    ) -> bytes:
        limit = self.limits.max_response_bytes
        shown = _display_path(str(request.url))

        def too_large() -> ApiError:
            return ApiError(
                method,
                shown,
                response.status_code,
                f"the answer is larger than {limit:,} bytes (the limit; raise it with "
                f"{Limits.ENV['max_response_bytes']})",
            )

        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise too_large()
        if response.is_stream_consumed:
            # Content that was in memory already (an `httpx.Response(content=...)` built in
            # process) has been decoded by httpx.
            if len(response.content) > limit:
                raise too_large()
            return response.content
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        decoder = _decoder(encoding)
        if decoder is None:
            raise ApiError(
                method,
                shown,
                response.status_code,
                f"the answer uses Content-Encoding {encoding!r}, which this client does not accept",
            )
        received = 0
        out = bytearray()
        try:
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > limit:
                    raise too_large()
                out += decoder.feed(chunk, limit + 1 - len(out))
                if len(out) > limit:
                    raise too_large()
            out += decoder.finish(limit + 1 - len(out))
        except zlib.error:
            raise ApiError(
                method, shown, response.status_code, f"the answer's {encoding} data is corrupt"
            ) from None
        if len(out) > limit:
            raise too_large()
        return bytes(out)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**n))."""
        # The exponent is capped so a long retry budget cannot overflow a float.
        ceiling = min(self.max_backoff, BACKOFF_BASE * 2.0 ** min(attempt - 1, 60))
        return self._random() * ceiling

    def _retry_after(self, header: str | None, attempt: int) -> float:
        """The server's `Retry-After` (seconds or HTTP date), capped; else backoff."""
        delay = parse_retry_after(header, now=datetime.now(UTC))
        if delay is None:
            return self._backoff(attempt)
        return min(delay, self.max_backoff)

    def _parse(self, method: str, shown: str, response: httpx.Response) -> JSON:
        status = response.status_code
        if status >= 400:
            raise ApiError(method, shown, status, self._scrub(error_message(response)))
        if status >= 300:
            # Redirects are not followed (see __init__); an API that redirects is misaddressed.
            location = _display_path(response.headers.get("Location", ""))
            raise ApiError(method, shown, status, f"unexpected redirect to {location}")
        if status == 204 or not response.content.strip():
            return None
        try:
            parsed = _json.loads(response.content, parse_constant=_no_constant)
        except RecursionError:
            raise ApiError(method, shown, status, "response is nested too deeply") from None
        except ValueError:
            text = self._scrub(_truncate(response.text.strip()))
            raise ApiError(method, shown, status, f"response is not JSON: {text}") from None
        # No value nests deeper than it has brackets: most answers need no walk at all.
        brackets = response.content.count(b"{") + response.content.count(b"[")
        if brackets > self.limits.max_depth and _depth(parsed, self.limits.max_depth) > (
            self.limits.max_depth
        ):
            raise ApiError(
                method,
                shown,
                status,
                f"response is nested deeper than {self.limits.max_depth} levels (the limit; "
                f"raise it with {Limits.ENV['max_depth']})",
            )
        return parsed

    def _scrub(self, text: str) -> str:
        """The text with the API key masked, in case a server or library echoes it."""
        return text.replace(self._api_key, "***") if self._api_key else text


if TYPE_CHECKING:
    # mypy proves ApiClient satisfies the provider-facing protocol.
    def _conforms(client: ApiClient) -> Api:
        return client


# -- helpers (pure) ----------------------------------------------------------------------------


class _Once:
    """`call(*args)` the first time it is called, nothing after."""

    def __init__(self, call: Callable[..., object], *args: Any) -> None:
        self._call: Callable[..., object] | None = call
        self._args = args

    def __call__(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            call(*self._args)


def _tracing_written(written: Callable[[], object]) -> Callable[[str, Any], Awaitable[None]]:
    """An httpcore `trace` callback calling `written()` once a request's body is written
    (HTTP/1.1 and HTTP/2 name the step alike)."""

    async def trace(event: str, info: Any) -> None:
        if event.endswith(".send_request_body.complete"):
            written()

    return trace


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for the process, as httpx builds it (certifi's bundle, or
    `SSL_CERT_FILE` / `SSL_CERT_DIR`): building one reads the whole CA bundle, some 40 ms of
    CPU, and a run opens a client per session (the plan's, then the apply's)."""
    return httpx.create_ssl_context()


def _tls_for(base: httpx.URL) -> ssl.SSLContext:
    """The TLS context of a client of `base`. Over plain http (the emulator, a server on the
    host) no request of the client can use one: it refuses links to another scheme. httpx
    builds one all the same, so it gets one that reads no CA bundle and, should it ever be
    used, trusts no certificate: a TLS connection with it fails, it never goes unverified."""
    if base.scheme == "http":
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return _tls_context()


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which are not JSON and cannot be sent back.
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: JSON, limit: int) -> int:
    """How deeply `value` nests (a scalar is 0), counting no further than `limit + 1`.

    Level by level, each level's children gathered by `list.extend`: a page of 100 agents is
    some 6,000 values, and a stack of (value, depth) pairs took longer than decoding the page
    (1.3 ms against 1.2 ms; level by level, 0.4 ms)."""
    deepest = 0
    level: list[JSON] = [value]
    while True:
        below: list[JSON] = []
        for node in level:
            if isinstance(node, dict):
                below.extend(node.values())
            elif isinstance(node, list):
                below.extend(node)
        if not below:
            return deepest
        deepest += 1
        if deepest > limit:
            return deepest
        level = below


class _Decoder:
    """Undo one Content-Encoding, never producing more than asked for at a time."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._zlib: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        self._first = True

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            return data
        if self._encoding == "deflate" and self._first:
            self._first = False
            try:
                return self._inflate(data, room)
            except zlib.error:
                # Some servers send raw deflate without the zlib wrapper.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflate(data, room)

    def _inflate(self, data: bytes, room: int) -> bytes:
        out = bytearray()
        pending = data
        while pending and len(out) < room:
            out += self._zlib.decompress(pending, room - len(out))
            pending = self._zlib.unconsumed_tail
        return bytes(out)

    def finish(self, room: int) -> bytes:
        if self._zlib is None:
            return b""
        return bytes(self._zlib.flush()[: max(room, 0)])


def _decoder(encoding: str) -> _Decoder | None:
    if encoding in ("", "identity", "gzip", "x-gzip", "deflate"):
        return _Decoder(encoding)
    return None


def _describe(exc: httpx.TransportError) -> str:
    """`ConnectError: All connection attempts failed (Connection refused)`: the exception
    and, when its own text does not say it, the system's reason underneath."""
    text = str(exc).strip()
    name = type(exc).__name__
    cause = _system_reason(exc)
    if cause and cause.lower() not in text.lower():
        text = f"{text} ({cause})" if text else cause
    return f"{name}: {text}" if text else name


def _system_reason(exc: BaseException) -> str:
    """The operating system's words for the deepest `OSError` under `exc` (`Connection
    refused`), or "" when there is none."""
    found = ""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.errno, int) and current.errno > 0:
            found = os.strerror(current.errno)
        current = current.__cause__ or current.__context__
    return found


def _encode(body: JSON) -> bytes:
    # Compact and UTF-8, like the bodies the plan shows; NaN is not JSON and is refused.
    return _json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _display_url(url: httpx.URL) -> str:
    """Scheme, host, port and path: no credentials, no query."""
    return _origin(url) + (url.path or "/")


def _seconds(delay: float) -> str:
    """A wait as a person reads it: `2` for 2.0 s, `2.5`, `0.43`, `0.05`, `0`."""
    text = f"{delay:.2f}" if delay < 1 else f"{delay:.1f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


BODY_SHOWN: Final = 4000
"""Characters of a body `-vv` shows; the rest is counted, not printed."""


def _shown_body(raw: bytes) -> str:
    """A body as `-vv` prints it: JSON with every number and secret reference masked
    (`reconciler.core.masking.masked`), then the run's secret values (`REDACTOR`)."""
    try:
        text = _json.dumps(masked(_json.loads(raw)), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        text = raw.decode("utf-8", errors="replace")
    text = REDACTOR.text(text)
    if len(text) > BODY_SHOWN:
        more = len(text) - BODY_SHOWN
        text = f"{text[:BODY_SHOWN]}... ({more:,} more {agree(more, 'character')})"
    return text


def _display_path(target: str) -> str:
    """The path part only: no scheme, host or query (a cursor or a token may sit there)."""
    path = urlsplit(target).path
    return path or "/"


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP date.

    None when absent or unreadable (the caller backs off on its own); never negative.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a delay
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def error_message(response: httpx.Response) -> str:
    """The server's error, verbatim but readable.

    DRF `{"detail": "..."}` -> the detail; DRF field errors `{"field": ["msg", ...]}` ->
    `field: msg` (nested serializers as `a.b: msg`, several joined by `; `); any other JSON ->
    compact JSON text; anything else -> the text. At most 2000 characters.
    """
    text = response.text.strip()
    if not text:
        return response.reason_phrase or "(empty response body)"
    try:
        body = _json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return _truncate(text)
    if _depth(body, DEFAULTS.max_depth) > DEFAULTS.max_depth:
        return _truncate(text)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return _truncate(body["detail"])
    lines = _drf_field_errors(body, "")
    if lines:
        return _truncate("; ".join(lines))
    return _truncate(_json.dumps(body, separators=(",", ":"), ensure_ascii=False))


def _drf_field_errors(body: JSON, prefix: str) -> list[str] | None:
    """`field: message` lines for a DRF validation body; None when it is not one."""
    if isinstance(body, str):
        return [f"{prefix}: {body}" if prefix else body]
    if isinstance(body, list) and body:
        if all(isinstance(item, str) for item in body):
            return [f"{prefix}: {item}" if prefix else item for item in body]
        lines: list[str] = []
        for index, item in enumerate(body):
            if item == {}:
                continue  # DRF reports the valid elements of a list as {}
            sub = _drf_field_errors(item, f"{prefix}[{index}]")
            if sub is None:
                return None
            lines.extend(sub)
        return lines or None
    if isinstance(body, dict) and body:
        lines = []
        for key, value in body.items():
            sub = _drf_field_errors(value, f"{prefix}.{key}" if prefix else str(key))
            if sub is None:
                return None
            lines.extend(sub)
        return lines
    return None


def _check_api_key(key: str, variable: str) -> None:
    # h11 quotes an illegal header value in its exception, which would print the key.
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in key):
        raise ConfigError(
            f"{variable} contains characters that cannot be sent in an HTTP header "
            "(whitespace, control or non-ASCII characters)"
        )


def settings_from_env(
    settings: ProviderSettings,
    environ: Mapping[str, str],
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> tuple[str, str]:
    """(base_url, api_key) for a provider from the environment.

    The base URL is `base_url` if given, else `environ[settings.base_url_env]`, else the
    provider's default; its trailing slash is dropped, so is a trailing part of the paths the
    client adds itself (`https://api.ultravox.ai/api/` is `https://api.ultravox.ai`, which
    would otherwise request `/api/api/agents`; see `api_base_url`), and it must be http(s).
    The key comes
    from `environ[api_key_env or settings.api_key_env]`. Errors name variables, never values of
    the key.
    """
    raw_url = (base_url or environ.get(settings.base_url_env, "") or "").strip()
    url = (raw_url or settings.default_base_url).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        source = "--base-url" if base_url else settings.base_url_env
        raise ConfigError(
            f"{source} is not a valid base URL ({url!r}): it must start with http:// or "
            "https:// and name a host"
        )
    url = api_base_url(url, settings)
    variable = api_key_env or settings.api_key_env
    key = environ.get(variable, "").strip()
    if not key:
        vendor = settings.name[:1].upper() + settings.name[1:]
        raise ConfigError(
            f"{variable} is not set: export your {vendor} API key in {variable} "
            f"(export {variable}=...) before running commands that reach the API"
        )
    _check_api_key(key, variable)
    return url, key


def api_base_url(url: str, settings: ProviderSettings) -> str:
    """`url` without a trailing part of the path every request of the vendor starts with
    (`settings.path_prefix`, else `settings.api_root`): the client adds that itself, so a base
    URL copied with it (`https://api.ultravox.ai/api`, `https://api.threetone.in/v1`) would
    request it twice. Any other path (a proxy's) is kept."""
    root = [part for part in (settings.path_prefix or settings.api_root).split("/") if part]
    parts = urlsplit(url)
    path = [part for part in parts.path.split("/") if part]
    for size in range(min(len(root), len(path)), 0, -1):
        if path[-size:] == root[:size]:
            kept = "/".join(path[:-size])
            return parts._replace(path=f"/{kept}" if kept else "").geturl()
    return url
