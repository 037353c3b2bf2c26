"""AlarmGate and all_of: shifts gated on CloudWatch alarms, against LocalLambda over sockets.

LocalLambda serves both the function and its alarms (``set_alarm_state``). Each step's wait
is a sleep that never ends by itself (as a ten-minute wait would outlast the test): only a
watching gate can end it, so a test sees whether the rollback came from the watch. The gate's
own polls go through a fake sleep that counts them and can change an alarm between polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import attrs
import pytest

from lambdaclient import LambdaClient, RoutingConfig
from lambdaclient.cloudwatch import CloudWatchClient
from lambdaclient.errors import ShiftRefusedError, ValidationError
from lambdaclient.shifting import (
    AlarmGate,
    HealthCheck,
    HealthResult,
    InvokeProbe,
    Linear,
    ShiftResult,
    StepContext,
    all_of,
    shift_traffic,
)
from lambdaclient.testing import LocalLambda, ServerError

FN = "orders"
ALARM = "orders-errors"
TWO_STEPS = Linear(step=0.5, interval=timedelta(minutes=10))  # 50%, wait, then 100%


def v1(event: Any, context: Any) -> Any:
    return 1


def v2(event: Any, context: Any) -> Any:
    return 2


async def _no_wait(seconds: float) -> None:
    pass


@attrs.define
class Polls:
    """The gate's sleep: counts the pauses between polls and runs a hook after pause N."""

    pauses: int = 0
    hooks: dict[int, Callable[[], None]] = attrs.Factory(dict)

    async def sleep(self, seconds: float) -> None:
        self.pauses += 1
        await asyncio.sleep(0)
        hook = self.hooks.get(self.pauses)
        if hook is not None:
            hook()


@attrs.define
class Steps:
    """The shift's sleep: a step's wait that only a watch can end, or that ends at once."""

    endless: bool = True
    started: int = 0
    finished: int = 0

    async def sleep(self, seconds: float) -> None:
        self.started += 1
        if self.endless:
            await asyncio.Event().wait()
        self.finished += 1


@attrs.define
class Env:
    lam: LocalLambda
    client: LambdaClient
    cloudwatch: CloudWatchClient
    polls: Polls = attrs.Factory(Polls)
    steps: Steps = attrs.Factory(Steps)

    def gate(self, *names: str, **options: Any) -> AlarmGate:
        return AlarmGate(
            names or (ALARM,),
            cloudwatch=self.cloudwatch,
            poll_interval=30,
            sleep=self.polls.sleep,
            **options,
        )

    async def shift(
        self, health_check: HealthCheck, before_traffic: HealthCheck | None = None
    ) -> ShiftResult:
        return await shift_traffic(
            self.client,
            FN,
            "live",
            to_version="2",
            strategy=TWO_STEPS,
            health_check=health_check,
            before_traffic=before_traffic,
            sleep=self.steps.sleep,
        )

    async def alias_routing(self) -> tuple[str, RoutingConfig | None]:
        alias = await self.client.get_alias(FN, "live")
        return alias.function_version, alias.routing_config


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with LocalLambda(seed=1) as lam:
        settings: dict[str, Any] = {
            "credentials": lam.credentials,
            "endpoint_url": lam.endpoint_url,
            "sleep": _no_wait,
        }
        async with (
            LambdaClient(lam.region, **settings) as client,
            CloudWatchClient(lam.region, **settings) as cloudwatch,
        ):
            lam.add_function(FN, v1)
            lam.publish_version(FN)
            lam.add_function(FN, v2)
            lam.publish_version(FN)
            await client.create_alias(FN, "live", function_version="1")
            lam.set_alarm_state(ALARM, "OK")
            yield Env(lam, client, cloudwatch)


