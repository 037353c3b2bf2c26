"""Progressive traffic shifting on a weighted alias, with health gates and automatic rollback.

CodeDeploy shifts alias traffic on AWS's side; this does it from application code, safely:

- pre-flight checks refuse a shift AWS would reject, or one that would fight another shift;
- no weight moves before the new version is ``Active``: a ``Pending`` one is waited for, a
  ``Failed`` or ``Inactive`` one refused;
- every update carries the RevisionId it read, so a change someone else made meanwhile stops
  the shift (:class:`~lambdaclient.errors.ConcurrentModificationError`) instead of being
  overwritten;
- between steps a health gate decides whether to go on; a failed gate, an error or
  cancellation puts the alias back on the old version.

Example::

    from datetime import timedelta
    from lambdaclient.shifting import InvokeProbe, Linear, shift_traffic

    result = await shift_traffic(
        client, "my-fn", "live", to_version="7",
        strategy=Linear(step=0.1, interval=timedelta(minutes=1)),
        health_check=InvokeProbe(payload={"ping": True}),
    )
    if result.rolled_back:
        print("rolled back:", result.reason)

:class:`InvokeProbe` calls both versions in pairs and decides by a rule with stated error
rates (:class:`GateRule`): a version no worse than the old one is rolled back in at most 1% of
rollouts, one failing 5 points more often is caught in at least 95%.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import attrs

from ._client import LambdaClient
from ._cloudwatch_models import Alarm, AlarmState, Dimension, Metric, MetricDataQuery
from ._errors import (
    ConcurrentModificationError,
    LambdaError,
    PreconditionFailedError,
    ResourceNotFoundError,
    ShiftRefusedError,
    ValidationError,
    WaiterError,
)
from ._gate import (
    GateRule,
    PairTally,
    TrafficTally,
    TrafficVerdict,
    TrafficWindow,
    Verdict,
    simulate_rollout,
    simulate_traffic_rollout,
    stratified_exact_p_value,
)
from ._models import AliasConfiguration, FunctionConfiguration, RoutingConfig
from ._payload import Payload, _is_binary_file, encode_payload
from ._validate import check_function_name, function_name_parts
from ._waiters import Progress, _seconds, version_active_progress
from .cloudwatch import CloudWatchClient

__all__ = [
    "AlarmGate",
    "AllAtOnce",
    "Canary",
    "GatePhase",
    "GateRule",
    "HealthCheck",
    "HealthResult",
    "InvokeProbe",
    "Linear",
    "MetricsGate",
    "MetricsReading",
    "PairTally",
    "Schedule",
    "ShiftEvent",
    "ShiftEventKind",
    "ShiftResult",
    "Step",
    "StepContext",
    "StepRecord",
    "Strategy",
    "TrafficTally",
    "TrafficVerdict",
    "TrafficWindow",
    "Verdict",
    "VersionStats",
    "all_of",
    "shift_traffic",
    "simulate_rollout",
    "simulate_traffic_rollout",
    "stratified_exact_p_value",
]

logger = logging.getLogger("lambdaclient")

_PUBLISHED_VERSION = re.compile(r"[0-9]+", re.ASCII)

_READY_DELAY = 5.0
"""Seconds between reads while waiting for the new version to be Active: the delay of
botocore's ``PublishedVersionActive`` waiter."""


# --- strategies ----------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Step:
    """Send ``weight`` of the traffic to the new version, then wait ``wait`` before the
    health gate decides whether to go on."""

    weight: float
    wait: timedelta


class Strategy(Protocol):
    """A schedule of weights strictly between 0 and 1, rising; all traffic moves to the new
    version after the last step."""

    def steps(self) -> tuple[Step, ...]:
        """The steps before the final switch."""
        ...


