"""Load: 5,000 concurrent invocations through one client against LocalLambda, over real
sockets, with at most 100 connections.

Every call must succeed with its own answer, the function must run exactly once per call,
the pool must never open more than its limit, and repeating the burst must not grow the
process: neither its memory (RSS) nor its open file descriptors.

Measured on 2 cores: about 2.3 s a round of 5,000 calls (7 s for the three-round test);
RSS grew by under 1 MiB from the first round to the third; 210 descriptors were open after
every round (100 per end of the pool) and 9, as before, once client and server were closed.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from lambdaclient import InvokeResult, LambdaClient
from lambdaclient.testing import LocalLambda

CALLS = 5_000
ROUNDS = 3
LIMIT = 100
# RSS may still grow a little after the first round (allocator arenas, caches that fill up
# lazily), so the bound is generous; a leak of even 10 KB a call would be 100 MB over two rounds.
RSS_GROWTH_BOUND = 30 * 1024 * 1024
# A few descriptors may come and go for reasons of their own (the event loop's self-pipe,
# a resolver thread); leaked connections would be dozens.
FD_SLACK = 4

pytestmark = [
    pytest.mark.skipif(
        not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc to measure RSS and fds"
    ),
    # It measures its own process and loads the machine: `make test` runs it on its own.
    pytest.mark.serial,
]


def rss_bytes() -> int:
    """Resident set size from /proc/self/statm (second field, in pages)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Concurrency:
    """How many invocations run at once in LocalLambda, and the most seen: each one holds a
    connection, so the peak is the number of connections the client really used at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def handler(self, event: Any, context: Any) -> Any:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            # Yield, so that every connection the pool allows gets a request in flight.
            await asyncio.sleep(0.001)
        finally:
            self.now -= 1
        return {"n": event["n"], "version": context.function_version}


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda() as server:
        yield server


async def burst(client: LambdaClient, calls: int = CALLS) -> list[InvokeResult]:
    return await asyncio.gather(*(client.invoke("echo", payload={"n": n}) for n in range(calls)))


def assert_all_answered(results: list[InvokeResult]) -> None:
    # Each call gets its own answer back, not a neighbour's.
    assert [result.status_code for result in results] == [200] * len(results)
    assert [result.function_error for result in results] == [None] * len(results)
    assert [result.json() for result in results] == [
        {"n": n, "version": "$LATEST"} for n in range(len(results))
    ]


async def test_5000_concurrent_invocations_through_a_100_connection_session() -> None:
    """A caller-owned session with ``TCPConnector(limit=100)``, burst three times."""
    fds_before = open_fds()
    concurrency = Concurrency()
    rss_after_round: list[int] = []
    fds_after_round: list[int] = []
    async with LocalLambda() as lam:
        lam.add_function("echo", concurrency.handler)
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LIMIT)) as session,
            LambdaClient(
                lam.region,
                endpoint_url=lam.endpoint_url,
                credentials=lam.credentials,
                session=session,
            ) as client,
        ):
            for round_ in range(1, ROUNDS + 1):
                results = await burst(client)
                assert_all_answered(results)
                assert lam.executions("echo", "$LATEST") == CALLS * round_
                del results
                gc.collect()
                rss_after_round.append(rss_bytes())
                fds_after_round.append(open_fds())

            # The session's limit is what bounded the client, and the burst used all of it.
            assert session.connector is not None
            assert session.connector.limit == LIMIT
            assert concurrency.peak == LIMIT
        assert session.closed  # closed by its owner, the test, not by the client

    growth = rss_after_round[-1] - rss_after_round[0]
    assert growth < RSS_GROWTH_BOUND, f"RSS grew {growth / 2**20:.1f} MiB: {rss_after_round}"
    # Kept-alive connections are reused from round to round, never opened anew and leaked.
    assert max(fds_after_round) - min(fds_after_round) <= FD_SLACK, fds_after_round
    # ...and once client and server are closed, every one of them is gone.
    await asyncio.sleep(0)
    assert open_fds() - fds_before <= FD_SLACK, (fds_before, open_fds())


async def test_the_clients_own_session_is_limited_to_100_connections(lam: LocalLambda) -> None:
    """Without ``session=``, the client's own session has aiohttp's default limit of 100
    connections in all (and none per host): the burst succeeds within it."""
    fds_before = open_fds()
    concurrency = Concurrency()
    lam.add_function("echo", concurrency.handler)
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
    ) as client:
        assert_all_answered(await burst(client))
        assert lam.executions("echo", "$LATEST") == CALLS
        # One host: a peak of exactly LIMIT shows the limit in all, and none lower per host.
        assert concurrency.peak == LIMIT
        # Client and server each hold one end of every pooled connection.
        assert open_fds() - fds_before <= 2 * LIMIT + FD_SLACK
    assert open_fds() - fds_before <= FD_SLACK
