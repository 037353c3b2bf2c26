"""MetricsGate: shifts gated on the traffic through the alias, against LocalLambda over sockets.

One fake clock tells the time to LocalLambda, the clients, the shift and the gates, and only
their sleeps move it, a tick at a time; while traffic flows, each tick sends invocations
through alias ``live``, so what each period holds is set by the test, not by how fast this
machine runs. LocalLambda counts each execution in its CloudWatch metrics, dated by the
invocation and visible ``metrics_delay`` seconds later. The gate reads one-second periods
(LocalLambda keeps datapoints to the second) and a rule loose enough to judge a few hundred
invocations.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from lambdaclient import LambdaClient, RoutingConfig
from lambdaclient.cloudwatch import CloudWatchClient, Dimension, Metric, MetricDataQuery
from lambdaclient.errors import ValidationError
from lambdaclient.shifting import (
    AlarmGate,
    Canary,
    GatePhase,
    HealthCheck,
    Linear,
    MetricsGate,
    MetricsReading,
    ShiftResult,
    StepContext,
    Strategy,
    all_of,
    shift_traffic,
)
from lambdaclient.testing import LocalLambda, ServerError

FN = "orders"
DELAY = 0.3  # seconds before a datapoint is visible
SECOND = timedelta(seconds=1)
CANARY = Canary(0.5, SECOND)
# A quarter into a second: a step's span then reaches into the periods on either side of it.
START = datetime(2026, 1, 5, 9, 0, 0, 250_000, tzinfo=UTC)
TICK = timedelta(milliseconds=100)
PER_TICK = 16  # invocations each tick while traffic flows: 160 a second


class FakeClock:
    """The time everything in a test reads (``now``), moved on only by ``sleep``, one
    ``TICK`` at a time; at each tick ``on_tick`` (the traffic, while it flows) runs and is
    answered before the clock moves on. One sleep at a time: two at once would move it twice."""

    def __init__(self) -> None:
        self.at = START
        self.on_tick: Callable[[], Awaitable[None]] | None = None
        self._sleeping = False

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        assert not self._sleeping, "two sleeps at once on one fake clock"
        self._sleeping = True
        try:
            end = self.at + timedelta(seconds=seconds)
            while self.at < end:
                self.at = min(end, self.at + TICK)
                if self.on_tick is not None:
                    await self.on_tick()
            await asyncio.sleep(0)
        finally:
            self._sleeping = False


async def at_once(seconds: float) -> None:
    """The clients' retry backoff: none (no test here is about it)."""


async def v1(event: Any, context: Any) -> Any:
    # Async, so it runs on the server's event loop, with no thread to wait for: its duration,
    # the slower version's yardstick, stays next to nothing however loaded the machine is.
    return 1


def v2(event: Any, context: Any) -> Any:
    return 2


def half_failing(seed: int) -> Callable[[Any, Any], Any]:
    """Version 3's handler: half of its invocations fail, drawn from its own seeded random."""
    draws = random.Random(seed)

    def v3(event: Any, context: Any) -> Any:
        if draws.random() < 0.5:
            raise RuntimeError("half of the orders fail")
        return 3

    return v3


async def v4(event: Any, context: Any) -> Any:
    # Never fails, but slow: LocalLambda times an execution on the real (monotonic) clock.
    await asyncio.sleep(0.05)
    return 4


