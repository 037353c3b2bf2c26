"""LocalLambda's CloudWatch face: the metrics of its real executions, and alarms set by tests.

Pure state and request handling (no I/O): the server records each execution here and hands
over the JSON body of each CloudWatch request (awsJson1_0, as botocore sends it).

What is modelled, as Lambda publishes it (namespace ``AWS/Lambda``, 1-minute resolution):

- ``Invocations`` (1 per execution), ``Errors`` (1 for a function error, else 0, so its
  ``Average`` is the error rate), ``Duration`` (milliseconds) and ``Throttles`` (1 per
  throttled request);
- under the dimension sets {} (the whole account), {FunctionName}, {FunctionName, Resource}
  (``fn:alias`` or ``fn:version`` when invoked with a qualifier) and {FunctionName, Resource,
  ExecutedVersion} (invoked through an alias). A query's dimensions must match one set
  exactly, as in CloudWatch; anything else is a metric with no datapoints, not an error.

A datapoint carries the invocation's time and becomes visible ``delay`` seconds later (late
data). Metric math (``Expression``) is not supported: it is answered InvalidParameterValue.
Error messages are CloudWatch's where AWS's are on record (StartTime after EndTime); the
others are LocalLambda's own, with CloudWatch's codes.

Alarms come from ``set_alarm_state`` (a state and nothing to evaluate) or from PutMetricAlarm
(an :class:`_AlarmRule` over these metrics). A rule is evaluated lazily, when alarms are
described: at each evaluation tick (every ``evaluation_interval`` seconds of the server's
clock, on multiples of it since the epoch; CloudWatch evaluates once a minute), over the
data visible at that tick, by :func:`evaluate`, a pure function of the samples. A new alarm
is ``INSUFFICIENT_DATA`` ("Unchecked: Initial alarm creation") until its first tick; a
state set with ``set_alarm_state`` holds until the next tick, as SetAlarmState's does until
CloudWatch's next evaluation; updating an alarm's rule keeps its state, as on AWS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ._state import LambdaFault

__all__ = ["ALARM_STATES", "CloudWatchState", "cloudwatch_error_body", "operation_of"]

TARGET_PREFIX = "GraniteServiceVersion20100801."
NAMESPACE = "AWS/Lambda"
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*", re.ASCII)
_PERCENTILE = re.compile(r"p(100|[0-9]{1,2}(\.[0-9]{1,10})?)", re.ASCII)
_SIMPLE_STATS = ("Sum", "SampleCount", "Average", "Minimum", "Maximum")
# The phrase each comparison is written with in a StateReason, and the comparison itself.
_COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
# Anomaly-detection comparisons: in the model's enum, but they need a band LocalLambda lacks.
_BAND_COMPARISONS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
_TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")
_MISSING_LABEL = {
    "breaching": "Breaching",
    "notBreaching": "NonBreaching",
    "missing": "Missing",
}
_MAX_ALARM_NAMES = 100  # DeleteAlarms's AlarmNames
_INITIAL_REASON = "Unchecked: Initial alarm creation"
_MAX_DATAPOINTS = 100_800  # GetMetricData's default and maximum per call
_MAX_RECORDS = 100  # DescribeAlarms's MaxRecords range is 1-100, 50 by default
_DEFAULT_RECORDS = 50

# CloudWatch's query-protocol codes and the shapes the JSON protocol names them by.
_SHAPES = {
    "InvalidParameterValue": "InvalidParameterValueException",
    "InvalidParameterCombination": "InvalidParameterCombinationException",
    "MissingParameter": "MissingRequiredParameterException",
    "ValidationError": "ValidationException",
    "InternalServiceError": "InternalServiceFault",
}


def operation_of(target: str | None) -> str | None:
    """The CloudWatch operation an ``X-Amz-Target`` names, or None for another service's."""
    if target is None or not target.startswith(TARGET_PREFIX):
        return None
    return target.removeprefix(TARGET_PREFIX)