async def test_an_alarm_firing_mid_step_rolls_back_within_one_poll(env: Env) -> None:
    # Polls 1 and 2 see OK; the alarm fires during the second pause; poll 3 sees it.
    env.polls.hooks[2] = lambda: env.lam.set_alarm_state(
        ALARM, "ALARM", reason="Threshold Crossed: 1 datapoint [7.0] > 5.0"
    )
    result = await env.shift(env.gate())
    assert result.rolled_back
    assert result.reason == (
        f"health check failed at 50%: alarm {ALARM} is ALARM: Threshold Crossed: 1 datapoint"
        " [7.0] > 5.0"
    )
    assert env.polls.pauses == 2  # no pause after the poll that saw it
    assert (env.steps.started, env.steps.finished) == (1, 0)  # the wait was cut short
    assert await env.alias_routing() == ("1", None)
    (record,) = result.steps
    assert record.health is not None
    assert not record.health.healthy


async def test_quiet_alarms_let_the_shift_complete(env: Env) -> None:
    env.steps.endless = False
    result = await env.shift(env.gate())
    assert result.completed
    assert result.steps[0].health == HealthResult(True, f"alarms OK: {ALARM}")
    assert await env.alias_routing() == ("2", None)


async def test_an_alarm_already_firing_is_refused_by_default(env: Env) -> None:
    env.lam.set_alarm_state(ALARM, "ALARM", reason="firing since yesterday")
    gate = env.gate()
    with pytest.raises(ShiftRefusedError, match="firing since yesterday"):
        await env.shift(gate, before_traffic=gate)
    assert await env.alias_routing() == ("1", None)
    # Without before_traffic, the first poll of the first step rolls back.
    result = await env.shift(gate)
    assert result.rolled_back
    assert env.polls.pauses == 0
    assert await env.alias_routing() == ("1", None)


async def test_proceed_ignores_an_old_alarm_but_not_a_new_one(env: Env) -> None:
    env.lam.set_alarm_state(ALARM, "ALARM", reason="old noise")
    env.steps.endless = False
    gate = env.gate(already_firing="proceed")
    result = await env.shift(gate, before_traffic=gate)
    assert result.completed
    assert result.before_traffic is not None
    assert result.before_traffic.reason == (
        f"alarm {ALARM} is ALARM: old noise (since before the shift began: ignored)"
    )
    # Back to version 1, then a shift during which the alarm recovers and fires again.
    await env.client.update_alias(FN, "live", function_version="1")
    env.steps.endless = True
    env.polls.hooks[1] = lambda: env.lam.set_alarm_state(ALARM, "OK")
    env.polls.hooks[2] = lambda: env.lam.set_alarm_state(ALARM, "ALARM", reason="new")
    result = await env.shift(gate)
    assert result.rolled_back
    assert result.reason == f"health check failed at 50%: alarm {ALARM} is ALARM: new"


@pytest.mark.parametrize("option", ["pass", "fail"])
async def test_insufficient_data(env: Env, option: str) -> None:
    env.lam.set_alarm_state(ALARM, "INSUFFICIENT_DATA", reason="no datapoints")
    env.steps.endless = option == "fail"
    result = await env.shift(env.gate(insufficient_data=option))
    assert result.rolled_back is (option == "fail")
    assert f"alarm {ALARM} is INSUFFICIENT_DATA: no datapoints" in (
        result.reason or result.steps[0].health.reason  # type: ignore[union-attr]
    )


async def test_an_unreadable_alarm_fails_the_gate_by_default(env: Env) -> None:
    env.lam.inject("DescribeAlarms", ServerError(), times=3)  # every attempt of one read
    result = await env.shift(env.gate())
    assert result.rolled_back
    assert result.reason == (
        "health check failed at 50%: the alarms could not be read: InternalServiceError"
        " (HTTP 500): An internal error occurred (injected)."
    )


async def test_an_unknown_alarm_name_fails_the_gate(env: Env) -> None:
    result = await env.shift(env.gate(ALARM, "orders-typo"))
    assert result.reason == "health check failed at 50%: no alarm named orders-typo"


async def test_unreadable_pass_goes_on_and_says_so(env: Env) -> None:
    env.steps.endless = False
    # Every read fails: the watch's alongside the step, and the gate's own.
    env.lam.inject("DescribeAlarms", ServerError(), times=100)
    result = await env.shift(env.gate(unreadable="pass"))
    assert result.completed
    health = result.steps[0].health
    assert health is not None
    assert health.reason.endswith("(unreadable='pass': going on)")


