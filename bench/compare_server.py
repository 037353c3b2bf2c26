"""The canned-response Lambda server that ``bench/compare.py`` measures clients against.

An HTTP/1.1 keep-alive server on 127.0.0.1, written as a raw asyncio protocol so that it costs
as little as possible; it runs in a process of its own, so its CPU time is never in a client's.
Requests are routed by method and path to responses built once at start-up, with the headers
Lambda sends (``x-amzn-RequestId``, ``Content-Type``, ``X-Amz-Executed-Version``, ...):

* ``GET  /2015-03-31/functions/{fn}/aliases/{name}``: GetAlias (a weighted alias);
* ``PUT  /2015-03-31/functions/{fn}/aliases/{name}``: UpdateAlias (the body is read, the
  answer is an alias with a routing config);
* ``GET  /2015-03-31/functions/{fn}/aliases[?Marker=...]``: ListAliases, 10,000 aliases in 200
  pages of 50 chained by ``NextMarker`` (all 200 page bodies precomputed);
* ``POST /2015-03-31/functions/bench-{size}/invocations``: Invoke, answered with ``size``
  bytes (a JSON document, built once per size) after the request body has been read; above
  8 MiB the body is generated as it is sent, in 1 MiB blocks under flow control, so the server
  never holds it;
* ``GET /bench/stats``: connections and requests since the last call (then reset), so the
  runner can check that sequential work used one connection and concurrent work 100.

Request bodies are consumed by their ``Content-Length`` (counted and dropped, never
buffered whole); ``Expect: 100-continue`` is answered.
"""

from __future__ import annotations

import asyncio
import json
from email.utils import formatdate
from multiprocessing.connection import Connection

__all__ = [
    "ALIAS",
    "ALIAS_COUNT",
    "FUNCTION",
    "FUNCTIONS",
    "PAGE_COUNT",
    "PAGE_SIZE",
    "STATS_PATH",
    "invoke_function",
    "serve",
]

MIB = 1 << 20
FUNCTIONS = "/2015-03-31/functions/"
FUNCTION = "bench-fn"
ALIAS = "live"
ALIAS_COUNT = 10_000
PAGE_SIZE = 50
PAGE_COUNT = ALIAS_COUNT // PAGE_SIZE
STATS_PATH = "/bench/stats"
ACCOUNT = "123456789012"
EXECUTED_VERSION = "2"
LARGEST_CANNED = 8 * MIB  # larger invoke responses are generated as they are sent
BLOCK = bytes(range(256)) * 4096  # 1 MiB: what a generated body is made of


def invoke_function(size: int) -> str:
    """The function whose invoke response is ``size`` bytes (the server reads the name)."""
    return f"bench-{size}"


def page_marker(index: int) -> str:
    """The ``Marker`` that asks for page ``index`` (the first page has none)."""
    return f"page-{index:04d}"


def _arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}:{name}"


def _alias(name: str, version: str, weights: dict[str, float] | None, revision: int) -> object:
    alias: dict[str, object] = {
        "AliasArn": _arn(name),
        "Name": name,
        "FunctionVersion": version,
        "Description": f"alias {name}",
    }
    if weights:
        alias["RoutingConfig"] = {"AdditionalVersionWeights": weights}
    alias["RevisionId"] = f"{revision:08x}-xmpl-4dc8-a069-d0c647e470c6"
    return alias


def _head(status: str, fields: dict[str, str]) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"HTTP/1.1 {status}\r\n{lines}\r\n".encode("latin-1")


def _request_id(tag: str) -> str:
    return f"{tag[:8]:0<8}-0000-4000-8000-000000000000"


def _json_response(
    status: str, document: object, tag: str, extra: dict[str, str] | None = None
) -> bytes:
    body = json.dumps(document, separators=(",", ":")).encode()
    fields = {
        "Date": formatdate(usegmt=True),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "keep-alive",
        "x-amzn-RequestId": _request_id(tag),
        **(extra or {}),
    }
    return _head(status, fields) + body


def _invoke_head(size: int, content_type: str) -> bytes:
    return _head(
        "200 OK",
        {
            "Date": formatdate(usegmt=True),
            "Content-Type": content_type,
            "Content-Length": str(size),
            "Connection": "keep-alive",
            "x-amzn-RequestId": _request_id("invoke"),
            "x-amzn-Remapped-Content-Length": "0",
            "X-Amz-Executed-Version": EXECUTED_VERSION,
            "X-Amzn-Trace-Id": "root=1-6650f1a2-0123456789abcdef01234567;sampled=0",
        },
    )


