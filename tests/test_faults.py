"""The fault suite: every way a server or the network can fail a call, over real sockets.

LocalLambda's fault injection covers throttling and server errors (its execution count shows
whether an invocation ran, and how often); faults it cannot make (a refused, reset, truncated
or stalled connection, bodies that are not what AWS sends, broken event streams) come from
:class:`RawServer`, a bare HTTP/1.1 server on 127.0.0.1 written byte by byte.

After every case :func:`guarded` checks that nothing leaked: no connection is still acquired
from the pool, no task is left pending, nothing reached the loop's exception handler, and,
since the suite runs with warnings as errors, no "Unclosed ..." ResourceWarning was raised.
``tests/test_cancellation.py`` uses the same helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs
import pytest

from lambdaclient import (
    ConnectError,
    ConnectTimeoutError,
    Credentials,
    EventStreamError,
    FunctionError,
    IncompleteStreamError,
    LambdaClient,
    LambdaError,
    RequestTimeoutError,
    ResponseParseError,
    ServiceError,
    ServiceException,
    TooManyRequestsError,
    TransportError,
)
from lambdaclient._eventstream import invoke_complete_event, payload_chunk_event
from lambdaclient.testing import LocalLambda, ServerError, Throttle

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
POOL_LIMIT = 8
REQUEST_ID = "req-fault"
ALIAS = {
    "AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:fn:live",
    "Name": "live",
    "FunctionVersion": "1",
    "Description": "",
    "RevisionId": "rev-1",
}
EVENTSTREAM_HEADERS = {
    "Content-Type": "application/vnd.amazon.eventstream",
    "X-Amz-Executed-Version": "1",
    "x-amzn-RequestId": REQUEST_ID,
}


# --- the after-every-case checks --------------------------------------------------------------


def acquired(session: aiohttp.ClientSession) -> int:
    """Connections handed out by the pool and not given back (including one being made).
    aiohttp has no public count; ``BaseConnector._acquired`` is the set it keeps them in."""
    assert session.connector is not None
    return len(session.connector._acquired)


@attrs.define
class Phases:
    """What the client's session did, from aiohttp's public tracing hooks: enough to tell
    which await a call is parked at, without patching anything."""

    connects_started: int = 0
    connects_made: int = 0
    queued: int = 0  # waits for a free connection when the pool is at its limit
    requests_started: int = 0
    headers_received: int = 0
    bytes_sent: int = 0
    changed: asyncio.Event = attrs.Factory(asyncio.Event)

    def config(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()

        async def connect_start(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceConnectionCreateStartParams,
        ) -> None:
            self.connects_started += 1
            self.changed.set()

        async def connect_end(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceConnectionCreateEndParams,
        ) -> None:
            self.connects_made += 1
            self.changed.set()

        async def queued_start(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceConnectionQueuedStartParams,
        ) -> None:
            self.queued += 1
            self.changed.set()

        async def request_start(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            self.requests_started += 1
            self.changed.set()

        async def chunk_sent(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestChunkSentParams,
        ) -> None:
            self.bytes_sent += len(params.chunk)
            self.changed.set()

        async def request_end(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            # Sent once the status line and headers are in, before the body is read.
            self.headers_received += 1
            self.changed.set()

        config.on_connection_create_start.append(connect_start)
        config.on_connection_create_end.append(connect_end)
        config.on_connection_queued_start.append(queued_start)
        config.on_request_start.append(request_start)
        config.on_request_chunk_sent.append(chunk_sent)
        config.on_request_end.append(request_end)
        return config

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        await wait_until(self.changed, predicate, within)


async def wait_until(changed: asyncio.Event, predicate: Callable[[], bool], within: float) -> None:
    """Wait (at most ``within`` seconds) for ``predicate`` to hold, re-checking it each time
    ``changed`` is set."""
    async with asyncio.timeout(within):
        while not predicate():
            changed.clear()
            await changed.wait()


@attrs.define
class Sleeps:
    """The client's ``_sleep`` seam: records each wait before a retry and returns at once."""

    delays: list[float] = attrs.Factory(list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@attrs.define
class Guard:
    """One test's session (whose pool is checked afterwards) and what the client did."""

    session: aiohttp.ClientSession
    phases: Phases
    sleeps: Sleeps = attrs.Factory(Sleeps)

    def assert_released(self) -> None:
        """Every connection is back in the pool (or closed) now, as the call returns: not
        later, when a finaliser gets round to it."""
        assert acquired(self.session) == 0, "the call returned holding a connection"

    def client(
        self, endpoint_url: str, *, credentials: Credentials = CREDENTIALS, **settings: Any
    ) -> LambdaClient:
        settings.setdefault("sleep", self.sleeps)
        return LambdaClient(
            "us-east-1",
            endpoint_url=endpoint_url,
            credentials=credentials,
            session=self.session,
            **settings,
        )


async def pending_tasks(before: set[asyncio.Task[Any]], settle: float = 1.0) -> list[str]:
    """Tasks started since ``before`` that are still running after up to ``settle`` seconds
    (closed connections and cancelled writers need a few loop iterations to finish)."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    deadline = loop.time() + settle
    while True:
        left = [t for t in asyncio.all_tasks() if t is not me and t not in before and not t.done()]
        if not left or loop.time() >= deadline:
            return [repr(t) for t in left]
        await asyncio.sleep(0.01)


@asynccontextmanager
async def guarded() -> AsyncIterator[Guard]:
    """Give a test its own session, then check that the test left nothing behind.

    Used by an autouse fixture, which pytest sets up before (and tears down after) the
    server fixtures, so by the time these checks run every server has stopped and its
    tasks are gone: whatever is left is the client's.
    """
    loop = asyncio.get_running_loop()
    before = asyncio.all_tasks()
    reported: list[dict[str, Any]] = []
    previous_handler = loop.get_exception_handler()
    # "Task exception was never retrieved", "Unclosed client session" and the like go to
    # the loop's exception handler, which only logs them by default.
    loop.set_exception_handler(lambda _, context: reported.append(context))
    phases = Phases()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOL_LIMIT), trace_configs=[phases.config()]
    )
    # The client turns off aiohttp's own resend of a GET/PUT/DELETE on a dropped connection
    # in this session too, so that only its retry policy decides what is resent (see
    # test_a_caller_session_never_resends_a_write_on_a_dropped_connection).
    # What exists now is set aside from the collection at the end, which then looks only at
    # what this test made: a few ms rather than a full collection's tens, for every case.
    gc.freeze()
    try:
        yield Guard(session, phases)
        assert acquired(session) == 0, "a connection was left acquired from the pool"
    finally:
        await session.close()
        left = await pending_tasks(before)
        # Finalisers run now, inside this test, so an unclosed transport or session warns here.
        gc.collect()
        gc.unfreeze()
        await asyncio.sleep(0)
        loop.set_exception_handler(previous_handler)
    assert left == [], f"tasks left pending: {left}"
    assert reported == [], f"reported to the loop's exception handler: {reported}"


@pytest.fixture(autouse=True)
async def guard() -> AsyncIterator[Guard]:
    async with guarded() as checked:
        yield checked


# --- servers ----------------------------------------------------------------------------------


@attrs.frozen
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@attrs.define
class Exchange:
    """One request on one connection of a :class:`RawServer`, and ways to answer it."""

    server: RawServer
    request: RawRequest
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def respond(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        content_length: int | None = None,
    ) -> None:
        """A status line, headers with a Content-Length (``content_length`` if given, to
        promise more than is sent) and ``body``."""
        length = len(body) if content_length is None else content_length
        all_headers = {**(headers or {}), "Content-Length": str(length)}
        await self.send(head(status, all_headers) + body)

    async def respond_json(self, status: int, data: object, **headers: str) -> None:
        await self.respond(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", "x-amzn-RequestId": REQUEST_ID, **headers},
        )

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed peer would."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close(self) -> None:
        """Close the connection cleanly (FIN) after what was written."""
        self.writer.close()
        await self.writer.wait_closed()

    async def until_client_closes(self) -> None:
        """Read (and discard) until the client closes the connection; record that it did."""
        try:
            while await self.reader.read(1 << 16):
                pass
        except ConnectionError:
            pass
        self.server.client_closed += 1
        self.server.changed.set()

    async def stall(self) -> None:
        """Answer nothing more, ever: only notice when the client gives up and closes."""
        await self.until_client_closes()


Behaviour = Callable[[Exchange], Awaitable[None]]


def head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a ``Transfer-Encoding: chunked`` body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


LAST_CHUNK = b"0\r\n\r\n"


class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 that hands each request to ``behaviour`` to answer,
    byte by byte. It counts connections, requests and connections the client closed, and
    keeps a connection open for the next request while the behaviour leaves it so.

    ``read_body=False`` leaves the request body unread (a server that has stopped reading);
    ``receive_buffer`` shrinks the kernel's buffer so that a client writing to such a server
    blocks soon, rather than after the tens of MB loopback autotuning allows.
    """

    def __init__(
        self, behaviour: Behaviour, *, read_body: bool = True, receive_buffer: int | None = None
    ) -> None:
        self.behaviour = behaviour
        self.read_body = read_body
        self.receive_buffer = receive_buffer
        self.connections = 0
        self.requests: list[RawRequest] = []
        self.client_closed = 0
        self.errors: list[BaseException] = []
        self.changed = asyncio.Event()
        self.release = asyncio.Event()  # for behaviours that wait for the test's word
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.url = ""

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.receive_buffer is not None:
            # Set on the listener, so accepted sockets inherit it (and skip autotuning).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        sock.bind(("127.0.0.1", 0))
        self._server = await asyncio.start_server(self._serve, sock=sock)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self.errors:
            raise self.errors[0]

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        await wait_until(self.changed, predicate, within)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.changed.set()
        try:
            while not writer.is_closing():
                request = await self._read_request(reader)
                if request is None:
                    break
                self.requests.append(request)
                self.changed.set()
                await self.behaviour(Exchange(self, request, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: what several faults are about
        except asyncio.CancelledError:
            # Stopped by stop(). Ended rather than left cancelled: Python 3.11's start_server
            # calls exception() on a connection's finished task, which raises for a cancelled
            # one and would reach the loop's exception handler.
            pass
        except Exception as exc:  # a failed assertion in a behaviour: the test sees it at stop
            self.errors.append(exc)
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _read_request(self, reader: asyncio.StreamReader) -> RawRequest | None:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None  # the client closed an idle kept-alive connection
        request_line, *lines = raw.decode("latin-1").rstrip("\r\n").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if self.read_body:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        return RawRequest(method, target, headers, body)


RawServers = Callable[..., Awaitable[RawServer]]


@asynccontextmanager
async def raw_servers() -> AsyncIterator[RawServers]:
    """Start raw servers: ``await start(behaviour, **options)``; all stop at the end."""
    servers: list[RawServer] = []

    async def start(behaviour: Behaviour, **options: Any) -> RawServer:
        server = RawServer(behaviour, **options)
        await server.start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.release.set()
            await server.stop()


@pytest.fixture
async def raw() -> AsyncIterator[RawServers]:
    async with raw_servers() as start:
        yield start


def echo(event: Any, context: Any) -> Any:
    return {"event": event}


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda() as server:
        server.add_function("fn", echo)
        yield server


def lam_client(guard: Guard, lam: LocalLambda, **settings: Any) -> LambdaClient:
    return guard.client(lam.endpoint_url, credentials=lam.credentials, **settings)


def free_port() -> int:
    """A port that was free a moment ago and has no listener."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FullBacklog:
    """A listener whose accept queue is full and never drained: the kernel drops further
    SYNs, so a client's connect hangs, for real, until it gives up or is cancelled."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._fillers: list[socket.socket] = []
        for _ in range(4):  # a backlog of 0 still queues one or two connections
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # in progress, or hung: either will do
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)

    def close(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._listener.close()


@pytest.fixture
def full_backlog() -> Iterator[FullBacklog]:
    with contextlib.closing(FullBacklog()) as listener:
        yield listener


# --- operations -------------------------------------------------------------------------------

Operation = Callable[[LambdaClient], Awaitable[object]]


async def get_alias(client: LambdaClient) -> object:
    return await client.get_alias("fn", "live")


async def list_aliases(client: LambdaClient) -> object:
    return [alias async for alias in client.list_aliases("fn")]


async def list_versions(client: LambdaClient) -> object:
    return [version async for version in client.list_versions_by_function("fn")]


async def get_configuration(client: LambdaClient) -> object:
    return await client.get_function_configuration("fn")


async def publish_version(client: LambdaClient) -> object:
    return await client.publish_version("fn")


async def update_alias(client: LambdaClient) -> object:
    return await client.update_alias("fn", "live", function_version="2")


async def invoke(client: LambdaClient) -> object:
    return await client.invoke("fn", payload={"n": 1})


async def delete_alias(client: LambdaClient) -> object:
    await client.delete_alias("fn", "live")
    return None


READS: dict[str, Operation] = {"get_alias": get_alias, "list_aliases": list_aliases}
WRITES: dict[str, Operation] = {"update_alias": update_alias, "delete_alias": delete_alias}
# Reads are retried after a lost connection; writes, invoke included, are not.
ATTEMPTS = {"get_alias": 3, "list_aliases": 3, "update_alias": 1, "invoke": 1}
ANY_OPERATION: dict[str, Operation] = {**READS, "update_alias": update_alias, "invoke": invoke}


# --- throttling -------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["get_alias", "invoke"])
async def test_a_429_with_retry_after_waits_as_told_then_succeeds(
    guard: Guard, lam: LocalLambda, operation: str
) -> None:
    async with lam_client(guard, lam) as client:
        await client.create_alias("fn", "live", function_version="$LATEST")
        lam.inject("GetAlias" if operation == "get_alias" else "Invoke", Throttle(2), times=2)
        await ANY_OPERATION[operation](client)

    assert guard.sleeps.delays == [2.0, 2.0]  # Retry-After, not the client's own backoff
    if operation == "invoke":
        assert lam.executions("fn", "$LATEST") == 1  # a throttled invocation never ran


async def test_a_retry_after_beyond_the_cap_waits_only_the_cap(
    guard: Guard, lam: LocalLambda
) -> None:
    lam.inject("ListAliases", Throttle(3600))
    async with lam_client(guard, lam) as client:
        assert await list_aliases(client) == []
    assert guard.sleeps.delays == [20.0]


async def test_a_429_without_retry_after_backs_off_with_full_jitter(
    guard: Guard, raw: RawServers
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        if len(exchange.server.requests) <= 3:
            await exchange.respond_json(
                429,
                {"Reason": "CallerRateLimitExceeded", "message": "Rate exceeded"},
                **{"x-amzn-ErrorType": "TooManyRequestsException"},
            )
        else:
            await exchange.respond_json(200, ALIAS)

    server = await raw(behaviour)
    draws = iter([0.0, 0.5, 0.999])
    async with guard.client(server.url, max_attempts=4, jitter=lambda: next(draws)) as client:
        assert (await client.get_alias("fn", "live")).name == "live"

    # Full jitter: a uniform draw times min(2 ** (attempt - 1), 20) seconds.
    assert guard.sleeps.delays == pytest.approx([0.0, 0.5 * 2, 0.999 * 4])
    assert len(server.requests) == 4


async def test_a_retry_after_that_is_not_a_number_falls_back_to_backoff(
    guard: Guard, raw: RawServers
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        await exchange.respond_json(
            429,
            {"Reason": 5, "retryAfterSeconds": ["soon"], "message": {"not": "a string"}},
            **{
                "x-amzn-ErrorType": "TooManyRequestsException",
                "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT",  # an HTTP-date
            },
        )

    server = await raw(behaviour)
    async with guard.client(server.url, jitter=lambda: 0.5) as client:
        with pytest.raises(TooManyRequestsError) as caught:
            await get_alias(client)
        guard.assert_released()

    error = caught.value
    assert (error.status, error.request_id, error.retry_after_seconds, error.reason) == (
        429,
        REQUEST_ID,
        None,
        None,
    )
    assert guard.sleeps.delays == [0.5, 1.0]
    assert len(server.requests) == 3


async def test_a_429_beyond_max_attempts_is_too_many_requests(
    guard: Guard, lam: LocalLambda
) -> None:
    async with lam_client(guard, lam) as client:
        lam.inject("Invoke", Throttle(1, "ConcurrentInvocationLimitExceeded"), times=3)
        with pytest.raises(TooManyRequestsError) as caught:
            await invoke(client)
        guard.assert_released()
        assert lam.executions("fn", "$LATEST") == 0
        # Exactly three attempts met the three faults: the next call finds none left.
        await invoke(client)

    error = caught.value
    assert (error.code, error.status) == ("TooManyRequestsException", 429)
    assert (error.retry_after_seconds, error.reason) == (1.0, "ConcurrentInvocationLimitExceeded")
    assert error.request_id is not None
    assert guard.sleeps.delays == [1.0, 1.0]
    assert lam.executions("fn", "$LATEST") == 1


# --- server errors ----------------------------------------------------------------------------

# The status, an error code Lambda (or what stands in front of it) sends with it, and the type
# the caller catches: ServiceException for 500, otherwise a ServiceError with the status.
SERVER_ERRORS = {
    500: ("ServiceException", ServiceException),
    502: ("EC2UnexpectedException", ServiceError),
    503: ("ServiceUnavailable", ServiceError),
}
OPERATION_OF = {"get_alias": "GetAlias", "list_aliases": "ListAliases"}


@pytest.mark.parametrize("status", sorted(SERVER_ERRORS))
@pytest.mark.parametrize("operation", sorted(READS))
async def test_a_5xx_on_a_read_is_retried_then_succeeds(
    guard: Guard, lam: LocalLambda, operation: str, status: int
) -> None:
    code, _ = SERVER_ERRORS[status]
    async with lam_client(guard, lam) as client:
        await client.create_alias("fn", "live", function_version="$LATEST")
        lam.inject(OPERATION_OF[operation], ServerError(status, code), times=2)
        await READS[operation](client)
    assert len(guard.sleeps.delays) == 2


@pytest.mark.parametrize("status", sorted(SERVER_ERRORS))
@pytest.mark.parametrize("operation", sorted(READS))
async def test_a_5xx_on_a_read_beyond_the_attempts_is_a_typed_error(
    guard: Guard, lam: LocalLambda, operation: str, status: int
) -> None:
    code, error_type = SERVER_ERRORS[status]
    async with lam_client(guard, lam) as client:
        await client.create_alias("fn", "live", function_version="$LATEST")
        lam.inject(OPERATION_OF[operation], ServerError(status, code), times=3)
        with pytest.raises(ServiceError) as caught:
            await READS[operation](client)
        guard.assert_released()
        await READS[operation](client)  # all three faults were spent by three attempts

    assert type(caught.value) is error_type
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.request_id is not None
    assert len(guard.sleeps.delays) == 2


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_proxy_error_page_is_a_service_error_with_its_status(
    guard: Guard, raw: RawServers, status: int
) -> None:
    """What a load balancer in front of the endpoint sends: HTML, no AWS error code."""

    async def behaviour(exchange: Exchange) -> None:
        page = f"<html><body><h1>{status}</h1></body></html>".encode()
        await exchange.respond(status, page, {"Content-Type": "text/html"})

    server = await raw(behaviour)
    async with guard.client(server.url) as client:
        with pytest.raises(ServiceError) as caught:
            await get_alias(client)
        guard.assert_released()

    assert type(caught.value) is ServiceError
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        status,
        str(status),
        None,
    )
    assert len(server.requests) == 3


@pytest.mark.parametrize("after_execution", [False, True])
@pytest.mark.parametrize("status", sorted(SERVER_ERRORS))
async def test_a_5xx_on_invoke_is_not_retried_and_the_function_ran_at_most_once(
    guard: Guard, lam: LocalLambda, status: int, after_execution: bool
) -> None:
    code, error_type = SERVER_ERRORS[status]
    lam.inject("Invoke", ServerError(status, code, after_execution=after_execution))
    async with lam_client(guard, lam) as client:
        with pytest.raises(ServiceError) as caught:
            await invoke(client)
        guard.assert_released()
        ran = lam.executions("fn", "$LATEST")
        # A retry would have met no fault (one was queued) and succeeded; the next call does.
        await invoke(client)

    assert type(caught.value) is error_type
    assert caught.value.status == status
    assert guard.sleeps.delays == []
    assert ran == (1 if after_execution else 0)
    assert lam.executions("fn", "$LATEST") == ran + 1


async def test_a_5xx_before_a_response_stream_is_not_retried(
    guard: Guard, lam: LocalLambda
) -> None:
    lam.inject("InvokeWithResponseStream", ServerError(503, "ServiceUnavailable"))
    entered = False
    async with lam_client(guard, lam) as client:
        with pytest.raises(ServiceError) as caught:
            async with client.invoke_with_response_stream("fn"):
                entered = True
        guard.assert_released()

    assert not entered
    assert caught.value.status == 503
    assert guard.sleeps.delays == []


async def test_idempotent_invoke_is_retried_after_a_5xx_and_may_run_twice(
    guard: Guard, lam: LocalLambda
) -> None:
    """The contrast: the caller said running twice is harmless, so it is retried."""
    lam.inject("Invoke", ServerError(502, "EC2UnexpectedException", after_execution=True))
    async with lam_client(guard, lam) as client:
        await client.invoke("fn", idempotent=True)
    assert lam.executions("fn", "$LATEST") == 2
    assert len(guard.sleeps.delays) == 1


# --- connections ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["get_alias", "invoke"])
async def test_a_refused_connection_is_a_connect_error_after_the_attempts(
    guard: Guard, operation: str
) -> None:
    async with guard.client(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(ConnectError) as caught:
            await ANY_OPERATION[operation](client)
        guard.assert_released()

    assert not isinstance(caught.value, ConnectTimeoutError)
    # Nothing was sent, so even an invocation is retried.
    assert len(guard.sleeps.delays) == 2
    assert guard.phases.connects_started == 3
    assert guard.phases.connects_made == 0


async def test_a_connect_that_hangs_is_a_connect_timeout_within_the_timeout(
    guard: Guard, full_backlog: FullBacklog
) -> None:
    loop = asyncio.get_running_loop()
    async with guard.client(full_backlog.url, connect_timeout=0.2, max_attempts=1) as client:
        started = loop.time()
        with pytest.raises(ConnectTimeoutError):
            await invoke(client)
        guard.assert_released()
        elapsed = loop.time() - started
    assert 0.2 <= elapsed < 2.0


async def cut_before_the_response_rst(exchange: Exchange) -> None:
    exchange.reset()


async def cut_before_the_response_fin(exchange: Exchange) -> None:
    await exchange.close()


async def cut_in_the_body_rst(exchange: Exchange) -> None:
    await exchange.respond(
        200, b'{"AliasArn": "arn:', {"x-amzn-RequestId": REQUEST_ID}, content_length=500
    )
    exchange.reset()


async def truncated_body(exchange: Exchange) -> None:
    """Fewer bytes than the Content-Length promised, then a clean close."""
    await exchange.respond(
        200, b'{"AliasArn": "arn:', {"x-amzn-RequestId": REQUEST_ID}, content_length=500
    )
    await exchange.close()


async def truncated_chunked_body(exchange: Exchange) -> None:
    """A chunked body that stops in the middle of a chunk, then a clean close."""
    headers = {"Transfer-Encoding": "chunked", "x-amzn-RequestId": REQUEST_ID}
    await exchange.send(head(200, headers) + chunk(b'{"AliasArn": ') + b"40\r\n" + b'"arn:')
    await exchange.close()


CUTS: dict[str, Behaviour] = {
    "reset-before-the-response": cut_before_the_response_rst,
    "closed-before-the-response": cut_before_the_response_fin,
    "reset-in-the-body": cut_in_the_body_rst,
    "truncated-body": truncated_body,
    "truncated-chunked-body": truncated_chunked_body,
}


@pytest.mark.parametrize("operation", sorted(ANY_OPERATION))
@pytest.mark.parametrize("cut", sorted(CUTS))
async def test_a_connection_lost_before_or_during_the_response_is_a_transport_error(
    guard: Guard, raw: RawServers, cut: str, operation: str
) -> None:
    server = await raw(CUTS[cut])
    async with guard.client(server.url) as client:
        with pytest.raises(LambdaError) as caught:
            await ANY_OPERATION[operation](client)
        guard.assert_released()

    # A TransportError, never a ConnectError: the request went out, so a write may have been
    # applied, and ConnectError would tell the retry policy it is safe to send it again.
    assert type(caught.value) is TransportError
    assert len(server.requests) == ATTEMPTS[operation]


async def enter_invoke_stream(client: LambdaClient) -> object:
    async with client.invoke_stream("fn") as response:
        return response


async def enter_response_stream(client: LambdaClient) -> object:
    async with client.invoke_with_response_stream("fn") as stream:
        return stream


@pytest.mark.parametrize(
    "operation", [enter_invoke_stream, enter_response_stream, get_alias, invoke]
)
async def test_an_error_response_cut_short_is_a_transport_error(
    guard: Guard, raw: RawServers, operation: Operation
) -> None:
    """The error body is read before the error is raised (streamed calls too): when that
    read fails, the connection must still go back at once."""

    async def behaviour(exchange: Exchange) -> None:
        body = b'{"message": "Service unavai'
        headers = {"x-amzn-ErrorType": "ServiceException", "x-amzn-RequestId": REQUEST_ID}
        await exchange.respond(500, body, headers, content_length=500)
        await exchange.close()

    server = await raw(behaviour)
    async with guard.client(server.url) as client:
        with pytest.raises(LambdaError) as caught:
            await operation(client)
        guard.assert_released()

    assert type(caught.value) is TransportError
    assert len(server.requests) == (3 if operation is get_alias else 1)


async def test_the_clients_own_session_sends_a_dropped_write_once(raw: RawServers) -> None:
    """With the session the client makes itself, a dropped PUT goes out once."""

    async def behaviour(exchange: Exchange) -> None:
        exchange.reset()

    server = await raw(behaviour)
    async with LambdaClient("us-east-1", endpoint_url=server.url, credentials=CREDENTIALS) as c:
        with pytest.raises(TransportError):
            await update_alias(c)
    assert len(server.requests) == 1


@pytest.mark.parametrize("operation", ["update_alias", "delete_alias"])
async def test_a_caller_session_never_resends_a_write_on_a_dropped_connection(
    raw: RawServers, operation: str
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        exchange.reset()  # after reading the request: the server may have applied it

    server = await raw(behaviour)
    connector = aiohttp.TCPConnector(limit=POOL_LIMIT)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        LambdaClient(
            "us-east-1", endpoint_url=server.url, credentials=CREDENTIALS, session=session
        ) as client,
    ):
        with pytest.raises(TransportError):
            await WRITES[operation](client)
        assert len(connector._acquired) == 0
    assert len(server.requests) == 1  # aiohttp would have sent the write again by itself


async def test_a_caller_session_that_raises_for_status_still_gives_typed_errors(
    raw: RawServers,
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        await exchange.respond_json(
            404,
            {"Message": "Function not found"},
            **{"x-amzn-ErrorType": "ResourceNotFoundException"},
        )

    server = await raw(behaviour)
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        LambdaClient(
            "us-east-1",
            endpoint_url=server.url,
            credentials=CREDENTIALS,
            session=session,
            sleep=Sleeps(),
        ) as client,
    ):
        with pytest.raises(ServiceError) as caught:
            await get_alias(client)
    assert caught.value.status == 404
    assert len(server.requests) == 1


# --- bodies that are not what AWS sends -------------------------------------------------------

NOT_JSON = [b"<html><body>200 OK</body></html>", b"", b'{"AliasArn": "trunc', b"\xff\xfe\x00"]
VALID_ALIAS = json.dumps(ALIAS).encode()
WRONG_SHAPES: dict[str, list[object]] = {
    "get_alias": [
        [],
        "live",
        None,
        {},
        {**ALIAS, "AliasArn": 5},
        {k: v for k, v in ALIAS.items() if k != "RevisionId"},
        {**ALIAS, "RoutingConfig": {"AdditionalVersionWeights": [0.5]}},
        {**ALIAS, "RoutingConfig": {"AdditionalVersionWeights": {"2": "0.5"}}},
        {**ALIAS, "RoutingConfig": "none"},
    ],
    "list_aliases": [
        [],
        {"Aliases": {}},
        {"Aliases": [1]},
        {"Aliases": [{"Name": "live"}]},
        {"Aliases": [ALIAS], "NextMarker": 7},
    ],
    "list_versions": [
        {"Versions": "all"},
        {"Versions": [None]},
        {"Versions": [{"Timeout": "3"}]},
        {"Versions": [], "NextMarker": ["m"]},
    ],
    "get_configuration": [
        [],
        "fn",
        {"Timeout": "3"},
        {"Version": 2},
        {"MemorySize": 1.5},
        {"DeadLetterConfig": "arn:aws:sqs:us-east-1:123456789012:q"},
        {"DeadLetterConfig": {"TargetArn": 5}},
    ],
}
WRONG_SHAPES["publish_version"] = WRONG_SHAPES["get_configuration"]
PARSED: dict[str, tuple[Operation, int]] = {
    "get_alias": (get_alias, 200),
    "list_aliases": (list_aliases, 200),
    "list_versions": (list_versions, 200),
    "get_configuration": (get_configuration, 200),
    "publish_version": (publish_version, 201),
}
BAD_BODIES = [
    pytest.param(operation, body, id=f"{operation}-{index}")
    for operation in sorted(PARSED)
    for index, body in enumerate(
        [*NOT_JSON, *(json.dumps(shape).encode() for shape in WRONG_SHAPES[operation])]
    )
]


@pytest.mark.parametrize(("operation", "body"), BAD_BODIES)
async def test_a_body_that_is_not_what_aws_sends_is_a_response_parse_error(
    guard: Guard, raw: RawServers, operation: str, body: bytes
) -> None:
    call, status = PARSED[operation]

    async def behaviour(exchange: Exchange) -> None:
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": REQUEST_ID}
        await exchange.respond(status, body, headers)

    server = await raw(behaviour)
    async with guard.client(server.url) as client:
        with pytest.raises(LambdaError) as caught:
            await call(client)
        guard.assert_released()

    assert type(caught.value) is ResponseParseError  # never a KeyError or TypeError
    assert (caught.value.status, caught.value.request_id) == (status, REQUEST_ID)
    assert len(server.requests) == 1  # the same server would send the same body again


INVOKE_ERROR_BODIES = [
    *NOT_JSON,
    b"[1, 2]",
    b'"an error"',
    b"null",
    b'{"message": {"nested": true}, "code": ["x"], "__type": 5}',
    b'{"Type": null, "Message": 42}',
    b"[" * 100_000,  # nesting deep enough to overflow a recursive parser
]


@pytest.mark.parametrize("status", [404, 429, 502])
@pytest.mark.parametrize("body", INVOKE_ERROR_BODIES)
async def test_invokes_error_responses_in_any_shape_are_service_errors(
    guard: Guard, raw: RawServers, status: int, body: bytes
) -> None:
    """An error response's body only adds detail to the status, so a body that is not
    AWS's JSON still gives a ServiceError with the status and request id, never a KeyError,
    a TypeError, or a ResponseParseError that would hide the status from the retry policy."""

    async def behaviour(exchange: Exchange) -> None:
        await exchange.respond(status, body, {"x-amzn-RequestId": REQUEST_ID})

    server = await raw(behaviour)
    async with guard.client(server.url, max_attempts=1) as client:
        with pytest.raises(LambdaError) as caught:
            await invoke(client)
        guard.assert_released()

    assert isinstance(caught.value, ServiceError)
    assert (caught.value.status, caught.value.request_id) == (status, REQUEST_ID)
    assert caught.value.code == str(status)
    assert len(server.requests) == 1


@pytest.mark.parametrize("payload", INVOKE_ERROR_BODIES)
async def test_a_function_error_payload_in_any_shape_is_a_function_error(
    guard: Guard, raw: RawServers, payload: bytes
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        headers = {
            "X-Amz-Function-Error": "Unhandled",
            "X-Amz-Executed-Version": "3",
            "x-amzn-RequestId": REQUEST_ID,
        }
        await exchange.respond(200, payload, headers)

    server = await raw(behaviour)
    async with guard.client(server.url) as client:
        result = await client.invoke("fn")

    assert (result.function_error, result.request_id) == ("Unhandled", REQUEST_ID)
    with pytest.raises(LambdaError) as caught:
        result.raise_for_function_error()
    assert type(caught.value) is FunctionError
    assert caught.value.executed_version == "3"


# --- a stalled server -------------------------------------------------------------------------


async def stall_before_the_response(exchange: Exchange) -> None:
    await exchange.stall()


async def stall_in_the_body(exchange: Exchange) -> None:
    await exchange.respond(
        200, b'{"AliasArn": ', {"x-amzn-RequestId": REQUEST_ID}, content_length=500
    )
    await exchange.stall()


STALLS: dict[str, Behaviour] = {
    "before-the-response": stall_before_the_response,
    "in-the-body": stall_in_the_body,
}


@pytest.mark.parametrize("stall", sorted(STALLS))
@pytest.mark.parametrize("operation", ["get_alias", "invoke"])
async def test_a_stalled_server_is_a_request_timeout_within_the_read_timeout(
    guard: Guard, raw: RawServers, stall: str, operation: str
) -> None:
    server = await raw(STALLS[stall])
    loop = asyncio.get_running_loop()
    async with guard.client(server.url, read_timeout=0.2, max_attempts=1) as client:
        started = loop.time()
        with pytest.raises(RequestTimeoutError) as caught:
            await ANY_OPERATION[operation](client)
        guard.assert_released()
        elapsed = loop.time() - started

    assert not isinstance(caught.value, ConnectError)
    assert 0.2 <= elapsed < 1.5
    assert len(server.requests) == 1
    await server.until(lambda: server.client_closed == 1)  # it gave up on the connection


@pytest.mark.parametrize("operation", ["get_alias", "invoke"])
async def test_a_read_timeout_is_retried_on_reads_only(
    guard: Guard, raw: RawServers, operation: str
) -> None:
    server = await raw(stall_before_the_response)
    loop = asyncio.get_running_loop()
    async with guard.client(server.url, read_timeout=0.2, max_attempts=2) as client:
        started = loop.time()
        with pytest.raises(RequestTimeoutError):
            await ANY_OPERATION[operation](client)
        guard.assert_released()
        elapsed = loop.time() - started

    attempts = 2 if operation == "get_alias" else 1  # an invocation may be running
    assert len(server.requests) == attempts
    assert 0.2 * attempts <= elapsed < 0.2 * attempts + 1.5


# --- broken streams ---------------------------------------------------------------------------

FIRST = payload_chunk_event(b"first")
SECOND = payload_chunk_event(b"second")


def stream_then(ending: str) -> Behaviour:
    """A chunked event stream: one whole frame, half of the next, then ``ending``."""

    async def behaviour(exchange: Exchange) -> None:
        headers = {**EVENTSTREAM_HEADERS, "Transfer-Encoding": "chunked"}
        await exchange.send(head(200, headers) + chunk(FIRST) + chunk(SECOND[:10]))
        if ending == "clean-end-of-body":
            await exchange.send(LAST_CHUNK)
            await exchange.until_client_closes()
        elif ending == "close":
            await exchange.close()
        else:
            exchange.reset()

    return behaviour


@attrs.define
class StreamReader:
    """Reads a response stream to its end or its error, keeping what arrived before."""

    chunks: list[bytes] = attrs.Factory(list)
    complete: object = "never read"

    async def read(self, client: LambdaClient, **options: Any) -> None:
        async with client.invoke_with_response_stream("fn", **options) as stream:
            try:
                async for data in stream:
                    self.chunks.append(data)
            finally:
                self.complete = stream.complete


@pytest.mark.parametrize("ending", ["clean-end-of-body", "close", "reset"])
async def test_an_event_stream_cut_mid_frame_never_looks_complete(
    guard: Guard, raw: RawServers, ending: str
) -> None:
    server = await raw(stream_then(ending))
    reader = StreamReader()
    async with guard.client(server.url) as client:
        with pytest.raises(LambdaError) as caught:
            await reader.read(client, idempotent=True)
        guard.assert_released()

    # A clean end of the HTTP body leaves the decoder mid-frame: IncompleteStreamError; a cut
    # connection shows in the HTTP framing first: TransportError. Both are documented.
    expected = IncompleteStreamError if ending == "clean-end-of-body" else TransportError
    assert type(caught.value) is expected
    assert reader.chunks == [b"first"]
    assert reader.complete is None
    assert len(server.requests) == 1  # a stream that has begun is never retried, even so


@pytest.mark.parametrize("where", ["prelude", "message"])
async def test_an_event_stream_frame_with_a_bad_checksum_is_an_event_stream_error(
    guard: Guard, raw: RawServers, where: str
) -> None:
    corrupted = bytearray(SECOND)
    corrupted[4 if where == "prelude" else -5] ^= 0x01  # a length byte, or the payload's last

    async def behaviour(exchange: Exchange) -> None:
        body = FIRST + bytes(corrupted) + invoke_complete_event()
        await exchange.respond(200, body, EVENTSTREAM_HEADERS)

    server = await raw(behaviour)
    reader = StreamReader()
    async with guard.client(server.url) as client:
        with pytest.raises(EventStreamError) as caught:
            await reader.read(client)
        guard.assert_released()

    assert type(caught.value) is EventStreamError
    assert caught.value.code == "ChecksumMismatch"
    assert reader.chunks == [b"first"]
    assert reader.complete is None


@pytest.mark.parametrize("ending", ["close", "reset"])
async def test_an_invoke_stream_body_cut_short_is_a_transport_error(
    guard: Guard, raw: RawServers, ending: str
) -> None:
    async def behaviour(exchange: Exchange) -> None:
        await exchange.respond(
            200, b"x" * 1000, {"x-amzn-RequestId": REQUEST_ID}, content_length=5000
        )
        if ending == "close":
            await exchange.close()
        else:
            exchange.reset()

    server = await raw(behaviour)
    received = bytearray()

    async def read(client: LambdaClient) -> None:
        async with client.invoke_stream("fn") as response:
            async for data in response.iter_chunks():
                received.extend(data)

    async with guard.client(server.url) as client:
        with pytest.raises(LambdaError) as caught:
            await read(client)
        guard.assert_released()

    assert type(caught.value) is TransportError
    assert len(received) < 5000
    assert len(server.requests) == 1
