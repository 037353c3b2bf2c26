"""One workload by one client, in this fresh process: run by ``bench/compare.py``.

    python bench/compare_workloads.py CLIENT WORKLOAD --port PORT --calls N --rounds R
        [--profile-out PATH]

CLIENT is ``lambdaclient``, ``aiobotocore`` or ``floor`` (raw aiohttp: the same requests with
no signing and no model building, ``json.loads`` of the body). After a warm-up on the same
connection and code paths, each round's figure is this process's CPU time
(``time.process_time``) over ``N`` operations divided by ``N``; the best round is the figure,
since interference from the rest of the machine only ever adds time. Exceptions:

* ``concurrent``: the wall time of ``N`` concurrent ``get_alias`` calls (calls per second);
* ``invoke_1k_varied``: as ``invoke_1k``, but each call sends another payload (1,009 of them,
  cycled), so no request repeats one before it; ``invoke_1m`` also reports the CPU time of
  SHA-256 over its payload (``sha256_s``), the least that signing the body costs;
* ``sigv4``: no server, no I/O: signing a GetAlias request (another payload hash each time),
  CPU per signature;
* ``stream``: the peak RSS growth while reading a ``N``-byte invoke response in chunks
  (RSS after a warm-up stream is the baseline; growth is ``ru_maxrss`` minus it).

Prints one line of JSON: the figure (``value``), every round's (``rounds``) and extras.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import cProfile
import gc
import hashlib
import importlib
import itertools
import json
import time
import timeit
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from compare_server import ALIAS, ALIAS_COUNT, FUNCTION, FUNCTIONS, PAGE_SIZE, invoke_function
from invoke_memory import current_rss_kb, peak_rss_kb

from lambdaclient import Credentials, LambdaClient, RoutingConfig
from lambdaclient._sigv4 import EMPTY_SHA256, SigV4Signer

__all__ = ["CLIENTS", "WORKLOADS"]

CLIENTS = ("lambdaclient", "aiobotocore", "floor")
WORKLOADS = (
    "get_alias",
    "update_alias",
    "list_aliases",
    "invoke_1k",
    "invoke_1k_varied",
    "invoke_1m",
    "concurrent",
    "sigv4",
    "stream",
)
REGION = "us-east-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
KIB = 1 << 10
MIB = 1 << 20
INVOKE_SIZES = {"invoke_1k": KIB, "invoke_1m": MIB}
WARMUP_CALLS = {"get_alias": 200, "update_alias": 200, "invoke_1k": 200, "invoke_1m": 10}
VARIED_PAYLOADS = 1009  # distinct 1 KB payloads, cycled (a prime: no round repeats a phase)
WARMUP_STREAM = 256 * KIB
STREAM_CHUNK = MIB  # what aiobotocore's StreamingBody.iter_chunks is asked for
ROUTING = {"AdditionalVersionWeights": {"3": 0.1}}
# The request the sigv4 workload signs: GetAlias, as sent to Lambda's regional endpoint.
SIGN_HOST = f"lambda.{REGION}.amazonaws.com"
SIGN_PATH = f"{FUNCTIONS}my-fn/aliases/live"
SIGN_HEADERS = {"User-Agent": "bench/1.0"}

JSON = dict[str, Any]


def _payload(size: int) -> bytes:
    """An invoke request payload of ``size`` bytes (a JSON document)."""
    return b'{"data":"' + b"p" * (size - 11) + b'"}'


class Driver(abc.ABC):
    """The operations of the workloads, done one client's way."""

    @abc.abstractmethod
    async def get_alias(self) -> object: ...

    @abc.abstractmethod
    async def update_alias(self) -> object: ...

    @abc.abstractmethod
    async def list_aliases(self) -> int:
        """Walk every page; the number of aliases seen."""

    @abc.abstractmethod
    async def invoke(self, payload: bytes) -> int:
        """Invoke with ``payload``; the response (of the same size) is read whole."""

    @abc.abstractmethod
    async def stream(self, size: int) -> int:
        """Invoke for a ``size``-byte response read in chunks as they arrive; bytes read."""


