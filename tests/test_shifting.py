"""``lambdaclient.shifting.shift_traffic`` against LocalLambda over real sockets.

Every shift runs with an injected clock and sleep: the fake sleep records the wait it was asked
for, advances the fake clock and returns at once, so a ten-minute rollout takes milliseconds and
a test can assert the exact schedule. The fake sleep is also the hook for doing something *while
a step waits* (another party editing the alias, a cancellation, an injected fault).

What each test checks is the alias as the server holds it afterwards (read through a second,
independent client), not only what ``shift_traffic`` reports: a rollback that only the result
object believes in would be worse than none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs
import pytest

from lambdaclient import (
    AliasConfiguration,
    Credentials,
    FunctionConfiguration,
    InvokeResult,
    LambdaClient,
    RoutingConfig,
)
from lambdaclient.errors import (
    ConcurrentModificationError,
    ServiceException,
    ShiftRefusedError,
    ValidationError,
    WaiterError,
)
from lambdaclient.shifting import (
    AllAtOnce,
    Canary,
    GatePhase,
    GateRule,
    HealthCheck,
    HealthResult,
    InvokeProbe,
    Linear,
    Schedule,
    ShiftEvent,
    ShiftEventKind,
    ShiftResult,
    Step,
    StepContext,
    StepRecord,
    Strategy,
    VersionStats,
    shift_traffic,
)
from lambdaclient.testing import Delay, LocalLambda, MockTransport, ServerError
from lambdaclient.transport import Request, Response

SEED = 20261125
FN = "orders"
ALIAS = "live"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OTHER_ROLE = "arn:aws:iam::123456789012:role/other-role"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:dead-letters"
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
TENTHS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

K = ShiftEventKind


# --- handlers ------------------------------------------------------------------------------


def v1(event: Any, context: Any) -> Any:
    return {"version": 1}


def v2(event: Any, context: Any) -> Any:
    return {"version": 2}


def v3(event: Any, context: Any) -> Any:
    return {"version": 3}


def always_fails(event: Any, context: Any) -> Any:
    raise RuntimeError("broken release")


def also_always_fails(event: Any, context: Any) -> Any:
    raise RuntimeError("broken since forever")


# --- fake time, a recording client, and the set-up ---------------------------------------------


@attrs.define
class FakeTime:
    """A clock and a sleep: ``sleep`` records the wait, advances ``now`` by it, then runs the
    hook registered for that wait (by its 0-based number), if any."""

    now: datetime = START
    waits: list[float] = attrs.Factory(list)
    hooks: dict[int, Callable[[], Awaitable[None]]] = attrs.Factory(dict)

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        number = len(self.waits)
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)  # a real sleep yields to the loop; so does this one
        hook = self.hooks.get(number)
        if hook is not None:
            await hook()


class RecordingClient(LambdaClient):
    """A LambdaClient that remembers every ``update_alias`` it was asked to make, so a test can
    tell how many updates a shift made and that each carried a RevisionId, how many
    invocations went to each qualifier, and how many times each configuration was read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.updates: list[dict[str, Any]] = []
        self.invoked: Counter[str | None] = Counter()
        # An error to raise, instead of invoking, for a qualifier.
        self.invoke_errors: dict[str, Exception] = {}
        # Run after the server has answered update number N (0-based), before the caller
        # sees the answer: the moment a response is still in flight.
        self.after_update: dict[int, Callable[[], Awaitable[None]]] = {}
        # Seconds to hold back get_function_configuration for a qualifier.
        self.configuration_delay: dict[str, float] = {}
        self.configuration_reads: Counter[str | None] = Counter()

    async def get_function_configuration(
        self,
        function_name: str,
        *,
        qualifier: str | None = None,
        total_timeout: float | None = None,
    ) -> FunctionConfiguration:
        self.configuration_reads[qualifier] += 1
        delay = self.configuration_delay.get(qualifier or "$LATEST")
        if delay is not None:
            await asyncio.sleep(delay)
        return await super().get_function_configuration(
            function_name, qualifier=qualifier, total_timeout=total_timeout
        )

    async def invoke(
        self, function_name: str, *, qualifier: str | None = None, **kwargs: Any
    ) -> InvokeResult:
        self.invoked[qualifier] += 1
        error = self.invoke_errors.get(qualifier or "$LATEST")
        if error is not None:
            raise error
        return await super().invoke(function_name, qualifier=qualifier, **kwargs)

    async def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        routing_config: RoutingConfig | None = None,
        revision_id: str | None = None,
        total_timeout: float | None = None,
    ) -> AliasConfiguration:
        number = len(self.updates)
        self.updates.append(
            {
                "function_version": function_version,
                "routing_config": routing_config,
                "revision_id": revision_id,
            }
        )
        alias = await super().update_alias(
            function_name,
            name,
            function_version=function_version,
            description=description,
            routing_config=routing_config,
            revision_id=revision_id,
            total_timeout=total_timeout,
        )
        hook = self.after_update.get(number)
        if hook is not None:
            await hook()
        return alias


@attrs.define
class Env:
    """LocalLambda with function ``orders`` (versions 1 and 2 published, alias ``live`` on 1),
    the client the shift uses, a second client playing "someone else", fake time, and the
    progress events the shift reported."""

    lam: LocalLambda
    client: RecordingClient
    other: LambdaClient
    time: FakeTime = attrs.Factory(FakeTime)
    events: list[ShiftEvent] = attrs.Factory(list)

    async def shift(
        self,
        strategy: Strategy,
        *,
        to_version: str = "2",
        function_name: str = FN,
        health_check: HealthCheck | None = None,
        before_traffic: HealthCheck | None = None,
        after_traffic: HealthCheck | None = None,
        ready_timeout: float = 300.0,
        on_progress: Callable[[ShiftEvent], Awaitable[None] | None] | None = None,
        rollback_on_cancel: bool = True,
    ) -> ShiftResult:
        return await shift_traffic(
            self.client,
            function_name,
            ALIAS,
            to_version=to_version,
            strategy=strategy,
            health_check=health_check,
            before_traffic=before_traffic,
            after_traffic=after_traffic,
            ready_timeout=ready_timeout,
            on_progress=self.events.append if on_progress is None else on_progress,
            rollback_on_cancel=rollback_on_cancel,
            clock=self.time.clock,
            sleep=self.time.sleep,
        )

    async def alias(self, function_name: str = FN) -> AliasConfiguration:
        return await self.other.get_alias(function_name, ALIAS)

    def kinds(self) -> list[ShiftEventKind]:
        return [event.kind for event in self.events]

    def weights_set(self) -> list[float]:
        return [event.weight for event in self.events if event.kind is K.WEIGHT_SET]

    async def publish(self, handler: Callable[..., Any], **config: Any) -> str:
        self.lam.add_function(FN, handler, **config)
        version = (await self.client.publish_version(FN)).version
        assert version is not None
        return version