def cloudwatch_error_body(fault: LambdaFault) -> tuple[dict[str, str], dict[str, str]]:
    """The JSON body and headers of an error, as CloudWatch answers in its JSON protocol:
    the shape in ``__type``, the query code in ``x-amzn-query-error`` (what SDKs report)."""
    code = "InternalServiceError" if fault.code == "ServiceException" else fault.code
    shape = _SHAPES.get(code, code)
    sender = "Sender" if fault.status < 500 else "Receiver"
    return (
        {"__type": f"com.amazonaws.cloudwatch#{shape}", "message": fault.message},
        {"x-amzn-query-error": f"{code};{sender}", **fault.headers},
    )


def _invalid(message: str) -> LambdaFault:
    return LambdaFault("InvalidParameterValue", 400, message)


def _missing(name: str) -> LambdaFault:
    return LambdaFault("MissingParameter", 400, f"The parameter {name} is required.")


@attrs.frozen(slots=True)
class _Sample:
    at: datetime  # when it happened
    series: frozenset[tuple[str, str]]  # the most specific dimension set it belongs to
    metric: str
    value: float


def _constraint(value: object, field: str, constraint: str) -> LambdaFault:
    """A model constraint broken, in the words of CloudWatch's validation layer."""
    return LambdaFault(
        "ValidationError",
        400,
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy"
        f" constraint: {constraint}",
    )


@attrs.frozen(slots=True)
class _AlarmRule:
    """What a PutMetricAlarm asked for: the metric, how to read it, and when it is breaching.
    ``shown`` holds the request's fields as DescribeAlarms echoes them."""

    metric: str
    namespace: str
    dimensions: frozenset[tuple[str, str]]
    stat: str  # the Statistic, or the ExtendedStatistic (pNN)
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str
    shown: Mapping[str, Any]


@attrs.define(slots=True)
class _Alarm:
    state: str
    reason: str
    updated: datetime
    rule: _AlarmRule | None = None
    evaluated: datetime | None = None  # the last evaluation, or set_alarm_state's override
    configured: datetime | None = None


def _dimension_sets(
    function: str, resource: str | None, executed_version: str | None
) -> list[frozenset[tuple[str, str]]]:
    sets = [frozenset(), frozenset({("FunctionName", function)})]
    if resource is not None:
        with_resource = {("FunctionName", function), ("Resource", resource)}
        sets.append(frozenset(with_resource))
        if executed_version is not None:
            sets.append(frozenset({*with_resource, ("ExecutedVersion", executed_version)}))
    return sets


