"""Waiting for a version or an update to be ready: the pure decisions, with no I/O.

The rules follow botocore's ``PublishedVersionActive`` and ``FunctionUpdated`` waiters
(``botocore/data/lambda/2015-03-31/waiters-2.json``): one state is success, ``Failed`` is
failure, and every other state (including one Lambda adds later, or none at all) means keep
waiting. Neither waiter has an acceptor for errors, so an error from the read ends the wait.
"""

from __future__ import annotations

import enum
import math

from ._errors import ValidationError, WaiterError
from ._models import FunctionConfiguration

__all__ = [
    "Progress",
    "check_wait_arguments",
    "function_updated_progress",
    "version_active_progress",
    "waiter_error",
]


class Progress(enum.Enum):
    """Where a wait stands after one read of the configuration."""

    DONE = "done"
    FAILED = "failed"
    WAITING = "waiting"


def version_active_progress(configuration: FunctionConfiguration) -> Progress:
    """``DONE`` once ``State`` is ``Active`` and no update is ``InProgress``; ``FAILED`` when
    ``State`` is ``Failed``; else ``WAITING`` (``Pending``, ``Inactive``, absent, unknown).

    botocore's waiter looks at ``State`` alone; an update still in progress is waited out
    too, since traffic sent meanwhile may still meet the version's previous configuration.
    """
    if configuration.state == "Failed":
        return Progress.FAILED
    if configuration.state == "Active" and configuration.last_update_status != "InProgress":
        return Progress.DONE
    return Progress.WAITING


def function_updated_progress(configuration: FunctionConfiguration) -> Progress:
    """``DONE`` when ``LastUpdateStatus`` is ``Successful``, ``FAILED`` when it is ``Failed``,
    else ``WAITING`` (``InProgress``, absent, unknown)."""
    if configuration.last_update_status == "Successful":
        return Progress.DONE
    if configuration.last_update_status == "Failed":
        return Progress.FAILED
    return Progress.WAITING


def check_wait_arguments(delay: object, timeout: object) -> tuple[float, float]:
    """``delay`` (finite, more than 0) and ``timeout`` (finite, 0 or more) as floats, or
    :class:`ValidationError` naming the one at fault."""
    return _seconds(delay, "delay", zero=False), _seconds(timeout, "timeout", zero=True)


def _seconds(value: object, field: str, *, zero: bool) -> float:
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if zero else value > 0)
    ):
        return float(value)
    least = "0 or more" if zero else "more than 0"
    raise ValidationError(
        f"{field} must be a finite number of seconds, {least}; got {value!r}", field=field
    )


def waiter_error(
    configuration: FunctionConfiguration,
    *,
    function_name: str,
    qualifier: str | None,
    awaited: str,
    waited: float,
    timed_out: bool,
) -> WaiterError:
    """The :class:`WaiterError` for a wait that failed or ran out of time at
    ``configuration``; ``awaited`` names what was waited for, e.g. ``"State Active"``."""
    what = f"{function_name}:{qualifier}" if qualifier else function_name
    seen = _describe(configuration)
    if timed_out:
        message = f"{what} did not reach {awaited} within {waited:g}s; last seen: {seen}"
    else:
        message = f"{what} failed while waiting for {awaited}: {seen}"
    return WaiterError(
        message,
        function_name=function_name,
        qualifier=qualifier,
        timed_out=timed_out,
        waited=waited,
        state=configuration.state,
        state_reason=configuration.state_reason,
        state_reason_code=configuration.state_reason_code,
        last_update_status=configuration.last_update_status,
        last_update_status_reason=configuration.last_update_status_reason,
        last_update_status_reason_code=configuration.last_update_status_reason_code,
    )


def _describe(configuration: FunctionConfiguration) -> str:
    parts = []
    for name, value, reason, code in (
        ("State", configuration.state, configuration.state_reason, configuration.state_reason_code),
        (
            "LastUpdateStatus",
            configuration.last_update_status,
            configuration.last_update_status_reason,
            configuration.last_update_status_reason_code,
        ),
    ):
        text = f"{name} {value or '(none)'}"
        why = ", ".join(filter(None, (code, reason)))
        parts.append(f"{text} ({why})" if why else text)
    return "; ".join(parts)