@contextlib.asynccontextmanager
async def environment(
    version_activation_delay: float = 0.0, session: aiohttp.ClientSession | None = None
) -> AsyncIterator[Env]:
    """The :class:`Env`; versions published later stay Pending ``version_activation_delay``
    seconds (versions 1 and 2 are made Active at once). ``session``: the shift's client's."""
    async with LocalLambda(seed=SEED, version_activation_delay=version_activation_delay) as lam:
        client = RecordingClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials, session=session
        )
        other = LambdaClient(lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials)
        async with client, other:
            setup = Env(lam, client, other)
            for handler, version in ((v1, "1"), (v2, "2")):
                assert await setup.publish(handler) == version
                lam.set_version_state(FN, version, "Active")
            await client.create_alias(FN, ALIAS, function_version="1")
            yield setup


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with environment() as setup:
        yield setup


@pytest.fixture
async def pending() -> AsyncIterator[Env]:
    """The :class:`Env` with version 3 published and Pending for an hour."""
    async with environment(version_activation_delay=3600) as setup:
        assert await setup.publish(v3) == "3"
        yield setup


def weights_of(alias: AliasConfiguration) -> dict[str, float]:
    return (
        {}
        if alias.routing_config is None
        else dict(alias.routing_config.additional_version_weights)
    )


def assert_on(alias: AliasConfiguration, version: str) -> None:
    """All traffic on ``version``: the primary, with no weights."""
    assert (alias.function_version, alias.routing_config) == (version, None)


# --- every strategy ------------------------------------------------------------------------


async def test_linear_sets_each_tenth_in_order_then_completes(env: Env) -> None:
    seen_on_server: list[dict[str, float]] = []

    async def gate(step: StepContext) -> bool:
        # What the server holds mid-step: the exact weight, no 0.30000000000000004.
        seen_on_server.append(weights_of(await env.alias()))
        assert step.weight == TENTHS[step.index]
        assert (step.from_version, step.to_version) == ("1", "2")
        return True

    started = asyncio.get_running_loop().time()
    result = await env.shift(Linear(step=0.1, interval=MINUTE), health_check=gate)

    # Nine one-minute waits: the ten-minute rollout's schedule, run without waiting.
    assert env.time.waits == [60.0] * 9
    assert sum(env.time.waits) == 540.0
    assert asyncio.get_running_loop().time() - started < 5
    assert env.weights_set() == TENTHS
    assert seen_on_server == [{"2": w} for w in TENTHS]
    assert [repr(w) for w in env.weights_set()] == [repr(w) for w in TENTHS]
    assert env.kinds() == [K.STARTED, *[K.WEIGHT_SET, K.HEALTHY] * 9, K.COMPLETED]
    # Each step starts a minute after the last, by the injected clock.
    weight_set_at = [e.at for e in env.events if e.kind is K.WEIGHT_SET]
    assert weight_set_at == [START + i * MINUTE for i in range(9)]
    assert env.events[-1].at == START + 9 * MINUTE
    assert env.events[-1].weight == 1.0

    assert result.completed
    assert not result.rolled_back
    assert result.reason is None
    assert (result.function_name, result.alias_name) == (FN, ALIAS)
    assert (result.from_version, result.to_version) == ("1", "2")
    assert [(s.index, s.weight, s.healthy) for s in result.steps] == [
        (i, w, True) for i, w in enumerate(TENTHS)
    ]
    assert [s.started_at for s in result.steps] == weight_set_at
    assert_on(result.alias, "2")
    assert await env.alias() == result.alias
    # Nine weights and the final switch, every one conditional on the revision read.
    assert len(env.client.updates) == 10
    assert all(update["revision_id"] is not None for update in env.client.updates)
    assert env.client.updates[-1]["function_version"] == "2"
    assert env.client.updates[-1]["routing_config"] == RoutingConfig({})


async def test_canary_with_an_async_progress_callback(env: Env) -> None:
    received: list[ShiftEvent] = []

    async def on_progress(event: ShiftEvent) -> None:
        await asyncio.sleep(0)
        received.append(event)

    result = await env.shift(
        Canary(weight=0.05, wait=timedelta(minutes=5)), on_progress=on_progress
    )

    assert env.time.waits == [300.0]
    assert [e.kind for e in received] == [K.STARTED, K.WEIGHT_SET, K.HEALTHY, K.COMPLETED]
    assert [e.weight for e in received if e.kind is K.WEIGHT_SET] == [0.05]
    assert received[-1].at == START + timedelta(minutes=5)
    assert result.completed
    assert [(s.weight, s.healthy) for s in result.steps] == [
        (0.05, None)
    ]  # no health check: nothing judged
    assert_on(await env.alias(), "2")


async def test_all_at_once_updates_once(env: Env) -> None:
    before = await env.alias()

    result = await env.shift(AllAtOnce())

    assert env.time.waits == []
    assert env.kinds() == [K.STARTED, K.COMPLETED]
    # An Active version is not waited for: the pre-flight's read of each version is all.
    assert env.client.configuration_reads == {"1": 1, "2": 1}
    assert env.client.updates == [
        {
            "function_version": "2",
            "routing_config": RoutingConfig({}),
            "revision_id": before.revision_id,
        }
    ]
    assert result.completed
    assert result.steps == ()
    assert_on(await env.alias(), "2")


async def test_custom_schedule(env: Env) -> None:
    strategy = Schedule(
        [
            (0.01, timedelta(minutes=2)),
            (0.25, timedelta(seconds=30)),
            (0.5, timedelta(0)),
            (0.75, timedelta(minutes=10)),
        ]
    )

    result = await env.shift(strategy)

    assert env.time.waits == [120.0, 30.0, 0.0, 600.0]
    assert env.weights_set() == [0.01, 0.25, 0.5, 0.75]
    assert [s.weight for s in result.steps] == [0.01, 0.25, 0.5, 0.75]
    assert result.completed
    assert_on(await env.alias(), "2")


@pytest.mark.parametrize(
    ("step", "weights"),
    [
        (0.25, [0.25, 0.5, 0.75]),
        (0.3, [0.3, 0.6, 0.9]),
        (0.5, [0.5]),
        (0.9, [0.9]),
        (1 / 3, [0.333333333, 0.666666667]),
    ],
)
def test_linear_steps_stop_short_of_all_traffic(step: float, weights: list[float]) -> None:
    # No step reaches 1.0: the final switch is a separate update that clears the weights.
    assert [s.weight for s in Linear(step, MINUTE).steps()] == weights