@attrs.define
class CountingCheck:
    """A check without a watch, that passes or fails as told."""

    healthy: bool = True
    calls: int = 0

    async def __call__(self, step: StepContext) -> HealthResult:
        self.calls += 1
        return HealthResult(self.healthy, f"check {self.calls}")


async def test_all_of_watches_the_gate_and_asks_the_check_at_the_end(env: Env) -> None:
    env.steps.endless = False
    check = CountingCheck()
    result = await env.shift(all_of(check, env.gate()))
    assert result.completed
    assert check.calls == 1
    assert result.steps[0].health == HealthResult(True, f"check 1; alarms OK: {ALARM}")
    # An alarm mid-step ends the wait; the other check is not asked for that step.
    await env.client.update_alias(FN, "live", function_version="1")
    env.steps.endless = True
    env.polls = Polls(hooks={1: lambda: env.lam.set_alarm_state(ALARM, "ALARM", reason="boom")})
    result = await env.shift(all_of(check, env.gate()))
    assert result.rolled_back
    assert check.calls == 1
    assert result.reason == f"health check failed at 50%: alarm {ALARM} is ALARM: boom"


async def test_an_alarm_firing_while_a_later_check_runs_is_read_before_the_gate_passes(
    env: Env,
) -> None:
    # The alarm gate answers first; the next check (a metrics gate settling, say) fires the
    # alarm just before it answers, sooner than the watch's next poll: the gate reads the
    # alarm once more before it passes.
    env.steps.endless = False

    class FiresTheAlarm(CountingCheck):
        async def __call__(self, step: StepContext) -> HealthResult:
            env.lam.set_alarm_state(ALARM, "ALARM", reason="fired late")
            return await super().__call__(step)

    check = FiresTheAlarm()
    result = await env.shift(all_of(env.gate(), check))
    assert result.rolled_back
    assert check.calls == 1
    assert result.reason == (
        f"health check failed at 50%: alarm {ALARM} is ALARM: fired late; check 1"
    )
    assert await env.alias_routing() == ("1", None)


async def test_all_of_fails_at_the_first_failing_check(env: Env) -> None:
    env.steps.endless = False
    check = CountingCheck(healthy=False)
    result = await env.shift(all_of(check, env.gate()))
    assert result.reason == "health check failed at 50%: check 1"


def test_all_of_refuses_what_it_cannot_combine() -> None:
    with pytest.raises(ValidationError):
        all_of()
    with pytest.raises(ValidationError, match="at most one InvokeProbe"):
        all_of(InvokeProbe(), InvokeProbe())


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"alarm_names": []}, "alarm_names"),
        ({"alarm_names": ALARM}, "alarm_names"),
        ({"alarm_names": [""]}, "alarm_names"),
        ({"alarm_names": ["a"] * 101}, "alarm_names"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"already_firing": "ignore"}, "already_firing"),
        ({"insufficient_data": "ok"}, "insufficient_data"),
        ({"unreadable": "skip"}, "unreadable"),
        ({"cloudwatch": object()}, "cloudwatch"),
    ],
)
async def test_alarm_gate_arguments_are_checked(
    env: Env, arguments: dict[str, Any], field: str
) -> None:
    settings: dict[str, Any] = {"alarm_names": [ALARM], "cloudwatch": env.cloudwatch}
    with pytest.raises(ValidationError) as caught:
        AlarmGate(**{**settings, **arguments})
    assert caught.value.field == field


async def test_a_watch_that_raises_fails_the_step(env: Env) -> None:
    class Broken:
        async def __call__(self, step: StepContext) -> HealthResult:
            return HealthResult(True)

        async def watch(self, step: StepContext) -> HealthResult:
            raise RuntimeError("lost the metrics")

    result = await env.shift(Broken())
    assert result.reason == (
        "health check failed at 50%: health check raised RuntimeError: lost the metrics"
    )