class LambdaclientDriver(Driver):
    def __init__(self, client: LambdaClient) -> None:
        self._client = client
        self._routing = RoutingConfig(ROUTING["AdditionalVersionWeights"])

    async def get_alias(self) -> object:
        return await self._client.get_alias(FUNCTION, ALIAS)

    async def update_alias(self) -> object:
        return await self._client.update_alias(
            FUNCTION, ALIAS, function_version="2", routing_config=self._routing
        )

    async def list_aliases(self) -> int:
        seen = 0
        async for _alias in self._client.list_aliases(FUNCTION, page_size=PAGE_SIZE):
            seen += 1
        return seen

    async def invoke(self, payload: bytes) -> int:
        result = await self._client.invoke(invoke_function(len(payload)), payload=payload)
        return len(result.payload)

    async def stream(self, size: int) -> int:
        received = 0
        async with self._client.invoke_stream(invoke_function(size)) as response:
            async for chunk in response.iter_chunks():
                received += len(chunk)
        return received


class AiobotocoreDriver(Driver):
    def __init__(self, client: Any) -> None:  # aiobotocore is untyped
        self._client = client

    async def get_alias(self) -> object:
        return await self._client.get_alias(FunctionName=FUNCTION, Name=ALIAS)

    async def update_alias(self) -> object:
        return await self._client.update_alias(
            FunctionName=FUNCTION, Name=ALIAS, FunctionVersion="2", RoutingConfig=ROUTING
        )

    async def list_aliases(self) -> int:
        seen = 0
        paginator = self._client.get_paginator("list_aliases")
        pages = paginator.paginate(FunctionName=FUNCTION, PaginationConfig={"PageSize": PAGE_SIZE})
        async for page in pages:
            for _alias in page["Aliases"]:
                seen += 1
        return seen

    async def invoke(self, payload: bytes) -> int:
        response = await self._client.invoke(
            FunctionName=invoke_function(len(payload)), Payload=payload
        )
        return len(await response["Payload"].read())

    async def stream(self, size: int) -> int:
        received = 0
        response = await self._client.invoke(FunctionName=invoke_function(size))
        async for chunk in response["Payload"].iter_chunks(STREAM_CHUNK):
            received += len(chunk)
        return received


class FloorDriver(Driver):
    """Raw aiohttp: the same requests, unsigned, with URLs built once; JSON bodies decoded."""

    def __init__(self, session: aiohttp.ClientSession, endpoint: str) -> None:
        self._session = session
        self._alias_url = f"{endpoint}{FUNCTIONS}{FUNCTION}/aliases/{ALIAS}"
        self._list_url = f"{endpoint}{FUNCTIONS}{FUNCTION}/aliases?MaxItems={PAGE_SIZE}"
        self._invoke_url = f"{endpoint}{FUNCTIONS}{{}}/invocations"
        self._json = {"Content-Type": "application/json"}

    @staticmethod
    def _check(response: aiohttp.ClientResponse) -> None:
        if response.status != 200:
            raise RuntimeError(f"{response.method} {response.url}: status {response.status}")

    async def get_alias(self) -> object:
        async with self._session.get(self._alias_url) as response:
            self._check(response)
            return json.loads(await response.read())

    async def update_alias(self) -> object:
        body = json.dumps({"FunctionVersion": "2", "RoutingConfig": ROUTING}).encode()
        async with self._session.put(self._alias_url, data=body, headers=self._json) as response:
            self._check(response)
            return json.loads(await response.read())

    async def list_aliases(self) -> int:
        seen = 0
        marker: str | None = None
        while True:
            url = self._list_url
            if marker is not None:
                url = f"{url}&Marker={quote(marker, safe='')}"
            async with self._session.get(url) as response:
                self._check(response)
                page = json.loads(await response.read())
            for _alias in page["Aliases"]:
                seen += 1
            marker = page.get("NextMarker")
            if marker is None:
                return seen

    async def invoke(self, payload: bytes) -> int:
        url = self._invoke_url.format(invoke_function(len(payload)))
        async with self._session.post(url, data=payload) as response:
            self._check(response)
            body = await response.read()
            response.headers.get("X-Amz-Executed-Version")
        return len(body)

    async def stream(self, size: int) -> int:
        received = 0
        url = self._invoke_url.format(invoke_function(size))
        async with self._session.post(url) as response:
            self._check(response)
            async for chunk, _ in response.content.iter_chunks():
                received += len(chunk)
        return received