@pytest.mark.parametrize(
    "strategy",
    [
        pytest.param(Linear(0, MINUTE), id="linear-0"),
        pytest.param(Linear(1, MINUTE), id="linear-1"),
        pytest.param(Linear(math.nan, MINUTE), id="linear-nan"),
        pytest.param(Linear(-0.1, MINUTE), id="linear-negative"),
        pytest.param(Linear(0.1, timedelta(seconds=-1)), id="linear-negative-wait"),
        pytest.param(Canary(0, MINUTE), id="canary-0"),
        pytest.param(Canary(1, MINUTE), id="canary-1"),
        pytest.param(Canary(1.5, MINUTE), id="canary-above-1"),
        pytest.param(Canary(math.nan, MINUTE), id="canary-nan"),
        pytest.param(Canary(0.1, timedelta(seconds=-1)), id="canary-negative-wait"),
        pytest.param(Schedule([(0.5, MINUTE), (0.3, MINUTE)]), id="schedule-falling"),
        pytest.param(Schedule([(0.3, MINUTE), (0.3, MINUTE)]), id="schedule-flat"),
        pytest.param(Schedule([(0.0, MINUTE), (0.3, MINUTE)]), id="schedule-0"),
        pytest.param(Schedule([(0.3, MINUTE), (1.0, MINUTE)]), id="schedule-1"),
        pytest.param(Schedule([(0.3, MINUTE), (math.nan, MINUTE)]), id="schedule-nan"),
        pytest.param(
            Schedule([(0.3, MINUTE), (0.6, timedelta(seconds=-1))]), id="schedule-negative-wait"
        ),
    ],
)
async def test_invalid_strategy_is_refused_before_any_change(env: Env, strategy: Strategy) -> None:
    before = await env.alias()

    with pytest.raises(ValidationError) as caught:
        await env.shift(strategy)

    assert caught.value.field == "strategy"
    assert await env.alias() == before  # same revision: nothing was sent
    assert env.client.updates == []
    assert env.events == []
    assert env.time.waits == []


@attrs.frozen
class CustomStrategy:
    """A strategy of the caller's own: the ``Strategy`` protocol is public."""

    weights: tuple[float, ...]

    def steps(self) -> tuple[Step, ...]:
        return tuple(Step(weight, MINUTE) for weight in self.weights)


async def test_custom_strategy_with_invalid_steps_is_refused_before_any_change(env: Env) -> None:
    before = await env.alias()

    with pytest.raises(ValidationError):
        await env.shift(CustomStrategy((0.2, 1.5)))

    assert env.client.updates == []
    assert await env.alias() == before


# --- health gates --------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", [AllAtOnce(), Schedule([])], ids=["all-at-once", "empty"])
async def test_a_health_check_with_no_steps_to_gate_is_refused_before_anything_is_read(
    env: Env, strategy: Strategy
) -> None:
    before = await env.alias()

    with pytest.raises(ValidationError, match="after_traffic=") as caught:
        await env.shift(strategy, health_check=InvokeProbe())

    assert caught.value.field == "health_check"
    assert env.client.configuration_reads == {}
    assert env.client.invoked == {}
    assert env.client.updates == []
    assert env.events == []
    assert await env.alias() == before


async def test_failed_gate_rolls_back(env: Env) -> None:
    asked: list[int] = []

    async def gate(step: StepContext) -> bool:
        asked.append(step.index)
        return step.index != 1  # the second step's gate fails

    result = await env.shift(Linear(0.1, MINUTE), health_check=gate)

    assert asked == [0, 1]
    assert env.weights_set() == [0.1, 0.2]
    assert env.time.waits == [60.0, 60.0]
    assert result.rolled_back
    assert not result.completed
    assert result.reason == "health check failed at 20%"
    assert [(s.weight, s.healthy) for s in result.steps] == [(0.1, True), (0.2, False)]
    assert env.kinds()[-4:] == [K.WEIGHT_SET, K.UNHEALTHY, K.ROLLING_BACK, K.ROLLED_BACK]
    assert env.events[-1].weight == 0.0
    assert_on(result.alias, "1")
    assert_on(await env.alias(), "1")


async def test_raising_health_check_rolls_back(env: Env) -> None:
    async def gate(step: StepContext) -> bool:
        raise RuntimeError("metrics store unreachable")

    result = await env.shift(Canary(0.05, MINUTE), health_check=gate)

    assert result.rolled_back
    assert not result.completed
    message = "health check raised RuntimeError: metrics store unreachable"
    assert result.reason == f"health check failed at 5%: {message}"
    unhealthy = next(e for e in env.events if e.kind is K.UNHEALTHY)
    assert unhealthy.message == message
    assert [s.healthy for s in result.steps] == [False]
    assert result.steps[0].health == HealthResult(False, message)
    assert_on(await env.alias(), "1")


# --- InvokeProbe ---------------------------------------------------------------------------


def counting_failures(rate: float, version: int) -> tuple[Callable[..., Any], list[int]]:
    """A handler failing ``rate`` of its calls (seeded), and a one-item list counting them."""
    draws = random.Random(SEED)
    raised = [0]

    def handler(event: Any, context: Any) -> Any:
        if draws.random() < rate:
            raised[0] += 1
            raise RuntimeError("broken release")
        return {"version": version}

    return handler, raised


def pairs_of(step: StepRecord) -> int:
    assert step.health is not None
    return step.health.stats["1"].invocations


async def test_probe_at_its_defaults_passes_a_healthy_version_and_rolls_back_a_bad_one(
    env: Env,
) -> None:
    # One probe object serves both shifts: it keeps no state between them.
    probe = InvokeProbe(payload={"ping": True})
    budget = GateRule().budget
    strategy = Linear(0.25, MINUTE)

    healthy = await env.shift(strategy, health_check=probe)

    assert healthy.completed
    # Every pair called each version directly, never the alias: the sample does not depend
    # on the weight.
    assert env.client.invoked == {"1": budget, "2": budget}
    assert env.lam.executions(FN, "1") == env.lam.executions(FN, "2") == budget
    assert healthy.stats["1"].invocations == healthy.stats["2"].invocations == budget
    # The budget spread evenly over the three gates.
    first = math.ceil(budget / 3)
    second = math.ceil((budget - first) / 2)
    assert [pairs_of(s) for s in healthy.steps] == [first, second, budget - first - second]
    verdicts = [s.health.verdict for s in healthy.steps if s.health is not None]
    assert [v.tally.pairs for v in verdicts if v is not None] == [
        first,
        first + second,
        budget,
    ]
    last = healthy.steps[-1].health
    assert last is not None
    assert last.verdict is not None
    assert last.verdict.final
    assert last.verdict.p_value == 1.0  # no pair told the versions apart
    assert last.reason.startswith("no higher error rate: sign test p = 1 > 0.008")

    bad, raised = counting_failures(0.3, 3)
    assert await env.publish(bad) == "3"
    env.client.invoked.clear()

    result = await env.shift(strategy, to_version="3", health_check=probe)

    assert result.rolled_back
    assert result.reason is not None
    assert result.reason.startswith("health check failed at 25%: the new version fails more")
    assert "likelihood ratio" in result.reason
    assert_on(await env.alias(), "2")
    health = result.steps[-1].health
    assert health is not None
    assert health.verdict is not None
    tally = health.verdict.tally
    # Caught by the continuous check at the first gate, long before the budget was spent.
    assert health.verdict.likelihood_ratio >= health.verdict.threshold
    assert tally.pairs < budget / 3
    assert tally.new_only > 10 * tally.old_only
    # The statistics count every pair that finished, the ones after the crossing too.
    assert result.stats["3"].invocations == result.stats["2"].invocations >= tally.pairs
    assert tally.new_only + tally.both_failed <= result.stats["3"].errors <= raised[0]
    assert result.stats["2"].errors == 0
    assert set(env.client.invoked) == {"2", "3"}
    unhealthy = next(e for e in env.events if e.kind is K.UNHEALTHY)
    assert unhealthy.health == health
    assert unhealthy.message == health.reason