def _statistic(stat: str, values: Sequence[float]) -> float:
    if stat == "Sum":
        return math.fsum(values)
    if stat == "SampleCount":
        return float(len(values))
    if stat == "Average":
        return math.fsum(values) / len(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Maximum":
        return max(values)
    # pNN: the nearest rank, so that the value is one that was observed.
    share = float(stat[1:]) / 100
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _epoch(value: object, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _missing(name) if value is None else _invalid(f"The parameter {name} is invalid.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _invalid(f"The parameter {name} is invalid.") from None


@attrs.frozen(slots=True)
class _Query:
    id: str
    label: str
    metric: str
    namespace: str
    dimensions: frozenset[tuple[str, str]]
    period: int
    stat: str
    return_data: bool


def _parse_query(raw: object, index: int) -> _Query:
    where = f"MetricDataQueries.member.{index}"
    if not isinstance(raw, dict):
        raise _invalid(f"The parameter {where} is invalid.")
    query_id = raw.get("Id")
    if not isinstance(query_id, str):
        raise _missing(f"{where}.Id")
    if _QUERY_ID.fullmatch(query_id) is None:
        raise _invalid(
            f"The value {query_id} for parameter {where}.Id is invalid: it must start with a"
            " lowercase letter, followed by letters, numbers or underscores."
        )
    if "Expression" in raw:
        raise _invalid(f"The parameter {where}.Expression is not supported by LocalLambda.")
    stat_spec = raw.get("MetricStat")
    if not isinstance(stat_spec, dict):
        raise LambdaFault(
            "InvalidParameterCombination",
            400,
            f"Exactly one of {where}.MetricStat and {where}.Expression must be given.",
        )
    metric = stat_spec.get("Metric")
    period = stat_spec.get("Period")
    stat = stat_spec.get("Stat")
    if not isinstance(metric, dict):
        raise _missing(f"{where}.MetricStat.Metric")
    if type(period) is not int or not (
        period in (1, 5, 10, 30) or (period > 0 and period % 60 == 0)
    ):
        raise _invalid(
            f"The parameter {where}.MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60."
        )
    if not isinstance(stat, str) or (
        stat not in _SIMPLE_STATS and _PERCENTILE.fullmatch(stat) is None
    ):
        raise _invalid(f"The value {stat} for parameter {where}.MetricStat.Stat is invalid.")
    dimensions: set[tuple[str, str]] = set()
    for dimension in metric.get("Dimensions") or []:
        name = dimension.get("Name") if isinstance(dimension, dict) else None
        value = dimension.get("Value") if isinstance(dimension, dict) else None
        if not isinstance(name, str) or not isinstance(value, str):
            raise _invalid(f"The parameter {where}.MetricStat.Metric.Dimensions is invalid.")
        dimensions.add((name, value))
    metric_name = metric.get("MetricName")
    label = raw.get("Label")
    return _Query(
        query_id,
        label if isinstance(label, str) else str(metric_name or ""),
        str(metric_name or ""),
        str(metric.get("Namespace") or ""),
        frozenset(dimensions),
        period,
        stat,
        raw.get("ReturnData") is not False,
    )


def _digest(request: Mapping[str, Any]) -> str:
    """What a token is bound to: the request it continues, but for the token itself."""
    rest = {key: value for key, value in request.items() if key != "NextToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def _token(offset: int, as_of: datetime, digest: str) -> str:
    data = json.dumps({"o": offset, "t": as_of.timestamp(), "d": digest})
    return base64.urlsafe_b64encode(data.encode()).decode()


def _read_token(token: object, digest: str) -> tuple[int, datetime]:
    invalid = LambdaFault("InvalidNextToken", 400, "The service returned an invalid next token.")
    if not isinstance(token, str):
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, as_of, seen = data["o"], data["t"], data["d"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid from None
    if seen != digest or type(offset) is not int or offset < 0:
        raise invalid
    return offset, datetime.fromtimestamp(as_of, UTC)


def _count(value: object, field: str, name: str) -> int:
    if value is None:
        raise _missing(name)
    if type(value) is not int:
        raise _invalid(f"The parameter {name} is invalid.")
    if value < 1:
        raise _constraint(value, field, "Member must have value greater than or equal to 1")
    return value


def _parse_alarm_rule(data: Mapping[str, Any]) -> _AlarmRule:
    """PutMetricAlarm's request as a rule, checked as CloudWatch checks it: the model's
    constraints first (``ValidationError``), then the combinations."""
    if data.get("Metrics") is not None or data.get("ThresholdMetricId") is not None:
        raise _invalid("Metric math alarms (Metrics) are not supported by LocalLambda.")
    statistic = data.get("Statistic")
    extended = data.get("ExtendedStatistic")
    if statistic is not None and statistic not in _SIMPLE_STATS:
        raise _constraint(
            statistic,
            "statistic",
            "Member must satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, Average]",
        )
    comparison = data.get("ComparisonOperator")
    if comparison is None:
        raise _missing("ComparisonOperator")
    operators = [*_COMPARISONS, *_BAND_COMPARISONS]
    if comparison not in operators:
        raise _constraint(
            comparison,
            "comparisonOperator",
            f"Member must satisfy enum value set: [{', '.join(operators)}]",
        )
    period = _count(data.get("Period"), "period", "Period")
    evaluation_periods = _count(
        data.get("EvaluationPeriods"), "evaluationPeriods", "EvaluationPeriods"
    )
    datapoints = data.get("DatapointsToAlarm")
    if datapoints is not None:
        datapoints = _count(datapoints, "datapointsToAlarm", "DatapointsToAlarm")
    treat_missing = data.get("TreatMissingData")
    if treat_missing is not None and treat_missing not in _TREAT_MISSING:
        raise LambdaFault(
            "ValidationError",
            400,
            f"The value {treat_missing} is not supported for TreatMissingData parameter."
            " Supported values are [breaching, notBreaching, ignore, missing].",
        )
    if comparison in _BAND_COMPARISONS:
        raise _invalid(
            f"The ComparisonOperator {comparison} needs an anomaly detection band"
            " (ThresholdMetricId), which LocalLambda does not support."
        )
    if (statistic is None) == (extended is None):
        raise LambdaFault(
            "InvalidParameterCombination",
            400,
            "Exactly one of the parameters Statistic and ExtendedStatistic must be specified.",
        )
    if extended is not None and (
        not isinstance(extended, str) or _PERCENTILE.fullmatch(extended) is None
    ):
        raise _invalid(f"The value {extended} for parameter ExtendedStatistic is not supported.")
    if not (period in (10, 30) or period % 60 == 0):
        raise LambdaFault("ValidationError", 400, "Period must be 10, 30 or a multiple of 60")
    if datapoints is not None and datapoints > evaluation_periods:
        raise _invalid(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
            f" ({datapoints} > {evaluation_periods})."
        )
    threshold = data.get("Threshold")
    if threshold is None:
        raise _missing("Threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise _invalid("The parameter Threshold is invalid.")
    for member in ("MetricName", "Namespace"):
        given = data.get(member)
        if given is None:
            raise _missing(member)
        if not isinstance(given, str) or not 1 <= len(given) <= 255:
            field = member[0].lower() + member[1:]
            raise _constraint(given, field, "Member must have length less than or equal to 255")
    raw_dimensions = data.get("Dimensions") or []
    if not isinstance(raw_dimensions, list) or len(raw_dimensions) > 30:
        raise _constraint(
            raw_dimensions, "dimensions", "Member must have length less than or equal to 30"
        )
    dimensions: list[tuple[str, str]] = []
    for dimension in raw_dimensions:
        name = dimension.get("Name") if isinstance(dimension, dict) else None
        value = dimension.get("Value") if isinstance(dimension, dict) else None
        if not isinstance(name, str) or not isinstance(value, str):
            raise _invalid("The parameter Dimensions is invalid.")
        dimensions.append((name, value))
    shown = {
        key: data[key]
        for key in (
            "AlarmDescription",
            "MetricName",
            "Namespace",
            "Statistic",
            "ExtendedStatistic",
            "Period",
            "Unit",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "EvaluateLowSampleCountPercentile",
        )
        if data.get(key) is not None
    }
    shown["Threshold"] = float(threshold)
    shown["Dimensions"] = [{"Name": name, "Value": value} for name, value in dimensions]
    shown["ActionsEnabled"] = data.get("ActionsEnabled") is not False
    for actions in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        shown[actions] = list(data.get(actions) or [])
    return _AlarmRule(
        data["MetricName"],
        data["Namespace"],
        frozenset(dimensions),
        str(statistic if statistic is not None else extended),
        period,
        evaluation_periods,
        datapoints if datapoints is not None else evaluation_periods,
        float(threshold),
        comparison,
        treat_missing if treat_missing is not None else "missing",
        shown,
    )


def _datapoint(at: datetime, value: float) -> str:
    # CloudWatch writes a datapoint as its value and its period's start, day first.
    return f"{value!r} ({at:%d/%m/%y %H:%M:%S})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def evaluate(
    rule: _AlarmRule, samples: Iterable[_Sample], at: datetime, delay: float
) -> tuple[str, str] | None:
    """The state and StateReason ``rule`` gives at ``at`` over ``samples`` visible by then
    (``delay`` seconds after they happened), or None to keep the state as it is
    (``TreatMissingData: ignore`` with no data).

    The last ``EvaluationPeriods`` whole periods before ``at`` are each one datapoint (the
    statistic of its samples) or missing. Periods begin at whole multiples of ``Period``
    seconds since the epoch, as CloudWatch's (and ``GetMetricData``'s) do, so an alarm judges
    the datapoints a metrics query returns; the period ``at`` falls in has not ended, and
    waits for the next evaluation. ALARM when at least ``DatapointsToAlarm`` of them
    breach (a missing one breaches only under ``breaching``); OK when fewer do and some
    datapoint exists or ``notBreaching`` counts the missing ones; with no datapoint at all,
    ``missing`` gives INSUFFICIENT_DATA. CloudWatch's "premature transition" refinements and
    ``EvaluateLowSampleCountPercentile`` are not modelled."""
    period = timedelta(seconds=rule.period)
    count = rule.evaluation_periods
    end = _tick(at, rule.period)
    start = end - period * count
    late = timedelta(seconds=delay)
    buckets: dict[int, list[float]] = {}
    if rule.namespace == NAMESPACE:
        for sample in samples:
            if (
                sample.metric == rule.metric
                and sample.series == rule.dimensions
                and start <= sample.at < end
                and sample.at + late <= at
            ):
                buckets.setdefault((sample.at - start) // period, []).append(sample.value)
    # Newest first, as CloudWatch lists them in a reason.
    present = [
        (start + period * index, _statistic(rule.stat, buckets[index]))
        for index in sorted(buckets, reverse=True)
    ]
    missing = count - len(present)
    phrase, breaches = _COMPARISONS[rule.comparison]
    threshold = f"the threshold ({rule.threshold!r})"
    if not present:
        if rule.treat_missing == "ignore":
            return None
        label = _MISSING_LABEL[rule.treat_missing]
        what = (
            f"no datapoints were received for {_plural(count, 'period')} and"
            f" {_plural(count, 'missing datapoint')} {'was' if count == 1 else 'were'}"
            f" treated as [{label}]."
        )
        state = {"missing": "INSUFFICIENT_DATA", "breaching": "ALARM"}.get(rule.treat_missing, "OK")
        return state, (
            "Insufficient Data: " if state == "INSUFFICIENT_DATA" else "Threshold Crossed: "
        ) + what
    breaching = [(stamp, value) for stamp, value in present if breaches(value, rule.threshold)]
    counted = len(breaching) + (missing if rule.treat_missing == "breaching" else 0)
    firing = counted >= rule.datapoints_to_alarm
    if firing:
        shown, verb, needed, transition = breaching, phrase, rule.datapoints_to_alarm, "OK -> ALARM"
    else:
        # OK: the datapoints that did not breach, as many as keep the alarm from firing.
        shown = [point for point in present if point not in breaching]
        counted = len(shown) + (missing if rule.treat_missing == "notBreaching" else 0)
        verb, needed = f"not {phrase}", count - rule.datapoints_to_alarm + 1
        transition = "ALARM -> OK"
    listed = ", ".join(_datapoint(stamp, value) for stamp, value in shown)
    if count == 1:
        reason = f"1 datapoint [{listed}] was {verb} {threshold}."
    else:
        reason = (
            f"{counted} out of the last {count} datapoints [{listed}] were {verb} {threshold}"
            f" (minimum {_plural(needed, 'datapoint')} for {transition} transition)."
        )
    return ("ALARM" if firing else "OK"), f"Threshold Crossed: {reason}"


def _tick(now: datetime, interval: float) -> datetime:
    """The last evaluation tick at or before ``now``: a multiple of ``interval`` seconds
    since the epoch (whole minutes for CloudWatch's 60)."""
    seconds = now.timestamp()
    return datetime.fromtimestamp(seconds - math.fmod(seconds, interval), UTC)


@attrs.define
class CloudWatchState:
    """The datapoints and alarms of one LocalLambda, and its answers to CloudWatch requests."""

    region: str
    account_id: str
    delay: float = 0.0
    evaluation_interval: float = 60.0
    samples: list[_Sample] = attrs.Factory(list)
    alarms: dict[str, _Alarm] = attrs.Factory(dict)

    # --- what the server records ------------------------------------------------------------

    def record(
        self,
        at: datetime,
        function: str,
        qualifier: str | None,
        executed_version: str | None,
        metrics: Mapping[str, float],
    ) -> None:
        """One execution's (or throttled request's) ``metrics`` at ``at``, under every
        dimension set it belongs to. ``executed_version`` only for an alias invocation."""
        resource = None if qualifier is None else f"{function}:{qualifier}"
        for series in _dimension_sets(function, resource, executed_version):
            for metric, value in metrics.items():
                self.samples.append(_Sample(at, series, metric, value))

    def set_alarm(self, name: str, state: str, reason: str, now: datetime) -> None:
        """Create alarm ``name`` in ``state``, or set its state (arguments checked by the
        caller). An alarm with a rule keeps this state until its next evaluation tick."""
        alarm = self.alarms.get(name)
        if alarm is None:
            self.alarms[name] = _Alarm(state, reason, now)
            return
        if alarm.state != state or alarm.reason != reason:
            alarm.state, alarm.reason, alarm.updated = state, reason, now
        alarm.evaluated = now

    def _evaluate(self, now: datetime) -> None:
        """Bring every alarm with a rule to its last evaluation tick, if it has not seen it."""
        tick = _tick(now, self.evaluation_interval)
        for alarm in self.alarms.values():
            if alarm.rule is None or (alarm.evaluated is not None and alarm.evaluated >= tick):
                continue
            alarm.evaluated = tick
            outcome = evaluate(alarm.rule, self.samples, tick, self.delay)
            if outcome is not None and outcome[0] != alarm.state:
                alarm.state, alarm.reason = outcome
                alarm.updated = tick

    # --- requests ---------------------------------------------------------------------------

    def handle(self, operation: str, body: bytes, now: datetime) -> dict[str, Any]:
        """The JSON answer to a CloudWatch request, or a :class:`LambdaFault`."""
        try:
            data = json.loads(body) if body else {}
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise LambdaFault("SerializationException", 400, "The request body is not JSON.")
        if operation == "GetMetricData":
            return self.get_metric_data(data, now)
        if operation == "DescribeAlarms":
            return self.describe_alarms(data, now)
        if operation == "PutMetricAlarm":
            return self.put_metric_alarm(data, now)
        if operation == "DeleteAlarms":
            return self.delete_alarms(data)
        raise LambdaFault(
            "UnknownOperationException", 400, f"LocalLambda does not serve {operation}."
        )

    def _visible(
        self, query: _Query, start: datetime, end: datetime, as_of: datetime
    ) -> list[tuple[datetime, float]]:
        """The query's (timestamp, value) points, newest first, from data visible at as_of."""
        if query.namespace != NAMESPACE:
            return []
        late = timedelta(seconds=self.delay)
        buckets: dict[datetime, list[float]] = {}
        period = timedelta(seconds=query.period)
        for sample in self.samples:
            if (
                sample.metric != query.metric
                or sample.series != query.dimensions
                or not start <= sample.at < end
                or sample.at + late > as_of
            ):
                continue
            bucket = start + period * ((sample.at - start) // period)
            buckets.setdefault(bucket, []).append(sample.value)
        return [(at, _statistic(query.stat, buckets[at])) for at in sorted(buckets, reverse=True)]

    def get_metric_data(self, data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """GetMetricData: every query's datapoints, paged by ``MaxDatapoints`` across queries.
        A page's token pins the data visible when the first page was read, so late data
        never shifts a walk through the pages."""
        raw_queries = data.get("MetricDataQueries")
        if not isinstance(raw_queries, list) or not raw_queries:
            raise _missing("MetricDataQueries")
        queries = [_parse_query(raw, index) for index, raw in enumerate(raw_queries, 1)]
        if len({query.id for query in queries}) != len(queries):
            raise _invalid("The values for parameter Id in MetricDataQueries are not unique.")
        start = _epoch(data.get("StartTime"), "StartTime")
        end = _epoch(data.get("EndTime"), "EndTime")
        if not start < end:
            raise _invalid("The parameter StartTime must be less than the parameter EndTime.")
        limit = data.get("MaxDatapoints", _MAX_DATAPOINTS)
        if type(limit) is not int or not 1 <= limit <= _MAX_DATAPOINTS:
            raise _invalid(f"The parameter MaxDatapoints must be from 1 to {_MAX_DATAPOINTS}.")
        ascending = data.get("ScanBy") == "TimestampAscending"
        digest = _digest(data)
        offset, as_of = 0, now
        if data.get("NextToken") is not None:
            offset, as_of = _read_token(data["NextToken"], digest)
        shown = [query for query in queries if query.return_data]
        points = [self._visible(query, start, end, as_of) for query in shown]
        if ascending:
            points = [list(reversed(series)) for series in points]
        results = []
        position = 0  # where each query's points start in the points of all queries
        for query, series in zip(shown, points, strict=True):
            page = series[max(0, offset - position) : max(0, offset + limit - position)]
            position += len(series)
            results.append(
                {
                    "Id": query.id,
                    "Label": query.label,
                    "Timestamps": [at.timestamp() for at, _ in page],
                    "Values": [value for _, value in page],
                    "StatusCode": "Complete" if offset + limit >= position else "PartialData",
                }
            )
        answer: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if offset + limit < position:
            answer["NextToken"] = _token(offset + limit, as_of, digest)
        return answer

    def put_metric_alarm(self, data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """PutMetricAlarm: a new alarm starts ``INSUFFICIENT_DATA`` until its first
        evaluation; a new rule for an existing alarm keeps the alarm's state."""
        name = data.get("AlarmName")
        if name is None:
            raise _missing("AlarmName")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            bound = "less than or equal to 255" if name else "greater than or equal to 1"
            raise _constraint(name, "alarmName", f"Member must have length {bound}")
        rule = _parse_alarm_rule(data)
        alarm = self.alarms.get(name)
        if alarm is None:
            self.alarms[name] = _Alarm(
                "INSUFFICIENT_DATA", _INITIAL_REASON, now, rule, evaluated=now, configured=now
            )
        else:
            alarm.rule, alarm.configured = rule, now
        return {}

    def delete_alarms(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteAlarms: all of them, or none when a name is not an alarm (404
        ``ResourceNotFound``, as the model declares)."""
        names = data.get("AlarmNames")
        if names is None:
            raise _missing("AlarmNames")
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise _invalid("The parameter AlarmNames is invalid.")
        if len(names) > _MAX_ALARM_NAMES:
            raise _constraint(
                names,
                "alarmNames",
                f"Member must have length less than or equal to {_MAX_ALARM_NAMES}",
            )
        unknown = [name for name in names if name not in self.alarms]
        if unknown:
            raise LambdaFault("ResourceNotFound", 404, f"Alarms not found: {', '.join(unknown)}")
        for name in names:
            del self.alarms[name]
        return {}

    def describe_alarms(self, data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """DescribeAlarms over all alarms (all metric alarms), each rule evaluated first."""
        names = data.get("AlarmNames")
        prefix = data.get("AlarmNamePrefix")
        if names is not None and prefix is not None:
            raise LambdaFault(
                "InvalidParameterCombination",
                400,
                "AlarmNamePrefix and AlarmNames cannot be specified together.",
            )
        state = data.get("StateValue")
        if state is not None and state not in ALARM_STATES:
            raise _constraint(
                state,
                "stateValue",
                "Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]",
            )
        limit = data.get("MaxRecords", _DEFAULT_RECORDS)
        if type(limit) is not int or not 1 <= limit <= _MAX_RECORDS:
            raise _invalid(f"The parameter MaxRecords must be from 1 to {_MAX_RECORDS}.")
        types = data.get("AlarmTypes") or ["MetricAlarm"]
        self._evaluate(now)
        selected: Iterable[str] = sorted(self.alarms)
        if "MetricAlarm" not in types:
            selected = []
        if isinstance(names, list):
            selected = [name for name in selected if name in names]
        if isinstance(prefix, str):
            selected = [name for name in selected if name.startswith(prefix)]
        if state is not None:
            selected = [name for name in selected if self.alarms[name].state == state]
        chosen = list(selected)
        digest = _digest(data)
        offset = 0
        if data.get("NextToken") is not None:
            offset, _ = _read_token(data["NextToken"], digest)
        page = chosen[offset : offset + limit]
        answer: dict[str, Any] = {
            "MetricAlarms": [self._alarm_json(name) for name in page],
            "CompositeAlarms": [],
        }
        if offset + limit < len(chosen):
            answer["NextToken"] = _token(offset + limit, datetime.now(UTC), digest)
        return answer

    def _alarm_json(self, name: str) -> dict[str, Any]:
        alarm = self.alarms[name]
        updated = alarm.updated.timestamp()
        configured = (alarm.configured or alarm.updated).timestamp()
        return {
            "AlarmName": name,
            "AlarmArn": f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}",
            "ActionsEnabled": True,
            "OKActions": [],
            "AlarmActions": [],
            "InsufficientDataActions": [],
            "StateValue": alarm.state,
            "StateReason": alarm.reason,
            "StateUpdatedTimestamp": updated,
            "StateTransitionedTimestamp": updated,
            "AlarmConfigurationUpdatedTimestamp": configured,
            "Dimensions": [],
            **(alarm.rule.shown if alarm.rule is not None else {}),
        }
