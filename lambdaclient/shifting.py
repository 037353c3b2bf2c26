"""Progressive traffic shifting on a weighted alias, with health gates and automatic rollback.

CodeDeploy shifts alias traffic on AWS's side; this does it from application code, safely:

- pre-flight checks refuse a shift AWS would reject, or one that would fight another shift;
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
        health_check=InvokeProbe(payload={"ping": True}, invocations=50, max_error_rate=0.02),
    )
    if result.rolled_back:
        print("rolled back:", result.reason)
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
from typing import Protocol

import attrs

from ._client import LambdaClient
from ._errors import (
    ConcurrentModificationError,
    LambdaError,
    PreconditionFailedError,
    ResourceNotFoundError,
    ShiftRefusedError,
    ValidationError,
)
from ._gate import GateRule, PairTally, Verdict
from ._models import AliasConfiguration, FunctionConfiguration, RoutingConfig
from ._payload import Payload

__all__ = [
    "AllAtOnce",
    "Canary",
    "GateRule",
    "HealthCheck",
    "InvokeProbe",
    "Linear",
    "PairTally",
    "Schedule",
    "ShiftEvent",
    "ShiftEventKind",
    "ShiftResult",
    "Step",
    "StepContext",
    "StepRecord",
    "Strategy",
    "Verdict",
    "VersionStats",
    "shift_traffic",
]

logger = logging.getLogger("lambdaclient")

_PUBLISHED_VERSION = re.compile(r"[0-9]+", re.ASCII)


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
        return _check_steps([Step(self.weight, self.wait)])


@attrs.frozen(slots=True)
class Linear:
    """``step`` more of the traffic every ``interval`` (10%, 20%, ... 90%), then all of it."""

    step: float
    interval: timedelta

    def steps(self) -> tuple[Step, ...]:
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
        return _check_steps([Step(weight, wait) for weight, wait in self.schedule])


# --- health ---------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class StepContext:
    """What a health check is given: the client, where the shift is, and which step it is
    at (``index`` from 0; ``weight`` now on the new version)."""

    client: LambdaClient
    function_name: str
    alias_name: str
    from_version: str
    to_version: str
    index: int
    weight: float


HealthCheck = Callable[[StepContext], Awaitable[bool]]
"""An async callable: True to go on, False (or an exception) to roll back."""


@attrs.frozen(slots=True)
class VersionStats:
    """How one version fared in probes: invocations, errors among them, and latencies in
    seconds."""

    invocations: int
    errors: int
    mean_latency: float
    max_latency: float

    @property
    def error_rate(self) -> float:
        """Errors per invocation."""
        return self.errors / self.invocations if self.invocations else 0.0

    def __add__(self, other: VersionStats) -> VersionStats:
        total = self.invocations + other.invocations
        weighted = self.mean_latency * self.invocations + other.mean_latency * other.invocations
        return VersionStats(
            total,
            self.errors + other.errors,
            weighted / total if total else 0.0,
            max(self.max_latency, other.max_latency),
        )


@attrs.define
class InvokeProbe:
    """A health check that invokes the function through the alias and compares versions.

    It sends ``invocations`` calls (``concurrency`` at a time) with ``payload`` and sorts them
    by ``executed_version``. It fails when the new version's rate of function errors exceeds
    the old version's by more than ``max_error_rate``; when calls that failed before reaching
    any version (a 5xx, a lost connection: counted under ``"unknown"``) exceed
    ``max_error_rate`` of all calls, since a broken new version can fail that way; or, with
    ``max_latency`` (seconds), when a call to the new version took longer. A new version that
    received no calls passes: there is nothing to judge it by (it is logged).
    """

    payload: Payload = None
    invocations: int = 20
    max_error_rate: float = 0.05
    max_latency: float | None = None
    concurrency: int = 10
    stats: dict[str, VersionStats] = attrs.field(factory=dict, init=False)
    """Statistics per version of the last probe."""

    async def __call__(self, step: StepContext) -> bool:
        loop = asyncio.get_running_loop()
        samples: dict[str, list[tuple[bool, float]]] = {}
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one() -> None:
            async with semaphore:
                started = loop.time()
                try:
                    result = await step.client.invoke(
                        step.function_name, payload=self.payload, qualifier=step.alias_name
                    )
                except LambdaError as exc:
                    logger.debug("probe invocation failed: %s", type(exc).__name__)
                    samples.setdefault("unknown", []).append((True, loop.time() - started))
                    return
                version = result.executed_version or "unknown"
                failed = result.function_error is not None
                samples.setdefault(version, []).append((failed, loop.time() - started))

        await asyncio.gather(*(one() for _ in range(self.invocations)))
        self.stats = {
            version: VersionStats(
                len(runs),
                sum(failed for failed, _ in runs),
                sum(t for _, t in runs) / len(runs),
                max(t for _, t in runs),
            )
            for version, runs in samples.items()
        }
        unknown = self.stats.get("unknown")
        if unknown is not None and unknown.errors > self.max_error_rate * self.invocations:
            logger.warning(
                "probe: %d of %d calls failed before reaching a version",
                unknown.errors,
                self.invocations,
            )
            return False
        new = self.stats.get(step.to_version)
        old = self.stats.get(step.from_version)
        if new is None:
            logger.info("probe: version %s received no invocations; passing", step.to_version)
            return True
        baseline = old.error_rate if old is not None else 0.0
        if new.error_rate > baseline + self.max_error_rate:
            logger.warning(
                "probe: version %s error rate %.1f%% against %.1f%% for version %s",
                step.to_version,
                100 * new.error_rate,
                100 * baseline,
                step.from_version,
            )
            return False
        if self.max_latency is not None and new.max_latency > self.max_latency:
            logger.warning("probe: version %s took %.3fs", step.to_version, new.max_latency)
            return False
        return True


# --- results and progress -----------------------------------------------------------------


class ShiftEventKind(enum.Enum):
    """What happened in a shift."""

    STARTED = "started"  # pre-flight passed (or resumed)
    WEIGHT_SET = "weight_set"  # the alias now sends ``weight`` to the new version
    HEALTHY = "healthy"  # the gate after a step passed
    UNHEALTHY = "unhealthy"  # the gate failed; a rollback follows
    COMPLETED = "completed"  # all traffic on the new version
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"


@attrs.frozen(slots=True)
class ShiftEvent:
    """A progress event: ``kind``, the new version's ``weight`` at that moment, the step
    ``index`` (None outside steps), ``at`` (the injected clock) and a ``message``."""

    kind: ShiftEventKind
    weight: float
    index: int | None
    at: datetime
    message: str = ""
    stats: Mapping[str, VersionStats] = attrs.field(factory=dict)


@attrs.frozen(slots=True)
class StepRecord:
    """A step taken: its weight, when it started, and whether its gate passed."""

    index: int
    weight: float
    started_at: datetime
    healthy: bool | None
    stats: Mapping[str, VersionStats] = attrs.field(factory=dict)


@attrs.frozen(slots=True)
class ShiftResult:
    """How a shift ended. ``completed`` when all traffic is on ``to_version``;
    ``rolled_back`` (with ``reason``) when the alias was put back on ``from_version``.
    ``alias`` is the alias as the last update left it; ``stats`` adds up every probe's
    statistics per version."""

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
    weight: float = 0.0
    records: list[StepRecord] = attrs.Factory(list)
    stats: dict[str, VersionStats] = attrs.Factory(dict)

    async def emit(
        self,
        kind: ShiftEventKind,
        index: int | None = None,
        message: str = "",
        stats: Mapping[str, VersionStats] | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        """Log the event and pass it to ``on_progress``. ``quiet``: a failing callback is
        logged and ignored, so that it cannot stop a rollback."""
        event = ShiftEvent(kind, self.weight, index, self.clock(), message, dict(stats or {}))
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

    async def run_step(self, index: int, step: Step) -> bool:
        started = self.clock()
        await self.update(routing_config=RoutingConfig({self.to_version: step.weight}))
        self.weight = step.weight
        await self.emit(ShiftEventKind.WEIGHT_SET, index)
        await self.sleep(step.wait.total_seconds())
        healthy, stats, message = True, {}, ""
        if self.health_check is not None:
            context = StepContext(
                self.client,
                self.function_name,
                self.alias_name,
                self.from_version,
                self.to_version,
                index,
                step.weight,
            )
            try:
                healthy = bool(await self.health_check(context))
            except Exception as exc:  # a crashing check is a failed check
                healthy, message = False, f"health check raised {type(exc).__name__}: {exc}"
            stats = dict(getattr(self.health_check, "stats", {}) or {})
            for version, version_stats in stats.items():
                known = self.stats.get(version)
                self.stats[version] = version_stats if known is None else known + version_stats
        self.records.append(StepRecord(index, step.weight, started, healthy, stats))
        kind = ShiftEventKind.HEALTHY if healthy else ShiftEventKind.UNHEALTHY
        await self.emit(kind, index, message or ("" if healthy else "health check failed"), stats)
        return healthy

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
        )


def _default_clock() -> datetime:
    return datetime.now(UTC)


async def shift_traffic(
    client: LambdaClient,
    function_name: str,
    alias_name: str,
    *,
    to_version: str,
    strategy: Strategy,
    health_check: HealthCheck | None = None,
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
    asks ``health_check``; a False (or an exception) rolls back. Completion sets the primary to
    ``to_version`` and clears the weights.

    Every update is conditional on the RevisionId last read: if someone else changes the
    alias, :class:`~lambdaclient.errors.ConcurrentModificationError` is raised and nothing more
    is changed. Any other error rolls the alias back and is raised again (with a note saying
    so); so is cancellation, unless ``rollback_on_cancel=False``.

    ``on_progress`` receives a :class:`ShiftEvent` at each stage (sync or async). ``clock``
    and ``sleep`` replace the wall clock and ``asyncio.sleep``, so tests can run a
    ten-minute rollout in milliseconds.
    """
    steps = _check_steps(strategy.steps())  # custom strategies are held to the same rules
    shift = _Shift(
        client,
        function_name,
        alias_name,
        to_version,
        health_check,
        on_progress,
        clock or _default_clock,
        sleep or asyncio.sleep,
    )
    await shift.preflight()
    await shift.emit(
        ShiftEventKind.STARTED,
        message=f"from version {shift.from_version}"
        + (f", resuming at {shift.weight:.0%}" if shift.weight else ""),
    )
    try:
        for index, step in enumerate(steps):
            if step.weight <= shift.weight:
                continue  # reached before the shift was interrupted
            if not await shift.run_step(index, step):
                reason = f"health check failed at {step.weight:.0%}"
                await shift.roll_back(reason)
                return shift.result(completed=False, rolled_back=True, reason=reason)
        await shift.update(function_version=to_version, routing_config=RoutingConfig({}))
        shift.weight = 1.0
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