async def test_probe_spreads_a_resumed_shifts_budget_over_the_gates_left(env: Env) -> None:
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"2": 0.5}))
    probe = InvokeProbe(max_error_rate=0.2)
    budget = probe.rule.budget

    result = await env.shift(Linear(0.25, MINUTE), health_check=probe)

    assert result.completed
    assert [(s.weight, pairs_of(s)) for s in result.steps] == [(0.75, budget)]


async def test_probe_counts_a_call_that_cannot_reach_its_version_against_it(env: Env) -> None:
    env.client.invoke_errors["2"] = ServiceException("ServiceException", "unreachable", status=500)
    probe = InvokeProbe(max_error_rate=0.2)

    result = await env.shift(Canary(0.1, MINUTE), health_check=probe)

    assert result.rolled_back
    assert result.stats["2"].errors == result.stats["2"].invocations > 0
    assert result.stats["1"].errors == 0
    assert_on(await env.alias(), "1")


async def test_probe_never_passes_without_evidence(env: Env) -> None:
    # Both versions fail every call: no pair can tell them apart, and no number of pairs
    # could show the new one failing 20 points more often than an old one that always fails.
    env.lam.add_function("dead", always_fails)
    await env.client.publish_version("dead")
    env.lam.add_function("dead", also_always_fails)
    await env.client.publish_version("dead")
    await env.client.create_alias("dead", ALIAS, function_version="1")

    result = await env.shift(
        Linear(0.25, MINUTE), function_name="dead", health_check=InvokeProbe(max_error_rate=0.2)
    )

    assert result.rolled_back
    assert result.reason is not None
    assert result.reason.startswith("health check failed at 25%: too little evidence")
    assert result.stats["2"].error_rate == result.stats["1"].error_rate == 1.0
    assert_on(await env.alias("dead"), "1")


async def test_probe_fails_the_last_gate_when_its_budget_exceeds_max_invocations(
    env: Env,
) -> None:
    probe = InvokeProbe(max_error_rate=0.2, max_invocations=40)

    result = await env.shift(Canary(0.1, MINUTE), health_check=probe)

    assert result.rolled_back
    assert result.reason is not None
    assert "too little evidence: 20 pairs where" in result.reason
    assert env.client.invoked == {"1": 20, "2": 20}


async def test_probe_passes_a_version_failing_less_than_the_old_one(env: Env) -> None:
    old, _ = counting_failures(0.3, 1)
    env.lam.add_function("better", old)
    await env.client.publish_version("better")
    env.lam.add_function("better", v2)
    await env.client.publish_version("better")
    await env.client.create_alias("better", ALIAS, function_version="1")
    probe = InvokeProbe(max_error_rate=0.2)

    result = await env.shift(Canary(0.1, MINUTE), function_name="better", health_check=probe)

    assert result.completed
    assert result.stats["1"].error_rate > 0.2
    assert result.stats["2"].errors == 0
    # The old version's observed rate is above baseline_error_rate: the budget grew with it.
    assert result.stats["2"].invocations > probe.rule.budget


@pytest.mark.parametrize(("max_latency", "completed"), [(0.02, False), (5.0, True)])
async def test_probe_latency_threshold(env: Env, max_latency: float, completed: bool) -> None:
    async def slow(event: Any, context: Any) -> Any:
        await asyncio.sleep(0.05)  # real time: the probe measures the wall clock
        return {"version": 3}

    await env.publish(slow)
    probe = InvokeProbe(max_error_rate=0.15, max_latency=max_latency)

    result = await env.shift(Canary(0.5, MINUTE), to_version="3", health_check=probe)

    stats = result.stats["3"]
    assert stats.invocations >= 100  # the fewest calls latencies are compared on
    assert stats.errors == 0
    assert stats.p50_latency is not None
    assert stats.p50_latency >= 0.05
    assert result.completed is completed
    if not completed:
        assert result.reason is not None
        assert "the new version is slower" in result.reason
    assert_on(await env.alias(), "3" if completed else "1")


async def test_probe_does_not_judge_latency_on_a_few_calls(env: Env) -> None:
    probe = InvokeProbe(max_error_rate=0.6, max_latency=5.0)

    result = await env.shift(Canary(0.5, MINUTE), health_check=probe)

    assert result.stats["2"].invocations < 100
    assert result.rolled_back
    assert result.reason is not None
    assert "too little evidence to compare latencies" in result.reason


async def test_a_health_check_may_return_a_result_with_its_evidence(env: Env) -> None:
    seen: list[tuple[int, int, tuple[HealthResult, ...]]] = []
    stats = {"2": VersionStats(10, 4, [0.1] * 10)}

    async def gate(step: StepContext) -> HealthResult:
        seen.append((step.index, step.step_count, step.history))
        if step.index < 2:
            return HealthResult(True, f"fine at {step.weight:.0%}")
        return HealthResult(False, "4 of 10 checkouts failed", stats)

    result = await env.shift(Linear(0.25, MINUTE), health_check=gate)

    assert result.rolled_back
    assert result.reason == "health check failed at 75%: 4 of 10 checkouts failed"
    assert [(index, count) for index, count, _ in seen] == [(0, 3), (1, 3), (2, 3)]
    assert [len(history) for _, _, history in seen] == [0, 1, 2]
    assert seen[2][2] == tuple(s.health for s in result.steps[:2])
    assert [s.healthy for s in result.steps] == [True, True, False]
    assert result.stats == stats
    assert [e.message for e in env.events if e.kind in (K.HEALTHY, K.UNHEALTHY)] == [
        "fine at 25%",
        "fine at 50%",
        "4 of 10 checkouts failed",
    ]


# --- before and after traffic ------------------------------------------------------------------


async def test_before_traffic_probe_passes_then_the_shift_runs(env: Env) -> None:
    probe = InvokeProbe(max_error_rate=0.2)
    budget = probe.rule.budget

    result = await env.shift(Canary(0.1, MINUTE), before_traffic=probe)

    assert result.completed
    assert result.before_traffic is not None
    assert result.before_traffic.healthy
    # A single test of its own: the whole budget at once, on calls made directly.
    assert result.before_traffic.stats["2"].invocations == budget
    assert env.client.invoked == {"1": budget, "2": budget}
    assert env.events[0].kind is K.STARTED
    assert env.events[0].health == result.before_traffic
    assert result.stats == result.before_traffic.stats


