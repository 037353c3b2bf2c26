"""LocalLambda's metric alarms: PutMetricAlarm's rules evaluated over its own metrics.

The evaluation is pure (``CloudWatchState`` records samples and answers requests given a
clock), so most of these tests run without a server; the last ones drive PutMetricAlarm,
DescribeAlarms and DeleteAlarms with boto3's CloudWatch client over 127.0.0.1, after real
invocations through boto3's Lambda client.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdaclient.cloudwatch import (
    AlarmState,
    CloudWatchClient,
    ComparisonOperator,
    Dimension,
    Metric,
    TreatMissingData,
)
from lambdaclient.testing import LocalLambda
from lambdaclient.testing._cloudwatch import CloudWatchState
from lambdaclient.testing._state import LambdaFault

from .test_cloudwatch_local import ROLE, Clients, ShiftedClock, _canary, clients_of, failing

T0 = datetime(2026, 3, 5, 12, 0, 0, tzinfo=UTC)  # an evaluation tick (a whole minute)
VERSION_TWO = {"FunctionName": "fn", "Resource": "fn:live", "ExecutedVersion": "2"}


def _dimensions(dimensions: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in dimensions.items()]


def _rule(**overrides: Any) -> dict[str, Any]:
    """An alarm on version 2's errors under alias live: 3 or more in a minute."""
    rule: dict[str, Any] = {
        "AlarmName": "fn-v2-errors",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": _dimensions(VERSION_TWO),
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 3,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    rule.update(overrides)
    return {key: value for key, value in rule.items() if value is not None}


class Cloud:
    """A CloudWatchState and the calls a test makes to it, by the test's clock."""

    def __init__(self, delay: float = 0.0) -> None:
        self.state = CloudWatchState("us-east-1", "123456789012", delay)

    def calls(self, at: datetime, *, errors: int, ok: int = 0, version: str = "2") -> None:
        """Executions of ``version`` through alias live at ``at``."""
        for failed in [True] * errors + [False] * ok:
            self.state.record(
                at,
                "fn",
                "live",
                version,
                {"Invocations": 1.0, "Errors": float(failed), "Duration": 40.0 + 100 * failed},
            )

    def put(self, at: datetime, **overrides: Any) -> None:
        self.state.handle("PutMetricAlarm", json.dumps(_rule(**overrides)).encode(), at)

    def alarm(self, at: datetime, name: str = "fn-v2-errors") -> dict[str, Any]:
        body = json.dumps({"AlarmNames": [name]}).encode()
        (alarm,) = self.state.handle("DescribeAlarms", body, at)["MetricAlarms"]
        return dict(alarm)


def test_a_new_alarm_is_unchecked_until_its_first_evaluation() -> None:
    cloud = Cloud()
    cloud.calls(T0 + timedelta(seconds=5), errors=4)
    cloud.put(T0 + timedelta(seconds=10))
    alarm = cloud.alarm(T0 + timedelta(seconds=59))
    assert (alarm["StateValue"], alarm["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    # The next minute's tick evaluates the minute before it: 4 errors, 3 or more alarm.
    alarm = cloud.alarm(T0 + timedelta(seconds=61))
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == (
        "Threshold Crossed: 1 datapoint [4.0 (05/03/26 12:00:00)] was greater than or equal to"
        " the threshold (3.0)."
    )
    assert alarm["StateUpdatedTimestamp"] == (T0 + timedelta(minutes=1)).timestamp()
    # The rule as it was put, echoed as CloudWatch does.
    assert alarm["Dimensions"] == _dimensions(VERSION_TWO)
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 60, 3.0)
    assert alarm["AlarmConfigurationUpdatedTimestamp"] == (T0 + timedelta(seconds=10)).timestamp()
    assert "TreatMissingData" not in alarm  # only when it was given


def test_errors_below_the_threshold_are_ok_and_another_versions_do_not_count() -> None:
    cloud = Cloud()
    cloud.put(T0)
    cloud.calls(T0 + timedelta(seconds=1), errors=2, ok=10)
    cloud.calls(T0 + timedelta(seconds=1), errors=50, version="1")
    alarm = cloud.alarm(T0 + timedelta(minutes=1))
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == (
        "Threshold Crossed: 1 datapoint [2.0 (05/03/26 12:00:00)] was not greater than or equal"
        " to the threshold (3.0)."
    )


def test_periods_begin_on_the_epoch_as_get_metric_datas_do() -> None:
    # Two errors in each of two five-minute periods, [12:00, 12:05) and [12:05, 12:10): at
    # 12:07 the last whole period holds two, though the five minutes before 12:07 hold four.
    cloud = Cloud()
    cloud.put(T0, Period=300)
    cloud.calls(T0 + timedelta(minutes=4), errors=2)
    cloud.calls(T0 + timedelta(minutes=5, seconds=30), errors=2)
    alarm = cloud.alarm(T0 + timedelta(minutes=7))
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == (
        "Threshold Crossed: 1 datapoint [2.0 (05/03/26 12:00:00)] was not greater than or equal"
        " to the threshold (3.0)."
    )
    query = {
        "MetricDataQueries": [
            {
                "Id": "errors",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": _dimensions(VERSION_TWO),
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
            }
        ],
        "StartTime": T0.timestamp(),
        "EndTime": (T0 + timedelta(minutes=10)).timestamp(),
    }
    read = cloud.state.handle("GetMetricData", json.dumps(query).encode(), T0 + timedelta(hours=1))
    (result,) = read["MetricDataResults"]
    assert dict(zip(result["Timestamps"], result["Values"], strict=True)) == {
        (T0 + timedelta(minutes=5)).timestamp(): 2.0,
        T0.timestamp(): 2.0,
    }


def test_m_out_of_n_datapoints() -> None:
    cloud = Cloud()
    cloud.put(T0, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1, TreatMissingData="ignore")
    cloud.calls(T0 + timedelta(seconds=30), errors=0, ok=3)
    cloud.calls(T0 + timedelta(minutes=1, seconds=30), errors=5)
    alarm = cloud.alarm(T0 + timedelta(minutes=3))
    assert alarm["StateValue"] == "OK"  # one breaching minute of three, two needed
    assert alarm["StateReason"].startswith(
        "Threshold Crossed: 1 out of the last 3 datapoints [0.0 (05/03/26 12:00:00)] were not"
        " greater than or equal to the threshold (1.0)"
    )
    cloud.calls(T0 + timedelta(minutes=2, seconds=30), errors=2)
    alarm = cloud.alarm(T0 + timedelta(minutes=4))
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == (
        "Threshold Crossed: 2 out of the last 3 datapoints [2.0 (05/03/26 12:02:00), 5.0"
        " (05/03/26 12:01:00)] were greater than or equal to the threshold (1.0) (minimum 2"
        " datapoints for OK -> ALARM transition)."
    )
    assert alarm["DatapointsToAlarm"] == 2


@pytest.mark.parametrize(
    ("treat", "state", "reason"),
    [
        (
            None,
            "INSUFFICIENT_DATA",
            "Insufficient Data: no datapoints were received for 2 periods and 2 missing"
            " datapoints were treated as [Missing].",
        ),
        (
            "breaching",
            "ALARM",
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing"
            " datapoints were treated as [Breaching].",
        ),
        (
            "notBreaching",
            "OK",
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing"
            " datapoints were treated as [NonBreaching].",
        ),
    ],
)
def test_missing_data_is_treated_as_asked(treat: str | None, state: str, reason: str) -> None:
    cloud = Cloud()
    cloud.put(T0, EvaluationPeriods=2, TreatMissingData=treat)
    # From another state: a reason changes with the state (an alarm that never had data
    # stays "Unchecked: Initial alarm creation").
    other = "ALARM" if state == "OK" else "OK"
    cloud.state.set_alarm("fn-v2-errors", other, "by hand", T0 + timedelta(seconds=1))
    alarm = cloud.alarm(T0 + timedelta(minutes=1))
    assert (alarm["StateValue"], alarm["StateReason"]) == (state, reason)


def test_ignore_keeps_the_state_without_data() -> None:
    cloud = Cloud()
    cloud.put(T0, TreatMissingData="ignore")
    cloud.calls(T0, errors=3)
    assert cloud.alarm(T0 + timedelta(minutes=1))["StateValue"] == "ALARM"
    assert cloud.alarm(T0 + timedelta(minutes=5))["StateValue"] == "ALARM"


def test_a_percentile_alarm_on_duration() -> None:
    cloud = Cloud()
    cloud.put(
        T0,
        MetricName="Duration",
        Statistic=None,
        ExtendedStatistic="p90",
        Threshold=100,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloud.calls(T0, errors=2, ok=8)  # 8 calls of 40 ms, 2 (failed) of 140 ms
    assert cloud.alarm(T0 + timedelta(minutes=1))["StateValue"] == "ALARM"  # p90 is 140 ms
    cloud.calls(T0 + timedelta(minutes=1), errors=1, ok=19)  # p90 is 40 ms
    alarm = cloud.alarm(T0 + timedelta(minutes=2))
    assert alarm["StateValue"] == "OK"
    assert alarm["ExtendedStatistic"] == "p90"


def test_late_data_is_not_evaluated_before_it_arrives() -> None:
    cloud = Cloud(delay=90)
    cloud.put(T0, EvaluationPeriods=3, DatapointsToAlarm=1, TreatMissingData="notBreaching")
    cloud.calls(T0 + timedelta(seconds=10), errors=5)
    # At 12:01 the errors of 12:00 are not visible yet (they arrive at 12:01:40).
    assert cloud.alarm(T0 + timedelta(minutes=1))["StateValue"] == "OK"
    assert cloud.alarm(T0 + timedelta(minutes=2))["StateValue"] == "ALARM"


def test_set_alarm_state_holds_until_the_next_evaluation() -> None:
    cloud = Cloud()
    cloud.put(T0)
    cloud.calls(T0, errors=5)
    assert cloud.alarm(T0 + timedelta(minutes=1))["StateValue"] == "ALARM"
    cloud.state.set_alarm("fn-v2-errors", "OK", "muted by hand", T0 + timedelta(seconds=70))
    alarm = cloud.alarm(T0 + timedelta(seconds=119))
    assert (alarm["StateValue"], alarm["StateReason"]) == ("OK", "muted by hand")
    assert alarm["MetricName"] == "Errors"  # still the alarm that was put
    # 12:02 evaluates 12:01, which had no errors: no data, so INSUFFICIENT_DATA.
    assert cloud.alarm(T0 + timedelta(minutes=2))["StateValue"] == "INSUFFICIENT_DATA"


def test_putting_an_alarm_again_keeps_its_state() -> None:
    cloud = Cloud()
    cloud.put(T0)
    cloud.calls(T0, errors=5)
    assert cloud.alarm(T0 + timedelta(minutes=1))["StateValue"] == "ALARM"
    cloud.put(T0 + timedelta(seconds=65), Threshold=10)
    alarm = cloud.alarm(T0 + timedelta(seconds=70))
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 10.0)


def test_the_evaluation_interval_is_checked() -> None:
    with pytest.raises(ValueError, match="alarm_evaluation_interval"):
        LocalLambda(alarm_evaluation_interval=0)


def _fault(cloud: Cloud, operation: str, body: dict[str, Any]) -> LambdaFault:
    with pytest.raises(LambdaFault) as caught:
        cloud.state.handle(operation, json.dumps(body).encode(), T0)
    return caught.value


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"Statistic": "Median"}, "ValidationError", "at 'statistic' failed to satisfy"),
        ({"ComparisonOperator": "Above"}, "ValidationError", "at 'comparisonOperator'"),
        ({"ComparisonOperator": None}, "MissingParameter", "ComparisonOperator is required"),
        ({"Period": 0}, "ValidationError", "greater than or equal to 1"),
        ({"Period": 90}, "ValidationError", "Period must be 10, 30 or a multiple of 60"),
        ({"EvaluationPeriods": None}, "MissingParameter", "EvaluationPeriods is required"),
        ({"DatapointsToAlarm": 2}, "InvalidParameterValue", "less than or equal to Evaluation"),
        ({"TreatMissingData": "zero"}, "ValidationError", "not supported for TreatMissingData"),
        ({"ExtendedStatistic": "p90"}, "InvalidParameterCombination", "Exactly one of"),
        ({"Statistic": None}, "InvalidParameterCombination", "Exactly one of"),
        (
            {"Statistic": None, "ExtendedStatistic": "median"},
            "InvalidParameterValue",
            "ExtendedStatistic is not supported",
        ),
        ({"Threshold": None}, "MissingParameter", "Threshold is required"),
        ({"MetricName": None}, "MissingParameter", "MetricName is required"),
        ({"AlarmName": ""}, "ValidationError", "at 'alarmName'"),
        ({"Metrics": [{"Id": "m", "Expression": "1"}]}, "InvalidParameterValue", "Metrics"),
        (
            {"ComparisonOperator": "GreaterThanUpperThreshold"},
            "InvalidParameterValue",
            "anomaly detection band",
        ),
    ],
)
def test_bad_alarms_are_refused_as_cloudwatch_does(
    overrides: dict[str, Any], code: str, words: str
) -> None:
    cloud = Cloud()
    fault = _fault(cloud, "PutMetricAlarm", _rule(**overrides))
    assert (fault.code, fault.status) == (code, 400)
    assert words in fault.message
    assert cloud.state.alarms == {}


