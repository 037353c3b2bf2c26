"""Streamed invocations over real sockets: an aiohttp server on 127.0.0.1, in the test's loop,
checks every signature with botocore and answers with event-stream frames written in pieces,
cut short, corrupted or stalled; the client must give the events, raise the right error and
release its connection however the block is left. Where the test needs the body in exact
pieces, a MockTransport hands them over as they are."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from lambdaclient import (
    Credentials,
    EventStreamError,
    IncompleteStreamError,
    InvocationType,
    InvokeComplete,
    LambdaClient,
    LambdaError,
    RequestTimeoutError,
    ResourceNotFoundError,
    ResponseStream,
    ServiceError,
    TransportError,
)
from lambdaclient._eventstream import (
    exception_event,
    invoke_complete_event,
    payload_chunk_event,
)
from lambdaclient.testing import MockTransport
from lambdaclient.transport import Request, Response
from tests.oracle import Received, signing_server

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok+/=")
ENDPOINT = "https://lambda.us-east-1.amazonaws.com"
STREAM_PATH = "/2021-11-15/functions/my-fn/response-streaming-invocations"
EVENTSTREAM = "application/vnd.amazon.eventstream"
STREAM_HEADERS = {
    "Content-Type": EVENTSTREAM,
    "X-Amz-Executed-Version": "7",
    "x-amzn-RequestId": "req-1",
}
LOG = "START RequestId: req-1\nEND ✓\n"
CHUNKS = [b"hello, ", b"streamed \x00\xff world"]
STREAM = b"".join(map(payload_chunk_event, CHUNKS)) + invoke_complete_event(log_result=LOG)


Handler = Callable[[web.Request, Received], Awaitable[web.StreamResponse]]


@attrs.define
class Server:
    """Checks signatures, records requests, and answers with whatever ``handler`` returns."""

    url: str = ""
    handler: Handler | None = None
    received: list[Received] = attrs.Factory(list)
    runs: int = 0  # requests that reached the branch where the function "runs"
    disconnected: asyncio.Event = attrs.Factory(asyncio.Event)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def answer(request: web.Request, received: Received) -> web.StreamResponse:
        assert state.handler is not None
        return await state.handler(request, received)

    async with signing_server(CREDENTIALS, answer, state.received) as url:
        state.url = url
        yield state
    await asyncio.sleep(0)
    leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert leftovers == []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session of the test's own, so that its connector can be inspected."""
    async with aiohttp.ClientSession() as own:
        yield own


def acquired(session: aiohttp.ClientSession) -> int:
    """Connections the pool has handed out and not had back. aiohttp has no public count;
    ``BaseConnector._acquired`` is the set it keeps them in."""
    assert session.connector is not None
    return len(session.connector._acquired)


