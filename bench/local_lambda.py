"""LocalLambda's throughput: alias operations per second, invocations per second of a handler
registered from Python and of a zip package in worker processes, and a zip worker's cold
start.

LocalLambda and lambdaclient share one event loop here, as in a test suite that embeds the
server, so each figure is the cost of a call end to end, client included; ``--concurrency``
calls run at once. A zip function is created over the wire (botocore, in a thread); its cold
start is the latency of the first invocation after UpdateFunctionConfiguration retired its
workers, next to a warm invocation's.

    python bench/local_lambda.py [--seconds 2] [--concurrency 8] [--cold 10]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import statistics
import time
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any

import botocore.session

from lambdaclient import LambdaClient, RoutingConfig
from lambdaclient.testing import LambdaContext, LocalLambda

ROLE = "arn:aws:iam::123456789012:role/bench"
SOURCE = "def handler(event, context):\n    return {'ok': event.get('n')}\n"


def sync_handler(event: Any, context: LambdaContext) -> Any:
    return {"ok": event.get("n")}


async def async_handler(event: Any, context: LambdaContext) -> Any:
    return {"ok": event.get("n")}


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", SOURCE)
    return buffer.getvalue()


def botocore_client(lam: LocalLambda) -> Any:
    return botocore.session.get_session().create_client(
        "lambda",
        region_name=lam.region,
        endpoint_url=lam.endpoint_url,
        aws_access_key_id=lam.credentials.access_key_id,
        aws_secret_access_key=lam.credentials.secret_access_key,
    )


async def rate(call: Callable[[], Awaitable[object]], seconds: float, concurrency: int) -> float:
    """Calls per second, ``concurrency`` at a time, for about ``seconds``."""
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await call()
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def main(seconds: float, concurrency: int, colds: int) -> None:
    async with LocalLambda(seed=1) as lam:
        lam.add_function("sync", sync_handler)
        lam.add_function("async", async_handler)
        client = await asyncio.to_thread(botocore_client, lam)
        await asyncio.to_thread(
            client.create_function,
            FunctionName="zip",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": package()},
        )
        for name in ("sync", "async"):
            lam.publish_version(name)
        async with LambdaClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
        ) as lc:
            await lc.create_alias("sync", "live", function_version="1")
            figures = {
                "get_alias": await rate(lambda: lc.get_alias("sync", "live"), seconds, concurrency),
                "update_alias": await rate(
                    lambda: lc.update_alias("sync", "live", routing_config=RoutingConfig({})),
                    seconds,
                    concurrency,
                ),
            }
            for name in ("sync", "async", "zip"):
                await lc.invoke(name, payload={"n": 1})  # warm
                figures[f"invoke {name}"] = await rate(
                    functools.partial(lc.invoke, name, payload={"n": 1}), seconds, concurrency
                )
            cold, warm = [], []
            for index in range(colds):
                await asyncio.to_thread(
                    client.update_function_configuration,
                    FunctionName="zip",
                    Description=f"cold {index}",
                )
                started = time.perf_counter()
                await lc.invoke("zip", payload={"n": 1})
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                await lc.invoke("zip", payload={"n": 1})
                warm.append(time.perf_counter() - started)
        await asyncio.to_thread(client.close)

    print(f"LocalLambda, {concurrency} calls at a time, {seconds:g} s a workload")
    print(f"{'workload':<16}{'calls/s':>10}")
    for name, value in figures.items():
        print(f"{name:<16}{value:>10.0f}")
    ratio = figures["invoke sync"] / figures["invoke zip"]
    print(f"in-process sync handler / zip worker: {ratio:.1f}x")
    cold_ms, warm_ms = statistics.median(cold) * 1000, statistics.median(warm) * 1000
    print(
        f"zip worker invocation, median of {colds}: cold {cold_ms:.1f} ms, warm {warm_ms:.1f} ms"
        f" ({cold_ms / warm_ms:.0f}x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cold", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.cold))
