"""The hostile-server suite: servers on 127.0.0.1 that answer to exhaust the client.

Huge and endless bodies, a gzip bomb on a caller's session, a server that drips a byte at a
time, and one that sends new page markers for ever. Each time the call ends with a typed
error, within its bounds, and the connection is released: the after-every-case checks of
``tests/test_faults.py`` (pool empty, no pending task, nothing unclosed) apply here too.
Where the claim is a bound on memory, it is measured in a child process (its peak RSS),
and those tests run on their own (``serial``).
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import sys
import textwrap
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable

import pytest

from lambdaclient import (
    InvocationType,
    LambdaClient,
    PaginationError,
    ResponseParseError,
    ResponseTooLargeError,
    ServiceError,
    TotalTimeoutError,
)
from lambdaclient.testing import MockTransport
from lambdaclient.transport import Request, Response
from tests.test_faults import (
    ALIAS,
    CREDENTIALS,
    LAST_CHUNK,
    REQUEST_ID,
    Exchange,
    Guard,
    RawServers,
    chunk,
    guarded,
    head,
    raw_servers,
)

LIMIT = 64 * 1024  # a small max_response_size, so that going past it is quick
BLOCK = b" " * 16 * 1024  # JSON whitespace: a body that would still parse if read whole


@pytest.fixture(autouse=True)
async def guard() -> AsyncIterator[Guard]:
    async with guarded() as checked:
        yield checked


@pytest.fixture
async def raw() -> AsyncIterator[RawServers]:
    async with raw_servers() as start:
        yield start


JSON_HEAD = {"Content-Type": "application/json", "x-amzn-RequestId": REQUEST_ID}


async def declared_huge(exchange: Exchange) -> None:
    """A Content-Length of 300 MB, and bytes for as long as the client reads."""
    await exchange.send(head(200, {**JSON_HEAD, "Content-Length": str(300 * 1024 * 1024)}))
    await endless(exchange, lambda data: data)


async def endless_chunked(exchange: Exchange) -> None:
    """A chunked body that never ends."""
    await exchange.send(head(200, {**JSON_HEAD, "Transfer-Encoding": "chunked"}))
    await endless(exchange, chunk)


async def endless_until_close(exchange: Exchange) -> None:
    """No length at all: the body would end when the server closes, and it never does."""
    await exchange.send(head(200, {**JSON_HEAD, "Connection": "close"}))
    await endless(exchange, lambda data: data)


async def endless(exchange: Exchange, frame: Callable[[bytes], bytes]) -> None:
    """Send blocks until the client closes the connection."""
    try:
        while True:
            await exchange.send(frame(BLOCK))
    except ConnectionError:
        exchange.server.client_closed += 1
        exchange.server.changed.set()


HUGE_BODIES = {
    "declared-300MB": declared_huge,
    "endless-chunked": endless_chunked,
    "endless-until-close": endless_until_close,
}
OPERATIONS = {
    "GetAlias": lambda client: client.get_alias("fn", "live"),
    "ListAliases": lambda client: anext(aiter(client.list_aliases("fn"))),
    "Invoke": lambda client: client.invoke("fn", payload=b"{}"),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("body", sorted(HUGE_BODIES))
async def test_a_body_past_max_response_size_is_response_too_large_and_the_connection_closes(
    guard: Guard, raw: RawServers, operation: str, body: str
) -> None:
    server = await raw(HUGE_BODIES[body])
    async with guard.client(server.url, max_response_size=LIMIT) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await OPERATIONS[operation](client)
        guard.assert_released()
    assert (caught.value.operation, caught.value.limit) == (operation, LIMIT)
    assert caught.value.status == 200
    assert caught.value.request_id == REQUEST_ID
    # Not retried (the answer would be the same), and the connection was given up.
    assert len(server.requests) == 1
    await server.until(lambda: server.client_closed == 1)


async def test_a_body_within_max_response_size_is_read_whole(guard: Guard, raw: RawServers) -> None:
    document = json.dumps(ALIAS).encode()
    padded = document + b" " * (LIMIT - len(document))  # exactly at the limit

    async def chunked_to_the_limit(exchange: Exchange) -> None:
        await exchange.send(head(200, {**JSON_HEAD, "Transfer-Encoding": "chunked"}))
        for start in range(0, len(padded), 1000):
            await exchange.send(chunk(padded[start : start + 1000]))
        await exchange.send(LAST_CHUNK)

    server = await raw(chunked_to_the_limit)
    async with guard.client(server.url, max_response_size=LIMIT) as client:
        alias = await client.get_alias("fn", "live")
    assert alias.revision_id == ALIAS["RevisionId"]


async def test_an_endless_error_body_still_gives_the_status_and_code(
    guard: Guard, raw: RawServers
) -> None:
    async def endless_503(exchange: Exchange) -> None:
        await exchange.send(
            head(
                503,
                {
                    "x-amzn-ErrorType": "ServiceUnavailableException",
                    "Transfer-Encoding": "chunked",
                },
            )
        )
        await endless(exchange, chunk)

    server = await raw(endless_503)
    async with guard.client(server.url, max_attempts=1) as client:
        with pytest.raises(ServiceError) as caught:
            await client.get_alias("fn", "live")
    assert (caught.value.status, caught.value.code) == (503, "ServiceUnavailableException")
    await server.until(lambda: server.client_closed == 1)


async def test_a_gzip_bomb_on_a_callers_session_is_never_decompressed(
    guard: Guard, raw: RawServers
) -> None:
    # 50 MB of JSON that compresses to about 50 KB. The guard's session is the caller's own,
    # which aiohttp would decompress by default.
    bomb = gzip.compress(b'{"Name": "' + b"a" * 50 * 1024 * 1024 + b'"}', compresslevel=9)

    async def gzipped(exchange: Exchange) -> None:
        await exchange.respond(200, bomb, {**JSON_HEAD, "Content-Encoding": "gzip"})

    server = await raw(gzipped)
    async with guard.client(server.url) as client:
        with pytest.raises(ResponseParseError) as caught:
            await client.get_alias("fn", "live")
    # Compression was not asked for, and the body was taken as the bytes that came.
    assert server.requests[0].headers["accept-encoding"] == "identity"
    assert f"({len(bomb):,} bytes)" in str(caught.value)
    assert caught.value.excerpt == bomb[:1024]


async def drip(exchange: Exchange) -> None:
    """A byte every 50 ms: never a pause long enough for a read timeout."""
    await exchange.send(head(200, {**JSON_HEAD, "Content-Length": "100000"}))
    try:
        while True:
            await asyncio.sleep(0.05)
            await exchange.send(b" ")
    except ConnectionError:
        exchange.server.client_closed += 1
        exchange.server.changed.set()


@pytest.mark.parametrize("where", ["client", "call"])
async def test_a_drip_fed_response_ends_at_the_total_timeout(
    guard: Guard, raw: RawServers, where: str
) -> None:
    server = await raw(drip)
    on_client = 0.5 if where == "client" else None
    on_call = 0.5 if where == "call" else None
    async with guard.client(server.url, read_timeout=1.0, total_timeout=on_client) as client:
        started = time.monotonic()
        with pytest.raises(TotalTimeoutError) as caught:
            await client.get_alias("fn", "live", total_timeout=on_call)
        elapsed = time.monotonic() - started
        guard.assert_released()
    assert caught.value.timeout == 0.5
    assert 0.5 <= elapsed < 5.0  # the per-read timeout (1 s) never fired
    await server.until(lambda: server.client_closed == 1)


async def test_the_total_timeout_covers_the_waits_between_attempts(
    guard: Guard, raw: RawServers
) -> None:
    async def throttle(exchange: Exchange) -> None:
        await exchange.respond_json(
            429, {"message": "Rate exceeded"}, **{"x-amzn-ErrorType": "TooManyRequestsException"}
        )

    server = await raw(throttle)
    # Retry-After is absent: backoff with jitter 1.0 waits 1 s, then 2 s.
    async with guard.client(
        server.url, sleep=asyncio.sleep, jitter=lambda: 0.999, total_timeout=0.5
    ) as client:
        started = time.monotonic()
        with pytest.raises(TotalTimeoutError):
            await client.get_alias("fn", "live")
        elapsed = time.monotonic() - started
    assert elapsed < 0.9  # cut in the first wait, not after it
    assert len(server.requests) == 1


async def test_a_call_within_its_total_timeout_is_unaffected(guard: Guard, raw: RawServers) -> None:
    async def alias(exchange: Exchange) -> None:
        await exchange.respond_json(200, ALIAS)

    server = await raw(alias)
    async with guard.client(server.url, total_timeout=5.0) as client:
        assert (await client.get_alias("fn", "live")).name == "live"


async def endless_markers(exchange: Exchange) -> None:
    """A new NextMarker on every page, for ever."""
    page = len(exchange.server.requests)
    aliases = [{**ALIAS, "Name": f"a{page}-{n}"} for n in range(2)]
    await exchange.respond_json(200, {"Aliases": aliases, "NextMarker": f"m{page}"})


async def test_endless_markers_stop_at_max_pages_with_a_pagination_error(
    guard: Guard, raw: RawServers
) -> None:
    server = await raw(endless_markers)
    seen: list[str] = []

    async def walk(client: LambdaClient) -> None:
        async for alias in client.list_aliases("fn", max_pages=5):
            seen.append(alias.name)

    async with guard.client(server.url) as client:
        with pytest.raises(PaginationError, match="max_pages=5"):
            await walk(client)
    # Every item of the five pages was given, then the listing was said to be incomplete.
    assert len(seen) == 10
    assert len(server.requests) == 5


async def test_endless_markers_stop_quietly_at_max_items(guard: Guard, raw: RawServers) -> None:
    server = await raw(endless_markers)
    async with guard.client(server.url) as client:
        names = [alias.name async for alias in client.list_aliases("fn", max_items=3)]
        pages = [page async for page in client.list_aliases("fn", max_items=3).pages()]
    assert names == ["a1-0", "a1-1", "a2-0"]
    # Two requests each: no page is fetched past the one that reached max_items.
    assert len(server.requests) == 4
    assert [len(page.aliases) for page in pages] == [2, 2]


# --- memory -----------------------------------------------------------------------------------


def test_a_parse_error_keeps_an_excerpt_and_not_the_body() -> None:
    def handler(request: Request) -> Response:
        # 20 MB that is not JSON, made while memory is traced.
        return Response(200, {}, b"<" + b"x" * (20 * 1024 * 1024))

    async def keep_the_error() -> ResponseParseError:
        async with LambdaClient(
            "us-east-1",
            credentials=CREDENTIALS,
            transport=MockTransport(handler),
            max_response_size=32 * 1024 * 1024,
        ) as client:
            try:
                await client.get_alias("fn", "live")
            except ResponseParseError as error:
                return error
        raise AssertionError("no error")

    tracemalloc.start()
    try:
        error = asyncio.run(keep_the_error())
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.excerpt == b"<" + b"x" * 1023
    assert held < 2 * 1024 * 1024, f"{held:,} bytes still held with the error"


CHILD = textwrap.dedent(
    """
    import asyncio, resource, sys
    from lambdaclient import Credentials, LambdaClient, ResponseTooLargeError

    async def main():
        async with LambdaClient("us-east-1", endpoint_url=sys.argv[1], max_attempts=1,
                                credentials=Credentials("AKID", "secret")) as client:
            await client.get_alias("fn", "live")  # warm: imports, session, a first parse
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            try:
                await client.get_alias("fn", "live")
            except ResponseTooLargeError:
                pass
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print((after - before) * 1024)  # ru_maxrss is in KiB on Linux

    asyncio.run(main())
    """
)


@pytest.mark.serial
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
@pytest.mark.parametrize("body", ["declared-300MB", "endless-chunked"])
async def test_a_huge_body_does_not_grow_the_clients_memory_past_its_bound(
    raw: RawServers, body: str
) -> None:
    async def first_an_alias_then_huge(exchange: Exchange) -> None:
        if len(exchange.server.requests) == 1:
            await exchange.respond_json(200, ALIAS)
        else:
            await HUGE_BODIES[body](exchange)

    server = await raw(first_an_alias_then_huge)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        server.url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    growth = int(out)
    print(f"peak RSS growth for {body}: {growth:,} bytes")
    # The default max_response_size is 8 MiB: what is read stays near it (300 MB unbounded).
    assert growth < 32 * 1024 * 1024, f"peak RSS grew {growth:,} bytes"


async def test_the_total_timeout_of_a_streamed_invoke_ends_when_its_headers_arrive(
    guard: Guard, raw: RawServers
) -> None:
    async def slow_stream(exchange: Exchange) -> None:
        await exchange.send(head(200, {"X-Amz-Executed-Version": "1", "Content-Length": "2"}))
        await asyncio.sleep(0.6)
        await exchange.send(b"ok")

    server = await raw(slow_stream)
    async with (
        guard.client(server.url, total_timeout=0.3) as client,
        client.invoke_stream("fn") as response,
    ):
        # The body streams past the deadline: a stream is the caller's to bound.
        assert await response.read() == b"ok"


async def test_a_response_without_a_body_reads_as_empty_in_chunks(
    guard: Guard, raw: RawServers
) -> None:
    async def no_content(exchange: Exchange) -> None:
        await exchange.send(head(204, {"x-amzn-RequestId": REQUEST_ID}))

    server = await raw(no_content)
    async with guard.client(server.url) as client:
        await client.delete_alias("fn", "live")  # read in chunks: it has no Content-Length
        async with client.invoke_stream("fn", invocation_type=InvocationType.DRY_RUN) as response:
            assert [chunk async for chunk in response.iter_chunks()] == []
