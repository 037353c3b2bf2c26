"""Sans-I/O CloudWatch protocol (awsJson1_0, query-compatible): requests and parsed responses.

Every operation is ``POST /`` with ``X-Amz-Target: GraniteServiceVersion20100801.<Operation>``,
``Content-Type: application/x-amz-json-1.0`` and ``x-amzn-query-mode: true`` (the service still
speaks its former query protocol's error codes, and says so when asked). Timestamps travel as
epoch seconds, to the microsecond, as botocore sends them.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from ._cloudwatch_models import (
    Alarm,
    AlarmPage,
    AlarmState,
    AlarmType,
    ComparisonOperator,
    Metric,
    MetricDataPage,
    MetricDataQuery,
    MetricDataResult,
    TreatMissingData,
)
from ._errors import (
    InvalidParameterValueError,
    ResourceNotFoundError,
    ResponseParseError,
    ServiceError,
    TooManyRequestsError,
)
from ._protocol import HttpRequest, Idempotency, error_body, request_id

__all__ = [
    "TARGET_PREFIX",
    "build_describe_alarms",
    "build_get_metric_data",
    "build_put_metric_alarm",
    "parse_alarm_page",
    "parse_error",
    "parse_metric_data_page",
]

TARGET_PREFIX = "GraniteServiceVersion20100801"
T = TypeVar("T")

# CloudWatch's codes for what Lambda's errors of these classes mean; ``code`` keeps the exact one.
_BY_CODE: Mapping[str, type[ServiceError]] = {
    "InvalidParameterValue": InvalidParameterValueError,
    "InvalidParameterCombination": InvalidParameterValueError,
    "MissingParameter": InvalidParameterValueError,
    "ResourceNotFound": ResourceNotFoundError,
    "Throttling": TooManyRequestsError,
}


def _request(operation: str, body: Mapping[str, Any]) -> HttpRequest:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "X-Amz-Target": f"{TARGET_PREFIX}.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
        "x-amzn-query-mode": "true",
    }
    return HttpRequest(
        operation,
        "POST",
        "/",
        "",
        headers,
        data,
        hashlib.sha256(data).hexdigest(),
        Idempotency.READ,
    )


def _epoch(value: datetime) -> int | float:
    # As botocore sends them: whole seconds as an int, else microseconds added as integers
    # before one division, so the float is rounded once.
    seconds = calendar.timegm(value.astimezone(UTC).timetuple())
    if value.microsecond:
        return (seconds * 10**6 + value.microsecond) / 10**6
    return seconds


def _metric(metric: Metric) -> dict[str, Any]:
    wire: dict[str, Any] = {"Namespace": metric.namespace, "MetricName": metric.metric_name}
    if metric.dimensions:
        wire["Dimensions"] = [{"Name": d.name, "Value": d.value} for d in metric.dimensions]
    return wire


def _query(query: MetricDataQuery) -> dict[str, Any]:
    metric = _metric(query.metric)
    wire: dict[str, Any] = {
        "Id": query.id,
        "MetricStat": {"Metric": metric, "Period": query.period, "Stat": query.stat},
    }
    if query.label is not None:
        wire["Label"] = query.label
    if not query.return_data:
        wire["ReturnData"] = False
    return wire


def build_get_metric_data(
    queries: Sequence[MetricDataQuery],
    start: datetime,
    end: datetime,
    *,
    next_token: str | None = None,
) -> HttpRequest:
    """GetMetricData for validated queries over [start, end)."""
    body: dict[str, Any] = {
        "MetricDataQueries": [_query(query) for query in queries],
        "StartTime": _epoch(start),
        "EndTime": _epoch(end),
    }
    if next_token is not None:
        body["NextToken"] = next_token
    return _request("GetMetricData", body)


def build_describe_alarms(
    *,
    alarm_names: Sequence[str] | None = None,
    state_value: AlarmState | None = None,
    next_token: str | None = None,
) -> HttpRequest:
    """DescribeAlarms, asking for metric and composite alarms alike (the API's default is
    metric alarms only, and a name given may be either)."""
    body: dict[str, Any] = {"AlarmTypes": [AlarmType.COMPOSITE.value, AlarmType.METRIC.value]}
    if alarm_names is not None:
        body["AlarmNames"] = list(alarm_names)
    if state_value is not None:
        body["StateValue"] = state_value.value
    if next_token is not None:
        body["NextToken"] = next_token
    return _request("DescribeAlarms", body)


SIMPLE_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


def build_put_metric_alarm(
    name: str,
    metric: Metric,
    stat: str,
    *,
    period: int,
    evaluation_periods: int,
    threshold: float,
    comparison_operator: ComparisonOperator,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: TreatMissingData | None = None,
    description: str | None = None,
) -> HttpRequest:
    """PutMetricAlarm for validated arguments: ``stat`` goes as the ``Statistic`` when it is
    one, else as the ``ExtendedStatistic`` (a percentile). It may be retried: putting the
    same alarm twice is putting it once."""
    body: dict[str, Any] = {"AlarmName": name}
    if description is not None:
        body["AlarmDescription"] = description
    body.update(_metric(metric))
    body["Statistic" if stat in SIMPLE_STATISTICS else "ExtendedStatistic"] = stat
    body["Period"] = period
    body["EvaluationPeriods"] = evaluation_periods
    if datapoints_to_alarm is not None:
        body["DatapointsToAlarm"] = datapoints_to_alarm
    body["Threshold"] = threshold
    body["ComparisonOperator"] = comparison_operator.value
    if treat_missing_data is not None:
        body["TreatMissingData"] = treat_missing_data.value
    return _request("PutMetricAlarm", body)


class _Malformed(Exception):
    """A response that does not have the shape of the operation's output."""


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(f"{what} is not a list")
    return value


