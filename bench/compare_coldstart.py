"""Import + first client construction + first call, in this fresh process: run by compare.py.

    python bench/compare_coldstart.py CLIENT PORT

The figure is the wall time from just before the first import of anything the client needs
(``asyncio`` included) to the return of its first ``get_alias`` call; nothing but ``sys`` and
``time`` is imported before the clock starts, so every client pays for what it loads itself.
Credentials are not passed: each client finds them where the runner put them (in the
environment, or a shared credentials file for botocore's chain). Prints one line of JSON,
with whether ``botocore`` was imported by then.
"""

from __future__ import annotations

import sys
import time

FUNCTION = "bench-fn"
ALIAS = "live"
REGION = "us-east-1"


def lambdaclient_first_call(endpoint: str) -> float:
    started = time.perf_counter()
    import asyncio

    from lambdaclient import LambdaClient

    async def first_call() -> float:
        async with LambdaClient(REGION, endpoint_url=endpoint) as client:
            alias = await client.get_alias(FUNCTION, ALIAS)
            elapsed = time.perf_counter() - started
            assert alias.name == ALIAS
        return elapsed

    return asyncio.run(first_call())


def aiobotocore_first_call(endpoint: str) -> float:
    started = time.perf_counter()
    import asyncio
    import importlib

    # Imported by name: aiobotocore has no type information (and is not in the dev venv).
    get_session = importlib.import_module("aiobotocore.session").get_session
    aio_config = importlib.import_module("aiobotocore.config").AioConfig

    async def first_call() -> float:
        config = aio_config(max_pool_connections=100, retries={"total_max_attempts": 1})
        async with get_session().create_client(
            "lambda", region_name=REGION, endpoint_url=endpoint, config=config
        ) as client:
            alias = await client.get_alias(FunctionName=FUNCTION, Name=ALIAS)
            elapsed = time.perf_counter() - started
            assert alias["Name"] == ALIAS
        return elapsed

    result: float = asyncio.run(first_call())
    return result


def floor_first_call(endpoint: str) -> float:
    started = time.perf_counter()
    import asyncio
    import json

    import aiohttp

    async def first_call() -> float:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{endpoint}/2015-03-31/functions/{FUNCTION}/aliases/{ALIAS}") as response,
        ):
            alias = json.loads(await response.read())
            elapsed = time.perf_counter() - started
            assert alias["Name"] == ALIAS
        return elapsed

    return asyncio.run(first_call())


def main() -> None:
    client, port = sys.argv[1], int(sys.argv[2])
    endpoint = f"http://127.0.0.1:{port}"
    first_call = {
        "lambdaclient": lambdaclient_first_call,
        "aiobotocore": aiobotocore_first_call,
        "floor": floor_first_call,
    }[client]
    seconds = first_call(endpoint)
    botocore_imported = "botocore" in sys.modules
    import json

    print(
        json.dumps(
            {
                "client": client,
                "value": seconds,
                "botocore_imported": botocore_imported,
                "modules": len(sys.modules),
            }
        )
    )


if __name__ == "__main__":
    main()
