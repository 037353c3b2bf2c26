"""``make demo``: a weighted alias on the embedded LocalLambda, seen from the client.

Two versions of a function are deployed, an alias sends 80% of traffic to version 1 and 20%
to version 2, and a few thousand invocations through the alias show the split each version
actually got, beside the configured weights.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from . import LambdaClient, RoutingConfig
from .testing import LocalLambda

INVOCATIONS = 4000
CONCURRENCY = 50


def checkout_v1(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"total": sum(event["prices"]), "version": context.function_version}


async def checkout_v2(event: dict[str, Any], context: Any) -> dict[str, Any]:
    total = round(sum(event["prices"]) * 0.9, 2)  # the new release gives a discount
    return {"total": total, "version": context.function_version}


async def run() -> None:
    async with LocalLambda() as lam:
        lam.add_function("checkout", checkout_v1)
        async with LambdaClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
        ) as client:
            v1 = await lam_publish(lam, client)
            lam.add_function("checkout", checkout_v2)
            v2 = await lam_publish(lam, client)
            weights = {v2: 0.2}
            alias = await client.create_alias(
                "checkout", "live", function_version=v1, routing_config=RoutingConfig(weights)
            )
            print(f"LocalLambda at {lam.endpoint_url}")
            print(
                f"alias {alias.name}: version {alias.function_version} primary,"
                f" version {v2} at {weights[v2]:.0%}"
            )
            seen: Counter[str] = Counter()
            semaphore = asyncio.Semaphore(CONCURRENCY)

            async def one() -> None:
                async with semaphore:
                    result = await client.invoke(
                        "checkout", payload={"prices": [10, 20]}, qualifier="live"
                    )
                    result.raise_for_function_error()
                    seen[result.executed_version or "?"] += 1

            started = asyncio.get_running_loop().time()
            await asyncio.gather(*(one() for _ in range(INVOCATIONS)))
            elapsed = asyncio.get_running_loop().time() - started

    print(f"\n{INVOCATIONS} invocations through 'live' in {elapsed:.1f}s\n")
    print(f"{'version':>8} {'configured':>11} {'observed':>9} {'invocations':>12}")
    for version, share in ((v1, 1 - weights[v2]), (v2, weights[v2])):
        observed = seen[version] / INVOCATIONS
        print(f"{version:>8} {share:>11.1%} {observed:>9.1%} {seen[version]:>12}")


async def lam_publish(lam: LocalLambda, client: LambdaClient) -> str:
    """Publish ``$LATEST`` as a new version (PublishVersion) and return its number."""
    return await asyncio.to_thread(_publish_with_botocore, lam)


def _publish_with_botocore(lam: LocalLambda) -> str:
    # lambdaclient has no publish_version yet; botocore speaks the same wire protocol.
    import botocore.session

    session: Any = botocore.session.get_session()
    lambda_client: Any = session.create_client(
        "lambda",
        region_name=lam.region,
        endpoint_url=lam.endpoint_url,
        aws_access_key_id=lam.credentials.access_key_id,
        aws_secret_access_key=lam.credentials.secret_access_key,
    )
    return str(lambda_client.publish_version(FunctionName="checkout")["Version"])


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