@attrs.define
class Env:
    lam: LocalLambda
    client: LambdaClient
    cloudwatch: CloudWatchClient
    clock: FakeClock
    served: Counter[str] = attrs.Factory(Counter)

    def gate(self, **options: Any) -> MetricsGate:
        settings: dict[str, Any] = {
            "max_error_rate": 0.2,
            "baseline_error_rate": 0.01,
            "period": 1,
            "settle": 2 * DELAY,
            "clock": self.clock.now,
            "sleep": self.clock.sleep,
        }
        return MetricsGate(self.cloudwatch, **(settings | options))

    @contextlib.contextmanager
    def traffic(self, per_tick: int = PER_TICK) -> Iterator[None]:
        """``per_tick`` invocations through the alias at each tick of the clock, sent
        together, until the block ends."""

        async def tick() -> None:
            results = await asyncio.gather(
                *(self.client.invoke(FN, payload={}, qualifier="live") for _ in range(per_tick))
            )
            self.served.update(result.executed_version or "?" for result in results)

        self.clock.on_tick = tick
        try:
            yield
        finally:
            self.clock.on_tick = None

    async def shift(
        self,
        to_version: str,
        health_check: HealthCheck | list[HealthCheck],
        strategy: Strategy = CANARY,
        *,
        per_tick: int = PER_TICK,
    ) -> ShiftResult:
        """The shift on the fake clock, with ``per_tick`` invocations each tick all along."""
        with self.traffic(per_tick):
            return await shift_traffic(
                self.client,
                FN,
                "live",
                to_version=to_version,
                strategy=strategy,
                health_check=health_check,
                clock=self.clock.now,
                sleep=self.clock.sleep,
            )

    async def served_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Invocations per version through the alias in [start, end), read in one query."""
        queries = [
            MetricDataQuery(
                f"v{version}",
                Metric(
                    "AWS/Lambda",
                    "Invocations",
                    (
                        Dimension("FunctionName", FN),
                        Dimension("Resource", f"{FN}:live"),
                        Dimension("ExecutedVersion", version),
                    ),
                ),
                "Sum",
                1,
            )
            for version in ("1", "2")
        ]
        results = await self.cloudwatch.get_metric_data(queries, start, end).collect()
        return {key[1:]: round(sum(result.values)) for key, result in results.items()}


@contextlib.asynccontextmanager
async def environment(metrics_delay: float) -> AsyncIterator[Env]:
    clock = FakeClock()
    async with LocalLambda(seed=1, metrics_delay=metrics_delay, clock=clock.now) as lam:
        # The clients sign with the server's clock, so their signatures stay within its skew.
        settings: dict[str, Any] = {
            "credentials": lam.credentials,
            "endpoint_url": lam.endpoint_url,
            "clock": clock.now,
            "sleep": at_once,
        }
        async with (
            LambdaClient(lam.region, **settings) as client,
            CloudWatchClient(lam.region, **settings) as cloudwatch,
        ):
            for handler in (v1, v2, half_failing(7), v4):
                lam.add_function(FN, handler)
                lam.publish_version(FN)
            await client.create_alias(FN, "live", function_version="1")
            yield Env(lam, client, cloudwatch, clock)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with environment(DELAY) as env:
        yield env


def readings(result: ShiftResult) -> list[MetricsReading]:
    found = [step.health.metrics for step in result.steps if step.health is not None]
    return [reading for reading in found if reading is not None]


async def test_a_faulty_version_is_rolled_back_on_its_own_traffic(env: Env) -> None:
    result = await env.shift("3", env.gate())
    assert result.rolled_back
    assert result.reason is not None
    assert result.reason.startswith(
        "health check failed at 50%: the new version fails more often: likelihood ratio"
    )
    (reading,) = readings(result)
    assert reading.window.new_errors > 0
    assert reading.window.old_errors == 0
    assert reading.verdict.likelihood_ratio >= reading.verdict.threshold
    alias = await env.client.get_alias(FN, "live")
    assert (alias.function_version, alias.routing_config) == ("1", None)


async def test_a_healthy_version_is_promoted_and_every_period_is_read_once(env: Env) -> None:
    result = await env.shift("2", env.gate(), Linear(0.5, SECOND))
    assert result.completed, result.reason
    (reading,) = readings(result)
    assert reading.verdict.final
    assert reading.verdict.p_value is not None
    assert reading.window.new_invocations >= (reading.verdict.required_invocations or 0) > 0
    assert (await env.client.get_alias(FN, "live")).function_version == "2"


async def test_windows_follow_each_other_without_gaps_or_overlaps(env: Env) -> None:
    result = await env.shift("2", env.gate(), Linear(1 / 3, SECOND))
    assert result.completed, result.reason
    first, second = readings(result)
    assert first.end == second.start
    # One window per period, so no window mixes two weights' shares; a gate's own periods
    # add up to what its reading shows.
    assert first.periods == len(first.verdict.tally.windows) > 1
    assert second.periods > 1
    assert first.verdict.tally.windows == second.verdict.tally.windows[: first.periods]
    assert first.window == first.verdict.tally.total
    # What the two gates read adds up to one read of the whole span, once the data is in.
    await env.clock.sleep(DELAY)
    whole = await env.served_between(first.start, second.end)
    seen = second.verdict.tally.total
    assert (seen.old_invocations, seen.new_invocations) == (whole["1"], whole["2"])


async def test_late_data_is_waited_for_settle_seconds() -> None:
    late = 1.0  # seconds before a datapoint is visible
    async with environment(late) as env:
        await env.client.update_alias(FN, "live", routing_config=RoutingConfig({"2": 0.5}))
        started = env.clock.now()
        with env.traffic():
            await env.clock.sleep(1.5)
        step = StepContext(env.client, FN, "live", "1", "2", 0, 0.5, 1, started=started)
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            await env.clock.sleep(seconds)

        hasty = await env.gate(settle=0, sleep=sleep)(step)
        patient = await env.gate(settle=1.2 * late, sleep=sleep)(step)
        assert hasty.metrics is not None
        assert patient.metrics is not None
        # Every invocation was served after the shift's start and before the gates ran: the
        # patient gate sees them all, the hasty one misses the last second's.
        window = patient.metrics.window
        assert (window.old_invocations, window.new_invocations) == (
            env.served["1"],
            env.served["2"],
        )
        assert hasty.metrics.window.errors == 0
        hasty_total = hasty.metrics.window.old_invocations + hasty.metrics.window.new_invocations
        assert hasty_total < env.served.total()
        # The hasty gate waited for its window's period to end, the patient one 1.2 seconds
        # more (it began once that period had ended).
        assert slept == [pytest.approx(0.25), pytest.approx(1.2 * late)]


async def test_a_slower_version_is_rolled_back_on_its_duration(env: Env) -> None:
    result = await env.shift("4", env.gate(max_latency=0.02), Linear(0.5, SECOND))
    assert result.rolled_back
    assert result.reason is not None
    assert result.reason.startswith(
        "health check failed at 50%: the new version is slower: 90th-percentile latency"
    )
    (reading,) = readings(result)
    assert reading.verdict.healthy  # no more errors: the latency alone failed it
    assert reading.old_latency is not None
    assert reading.new_latency is not None
    assert reading.new_latency >= 0.05 > reading.old_latency + 0.02
    assert min(reading.window.old_invocations, reading.window.new_invocations) >= 100


async def test_too_little_traffic_fails_the_last_gate_saying_so(env: Env) -> None:
    result = await env.shift("2", env.gate(), per_tick=0)
    assert result.rolled_back
    assert result.reason == (
        "health check failed at 50%: too little traffic: no invocations through the alias"
    )
    # A trickle is not enough for a strict gate either: the reason says how much was needed.
    strict = env.gate(max_error_rate=0.01, baseline_error_rate=0.001, detection_rate=0.99)
    result = await env.shift("2", strict, per_tick=1)
    assert result.rolled_back
    assert result.reason is not None
    assert "too little traffic: the new version served" in result.reason
    assert "invocations where" in result.reason


async def test_composed_with_all_of_or_a_list(env: Env) -> None:
    env.lam.set_alarm_state("orders-errors", "OK")
    # Its watch polls in real time, beside the shift's sleeps on the fake clock: when it
    # reads the alarm does not change what it reads.
    alarms = AlarmGate(["orders-errors"], cloudwatch=env.cloudwatch, poll_interval=0.2)
    composed: list[HealthCheck | list[HealthCheck]] = [
        [alarms, env.gate()],
        all_of(env.gate(), alarms),
    ]
    for checks in composed:
        result = await env.shift("3", checks)
        assert result.rolled_back
        assert result.reason is not None
        assert "the new version fails more often" in result.reason
        assert readings(result)
    with pytest.raises(ValidationError, match="at most one MetricsGate"):
        all_of(env.gate(), env.gate())


@pytest.mark.parametrize("metrics_first", [True, False])
async def test_an_alarm_firing_while_the_gate_settles_rolls_back_within_a_poll(
    env: Env, metrics_first: bool
) -> None:
    env.lam.set_alarm_state("orders-errors", "OK")
    alarms = AlarmGate(["orders-errors"], cloudwatch=env.cloudwatch, poll_interval=0.05)
    settled = asyncio.Event()  # never set: only the alarm's watch can end the settle

    async def settle(seconds: float) -> None:
        env.lam.set_alarm_state("orders-errors", "ALARM", reason="fired while settling")
        await settled.wait()

    gate = env.gate(sleep=settle)
    checks: list[HealthCheck] = [gate, alarms] if metrics_first else [alarms, gate]
    result = await asyncio.wait_for(env.shift("2", checks), timeout=30)
    assert result.rolled_back
    assert result.reason == (
        "health check failed at 50%: alarm orders-errors is ALARM: fired while settling"
    )
    alias = await env.client.get_alias(FN, "live")
    assert (alias.function_version, alias.routing_config) == ("1", None)


async def test_unreadable_metrics_fail_the_gate_naming_the_error(env: Env) -> None:
    env.lam.inject("GetMetricData", ServerError(), times=100)  # every attempt fails
    result = await env.shift("2", env.gate())
    assert result.rolled_back
    assert result.reason is not None
    assert result.reason.startswith(
        "health check failed at 50%: the metrics could not be read: InternalServiceError"
        " (HTTP 500): An internal error occurred (injected). (request id "
    )
    assert not readings(result)


async def test_it_judges_steps_only(env: Env) -> None:
    gate = env.gate()
    context = StepContext(
        env.client, FN, "live", "1", "2", 0, 0.0, 1, phase=GatePhase.BEFORE_TRAFFIC
    )
    health = await gate(context)
    assert not health.healthy
    assert health.reason.endswith("it gates steps, not the before_traffic check")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("settle", -1),
        ("period", 7),
        ("period", 0),
        ("max_error_rate", 0),
        ("detection_rate", 1),
        ("max_latency", 0),
        ("latency_percentile", 95),
    ],
)
async def test_bad_parameters_are_refused_by_name(env: Env, field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        env.gate(**{field: value})
    assert caught.value.field == field
    with pytest.raises(ValidationError, match="cloudwatch must be a CloudWatchClient"):
        MetricsGate(env.client)  # type: ignore[arg-type]