def test_delete_alarms_deletes_all_or_none() -> None:
    cloud = Cloud()
    cloud.put(T0)
    cloud.put(T0, AlarmName="other")
    fault = _fault(cloud, "DeleteAlarms", {"AlarmNames": ["other", "absent"]})
    assert (fault.code, fault.status) == ("ResourceNotFound", 404)
    assert sorted(cloud.state.alarms) == ["fn-v2-errors", "other"]
    cloud.state.handle("DeleteAlarms", json.dumps({"AlarmNames": ["other"]}).encode(), T0)
    assert sorted(cloud.state.alarms) == ["fn-v2-errors"]


# --- boto3 over sockets --------------------------------------------------------------------


@pytest.fixture
async def served() -> AsyncIterator[tuple[LocalLambda, Clients, ShiftedClock]]:
    clock = ShiftedClock()
    async with LocalLambda(seed=7, clock=clock) as lam, clients_of(lam) as aws:
        yield lam, aws, clock


async def test_boto3_puts_an_alarm_that_a_faulty_version_fires(
    served: tuple[LocalLambda, Clients, ShiftedClock],
) -> None:
    lam, aws, clock = served
    rule = _rule(Threshold=1, EvaluationPeriods=2, DatapointsToAlarm=1)
    rule["TreatMissingData"] = "notBreaching"
    await _canary(aws, 0)  # fn, alias live sending 30% to version 2, which fails
    await aws(aws.cloudwatch, "put_metric_alarm", **rule)
    (alarm,) = (await aws(aws.cloudwatch, "describe_alarms"))["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:fn-v2-errors"
    assert alarm["TreatMissingData"] == "notBreaching"
    for _ in range(40):
        await aws(aws.aws_lambda, "invoke", FunctionName="fn", Qualifier="live")
    assert lam.executions("fn", "2") > 0
    clock.shift = timedelta(seconds=61)  # past the next tick: the errors are evaluated
    firing = await aws(aws.cloudwatch, "describe_alarms", StateValue="ALARM")
    (alarm,) = firing["MetricAlarms"]
    # One datapoint or two, as the calls fell in one minute or across two.
    assert re.match(
        r"Threshold Crossed: [12] out of the last 2 datapoints \[", alarm["StateReason"]
    )
    assert abs(alarm["StateUpdatedTimestamp"] - clock()) < timedelta(seconds=61)


async def test_boto3_reads_the_errors_and_deletes(
    served: tuple[LocalLambda, Clients, ShiftedClock],
) -> None:
    _, aws, _ = served
    bad = await aws.error("put_metric_alarm", **_rule(Period=90))
    assert bad["Code"] == "ValidationError"
    assert bad["Message"] == "Period must be 10, 30 or a multiple of 60"
    await aws(aws.cloudwatch, "put_metric_alarm", **_rule())
    missing = await aws.error("delete_alarms", AlarmNames=["fn-v2-errors", "absent"])
    assert missing["Code"] == "ResourceNotFound"
    await aws(aws.cloudwatch, "delete_alarms", AlarmNames=["fn-v2-errors"])
    assert (await aws(aws.cloudwatch, "describe_alarms"))["MetricAlarms"] == []


async def test_lambdaclients_put_metric_alarm_is_evaluated(
    served: tuple[LocalLambda, Clients, ShiftedClock],
) -> None:
    lam, aws, clock = served
    lam.add_function("fn", failing, role=ROLE)
    for _ in range(3):
        await aws(aws.aws_lambda, "invoke", FunctionName="fn")
    errors = Metric("AWS/Lambda", "Errors", (Dimension("FunctionName", "fn"),))
    async with CloudWatchClient(
        lam.region, credentials=lam.credentials, endpoint_url=lam.endpoint_url
    ) as client:
        await client.put_metric_alarm(
            "fn-errors",
            errors,
            "Sum",
            period=120,
            evaluation_periods=1,
            threshold=2,
            comparison_operator=ComparisonOperator.GREATER_THAN_OR_EQUAL,
            treat_missing_data=TreatMissingData.NOT_BREACHING,
            description="three errors",
        )
        (alarm,) = await client.describe_alarms(alarm_names=["fn-errors"])
        assert alarm.state is AlarmState.INSUFFICIENT_DATA
        # Just past the end of the two-minute period the calls fell in (periods begin on the
        # epoch), at a tick that evaluates it.
        now = clock().timestamp()
        clock.shift = timedelta(seconds=120 * math.ceil(now / 120) - now + 1)
        (alarm,) = await client.describe_alarms(alarm_names=["fn-errors"])
        assert alarm.state is AlarmState.ALARM
        assert alarm.state_reason is not None
        assert "[3.0 (" in alarm.state_reason
    described = await aws(aws.cloudwatch, "describe_alarms", AlarmNames=["fn-errors"])
    assert described["MetricAlarms"][0]["AlarmDescription"] == "three errors"
