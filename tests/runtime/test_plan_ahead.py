"""A plan normalizes while its reads are in flight (issue 14): the client hands each page of a
list over before asking for the next one, and what was normalized ahead (`Forms`) is what
planning would have computed, found by identity only; anything else is normalized anew."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from reconciler.core.domain import JSON
from reconciler.core.normalize import Forms, NormalizationTable, normalize
from reconciler.runtime.client import ApiClient
from reconciler.runtime.engine import Ahead, _PageNormalizing
from tests.runtime.test_client import BASE, ULTRAVOX, Harness, Server, reply

TABLE = NormalizationTable(read_only=("id",), zero_is_default=True)


def test_over_an_in_process_transport_a_page_is_handed_over_once_the_next_has_answered() -> None:
    events: list[Any] = []
    pages = Server(
        reply(200, {"results": [{"n": 1}, {"n": 2}], "next": f"{BASE}/api/agents?cursor=c1"}),
        reply(200, {"results": [{"n": 3}], "next": None}),
    )

    def server(request: Any) -> Any:
        events.append(("GET", str(request.url)))
        return pages(request)

    def on_page(items: list[JSON]) -> None:
        events.append(("page", [item["n"] for item in items]))

    harness = Harness(server)
    items = harness.run(lambda api: api.list_all("/api/agents", on_page=on_page))
    assert [item["n"] for item in items] == [1, 2, 3]
    # MockTransport writes nothing (no trace of a written request): each page is handed over,
    # in order, once the next page's request is done.
    assert events == [
        ("GET", f"{BASE}/api/agents?pageSize=100"),
        ("GET", f"{BASE}/api/agents?cursor=c1"),
        ("page", [1, 2]),
        ("page", [3]),
    ]


def _pages_server(pages: list[bytes], sockets: list[Any], done: Any) -> Any:
    """An HTTP/1.1 server on loopback answering each request with the next of `pages`, the
    accepted connection's socket kept in `sockets`, `done` (a future) set once it closed."""
    import asyncio

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sockets.append(writer.get_extra_info("socket"))
        for body in pages:
            await reader.readuntil(b"\r\n\r\n")
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
        await reader.read()  # open until the client closes: the test reads its socket
        writer.close()
        await writer.wait_closed()
        done.set_result(None)

    return asyncio.start_server(serve, "127.0.0.1", 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIONREAD on a socket")
def test_over_a_connection_a_page_is_handed_over_once_the_next_request_is_written() -> None:
    import asyncio
    import fcntl
    import json
    import termios

    sockets: list[Any] = []
    waiting: list[int] = []  # bytes the server has not read yet when each page is handed over

    def on_page(items: list[JSON]) -> None:
        pending = bytearray(4)
        fcntl.ioctl(sockets[0].fileno(), termios.FIONREAD, pending)
        waiting.append(int.from_bytes(pending, sys.byteorder))

    async def main() -> list[JSON]:
        pages: list[bytes] = []
        done = asyncio.get_running_loop().create_future()
        server = await _pages_server(pages, sockets, done)
        port = server.sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        pages += [
            json.dumps({"results": [{"n": 1}], "next": f"{base}/api/agents?cursor=c1"}).encode(),
            json.dumps({"results": [{"n": 2}], "next": None}).encode(),
        ]
        async with server:
            async with ApiClient(ULTRAVOX, base_url=base, api_key="k") as api:
                items = await api.list_all("/api/agents", on_page=on_page)
            await done
        return items

    assert [item["n"] for item in asyncio.run(main())] == [1, 2]
    # Page 1 is handed over with the request for page 2 on the wire, not read yet by the
    # server (before, the page went first and the thread it starts held the request up);
    # the last page as it comes, with nothing more asked for.
    assert waiting[0] > 0 and waiting[1:] == [0]


def test_forms_are_found_by_identity_and_otherwise_normalized_anew() -> None:
    body = {"id": "x", "a": 0, "b": "kept"}
    forms = Forms()
    forms.add(body, TABLE)
    assert forms.get(body, TABLE) is forms.get(body, TABLE)
    assert forms.get(body, TABLE) == normalize(body, TABLE) == {"b": "kept"}
    equal = dict(body)
    assert forms.get(equal, TABLE) is not forms.get(body, TABLE)
    other = NormalizationTable()
    assert forms.get(body, other) == {"id": "x", "a": 0, "b": "kept"}


def test_what_the_thread_cannot_normalize_is_left_to_planning() -> None:
    good: dict[str, Any] = {"id": "x", "b": 1}
    bad: Any = None  # a `null` item of a page: planning reports it as it always did
    with Ahead() as ahead:
        ahead.normalize([(bad, TABLE), (good, TABLE)])
    assert ahead.forms.get(good, TABLE) == {"b": 1}
    assert ahead.forms._found.keys() == {(id(good), id(TABLE))}


def test_a_plans_reader_converts_each_page_in_the_worker_as_read_list_would() -> None:
    import asyncio
    import threading

    from reconciler.core.domain import LiveResource, ResourceKey
    from reconciler.providers.base import read_list

    threads: set[str] = set()

    def convert(item: JSON) -> LiveResource:
        threads.add(threading.current_thread().name)
        assert isinstance(item, dict)
        return LiveResource(ResourceKey("Agent", str(item["n"])), "ultravox", "id", item, "d")

    def pages() -> Server:
        return Server(
            reply(200, {"results": [{"n": 1}, {"n": 2}], "next": f"{BASE}/api/agents?cursor=c1"}),
            reply(200, {"results": [{"n": 3}], "next": None}),
        )

    plain = Harness(pages()).run(lambda api: read_list(api, "/api/agents", convert))
    assert threads == {threading.current_thread().name}
    threads.clear()

    async def ahead_read(api: ApiClient) -> list[LiveResource]:
        with Ahead() as ahead:
            found = await read_list(ahead.reader(api, TABLE), "/api/agents", convert)
        assert ahead.forms.get(found[2].body, TABLE) is ahead.forms.get(found[2].body, TABLE)
        return found

    harness = Harness(pages())
    assert harness.run(ahead_read) == plain
    assert len(plain) == 3
    assert threads and all(name.startswith("reconciler-normalize") for name in threads)
    assert asyncio.iscoroutinefunction(read_list)


def agent_page(items: list[dict[str, Any]]) -> Server:
    return Server(reply(200, {"results": items, "next": None}))


def test_the_desired_side_is_normalized_once_the_first_page_is_in() -> None:
    from reconciler.core.domain import DesiredResource, ResourceKey, SourceRef

    spec: dict[str, Any] = {"name": "a", "b": 0}
    desired = DesiredResource(ResourceKey("Agent", "a"), "ultravox", spec, SourceRef("a.yaml", 1))
    with Ahead() as ahead:
        ahead.expect([(desired, TABLE)])
        # Nothing is handed to the thread before a page: it would slow the first request.
        assert ahead.forms._found == {}
    assert ahead.forms._found.keys() == {(id(spec), id(TABLE))}


def test_each_pair_is_compared_in_the_thread_as_planning_compares_it() -> None:
    from reconciler.core.domain import DesiredResource, LiveResource, ResourceKey, SourceRef
    from reconciler.core.planning import compare
    from reconciler.providers.base import read_list

    def desired(name: str, b: int) -> DesiredResource:
        spec = {"name": name, "b": b}
        return DesiredResource(ResourceKey("Agent", name), "ultravox", spec, SourceRef("a.yaml", 1))

    def convert(item: JSON) -> LiveResource:
        assert isinstance(item, dict)
        return LiveResource(ResourceKey("Agent", str(item["name"])), "ultravox", "i", item, "d")

    same, changed = desired("same", 1), desired("changed", 2)
    live = [{"id": "1", "name": "same", "b": 1}, {"id": "2", "name": "changed", "b": 3}]
    live.append({"id": "3", "name": "unmanaged", "b": 4})

    async def ahead_read(api: ApiClient) -> tuple[Ahead, list[LiveResource]]:
        with Ahead() as ahead:
            ahead.expect([(same, TABLE), (changed, TABLE)])
            found = await read_list(ahead.reader(api, TABLE), "/api/agents", convert)
        return ahead, found

    ahead, found = Harness(agent_page(live)).run(ahead_read)
    forms = ahead.forms
    assert forms.comparison(same, found[0], TABLE) == () == compare(same, found[0], TABLE)
    made = forms.comparison(changed, found[1], TABLE)
    assert made is not None and made == compare(changed, found[1], TABLE)
    assert [(c.path, c.before, c.after) for c in made] == [("b", 3, 2)]
    assert compare(changed, found[1], TABLE, forms) is made  # planning takes it as made
    # Not a pair (no desired of its name), or another table: compared anew by planning.
    assert forms.comparison(same, found[2], TABLE) is None
    assert forms.comparison(same, found[0], NormalizationTable()) is None
    # Forms no longer needed are dropped: the live ones compared, and a desired one that
    # matched; the desired form of a change is kept for its field list.
    assert forms._found.keys() == {(id(changed.spec), id(TABLE)), (id(found[2].body), id(TABLE))}


def test_the_secrets_a_page_holds_are_collected_for_the_masking() -> None:
    from reconciler.core.domain import LiveResource, ResourceKey
    from reconciler.providers.base import read_list

    def convert(item: JSON) -> LiveResource:
        assert isinstance(item, dict)
        return LiveResource(ResourceKey("Agent", str(item["name"])), "ultravox", "i", item, "d")

    live = [
        {"name": "a", "t": {"tools": [{"auth": {"X-Key": "tok-0123456789"}}, {"auth": "s-2"}]}},
        {"name": "b", "t": {"tools": []}},
    ]

    async def ahead_read(api: ApiClient) -> list[Any] | None:
        with Ahead() as ahead:
            reader = ahead.reader(api, TABLE, ["t.tools[].auth"])
            await read_list(reader, "/api/agents", convert)
        assert isinstance(reader, _PageNormalizing)  # a plan's reader, over a client
        return reader.secrets

    secrets = Harness(agent_page(live)).run(ahead_read)
    assert secrets == [{"X-Key": "tok-0123456789"}, "s-2"]
