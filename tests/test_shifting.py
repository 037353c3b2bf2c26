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
import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from lambdaclient import AliasConfiguration, FunctionConfiguration, LambdaClient, RoutingConfig
from lambdaclient.errors import (
    ConcurrentModificationError,
    ServiceException,
    ShiftRefusedError,
    ValidationError,
)
from lambdaclient.shifting import (
    AllAtOnce,
    Canary,
    InvokeProbe,
    Linear,
    Schedule,
    ShiftEvent,
    ShiftEventKind,
    ShiftResult,
    Step,
    StepContext,
    Strategy,
    shift_traffic,
)
from lambdaclient.testing import LocalLambda, ServerError

SEED = 20261125
FN = "orders"
ALIAS = "live"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OTHER_ROLE = "arn:aws:iam::123456789012:role/other-role"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:dead-letters"
MINUTE = timedelta(minutes=1)
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
    tell how many updates a shift made and that each carried a RevisionId."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.updates: list[dict[str, Any]] = []
        # Run after the server has answered update number N (0-based), before the caller
        # sees the answer: the moment a response is still in flight.
        self.after_update: dict[int, Callable[[], Awaitable[None]]] = {}
        # Seconds to hold back get_function_configuration for a qualifier.
        self.configuration_delay: dict[str, float] = {}

    async def get_function_configuration(
        self, function_name: str, *, qualifier: str | None = None
    ) -> FunctionConfiguration:
        delay = self.configuration_delay.get(qualifier or "$LATEST")
        if delay is not None:
            await asyncio.sleep(delay)
        return await super().get_function_configuration(function_name, qualifier=qualifier)

    async def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        routing_config: RoutingConfig | None = None,
        revision_id: str | None = None,
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
        health_check: Callable[[StepContext], Awaitable[bool]] | None = None,
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


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with LocalLambda(seed=SEED) as lam:
        client = RecordingClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
        )
        other = LambdaClient(lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials)
        async with client, other:
            setup = Env(lam, client, other)
            assert await setup.publish(v1) == "1"
            assert await setup.publish(v2) == "2"
            await client.create_alias(FN, ALIAS, function_version="1")
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
    assert [(s.weight, s.healthy) for s in result.steps] == [(0.05, True)]
    assert_on(await env.alias(), "2")


async def test_all_at_once_updates_once(env: Env) -> None:
    before = await env.alias()

    result = await env.shift(AllAtOnce())

    assert env.time.waits == []
    assert env.kinds() == [K.STARTED, K.COMPLETED]
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
    assert result.reason == "health check failed at 5%"
    unhealthy = next(e for e in env.events if e.kind is K.UNHEALTHY)
    assert unhealthy.message == "health check raised RuntimeError: metrics store unreachable"
    assert [s.healthy for s in result.steps] == [False]
    assert_on(await env.alias(), "1")


# --- InvokeProbe ---------------------------------------------------------------------------


async def test_probe_passes_a_healthy_version_and_rolls_back_a_flaky_one(env: Env) -> None:
    # Three versions of a fresh function: 1 and 2 healthy, 3 failing a fifth of its calls.
    # The server's routing draws and the handler's failure draws are both seeded, so which
    # calls land where, and which fail, is the same on every run.
    flaky_random = random.Random(SEED)
    raised = 0

    def flaky(event: Any, context: Any) -> Any:
        nonlocal raised
        if flaky_random.random() < 0.2:
            raised += 1
            raise RuntimeError("one in five")
        return {"version": 3}

    lam = env.lam
    for handler in (v1, v2, flaky):
        lam.add_function("story", handler)
        await env.client.publish_version("story")
    await env.client.create_alias("story", ALIAS, function_version="1")
    probe = InvokeProbe(payload={"ping": True}, invocations=40, max_error_rate=0.05)
    strategy = Linear(0.25, MINUTE)

    healthy = await env.shift(strategy, function_name="story", to_version="2", health_check=probe)

    assert healthy.completed
    assert not healthy.rolled_back
    assert [s.healthy for s in healthy.steps] == [True, True, True]
    # Every probe call ran v1 or v2 and is counted, with no errors.
    assert set(healthy.stats) == {"1", "2"}
    assert healthy.stats["1"].invocations == lam.executions("story", "1")
    assert healthy.stats["2"].invocations == lam.executions("story", "2")
    assert healthy.stats["1"].invocations + healthy.stats["2"].invocations == 3 * 40
    assert healthy.stats["1"].errors == healthy.stats["2"].errors == 0
    # The result's statistics add up the steps'.
    assert sum(s.stats["2"].invocations for s in healthy.steps) == healthy.stats["2"].invocations
    assert_on(await env.alias("story"), "2")

    before = {v: lam.executions("story", v) for v in ("2", "3")}
    flaky_result = await env.shift(
        strategy, function_name="story", to_version="3", health_check=probe
    )

    assert flaky_result.rolled_back
    assert not flaky_result.completed
    assert flaky_result.reason is not None
    assert flaky_result.reason.startswith("health check failed at ")
    assert flaky_result.steps[-1].healthy is False
    stats = flaky_result.stats
    assert stats["3"].invocations == lam.executions("story", "3") - before["3"]
    assert stats["2"].invocations == lam.executions("story", "2") - before["2"]
    assert stats["3"].errors == raised > 0
    assert stats["2"].errors == 0
    assert stats["3"].error_rate > 0.05
    assert probe.stats == flaky_result.steps[-1].stats  # the last probe's own figures
    unhealthy = next(e for e in env.events if e.kind is K.UNHEALTHY)
    assert unhealthy.stats == flaky_result.steps[-1].stats
    assert_on(await env.alias("story"), "2")