class Pieces:
    """A response body that yields ``pieces`` as its chunks, as a transport would hand them
    over, and records those the client took."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.taken: list[bytes] = []

    async def read(self) -> bytes:
        return b"".join([piece async for piece in self])

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pieces:
            piece = self.pieces.pop(0)
            self.taken.append(piece)
            yield piece

    async def aclose(self) -> None:
        self.pieces = []


def client_for(server: Server, **settings: Any) -> LambdaClient:
    settings.setdefault("credentials", CREDENTIALS)
    settings.setdefault("sleep", no_sleep)
    return LambdaClient("us-east-1", endpoint_url=server.url, **settings)


async def no_sleep(seconds: float) -> None:
    """Retries without waiting."""


async def respond_in_pieces(
    request: web.Request,
    pieces: list[bytes],
    *,
    headers: dict[str, str] | None = None,
    end: bool = True,
) -> web.StreamResponse:
    """Each piece goes out as its own HTTP chunk, which aiohttp's client gives as its own
    chunk too: the split reaches the decoder whatever TCP does."""
    response = web.StreamResponse(headers=STREAM_HEADERS if headers is None else headers)
    await response.prepare(request)
    for piece in pieces:
        await response.write(piece)
    if end:
        await response.write_eof()
    return response


async def until_disconnected(request: web.Request, server: Server) -> None:
    """Wait (at most 5 s) for the client to drop the connection, and record that it did."""
    async with asyncio.timeout(5):
        # aiohttp 3.14's server has no event for a lost connection, so it is polled.
        while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    server.disconnected.set()


async def read_stream(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


@attrs.define
class Reader:
    """Reads a response stream to its end or its error, keeping what arrived before."""

    chunks: list[bytes] = attrs.Factory(list)
    stream: ResponseStream | None = None

    async def read(self, client: LambdaClient) -> None:
        async with client.invoke_with_response_stream("my-fn") as stream:
            self.stream = stream
            async for chunk in stream:
                self.chunks.append(chunk)


# --- invoke_with_response_stream --------------------------------------------------------------


async def test_a_stream_split_at_every_byte_offset_gives_the_same_events() -> None:
    bodies: list[Pieces] = []

    def handler(request: Request) -> Response:
        assert (request.method, request.url) == ("POST", f"{ENDPOINT}{STREAM_PATH}?Qualifier=live")
        assert isinstance(request.body, bytes)  # as MockTransport gives it
        offset = int(request.body)
        bodies.append(Pieces([STREAM[:offset], STREAM[offset:]]))
        return Response(200, STREAM_HEADERS, bodies[-1])

    async with LambdaClient(
        "us-east-1", credentials=CREDENTIALS, transport=MockTransport(handler)
    ) as client:
        for offset in range(1, len(STREAM)):
            async with client.invoke_with_response_stream(
                "my-fn", payload=str(offset), qualifier="live"
            ) as stream:
                assert await read_stream(stream) == CHUNKS, offset
                assert stream.complete == InvokeComplete(None, None, LOG)
                assert stream.executed_version == "7"
                assert stream.request_id == "req-1"
                assert stream.content_type == EVENTSTREAM
            # The client read the body in the two pieces it came in, split at the offset.
            assert bodies[-1].taken == [STREAM[:offset], STREAM[offset:]]

    assert len(bodies) == len(STREAM) - 1


async def test_a_function_error_mid_stream_is_in_complete(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await respond_in_pieces(
            request,
            [
                payload_chunk_event(b"partial"),
                invoke_complete_event("Unhandled", '{"errorType":"Boom"}', "boom log"),
            ],
        )

    server.handler = handler
    async with (
        client_for(server) as client,
        client.invoke_with_response_stream("my-fn") as stream,
    ):
        assert await read_stream(stream) == [b"partial"]

    assert stream.complete == InvokeComplete("Unhandled", '{"errorType":"Boom"}', "boom log")


async def test_a_corrupted_checksum_mid_stream_is_an_event_stream_error(server: Server) -> None:
    corrupted = bytearray(payload_chunk_event(b"second"))
    corrupted[-5] ^= 0x01  # the payload's last byte

    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await respond_in_pieces(
            request, [payload_chunk_event(b"first"), bytes(corrupted), invoke_complete_event()]
        )

    server.handler = handler
    reader = Reader()
    async with client_for(server) as client:
        with pytest.raises(EventStreamError) as caught:
            await reader.read(client)

    assert reader.chunks == [b"first"]
    assert caught.value.code == "ChecksumMismatch"
    assert reader.stream is not None
    assert reader.stream.complete is None


async def test_an_exception_frame_mid_stream_is_an_event_stream_error_with_its_code(
    server: Server,
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await respond_in_pieces(
            request,
            [
                payload_chunk_event(b"first"),
                exception_event("ServiceException", "Lambda failed mid-stream"),
            ],
        )

    server.handler = handler
    reader = Reader()
    async with client_for(server) as client:
        with pytest.raises(EventStreamError) as caught:
            await reader.read(client)

    assert reader.chunks == [b"first"]
    assert (caught.value.code, caught.value.message) == (
        "ServiceException",
        "Lambda failed mid-stream",
    )
    assert reader.stream is not None
    assert reader.stream.complete is None


@pytest.mark.parametrize("cut", ["close", "abort", "close-with-content-length"])
async def test_a_connection_cut_mid_frame_is_a_transport_error(server: Server, cut: str) -> None:
    """The cut shows in the HTTP framing before the event stream can see it: the chunked
    body lacks its last chunk (or the body is short of its Content-Length), so aiohttp raises
    ``ClientPayloadError``, which arrives as :class:`TransportError`, not as
    :class:`IncompleteStreamError`; either way the stream never looks complete."""
    second = payload_chunk_event(b"second")
    sent = payload_chunk_event(b"first") + second[: len(second) // 2]

    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        headers = dict(STREAM_HEADERS)
        if cut == "close-with-content-length":
            headers["Content-Length"] = str(len(STREAM) + 100)
        response = await respond_in_pieces(request, [sent], headers=headers, end=False)
        assert request.transport is not None
        if cut == "abort":
            request.transport.abort()
        else:
            request.transport.close()
        return response

    server.handler = handler
    reader = Reader()
    async with client_for(server) as client:
        with pytest.raises(LambdaError) as caught:
            await reader.read(client)

    assert reader.chunks == [b"first"]
    assert type(caught.value) is TransportError
    assert "ClientPayloadError" in str(caught.value)
    assert reader.stream is not None
    assert reader.stream.complete is None
    assert len(server.received) == 1  # a stream that has begun is never retried


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (payload_chunk_event(b"first"), "ended before InvokeComplete"),
        (payload_chunk_event(b"first") + STREAM[:20], "ended in the middle of a frame"),
    ],
)
async def test_a_stream_that_ends_without_invoke_complete_is_incomplete(
    server: Server, body: bytes, where: str
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await respond_in_pieces(request, [body])  # a clean end of the HTTP body

    server.handler = handler
    reader = Reader()
    async with client_for(server) as client:
        with pytest.raises(IncompleteStreamError, match=where):
            await reader.read(client)

    assert reader.chunks == [b"first"]
    assert reader.stream is not None
    assert reader.stream.complete is None


async def test_an_error_before_streaming_raises_at_async_with(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return web.json_response(
            {"Type": "User", "Message": "Function not found: my-fn"},
            status=404,
            headers={"x-amzn-ErrorType": "ResourceNotFoundException", "x-amzn-RequestId": "r-9"},
        )

    server.handler = handler
    entered = False
    async with client_for(server) as client:
        with pytest.raises(ResourceNotFoundError) as caught:
            async with client.invoke_with_response_stream("my-fn"):
                entered = True

    assert not entered
    assert (caught.value.status, caught.value.message, caught.value.request_id) == (
        404,
        "Function not found: my-fn",
        "r-9",
    )
    assert len(server.received) == 1


async def test_a_throttled_stream_is_retried_before_it_begins(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        if len(server.received) == 1:
            return web.json_response(
                {"Reason": "ConcurrentInvocationLimitExceeded", "message": "Rate exceeded"},
                status=429,
                headers={"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "0"},
            )
        server.runs += 1
        return await respond_in_pieces(request, [STREAM])

    server.handler = handler
    async with (
        client_for(server) as client,
        client.invoke_with_response_stream("my-fn") as stream,
    ):
        assert await read_stream(stream) == CHUNKS

    assert (len(server.received), server.runs) == (2, 1)


async def test_dry_run_yields_nothing(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        assert received.headers["X-Amz-Invocation-Type"] == "DryRun"
        return web.Response(status=204, headers={"x-amzn-RequestId": "dry"})

    server.handler = handler
    async with (
        client_for(server) as client,
        client.invoke_with_response_stream("my-fn", invocation_type=InvocationType.DRY_RUN) as s,
    ):
        assert await read_stream(s) == []

    assert (s.status_code, s.complete, s.request_id) == (204, None, "dry")


# --- Leaving early releases the connection ----------------------------------------------------


async def stream_then_stall(request: web.Request, server: Server) -> web.StreamResponse:
    """One chunk, then nothing until the client goes away."""
    response = await respond_in_pieces(request, [payload_chunk_event(b"first")], end=False)
    await until_disconnected(request, server)
    return response


async def test_breaking_out_of_a_stream_releases_the_connection(
    server: Server, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await stream_then_stall(request, server)

    server.handler = handler
    async with client_for(server, session=session) as client:
        async with client.invoke_with_response_stream("my-fn") as stream:
            async for chunk in stream:
                assert chunk == b"first"
                assert acquired(session) == 1
                break
        assert acquired(session) == 0
        await asyncio.wait_for(server.disconnected.wait(), 5)
        assert stream.complete is None


async def test_an_exception_in_the_block_releases_the_connection_and_propagates(
    server: Server, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await stream_then_stall(request, server)

    server.handler = handler

    async def fail_in_the_block(client: LambdaClient) -> None:
        async with client.invoke_with_response_stream("my-fn") as stream:
            assert await anext(stream) == b"first"
            raise ZeroDivisionError

    async with client_for(server, session=session) as client:
        with pytest.raises(ZeroDivisionError):
            await fail_in_the_block(client)
        assert acquired(session) == 0
        await asyncio.wait_for(server.disconnected.wait(), 5)


async def test_cancelling_a_task_waiting_for_the_next_chunk_releases_the_connection(
    server: Server, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await stream_then_stall(request, server)

    server.handler = handler
    first = asyncio.Event()

    async def consume(client: LambdaClient) -> None:
        async with client.invoke_with_response_stream("my-fn") as stream:
            assert await anext(stream) == b"first"
            first.set()
            await anext(stream)  # the server sends nothing more

    async with client_for(server, session=session) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(first.wait(), 5)
        await asyncio.sleep(0.05)  # let it block on the next chunk
        assert acquired(session) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert acquired(session) == 0
        await asyncio.wait_for(server.disconnected.wait(), 5)


# --- invoke_stream ----------------------------------------------------------------------------

BIG = 8 * 1024 * 1024
PIECE = 64 * 1024


def big_body_pieces() -> Iterator[bytes]:
    for index in range(BIG // PIECE):
        yield index.to_bytes(4, "big") * (PIECE // 4)


async def test_invoke_stream_gives_headers_before_the_body_then_streams_it(
    server: Server,
) -> None:
    body_may_start = asyncio.Event()
    log = "START\nERROR boom ✓\nEND\n"

    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "X-Amz-Executed-Version": "3",
                "X-Amz-Function-Error": "Unhandled",
                "X-Amz-Log-Result": base64.b64encode(log.encode()).decode(),
                "x-amzn-RequestId": "req-big",
            }
        )
        response.content_length = BIG
        await response.prepare(request)
        async with asyncio.timeout(5):
            await body_may_start.wait()
        for piece in big_body_pieces():
            await response.write(piece)
        await response.write_eof()
        return response

    server.handler = handler
    expected = hashlib.sha256()
    for piece in big_body_pieces():
        expected.update(piece)
    digest = hashlib.sha256()
    total = largest = count = 0
    async with (
        client_for(server) as client,
        client.invoke_stream("my-fn", qualifier="live") as response,
    ):
        # The server is holding its body back until these have been checked.
        assert (response.status_code, response.executed_version) == (200, "3")
        assert (response.function_error, response.log_result) == ("Unhandled", log)
        assert response.request_id == "req-big"
        body_may_start.set()
        async for chunk in response.iter_chunks():
            digest.update(chunk)
            total += len(chunk)
            largest = max(largest, len(chunk))
            count += 1

    assert total == BIG
    assert digest.digest() == expected.digest()
    assert largest <= 1024 * 1024 < BIG  # never held whole: chunks as they arrived
    assert count >= 8
    assert server.received[0].raw_path == "/2015-03-31/functions/my-fn/invocations?Qualifier=live"


async def test_leaving_invoke_stream_early_releases_the_connection(
    server: Server, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = BIG
        await response.prepare(request)
        try:
            for piece in big_body_pieces():
                await response.write(piece)
                await asyncio.sleep(0.001)
        except ConnectionResetError:
            server.disconnected.set()
            return response
        raise AssertionError("the whole body was sent")

    server.handler = handler
    async with client_for(server, session=session) as client:
        async with client.invoke_stream("my-fn") as response:
            async for chunk in response.iter_chunks():
                assert chunk
                break
        assert acquired(session) == 0
        await asyncio.wait_for(server.disconnected.wait(), 5)


async def test_a_stalled_invoke_stream_read_times_out(
    server: Server, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b"x" * 10)
        await until_disconnected(request, server)
        return response

    server.handler = handler
    got: list[bytes] = []
    loop = asyncio.get_running_loop()
    started = 0.0

    async def read(client: LambdaClient) -> None:
        nonlocal started
        async with client.invoke_stream("my-fn", read_timeout=0.2) as response:
            started = loop.time()
            async for chunk in response.iter_chunks():
                got.append(chunk)

    async with client_for(server, session=session) as client:
        with pytest.raises(RequestTimeoutError):
            await read(client)
        waited = loop.time() - started
        assert acquired(session) == 0
        await asyncio.wait_for(server.disconnected.wait(), 5)

    assert got == [b"x" * 10]
    assert 0.15 <= waited < 5
    assert len(server.received) == 1


async def test_a_timeout_error_from_the_callers_block_propagates_unchanged(
    server: Server,
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return await respond_in_pieces(request, [b"payload"], headers={})

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(TimeoutError, match="the caller's own"):
            async with client.invoke_stream("my-fn"):
                raise TimeoutError("the caller's own")


# --- invoke's retries over real sockets -------------------------------------------------------


def throttled() -> web.Response:
    return web.json_response(
        {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate exceeded"},
        status=429,
        headers={"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "0"},
    )


def bad_gateway() -> web.Response:
    return web.json_response(
        {"Type": "Service", "Message": "EC2 is unhappy"},
        status=502,
        headers={"x-amzn-ErrorType": "EC2UnexpectedException"},
    )


async def test_a_throttled_invoke_is_retried_and_the_function_runs_once(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        if len(server.received) == 1:
            return throttled()
        server.runs += 1
        return web.json_response({"ok": True})

    server.handler = handler
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    async with client_for(server, sleep=record_sleep) as client:
        result = await client.invoke("my-fn", payload={"n": 1})

    assert result.json() == {"ok": True}
    assert (len(server.received), server.runs) == (2, 1)
    assert slept == [0.0]  # Retry-After: 0
    assert [json.loads(r.body) for r in server.received] == [{"n": 1}, {"n": 1}]


async def test_a_502_on_invoke_is_not_retried_by_default(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        return bad_gateway()

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(ServiceError) as caught:
            await client.invoke("my-fn")

    assert (caught.value.status, caught.value.code) == (502, "EC2UnexpectedException")
    assert len(server.received) == 1


async def test_a_502_on_an_idempotent_invoke_is_retried(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        if len(server.received) == 1:
            return bad_gateway()
        server.runs += 1
        return web.Response(body=b"done")

    server.handler = handler
    async with client_for(server) as client:
        result = await client.invoke("my-fn", idempotent=True)

    assert result.payload == b"done"
    assert (len(server.received), server.runs) == (2, 1)


async def test_a_read_timeout_on_invoke_is_not_retried_by_default(server: Server) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        server.runs += 1
        await until_disconnected(request, server)  # the function outlives the client's patience
        return web.Response(body=b"too late")

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(RequestTimeoutError):
            await client.invoke("my-fn", read_timeout=0.2)
        await asyncio.wait_for(server.disconnected.wait(), 5)

    assert (len(server.received), server.runs) == (1, 1)


async def test_cancelling_while_waiting_for_the_headers_releases_the_connection(
    server: Server, session: aiohttp.ClientSession
) -> None:
    arrived = asyncio.Event()

    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        arrived.set()
        await until_disconnected(request, server)
        return web.Response(status=204)

    server.handler = handler

    async def enter(client: LambdaClient) -> None:
        async with client.invoke_with_response_stream("my-fn"):
            raise AssertionError("the headers never came")

    async with client_for(server, session=session) as client:
        task = asyncio.create_task(enter(client))
        await asyncio.wait_for(arrived.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert acquired(session) == 0
        await asyncio.wait_for(server.disconnected.wait(), 5)


async def test_a_stream_is_complete_at_invoke_complete_even_if_the_body_lingers(
    server: Server,
) -> None:
    async def handler(request: web.Request, received: Received) -> web.StreamResponse:
        response = await respond_in_pieces(request, [STREAM], end=False)
        await until_disconnected(request, server)
        return response

    server.handler = handler
    reader = Reader()
    async with client_for(server, read_timeout=0.2) as client:
        await reader.read(client)

    assert reader.chunks == CHUNKS
    assert reader.stream is not None
    assert reader.stream.complete == InvokeComplete(None, None, LOG)
