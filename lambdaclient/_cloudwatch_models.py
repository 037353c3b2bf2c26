"""Frozen value types of the CloudWatch client: metric queries and results, alarms."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

__all__ = [
    "Alarm",
    "AlarmPage",
    "AlarmState",
    "AlarmType",
    "ComparisonOperator",
    "Dimension",
    "Metric",
    "MetricDataPage",
    "MetricDataQuery",
    "MetricDataResult",
    "TreatMissingData",
]


class AlarmState(enum.Enum):
    """An alarm's ``StateValue``."""

    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmType(enum.Enum):
    """Whether an alarm watches a metric or combines other alarms."""

    METRIC = "MetricAlarm"
    COMPOSITE = "CompositeAlarm"


class ComparisonOperator(enum.Enum):
    """How a metric alarm compares each datapoint to its threshold; a datapoint that
    compares true is breaching."""

    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    GREATER_THAN = "GreaterThanThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"


class TreatMissingData(enum.Enum):
    """What a period without data counts as in a metric alarm's evaluation."""

    MISSING = "missing"
    BREACHING = "breaching"
    NOT_BREACHING = "notBreaching"
    IGNORE = "ignore"


@attrs.frozen(slots=True)
class Dimension:
    """One ``Name=Value`` pair that picks a metric's series, e.g. ``FunctionName=my-fn``."""

    name: str
    value: str


@attrs.frozen(slots=True)
class Metric:
    """A metric: its namespace, name and dimensions (order does not matter to CloudWatch)."""

    namespace: str
    metric_name: str
    dimensions: tuple[Dimension, ...] = ()


@attrs.frozen(slots=True)
class MetricDataQuery:
    """One query of ``get_metric_data``: ``metric`` read as ``stat`` (``Sum``,
    ``SampleCount``, ``Average``, ``Minimum``, ``Maximum``, ``p99``...) over ``period``-second
    buckets. ``id`` names the query's result: it starts with a lowercase letter, then letters,
    digits and underscores. ``label`` names the series; ``return_data=False`` reads it without
    returning it. (Metric math expressions are not supported.)"""

    id: str
    metric: Metric
    stat: str
    period: int = 60
    label: str | None = attrs.field(default=None, kw_only=True)
    return_data: bool = attrs.field(default=True, kw_only=True)


@attrs.frozen(slots=True)
class MetricDataResult:
    """The datapoints of one query: ``timestamps`` (aware UTC, each the start of its period)
    with their ``values``, in the order CloudWatch sent them (newest first unless asked
    otherwise). ``status_code`` is ``Complete``, or ``PartialData`` when more pages follow."""

    id: str
    label: str | None
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]
    status_code: str | None


@attrs.frozen(slots=True)
class MetricDataPage:
    """One page of ``GetMetricData``: the results and the token of the next page (None on the
    last)."""

    results: tuple[MetricDataResult, ...]
    next_token: str | None


@attrs.frozen(slots=True)
class Alarm:
    """An alarm as ``DescribeAlarms`` reports it: name, ARN, kind, state and why."""

    name: str
    arn: str | None
    type: AlarmType
    state: AlarmState
    state_reason: str | None
    state_updated: datetime | None


@attrs.frozen(slots=True)
class AlarmPage:
    """One page of ``DescribeAlarms``: metric and composite alarms, and the next page's token."""

    alarms: tuple[Alarm, ...]
    next_token: str | None
