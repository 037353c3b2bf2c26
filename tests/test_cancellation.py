"""Cancellation at every await point of a call, over real sockets.

A call is cancelled (by ``task.cancel()``, or by an ``asyncio.timeout`` around it firing)
while it is connecting, queued for a pooled connection, sending its body, waiting for the
response's headers, reading the body, sleeping before a retry, and in the middle of a stream.
Each time: the caller sees the cancellation (CancelledError, or TimeoutError from its own
``asyncio.timeout``, never a lambdaclient error), the connection goes back (closed, since it
was mid-exchange), and nothing carries on in the background: the server sees no further
connection or request, and no retry is scheduled.

Where the call is parked is known from the server's side or aiohttp's public tracing hooks
(:class:`tests.test_faults.Phases`), not guessed from sleeps; a short sleep is used only to
let the call move from "just did X" to "awaiting Y", which needs no precise timing. The
after-every-case checks (pool empty, no pending task, nothing reported to the loop's
exception handler, warnings as errors) are those of ``tests/test_faults.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest

from lambdaclient import LambdaClient
from tests.test_faults import (
    CREDENTIALS,
    EVENTSTREAM_HEADERS,
    FIRST,
    REQUEST_ID,
    Exchange,
    FullBacklog,
    Guard,
    Phases,
    RawServers,
    acquired,
    chunk,
    guarded,
    head,
    raw_servers,
)

HOW = ["task.cancel", "asyncio.timeout"]
QUIET = 0.1  # how long to watch for anything carrying on after the cancellation
PAYLOAD_SIZE = 20 * 1024 * 1024


@pytest.fixture(autouse=True)
async def guard() -> AsyncIterator[Guard]:
    async with guarded() as checked:
        yield checked


@pytest.fixture
async def raw() -> AsyncIterator[RawServers]:
    async with raw_servers() as start:
        yield start


@pytest.fixture
def full_backlog() -> Iterator[FullBacklog]:
    with contextlib.closing(FullBacklog()) as listener:
        yield listener


Call = Callable[[LambdaClient], Awaitable[object]]


async def get_alias(client: LambdaClient) -> object:
    return await client.get_alias("fn", "live")


async def invoke(client: LambdaClient) -> object:
    return await client.invoke("fn", payload={"n": 1})


async def enter_response_stream(client: LambdaClient) -> object:
    async with client.invoke_with_response_stream("fn") as stream:
        return stream


CALLS: dict[str, Call] = {
    "get_alias": get_alias,
    "invoke": invoke,
    "invoke_with_response_stream": enter_response_stream,
}


@attrs.define
class Running:
    """A call running in a task of its own, to be cancelled one of the two ways.

    How many connections were acquired is noted the moment the task ends, in a done
    callback: a connection released only later, by a finaliser once the garbage is
    collected, would pass a check made after awaiting the task, but is not released by
    the call.
    """

    how: str
    session: aiohttp.ClientSession
    task: asyncio.Task[None] | None = None
    deadline: asyncio.Timeout | None = None
    held_by_others: int = 0  # connections other calls on the session hold meanwhile
    acquired_at_end: int | None = None

    def start(self, call: Callable[[], Awaitable[object]]) -> Running:
        async def run() -> None:
            if self.how == "asyncio.timeout":
                async with asyncio.timeout(None) as self.deadline:
                    await call()
            else:
                await call()

        self.task = asyncio.create_task(run())
        self.task.add_done_callback(self._ended)
        return self

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.acquired_at_end = acquired(self.session)

    async def reach(self, phase: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Wait for the call to get to ``phase``; fail at once if it ended instead."""
        assert self.task is not None
        waiter = asyncio.create_task(phase())
        done, _ = await asyncio.wait({waiter, self.task}, timeout=5, return_when="FIRST_COMPLETED")
        if waiter not in done:
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
            if self.task.done():
                self.task.result()  # raises what ended the call
            raise AssertionError("the call never reached the phase")
        await waiter
        assert not self.task.done()

    async def cancel(self) -> None:
        """Cancel the call and check that the caller sees exactly that."""
        task = self.task
        assert task is not None
        if self.how == "task.cancel":
            task.cancel()
        else:
            assert self.deadline is not None
            self.deadline.reschedule(asyncio.get_running_loop().time())
        # Bounded: a call that swallowed its cancellation (to retry, say) would never end.
        await asyncio.wait({task}, timeout=5)
        assert task.done(), "the call swallowed its cancellation and carried on"
        if self.how == "task.cancel":
            assert task.cancelled()
        else:
            # asyncio.timeout's own TimeoutError, not a RequestTimeoutError from the client.
            assert type(task.exception()) is TimeoutError
        assert self.acquired_at_end == self.held_by_others


async def nothing_carries_on(guard: Guard, *counts: Callable[[], int]) -> None:
    """The pool has the connection back, and for a while nothing more happens."""
    assert acquired(guard.session) == 0
    before = [count() for count in counts]
    phases = guard.phases
    started = (phases.connects_started, phases.requests_started)
    await asyncio.sleep(QUIET)
    assert [count() for count in counts] == before
    assert (phases.connects_started, phases.requests_started) == started
    assert acquired(guard.session) == 0


