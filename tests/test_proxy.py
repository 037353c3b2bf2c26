"""The tests' own proxy (``tests/proxy.py``) forwards to this machine only: a request for any
other address is answered 502 and goes nowhere, so no test can reach the internet through it.

These tests never aim a client off this machine, even through the proxy: which hosts it takes
for this machine's is checked without a connection, and its refusals on the wire are checked
against loopback targets it is told to refuse, or names only this machine resolves, so that a
client that went around the proxy would still stay here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from lambdaclient import ConnectError, Credentials, LambdaClient, ServiceError
from tests.proxy import is_loopback, running_proxy

CREDENTIALS = Credentials("AKIDPROXY", "proxy-test-secret")


@pytest.mark.parametrize(
    ("host", "forwarded"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),  # all of 127.0.0.0/8 is loopback
        ("::1", True),
        ("lambda.us-east-1.amazonaws.com", False),
        ("192.0.2.1", False),  # TEST-NET-1
        ("10.0.0.1", False),  # a private address
        ("::ffff:192.0.2.1", False),
        ("localhost", False),  # a name is not resolved, not even this one
        ("localhost.example", False),
    ],
)
def test_the_test_proxy_takes_only_loopback_literals_for_this_machine(
    host: str, forwarded: bool
) -> None:
    assert is_loopback(host) is forwarded


@contextlib.asynccontextmanager
async def listener() -> AsyncIterator[tuple[int, list[str]]]:
    """A server on 127.0.0.1 that answers nothing: its port, and a list of each connection it
    was offered (a client that went around the proxy would land here)."""
    connections: list[str] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(str(writer.get_extra_info("peername")))
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("scheme", "host", "error"),
    [
        # HTTPS goes through a CONNECT tunnel, which the proxy refuses to open.
        ("https", "127.0.0.1", ConnectError),
        # Plain HTTP is forwarded as an absolute-form request: the proxy's 502 is the answer.
        ("http", "127.0.0.1", ServiceError),
        # A name is refused unresolved, whatever it names; localhost resolves to this machine.
        ("https", "localhost", ConnectError),
        ("http", "localhost", ServiceError),
    ],
)
async def test_the_test_proxy_refuses_a_target_off_this_machine_and_forwards_nothing(
    scheme: str, host: str, error: type[Exception]
) -> None:
    async with (
        listener() as (port, connections),
        running_proxy(remote=["127.0.0.1"]) as proxy,
        LambdaClient(
            "us-east-1",
            credentials=CREDENTIALS,
            endpoint_url=f"{scheme}://{host}:{port}",
            proxy=proxy.url,
            max_attempts=1,
        ) as client,
    ):
        with pytest.raises(error, match="502"):
            await client.get_alias("my-fn", "live")
    assert proxy.forwarded == []
    assert connections == []