@pytest.mark.parametrize(
    ("check", "reason"),
    [
        pytest.param(None, "the new version fails more often", id="probe"),
        pytest.param(False, "it returned False", id="false"),
        pytest.param(RuntimeError("smoke test crashed"), "RuntimeError: smoke test", id="raises"),
    ],
)
async def test_failing_before_traffic_refuses_the_shift_with_nothing_changed(
    env: Env, check: bool | Exception | None, reason: str
) -> None:
    assert await env.publish(always_fails) == "3"
    phases: list[tuple[GatePhase, int, float]] = []

    async def gate(step: StepContext) -> bool:
        phases.append((step.phase, step.index, step.weight))
        if isinstance(check, Exception):
            raise check
        return bool(check)

    before = await env.alias()
    probe = InvokeProbe(max_error_rate=0.2) if check is None else gate

    with pytest.raises(ShiftRefusedError, match="the before_traffic check failed: ") as caught:
        await env.shift(Linear(0.25, MINUTE), to_version="3", before_traffic=probe)

    assert reason in str(caught.value)
    assert await env.alias() == before  # same revision: nothing was changed
    assert env.client.updates == []
    assert env.events == []
    assert phases == ([] if check is None else [(GatePhase.BEFORE_TRAFFIC, 0, 0.0)])


async def test_failing_after_traffic_rolls_back_from_all_traffic(env: Env) -> None:
    assert await env.publish(always_fails) == "3"
    seen: list[tuple[GatePhase, int, float, tuple[HealthResult, ...]]] = []

    async def step_gate(step: StepContext) -> bool:
        return True  # the steps do not catch it

    probe = InvokeProbe(max_error_rate=0.2)

    async def after(step: StepContext) -> HealthResult:
        seen.append((step.phase, step.index, step.weight, step.history))
        assert_on(await env.alias(), "3")  # it runs with all traffic on the new version
        return await probe(step)

    result = await env.shift(
        Linear(0.5, MINUTE), to_version="3", health_check=step_gate, after_traffic=after
    )

    assert seen == [(GatePhase.AFTER_TRAFFIC, 1, 1.0, ())]
    assert result.rolled_back
    assert not result.completed
    assert result.reason is not None
    assert result.reason.startswith("after_traffic check failed: the new version fails more")
    assert result.after_traffic is not None
    assert result.after_traffic.stats["3"].error_rate == 1.0
    assert_on(await env.alias(), "1")
    assert_on(result.alias, "1")
    # The rollback, like every update, was conditional on the revision last read.
    assert env.client.updates[-1]["function_version"] == "1"
    assert all(update["revision_id"] is not None for update in env.client.updates)
    assert env.kinds() == [
        K.STARTED,
        K.WEIGHT_SET,
        K.HEALTHY,
        K.UNHEALTHY,
        K.ROLLING_BACK,
        K.ROLLED_BACK,
    ]
    unhealthy = env.events[3]
    assert (unhealthy.weight, unhealthy.index, unhealthy.health) == (
        1.0,
        None,
        result.after_traffic,
    )


async def test_passing_after_traffic_completes(env: Env) -> None:
    probe = InvokeProbe(max_error_rate=0.2)

    result = await env.shift(Canary(0.1, MINUTE), after_traffic=probe)

    assert result.completed
    assert result.after_traffic is not None
    assert result.after_traffic.healthy
    assert env.kinds()[-2:] == [K.HEALTHY, K.COMPLETED]
    assert_on(await env.alias(), "2")


# --- a concurrent edit -----------------------------------------------------------------------


async def test_concurrent_edit_during_a_gate_stops_without_overwriting(env: Env) -> None:
    theirs: list[AliasConfiguration] = []

    async def gate(step: StepContext) -> bool:
        if step.index == 1:
            alias = await env.alias()
            theirs.append(
                await env.other.update_alias(
                    FN, ALIAS, description="frozen for the incident", revision_id=alias.revision_id
                )
            )
        return True

    with pytest.raises(ConcurrentModificationError) as caught:
        await env.shift(Linear(0.1, MINUTE), health_check=gate)

    assert (caught.value.function_name, caught.value.alias_name) == (FN, ALIAS)
    # Their change stands exactly as they made it: no further update, no rollback over it.
    assert await env.alias() == theirs[0]
    assert theirs[0].description == "frozen for the incident"
    assert weights_of(theirs[0]) == {"2": 0.2}
    assert K.ROLLING_BACK not in env.kinds()
    assert env.weights_set() == [0.1, 0.2]
    assert len(env.client.updates) == 3  # 0.1, 0.2, and the refused 0.3


async def test_concurrent_weight_change_during_a_wait_stops_without_overwriting(
    env: Env,
) -> None:
    async def someone_else_shifts() -> None:
        await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"2": 0.5}))

    env.time.hooks[0] = someone_else_shifts

    with pytest.raises(ConcurrentModificationError):
        await env.shift(Canary(0.05, MINUTE))

    alias = await env.alias()
    assert (alias.function_version, weights_of(alias)) == ("1", {"2": 0.5})
    assert K.COMPLETED not in env.kinds()
    assert K.ROLLING_BACK not in env.kinds()


async def test_concurrent_edit_before_a_rollback_is_not_rolled_over(env: Env) -> None:
    # The gate fails, but someone else has meanwhile put the alias back themselves with a
    # note: the rollback must not overwrite that either.
    async def gate(step: StepContext) -> bool:
        await env.other.update_alias(
            FN,
            ALIAS,
            function_version="1",
            description="rolled back by hand",
            routing_config=RoutingConfig({}),
        )
        return False

    with pytest.raises(ConcurrentModificationError):
        await env.shift(Canary(0.05, MINUTE), health_check=gate)

    alias = await env.alias()
    assert alias.description == "rolled back by hand"
    assert_on(alias, "1")
    assert K.ROLLED_BACK not in env.kinds()


# --- cancellation ----------------------------------------------------------------------------


async def start_and_cancel_in_third_wait(env: Env, *, rollback_on_cancel: bool) -> None:
    """Run a Linear(0.1) shift in a task, cancel it while it waits after setting 30%."""
    waiting = asyncio.Event()

    async def block() -> None:
        waiting.set()
        await asyncio.get_running_loop().create_future()  # until cancelled

    env.time.hooks[2] = block
    task = asyncio.create_task(
        env.shift(Linear(0.1, MINUTE), rollback_on_cancel=rollback_on_cancel)
    )
    await waiting.wait()
    mid = await env.alias()
    assert (mid.function_version, weights_of(mid)) == ("1", {"2": 0.3})

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_cancellation_rolls_back(env: Env) -> None:
    await start_and_cancel_in_third_wait(env, rollback_on_cancel=True)

    assert_on(await env.alias(), "1")
    assert env.kinds()[-2:] == [K.ROLLING_BACK, K.ROLLED_BACK]
    assert env.events[-1].message == "the shift was cancelled"


async def test_cancellation_without_rollback_leaves_the_alias_where_it_was(env: Env) -> None:
    await start_and_cancel_in_third_wait(env, rollback_on_cancel=False)

    alias = await env.alias()
    assert (alias.function_version, weights_of(alias)) == ("1", {"2": 0.3})
    assert K.ROLLING_BACK not in env.kinds()


async def test_cancellation_during_a_health_check_rolls_back(env: Env) -> None:
    checking = asyncio.Event()

    async def gate(step: StepContext) -> bool:
        checking.set()
        await asyncio.get_running_loop().create_future()  # a probe that never answers
        return True

    task = asyncio.create_task(env.shift(Canary(0.05, MINUTE), health_check=gate))
    await checking.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_on(await env.alias(), "1")
    assert K.UNHEALTHY not in env.kinds()  # cancelled, not judged
    assert env.kinds()[-1] is K.ROLLED_BACK


