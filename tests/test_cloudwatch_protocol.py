"""lambdaclient._cloudwatch_protocol against botocore's own awsJson1_0 serializer and parser.

botocore picks the ``json`` protocol for CloudWatch (the first it supports of the model's
``protocols``), which is what lambdaclient speaks; its serializer says what goes on the wire
and its parser what a response means.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.parsers
import botocore.serialize
import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from lambdaclient._cloudwatch_protocol import (
    build_describe_alarms,
    build_get_metric_data,
    build_put_metric_alarm,
    parse_alarm_page,
    parse_error,
    parse_metric_data_page,
)
from lambdaclient.cloudwatch import (
    AlarmState,
    AlarmType,
    ComparisonOperator,
    Dimension,
    Metric,
    MetricDataQuery,
    TreatMissingData,
)
from lambdaclient.errors import (
    InvalidParameterValueError,
    ResourceNotFoundError,
    ResponseParseError,
    ServiceError,
    TooManyRequestsError,
)

_MODEL = botocore.session.get_session().get_service_model("cloudwatch")
_SERIALIZER = botocore.serialize.create_serializer("json", include_validation=False)
_PARSER = botocore.parsers.create_parser("json")
ORACLE = settings(deadline=None, max_examples=50)


def _botocore(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    serialized: dict[str, Any] = _SERIALIZER.serialize_to_request(
        params, _MODEL.operation_model(operation)
    )
    return serialized


def _body(request: Any) -> Any:
    assert isinstance(request.body, bytes)
    return json.loads(request.body)


def test_botocore_speaks_json_to_cloudwatch() -> None:
    # The premise of these tests: were botocore to move CloudWatch to another protocol,
    # this says so first.
    assert _MODEL.resolved_protocol == "json"


_names = st.text(min_size=1, max_size=8)
_dimensions = st.lists(st.builds(Dimension, _names, _names), max_size=3).map(tuple)
_queries = st.builds(
    MetricDataQuery,
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
    st.builds(Metric, _names, _names, _dimensions),
    st.sampled_from(["Sum", "Average", "p99", "SampleCount"]),
    st.sampled_from([1, 60, 300]),
    label=st.none() | _names,
    return_data=st.booleans(),
)
_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def _query_params(query: MetricDataQuery) -> dict[str, Any]:
    metric: dict[str, Any] = {
        "Namespace": query.metric.namespace,
        "MetricName": query.metric.metric_name,
    }
    if query.metric.dimensions:
        metric["Dimensions"] = [{"Name": d.name, "Value": d.value} for d in query.metric.dimensions]
    params: dict[str, Any] = {
        "Id": query.id,
        "MetricStat": {"Metric": metric, "Period": query.period, "Stat": query.stat},
    }
    if query.label is not None:
        params["Label"] = query.label
    if not query.return_data:
        params["ReturnData"] = False
    return params


@ORACLE
@given(st.lists(_queries, min_size=1, max_size=3), _times, _times, st.none() | _names)
def test_get_metric_data_request_is_botocores(
    queries: list[MetricDataQuery], start: datetime, end: datetime, token: str | None
) -> None:
    request = build_get_metric_data(queries, start, end, next_token=token)
    params: dict[str, Any] = {
        "MetricDataQueries": [_query_params(query) for query in queries],
        "StartTime": start,
        "EndTime": end,
    }
    if token is not None:
        params["NextToken"] = token
    expected = _botocore("GetMetricData", params)
    assert (request.method, request.path, request.query) == ("POST", "/", "")
    assert dict(request.headers) == expected["headers"]
    assert _body(request) == json.loads(expected["body"])


@ORACLE
@given(
    st.none() | st.lists(_names, max_size=3),
    st.none() | st.sampled_from(AlarmState),
    st.none() | _names,
)
def test_describe_alarms_request_is_botocores(
    names: list[str] | None, state: AlarmState | None, token: str | None
) -> None:
    request = build_describe_alarms(alarm_names=names, state_value=state, next_token=token)
    params: dict[str, Any] = {"AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
    if names is not None:
        params["AlarmNames"] = names
    if state is not None:
        params["StateValue"] = state.value
    if token is not None:
        params["NextToken"] = token
    expected = _botocore("DescribeAlarms", params)
    assert dict(request.headers) == expected["headers"]
    assert expected["headers"]["x-amzn-query-mode"] == "true"
    assert _body(request) == json.loads(expected["body"])


@ORACLE
@given(
    _names,
    st.builds(Metric, _names, _names, _dimensions),
    st.sampled_from(["Sum", "Average", "p99", "p99.9"]),
    st.sampled_from(ComparisonOperator),
    st.none() | st.sampled_from(TreatMissingData),
    st.none() | st.integers(1, 3),
    st.none() | _names,
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_put_metric_alarm_request_is_botocores(
    name: str,
    metric: Metric,
    stat: str,
    comparison: ComparisonOperator,
    treat_missing: TreatMissingData | None,
    datapoints: int | None,
    description: str | None,
    threshold: float,
) -> None:
    request = build_put_metric_alarm(
        name,
        metric,
        stat,
        period=60,
        evaluation_periods=3,
        threshold=threshold,
        comparison_operator=comparison,
        datapoints_to_alarm=datapoints,
        treat_missing_data=treat_missing,
        description=description,
    )
    params: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": metric.namespace,
        "MetricName": metric.metric_name,
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": threshold,
        "ComparisonOperator": comparison.value,
        ("ExtendedStatistic" if stat.startswith("p") else "Statistic"): stat,
    }
    if metric.dimensions:
        params["Dimensions"] = [{"Name": d.name, "Value": d.value} for d in metric.dimensions]
    optional = {
        "DatapointsToAlarm": datapoints,
        "TreatMissingData": None if treat_missing is None else treat_missing.value,
        "AlarmDescription": description,
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    expected = _botocore("PutMetricAlarm", params)
    assert dict(request.headers) == expected["headers"]
    assert _body(request) == json.loads(expected["body"])


def _botocore_parse(operation: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    return _PARSER.parse(
        {"status_code": status, "headers": CIMultiDict(headers), "body": body},
        _MODEL.operation_model(operation).output_shape,
    )


_METRIC_BODY = {
    "MetricDataResults": [
        {
            "Id": "errors",
            "Label": "Errors",
            "Timestamps": [1764640860.0, 1764640800],
            "Values": [2.0, 0],
            "StatusCode": "PartialData",
        },
        {
            "Id": "empty",
            "Label": "Invocations",
            "Timestamps": [],
            "Values": [],
            "StatusCode": "Complete",
        },
    ],
    "NextToken": "token-2",
    "Messages": [],
}


def test_metric_data_page_reads_as_botocore_does() -> None:
    body = json.dumps(_METRIC_BODY).encode()
    page = parse_metric_data_page(200, CIMultiDict({"x-amzn-RequestId": "r"}), body)
    expected = _botocore_parse("GetMetricData", 200, {}, body)
    assert page.next_token == expected["NextToken"]
    assert [
        (r.id, r.label, list(r.timestamps), list(r.values), r.status_code) for r in page.results
    ] == [
        (r["Id"], r["Label"], r["Timestamps"], r["Values"], r["StatusCode"])
        for r in expected["MetricDataResults"]
    ]


def test_alarm_page_reads_as_botocore_does() -> None:
    alarm = {
        "AlarmName": "errors",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors",
        "StateValue": "ALARM",
        "StateReason": "Threshold Crossed",
        "StateUpdatedTimestamp": 1764640860.123,
        "MetricName": "Errors",
        "Namespace": "AWS/Lambda",
    }
    composite = {"AlarmName": "all", "StateValue": "INSUFFICIENT_DATA", "AlarmRule": "ALARM(x)"}
    body = json.dumps({"MetricAlarms": [alarm], "CompositeAlarms": [composite]}).encode()
    page = parse_alarm_page(200, CIMultiDict(), body)
    expected = _botocore_parse("DescribeAlarms", 200, {}, body)
    metric_alarm, composite_alarm = page.alarms
    want = expected["MetricAlarms"][0]
    assert (metric_alarm.name, metric_alarm.arn, metric_alarm.state.value) == (
        want["AlarmName"],
        want["AlarmArn"],
        want["StateValue"],
    )
    assert metric_alarm.state_reason == want["StateReason"]
    assert metric_alarm.state_updated == want["StateUpdatedTimestamp"]
    assert metric_alarm.type is AlarmType.METRIC
    assert composite_alarm.type is AlarmType.COMPOSITE
    assert composite_alarm.state is AlarmState.INSUFFICIENT_DATA
    assert page.next_token is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"MetricDataResults": [{"Id": "a", "Timestamps": [1], "Values": []}]}',
        b'{"MetricDataResults": [{"Id": "a", "Timestamps": ["x"], "Values": [1]}]}',
        b'{"MetricDataResults": [{"Timestamps": [], "Values": []}]}',
        b'{"MetricDataResults": {}}',
    ],
)
def test_malformed_metric_data_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ResponseParseError):
        parse_metric_data_page(200, CIMultiDict(), body)


@pytest.mark.parametrize(
    "body",
    [b'{"MetricAlarms": [{"AlarmName": "a", "StateValue": "ON_FIRE"}]}', b'{"MetricAlarms": [{}]}'],
)
def test_malformed_alarms_are_a_parse_error(body: bytes) -> None:
    with pytest.raises(ResponseParseError):
        parse_alarm_page(200, CIMultiDict(), body)


@pytest.mark.parametrize(
    ("status", "headers", "body", "cls"),
    [
        (
            400,
            {"x-amzn-query-error": "InvalidParameterValue;Sender"},
            {"__type": "com.amazonaws.cloudwatch#InvalidParameterValueException", "message": "m"},
            InvalidParameterValueError,
        ),
        (
            400,
            {},
            {"__type": "com.amazonaws.cloudwatch#InvalidNextToken", "message": "bad token"},
            ServiceError,
        ),
        (
            404,
            {"x-amzn-query-error": "ResourceNotFound;Sender"},
            {"Message": "x"},
            ResourceNotFoundError,
        ),
        (
            400,
            {"x-amzn-query-error": "Throttling;Sender"},
            {"__type": "Throttling"},
            TooManyRequestsError,
        ),
        (400, {"x-amzn-query-error": ";Sender"}, {"__type": "ns#Other:http://x"}, ServiceError),
        (503, {}, None, ServiceError),
    ],
)
def test_error_code_is_botocores(
    status: int, headers: dict[str, str], body: dict[str, str] | None, cls: type[ServiceError]
) -> None:
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {**headers, "x-amzn-RequestId": "req-1"}
    error = parse_error(status, CIMultiDict(headers), raw)
    expected = _PARSER.parse(
        {"status_code": status, "headers": CIMultiDict(headers), "body": raw},
        _MODEL.operation_model("GetMetricData").output_shape,
    )["Error"]
    assert type(error) is cls
    assert error.code == expected["Code"]
    if body is not None:  # for an empty body botocore makes up the HTTP reason phrase
        assert error.message == expected["Message"]
    assert (error.status, error.request_id) == (status, "req-1")


def test_request_times_are_epoch_seconds_to_the_microsecond() -> None:
    start = datetime(2026, 1, 1, 12, 0, 0, 3691, tzinfo=UTC)
    query = MetricDataQuery("a", Metric("AWS/Lambda", "Errors"), "Sum")
    body = _body(build_get_metric_data([query], start, start.replace(microsecond=0) + timedelta(1)))
    assert (body["StartTime"], body["EndTime"]) == (1767268800.003691, 1767355200)
