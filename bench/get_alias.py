"""CPU cost of one ``get_alias`` call, next to raw aiohttp doing an unsigned GET + JSON decode.

A canned-response HTTP/1.1 keep-alive server runs on 127.0.0.1 in another process, so its
work stays out of the figures; each figure is this process's CPU time (``process_time``) per
call, over sequential calls on one keep-alive connection. The two clients run in alternating
rounds in the same run, and the best round of each is reported, since interference from the
rest of the machine only ever adds time.

    python bench/get_alias.py [--calls 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from lambdaclient import Credentials, LambdaClient

STUB = Path(__file__).resolve().parent.parent / "stubs" / "GetAlias" / "200-weighted.json"


def canned_response() -> bytes:
    stub = json.loads(STUB.read_text())
    body = json.dumps(stub["body"]).encode()
    headers = "".join(f"{k}: {v}\r\n" for k, v in stub["headers"].items())
    return f"HTTP/1.1 200 OK\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body


class CannedProtocol(asyncio.Protocol):
    """Answers every request (GETs, no body) with the same response; keeps the connection."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            self.buffer = self.buffer[end + 4 :]
            assert self.transport is not None
            self.transport.write(self.response)


def serve(port_out: multiprocessing.connection.Connection) -> None:
    async def main() -> None:
        response = canned_response()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: CannedProtocol(response), "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def cpu_per_call(call: Callable[[], Awaitable[object]], calls: int) -> float:
    for _ in range(200):  # warm the connection, caches and code paths
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) / calls


async def run(port: int, calls: int, rounds: int) -> None:
    endpoint = f"http://127.0.0.1:{port}"
    path = "/2015-03-31/functions/my-fn/aliases/live"
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    ours: list[float] = []
    floor: list[float] = []
    async with (
        aiohttp.ClientSession() as session,
        LambdaClient("us-east-1", endpoint_url=endpoint, credentials=credentials) as client,
    ):

        async def raw_get() -> object:
            async with session.get(endpoint + path) as response:
                return json.loads(await response.read())

        async def get_alias() -> object:
            return await client.get_alias("my-fn", "live")

        for _ in range(rounds):
            floor.append(await cpu_per_call(raw_get, calls))
            ours.append(await cpu_per_call(get_alias, calls))
    best_ours, best_floor = min(ours), min(floor)
    print(f"get_alias, {calls} sequential calls x {rounds} rounds, CPU time per call (best round)")
    print(f"  raw aiohttp (unsigned GET + json.loads): {best_floor * 1e6:8.1f} us")
    print(f"  lambdaclient get_alias:                  {best_ours * 1e6:8.1f} us")
    print(
        f"  ratio lambdaclient / raw aiohttp:        {best_ours / best_floor:8.2f}x  (aim <= 1.5x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(sender,), daemon=True)
    server.start()
    try:
        port = receiver.recv()
        asyncio.run(run(port, args.calls, args.rounds))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
