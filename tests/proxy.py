"""A small HTTP proxy on 127.0.0.1 for tests: it forwards plain HTTP requests (absolute-form
request lines) and tunnels ``CONNECT``, and records what it forwarded.

Each forwarded request gets a connection of its own (it is sent on with ``Connection:
close``), so every request the client sends through the proxy is counted once. It forwards
only to loopback addresses (an IP literal, never a name to resolve; see :func:`is_loopback`):
any other target is answered 502 and not forwarded, so that no test reaches another machine
through it."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlsplit

import attrs


@attrs.define
class Forwarded:
    """One request the proxy forwarded: ``method`` (``CONNECT`` for a tunnel), ``target``
    (``host:port``) and the ``Proxy-Authorization`` header it came with, if any."""

    method: str
    target: str
    authorization: str | None


@attrs.define
class Proxy:
    """A running proxy: its ``url`` and what it ``forwarded``. ``refuse`` makes it answer
    every request with that status instead (407, say) and forward nothing. ``remote`` holds
    loopback addresses it refuses as it refuses other machines': a test of the refusal can
    aim at one of them, so that a client that bypassed the proxy would still stay on this
    machine."""

    url: str = ""
    forwarded: list[Forwarded] = attrs.Factory(list)
    refuse: int | None = None
    remote: frozenset[str] = frozenset()


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback IP literal: the only targets the proxy forwards to."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _both_ways(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    target: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    up = asyncio.ensure_future(_pipe(client[0], target[1]))
    await _pipe(target[0], client[1])  # the target's answer ends the exchange
    up.cancel()
    await asyncio.gather(up, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_proxy(*, remote: Iterable[str] = ()) -> AsyncIterator[Proxy]:
    """Serve a :class:`Proxy` on 127.0.0.1 for the duration of the block, refusing the
    loopback addresses in ``remote`` too."""
    proxy = Proxy(remote=frozenset(remote))
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            method, target, version = request_line.split(" ")
            headers = [line for line in header_lines if line]
            authorization = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in headers
                    if line.lower().startswith("proxy-authorization:")
                ),
                None,
            )
            if proxy.refuse is not None:
                writer.write(
                    f"HTTP/1.1 {proxy.refuse} Refused\r\nContent-Length: 0\r\n\r\n".encode()
                )
                await writer.drain()
                return
            # CONNECT's target is host:port; a forwarded request's, an absolute URL.
            url = urlsplit(f"//{target}" if method == "CONNECT" else target)
            host, port = url.hostname or "", url.port or 80
            if not is_loopback(host) or host in proxy.remote:
                writer.write(b"HTTP/1.1 502 Not a loopback target\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            upstream = await asyncio.open_connection(host, port)
            if method == "CONNECT":
                proxy.forwarded.append(Forwarded(method, target, authorization))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await _both_ways((reader, writer), upstream)
                return
            proxy.forwarded.append(Forwarded(method, url.netloc, authorization))
            kept = [
                line
                for line in headers
                if line.split(":", 1)[0].lower()
                not in ("proxy-authorization", "proxy-connection", "connection")
            ]
            origin_form = url.path + (f"?{url.query}" if url.query else "")
            forwarded_head = "\r\n".join(
                [f"{method} {origin_form} {version}", *kept, "Connection: close", "", ""]
            )
            upstream[1].write(forwarded_head.encode("latin-1"))
            await _both_ways((reader, writer), upstream)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy.url = f"http://127.0.0.1:{port}"
    try:
        yield proxy
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
