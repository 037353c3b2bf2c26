"""A small async CloudWatch client: metric data and alarms, for gating rollouts on real traffic.

Example::

    from lambdaclient.cloudwatch import CloudWatchClient, Dimension, Metric, MetricDataQuery

    async with CloudWatchClient(region="us-east-1") as cloudwatch:
        errors = Metric("AWS/Lambda", "Errors", (Dimension("FunctionName", "my-fn"),))
        results = await cloudwatch.get_metric_data(
            [MetricDataQuery("errors", errors, "Sum")], start, end
        ).collect()
        print(results["errors"].values)
        alarms = await cloudwatch.describe_alarms(alarm_names=["my-fn-errors"])
        await cloudwatch.put_metric_alarm(
            "my-fn-errors", errors, "Sum", period=60, evaluation_periods=1, threshold=5,
            comparison_operator=ComparisonOperator.GREATER_THAN_OR_EQUAL,
        )
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeGuard

from . import _cloudwatch_protocol as protocol
from ._client import _no_result, _ServiceClient
from ._cloudwatch_models import (
    Alarm,
    AlarmPage,
    AlarmState,
    AlarmType,
    ComparisonOperator,
    Dimension,
    Metric,
    MetricDataPage,
    MetricDataQuery,
    MetricDataResult,
    TreatMissingData,
)
from ._endpoints import CLOUDWATCH
from ._errors import ValidationError
from .pagination import Paginator

__all__ = [
    "Alarm",
    "AlarmPage",
    "AlarmState",
    "AlarmType",
    "CloudWatchClient",
    "ComparisonOperator",
    "Dimension",
    "Metric",
    "MetricDataPage",
    "MetricDataPaginator",
    "MetricDataQuery",
    "MetricDataResult",
    "TreatMissingData",
]

_QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*", re.ASCII)
_PERCENTILE = re.compile(r"p(100|[0-9]{1,2}(\.[0-9]{1,10})?)", re.ASCII)
_MAX_QUERIES = 500  # GetMetricData's limit
_MAX_ALARM_NAMES = 100  # DescribeAlarms's AlarmNames


class MetricDataPaginator(Paginator[MetricDataPage, MetricDataResult]):
    """What :meth:`CloudWatchClient.get_metric_data` returns: each page's
    :class:`MetricDataResult` in turn (a query's datapoints may span pages), each
    :class:`MetricDataPage` from :meth:`pages`, or everything merged by :meth:`collect`."""

    async def collect(self) -> Mapping[str, MetricDataResult]:
        """Every page read and each query's datapoints joined, by query id, in page order.
        The status code is the last page's (``Complete`` once all pages are read)."""
        merged: dict[str, MetricDataResult] = {}
        async for page in self.pages():
            for result in page.results:
                seen = merged.get(result.id)
                if seen is not None:
                    result = MetricDataResult(
                        result.id,
                        result.label,
                        seen.timestamps + result.timestamps,
                        seen.values + result.values,
                        result.status_code,
                    )
                merged[result.id] = result
        return merged


def _check_time(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(f"{field} must be an aware datetime", field=field)
    return value


def _check_query(query: object, index: int) -> MetricDataQuery:
    field = f"queries[{index}]"
    if not isinstance(query, MetricDataQuery):
        raise ValidationError(f"{field} must be a MetricDataQuery", field=field)
    # Read as objects: a query built by untyped code may hold anything.
    query_id: object = query.id
    period: object = query.period
    metric: object = query.metric
    stat: object = query.stat
    if not isinstance(query_id, str) or _QUERY_ID.fullmatch(query_id) is None:
        raise ValidationError(
            f"{field}.id {query_id!r} must start with a lowercase letter, then letters, digits"
            " or underscores",
            field=field,
        )
    if type(period) is not int or not (
        period in (1, 5, 10, 30) or (period > 0 and period % 60 == 0)
    ):
        raise ValidationError(
            f"{field}.period must be 1, 5, 10, 30 or a multiple of 60 seconds", field=field
        )
    if not isinstance(metric, Metric) or not metric.namespace or not metric.metric_name:
        raise ValidationError(
            f"{field}.metric must be a Metric with a namespace and a name", field=field
        )
    if not isinstance(stat, str) or not stat:
        raise ValidationError(f"{field}.stat must name a statistic", field=field)
    return query


def _is_alarm_name(name: object) -> TypeGuard[str]:
    """Whether ``name`` is an alarm's name: a string of 1 to 255 characters."""
    return isinstance(name, str) and 1 <= len(name) <= 255


def _check_alarm_names(alarm_names: object) -> list[str] | None:
    if alarm_names is None:
        return None
    if isinstance(alarm_names, str) or not isinstance(alarm_names, Sequence):
        raise ValidationError("alarm_names must be a sequence of alarm names", field="alarm_names")
    names: list[object] = list(alarm_names)
    checked = [name for name in names if _is_alarm_name(name)]
    if len(checked) != len(names) or len(checked) > _MAX_ALARM_NAMES:
        raise ValidationError(
            f"alarm_names must hold at most {_MAX_ALARM_NAMES} names of 1 to 255 characters",
            field="alarm_names",
        )
    return checked


class CloudWatchClient(_ServiceClient):
    """An async client for CloudWatch's metric data and alarms.

    Configured as :class:`~lambdaclient.LambdaClient` is, with the same arguments and rules
    for region, credentials, transport, retries, timeouts and response size; the endpoint is
    ``endpoint_url``, else ``AWS_ENDPOINT_URL_CLOUDWATCH``, else ``AWS_ENDPOINT_URL``, else
    CloudWatch's regional endpoint (``monitoring.{region}.amazonaws.com``). Requests are
    signed for ``monitoring``. Errors are the same :class:`~lambdaclient.ServiceError`
    hierarchy, carrying CloudWatch's codes (``InvalidParameterValue``,
    ``InvalidNextToken``...). Every operation only reads or, for ``put_metric_alarm``, puts
    the same thing again, so every retryable failure is retried.
    """

    _SERVICE = CLOUDWATCH
    _parse_error = staticmethod(protocol.parse_error)

    def get_metric_data(
        self, queries: Sequence[MetricDataQuery], start: datetime, end: datetime
    ) -> MetricDataPaginator:
        """The datapoints of ``queries`` (1 to 500) from ``start`` to ``end`` (aware
        datetimes), page by page as CloudWatch sends them.

        Arguments are checked here, before anything is sent. Iterate for each page's
        results, or ``await ....collect()`` for every query's datapoints joined by id.

        Example::

            query = MetricDataQuery("inv", Metric("AWS/Lambda", "Invocations"), "Sum")
            results = await cloudwatch.get_metric_data([query], start, end).collect()
        """
        given: object = queries
        if isinstance(given, str | bytes) or not isinstance(given, Sequence):
            raise ValidationError("queries must be a sequence of MetricDataQuery", field="queries")
        checked = tuple(_check_query(query, index) for index, query in enumerate(given))
        if not 1 <= len(checked) <= _MAX_QUERIES:
            raise ValidationError(
                f"queries must hold 1 to {_MAX_QUERIES} queries, not {len(checked)}",
                field="queries",
            )
        if len({query.id for query in checked}) != len(checked):
            raise ValidationError("queries must have distinct ids", field="queries")
        start = _check_time(start, "start")
        end = _check_time(end, "end")
        if not start < end:
            raise ValidationError("start must be before end", field="start")

        async def fetch(token: str | None) -> MetricDataPage:
            request = protocol.build_get_metric_data(checked, start, end, next_token=token)
            return await self._call(request, protocol.parse_metric_data_page)

        return MetricDataPaginator(fetch, lambda page: page.results, lambda page: page.next_token)

    async def describe_alarms(
        self,
        *,
        alarm_names: Sequence[str] | None = None,
        state_value: AlarmState | None = None,
    ) -> tuple[Alarm, ...]:
        """The alarms named (up to 100; all alarms when None), metric and composite alike,
        only those in ``state_value`` if given; every page is read. A name no alarm has is
        left out of the answer, as CloudWatch does: compare the names to see which exist."""
        names = _check_alarm_names(alarm_names)
        state: object = state_value
        if state is not None and not isinstance(state, AlarmState):
            raise ValidationError("state_value must be an AlarmState", field="state_value")

        async def fetch(token: str | None) -> AlarmPage:
            request = protocol.build_describe_alarms(
                alarm_names=names, state_value=state_value, next_token=token
            )
            return await self._call(request, protocol.parse_alarm_page)

        pages = Paginator(fetch, lambda page: page.alarms, lambda page: page.next_token)
        return tuple([alarm async for alarm in pages])

    async def put_metric_alarm(
        self,
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
    ) -> None:
        """Create or replace the metric alarm ``name`` (1 to 255 characters): ``metric``
        read as ``stat`` (``Sum``, ``SampleCount``, ``Average``, ``Minimum``, ``Maximum``
        or a percentile such as ``p99``) over ``period`` seconds (10, 30 or a multiple of
        60), breaching when ``comparison_operator`` holds against ``threshold``; it fires
        when ``datapoints_to_alarm`` (default all) of the last ``evaluation_periods``
        periods breach. A new alarm starts ``INSUFFICIENT_DATA``; replacing one keeps its
        state until CloudWatch next evaluates it. Arguments are checked before sending."""
        # Read as objects: untyped callers may pass anything.
        alarm_name: object = name
        if not _is_alarm_name(alarm_name):
            raise ValidationError("name must be an alarm name of 1 to 255 characters", field="name")
        text: object = description
        if text is not None and (not isinstance(text, str) or len(text) > 1024):
            raise ValidationError(
                "description must be a string of at most 1024 characters", field="description"
            )
        checked: object = metric
        if not isinstance(checked, Metric) or not checked.namespace or not checked.metric_name:
            raise ValidationError(
                "metric must be a Metric with a namespace and a name", field="metric"
            )
        statistic: object = stat
        if not isinstance(statistic, str) or (
            statistic not in protocol.SIMPLE_STATISTICS and _PERCENTILE.fullmatch(statistic) is None
        ):
            raise ValidationError(
                f"stat {statistic!r} must be Sum, SampleCount, Average, Minimum, Maximum or a"
                " percentile such as p99",
                field="stat",
            )
        counts: dict[str, object] = {
            "period": period,
            "evaluation_periods": evaluation_periods,
            "datapoints_to_alarm": datapoints_to_alarm,
        }
        for field, count in counts.items():
            optional = field == "datapoints_to_alarm" and count is None
            if not optional and (type(count) is not int or count < 1):
                raise ValidationError(f"{field} must be a whole number, at least 1", field=field)
        if not (period in (10, 30) or period % 60 == 0):
            raise ValidationError(
                "period must be 10, 30 or a multiple of 60 seconds", field="period"
            )
        if datapoints_to_alarm is not None and datapoints_to_alarm > evaluation_periods:
            raise ValidationError(
                "datapoints_to_alarm must be at most evaluation_periods",
                field="datapoints_to_alarm",
            )
        value: object = threshold
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValidationError("threshold must be a finite number", field="threshold")
        operator: object = comparison_operator
        if not isinstance(operator, ComparisonOperator):
            raise ValidationError(
                "comparison_operator must be a ComparisonOperator", field="comparison_operator"
            )
        missing: object = treat_missing_data
        if missing is not None and not isinstance(missing, TreatMissingData):
            raise ValidationError(
                "treat_missing_data must be a TreatMissingData", field="treat_missing_data"
            )
        request = protocol.build_put_metric_alarm(
            name,
            metric,
            stat,
            period=period,
            evaluation_periods=evaluation_periods,
            threshold=float(threshold),
            comparison_operator=comparison_operator,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=treat_missing_data,
            description=description,
        )
        await self._call(request, _no_result)
