"""What the ``shift`` command shows: its progress as it goes (plain lines, or rich's progress
bar when stderr is a terminal and rich is installed), and its result (a summary of the steps,
what each gate saw (probe calls, traffic read by the metrics gate), and the probes per
version, or ``--output json``'s document).

rich stays optional: it is imported only where a rich display is drawn.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from ._cli_output import Output, columns, in_flags, ms, percent, rich_console
from ._wire import converter
from .shifting import (
    HealthResult,
    MetricsReading,
    ShiftEvent,
    ShiftEventKind,
    ShiftResult,
    VersionStats,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = [
    "ShiftProgress",
    "print_rich_summary",
    "shift_document",
    "shift_outcome",
    "shift_progress",
    "summary_text",
]


def _stats_text(stats: Mapping[str, VersionStats]) -> str:
    return ", ".join(
        f"v{version} {s.errors}/{s.invocations} errors" for version, s in sorted(stats.items())
    )


def _traffic_text(reading: MetricsReading) -> str:
    """What the metrics gate read in its window: each version's errors per invocation."""
    window = reading.window
    text = (
        f"traffic v{reading.old_version} {window.old_errors}/{window.old_invocations} errors,"
        f" v{reading.new_version} {window.new_errors}/{window.new_invocations} errors"
    )
    if reading.new_latency is not None or reading.old_latency is not None:
        text += f", latency {ms(reading.old_latency)} and {ms(reading.new_latency)}"
    return text


def _seen_text(health: HealthResult | None) -> str:
    """What a check saw: its probe calls per version and the traffic it read."""
    if health is None:
        return ""
    seen = [_stats_text(health.stats)] if health.stats else []
    seen += [_traffic_text(health.metrics)] if health.metrics is not None else []
    return "; ".join(seen)


_EVENT_STYLE = {
    ShiftEventKind.HEALTHY: "green",
    ShiftEventKind.COMPLETED: "bold green",
    ShiftEventKind.UNHEALTHY: "red",
    ShiftEventKind.ROLLING_BACK: "yellow",
    ShiftEventKind.ROLLED_BACK: "bold red",
}


class ShiftProgress:
    """Shows a shift's events as they come: plain lines on a stream, or nothing. Messages
    name the options typed (``flags``), not the library's parameters."""

    def __init__(self, stream: TextIO | None, steps: int, flags: Mapping[str, str]) -> None:
        self.stream = stream
        self.steps = steps
        self.flags = flags
        self.rolled_back = False

    def __enter__(self) -> ShiftProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def line(self, event: ShiftEvent) -> str:
        parts = [event.at.astimezone().strftime("%H:%M:%S"), f"{event.kind.value:<12}"]
        parts.append(f"{percent(event.weight):>5}")
        message = event.message
        if event.index is not None:
            parts.append(f"step {event.index + 1}/{self.steps}")
        elif event.health is not None:  # outside the steps, a check is a probe before or after
            if event.kind is ShiftEventKind.STARTED:
                message += f"; {self.around('before_traffic', 'pre')}: {event.health.reason}"
            else:
                label = self.around("after_traffic", "post")
                message = label + (f": {message}" if message else "")
        if message:
            parts.append(in_flags(message, self.flags))
        seen = _seen_text(event.health)
        if seen:
            parts.append(f"({seen})")
        return "  ".join(parts)

    def around(self, check: str, when: str) -> str:
        """What ran before or after traffic: the probe, or the checks the options named
        (``--alarm`` adds the alarms to them)."""
        flag = self.flags.get(check, "")
        return f"{when}-traffic checks ({flag})" if "--alarm" in flag else f"{when}-traffic probe"

    def event(self, event: ShiftEvent) -> None:
        if event.kind is ShiftEventKind.ROLLED_BACK:
            self.rolled_back = True
        self.show(event)

    def show(self, event: ShiftEvent) -> None:
        if self.stream is not None:
            self.stream.write(self.line(event) + "\n")
            self.stream.flush()


class _RichProgress(ShiftProgress):
    """A progress bar of the new version's weight, and a line per event above it."""

    def __init__(
        self, console: Console, steps: int, flags: Mapping[str, str], description: str
    ) -> None:
        super().__init__(None, steps, flags)
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress: Progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID = self.progress.add_task(description, total=100)

    def __enter__(self) -> _RichProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def show(self, event: ShiftEvent) -> None:
        from rich.text import Text

        self.progress.update(self.task, completed=100 * event.weight, refresh=True)
        self.progress.console.print(Text(self.line(event), style=_EVENT_STYLE.get(event.kind, "")))


def shift_progress(
    args: argparse.Namespace, out: Output, steps: int, flags: Mapping[str, str]
) -> ShiftProgress:
    """The display ``shift``'s options ask for: none with ``--no-progress``, rich's on a
    terminal (unless ``--output json``), else plain lines on stderr."""
    if args.no_progress:
        return ShiftProgress(None, steps, flags)
    console = None if out.json else rich_console(out.stderr)
    if console is None:
        return ShiftProgress(out.stderr, steps, flags)
    return _RichProgress(
        console,
        steps,
        flags,
        f"{args.function_name}:{args.alias_name} → version {args.to_version}",
    )


def _stats_document(stats: Mapping[str, VersionStats]) -> dict[str, Any]:
    return {
        version: {
            "Invocations": s.invocations,
            "Errors": s.errors,
            "ErrorRate": s.error_rate,
            "MeanLatency": s.mean_latency,
            "MaxLatency": s.max_latency,
            "P50Latency": s.p50_latency,
            "P90Latency": s.p90_latency,
        }
        for version, s in sorted(stats.items())
    }