@pytest.mark.parametrize(("max_latency", "completed"), [(0.02, False), (5.0, True)])
async def test_probe_latency_threshold(env: Env, max_latency: float, completed: bool) -> None:
    async def slow(event: Any, context: Any) -> Any:
        await asyncio.sleep(0.05)  # real time: the probe measures the wall clock
        return {"version": 3}

    await env.publish(slow)
    probe = InvokeProbe(invocations=10, max_latency=max_latency)

    result = await env.shift(Canary(0.5, MINUTE), to_version="3", health_check=probe)

    assert result.stats["3"].invocations > 0
    assert result.stats["3"].errors == 0
    assert result.stats["3"].max_latency >= 0.05
    assert result.completed is completed
    assert result.rolled_back is not completed
    assert_on(await env.alias(), "3" if completed else "1")


async def test_probe_passes_a_version_that_received_no_calls(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    # The new version always fails, but at 0.1% none of five calls reaches it (the routing
    # draws are seeded): with nothing to judge it by, the probe passes.
    await env.publish(always_fails)
    probe = InvokeProbe(invocations=5)

    with caplog.at_level(logging.INFO, logger="lambdaclient"):
        result = await env.shift(Canary(0.001, MINUTE), to_version="3", health_check=probe)

    assert env.lam.executions(FN, "3") == 0
    assert set(result.stats) == {"1"}
    assert result.stats["1"].invocations == 5
    assert result.completed
    assert "version 3 received no invocations; passing" in caplog.text


async def test_probe_fails_when_calls_fail_before_reaching_any_version(env: Env) -> None:
    # A broken new version can fail before any version answers (a 502 from Lambda itself):
    # those calls cannot be sorted by version, and the probe must not take them as healthy.
    env.lam.inject("Invoke", ServerError(502, "ResourceNotReadyException"), times=5)
    probe = InvokeProbe(invocations=20, max_error_rate=0.1)

    result = await env.shift(Canary(0.5, MINUTE), health_check=probe)

    assert result.rolled_back
    assert result.stats["unknown"].errors == 5
    assert_on(await env.alias(), "1")


@pytest.mark.parametrize(
    ("old_handler", "completed"),
    [
        pytest.param(v1, False, id="old-healthy"),
        pytest.param(also_always_fails, True, id="old-failing-as-much"),
    ],
)
async def test_probe_judges_against_the_old_versions_error_rate(
    env: Env, old_handler: Callable[..., Any], completed: bool
) -> None:
    # The same failing new version: rolled back against a healthy old one, let through
    # against an old one failing just as much (the threshold is relative, as the issue says).
    env.lam.add_function("rel", old_handler)
    await env.client.publish_version("rel")
    env.lam.add_function("rel", always_fails)
    await env.client.publish_version("rel")
    await env.client.create_alias("rel", ALIAS, function_version="1")

    result = await env.shift(
        Canary(0.5, MINUTE), function_name="rel", health_check=InvokeProbe(invocations=20)
    )

    assert result.stats["2"].error_rate == 1.0
    assert result.completed is completed
    assert_on(await env.alias("rel"), "2" if completed else "1")


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


async def test_resumed_shift_past_every_step_just_completes(env: Env) -> None:
    await env.other.update_alias(FN, ALIAS, routing_config=RoutingConfig({"2": 0.3}))

    result = await env.shift(Canary(0.05, MINUTE))

    assert result.steps == ()
    assert env.time.waits == []
    assert len(env.client.updates) == 1
    assert_on(await env.alias(), "2")


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
