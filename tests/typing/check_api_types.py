"""What users get, pinned for the type checkers: mypy --strict and pyright in strict mode
check this file; it never runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, assert_type

import lambdaclient
from lambdaclient import (
    AliasConfiguration,
    AliasPage,
    Credentials,
    CredentialsLoader,
    InvocationType,
    InvokeComplete,
    InvokeResult,
    LambdaClient,
    LogType,
    ResponseStream,
    RoutingConfig,
    ServiceError,
    StreamingInvokeResponse,
    TooManyRequestsError,
    VersionPage,
)
from lambdaclient.cloudwatch import (
    AlarmState,
    CloudWatchClient,
    Dimension,
    Metric,
    MetricDataPaginator,
    MetricDataQuery,
)
from lambdaclient.errors import LambdaError, PreconditionFailedError, ValidationError
from lambdaclient.pagination import AliasPaginator, Paginator, VersionPaginator
from lambdaclient.shifting import (
    AlarmGate,
    HealthCheck,
    HealthResult,
    InvokeProbe,
    Linear,
    MetricsGate,
    MetricsReading,
    Schedule,
    ShiftResult,
    Step,
    StepContext,
    Verdict,
    VersionStats,
    all_of,
    shift_traffic,
)
from lambdaclient.testing import ClientContext, Handler, LambdaContext, LocalLambda, MockTransport
from lambdaclient.transport import AiohttpTransport, Request, RequestBody, Response, Transport


async def aliases(client: LambdaClient) -> None:
    created = await client.create_alias(
        "my-fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.1})
    )
    assert_type(created, AliasConfiguration)
    assert_type(created.routing_config, RoutingConfig | None)
    assert_type(created.description, str | None)
    assert_type(created.revision_id, str)
    if created.routing_config is not None:
        assert_type(created.routing_config.additional_version_weights, Mapping[str, float])

    assert_type(await client.get_alias("my-fn", name="live"), AliasConfiguration)
    assert_type(
        await client.update_alias("my-fn", "live", revision_id=created.revision_id),
        AliasConfiguration,
    )
    assert_type(await client.delete_alias(function_name="my-fn", name="live"), None)

    async for alias in client.list_aliases("my-fn"):
        assert_type(alias, AliasConfiguration)
    async for page in client.list_aliases("my-fn", page_size=50).pages():
        assert_type(page, AliasPage)
        assert_type(page.aliases, tuple[AliasConfiguration, ...])
        assert_type(page.next_marker, str | None)


async def paginators(client: LambdaClient) -> None:
    # Named by the public module, as reveal_type shows them, and exported from the package.
    aliases = client.list_aliases("my-fn")
    assert_type(aliases, AliasPaginator)
    assert_type(aliases, lambdaclient.AliasPaginator)
    versions = client.list_versions_by_function("my-fn")
    assert_type(versions, VersionPaginator)
    async for version in versions:
        assert_type(version.version, str | None)
    async for page in versions.pages():
        assert_type(page, VersionPage)
    _: Paginator[AliasPage, AliasConfiguration] = aliases
    assert_type(aiter(aliases), AliasPaginator)


def echo(event: Any, context: LambdaContext) -> dict[str, Any]:
    return {"echo": event, "version": context.function_version}


async def request_id(event: Any, context: LambdaContext) -> str:
    assert_type(context.client_context, ClientContext | None)
    return context.aws_request_id


async def streaming(event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
    assert_type(context.get_remaining_time_in_millis(), int)
    yield b"chunk"


async def local_lambda() -> None:
    async with LocalLambda() as lam:
        lam.add_function("sync", echo)
        lam.add_function("async", request_id)
        lam.add_function("streaming", streaming)
        # A lambda takes its parameter types from Handler: event Any, context LambdaContext.
        handlers: list[Handler] = [
            lambda event, context: {"echo": event, "left": context.get_remaining_time_in_millis()}
        ]
        lam.add_function("lambda", handlers[0])
        lam.add_function(
            "inline", lambda event, context: {"echo": event, "name": context.function_name}
        )


async def invoking(client: LambdaClient) -> None:
    result = await client.invoke(
        "my-fn", payload={"order": 42}, qualifier="live", log_type=LogType.TAIL
    )
    assert_type(result, InvokeResult)
    assert_type(result.payload, bytes)
    assert_type(result.status_code, int)
    assert_type(result.executed_version, str | None)
    assert_type(result.function_error, str | None)
    assert_type(result.log_result, str | None)
    assert_type(result.raise_for_function_error(), None)
    await client.invoke("my-fn", payload=b"raw", invocation_type=InvocationType.EVENT)

    async with client.invoke_stream("my-fn", payload="text") as response:
        assert_type(response, StreamingInvokeResponse)
        assert_type(response.executed_version, str | None)
        async for chunk in response.iter_chunks():
            assert_type(chunk, bytes)

    async with client.invoke_with_response_stream("my-fn", payload=[1, 2]) as stream:
        assert_type(stream, ResponseStream)
        async for part in stream:
            assert_type(part, bytes)
    assert_type(stream.complete, InvokeComplete | None)
    # The three share one definition of their arguments, and type checkers still see them.
    await client.invoke("my-fn", paylod=b"")  # type: ignore[call-arg]
    await client.invoke("my-fn", qualifier=3)  # type: ignore[arg-type]


async def transports() -> None:
    def handler(request: Request) -> Response:
        assert_type(request.body, RequestBody)
        return Response(200, {"Content-Type": "application/json"}, b"{}")

    async def async_handler(request: Request) -> Response:
        return Response(404)

    transport: Transport = MockTransport(handler)
    MockTransport(async_handler)
    async with LambdaClient(
        "us-east-1",
        transport=transport,
        sleep=asyncio.sleep,
        jitter=lambda: 0.5,
        clock=lambda: datetime.now(UTC),
    ) as client:
        assert_type(client, LambdaClient)
    default: Transport = AiohttpTransport(connect_timeout=5.0)
    async with await default.send(Request("GET", "http://127.0.0.1:9001/", {})) as response:
        assert_type(response.status, int)
        assert_type(await response.read(), bytes)
        async for chunk in response.body:
            assert_type(chunk, bytes)


async def shifting(client: LambdaClient) -> None:
    # The docstring's own example must type-check as written.
    strategy = Schedule([(0.05, timedelta(minutes=5)), (0.5, timedelta(minutes=10))])
    result = await shift_traffic(
        client,
        "my-fn",
        "live",
        to_version="7",
        strategy=strategy,
        health_check=InvokeProbe(payload={"ping": True}),
    )
    assert_type(result, ShiftResult)
    assert_type(result.rolled_back, bool)
    assert_type(result.stats, Mapping[str, VersionStats])
    assert_type(Linear(step=0.1, interval=timedelta(minutes=1)).steps(), tuple[Step, ...])
    health = result.steps[0].health
    if health is not None:
        assert_type(health.verdict, Verdict | None)
        assert_type(health.stats, Mapping[str, VersionStats])
    assert_type(result.stats["7"].p90_latency, float | None)


async def by_bool(step: StepContext) -> bool:
    return step.weight < 0.5


async def by_result(step: StepContext) -> HealthResult:
    return HealthResult(True, "fine", {step.to_version: VersionStats(10, 0)})


# Either kind of check, and the built-in probe, is a HealthCheck.
checks: list[HealthCheck] = [by_bool, by_result, InvokeProbe()]


def errors(error: ServiceError, throttled: TooManyRequestsError) -> None:
    assert_type(error.code, str)
    assert_type(error.status, int)
    assert_type(error.request_id, str | None)
    assert_type(throttled.retry_after_seconds, float | None)
    assert_type(throttled.reason, str | None)
    _: type[LambdaError] = PreconditionFailedError
    __: type[ValueError] = ValidationError


def construction() -> None:
    client = LambdaClient(region="eu-west-1", credentials=Credentials("AKID", "secret"))
    assert_type(client, LambdaClient)
    # Everything but the region is keyword-only.
    LambdaClient("eu-west-1", "profile")  # type: ignore[call-arg, arg-type]


class LeasedCredentials:
    async def load(self) -> Credentials:
        return Credentials("AKID", "secret")


class BlockingCredentials:
    def load(self) -> Credentials:
        return Credentials("AKID", "secret")


def credentials_providers() -> None:
    # Any class with an async load() is a provider, for both clients; a sync load() is not.
    provider: CredentialsLoader = LeasedCredentials()
    LambdaClient("eu-west-1", credentials=provider)
    CloudWatchClient("eu-west-1", credentials=LeasedCredentials())
    LambdaClient("eu-west-1", credentials=BlockingCredentials())  # type: ignore[arg-type]


async def cloudwatch_gates(client: LambdaClient) -> None:
    async with CloudWatchClient(region="us-east-1") as cloudwatch:
        errors = Metric("AWS/Lambda", "Errors", (Dimension("FunctionName", "my-fn"),))
        query = MetricDataQuery("errors", errors, "Sum")
        start = datetime.now(UTC) - timedelta(minutes=10)
        paginator = cloudwatch.get_metric_data([query], start, datetime.now(UTC))
        assert_type(paginator, MetricDataPaginator)
        async for page in paginator.pages():
            assert_type(page.next_token, str | None)
        results = await paginator.collect()
        assert_type(results["errors"].values, tuple[float, ...])
        assert_type(results["errors"].timestamps, tuple[datetime, ...])
        alarms = await cloudwatch.describe_alarms(alarm_names=["my-fn-errors"])
        assert_type(alarms[0].state, AlarmState)
        gate = AlarmGate(["my-fn-errors"], cloudwatch=cloudwatch, poll_interval=15)
        result = await shift_traffic(
            client,
            "my-fn",
            "live",
            to_version="7",
            strategy=Linear(step=0.1, interval=timedelta(minutes=1)),
            health_check=all_of(InvokeProbe(), gate),
        )
        assert_type(result, ShiftResult)
        _: HealthCheck = gate
        metrics = MetricsGate(cloudwatch, max_error_rate=0.05, settle=180, max_latency=0.2)
        result = await shift_traffic(
            client,
            "my-fn",
            "live",
            to_version="7",
            strategy=Linear(step=0.1, interval=timedelta(minutes=5)),
            health_check=[gate, metrics],
        )
        reading = result.steps[-1].health.metrics if result.steps[-1].health else None
        if reading is not None:
            assert_type(reading, MetricsReading)
            assert_type(reading.window.new_errors, int)
            assert_type(reading.verdict.required_invocations, int | None)
            assert_type(reading.new_latency, float | None)
        __: HealthCheck = metrics