def _is_fraction(value: object) -> bool:
    """A number strictly between 0 and 1 (checked at run time: callers are not all typed)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not math.isnan(value)
        and 0 < value < 1
    )


def _check_steps(steps: Sequence[Step]) -> tuple[Step, ...]:
    previous = 0.0
    for step in steps:
        weight = step.weight
        if not _is_fraction(weight):
            raise ValidationError(
                f"a step's weight must be between 0 and 1 (exclusive), got {weight!r}",
                field="strategy",
            )
        if weight <= previous:
            raise ValidationError(
                "step weights must rise from one step to the next", field="strategy"
            )
        wait: object = step.wait  # checked at run time: callers are not all typed
        if not isinstance(wait, timedelta) or wait < timedelta(0):
            raise ValidationError(
                "a step's wait must be a timedelta of 0 or more", field="strategy"
            )
        previous = weight
    return tuple(steps)


@attrs.frozen(slots=True)
class Canary:
    """``weight`` of the traffic for ``wait``, then all of it."""

    weight: float
    wait: timedelta

    def steps(self) -> tuple[Step, ...]:
        """One step at ``weight`` for ``wait``; a weight outside (0, 1) is a ValidationError."""
        return _check_steps([Step(self.weight, self.wait)])


@attrs.frozen(slots=True)
class Linear:
    """``step`` more of the traffic every ``interval`` (10%, 20%, ... 90%), then all of it."""

    step: float
    interval: timedelta

    def steps(self) -> tuple[Step, ...]:
        """A step every ``step`` of the traffic below all of it, each held ``interval``; a
        ``step`` outside (0, 1) is a ValidationError."""
        if not _is_fraction(self.step):
            raise ValidationError("Linear step must be between 0 and 1", field="strategy")
        count = math.ceil(round(1 / self.step, 9)) - 1
        return _check_steps(
            [Step(round(self.step * (i + 1), 9), self.interval) for i in range(count)]
        )


@attrs.frozen(slots=True)
class AllAtOnce:
    """All traffic at once (still pre-flight checked and conditional on the RevisionId)."""

    def steps(self) -> tuple[Step, ...]:
        """No steps: nothing for a ``health_check`` to gate (``after_traffic`` can be)."""
        return ()


def _pairs(steps: Iterable[tuple[float, timedelta]]) -> tuple[tuple[float, timedelta], ...]:
    return tuple(steps)


@attrs.frozen(slots=True)
class Schedule:
    """A custom schedule of (weight, wait) steps::

    Schedule([(0.05, timedelta(minutes=5)), (0.5, timedelta(minutes=10))])
    """

    schedule: tuple[tuple[float, timedelta], ...] = attrs.field(converter=_pairs)

    def steps(self) -> tuple[Step, ...]:
        """The schedule's steps, in its order; weights that do not rise strictly between 0
        and 1, or a negative wait, are a ValidationError."""
        return _check_steps([Step(weight, wait) for weight, wait in self.schedule])


# --- health ---------------------------------------------------------------------------------


def _default_clock() -> datetime:
    return datetime.now(UTC)


def _percentile(ordered: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at
    or below it (None for no values)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _sorted_latencies(latencies: Iterable[float]) -> tuple[float, ...]:
    return tuple(sorted(latencies))


@attrs.frozen(slots=True)
class VersionStats:
    """How one version fared in a health check's calls: ``invocations``, ``errors`` among them,
    and each call's latency in seconds (``latencies``, sorted; empty when the check did not time
    its calls). Statistics add up with ``+``."""

    invocations: int
    errors: int
    latencies: tuple[float, ...] = attrs.field(default=(), converter=_sorted_latencies, repr=False)

    @classmethod
    def of(cls, calls: Iterable[tuple[bool, float]]) -> VersionStats:
        """Statistics of ``(failed, latency)`` calls."""
        runs = list(calls)
        return cls(len(runs), sum(failed for failed, _ in runs), [t for _, t in runs])

    @property
    def error_rate(self) -> float:
        """Errors per invocation (0 with none)."""
        return self.errors / self.invocations if self.invocations else 0.0

    @property
    def p50_latency(self) -> float | None:
        """The median latency (nearest rank), or None without latencies."""
        return _percentile(self.latencies, 0.5)

    @property
    def p90_latency(self) -> float | None:
        """The 90th-percentile latency (nearest rank), or None without latencies."""
        return _percentile(self.latencies, 0.9)

    @property
    def mean_latency(self) -> float | None:
        """The mean latency, or None without latencies."""
        return sum(self.latencies) / len(self.latencies) if self.latencies else None

    @property
    def max_latency(self) -> float | None:
        """The slowest call, or None without latencies."""
        return self.latencies[-1] if self.latencies else None

    def __add__(self, other: VersionStats) -> VersionStats:
        return VersionStats(
            self.invocations + other.invocations,
            self.errors + other.errors,
            self.latencies + other.latencies,
        )


def _add_stats(
    total: Mapping[str, VersionStats], more: Mapping[str, VersionStats]
) -> dict[str, VersionStats]:
    merged = dict(total)
    for version, stats in more.items():
        known = merged.get(version)
        merged[version] = stats if known is None else known + stats
    return merged


@attrs.frozen(slots=True)
class MetricsReading:
    """What a :class:`MetricsGate` read at one gate: the span from ``start`` to ``end``
    (whole CloudWatch periods), the versions it compared, the rule's ``verdict`` over every
    window of the shift so far (one window per period with traffic, the last ``periods`` of
    them this gate's), each one's invocations and errors over the span (``window``); with
    ``max_latency``, each version's latency percentile (seconds) over the shift so far."""

    start: datetime
    end: datetime
    old_version: str
    new_version: str
    verdict: TrafficVerdict
    old_latency: float | None = None
    new_latency: float | None = None
    periods: int = 1

    @property
    def window(self) -> TrafficWindow:
        """This gate's counts: its periods' windows added up."""
        windows = self.verdict.tally.windows
        return TrafficTally(windows[len(windows) - self.periods :]).total


@attrs.frozen(slots=True)
class HealthResult:
    """A health check's decision as data: ``healthy``, the ``reason`` (what a person reads in
    the progress display and the result), the ``stats`` per version of the calls this check
    made, for :class:`InvokeProbe` the rule's ``verdict`` on every pair of the shift so far,
    and for :class:`MetricsGate` what it read of the real traffic (``metrics``). A health
    check may also return a bare bool."""

    healthy: bool
    reason: str = ""
    stats: Mapping[str, VersionStats] = attrs.field(factory=dict)
    verdict: Verdict | None = None
    metrics: MetricsReading | None = None


class GatePhase(enum.Enum):
    """When a health check runs: before any traffic moves, after a step, or once all traffic
    is on the new version."""

    BEFORE_TRAFFIC = "before_traffic"
    STEP = "step"
    AFTER_TRAFFIC = "after_traffic"


@attrs.frozen(slots=True)
class StepContext:
    """What a health check is given: the client, where the shift is, and which step it is at
    (``index`` from 0 of ``step_count``; ``weight`` now on the new version). ``history`` holds
    this shift's earlier step results, oldest first, so a check can build on its own evidence
    (a resumed shift starts with none). ``phase`` says which check this is: a
    ``before_traffic`` check sees the weight before the shift moves it and index 0, an
    ``after_traffic`` check weight 1 and index ``step_count``; both get no history, so each is
    a test of its own. ``started`` is when the shift began (by its clock), so a check can
    tell what was already so before it."""

    client: LambdaClient
    function_name: str
    alias_name: str
    from_version: str
    to_version: str
    index: int
    weight: float
    step_count: int
    history: tuple[HealthResult, ...] = ()
    phase: GatePhase = GatePhase.STEP
    started: datetime | None = None

    @property
    def gates_left(self) -> int:
        """Gates from this one (included) to the last of its kind: the steps count down to the
        last before all traffic moves; a before- or after-traffic check is a single gate."""
        return self.step_count - self.index if self.phase is GatePhase.STEP else 1


HealthCheck = Callable[[StepContext], Awaitable[HealthResult | bool]]
"""An async callable: a :class:`HealthResult` or True to go on; False, an unhealthy result or
an exception to roll back.

A check may also watch a step: if it has a ``watch`` method (an async function of the step's
:class:`StepContext` returning a :class:`HealthResult`), the shift runs it alongside each
step's wait and the check's call after it. An unhealthy result ends the step at once and
fails it, as if the check had failed then (the wait, or the check's call, is cancelled; an
exception is a failure too); a healthy one means there is nothing more to watch, and the step
goes on. Once the check has answered, the watch is cancelled. :class:`AlarmGate` watches its
alarms this way, so an alarm firing while a :class:`MetricsGate` beside it waits for its
data to settle rolls the shift back within a poll."""

Watch = Callable[[StepContext], Awaitable[HealthResult]]

_SLOW_CALLS = 10
"""Calls at or above a percentile before latencies are compared: the 90th percentile of 100
calls (the 99th of 1,000) has ten calls at or above it, so it takes ten slow calls, not one
cold start, to move it."""


def _rule_of(check: InvokeProbe | MetricsGate, **limits: int) -> GateRule:
    """The rule at a gate's parameters, which the probe and the metrics gate share."""
    return GateRule(
        max_error_rate=check.max_error_rate,
        baseline_error_rate=check.baseline_error_rate,
        false_rollback_rate=check.false_rollback_rate,
        detection_rate=check.detection_rate,
        **limits,
    )


def _check_max_latency(latency: object) -> None:
    if latency is not None and not (
        isinstance(latency, int | float)
        and not isinstance(latency, bool)
        and latency > 0
        and math.isfinite(latency)
    ):
        raise ValidationError(
            f"max_latency must be a number of seconds above 0, got {latency!r}",
            field="max_latency",
        )


def _check_positive_int(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(f"{name} must be an integer of {minimum} or more", field=name)


@attrs.frozen(slots=True)
class InvokeProbe:
    """The built-in health check: paired calls to the old and the new version, judged by a
    rule with stated error rates. It serves as a step gate, and as a ``before_traffic`` or
    ``after_traffic`` check, where it runs its whole budget at once as a single test.

    Each pair invokes ``from_version`` and ``to_version`` directly (the version number as the
    qualifier, not the alias), at the same time, with ``payload`` (bytes, str or a JSON-able
    value: it is sent many times). A call fails when it returns a function error or raises a
    :class:`~lambdaclient.errors.LambdaError`: a call that cannot reach its version counts
    against that version. Any other error is raised, its partner and the other pairs in
    flight cancelled (in a shift, a failed gate). ``concurrency`` pairs are in flight at once.

    The rule (:class:`GateRule`, and the README's "How the gate decides") guarantees at these
    parameters that a new version whose error rate is no higher than the old one's is rolled
    back in at most ``false_rollback_rate`` of rollouts, and that one failing ``max_error_rate``
    more often (old version at up to ``baseline_error_rate``) is rolled back before all traffic
    moves in at least ``detection_rate`` of them. The budget (567 pairs, 1,134 invocations at
    the defaults) is spread evenly over the shift's gates; it grows when the old version fails
    more than ``baseline_error_rate``, up to ``max_invocations`` per rollout, beyond which the
    last gate fails as too little evidence. A bad version is usually caught well before.

    With ``max_latency`` (seconds), a gate also fails when the new version's 90th-percentile
    latency exceeds the old one's by more than that, over every call of the shift so far, once
    each version has had 100 calls (at the last gate, fewer fail as too little evidence). It
    is a threshold, not a test: leave room for the noise of your latencies.

    The probe keeps no state: it rebuilds its evidence from ``StepContext.history``, so one
    probe can serve any number of shifts.
    """

    payload: Payload = None
    max_error_rate: float = 0.05
    baseline_error_rate: float = 0.02
    false_rollback_rate: float = 0.01
    detection_rate: float = 0.95
    max_invocations: int = 5000
    max_latency: float | None = None
    concurrency: int = 10

    def __attrs_post_init__(self) -> None:
        payload: object = self.payload
        if _is_binary_file(payload) or hasattr(payload, "__aiter__"):
            raise ValidationError(
                "the probe sends its payload many times: give bytes, str or a JSON-able value,"
                " not a file or a stream",
                field="payload",
            )
        encode_payload(self.payload)  # a payload that cannot be sent is refused now
        _check_positive_int("max_invocations", self.max_invocations, 2)
        _check_positive_int("concurrency", self.concurrency, 1)
        _check_max_latency(self.max_latency)
        _ = self.rule  # checks the rule's parameters now, not at the first gate

    @property
    def rule(self) -> GateRule:
        """The decision rule at these parameters."""
        return _rule_of(self, max_pairs=self.max_invocations // 2)

    async def __call__(self, step: StepContext) -> HealthResult:
        rule = self.rule
        # Results with a verdict are this probe's own; the last one holds every pair so far.
        verdicts = [health.verdict for health in step.history if health.verdict is not None]
        tally = verdicts[-1].tally if verdicts else PairTally()
        old_calls: list[tuple[bool, float]] = []
        new_calls: list[tuple[bool, float]] = []
        ran = False
        while count := rule.pairs_to_run(tally, step.gates_left, ran=ran):
            tally = await self._run_pairs(step, rule, tally, count, old_calls, new_calls)
            ran = True
        verdict = rule.judge(tally, final=step.gates_left == 1)
        stats = {
            step.from_version: VersionStats.of(old_calls),
            step.to_version: VersionStats.of(new_calls),
        }
        healthy, reason = verdict.healthy, verdict.reason
        if healthy and self.max_latency is not None:
            so_far: Mapping[str, VersionStats] = stats
            for health in step.history:
                if health.verdict is not None:
                    so_far = _add_stats(so_far, health.stats)
            old, new = so_far[step.from_version], so_far[step.to_version]
            latency_reason = _latency_failure(
                (old.invocations, old.p90_latency),
                (new.invocations, new.p90_latency),
                self.max_latency,
                final=step.gates_left == 1,
            )
            if latency_reason is not None:
                healthy, reason = False, latency_reason
        log = logger.info if healthy else logger.warning
        log("probe %s -> %s: %s", step.from_version, step.to_version, reason)
        return HealthResult(healthy, reason, stats, verdict)

    async def _run_pairs(
        self,
        step: StepContext,
        rule: GateRule,
        tally: PairTally,
        count: int,
        old_calls: list[tuple[bool, float]],
        new_calls: list[tuple[bool, float]],
    ) -> PairTally:
        """Run ``count`` pairs and add them to ``tally`` in the order they were started (a fast
        failure does not jump the queue), stopping as soon as the continuous check crosses.
        Every pair that finished counts in ``old_calls`` and ``new_calls``, judged or not (the
        calls were made); the pairs still running then are cancelled."""
        loop = asyncio.get_running_loop()

        async def call(version: str) -> tuple[bool, float]:
            started = loop.time()
            try:
                result = await step.client.invoke(
                    step.function_name, payload=self.payload, qualifier=version
                )
                failed = result.function_error is not None
            except LambdaError as exc:
                logger.debug("probe call to version %s failed: %r", version, exc)
                failed = True
            return failed, loop.time() - started

        async def pair() -> tuple[tuple[bool, float], tuple[bool, float]]:
            # A task group, not gather: if one call raises, the other is cancelled, not left
            # running. The error is raised as itself, not as a group of one.
            try:
                async with asyncio.TaskGroup() as group:
                    old = group.create_task(call(step.from_version))
                    new = group.create_task(call(step.to_version))
            except ExceptionGroup as errors:
                raise errors.exceptions[0] from None
            return old.result(), new.result()

        in_flight: dict[asyncio.Task[tuple[tuple[bool, float], tuple[bool, float]]], int] = {}
        finished: dict[int, tuple[bool, bool]] = {}
        started = judged = 0
        try:
            while judged < count:
                while started < count and len(in_flight) < self.concurrency:
                    in_flight[asyncio.ensure_future(pair())] = started
                    started += 1
                done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    old, new = task.result()
                    old_calls.append(old)
                    new_calls.append(new)
                    finished[in_flight.pop(task)] = (old[0], new[0])
                while judged in finished:
                    tally = tally.record(*finished.pop(judged))
                    judged += 1
                    if rule.crossed(tally):
                        return tally
            return tally
        finally:
            for task in in_flight:
                task.cancel()
            # Awaited, their errors retrieved: no call outlives the gate, none is reported as
            # an exception never retrieved.
            await asyncio.gather(*in_flight, return_exceptions=True)


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationError(
            f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}", field=name
        )


def _alarm_names(names: Iterable[str]) -> tuple[str, ...]:
    given: object = names
    if isinstance(given, str) or not isinstance(given, Iterable):
        raise ValidationError("alarm_names must be a list of alarm names", field="alarm_names")
    return tuple(names)


@attrs.frozen(slots=True)
class AlarmGate:
    """A gate on CloudWatch alarms: any of ``alarm_names`` in ``ALARM`` fails it.

    It is read when its step's wait ends, like any check, and also watched all through the
    step, its wait and the gate's calls (its ``watch``): read at once, then every
    ``poll_interval`` seconds (paused with ``sleep``, ``asyncio.sleep`` by default), so an
    alarm that fires mid-step, or while a :class:`MetricsGate` beside it waits for its data
    to settle, rolls the shift back within one poll, not at the end of the step.
    ``cloudwatch`` is the :class:`~lambdaclient.cloudwatch.CloudWatchClient` it reads them
    with; the caller closes it.

    The cases a rollout tool has to decide, with the default first:

    - ``already_firing``: an alarm in ``ALARM`` since before the shift began (by its
      ``StateUpdatedTimestamp`` against :attr:`StepContext.started`). ``"refuse"``: it fails
      the gate like any other, since a rollout onto a failing system cannot tell whether the
      new version makes it worse (CodeDeploy stops such deployments too); pass the gate as
      ``before_traffic`` as well to refuse before any traffic moves. ``"proceed"``: it is
      ignored (and named in the reason) while it stays in ``ALARM``; it fails the gate once it
      fires anew during the shift.
    - ``insufficient_data``: ``INSUFFICIENT_DATA`` is what an alarm on a new version's
      metrics says before that version has traffic, so ``"pass"`` lets it through (named in
      the reason); ``"fail"`` treats it as a failure.
    - ``unreadable``: an alarm that cannot be read (``DescribeAlarms`` fails after the
      client's retries, or a name it does not know, e.g. a typo). ``"fail"``: a gate that
      cannot see must not pass; ``"pass"`` goes on and says so in the reason.

    Example::

        async with CloudWatchClient(region="us-east-1") as cloudwatch:
            gate = AlarmGate(["my-fn-errors"], cloudwatch=cloudwatch, poll_interval=15)
            await shift_traffic(client, "my-fn", "live", to_version="7", strategy=...,
                                health_check=all_of(InvokeProbe(), gate))
    """

    alarm_names: tuple[str, ...] = attrs.field(converter=_alarm_names)
    cloudwatch: CloudWatchClient = attrs.field(kw_only=True)
    poll_interval: float = attrs.field(default=10.0, kw_only=True)
    already_firing: Literal["refuse", "proceed"] = attrs.field(default="refuse", kw_only=True)
    insufficient_data: Literal["pass", "fail"] = attrs.field(default="pass", kw_only=True)
    unreadable: Literal["fail", "pass"] = attrs.field(default="fail", kw_only=True)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(default=asyncio.sleep, kw_only=True)

    def __attrs_post_init__(self) -> None:
        names: tuple[object, ...] = self.alarm_names
        if not 1 <= len(names) <= 100 or not all(
            isinstance(name, str) and 1 <= len(name) <= 255 for name in names
        ):
            raise ValidationError(
                "alarm_names must hold 1 to 100 alarm names (of 1 to 255 characters)",
                field="alarm_names",
            )
        if not callable(getattr(self.cloudwatch, "describe_alarms", None)):
            raise ValidationError("cloudwatch must be a CloudWatchClient", field="cloudwatch")
        _seconds(self.poll_interval, "poll_interval", zero=False)
        _choice("already_firing", self.already_firing, ("refuse", "proceed"))
        _choice("insufficient_data", self.insufficient_data, ("pass", "fail"))
        _choice("unreadable", self.unreadable, ("fail", "pass"))

    async def __call__(self, step: StepContext) -> HealthResult:
        """Read the alarms once and judge them."""
        try:
            alarms = await self.cloudwatch.describe_alarms(alarm_names=self.alarm_names)
        except LambdaError as exc:
            return self._unreadable(f"the alarms could not be read: {exc}")
        return self._judge(alarms, step.started)

    async def watch(self, step: StepContext) -> HealthResult:
        """Read the alarms every ``poll_interval`` seconds until the gate fails."""
        while True:
            health = await self(step)
            if not health.healthy:
                return health
            await self.sleep(self.poll_interval)

    def _unreadable(self, reason: str) -> HealthResult:
        if self.unreadable == "fail":
            return HealthResult(False, reason)
        return HealthResult(True, f"{reason} (unreadable='pass': going on)")

    def _judge(self, alarms: Sequence[Alarm], started: datetime | None) -> HealthResult:
        by_name = {alarm.name: alarm for alarm in alarms}
        failures: list[str] = []
        notes: list[str] = []
        missing = [name for name in self.alarm_names if name not in by_name]
        if missing:
            unread = self._unreadable(f"no alarm named {', '.join(missing)}")
            (notes if unread.healthy else failures).append(unread.reason)
        for name in self.alarm_names:
            alarm = by_name.get(name)
            if alarm is None or alarm.state is AlarmState.OK:
                continue
            why = f"alarm {name} is {alarm.state.value}" + (
                f": {alarm.state_reason}" if alarm.state_reason else ""
            )
            if alarm.state is AlarmState.INSUFFICIENT_DATA:
                (failures if self.insufficient_data == "fail" else notes).append(why)
            elif (
                self.already_firing == "proceed"
                and started is not None
                and alarm.state_updated is not None
                and alarm.state_updated < started
            ):
                notes.append(f"{why} (since before the shift began: ignored)")
            else:
                failures.append(why)
        if failures:
            return HealthResult(False, "; ".join(failures + notes))
        return HealthResult(True, "; ".join(notes) or f"alarms OK: {', '.join(self.alarm_names)}")


_NAMESPACE = "AWS/Lambda"


def _on_period(at: datetime, period: int, *, up: bool) -> datetime:
    """``at`` moved down (or up) to a whole number of ``period`` seconds since the epoch, where
    CloudWatch's periods begin."""
    periods = at.timestamp() / period
    whole = math.ceil(periods) if up else math.floor(periods)
    return datetime.fromtimestamp(whole * period, UTC)


@attrs.frozen(slots=True)
class MetricsGate:
    """A gate on real traffic: the ``AWS/Lambda`` metrics Lambda publishes for each version
    an alias runs (``Invocations`` and ``Errors``, Sum, with dimensions FunctionName,
    Resource ``fn:alias`` and ExecutedVersion), for the old and the new version, judged by
    the same kind of rule as :class:`InvokeProbe` with the same parameters (the README's "How
    the gate decides"): a version no worse than the old one is rolled back in at most
    ``false_rollback_rate`` of rollouts (by the tests; see too little traffic below), one
    failing ``max_error_rate`` more often (old version at up to ``baseline_error_rate``) in at
    least ``detection_rate`` of them. Evidence accumulates over the shift's steps.

    Only errors tell the versions apart: with n0 and n1 invocations, an error is the new
    version's with probability at most n1 / (n0 + n1) when it fails no more often than the
    old one. A likelihood-ratio check after each step can roll back at any gate; the last
    gate before all traffic moves adds an exact test, and needs the new version to have
    served enough invocations for the power target at the traffic mix seen
    (:meth:`GateRule.required_invocations`). Fewer fail that gate, saying "too little
    traffic": a gate that has not seen enough never passes. Send enough traffic, or hold the
    steps longer; the ``reason`` says how much was needed.

    Windows: each gate reads whole ``period``-second periods (60, Lambda's resolution on
    AWS; LocalLambda keeps its datapoints to the second, so tests may use 1), from where the
    previous gate's window ended (the first from the period the shift started in) to the end
    of the period in which the step's wait ended: the weight holds until the gate has decided,
    so that traffic is this step's. Every period is read once, none is lost. Each period is
    its own window (stratum) for the rule, as the traffic share changes with the weight: a
    gate's span holds some periods from before its step (the first, traffic before the
    shift; the others, the previous weight until the gate moved it), and the rule conditions
    on the invocations each version served in each period, so the error rates of both
    versions may drift during the shift.

    With ``max_latency`` (seconds), a gate also fails when the new version's
    ``latency_percentile`` (90 or 99) of ``Duration`` over the shift so far exceeds the old
    one's by more than that, once each version has served enough invocations for ten to lie
    at or above that percentile (100 for p90, 1,000 for p99; at the last gate, fewer fail as
    too little evidence). As the probe's, a threshold, not a test.

    ``Throttles`` are not counted: a throttled request runs no version, so CloudWatch (and
    LocalLambda) count it under the alias, never under an ``ExecutedVersion``, and it cannot
    be held against either version. Gate on them with an :class:`AlarmGate`.

    Metrics that cannot be read (``GetMetricData`` fails after the client's retries) fail the
    gate, its reason naming the error (code, HTTP status, request id): a gate that cannot see
    must not pass, as an :class:`AlarmGate`'s unreadable alarms fail it by default.

    Late data: datapoints are dated by their invocation and arrive later, so the gate sleeps
    until ``settle`` seconds (default 180) after its window's end before reading it (with
    ``sleep``; ``clock`` tells the time CloudWatch dates datapoints by). Each gate therefore
    takes up to ``period + settle`` seconds.

    It judges steps: before any traffic moves, or once all of it has, there is no old version
    beside the new one to compare with, so as a ``before_traffic`` or ``after_traffic`` check
    it fails, saying so. Counts that contradict each other (more errors than invocations) fail
    the gate with a :class:`~lambdaclient.errors.ValidationError`. ``cloudwatch`` reads the
    metrics; the caller closes it. The gate keeps no state (its readings travel in
    :attr:`HealthResult.metrics`), so one gate can serve any number of shifts.

    Example::

        async with CloudWatchClient(region="us-east-1") as cloudwatch:
            await shift_traffic(client, "my-fn", "live", to_version="7",
                                strategy=Linear(0.1, timedelta(minutes=5)),
                                health_check=MetricsGate(cloudwatch))
    """

    cloudwatch: CloudWatchClient
    max_error_rate: float = attrs.field(default=0.05, kw_only=True)
    baseline_error_rate: float = attrs.field(default=0.02, kw_only=True)
    false_rollback_rate: float = attrs.field(default=0.01, kw_only=True)
    detection_rate: float = attrs.field(default=0.95, kw_only=True)
    settle: float = attrs.field(default=180.0, kw_only=True)
    period: int = attrs.field(default=60, kw_only=True)
    max_latency: float | None = attrs.field(default=None, kw_only=True)
    latency_percentile: int = attrs.field(default=90, kw_only=True)
    clock: Callable[[], datetime] = attrs.field(default=_default_clock, kw_only=True)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(default=asyncio.sleep, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not callable(getattr(self.cloudwatch, "get_metric_data", None)):
            raise ValidationError("cloudwatch must be a CloudWatchClient", field="cloudwatch")
        _seconds(self.settle, "settle", zero=True)
        period: object = self.period
        if type(period) is not int or not (
            period in (1, 5, 10, 30) or (period > 0 and period % 60 == 0)
        ):
            raise ValidationError(
                "period must be 1, 5, 10, 30 or a multiple of 60 seconds", field="period"
            )
        _check_max_latency(self.max_latency)
        if self.latency_percentile not in (90, 99):
            raise ValidationError(
                f"latency_percentile must be 90 or 99, not {self.latency_percentile!r}",
                field="latency_percentile",
            )
        _ = self.rule  # checks the rule's parameters now, not at the first gate

    @property
    def rule(self) -> GateRule:
        """The decision rule at these parameters."""
        return _rule_of(self)

    async def __call__(self, step: StepContext) -> HealthResult:
        """Wait for the step's window to settle, read it, and judge every window so far."""
        if step.phase is not GatePhase.STEP:
            return HealthResult(
                False,
                "the metrics gate compares the old and the new version while the alias sends"
                f" traffic to both: it gates steps, not the {step.phase.value} check",
            )
        readings = [health.metrics for health in step.history if health.metrics is not None]
        if readings:
            tally, start = readings[-1].verdict.tally, readings[-1].end
        else:
            tally = TrafficTally()
            start = _on_period(step.started or self.clock(), self.period, up=False)
        end = max(start, _on_period(self.clock(), self.period, up=True))
        late = (end + timedelta(seconds=self.settle) - self.clock()).total_seconds()
        if late > 0:
            await self.sleep(late)
        try:
            windows = await self._read(step, start, end) if end > start else ()
        except LambdaError as exc:
            return _unread_metrics(exc)
        final = step.gates_left == 1
        verdict = self.rule.judge_traffic(TrafficTally((*tally.windows, *windows)), final=final)
        reading = MetricsReading(
            start, end, step.from_version, step.to_version, verdict, periods=len(windows)
        )
        healthy, reason = verdict.healthy, verdict.reason
        if healthy and self.max_latency is not None and end > start:
            first = readings[0].start if readings else start
            try:
                old, new = await self._latencies(step, first, end)
            except LambdaError as exc:
                return _unread_metrics(exc)
            reading = attrs.evolve(reading, old_latency=old, new_latency=new)
            total = verdict.tally.total
            slower = _latency_failure(
                (total.old_invocations, old),
                (total.new_invocations, new),
                self.max_latency,
                final=final,
                percentile=self.latency_percentile,
            )
            if slower is not None:
                healthy, reason = False, slower
        log = logger.info if healthy else logger.warning
        log("metrics %s -> %s: %s", step.from_version, step.to_version, reason)
        return HealthResult(healthy, reason, metrics=reading)

    def _query(
        self, step: StepContext, side: str, metric: str, stat: str, period: int
    ) -> MetricDataQuery:
        """A query of ``metric`` for the old or the new version (``side``) behind the alias."""
        function = function_name_parts(step.function_name)[0]
        version = step.from_version if side == "old" else step.to_version
        dimensions = (
            Dimension("FunctionName", function),
            Dimension("Resource", f"{function}:{step.alias_name}"),
            Dimension("ExecutedVersion", version),
        )
        return MetricDataQuery(
            f"{side}_{metric.lower()}", Metric(_NAMESPACE, metric, dimensions), stat, period
        )

    async def _latencies(
        self, step: StepContext, start: datetime, end: datetime
    ) -> tuple[float | None, float | None]:
        """Each version's latency percentile (seconds) from ``start`` to ``end``, read as one
        datapoint: a period covering the whole span (percentiles do not add up)."""
        span = (end - start).total_seconds()
        period = next((p for p in (1, 5, 10, 30) if span <= p), 60 * math.ceil(span / 60))
        stat = f"p{self.latency_percentile}"
        queries = [self._query(step, side, "Duration", stat, period) for side in ("old", "new")]
        results = await self.cloudwatch.get_metric_data(queries, start, end).collect()

        def latency(query_id: str) -> float | None:
            result = results.get(query_id)
            return max(result.values) / 1000 if result is not None and result.values else None

        return latency("old_duration"), latency("new_duration")

    async def _read(
        self, step: StepContext, start: datetime, end: datetime
    ) -> tuple[TrafficWindow, ...]:
        """Each version's invocations and errors from ``start`` to ``end``, one window per
        period with datapoints, oldest first. A period runs at one weight (but the one in
        which the weight moved), so no window mixes two traffic shares: the rule's strata
        stay valid when both versions' error rates drift during the shift."""
        fields = ("old_invocations", "old_errors", "new_invocations", "new_errors")
        queries = [
            self._query(step, side, metric, "Sum", self.period)
            for side in ("old", "new")
            for metric in ("Invocations", "Errors")
        ]
        results = await self.cloudwatch.get_metric_data(queries, start, end).collect()
        periods: dict[datetime, dict[str, float]] = {}
        for query_id, result in results.items():
            for at, value in zip(result.timestamps, result.values, strict=True):
                counts = periods.setdefault(at, {})
                counts[query_id] = counts.get(query_id, 0.0) + value
        return tuple(
            TrafficWindow(*(round(periods[at].get(field, 0.0)) for field in fields))
            for at in sorted(periods)
        )


def _unread_metrics(exc: LambdaError) -> HealthResult:
    """A failed gate for metrics that could not be read (after the client's retries)."""
    request_id = getattr(exc, "request_id", None)
    reason = f"the metrics could not be read: {exc}" + (
        f" (request id {request_id})" if request_id else ""
    )
    logger.warning("metrics gate: %s", reason)
    return HealthResult(False, reason)


@attrs.frozen(slots=True)
class _AllOf:
    checks: tuple[HealthCheck, ...]

    async def __call__(self, step: StepContext) -> HealthResult:
        results: list[HealthResult] = []
        for check in self.checks:
            health = _as_health(await check(step))
            results.append(health)
            if not health.healthy:
                return _merge(results)  # the checks after it would only delay the rollback
        # A watching member (an AlarmGate) answered before the members after it ran, which
        # may take minutes (a MetricsGate settles), and its watch polls: asked once more, it
        # answers as of now, so an alarm that fired within the last poll is not missed at the
        # last gate, before all traffic moves.
        for index, check in enumerate(self.checks[:-1]):
            if getattr(check, "watch", None) is not None:
                results[index] = health = _as_health(await check(step))
                if not health.healthy:
                    break
        return _merge(results)

    async def watch(self, step: StepContext) -> HealthResult:
        watchers: list[Watch] = [
            watch
            for watch in (getattr(check, "watch", None) for check in self.checks)
            if watch is not None
        ]
        watches = [asyncio.ensure_future(watch(step)) for watch in watchers]
        try:
            for next_done in asyncio.as_completed(watches):
                health = await next_done
                if not health.healthy:
                    return health
            return HealthResult(True)
        finally:
            for task in watches:
                task.cancel()
            await asyncio.gather(*watches, return_exceptions=True)


def _merge(results: Sequence[HealthResult]) -> HealthResult:
    stats: Mapping[str, VersionStats] = {}
    for health in results:
        stats = _add_stats(stats, health.stats)
    verdicts = [health.verdict for health in results if health.verdict is not None]
    readings = [health.metrics for health in results if health.metrics is not None]
    return HealthResult(
        all(health.healthy for health in results),
        "; ".join(health.reason for health in results if health.reason),
        stats,
        verdicts[0] if verdicts else None,
        readings[0] if readings else None,
    )


def all_of(*checks: HealthCheck) -> HealthCheck:
    """A check that passes when every one of ``checks`` passes: they run in order, and the
    first failure fails it without running the rest. Its result joins their reasons and
    stats, and carries the :class:`InvokeProbe`'s verdict and the :class:`MetricsGate`'s
    reading (at most one of each). Any of them that watches a step (:class:`AlarmGate`) is
    watched through the step's wait and the checks' calls, and the first to fail ends the
    step; once the checks after it have passed, it is asked once more (one read), so that
    the gate's answer is as fresh as its last check's.

    Example::

        health_check=all_of(InvokeProbe(payload={"ping": True}), AlarmGate([...], cloudwatch=cw))
    """
    if not checks or not all(callable(check) for check in checks):
        raise ValidationError("all_of takes one or more health checks", field="checks")
    for kind, what in ((InvokeProbe, "verdicts"), (MetricsGate, "readings")):
        if sum(isinstance(check, kind) for check in checks) > 1:
            raise ValidationError(
                f"all_of takes at most one {kind.__name__}: it builds on its own past {what}",
                field="checks",
            )
    return _AllOf(checks)


def _composed(checks: HealthCheck | Sequence[HealthCheck] | None) -> HealthCheck | None:
    """A list (or tuple) of checks as ``all_of`` them; a single check or None as it is."""
    if isinstance(checks, Sequence):
        return all_of(*checks)
    return checks


def _latency_failure(
    old: tuple[int, float | None],
    new: tuple[int, float | None],
    max_latency: float,
    *,
    final: bool,
    percentile: int = 90,
) -> str | None:
    """Why the new version's latency fails the gate, or None: each side as (calls, its
    ``percentile`` latency in seconds)."""
    needed = round(_SLOW_CALLS * 100 / (100 - percentile))
    (old_calls, old_latency), (new_calls, new_latency) = old, new
    if min(old_calls, new_calls) < needed:
        if not final:
            return None
        return (
            f"too little evidence to compare latencies: {new_calls} calls to the new"
            f" version and {old_calls} to the old, {needed} needed"
        )
    if old_latency is None or new_latency is None or new_latency - old_latency <= max_latency:
        return None
    return (
        f"the new version is slower: {percentile}th-percentile latency"
        f" {1000 * new_latency:.0f} ms against {1000 * old_latency:.0f} ms, more than"
        f" {1000 * max_latency:.0f} ms apart"
    )


def _as_health(outcome: HealthResult | bool) -> HealthResult:
    if isinstance(outcome, HealthResult):
        return outcome
    return HealthResult(bool(outcome))


# --- results and progress -----------------------------------------------------------------


class ShiftEventKind(enum.Enum):
    """What happened in a shift."""

    WAITING = "waiting"  # the new version is not Active yet: the shift waits for it
    READY = "ready"  # the new version became Active after a wait
    STARTED = "started"  # pre-flight, readiness and before_traffic passed (or resumed)
    WEIGHT_SET = "weight_set"  # the alias now sends ``weight`` to the new version
    HEALTHY = "healthy"  # the gate after a step passed
    UNHEALTHY = "unhealthy"  # the gate failed; a rollback follows
    COMPLETED = "completed"  # all traffic on the new version
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"


@attrs.frozen(slots=True)
class ShiftEvent:
    """A progress event: ``kind``, the new version's ``weight`` at that moment, the step
    ``index`` (None outside steps), ``at`` (the injected clock), a ``message``, and the
    ``health`` result of the check behind it: the gate's for HEALTHY and UNHEALTHY (with
    ``index`` None, the ``after_traffic`` check's), ``before_traffic``'s for STARTED.

    WAITING and READY come before STARTED, and only when the new version was not Active
    yet: WAITING says its state and how long the shift will wait, READY how long it took."""

    kind: ShiftEventKind
    weight: float
    index: int | None
    at: datetime
    message: str = ""
    health: HealthResult | None = None

    @property
    def stats(self) -> Mapping[str, VersionStats]:
        """The gate's statistics per version (empty outside gates)."""
        return {} if self.health is None else self.health.stats


@attrs.frozen(slots=True)
class StepRecord:
    """A step taken: its weight, when it started, and its gate's ``health`` result (None
    without a health check)."""

    index: int
    weight: float
    started_at: datetime
    health: HealthResult | None

    @property
    def healthy(self) -> bool | None:
        """Whether the gate passed (None without a health check)."""
        return None if self.health is None else self.health.healthy

    @property
    def stats(self) -> Mapping[str, VersionStats]:
        """The gate's statistics per version (empty without a health check)."""
        return {} if self.health is None else self.health.stats


@attrs.frozen(slots=True)
class ShiftResult:
    """How a shift ended. ``completed`` when all traffic is on ``to_version``;
    ``rolled_back`` (with ``reason``) when the alias was put back on ``from_version``.
    ``alias`` is the alias as the last update left it; ``stats`` adds up every check's
    statistics per version; ``before_traffic`` and ``after_traffic`` hold those checks'
    results (None when not given or not reached)."""

    function_name: str
    alias_name: str
    from_version: str
    to_version: str
    completed: bool
    rolled_back: bool
    reason: str | None
    steps: tuple[StepRecord, ...]
    alias: AliasConfiguration
    stats: Mapping[str, VersionStats]
    before_traffic: HealthResult | None = None
    after_traffic: HealthResult | None = None


# --- the shift --------------------------------------------------------------------------------


ProgressCallback = Callable[[ShiftEvent], Awaitable[None] | None]


@attrs.define
class _Shift:
    client: LambdaClient
    function_name: str
    alias_name: str
    to_version: str
    health_check: HealthCheck | None
    on_progress: ProgressCallback | None
    clock: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]]
    alias: AliasConfiguration = attrs.field(init=False)
    from_version: str = attrs.field(init=False)
    target: FunctionConfiguration = attrs.field(init=False)  # as the pre-flight read it
    weight: float = 0.0
    step_count: int = 0
    before_traffic: HealthCheck | None = None
    after_traffic: HealthCheck | None = None
    records: list[StepRecord] = attrs.Factory(list)
    stats: dict[str, VersionStats] = attrs.Factory(dict)
    checked_before: HealthResult | None = None
    checked_after: HealthResult | None = None
    started: datetime | None = None

    async def emit(
        self,
        kind: ShiftEventKind,
        index: int | None = None,
        message: str = "",
        health: HealthResult | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        """Log the event and pass it to ``on_progress``. ``quiet``: a failing callback is
        logged and ignored, so that it cannot stop a rollback."""
        event = ShiftEvent(kind, self.weight, index, self.clock(), message, health)
        logger.info(
            "shift %s:%s -> %s: %s %.0f%% %s",
            self.function_name,
            self.alias_name,
            self.to_version,
            kind.value,
            100 * self.weight,
            message,
        )
        if self.on_progress is None:
            return
        try:
            outcome = self.on_progress(event)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            if not quiet:
                raise
            logger.exception("on_progress failed during a rollback; rolling back regardless")

    async def configuration(self, version: str) -> FunctionConfiguration:
        try:
            return await self.client.get_function_configuration(
                self.function_name, qualifier=version
            )
        except ResourceNotFoundError as exc:
            raise ShiftRefusedError(
                f"version {version} of {self.function_name} does not exist"
            ) from exc

    async def preflight(self) -> None:
        """Read the alias and refuse what AWS would reject or what would fight another shift."""
        if _PUBLISHED_VERSION.fullmatch(self.to_version) is None:
            raise ShiftRefusedError(
                f"to_version must be a published version number, not {self.to_version!r}"
            )
        self.alias = await self.client.get_alias(self.function_name, self.alias_name)
        self.from_version = self.alias.function_version
        if self.from_version == self.to_version:
            raise ShiftRefusedError(
                f"alias {self.alias_name} already sends its traffic to version {self.to_version}"
            )
        if _PUBLISHED_VERSION.fullmatch(self.from_version) is None:
            raise ShiftRefusedError(
                f"alias {self.alias_name} points at {self.from_version}; weights need a"
                " published primary version"
            )
        # One after the other: a refusal must not leave the other read running.
        target = await self.configuration(self.to_version)
        primary = await self.configuration(self.from_version)
        # The primary takes the traffic back on a rollback; a Pending one is not waited
        # for: the alias sends it its traffic already.
        for which, version, seen in (
            ("the primary version", self.from_version, primary),
            ("the new version", self.to_version, target),
        ):
            if seen.state in _UNUSABLE:
                raise self.unusable(which, version, seen)
        self.target = target
        if target.role != primary.role:
            raise ShiftRefusedError(
                f"versions {self.from_version} and {self.to_version} have different execution"
                f" roles ({primary.role} and {target.role}); AWS rejects such weights"
            )
        if target.dead_letter_config != primary.dead_letter_config:
            raise ShiftRefusedError(
                f"versions {self.from_version} and {self.to_version} have different dead-letter"
                " configurations; AWS rejects such weights"
            )
        weights = (
            self.alias.routing_config.additional_version_weights
            if (self.alias.routing_config)
            else {}
        )
        for version, weight in weights.items():
            if version != self.to_version:
                raise ShiftRefusedError(
                    f"alias {self.alias_name} is mid-shift to version {version}"
                    f" ({weight:.0%}); finish or roll back that shift first"
                )
            self.weight = weight  # resuming an interrupted shift to the same version

    def unusable(self, which: str, version: str, seen: _VersionState) -> ShiftRefusedError:
        """The refusal of a version that is Failed or Inactive, naming the state and reason."""
        why = _UNUSABLE.get(seen.state or "", _UNUSABLE["Failed"])
        return ShiftRefusedError(
            f"{which} {version} of {self.function_name} is {_state_text(seen)}: {why}"
        )

    async def wait_until_ready(self, timeout: float) -> None:  # noqa: ASYNC109 (a sleep budget)
        """Return once the new version is Active, waiting up to ``timeout`` seconds of
        sleeps for it; refuse it if it turns Failed or the time runs out."""
        if version_active_progress(self.target) is Progress.DONE:
            return
        if timeout == 0:
            raise self.not_ready(self.target, timeout)
        started = self.clock()
        await self.emit(
            ShiftEventKind.WAITING,
            message=f"version {self.to_version} is {_state_text(self.target)}; waiting up to"
            f" {timeout:g}s for it to be Active",
        )
        # The pre-flight has just read the state: the first read of the wait comes a delay on.
        pause = min(_READY_DELAY, timeout)
        await self.sleep(pause)
        try:
            self.target = await self.client.wait_for_version_active(
                self.function_name,
                self.to_version,
                delay=_READY_DELAY,
                timeout=timeout - pause,
                sleep=self.sleep,
            )
        except WaiterError as exc:  # it ran out of time, or the version turned Failed
            raise (
                self.not_ready(exc, timeout)
                if exc.timed_out
                else self.unusable("the new version", self.to_version, exc)
            ) from exc
        waited = round((self.clock() - started).total_seconds(), 1)
        await self.emit(
            ShiftEventKind.READY, message=f"version {self.to_version} is Active after {waited:g}s"
        )

    def not_ready(self, version: _VersionState, timeout: float) -> ShiftRefusedError:
        return ShiftRefusedError(
            f"version {self.to_version} of {self.function_name} was not Active within"
            f" ready_timeout ({timeout:g}s): last seen {_state_text(version)}; nothing was"
            " changed"
        )

    async def update(
        self, *, routing_config: RoutingConfig, function_version: str | None = None
    ) -> None:
        """Update the alias only if it is still as we last saw it."""
        try:
            self.alias = await self.client.update_alias(
                self.function_name,
                self.alias_name,
                function_version=function_version,
                routing_config=routing_config,
                revision_id=self.alias.revision_id,
            )
        except PreconditionFailedError as exc:
            raise ConcurrentModificationError(
                f"alias {self.alias_name} of {self.function_name} was changed by someone else"
                " during the shift; stopped without changing it further",
                function_name=self.function_name,
                alias_name=self.alias_name,
            ) from exc
        except (LambdaError, asyncio.CancelledError):
            # The update may have been applied with its answer lost (a timeout, a dropped
            # connection, a cancellation): adopt it if so, or the next update, a rollback
            # included, would take our own change for someone else's.
            await asyncio.shield(self.adopt_if_applied(routing_config, function_version))
            raise

    async def adopt_if_applied(
        self, routing_config: RoutingConfig, function_version: str | None
    ) -> None:
        try:
            current = await self.client.get_alias(self.function_name, self.alias_name)
        except LambdaError:
            return  # nothing learnt; the caller's error stands
        wanted_version = function_version or self.alias.function_version
        wanted_routing = routing_config if routing_config.additional_version_weights else None
        if current.function_version == wanted_version and current.routing_config == wanted_routing:
            self.alias = current

    async def run_step(self, index: int, step: Step) -> HealthResult | None:
        """Set the step's weight, wait, and ask the health check (None without one)."""
        started = self.clock()
        await self.update(routing_config=RoutingConfig({self.to_version: step.weight}))
        self.weight = step.weight
        await self.emit(ShiftEventKind.WEIGHT_SET, index)
        seconds = step.wait.total_seconds()
        check = self.health_check
        if check is None:
            await self.sleep(seconds)
            self.records.append(StepRecord(index, step.weight, started, None))
            await self.emit(ShiftEventKind.HEALTHY, index)
            return None
        return await self.gate(check, index, started, self.history(), seconds)

    async def gate(
        self,
        check: HealthCheck,
        index: int,
        started: datetime,
        history: tuple[HealthResult, ...],
        wait: float | None = None,
    ) -> HealthResult:
        """Step ``index``'s gate at the current weight: the step's ``wait`` (seconds; None for
        none), then ``check``'s answer, with the check's watch alongside both; the step is
        recorded either way."""

        async def wait_then_check() -> HealthResult:
            if wait is not None:
                await self.sleep(wait)
            return await self.check(check, GatePhase.STEP, index, history)

        health = await self.watched(wait_then_check(), index, history)
        self.records.append(StepRecord(index, self.weight, started, health))
        await self.emit_health(health, index)
        return health

    async def gate_failed(self, health: HealthResult) -> ShiftResult:
        """Roll back after a failed step gate."""
        reason = f"health check failed at {self.weight:.0%}" + (
            f": {health.reason}" if health.reason else ""
        )
        await self.roll_back(reason)
        return self.result(completed=False, rolled_back=True, reason=reason)

    def history(self) -> tuple[HealthResult, ...]:
        """The results of this shift's gates so far."""
        return tuple(record.health for record in self.records if record.health is not None)

    def context(
        self, phase: GatePhase, index: int, history: tuple[HealthResult, ...]
    ) -> StepContext:
        return StepContext(
            self.client,
            self.function_name,
            self.alias_name,
            self.from_version,
            self.to_version,
            index,
            self.weight,
            self.step_count,
            history,
            phase,
            self.started,
        )

    async def watched(
        self, gate: Awaitable[HealthResult], index: int, history: tuple[HealthResult, ...]
    ) -> HealthResult:
        """``gate`` (a step's wait and its check), with the health check's ``watch`` (if it has
        one) running alongside all through: the watch's unhealthy result if it comes first
        (``gate`` is then cancelled), else ``gate``'s. The check's call is watched too, as a
        check may take minutes (a :class:`MetricsGate` sleeps through its settle delay)."""
        watch: Watch | None = getattr(self.health_check, "watch", None)
        if watch is None:
            return await gate
        context = self.context(GatePhase.STEP, index, history)

        async def watching() -> HealthResult:
            try:
                return await watch(context)
            except Exception as exc:
                return HealthResult(False, f"health check raised {type(exc).__name__}: {exc}")

        gating = asyncio.ensure_future(gate)
        watcher = asyncio.ensure_future(watching())
        try:
            await asyncio.wait((gating, watcher), return_when=asyncio.FIRST_COMPLETED)
            if watcher.done() and not watcher.result().healthy:
                return watcher.result()
            return await gating  # the watch has nothing more to say: the gate goes on
        finally:
            for task in (gating, watcher):
                task.cancel()
            await asyncio.gather(gating, watcher, return_exceptions=True)

    async def check(
        self,
        check: HealthCheck,
        phase: GatePhase,
        index: int,
        history: tuple[HealthResult, ...] = (),
    ) -> HealthResult:
        """Ask ``check`` at the current weight; a check that raises is a failed check."""
        context = self.context(phase, index, history)
        try:
            health = _as_health(await check(context))
        except Exception as exc:
            health = HealthResult(False, f"health check raised {type(exc).__name__}: {exc}")
        self.stats = _add_stats(self.stats, health.stats)
        return health

    async def emit_health(self, health: HealthResult, index: int | None) -> None:
        kind = ShiftEventKind.HEALTHY if health.healthy else ShiftEventKind.UNHEALTHY
        message = health.reason or ("" if health.healthy else "health check failed")
        await self.emit(kind, index, message, health)

    async def check_before_traffic(self) -> None:
        """Refuse the shift, nothing changed, unless ``before_traffic`` passes."""
        if self.before_traffic is None:
            return
        health = await self.check(self.before_traffic, GatePhase.BEFORE_TRAFFIC, 0)
        self.checked_before = health
        if not health.healthy:
            raise ShiftRefusedError(
                f"the before_traffic check failed: {health.reason or 'it returned False'}"
            )

    async def check_after_traffic(self) -> HealthResult | None:
        """With all traffic on the new version, ask ``after_traffic`` (None without one)."""
        if self.after_traffic is None:
            return None
        health = await self.check(self.after_traffic, GatePhase.AFTER_TRAFFIC, self.step_count)
        self.checked_after = health
        await self.emit_health(health, None)
        return health

    async def roll_back(self, reason: str) -> None:
        await self.emit(ShiftEventKind.ROLLING_BACK, message=reason, quiet=True)
        await self.update(function_version=self.from_version, routing_config=RoutingConfig({}))
        self.weight = 0.0
        await self.emit(ShiftEventKind.ROLLED_BACK, message=reason, quiet=True)

    def result(self, *, completed: bool, rolled_back: bool, reason: str | None) -> ShiftResult:
        return ShiftResult(
            self.function_name,
            self.alias_name,
            self.from_version,
            self.to_version,
            completed,
            rolled_back,
            reason,
            tuple(self.records),
            self.alias,
            dict(self.stats),
            self.checked_before,
            self.checked_after,
        )


class _VersionState(Protocol):
    """A version's state as a configuration, or a :class:`WaiterError`, reports it."""

    @property
    def state(self) -> str | None: ...
    @property
    def state_reason(self) -> str | None: ...
    @property
    def state_reason_code(self) -> str | None: ...
    @property
    def last_update_status(self) -> str | None: ...


_UNUSABLE = {
    "Failed": "it cannot take traffic",
    "Inactive": "it cannot take traffic until Lambda restores it (an invocation starts that)",
}
"""The states that refuse a shift, and why."""


def _state_text(seen: _VersionState) -> str:
    """``Failed (InsufficientRolePermissions: The role cannot be assumed.)``."""
    text = seen.state or "in no state"
    if seen.last_update_status == "InProgress":
        text += " with an update in progress"
    why = ": ".join(filter(None, (seen.state_reason_code, seen.state_reason)))
    return f"{text} ({why})" if why else text


async def shift_traffic(
    client: LambdaClient,
    function_name: str,
    alias_name: str,
    *,
    to_version: str,
    strategy: Strategy,
    health_check: HealthCheck | Sequence[HealthCheck] | None = None,
    before_traffic: HealthCheck | Sequence[HealthCheck] | None = None,
    after_traffic: HealthCheck | Sequence[HealthCheck] | None = None,
    ready_timeout: float = 300.0,
    on_progress: ProgressCallback | None = None,
    rollback_on_cancel: bool = True,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> ShiftResult:
    """Move alias ``alias_name``'s traffic to ``to_version`` step by step.

    Pre-flight: ``to_version`` must be a published version, other than the alias's primary,
    with the same execution role and dead-letter configuration; an alias mid-shift to another
    version is refused (:class:`~lambdaclient.errors.ShiftRefusedError`), and one mid-shift to
    ``to_version`` resumes from its current weight. Each step sets the weight, waits, then
    asks ``health_check`` (given a :class:`StepContext`); an unhealthy :class:`HealthResult`,
    a False or an exception rolls back, with the result's reason in ``ShiftResult.reason``.
    A shift resumed at or past its last step's weight still runs one gate, as the last step,
    at the weight it found, before all traffic moves. Completion sets the primary to
    ``to_version`` and clears the weights. A strategy with no steps (:class:`AllAtOnce`) has
    nothing for ``health_check`` to gate: it is refused with
    :class:`~lambdaclient.errors.ValidationError` (``field="health_check"``) before anything
    is read; ``after_traffic`` is the gate such a shift can have.

    Readiness: a version that is ``Failed`` or ``Inactive``, the new one or the primary, is
    refused with ``ShiftRefusedError`` naming its state and reason (``StateReasonCode:
    StateReason``); traffic sent to it would fail, and a rollback needs a primary that can
    take the traffic back. A new version that is not ``Active`` yet (``Pending``, or with an
    update in progress) is waited for before anything else happens, ``before_traffic``
    included (it would only meet 409s), through :meth:`LambdaClient.wait_for_version_active`
    with the injected ``sleep``, reading every 5 seconds, for up to ``ready_timeout`` seconds
    of sleeps (default 300, as the client's waiter; 0 checks without waiting). The
    reads reuse the pre-flight's: an Active version costs no extra request. If the time runs
    out, or the version turns ``Failed``, the shift is refused with ``ShiftRefusedError``
    (the :class:`~lambdaclient.errors.WaiterError` as its cause) and nothing changed; a
    cancelled wait changes nothing either. The wait is reported as WAITING, then READY,
    events. A primary that is ``Pending`` is not waited for: it takes the traffic already.

    Any of the three checks may be a list of checks: it is ``all_of`` them.

    ``before_traffic`` and ``after_traffic`` are checks like ``health_check`` (CodeDeploy's
    BeforeAllowTraffic and AfterAllowTraffic hooks), with ``StepContext.phase`` saying which.
    ``before_traffic`` runs after the pre-flight checks, before any weight moves (on a resumed
    shift too); if it fails the shift is refused with ``ShiftRefusedError`` and nothing
    changed. ``after_traffic`` runs once all traffic is on ``to_version``; if it fails the
    alias is rolled back to ``from_version`` (conditional on the RevisionId, as always).

    Every update is conditional on the RevisionId last read: if someone else changes the
    alias, :class:`~lambdaclient.errors.ConcurrentModificationError` is raised and nothing more
    is changed. Any other error rolls the alias back and is raised again (with a note saying
    so); so is cancellation, unless ``rollback_on_cancel=False``.

    ``on_progress`` receives a :class:`ShiftEvent` at each stage (sync or async). ``clock``
    and ``sleep`` replace the wall clock and ``asyncio.sleep``, so tests can run a
    ten-minute rollout in milliseconds.

    ``function_name`` is a name or an ARN without a qualifier: one naming a version or an
    alias (``my-fn:live``) is refused with :class:`~lambdaclient.errors.ValidationError`
    before anything is read, since the alias is ``alias_name``.
    """
    if function_name_parts(check_function_name(function_name))[2] is not None:
        raise ValidationError(
            f"function_name {function_name!r} names a version or alias: the alias whose"
            " traffic moves is alias_name; pass the function's name or unqualified ARN",
            field="function_name",
        )
    steps = _check_steps(strategy.steps())  # custom strategies are held to the same rules
    health_check = _composed(health_check)
    before_traffic = _composed(before_traffic)
    after_traffic = _composed(after_traffic)
    if health_check is not None and not steps:
        raise ValidationError(
            "health_check gates the steps between weights, and this strategy, like AllAtOnce,"
            " has none: pass the check as after_traffic= to run it once all traffic has moved,"
            " rolling back if it fails",
            field="health_check",
        )
    ready_timeout = _seconds(ready_timeout, "ready_timeout", zero=True)
    shift = _Shift(
        client,
        function_name,
        alias_name,
        to_version,
        health_check,
        on_progress,
        clock or _default_clock,
        sleep or asyncio.sleep,
        step_count=len(steps),
        before_traffic=before_traffic,
        after_traffic=after_traffic,
    )
    shift.started = shift.clock()
    await shift.preflight()
    await shift.wait_until_ready(ready_timeout)
    await shift.check_before_traffic()
    await shift.emit(
        ShiftEventKind.STARTED,
        message=f"from version {shift.from_version}"
        + (f", resuming at {shift.weight:.0%}" if shift.weight else ""),
        health=shift.checked_before,
    )
    try:
        for index, step in enumerate(steps):
            if step.weight <= shift.weight:
                continue  # reached before the shift was interrupted
            health = await shift.run_step(index, step)
            if health is not None and not health.healthy:
                return await shift.gate_failed(health)
        if health_check is not None and not shift.records:
            # Resumed past its last step: the gates that passed before are not known, so the
            # weight found is gated as the last step (with that gate's whole budget).
            health = await shift.gate(health_check, len(steps) - 1, shift.clock(), ())
            if not health.healthy:
                return await shift.gate_failed(health)
        await shift.update(function_version=to_version, routing_config=RoutingConfig({}))
        shift.weight = 1.0
        after = await shift.check_after_traffic()
        if after is not None and not after.healthy:
            reason = "after_traffic check failed" + (f": {after.reason}" if after.reason else "")
            await shift.roll_back(reason)
            return shift.result(completed=False, rolled_back=True, reason=reason)
        await shift.emit(ShiftEventKind.COMPLETED)
        return shift.result(completed=True, rolled_back=False, reason=None)
    except ConcurrentModificationError:
        raise  # their change stands: no rollback over it
    except asyncio.CancelledError as exc:
        if rollback_on_cancel:
            await _roll_back_after(shift, "the shift was cancelled", exc)
        raise
    except Exception as exc:
        await _roll_back_after(shift, f"{type(exc).__name__}: {exc}", exc)
        raise


async def _roll_back_after(shift: _Shift, reason: str, error: BaseException) -> None:
    """Roll back after ``error``; if that fails too, say so on ``error`` rather than hide it."""
    # Shielded: a second cancellation must not leave the alias half-shifted.
    task = asyncio.ensure_future(shift.roll_back(reason))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
    except Exception as rollback_error:
        logger.error("rolling back %s failed: %s", shift.alias_name, rollback_error)
        error.add_note(f"rolling back alias {shift.alias_name} failed: {rollback_error}")
        return
    if task.done() and not task.cancelled() and task.exception() is None:
        error.add_note(f"alias {shift.alias_name} was rolled back to version {shift.from_version}")