async def test_second_cancellation_does_not_interrupt_the_rollback(env: Env) -> None:
    # An impatient caller cancels again (a second Ctrl-C) while the rollback is under way:
    # the rollback still finishes, then the task ends cancelled.
    task: asyncio.Task[ShiftResult] | None = None
    waiting = asyncio.Event()

    async def on_progress(event: ShiftEvent) -> None:
        env.events.append(event)
        if event.kind is K.ROLLING_BACK:
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)

    async def block() -> None:
        waiting.set()
        await asyncio.get_running_loop().create_future()

    env.time.hooks[1] = block
    task = asyncio.create_task(env.shift(Linear(0.1, MINUTE), on_progress=on_progress))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_on(await env.alias(), "1")
    assert env.kinds()[-2:] == [K.ROLLING_BACK, K.ROLLED_BACK]


async def test_cancellation_while_an_update_is_in_flight_rolls_back(env: Env) -> None:
    in_flight = asyncio.Event()

    async def response_in_flight() -> None:
        in_flight.set()
        await asyncio.get_running_loop().create_future()  # the answer never arrives

    env.client.after_update[2] = response_in_flight  # the 30% update, applied by the server
    task = asyncio.create_task(env.shift(Linear(0.1, MINUTE)))
    await in_flight.wait()
    assert weights_of(await env.alias()) == {"2": 0.3}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_on(await env.alias(), "1")


# --- errors mid-shift ------------------------------------------------------------------------


async def test_server_error_mid_shift_rolls_back_and_says_so(env: Env) -> None:
    async def fail_next_update() -> None:
        # UpdateAlias is a write: a 500 is not retried, so one fault fails the next step.
        env.lam.inject("UpdateAlias", ServerError(500))

    env.time.hooks[1] = fail_next_update

    with pytest.raises(ServiceException) as caught:
        await env.shift(Linear(0.1, MINUTE))

    assert caught.value.__notes__ == ["alias live was rolled back to version 1"]
    assert env.weights_set() == [0.1, 0.2]
    assert_on(await env.alias(), "1")
    assert env.kinds()[-2:] == [K.ROLLING_BACK, K.ROLLED_BACK]
    assert env.events[-1].message.startswith("ServiceException: ")


async def test_failed_rollback_is_noted_on_the_error(env: Env) -> None:
    async def fail_next_two_updates() -> None:
        env.lam.inject("UpdateAlias", ServerError(500), times=2)

    env.time.hooks[1] = fail_next_two_updates

    with pytest.raises(ServiceException) as caught:
        await env.shift(Linear(0.1, MINUTE))

    assert len(caught.value.__notes__) == 1
    assert caught.value.__notes__[0].startswith("rolling back alias live failed: ")
    # Nothing more could be done: the alias is where the last successful update left it.
    alias = await env.alias()
    assert (alias.function_version, weights_of(alias)) == ("1", {"2": 0.2})


async def test_progress_callback_error_rolls_back_and_says_so(env: Env) -> None:
    def on_progress(event: ShiftEvent) -> None:
        env.events.append(event)
        if event.kind is K.WEIGHT_SET and event.index == 2:
            raise RuntimeError("display crashed")

    with pytest.raises(RuntimeError, match="display crashed") as caught:
        await env.shift(Linear(0.1, MINUTE), on_progress=on_progress)

    assert caught.value.__notes__ == ["alias live was rolled back to version 1"]
    assert_on(await env.alias(), "1")
    assert env.kinds()[-2:] == [K.ROLLING_BACK, K.ROLLED_BACK]


async def test_rollback_does_not_depend_on_the_progress_callback(env: Env) -> None:
    def on_progress(event: ShiftEvent) -> None:
        if event.kind is not K.STARTED:
            raise RuntimeError("display crashed")

    with pytest.raises(RuntimeError, match="display crashed"):
        await env.shift(Linear(0.1, MINUTE), on_progress=on_progress)

    assert_on(await env.alias(), "1")


def probe_step(transport: MockTransport, index: int = 0, step_count: int = 1) -> StepContext:
    """A gate's context for a probe whose client answers from ``transport``."""
    client = LambdaClient(
        "us-east-1", credentials=Credentials("AKIDEXAMPLE", "secret"), transport=transport
    )
    return StepContext(client, FN, ALIAS, "1", "2", index, 0.1, step_count)


def qualifier_of(request: Request) -> str:
    return request.url.rsplit("Qualifier=", 1)[1]


async def test_probe_call_raising_cancels_its_partner_and_raises_itself() -> None:
    old_started = asyncio.Event()
    old_cancelled: list[bool] = []

    async def handler(request: Request) -> Response:
        if qualifier_of(request) == "1":
            old_started.set()
            try:
                await asyncio.Event().wait()  # never answers
            except asyncio.CancelledError:
                old_cancelled.append(True)
                raise
        await old_started.wait()
        raise RuntimeError("a bug, not a LambdaError")

    step = probe_step(MockTransport(handler))
    async with step.client:
        with pytest.raises(RuntimeError, match="a bug, not a LambdaError"):
            await InvokeProbe(concurrency=1)(step)

    assert old_cancelled == [True]


async def test_probe_counts_every_finished_pair_in_its_stats_and_judges_in_start_order() -> None:
    # Every new call fails. The first pair's old call answers only once the next 19 pairs
    # have finished, and the pairs after those never answer: when the continuous check
    # crosses, 20 pairs are done, fewer judged, and the 19 started since still running.
    others_answered = asyncio.Event()
    old_calls = 0
    cancelled: list[int] = []

    async def handler(request: Request) -> Response:
        nonlocal old_calls
        if qualifier_of(request) == "2":
            return Response(200, {"X-Amz-Function-Error": "Unhandled"}, b'{"errorType": "E"}')
        old_calls += 1
        number = old_calls
        if number == 1:
            await others_answered.wait()
            await asyncio.sleep(0.1)  # for the other pairs to finish
        elif number == 20:
            others_answered.set()
        elif number > 20:
            try:
                await asyncio.Event().wait()  # never answers
            except asyncio.CancelledError:
                cancelled.append(number)
                raise
        return Response(200, {}, b"{}")

    step = probe_step(MockTransport(handler))
    async with step.client:
        health = await InvokeProbe(max_error_rate=0.2, concurrency=20)(step)

    assert not health.healthy
    assert health.verdict is not None
    tally = health.verdict.tally
    assert tally.pairs == tally.new_only < 20  # judged in start order, up to the crossing
    assert health.stats["1"].invocations == health.stats["2"].invocations == 20
    assert health.stats["2"].errors == 20
    assert health.stats["1"].errors == 0
    assert sorted(cancelled) == list(range(21, 40))  # none left running


# --- resuming --------------------------------------------------------------------------------