async def open_driver(client: str, endpoint: str, stack: AsyncExitStack) -> Driver:
    if client == "lambdaclient":
        # The client's own session: aiohttp's default connector, at most 100 connections.
        ours = LambdaClient(
            REGION, endpoint_url=endpoint, credentials=Credentials(ACCESS_KEY, SECRET_KEY)
        )
        stack.push_async_callback(ours.close)
        return LambdaclientDriver(ours)
    if client == "aiobotocore":
        session = importlib.import_module("aiobotocore.session").get_session()
        config = importlib.import_module("aiobotocore.config").AioConfig(
            max_pool_connections=100, retries={"total_max_attempts": 1}
        )
        theirs = await stack.enter_async_context(
            session.create_client(
                "lambda",
                region_name=REGION,
                endpoint_url=endpoint,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                config=config,
            )
        )
        return AiobotocoreDriver(theirs)
    # aiohttp's defaults: a TCPConnector of at most 100 connections.
    session = await stack.enter_async_context(aiohttp.ClientSession())
    return FloorDriver(session, endpoint)


# --- measuring -------------------------------------------------------------------------------


async def cpu_rounds(
    operation: Callable[[], Awaitable[object]],
    calls: int,
    rounds: int,
    warmup: int,
    profiler: cProfile.Profile | None,
) -> list[float]:
    """CPU seconds per operation, each round's."""
    for _ in range(warmup):  # warm the connection, caches and code paths
        await operation()
    figures = []
    for _ in range(rounds):
        if profiler is not None:
            profiler.enable()
        started = time.process_time()
        for _ in range(calls):
            await operation()
        elapsed = time.process_time() - started
        if profiler is not None:
            profiler.disable()
        figures.append(elapsed / calls)
    return figures