# --- connecting ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("call", ["get_alias", "invoke"])
async def test_cancelled_while_connecting(
    guard: Guard, full_backlog: FullBacklog, how: str, call: str
) -> None:
    phases = guard.phases
    async with guard.client(full_backlog.url, connect_timeout=30) as client:
        running = Running(how, guard.session).start(lambda: CALLS[call](client))

        async def connecting() -> None:
            await phases.until(lambda: phases.connects_started == 1)
            await asyncio.sleep(0.05)  # from the hook into the socket's connect

        await running.reach(connecting)
        assert phases.connects_made == 0  # still connecting: the SYN went unanswered
        assert acquired(guard.session) == 1  # the slot held while connecting
        await running.cancel()
        await nothing_carries_on(guard)

    assert (phases.connects_started, phases.connects_made) == (1, 0)
    assert guard.sleeps.delays == []


@pytest.mark.parametrize("how", HOW)
async def test_cancelled_while_queued_for_a_pooled_connection(
    raw: RawServers,
    how: str,
) -> None:
    """With the pool at its limit a call waits for a connection; cancelled there, it must
    leave the queue, and the connection it waited for must serve the next call."""

    async def behaviour(exchange: Exchange) -> None:
        await exchange.server.release.wait()
        await exchange.respond_json(200, {"StatusCode": 200})

    server = await raw(behaviour)
    phases = Phases()
    connector = aiohttp.TCPConnector(limit=1)
    async with (
        aiohttp.ClientSession(connector=connector, trace_configs=[phases.config()]) as session,
        LambdaClient(
            "us-east-1", endpoint_url=server.url, credentials=CREDENTIALS, session=session
        ) as client,
    ):
        holder = asyncio.create_task(invoke(client))
        await server.until(lambda: len(server.requests) == 1)
        running = Running(how, session, held_by_others=1).start(lambda: invoke(client))

        async def queued() -> None:
            await phases.until(lambda: phases.queued == 1)

        await running.reach(queued)
        await running.cancel()
        assert acquired(session) == 1  # the holder's, and only that
        server.release.set()
        await holder
        await invoke(client)  # the freed connection is reused, not lost to the cancelled call
        assert acquired(session) == 0

    assert (len(server.requests), server.connections) == (2, 1)


