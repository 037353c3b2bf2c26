"""boto3's CloudWatch client against LocalLambda's CloudWatch face, over 127.0.0.1.

botocore serialises, signs (for ``monitoring``) and parses with CloudWatch's own service
model, so these tests prove LocalLambda speaks CloudWatch's wire format. The metrics are those
of real executions, made through boto3's Lambda client. LocalLambda's clock is the real time
shifted by a few minutes at most, inside the five minutes of skew a signature may have.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from lambdaclient.cloudwatch import AlarmState, CloudWatchClient, Metric, MetricDataQuery
from lambdaclient.errors import InvalidParameterValueError
from lambdaclient.testing import LocalLambda, ServerError

ROLE = "arn:aws:iam::123456789012:role/app"


class ShiftedClock:
    """The real time plus ``shift``, which a test moves."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


def ok(event: Any, context: Any) -> Any:
    return {"ok": True}


def failing(event: Any, context: Any) -> Any:
    raise RuntimeError("version two is broken")


def _boto3(lam: LocalLambda, service: str) -> Any:
    return boto3.client(
        service,
        region_name=lam.region,
        endpoint_url=lam.endpoint_url,
        aws_access_key_id=lam.credentials.access_key_id,
        aws_secret_access_key=lam.credentials.secret_access_key,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


class Clients:
    """boto3's Lambda and CloudWatch clients, called from a worker thread."""

    def __init__(self, lam: LocalLambda) -> None:
        self.lam = lam
        self.aws_lambda = _boto3(lam, "lambda")
        self.cloudwatch = _boto3(lam, "cloudwatch")

    async def __call__(self, client: Any, operation: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await asyncio.to_thread(getattr(client, operation), **params)
        return result

    async def error(self, operation: str, **params: Any) -> dict[str, Any]:
        with pytest.raises(ClientError) as caught:
            await self(self.cloudwatch, operation, **params)
        error: dict[str, Any] = caught.value.response["Error"]
        return error


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def lam(clock: ShiftedClock) -> AsyncIterator[LocalLambda]:
    async with LocalLambda(seed=7, clock=clock) as server:
        yield server


@contextlib.asynccontextmanager
async def clients_of(lam: LocalLambda) -> AsyncIterator[Clients]:
    # Built in a thread (loading service models takes a while) and closed, so that no
    # keep-alive socket outlives the test.
    clients = await asyncio.to_thread(Clients, lam)
    try:
        yield clients
    finally:
        await asyncio.to_thread(clients.aws_lambda.close)
        await asyncio.to_thread(clients.cloudwatch.close)


@pytest.fixture
async def aws(lam: LocalLambda) -> AsyncIterator[Clients]:
    async with clients_of(lam) as clients:
        yield clients


def _query(
    query_id: str, metric: str, stat: str, *, period: int = 60, **dimensions: str
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
    }


async def _canary(aws: Clients, calls: int) -> None:
    """fn: version 1 works, version 2 fails; alias live sends 30% to 2; ``calls`` invokes."""
    aws.lam.add_function("fn", ok, role=ROLE)
    await aws(aws.aws_lambda, "publish_version", FunctionName="fn")
    aws.lam.add_function("fn", failing, role=ROLE)
    await aws(aws.aws_lambda, "publish_version", FunctionName="fn")
    await aws(
        aws.aws_lambda,
        "create_alias",
        FunctionName="fn",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )
    for _ in range(calls):
        await aws(aws.aws_lambda, "invoke", FunctionName="fn", Qualifier="live")


def _window(clock: ShiftedClock) -> dict[str, datetime]:
    now = clock()
    return {"StartTime": now - timedelta(minutes=10), "EndTime": now + timedelta(minutes=1)}


async def test_metrics_per_executed_version_are_those_of_the_executions(
    aws: Clients, lam: LocalLambda, clock: ShiftedClock
) -> None:
    await _canary(aws, 40)
    await aws(aws.aws_lambda, "invoke", FunctionName="fn", Qualifier="1")
    queries = [
        _query(
            "inv1", "Invocations", "Sum", FunctionName="fn", Resource="fn:live", ExecutedVersion="1"
        ),
        _query(
            "inv2", "Invocations", "Sum", FunctionName="fn", Resource="fn:live", ExecutedVersion="2"
        ),
        _query("err1", "Errors", "Sum", FunctionName="fn", Resource="fn:live", ExecutedVersion="1"),
        _query("err2", "Errors", "Sum", FunctionName="fn", Resource="fn:live", ExecutedVersion="2"),
        _query(
            "rate2", "Errors", "Average", FunctionName="fn", Resource="fn:live", ExecutedVersion="2"
        ),
        _query("alias", "Invocations", "Sum", FunctionName="fn", Resource="fn:live"),
        _query("fn", "Invocations", "Sum", FunctionName="fn"),
        _query("account", "Invocations", "SampleCount"),
        _query("count", "Duration", "SampleCount", FunctionName="fn"),
        _query("p90", "Duration", "p90", FunctionName="fn"),
        _query("low", "Duration", "Minimum", FunctionName="fn"),
        _query("high", "Duration", "Maximum", FunctionName="fn"),
        _query("mean", "Duration", "Average", FunctionName="fn"),
        _query("gone", "Invocations", "Sum", FunctionName="no-such-fn"),
        _query("mixed", "Invocations", "Sum", FunctionName="fn", ExecutedVersion="1"),
    ]
    # 1-hour buckets hold all of the test's executions in one or two datapoints.
    for query in queries:
        query["MetricStat"]["Period"] = 3600
    response = await aws(
        aws.cloudwatch, "get_metric_data", MetricDataQueries=queries, **_window(clock)
    )
    total = {r["Id"]: sum(r["Values"]) for r in response["MetricDataResults"]}
    one, two = lam.executions("fn", "1"), lam.executions("fn", "2")
    assert two > 0
    assert (total["inv1"], total["inv2"]) == (one - 1, two)  # one call went to version 1
    assert (total["err1"], total["err2"]) == (0, two)
    assert total["alias"] == 40
    assert total["fn"] == total["account"] == total["count"] == 41
    by_id = {r["Id"]: r for r in response["MetricDataResults"]}
    assert set(by_id["rate2"]["Values"]) == {1.0}  # the error rate of version 2
    for stat in ("p90", "mean"):
        assert by_id["low"]["Values"][0] <= by_id[stat]["Values"][0] <= by_id["high"]["Values"][0]
    # A metric no execution published, or dimensions no set has: no datapoints, no error.
    for missing in ("gone", "mixed"):
        assert (by_id[missing]["Values"], by_id[missing]["StatusCode"]) == ([], "Complete")
    assert by_id["inv1"]["Label"] == "Invocations"


async def test_minutes_are_bucketed_and_paged(aws: Clients, clock: ShiftedClock) -> None:
    aws.lam.add_function("fn", ok, role=ROLE)
    start = clock().replace(second=0, microsecond=0)
    for minutes in (-4, -3, -2, -1, 0):
        clock.shift = timedelta(minutes=minutes)
        for _ in range(abs(minutes) + 1):
            await aws(aws.aws_lambda, "invoke", FunctionName="fn")
    query = _query("inv", "Invocations", "Sum", FunctionName="fn")
    window = {"StartTime": start - timedelta(minutes=6), "EndTime": start + timedelta(minutes=2)}
    pages = await asyncio.to_thread(
        lambda: list(
            aws.cloudwatch.get_paginator("get_metric_data").paginate(
                MetricDataQueries=[query], MaxDatapoints=2, **window
            )
        )
    )
    assert [len(page["MetricDataResults"][0]["Values"]) for page in pages] == [2, 2, 1]
    assert [page["MetricDataResults"][0]["StatusCode"] for page in pages] == [
        "PartialData",
        "PartialData",
        "Complete",
    ]
    values = [v for page in pages for v in page["MetricDataResults"][0]["Values"]]
    stamps = [t for page in pages for t in page["MetricDataResults"][0]["Timestamps"]]
    # Newest first, one datapoint a minute, each the count of that minute's calls. A call
    # made in the last second of a minute may land in the next one, so counts are summed.
    assert sum(values) == 1 + 2 + 3 + 4 + 5
    assert stamps == sorted(stamps, reverse=True)
    assert all(stamp.second == 0 for stamp in stamps)


async def test_late_data_appears_after_the_delay(clock: ShiftedClock) -> None:
    async with LocalLambda(clock=clock, metrics_delay=120) as lam, clients_of(lam) as aws:
        lam.add_function("fn", ok, role=ROLE)
        await aws(aws.aws_lambda, "invoke", FunctionName="fn")
        query = [_query("inv", "Invocations", "Sum", FunctionName="fn")]
        window = _window(clock)

        async def seen() -> list[float]:
            response = await aws(
                aws.cloudwatch, "get_metric_data", MetricDataQueries=query, **window
            )
            values: list[float] = response["MetricDataResults"][0]["Values"]
            return values

        assert await seen() == []
        clock.shift = timedelta(seconds=119)
        assert await seen() == []
        clock.shift = timedelta(seconds=121)
        assert await seen() == [1.0]


async def test_bad_queries_are_answered_as_cloudwatch_does(
    aws: Clients, clock: ShiftedClock
) -> None:
    now = clock()
    query = _query("inv", "Invocations", "Sum")
    backwards = await aws.error(
        "get_metric_data", MetricDataQueries=[query], StartTime=now, EndTime=now
    )
    assert backwards == {
        "Code": "InvalidParameterValue",
        "Message": "The parameter StartTime must be less than the parameter EndTime.",
        "QueryErrorCode": "InvalidParameterValueException",
        "Type": "Sender",
    }
    window = _window(clock)
    bad_stat = _query("inv", "Invocations", "Median")
    bad_period = _query("inv", "Invocations", "Sum", period=90)
    bad_id = _query("Inv", "Invocations", "Sum")
    expression = {"Id": "e", "Expression": "m1 * 2"}
    for bad in (bad_stat, bad_period, bad_id, expression):
        error = await aws.error("get_metric_data", MetricDataQueries=[bad], **window)
        assert error["Code"] == "InvalidParameterValue"
    duplicate = await aws.error("get_metric_data", MetricDataQueries=[query, query], **window)
    assert duplicate["Code"] == "InvalidParameterValue"
    token = await aws.error(
        "get_metric_data", MetricDataQueries=[query], NextToken="made-up", **window
    )
    assert token["Code"] == "InvalidNextToken"


async def test_alarms_set_by_the_test_are_described(
    aws: Clients, lam: LocalLambda, clock: ShiftedClock
) -> None:
    lam.set_alarm_state("fn-errors", "ALARM", reason="Threshold Crossed: 3 errors")
    lam.set_alarm_state("fn-latency", "OK")
    lam.set_alarm_state("other", "INSUFFICIENT_DATA")
    named = await aws(aws.cloudwatch, "describe_alarms", AlarmNames=["fn-errors", "absent"])
    (alarm,) = named["MetricAlarms"]
    assert alarm["AlarmName"] == "fn-errors"
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == "Threshold Crossed: 3 errors"
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:fn-errors"
    assert abs(alarm["StateUpdatedTimestamp"] - clock()) < timedelta(seconds=5)
    firing = await aws(aws.cloudwatch, "describe_alarms", StateValue="ALARM")
    assert [a["AlarmName"] for a in firing["MetricAlarms"]] == ["fn-errors"]
    prefixed = await aws(aws.cloudwatch, "describe_alarms", AlarmNamePrefix="fn-")
    assert [a["AlarmName"] for a in prefixed["MetricAlarms"]] == ["fn-errors", "fn-latency"]
    composite_only = await aws(aws.cloudwatch, "describe_alarms", AlarmTypes=["CompositeAlarm"])
    assert composite_only["MetricAlarms"] == []
    pages = await asyncio.to_thread(
        lambda: list(
            aws.cloudwatch.get_paginator("describe_alarms").paginate(
                PaginationConfig={"PageSize": 2}
            )
        )
    )
    assert [[a["AlarmName"] for a in page["MetricAlarms"]] for page in pages] == [
        ["fn-errors", "fn-latency"],
        ["other"],
    ]
    both = await aws.error("describe_alarms", AlarmNames=["a"], AlarmNamePrefix="a")
    assert both["Code"] == "InvalidParameterCombination"


def test_set_alarm_state_refuses_what_cloudwatch_would() -> None:
    lam = LocalLambda()
    with pytest.raises(ValueError, match="state must be one of"):
        lam.set_alarm_state("a", "FIRING")
    with pytest.raises(ValueError, match="1 to 255"):
        lam.set_alarm_state("", "OK")
    with pytest.raises(TypeError):
        lam.set_alarm_state("a", "OK", reason=3)  # type: ignore[arg-type]


async def test_lambdaclients_cloudwatch_client_reads_local_lambda(lam: LocalLambda) -> None:
    lam.set_alarm_state("fn-errors", "ALARM", reason="Threshold Crossed")
    lam.inject("DescribeAlarms", ServerError())
    async with CloudWatchClient(
        lam.region, credentials=lam.credentials, endpoint_url=lam.endpoint_url, jitter=lambda: 0
    ) as client:
        (alarm,) = await client.describe_alarms(alarm_names=["fn-errors"])  # after one retry
        assert (alarm.state, alarm.state_reason) == (AlarmState.ALARM, "Threshold Crossed")
        assert await client.describe_alarms(state_value=AlarmState.OK) == ()
        query = MetricDataQuery("inv", Metric("AWS/Lambda", "Invocations"), "p99.9")
        results = await client.get_metric_data(
            [query], lam.clock() - timedelta(hours=1), lam.clock()
        ).collect()
        assert results["inv"].values == ()
        lam.inject("GetMetricData", ServerError(status=400, code="InvalidParameterValue"))
        with pytest.raises(InvalidParameterValueError):
            await client.get_metric_data(
                [query], lam.clock() - timedelta(hours=1), lam.clock()
            ).collect()
