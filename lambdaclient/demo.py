"""``make demo``: weighted aliases and a guarded rollout, on the embedded LocalLambda.

As on AWS, a newly published version is ``Pending`` for a moment (two seconds here) before it
can take traffic.

1. A weighted alias: 80% of traffic to version 1, 20% to version 2 (once both are Active); a
   few thousand invocations show the split each version really got.
2. A linear shift of alias ``live`` to version 2, healthy: it completes, and a last probe
   with all traffic on version 2 confirms it.
3. Version 3, which fails a fifth of its invocations, is published and shifted to at once:
   the shift waits for it to be Active, then the probe between steps catches it and the
   alias rolls back to version 2.
4. Version 4 fails only real orders that carry a coupon, which the probe's ping never does.
   Background traffic flows through alias ``live``, and the shift is gated on that traffic:
   the metrics gate reads each version's Invocations and Errors from LocalLambda's CloudWatch
   (datapoints arrive half a second late; the gate lets each window settle for a second),
   catches version 4 and the alias rolls back.
5. The shift to version 3 again, gated on a CloudWatch alarm instead, with orders flowing
   through the alias: an alarm (PutMetricAlarm) on version 3's errors under the alias fires
   once that traffic reaches it, and the shift, watching the alarm during the step's wait,
   rolls back within one poll. LocalLambda evaluates its alarms every second here, over
   10-second periods (CloudWatch: every minute, over Lambda's one-minute periods).

After each step the probe calls the old and the new version in pairs; the summary shows each
step's calls and errors per version and the rule's verdict.

Steps 2 to 5 run the ``lambdaclient shift`` command line, with its progress display and its
closing summary. Nothing here needs an AWS account or leaves the machine.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from . import LambdaClient, RoutingConfig
from .cli import run as cli
from .cloudwatch import (
    CloudWatchClient,
    ComparisonOperator,
    Dimension,
    Metric,
    TreatMissingData,
)
from .testing import LocalLambda

FUNCTION = "checkout"
INVOCATIONS = 4000
CONCURRENCY = 50
ACTIVATION_DELAY = 2.0  # seconds a new version stays Pending
ALARM = "checkout-v3-errors"
POLL = 0.5  # seconds between the alarm gate's reads
# CloudWatch judges an alarm's periods once they are over: Lambda's metrics have one-minute
# periods on AWS, but LocalLambda's are to the second, so the demo's alarm uses 10 s periods
# and fires within seconds rather than at the next minute.
ALARM_PERIOD = 10
METRICS_DELAY = 0.5  # seconds before an invocation shows in the metrics


def checkout_v1(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"total": sum(event["prices"]), "version": context.function_version}


async def checkout_v2(event: dict[str, Any], context: Any) -> dict[str, Any]:
    total = round(sum(event["prices"]) * 0.9, 2)  # the new release gives a discount
    return {"total": total, "version": context.function_version}


_unlucky = random.Random(3)


async def checkout_v3(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if _unlucky.random() < 0.2:  # a bug that bites one order in five
        raise ValueError("discount code table is empty")
    return await checkout_v2(event, context)


async def checkout_v4(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "coupon" in event:  # a bug only real orders reach
        raise KeyError(f"unknown coupon {event['coupon']}")
    return await checkout_v2(event, context)


def heading(text: str) -> None:
    print(f"\n=== {text} ===\n", flush=True)


async def weighted_split(client: LambdaClient) -> None:
    weights = {"2": 0.2}
    alias = await client.create_alias(
        FUNCTION, "split", function_version="1", routing_config=RoutingConfig(weights)
    )
    heading(f"1. Alias '{alias.name}': version 1 primary, version 2 at {weights['2']:.0%}")
    seen: Counter[str] = Counter()
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with semaphore:
            result = await client.invoke(FUNCTION, payload={"prices": [10, 20]}, qualifier="split")
            result.raise_for_function_error()
            seen[result.executed_version or "?"] += 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(one() for _ in range(INVOCATIONS)))
    elapsed = loop.time() - started
    print(f"{INVOCATIONS} invocations through 'split' in {elapsed:.1f}s\n")
    print(f"{'version':>8} {'configured':>11} {'observed':>9} {'invocations':>12}")
    for version, share in (("1", 1 - weights["2"]), ("2", weights["2"])):
        observed = seen[version] / INVOCATIONS
        print(f"{version:>8} {share:>11.1%} {observed:>9.1%} {seen[version]:>12}")


async def orders(
    client: LambdaClient,
    stop: asyncio.Event,
    *,
    coupons: float = 0.0,
    shoppers: int = 8,
    pause: float = 0.0,
) -> Counter[tuple[str, bool]]:
    """Orders through alias ``live`` until ``stop`` is set, a share ``coupons`` of them with a
    coupon, each shopper ``pause`` seconds between orders (a function error is an order that
    failed, not a reason to stop): how many each version served, as ``(version, failed)``."""
    served: Counter[tuple[str, bool]] = Counter()
    draw = random.Random(4)

    async def shopper() -> None:
        while not stop.is_set():
            order: dict[str, Any] = {"prices": [10, 20]}
            if draw.random() < coupons:
                order["coupon"] = "WINTER"
            result = await client.invoke(FUNCTION, payload=order, qualifier="live")
            served[result.executed_version or "?", result.function_error is not None] += 1
            await asyncio.sleep(pause)

    await asyncio.gather(*(shopper() for _ in range(shoppers)))
    return served


def describe_orders(served: Counter[tuple[str, bool]]) -> str:
    versions = sorted({version for version, _ in served})
    return "background traffic through 'live': " + ", ".join(
        f"version {v} {served[v, True]}/{served[v, True] + served[v, False]} failed"
        for v in versions
    )


async def gated_on_traffic(lam: LocalLambda, client: LambdaClient, shift: list[str]) -> None:
    """Scene 4: a shift gated on the traffic the alias serves meanwhile."""
    lam.add_function(FUNCTION, checkout_v4)
    await client.publish_version(FUNCTION)
    command = "--linear 25%/2s --metrics-gate --metrics-period 1 --settle 1 --max-error-rate 10%"
    heading(
        f"4. lambdaclient shift checkout live --to 4 {command}\n"
        "   (4 fails orders with a coupon: one in four of the real traffic)"
    )
    stop = asyncio.Event()
    traffic = asyncio.ensure_future(orders(client, stop, coupons=0.25))
    try:
        code = await cli([*shift, "live", "--to", "4", *command.split()])
    finally:
        stop.set()
        served = await traffic
    print(describe_orders(served))
    print(f"exit code {code}: the metrics gate caught version 4; the alias is back on version 2")


async def alarm_gated_rollout(lam: LocalLambda, client: LambdaClient, shift: list[str]) -> None:
    """Scene 5: a rollout gated on an alarm over the traffic it moves, rolled back by it."""
    async with CloudWatchClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
    ) as cloudwatch:
        version_three = (
            Dimension("FunctionName", FUNCTION),
            Dimension("Resource", f"{FUNCTION}:live"),
            Dimension("ExecutedVersion", "3"),
        )
        await cloudwatch.put_metric_alarm(
            ALARM,
            Metric("AWS/Lambda", "Errors", version_three),
            "Sum",
            period=ALARM_PERIOD,
            evaluation_periods=1,
            threshold=5,
            comparison_operator=ComparisonOperator.GREATER_THAN_OR_EQUAL,
            treat_missing_data=TreatMissingData.NOT_BREACHING,
        )
        options = ["--linear", "25%/30s", "--alarm", ALARM, "--alarm-poll-interval", f"{POLL}s"]
        heading(
            f"5. lambdaclient shift checkout live --to 3 {' '.join(options)}"
            " (orders flowing through live; the alarm fires at 5 errors of version 3 in"
            f" {ALARM_PERIOD}s)"
        )
        stop = asyncio.Event()
        traffic = asyncio.ensure_future(orders(client, stop, pause=0.02))
        try:
            code = await cli([*shift, "live", "--to", "3", *options])
            rolled_back = datetime.now(UTC)
        finally:
            stop.set()
            served = await traffic
        (alarm,) = await cloudwatch.describe_alarms(alarm_names=[ALARM])
    print(describe_orders(served))
    print(f"exit code {code}; alarm {alarm.name}: {alarm.state.value}, {alarm.state_reason}")
    if alarm.state_updated is not None:
        after = (rolled_back - alarm.state_updated).total_seconds()
        print(
            f"the alias was back on version 2 {after:.1f}s after the alarm fired (its gate"
            f" reads it every {POLL}s), not at the end of the 30s step"
        )


async def run() -> None:
    async with (
        LocalLambda(
            seed=11,
            version_activation_delay=ACTIVATION_DELAY,
            metrics_delay=METRICS_DELAY,
            alarm_evaluation_interval=1.0,
        ) as lam,
        LambdaClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
        ) as client,
    ):
        for handler in (checkout_v1, checkout_v2):
            lam.add_function(FUNCTION, handler)
            version = (await client.publish_version(FUNCTION)).version
            assert version is not None
            await client.wait_for_version_active(FUNCTION, version, delay=0.5)
        print(f"LocalLambda at {lam.endpoint_url}: '{FUNCTION}' versions 1 and 2, Active")
        await weighted_split(client)
        await client.create_alias(FUNCTION, "live", function_version="1")

        # The command line finds its credentials where the AWS CLI would: the environment.
        os.environ["AWS_ACCESS_KEY_ID"] = lam.credentials.access_key_id
        os.environ["AWS_SECRET_ACCESS_KEY"] = lam.credentials.secret_access_key
        shift = ["--endpoint-url", lam.endpoint_url, "--region", lam.region, "shift", FUNCTION]
        # The probe at its defaults: it rolls back a version failing 5 points more often than
        # the old one in at least 95% of rollouts, and a version no worse in at most 1%.
        options = ["--linear", "25%/1s", "--probe-payload", '{"prices": [10, 20]}']
        heading(
            "2. lambdaclient shift checkout live --to 2 --linear 25%/1s --post-traffic-probe"
            " (2 is healthy)"
        )
        code = await cli([*shift, "live", "--to", "2", *options, "--post-traffic-probe"])
        print(f"exit code {code}")
        lam.add_function(FUNCTION, checkout_v3)
        await client.publish_version(FUNCTION)
        heading(
            "3. lambdaclient shift checkout live --to 3 --linear 25%/1s (3, just published,"
            " fails 1 in 5)"
        )
        code = await cli([*shift, "live", "--to", "3", *options])
        print(f"exit code {code}: the probe caught version 3; the alias is back on version 2")
        await gated_on_traffic(lam, client, shift)
        await alarm_gated_rollout(lam, client, shift)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