async def test_interrupted_shift_resumes_from_the_current_weight(env: Env) -> None:
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"2": 0.3}))

    result = await env.shift(Linear(0.1, MINUTE))

    assert env.events[0].kind is K.STARTED
    assert env.events[0].weight == 0.3
    assert env.events[0].message == "from version 1, resuming at 30%"
    assert env.weights_set() == [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert [(s.index, s.weight) for s in result.steps] == [
        (i, w) for i, w in enumerate(TENTHS) if w > 0.3
    ]
    assert env.time.waits == [60.0] * 6
    assert result.completed
    assert_on(await env.alias(), "2")


async def test_resumed_shift_past_every_step_without_a_health_check_just_completes(
    env: Env,
) -> None:
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"2": 0.3}))

    result = await env.shift(Canary(0.05, MINUTE))

    assert result.steps == ()
    assert env.time.waits == []
    assert len(env.client.updates) == 1
    assert_on(await env.alias(), "2")


async def test_resumed_shift_past_every_step_is_gated_once_as_the_last_step(env: Env) -> None:
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"2": 0.9}))
    probe = InvokeProbe(max_error_rate=0.2)

    result = await env.shift(Linear(0.1, MINUTE), health_check=probe)

    assert result.completed
    # The last step's gate at the weight found, with that gate's whole budget.
    assert [(s.index, s.weight, s.healthy) for s in result.steps] == [(8, 0.9, True)]
    assert pairs_of(result.steps[0]) == probe.rule.budget
    assert env.time.waits == []
    assert env.kinds() == [K.STARTED, K.HEALTHY, K.COMPLETED]
    assert_on(await env.alias(), "2")


async def test_resumed_shift_past_every_step_rolls_a_failing_version_back(env: Env) -> None:
    assert await env.publish(always_fails) == "3"
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"3": 0.9}))

    result = await env.shift(
        Linear(0.1, MINUTE), to_version="3", health_check=InvokeProbe(max_error_rate=0.2)
    )

    assert result.rolled_back
    assert not result.completed
    assert result.reason is not None
    assert result.reason.startswith("health check failed at 90%: the new version fails more")
    assert [(s.index, s.weight, s.healthy) for s in result.steps] == [(8, 0.9, False)]
    assert result.stats["3"].errors == result.stats["3"].invocations > 0
    assert env.kinds() == [K.STARTED, K.UNHEALTHY, K.ROLLING_BACK, K.ROLLED_BACK]
    assert_on(await env.alias(), "1")


# --- pre-flight refusals ---------------------------------------------------------------------


async def assert_refused(env: Env, to_version: str, match: str) -> None:
    before = await env.alias()
    with pytest.raises(ShiftRefusedError, match=match):
        await env.shift(Linear(0.1, MINUTE), to_version=to_version)
    assert await env.alias() == before  # same revision: nothing changed
    assert env.client.updates == []
    assert env.events == []


@pytest.mark.parametrize(
    ("to_version", "match"),
    [
        pytest.param("$LATEST", "published version number", id="latest"),
        pytest.param(ALIAS, "published version number", id="alias-name"),
        pytest.param("99", "version 99 of orders does not exist", id="missing"),
        pytest.param("1", "already sends its traffic to version 1", id="already-primary"),
    ],
)
async def test_refuses_a_target_it_cannot_shift_to(env: Env, to_version: str, match: str) -> None:
    await assert_refused(env, to_version, match)


async def test_refuses_when_the_primary_is_latest(env: Env) -> None:
    await env.other.update_alias(FN, ALIAS, function_version="$LATEST")
    await assert_refused(env, "2", "published primary version")


async def test_refuses_a_different_execution_role(env: Env) -> None:
    assert await env.publish(v3, role=OTHER_ROLE) == "3"
    await assert_refused(env, "3", "different execution roles")


async def test_refuses_a_different_dead_letter_target(env: Env) -> None:
    assert await env.publish(v3, dead_letter_target_arn=QUEUE) == "3"
    await assert_refused(env, "3", "different dead-letter configurations")


async def test_same_role_and_dead_letter_target_shift(env: Env) -> None:
    # The comparison is by value: two versions sharing a queue and a role are fine.
    config = {"role": OTHER_ROLE, "dead_letter_target_arn": QUEUE}
    old = await env.publish(v3, **config)
    new = await env.publish(always_fails, **config)
    await env.other.update_alias(FN, ALIAS, function_version=old)

    result = await env.shift(Canary(0.1, MINUTE), to_version=new)

    assert result.completed
    assert_on(await env.alias(), new)


async def test_refuses_an_alias_mid_shift_to_another_version(env: Env) -> None:
    assert await env.publish(v3) == "3"
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"3": 0.2}))
    await assert_refused(env, "2", "mid-shift to version 3")


async def test_refusal_leaves_no_request_running(env: Env) -> None:
    env.client.configuration_delay["1"] = 0.05  # the primary's answer comes after the 404

    with pytest.raises(ShiftRefusedError, match="does not exist"):
        await env.shift(Linear(0.1, MINUTE), to_version="99")

    running = [
        task
        for task in asyncio.all_tasks()
        if not task.done() and "_Shift" in getattr(task.get_coro(), "__qualname__", "")
    ]
    await asyncio.sleep(0.1)  # let the stray read finish before the client closes
    assert running == []


# --- readiness -------------------------------------------------------------------------------

CREATING = "Pending (Creating: The function is being created.)"


def put_state(env: Env, version: str, state: str, **reason: str) -> Callable[[], Awaitable[None]]:
    """A hook that puts ``version`` in ``state``, as Lambda would meanwhile."""

    async def hook() -> None:
        env.lam.set_version_state(FN, version, state, **reason)

    return hook


async def test_waits_for_a_pending_version_then_shifts(pending: Env) -> None:
    states: list[str | None] = []

    async def before(step: StepContext) -> bool:
        # It runs once the version can take traffic: a probe of a Pending one meets 409s.
        states.append((await pending.other.get_function_configuration(FN, qualifier="3")).state)
        return True

    pending.time.hooks[1] = put_state(pending, "3", "Active")  # Lambda readies it meanwhile

    result = await pending.shift(Canary(0.1, MINUTE), to_version="3", before_traffic=before)

    assert pending.time.waits == [5.0, 5.0, 60.0]
    assert pending.kinds() == [K.WAITING, K.READY, K.STARTED, K.WEIGHT_SET, K.HEALTHY, K.COMPLETED]
    waiting, ready = pending.events[:2]
    assert waiting.message == f"version 3 is {CREATING}; waiting up to 300s for it to be Active"
    assert (waiting.at, waiting.weight, waiting.index) == (START, 0.0, None)
    assert (ready.message, ready.at) == ("version 3 is Active after 10s", START + 10 * SECOND)
    assert states == ["Active"]
    # The pre-flight's read is the wait's first: one read before the pauses, one after each.
    assert pending.client.configuration_reads["3"] == 3
    assert result.completed
    assert_on(await pending.alias(), "3")


