"""CloudWatchClient through a MockTransport: configuration, signing, retries, paging, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdaclient import Credentials
from lambdaclient.cloudwatch import (
    AlarmState,
    CloudWatchClient,
    ComparisonOperator,
    Dimension,
    Metric,
    MetricDataQuery,
)
from lambdaclient.errors import InvalidParameterValueError, ValidationError
from lambdaclient.testing import MockTransport
from lambdaclient.transport import Request, Response

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret")
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(minutes=10)
ERRORS = Metric("AWS/Lambda", "Errors", (Dimension("FunctionName", "my-fn"),))


async def _no_sleep(seconds: float) -> None:
    pass


def _client(handler: Any, **settings: Any) -> CloudWatchClient:
    return CloudWatchClient(
        "eu-west-1",
        credentials=CREDENTIALS,
        transport=MockTransport(handler),
        sleep=_no_sleep,
        **settings,
    )


def _json(body: object, status: int = 200, **headers: str) -> Response:
    return Response(status, {"x-amzn-RequestId": "r", **headers}, json.dumps(body).encode())


def test_endpoint_is_cloudwatchs_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_CLOUDWATCH", raising=False)
    assert _client(_json).endpoint_url == "https://monitoring.eu-west-1.amazonaws.com"
    assert (
        _client(_json, use_fips=True).endpoint_url
        == "https://monitoring-fips.eu-west-1.amazonaws.com"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")
    assert _client(_json).endpoint_url == "http://127.0.0.1:9"
    monkeypatch.delenv("AWS_ENDPOINT_URL_CLOUDWATCH")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8")
    assert _client(_json).endpoint_url == "http://127.0.0.1:8"
    assert _client(_json, endpoint_url="http://localhost:7/").endpoint_url == "http://localhost:7"


async def test_requests_are_signed_for_monitoring_and_pages_are_followed() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        assert isinstance(request.body, bytes)
        token = json.loads(request.body).get("NextToken")
        if token is None:
            return _json(
                {
                    "MetricDataResults": [
                        {"Id": "e", "Label": "Errors", "Timestamps": [60.0], "Values": [1.0]}
                    ],
                    "NextToken": "2",
                }
            )
        return _json(
            {
                "MetricDataResults": [
                    {
                        "Id": "e",
                        "Label": "Errors",
                        "Timestamps": [0.0],
                        "Values": [3.0],
                        "StatusCode": "Complete",
                    }
                ]
            }
        )

    async with _client(handler) as client:
        query = MetricDataQuery("e", ERRORS, "Sum")
        results = await client.get_metric_data([query], START, END).collect()
    assert results["e"].values == (1.0, 3.0)
    assert results["e"].timestamps == (
        datetime.fromtimestamp(60, UTC),
        datetime.fromtimestamp(0, UTC),
    )
    assert results["e"].status_code == "Complete"
    assert len(seen) == 2
    authorization = seen[0].headers["Authorization"]
    assert "/eu-west-1/monitoring/aws4_request" in authorization
    assert seen[0].headers["X-Amz-Target"] == "GraniteServiceVersion20100801.GetMetricData"


async def test_throttling_is_retried_and_errors_are_typed() -> None:
    answers = [
        _json({"__type": "Throttling", "message": "Rate exceeded"}, 400),
        _json(
            {"MetricAlarms": [{"AlarmName": "a", "StateValue": "ALARM"}]},
        ),
    ]
    async with _client(lambda request: answers.pop(0)) as client:
        alarms = await client.describe_alarms(alarm_names=["a"])
    assert [(alarm.name, alarm.state) for alarm in alarms] == [("a", AlarmState.ALARM)]

    def invalid(request: Request) -> Response:
        return _json(
            {"__type": "InvalidParameterValueException", "message": "bad stat"},
            400,
            **{"x-amzn-query-error": "InvalidParameterValue;Sender"},
        )

    async with _client(invalid) as client:
        with pytest.raises(InvalidParameterValueError) as caught:
            await client.describe_alarms()
    assert (caught.value.code, caught.value.message) == ("InvalidParameterValue", "bad stat")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.get_metric_data([], START, END), "queries"),
        (lambda c: c.get_metric_data("e", START, END), "queries"),
        (lambda c: c.get_metric_data([MetricDataQuery("E", ERRORS, "Sum")], START, END), None),
        (
            lambda c: c.get_metric_data([MetricDataQuery("e", ERRORS, "Sum", 90)], START, END),
            None,
        ),
        (lambda c: c.get_metric_data([MetricDataQuery("e", ERRORS, "")], START, END), None),
        (
            lambda c: c.get_metric_data([MetricDataQuery("e", ERRORS, "Sum")] * 2, START, END),
            "queries",
        ),
        (
            lambda c: c.get_metric_data(
                [MetricDataQuery("e", ERRORS, "Sum")], START.replace(tzinfo=None), END
            ),
            "start",
        ),
        (lambda c: c.get_metric_data([MetricDataQuery("e", ERRORS, "Sum")], END, START), "start"),
    ],
)
def test_bad_metric_queries_are_refused_before_sending(call: Any, field: str | None) -> None:
    client = _client(lambda request: pytest.fail("nothing may be sent"))
    with pytest.raises(ValidationError) as caught:
        call(client)
    assert caught.value.field == (field or "queries[0]")


@pytest.mark.parametrize(
    "arguments",
    [
        {"alarm_names": "a"},
        {"alarm_names": [""]},
        {"alarm_names": ["a"] * 101},
        {"state_value": "ALARM"},
    ],
)
async def test_bad_alarm_arguments_are_refused(arguments: dict[str, Any]) -> None:
    async with _client(lambda request: pytest.fail("nothing may be sent")) as client:
        with pytest.raises(ValidationError):
            await client.describe_alarms(**arguments)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": ""}, "name"),
        ({"metric": "Errors"}, "metric"),
        ({"stat": "Median"}, "stat"),
        ({"period": 90}, "period"),
        ({"period": 0}, "period"),
        ({"evaluation_periods": 1.5}, "evaluation_periods"),
        ({"period": None}, "period"),
        ({"datapoints_to_alarm": 3}, "datapoints_to_alarm"),
        ({"threshold": float("nan")}, "threshold"),
        ({"comparison_operator": "GreaterThanThreshold"}, "comparison_operator"),
        ({"treat_missing_data": "breaching"}, "treat_missing_data"),
        ({"description": "x" * 1025}, "description"),
    ],
)
async def test_bad_metric_alarms_are_refused_before_sending(
    arguments: dict[str, Any], field: str
) -> None:
    call: dict[str, Any] = {
        "name": "fn-errors",
        "metric": ERRORS,
        "stat": "Sum",
        "period": 60,
        "evaluation_periods": 2,
        "threshold": 1.0,
        "comparison_operator": ComparisonOperator.GREATER_THAN,
        **arguments,
    }
    async with _client(lambda request: pytest.fail("nothing may be sent")) as client:
        with pytest.raises(ValidationError) as caught:
            await client.put_metric_alarm(**call)
    assert caught.value.field == field