def _metrics_document(reading: MetricsReading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    window, verdict = reading.window, reading.verdict
    return {
        "Start": reading.start.isoformat(),
        "End": reading.end.isoformat(),
        "Window": {
            reading.old_version: {
                "Invocations": window.old_invocations,
                "Errors": window.old_errors,
            },
            reading.new_version: {
                "Invocations": window.new_invocations,
                "Errors": window.new_errors,
            },
        },
        "LikelihoodRatio": verdict.likelihood_ratio,
        "Threshold": verdict.threshold,
        "PValue": verdict.p_value,
        "RequiredInvocations": verdict.required_invocations,
        "Latency": {
            reading.old_version: reading.old_latency,
            reading.new_version: reading.new_latency,
        },
    }


def _check_document(health: HealthResult | None) -> dict[str, Any] | None:
    if health is None:
        return None
    return {
        "Healthy": health.healthy,
        "Reason": health.reason,
        "Stats": _stats_document(health.stats),
        "Metrics": _metrics_document(health.metrics),
    }


def shift_document(result: ShiftResult) -> dict[str, Any]:
    """A shift's result as ``--output json``'s document, with AWS-style field names."""
    return {
        "FunctionName": result.function_name,
        "AliasName": result.alias_name,
        "FromVersion": result.from_version,
        "ToVersion": result.to_version,
        "Completed": result.completed,
        "RolledBack": result.rolled_back,
        "Reason": result.reason,
        "Steps": [
            {
                "Index": step.index,
                "Weight": step.weight,
                "StartedAt": step.started_at.isoformat(),
                "Healthy": step.healthy,
                "Reason": None if step.health is None else step.health.reason,
                "Stats": _stats_document(step.stats),
                "Metrics": _metrics_document(None if step.health is None else step.health.metrics),
            }
            for step in result.steps
        ],
        "BeforeTraffic": _check_document(result.before_traffic),
        "AfterTraffic": _check_document(result.after_traffic),
        "Alias": converter.unstructure(result.alias),
        "Stats": _stats_document(result.stats),
    }


def shift_outcome(result: ShiftResult) -> str:
    """How a shift ended, in a line: completed, rolled back or stopped, and why."""
    if result.completed:
        return (
            f"completed: alias {result.alias_name} sends all traffic to version {result.to_version}"
        )
    return (
        f"rolled back to version {result.from_version}: {result.reason}"
        if result.rolled_back
        else f"stopped: {result.reason}"
    )


def _health(healthy: bool | None) -> str:
    return "-" if healthy is None else "healthy" if healthy else "UNHEALTHY"


def _check_row(step: str, weight: str, started: str, health: HealthResult | None) -> list[str]:
    return [
        step,
        weight,
        started,
        _health(None if health is None else health.healthy),
        _seen_text(health) or "-",
        (health.reason if health else "") or "-",
    ]


def _summary_rows(result: ShiftResult) -> tuple[list[list[str]], list[list[str]]]:
    steps = [
        _check_row(
            str(step.index + 1),
            percent(step.weight),
            step.started_at.astimezone().strftime("%H:%M:%S"),
            step.health,
        )
        for step in result.steps
    ]
    # The probes before and after traffic, in the order they ran.
    if result.before_traffic is not None:
        steps.insert(0, _check_row("pre", "-", "-", result.before_traffic))
    if result.after_traffic is not None:
        steps.append(_check_row("post", percent(1.0), "-", result.after_traffic))
    versions = [
        [
            version,
            str(s.invocations),
            str(s.errors),
            percent(s.error_rate),
            ms(s.p50_latency),
            ms(s.p90_latency),
        ]
        for version, s in sorted(result.stats.items())
    ]
    return steps, versions


_STEP_HEADERS = ["STEP", "WEIGHT", "STARTED", "HEALTH", "SEEN", "VERDICT"]
_VERSION_HEADERS = ["VERSION", "INVOCATIONS", "ERRORS", "ERROR RATE", "P50 LATENCY", "P90 LATENCY"]


def summary_text(result: ShiftResult, strategy: str, outcome: str) -> str:
    """A shift's summary as plain text: the steps and probes, the stats per version, the
    outcome."""
    steps, versions = _summary_rows(result)
    parts = [
        f"shift {result.function_name}:{result.alias_name} version {result.from_version} →"
        f" {result.to_version} ({strategy})"
    ]
    if steps:
        parts += ["", columns(_STEP_HEADERS, steps)]
    if versions:
        parts += ["", columns(_VERSION_HEADERS, versions)]
    parts += ["", outcome]
    return "\n".join(parts)


def print_rich_summary(console: Console, result: ShiftResult, strategy: str, outcome: str) -> None:
    """A shift's summary as rich tables on ``console``, the outcome in colour."""
    from rich.table import Table

    steps, versions = _summary_rows(result)
    title = (
        f"shift {result.function_name}:{result.alias_name} version {result.from_version} →"
        f" {result.to_version} ({strategy})"
    )
    table = Table(*_STEP_HEADERS, title=title)
    for row in steps:
        style = "red" if row[3] == "UNHEALTHY" else ""
        table.add_row(*row, style=style)
    if steps:
        console.print(table)
    else:
        console.print(title)
    if versions:
        stats = Table(*_VERSION_HEADERS, title="probes per version")
        for row in versions:
            stats.add_row(*row)
        console.print(stats)
    console.print(outcome, style="bold green" if result.completed else "bold red")