def _str(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _Malformed(f"{what} is not a string")
    return value


def _time(value: object, what: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed(f"{what} is not an epoch timestamp")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _Malformed(f"{what} is out of range") from exc


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed(f"{what} is not a number")
    return float(value)


def _parse(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    what: str,
    read: Callable[[Mapping[str, Any]], T],
) -> T:
    """``read`` applied to the JSON object of an operation's output; any shape that is not
    the operation's is a :class:`ResponseParseError` naming ``what`` was read."""
    try:
        return read(_object(json.loads(body) if body else {}, what))
    except (ValueError, RecursionError) as exc:
        problem = f"body is not JSON ({len(body)} bytes)"
        cause: Exception = exc
    except _Malformed as exc:
        problem, cause = str(exc), exc
    raise ResponseParseError(
        f"{what} response: {problem}", status=status, request_id=request_id(headers)
    ) from cause


def _result(value: object) -> MetricDataResult:
    data = _object(value, "MetricDataResults[]")
    timestamps = tuple(
        _time(t, "Timestamps[]") for t in _list(data.get("Timestamps"), "Timestamps")
    )
    values = tuple(_number(v, "Values[]") for v in _list(data.get("Values"), "Values"))
    if len(timestamps) != len(values):
        raise _Malformed("Timestamps and Values differ in length")
    result_id = _str(data.get("Id"), "Id")
    if result_id is None:
        raise _Malformed("a result has no Id")
    return MetricDataResult(
        result_id,
        _str(data.get("Label"), "Label"),
        timestamps,
        values,
        _str(data.get("StatusCode"), "StatusCode"),
    )


def parse_metric_data_page(status: int, headers: Mapping[str, str], body: bytes) -> MetricDataPage:
    """GetMetricData's output: ``{"MetricDataResults": [...], "NextToken": ...}``."""

    def read(data: Mapping[str, Any]) -> MetricDataPage:
        results = tuple(_result(r) for r in _list(data.get("MetricDataResults"), "results"))
        return MetricDataPage(results, _str(data.get("NextToken"), "NextToken"))

    return _parse(status, headers, body, "GetMetricData", read)


def _alarm(value: object, kind: AlarmType) -> Alarm:
    data = _object(value, kind.value)
    name = _str(data.get("AlarmName"), "AlarmName")
    if name is None:
        raise _Malformed("an alarm has no AlarmName")
    try:
        state = AlarmState(data.get("StateValue"))
    except ValueError as exc:
        raise _Malformed(f"alarm {name} has StateValue {data.get('StateValue')!r}") from exc
    updated = data.get("StateUpdatedTimestamp")
    return Alarm(
        name,
        _str(data.get("AlarmArn"), "AlarmArn"),
        kind,
        state,
        _str(data.get("StateReason"), "StateReason"),
        None if updated is None else _time(updated, "StateUpdatedTimestamp"),
    )


def parse_alarm_page(status: int, headers: Mapping[str, str], body: bytes) -> AlarmPage:
    """DescribeAlarms's output: metric alarms, then composite alarms, and ``NextToken``."""

    def read(data: Mapping[str, Any]) -> AlarmPage:
        kinds = (("MetricAlarms", AlarmType.METRIC), ("CompositeAlarms", AlarmType.COMPOSITE))
        alarms = tuple(
            _alarm(alarm, kind) for key, kind in kinds for alarm in _list(data.get(key), key)
        )
        return AlarmPage(alarms, _str(data.get("NextToken"), "NextToken"))

    return _parse(status, headers, body, "DescribeAlarms", read)


def _error_code(headers: Mapping[str, str], body: Mapping[str, Any], status: int) -> str:
    # botocore's JSON parser: ``__type`` without its namespace ("ns#Name") or suffix
    # ("Name:http://..."), then, the service being query-compatible, the code of
    # ``x-amzn-query-error: Code;Sender`` when that header is well formed.
    raw = body.get("__type")
    code = str(status)
    if isinstance(raw, str) and raw:
        code = raw.split(":", 1)[0].rsplit("#", 1)[-1] or code
    query_error = headers.get("x-amzn-query-error", "").split(";")
    if len(query_error) == 2 and query_error[0]:
        code = query_error[0]
    return code


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    """The typed error for a non-2xx CloudWatch response. Never raises: a body that is not
    JSON still gives a ServiceError for the status."""
    data, message = error_body(body)
    code = _error_code(headers, data, status)
    cls = _BY_CODE.get(code, TooManyRequestsError if status == 429 else ServiceError)
    return cls(code, message, status=status, request_id=request_id(headers))