# --- sending ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOW)
async def test_cancelled_while_sending_a_large_body(
    guard: Guard,
    raw: RawServers,
    tmp_path: Path,
    how: str,
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        # The request line and headers were read; the body is left unread until the test has
        # cancelled, so the client's writes fill both kernels' buffers and then block.
        await exchange.server.release.wait()
        await exchange.until_client_closes()

    server = await raw(behaviour, read_body=False, receive_buffer=64 * 1024)
    path = tmp_path / "payload.bin"
    path.write_bytes(bytes(range(256)) * (PAYLOAD_SIZE // 256))
    phases = guard.phases
    with path.open("rb") as payload:
        async with guard.client(server.url) as client:
            running = Running(how, guard.session).start(
                lambda: client.invoke("fn", payload=payload)
            )

            async def blocked_in_write() -> None:
                await server.until(lambda: len(server.requests) == 1)
                await phases.until(lambda: phases.bytes_sent > 0)
                while True:  # until the writes stop making progress
                    sent = phases.bytes_sent
                    await asyncio.sleep(0.1)
                    if phases.bytes_sent == sent:
                        return

            await running.reach(blocked_in_write)
            assert phases.bytes_sent < PAYLOAD_SIZE
            await running.cancel()
            assert acquired(guard.session) == 0
            server.release.set()
            await server.until(lambda: server.client_closed == 1)
            await nothing_carries_on(guard, lambda: len(server.requests))

    assert (len(server.requests), server.connections) == (1, 1)
    assert guard.sleeps.delays == []


# --- waiting for the headers, reading the body ----------------------------------------------


async def never_answer(exchange: Exchange) -> None:
    await exchange.until_client_closes()


async def answer_part_of_the_body(exchange: Exchange) -> None:
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": REQUEST_ID}
    await exchange.respond(200, b'{"AliasArn": "arn:', headers, content_length=10_000)
    await exchange.until_client_closes()


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("call", sorted(CALLS))
async def test_cancelled_while_waiting_for_the_headers(
    guard: Guard,
    raw: RawServers,
    how: str,
    call: str,
) -> None:
    server = await raw(never_answer)
    async with guard.client(server.url) as client:
        running = Running(how, guard.session).start(lambda: CALLS[call](client))

        async def request_arrived() -> None:
            await server.until(lambda: len(server.requests) == 1)

        await running.reach(request_arrived)
        assert guard.phases.headers_received == 0
        await running.cancel()
        assert acquired(guard.session) == 0
        await server.until(lambda: server.client_closed == 1)
        await nothing_carries_on(guard, lambda: len(server.requests), lambda: server.connections)

    assert (len(server.requests), server.connections) == (1, 1)
    assert guard.sleeps.delays == []  # get_alias is a read, retried after failures: not this


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("call", ["get_alias", "invoke"])
async def test_cancelled_while_reading_the_body(
    guard: Guard,
    raw: RawServers,
    how: str,
    call: str,
) -> None:
    server = await raw(answer_part_of_the_body)
    phases = guard.phases
    async with guard.client(server.url) as client:
        running = Running(how, guard.session).start(lambda: CALLS[call](client))

        async def reading_the_body() -> None:
            await phases.until(lambda: phases.headers_received == 1)
            await asyncio.sleep(0.05)  # from the hook into the read of the body

        await running.reach(reading_the_body)
        await running.cancel()
        assert acquired(guard.session) == 0
        await server.until(lambda: server.client_closed == 1)
        await nothing_carries_on(guard, lambda: len(server.requests), lambda: server.connections)

    assert (len(server.requests), server.connections) == (1, 1)
    assert guard.sleeps.delays == []


# --- sleeping before a retry --------------------------------------------------------------


@attrs.define
class Gate:
    """The client's ``_sleep`` seam: records the wait, then waits until cancelled."""

    delays: list[float] = attrs.Factory(list)
    sleeping: asyncio.Event = attrs.Factory(asyncio.Event)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.sleeping.set()
        await asyncio.get_running_loop().create_future()


async def unavailable(exchange: Exchange) -> None:
    page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    await exchange.respond(503, page, {"Content-Type": "text/html"})


SLEEPY_CALLS: dict[str, Call] = {
    "get_alias": get_alias,
    "invoke-idempotent": lambda client: client.invoke("fn", idempotent=True),
}


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("call", sorted(SLEEPY_CALLS))
async def test_cancelled_while_sleeping_before_a_retry(
    guard: Guard,
    raw: RawServers,
    how: str,
    call: str,
) -> None:
    server = await raw(unavailable)
    gate = Gate()
    async with guard.client(server.url, sleep=gate) as client:
        running = Running(how, guard.session).start(lambda: SLEEPY_CALLS[call](client))

        async def sleeping() -> None:
            await gate.sleeping.wait()

        await running.reach(sleeping)
        await running.cancel()
        await nothing_carries_on(guard, lambda: len(server.requests), lambda: server.connections)

    assert len(gate.delays) == 1
    assert len(server.requests) == 1  # the retry it was waiting to make never went out


# --- mid-stream -----------------------------------------------------------------------------


async def first_chunk_then_wait(exchange: Exchange) -> None:
    headers = {"x-amzn-RequestId": REQUEST_ID, "Transfer-Encoding": "chunked"}
    await exchange.send(head(200, headers) + chunk(b"first"))
    await exchange.until_client_closes()


async def first_event_then_wait(exchange: Exchange) -> None:
    headers = {**EVENTSTREAM_HEADERS, "Transfer-Encoding": "chunked"}
    await exchange.send(head(200, headers) + chunk(FIRST))
    await exchange.until_client_closes()


@attrs.define
class Consumer:
    """Reads a stream, signalling at its first chunk; keeps what it read."""

    chunks: list[bytes] = attrs.Factory(list)
    first: asyncio.Event = attrs.Factory(asyncio.Event)

    def got(self, data: bytes) -> None:
        self.chunks.append(data)
        self.first.set()

    async def invoke_stream(self, client: LambdaClient) -> None:
        async with client.invoke_stream("fn") as response:
            async for data in response.iter_chunks():
                self.got(data)

    async def invoke_with_response_stream(self, client: LambdaClient) -> None:
        async with client.invoke_with_response_stream("fn") as stream:
            async for data in stream:
                self.got(data)


STREAMS: dict[str, Callable[[Exchange], Awaitable[None]]] = {
    "invoke_stream": first_chunk_then_wait,
    "invoke_with_response_stream": first_event_then_wait,
}


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("kind", sorted(STREAMS))
async def test_cancelled_mid_stream(
    guard: Guard,
    raw: RawServers,
    how: str,
    kind: str,
) -> None:
    server = await raw(STREAMS[kind])
    consumer = Consumer()
    read: Callable[[LambdaClient], Awaitable[None]] = getattr(consumer, kind)
    async with guard.client(server.url) as client:
        running = Running(how, guard.session).start(lambda: read(client))

        async def after_the_first_chunk() -> None:
            await consumer.first.wait()
            await asyncio.sleep(0.05)  # from the loop body back into the wait for the next

        await running.reach(after_the_first_chunk)
        await running.cancel()
        assert acquired(guard.session) == 0
        await server.until(lambda: server.client_closed == 1)
        await nothing_carries_on(guard, lambda: len(server.requests), lambda: server.connections)

    assert consumer.chunks == [b"first"]
    assert (len(server.requests), server.connections) == (1, 1)
