"""The command line's output: where results and diagnostics go, and the text of values.

Shared by the commands (:mod:`lambdaclient.cli`) and the shift display
(:mod:`lambdaclient._shift_display`). rich is optional (the ``cli`` extra): it is imported
only when a console is asked for, and typing alone names it otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from ._models import RoutingConfig

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "PROG",
    "Output",
    "columns",
    "duration",
    "fields",
    "in_flags",
    "ms",
    "percent",
    "rich_console",
    "weights",
]

PROG = "lambdaclient"


def percent(weight: float) -> str:
    """A weight (0 to 1) as a percentage: ``0.1`` as ``10%``."""
    return f"{100 * weight:.3g}%"


def weights(routing_config: RoutingConfig | None) -> str:
    """An alias's additional version weights as ``2=10%``, or ``-`` when there are none."""
    if routing_config is None or not routing_config.additional_version_weights:
        return "-"
    return ", ".join(
        f"{version}={percent(weight)}"
        for version, weight in routing_config.additional_version_weights.items()
    )


def duration(wait: timedelta) -> str:
    """A timedelta as the command line writes durations: ``1m30s``."""
    seconds = wait.total_seconds()
    if seconds == 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{int(hours)}h" if hours else "", f"{int(minutes)}m" if minutes else ""]
    parts.append(f"{seconds:g}s" if seconds else "")
    return "".join(parts)


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds (``12.5 ms``), or ``-`` when unknown."""
    return "-" if seconds is None else f"{1000 * seconds:.1f} ms"


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as aligned columns under their headers."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    )


def fields(pairs: Sequence[tuple[str, str | None]]) -> str:
    """``Key  value`` lines, leaving out what is None."""
    present = [(key, value) for key, value in pairs if value is not None]
    width = max(len(key) for key, _ in present)
    return "\n".join(f"{key.ljust(width)}  {value}" for key, value in present)


def rich_console(stream: TextIO) -> Console | None:
    """A rich console on ``stream`` if rich is installed and ``stream`` is a terminal (rich
    honours ``FORCE_COLOR`` and ``TTY_COMPATIBLE``), else None: plain text then."""
    try:
        from rich.console import Console
    except ImportError:
        return None
    console = Console(file=stream, highlight=False)
    return console if console.is_terminal else None


class Output:
    """Where results (stdout) and diagnostics (stderr) go, in the chosen format."""

    def __init__(self, mode: str) -> None:
        self.json = mode == "json"
        # Looked up now, not at import: tests and callers may have replaced them.
        self.stdout: TextIO = sys.stdout
        self.stderr: TextIO = sys.stderr

    def document(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    def text(self, text: str) -> None:
        self.stdout.write(text + "\n")

    def result(self, document: Any, text: Callable[[], str]) -> None:
        """One JSON document with ``--output json``, else the human-readable ``text()``."""
        if self.json:
            self.document(document)
        else:
            self.text(text())

    def note(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def error(self, text: str) -> None:
        self.note(f"{PROG}: error: {text}")


_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def in_flags(text: str, flags: Mapping[str, str]) -> str:
    """``text`` with the library's parameter names (``function_version``) as the options."""
    return _IDENTIFIER.sub(lambda match: flags.get(match[0], match[0]), text)