def invoke_document(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes (at least 12)."""
    return b'{"data":"' + b"x" * (size - 11) + b'"}'


class Streamed:
    """A response whose body is generated as it is sent: its head, then ``size`` bytes."""

    __slots__ = ("head", "size")

    def __init__(self, head: bytes, size: int) -> None:
        self.head = head
        self.size = size


Reply = bytes | Streamed


class Stats:
    """Connections and requests, reset each time they are read."""

    def __init__(self) -> None:
        self.open = 0
        self.peak_open = 0
        self.opened = 0
        self.requests = 0

    def connection_made(self) -> None:
        self.open += 1
        self.opened += 1
        self.peak_open = max(self.peak_open, self.open)

    def read_and_reset(self) -> dict[str, int]:
        stats = {
            "open": self.open,
            "peak_open": self.peak_open,
            "opened": self.opened,
            "requests": self.requests,
        }
        self.peak_open = self.open
        self.opened = 0
        self.requests = 0
        return stats


class Routes:
    """Every canned response, built once."""

    def __init__(self, stats: Stats) -> None:
        self._stats = stats
        self.get_alias = _json_response("200 OK", _alias(ALIAS, "1", {"2": 0.25}, 1), "getalias")
        self.update_alias = _json_response(
            "200 OK", _alias(ALIAS, "2", {"3": 0.1}, 2), "updatealias"
        )
        self.pages: list[bytes] = []
        for index in range(PAGE_COUNT):
            first = index * PAGE_SIZE
            aliases = [
                _alias(
                    f"alias-{n:05d}",
                    str(n % 7 + 1),
                    {str(n % 7 + 2): 0.05} if n % 4 == 0 else None,
                    n,
                )
                for n in range(first, first + PAGE_SIZE)
            ]
            page: dict[str, object] = {"Aliases": aliases}
            if index + 1 < PAGE_COUNT:
                page["NextMarker"] = page_marker(index + 1)
            self.pages.append(_json_response("200 OK", page, "listaliases"))
        self._invoke: dict[int, bytes] = {}
        self.not_found = _json_response(
            "404 Not Found",
            {"Type": "User", "Message": "Function not found: bench"},
            "notfound",
            {"x-amzn-ErrorType": "ResourceNotFoundException"},
        )
        self.bad_request = _json_response(
            "400 Bad Request",
            {"Type": "User", "message": "bad marker or size"},
            "badrequest",
            {"x-amzn-ErrorType": "InvalidParameterValueException"},
        )

    def invoke(self, size: int) -> Reply:
        if size > LARGEST_CANNED:
            return Streamed(_invoke_head(size, "application/octet-stream"), size)
        response = self._invoke.get(size)
        if response is None:
            response = _invoke_head(size, "application/json") + invoke_document(size)
            self._invoke[size] = response
        return response

    def list_page(self, query: str) -> Reply:
        index = 0
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == "Marker":
                if not value.startswith("page-") or not value[5:].isdigit():
                    return self.bad_request
                index = int(value[5:])
        return self.pages[index] if index < len(self.pages) else self.bad_request

    def route(self, method: str, target: str) -> Reply:
        path, _, query = target.partition("?")
        if path.startswith(FUNCTIONS):
            function, _, tail = path[len(FUNCTIONS) :].partition("/")
            if tail.startswith("aliases/"):
                if method == "GET":
                    return self.get_alias
                if method == "PUT":
                    return self.update_alias
            elif tail == "aliases" and method == "GET":
                return self.list_page(query)
            elif tail == "invocations" and method == "POST" and function.startswith("bench-"):
                size = function[6:]
                if size.isdigit() and int(size) >= 12:
                    return self.invoke(int(size))
                return self.bad_request
        elif path == STATS_PATH:
            return _json_response("200 OK", self._stats.read_and_reset(), "stats")
        return self.not_found


class BenchProtocol(asyncio.Protocol):
    """One keep-alive connection: requests in turn, each answered once its body is in."""

    def __init__(self, routes: Routes, stats: Stats) -> None:
        self._routes = routes
        self._stats = stats
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._discard = 0  # bytes of the current request's body still to come (and drop)
        self._reply: Reply | None = None  # sent once the current request's body is in
        self._streaming = 0  # bytes of a generated body still to send
        self._paused = False
        self._closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.set_write_buffer_limits(high=4 * MIB)
        self._transport = transport
        self._stats.connection_made()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._stats.open -= 1

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._streaming:
            self._pump()
            if not self._streaming:
                self._process()  # requests that came in while the body was being sent

    def data_received(self, data: bytes) -> None:
        if self._discard:
            if len(data) <= self._discard:
                self._discard -= len(data)
                if not self._discard:
                    self._send_reply()
                return
            data = data[self._discard :]
            self._discard = 0
            self._send_reply()
        self._buffer += data
        self._process()

    def _process(self) -> None:
        buffer = self._buffer
        while not (self._streaming or self._discard or self._closed):
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            request_line, *lines = buffer[:end].decode("latin-1").split("\r\n")
            del buffer[: end + 4]
            method, target, _ = request_line.split(" ", 2)
            length = 0
            for line in lines:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    # Not needed by any client measured here: refuse rather than misparse.
                    assert self._transport is not None
                    self._transport.write(_head("501 Not Implemented", {"Content-Length": "0"}))
                    self._transport.close()
                    return
                elif name == "expect" and value.strip().lower() == "100-continue":
                    assert self._transport is not None
                    self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._stats.requests += 1
            self._reply = self._routes.route(method, target)
            here = min(length, len(buffer))
            del buffer[:here]
            self._discard = length - here
            if not self._discard:
                self._send_reply()

    def _send_reply(self) -> None:
        reply, self._reply = self._reply, None
        assert self._transport is not None
        assert reply is not None
        if isinstance(reply, Streamed):
            self._transport.write(reply.head)
            self._streaming = reply.size
            self._pump()
        else:
            self._transport.write(reply)

    def _pump(self) -> None:
        transport = self._transport
        assert transport is not None
        block = memoryview(BLOCK)
        while self._streaming and not self._paused and not self._closed:
            size = min(self._streaming, len(BLOCK))
            transport.write(block[:size])
            self._streaming -= size


def serve(port_out: Connection) -> None:
    """Run the server (in this process) until terminated; its port is sent to ``port_out``."""

    async def main() -> None:
        stats = Stats()
        routes = Routes(stats)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: BenchProtocol(routes, stats), "127.0.0.1", 0, backlog=1024
        )
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())