async def test_waits_through_a_real_activation_delay() -> None:
    async with environment(version_activation_delay=0.3) as env:
        assert await env.publish(v3) == "3"

        async def real_pause() -> None:
            await asyncio.sleep(0.05)

        env.time.hooks = dict.fromkeys(range(1000), real_pause)
        probe = InvokeProbe(max_error_rate=0.2)

        result = await env.shift(AllAtOnce(), to_version="3", before_traffic=probe)

        assert env.kinds() == [K.WAITING, K.READY, K.STARTED, K.COMPLETED]
        assert set(env.time.waits) == {5.0}  # at least one pause, each of 5 seconds
        # The probe before traffic met an Active version: none of its calls failed.
        assert result.before_traffic is not None
        assert result.before_traffic.stats["3"].errors == 0
        assert result.completed
        assert_on(await env.alias(), "3")


async def test_a_version_still_pending_at_ready_timeout_is_refused(pending: Env) -> None:
    before = await pending.alias()
    checked: list[GatePhase] = []

    async def gate(step: StepContext) -> bool:
        checked.append(step.phase)
        return True

    with pytest.raises(ShiftRefusedError) as caught:
        await pending.shift(
            Linear(0.1, MINUTE), to_version="3", before_traffic=gate, ready_timeout=12
        )

    assert str(caught.value) == (
        f"version 3 of orders was not Active within ready_timeout (12s): last seen {CREATING};"
        " nothing was changed"
    )
    assert isinstance(caught.value.__cause__, WaiterError)
    assert caught.value.__cause__.timed_out
    assert pending.time.waits == [5.0, 5.0, 2.0]  # the sleeps add up to the timeout
    assert pending.kinds() == [K.WAITING]
    assert checked == []
    assert await pending.alias() == before  # same revision: nothing changed
    assert pending.client.updates == []


async def test_ready_timeout_zero_checks_without_waiting(pending: Env) -> None:
    with pytest.raises(ShiftRefusedError, match=r"not Active within ready_timeout \(0s\)"):
        await pending.shift(AllAtOnce(), to_version="3", ready_timeout=0)
    assert pending.time.waits == []
    assert pending.events == []
    assert pending.client.configuration_reads["3"] == 1  # the pre-flight's read, no other

    pending.lam.set_version_state(FN, "3", "Active")
    result = await pending.shift(AllAtOnce(), to_version="3", ready_timeout=0)

    assert result.completed
    assert pending.time.waits == []


@pytest.mark.parametrize("ready_timeout", [-1, math.nan, math.inf, "5m", True])
async def test_a_bad_ready_timeout_is_refused_before_anything_is_read(
    env: Env, ready_timeout: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        await env.shift(AllAtOnce(), ready_timeout=ready_timeout)

    assert caught.value.field == "ready_timeout"
    assert str(caught.value).startswith("ready_timeout must be a finite number of seconds")
    assert env.client.configuration_reads == {}
    assert env.client.updates == []


FAILED = {"reason": "The role cannot be assumed.", "reason_code": "InsufficientRolePermissions"}
IDLE = {"reason": "The function is inactive.", "reason_code": "Idle"}


@pytest.mark.parametrize(
    ("version", "state", "reason", "message"),
    [
        pytest.param(
            "2",
            "Failed",
            FAILED,
            "the new version 2 of orders is Failed (InsufficientRolePermissions: The role"
            " cannot be assumed.): it cannot take traffic",
            id="new-failed",
        ),
        pytest.param(
            "2",
            "Inactive",
            IDLE,
            "the new version 2 of orders is Inactive (Idle: The function is inactive.): it"
            " cannot take traffic until Lambda restores it",
            id="new-inactive",
        ),
        pytest.param(
            "1",
            "Failed",
            FAILED,
            "the primary version 1 of orders is Failed (InsufficientRolePermissions: The role",
            id="primary-failed",
        ),
        pytest.param(
            "1",
            "Inactive",
            IDLE,
            "the primary version 1 of orders is Inactive (Idle: The function is inactive.)",
            id="primary-inactive",
        ),
    ],
)
async def test_refuses_a_failed_or_inactive_version(
    env: Env, version: str, state: str, reason: dict[str, str], message: str
) -> None:
    env.lam.set_version_state(FN, version, state, **reason)
    await assert_refused(env, "2", re.escape(message))
    assert env.time.waits == []  # refused at once, not waited out


async def test_a_version_that_fails_while_pending_is_refused(pending: Env) -> None:
    before = await pending.alias()
    pending.time.hooks[0] = put_state(pending, "3", "Failed", **FAILED)

    with pytest.raises(ShiftRefusedError) as caught:
        await pending.shift(Linear(0.1, MINUTE), to_version="3")

    assert str(caught.value).startswith(
        "the new version 3 of orders is Failed (InsufficientRolePermissions: The role cannot be"
        " assumed.)"
    )
    assert isinstance(caught.value.__cause__, WaiterError)
    assert not caught.value.__cause__.timed_out
    assert pending.time.waits == [5.0]
    assert await pending.alias() == before
    assert pending.client.updates == []


@pytest.mark.parametrize("where", ["sleeping", "reading"])
async def test_a_cancelled_wait_changes_nothing_and_holds_no_connection(where: str) -> None:
    reading = asyncio.Event()
    reads = 0

    async def headers_sent(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestHeadersSentParams,
    ) -> None:
        nonlocal reads
        if params.url.path.endswith("/configuration"):
            reads += 1
            if reads == 3:  # the pre-flight's two, then the wait's first
                reading.set()

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(headers_sent)
    # One connection in the pool: one kept by the cancelled wait would stall every later call.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), trace_configs=[trace])
    async with session, environment(version_activation_delay=3600, session=session) as env:
        assert await env.publish(v3) == "3"
        before = await env.alias()
        sleeping = asyncio.Event()

        async def park() -> None:
            sleeping.set()
            await asyncio.Event().wait()

        async def slow_read() -> None:
            env.lam.inject("GetFunctionConfiguration", Delay(0.5))

        env.time.hooks[0] = park if where == "sleeping" else slow_read
        shift = asyncio.create_task(env.shift(Linear(0.1, MINUTE), to_version="3"))
        await (sleeping if where == "sleeping" else reading).wait()

        shift.cancel()

        with pytest.raises(asyncio.CancelledError):
            await shift
        async with asyncio.timeout(5):
            alias = await env.client.get_alias(FN, ALIAS)
        assert alias == before  # same revision: nothing changed
        assert env.client.updates == []
        assert env.kinds() == [K.WAITING]


# --- logging ---------------------------------------------------------------------------------


async def test_steps_are_logged(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="lambdaclient"):
        await env.shift(Linear(0.25, MINUTE))

    messages = [r.getMessage() for r in caplog.records if r.name == "lambdaclient"]
    prefix = f"shift {FN}:{ALIAS} -> 2: "
    assert [m.removeprefix(prefix).strip() for m in messages] == [
        "started 0% from version 1",
        "weight_set 25%",
        "healthy 25%",
        "weight_set 50%",
        "healthy 50%",
        "weight_set 75%",
        "healthy 75%",
        "completed 100%",
    ]
    assert all(m.startswith(prefix) for m in messages)