async def concurrent_rounds(
    operation: Callable[[], Awaitable[object]], calls: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Calls per second (wall time) of ``calls`` at once, and CPU seconds per call; per round."""
    await asyncio.gather(*(operation() for _ in range(calls)))  # opens the connections
    throughput, cpu = [], []
    for _ in range(rounds):
        wall_started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(operation() for _ in range(calls)))
        cpu_seconds, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
        throughput.append(calls / wall)
        cpu.append(cpu_seconds / calls)
    return throughput, cpu


async def measure(
    client: str, workload: str, port: int, calls: int, rounds: int, profile_out: str | None
) -> JSON:
    # The default (wall-clock) timer: a CPU-time timer costs a system call per event, which
    # swamps small functions. The runner leaves out the time spent waiting in epoll.
    profiler = cProfile.Profile() if profile_out else None
    async with AsyncExitStack() as stack:
        driver = await open_driver(client, f"http://127.0.0.1:{port}", stack)
        result: JSON = {"client": client, "workload": workload}
        if workload in ("get_alias", "update_alias"):
            operation = driver.get_alias if workload == "get_alias" else driver.update_alias
            figures = await cpu_rounds(operation, calls, rounds, WARMUP_CALLS[workload], profiler)
            result.update(value=min(figures), rounds=figures)
        elif workload == "list_aliases":
            seen = await driver.list_aliases()
            if seen != ALIAS_COUNT:
                raise RuntimeError(f"list_aliases saw {seen} aliases, not {ALIAS_COUNT}")
            figures = await cpu_rounds(driver.list_aliases, calls, rounds, 0, profiler)
            result.update(value=min(figures), rounds=figures, aliases=seen)
        elif workload in INVOKE_SIZES:
            payload = _payload(INVOKE_SIZES[workload])
            if (size := await driver.invoke(payload)) != len(payload):
                raise RuntimeError(f"invoke returned {size} bytes, not {len(payload)}")

            async def invoke() -> int:
                return await driver.invoke(payload)

            figures = await cpu_rounds(invoke, calls, rounds, WARMUP_CALLS[workload], profiler)
            result.update(value=min(figures), rounds=figures)
            if workload == "invoke_1m":  # what signing the payload costs at least
                result["sha256_s"] = (
                    min(
                        timeit.repeat(
                            lambda: hashlib.sha256(payload).hexdigest(), number=20, repeat=5
                        )
                    )
                    / 20
                )
        elif workload == "invoke_1k_varied":
            payloads = itertools.cycle(
                [b'{"data":"%06d' % n + b"p" * (KIB - 17) + b'"}' for n in range(VARIED_PAYLOADS)]
            )

            async def invoke_varied() -> int:
                return await driver.invoke(next(payloads))

            figures = await cpu_rounds(
                invoke_varied, calls, rounds, WARMUP_CALLS["invoke_1k"], profiler
            )
            result.update(value=min(figures), rounds=figures)
        elif workload == "concurrent":
            throughput, cpu = await concurrent_rounds(driver.get_alias, calls, rounds)
            result.update(value=max(throughput), rounds=throughput, cpu_per_call=min(cpu))
        elif workload == "stream":
            if await driver.stream(WARMUP_STREAM) != WARMUP_STREAM:
                raise RuntimeError("the warm-up stream came back short")
            gc.collect()
            baseline, peak_before = current_rss_kb(), peak_rss_kb()
            started = time.perf_counter()
            received = await driver.stream(calls)
            seconds = time.perf_counter() - started
            peak = peak_rss_kb()
            if received != calls:
                raise RuntimeError(f"streamed {received} bytes, not {calls}")
            result.update(
                value=(peak - baseline) / 1024,
                baseline_mb=baseline / 1024,
                peak_before_mb=peak_before / 1024,
                seconds=seconds,
            )
        else:
            raise ValueError(f"unknown workload {workload!r}")
    if profiler is not None and profile_out:
        profiler.dump_stats(profile_out)
    return result


# --- SigV4 signing alone ---------------------------------------------------------------------


def _timed_rounds(operation: Callable[[], object], calls: int, rounds: int) -> list[float]:
    for _ in range(min(calls, 1000)):
        operation()
    figures = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            operation()
        figures.append((time.process_time() - started) / calls)
    return figures


def sigv4(client: str, calls: int, rounds: int) -> JSON:
    """Sign a GetAlias request, the time included: lambdaclient's signer or botocore's.

    Each call gives another payload hash, as a client's requests mostly do.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotocoreCredentials

    result: JSON = {"client": client, "workload": "sigv4"}
    if client == "lambdaclient":
        signer = SigV4Signer(service="lambda", region=REGION)
        credentials = Credentials(ACCESS_KEY, SECRET_KEY)
        hashes = itertools.cycle([hashlib.sha256(str(n).encode()).hexdigest() for n in range(997)])

        def sign() -> Mapping[str, str]:
            return signer.sign(
                method="GET",
                host=SIGN_HOST,
                path=SIGN_PATH,
                query="",
                headers=SIGN_HEADERS,
                payload_sha256=next(hashes),
                credentials=credentials,
                now=datetime.now(UTC),
            )

        figures = _timed_rounds(sign, calls, rounds)
        # The same request, signed at the same second by botocore, gets the same signature.
        request = AWSRequest(
            method="GET", url=f"https://{SIGN_HOST}{SIGN_PATH}", headers=dict(SIGN_HEADERS)
        )
        SigV4Auth(BotocoreCredentials(ACCESS_KEY, SECRET_KEY), "lambda", REGION).add_auth(request)
        when = datetime.strptime(request.context["timestamp"], "%Y%m%dT%H%M%SZ")
        ours = signer.sign(
            method="GET",
            host=SIGN_HOST,
            path=SIGN_PATH,
            query="",
            headers=SIGN_HEADERS,
            payload_sha256=EMPTY_SHA256,
            credentials=credentials,
            now=when.replace(tzinfo=UTC),
        )
        result["same_signature_as_botocore"] = (
            ours["Authorization"] == request.headers["Authorization"]
        )
    elif client == "aiobotocore":  # botocore's SigV4Auth, which aiobotocore signs with
        auth = SigV4Auth(BotocoreCredentials(ACCESS_KEY, SECRET_KEY), "lambda", REGION)
        request = AWSRequest(
            method="GET", url=f"https://{SIGN_HOST}{SIGN_PATH}", headers=dict(SIGN_HEADERS)
        )

        def add_auth() -> None:
            auth.add_auth(request)

        figures = _timed_rounds(add_auth, calls, rounds)
    else:
        raise ValueError("the floor does not sign")
    result.update(value=min(figures), rounds=figures)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("client", choices=CLIENTS)
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--calls", type=int, required=True, help="operations (bytes for stream)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile-out", help="cProfile the measured rounds into this file")
    args = parser.parse_args()
    if args.workload == "sigv4":
        result = sigv4(args.client, args.calls, args.rounds)
    else:
        result = asyncio.run(
            measure(
                args.client, args.workload, args.port, args.calls, args.rounds, args.profile_out
            )
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
