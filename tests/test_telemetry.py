"""Observability over real sockets: OpenTelemetry spans (an in-memory exporter) and
``on_attempt`` hooks, against LocalLambda; and clients without OpenTelemetry at all."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from lambdaclient import (
    Attempt,
    ConnectError,
    Credentials,
    LambdaClient,
    RequestTimeoutError,
    ResourceNotFoundError,
    RoutingConfig,
    ServiceError,
    TooManyRequestsError,
    TotalTimeoutError,
    ValidationError,
)
from lambdaclient.cloudwatch import CloudWatchClient, ComparisonOperator, Metric, MetricDataQuery
from lambdaclient.testing import Delay, LambdaContext, LocalLambda, ServerError, Throttle
from lambdaclient.transport import AiohttpTransport, Request, Response
from tests import stubs

ROOT = Path(__file__).resolve().parent.parent
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTELEMETRYKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token-that-must-not-leak"
CREDENTIALS = Credentials("AKIDTELEMETRY", SECRET, session_token=TOKEN)
PAYLOAD_MARKER = "payload-bytes-that-must-never-be-in-a-span"


def _echo(event: Any, context: LambdaContext) -> Any:
    return event


async def _chunks(event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
    for _ in range(200):
        yield b"chunk"
        await asyncio.sleep(0.01)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


@pytest.fixture
def xray() -> Iterator[None]:
    """The X-Ray propagator as the global one, for the test."""
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(AwsXRayPropagator())
    yield
    propagate.set_global_textmap(previous)


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda(seed=3, credentials=CREDENTIALS) as server:
        server.add_function("my-fn", _echo)
        server.publish_version("my-fn")
        server.add_function("streamer", _chunks)
        yield server


def _client(lam: LocalLambda, **options: Any) -> LambdaClient:
    options.setdefault("sleep", _no_wait)
    return LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials, **options
    )


async def _no_wait(delay: float) -> None:
    await asyncio.sleep(0)


def _attributes(span: ReadableSpan) -> Mapping[str, Any]:
    return dict(span.attributes or {})


async def test_every_operation_is_one_client_span_with_the_aws_sdk_attributes(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    async with _client(lam, tracer_provider=provider) as client:
        await client.create_alias("my-fn", "live", function_version="1")
        await client.get_alias("my-fn", "live")
        await client.update_alias("my-fn", "live", routing_config=RoutingConfig({}))
        assert [alias.name async for alias in client.list_aliases("my-fn")] == ["live"]
        await client.publish_version("my-fn")
        assert len([v async for v in client.list_versions_by_function("my-fn")]) == 2
        await client.get_function_configuration("my-fn", qualifier="1")
        await client.wait_for_version_active("my-fn", "1")
        await client.wait_for_function_updated("my-fn")
        await client.invoke("my-fn", payload={}, qualifier="live")
        async with client.invoke_stream("my-fn", qualifier="live") as response:
            await response.read()
        async with client.invoke_with_response_stream(
            f"arn:aws:lambda:{lam.region}:123456789012:function:streamer:$LATEST"
        ) as stream:
            async for chunk in stream:
                assert chunk == b"chunk"
                break
        await client.delete_alias("my-fn", "live")

    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [
        "Lambda.CreateAlias",
        "Lambda.GetAlias",
        "Lambda.UpdateAlias",
        "Lambda.ListAliases",
        "Lambda.PublishVersion",
        "Lambda.ListVersionsByFunction",
        "Lambda.GetFunctionConfiguration",
        "Lambda.GetFunctionConfiguration",  # the waiters read the configuration
        "Lambda.GetFunctionConfiguration",
        "Lambda.Invoke",
        "Lambda.Invoke",
        "Lambda.InvokeWithResponseStream",
        "Lambda.DeleteAlias",
    ]
    port = int(lam.endpoint_url.rsplit(":", 1)[1])
    for span in spans:
        attributes = _attributes(span)
        assert span.kind is SpanKind.CLIENT
        assert span.status.status_code is StatusCode.UNSET
        assert attributes["rpc.system"] == "aws-api"
        assert attributes["rpc.service"] == "Lambda"
        assert span.name == f"Lambda.{attributes['rpc.method']}"
        assert attributes["cloud.region"] == lam.region
        assert (attributes["server.address"], attributes["server.port"]) == ("127.0.0.1", port)
        assert attributes["http.response.status_code"] in (200, 201, 204)
        assert isinstance(attributes["aws.request_id"], str)
        assert attributes["lambdaclient.attempts"] == 1
        assert "error.type" not in attributes
    invokes = [_attributes(span) for span in spans if "Invoke" in span.name]
    assert [a["faas.invoked_name"] for a in invokes] == ["my-fn", "my-fn", "streamer"]
    assert {(a["faas.invoked_provider"], a["faas.invoked_region"]) for a in invokes} == {
        ("aws", lam.region)
    }
    assert not any(key.startswith("faas.") for key in _attributes(spans[0]))


async def test_an_invoked_arn_names_its_own_region() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def handler(request: Request) -> Response:
        stub = stubs.load("Invoke", "200-ok")
        return Response(stub.status, stub.headers, stub.body_bytes)

    from lambdaclient.testing import MockTransport

    async with LambdaClient(
        "us-east-1",
        credentials=CREDENTIALS,
        transport=MockTransport(handler),
        tracer_provider=provider,
    ) as client:
        await client.invoke("arn:aws:lambda:eu-west-1:123456789012:function:other:live")
        await client.invoke("123456789012:function:third")
    (arn, partial) = [_attributes(span) for span in exporter.get_finished_spans()]
    assert (arn["faas.invoked_name"], arn["faas.invoked_region"]) == ("other", "eu-west-1")
    assert (partial["faas.invoked_name"], partial["faas.invoked_region"]) == ("third", "us-east-1")
    assert (arn["server.address"], arn["server.port"]) == ("lambda.us-east-1.amazonaws.com", 443)


async def test_cloudwatch_operations_are_spans_of_their_own_service(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    now = datetime.now(UTC)
    query = MetricDataQuery("inv", Metric("AWS/Lambda", "Invocations"), "Sum")
    async with CloudWatchClient(
        lam.region,
        endpoint_url=lam.endpoint_url,
        credentials=lam.credentials,
        tracer_provider=provider,
    ) as cloudwatch:
        await cloudwatch.get_metric_data([query], now - timedelta(hours=1), now).collect()
        await cloudwatch.describe_alarms()
        await cloudwatch.put_metric_alarm(
            "my-fn-errors",
            Metric("AWS/Lambda", "Errors"),
            "Sum",
            period=60,
            evaluation_periods=1,
            threshold=1,
            comparison_operator=ComparisonOperator.GREATER_THAN_OR_EQUAL,
        )
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [
        "CloudWatch.GetMetricData",
        "CloudWatch.DescribeAlarms",
        "CloudWatch.PutMetricAlarm",
    ]
    for span in spans:
        attributes = _attributes(span)
        assert (attributes["rpc.system"], attributes["rpc.service"]) == ("aws-api", "CloudWatch")
        assert attributes["http.response.status_code"] == 200
        assert attributes["lambdaclient.attempts"] == 1


async def test_a_retried_call_counts_its_attempts_and_the_hook_sees_each(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    attempts: list[Attempt] = []
    lam.inject("GetFunctionConfiguration", Throttle(0), times=2)
    async with _client(lam, tracer_provider=provider, on_attempt=attempts.append) as client:
        await client.get_function_configuration("my-fn")

    (span,) = exporter.get_finished_spans()
    assert _attributes(span)["lambdaclient.attempts"] == 3
    assert _attributes(span)["http.response.status_code"] == 200
    assert span.status.status_code is StatusCode.UNSET
    assert [(a.number, a.status, a.error_type, a.will_retry) for a in attempts] == [
        (1, 429, "TooManyRequestsException", True),
        (2, 429, "TooManyRequestsException", True),
        (3, 200, None, False),
    ]
    assert {(a.service, a.operation) for a in attempts} == {("Lambda", "GetFunctionConfiguration")}
    assert all(a.request_id and a.elapsed > 0 for a in attempts)
    assert attempts[-1].request_id == _attributes(span)["aws.request_id"]


async def test_an_error_sets_the_status_and_error_type(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    attempts: list[Attempt] = []
    lam.inject("Invoke", ServerError(502, "EC2UnexpectedException", after_execution=True))
    async with _client(lam, tracer_provider=provider, on_attempt=attempts.append) as client:
        with pytest.raises(ResourceNotFoundError) as missing:
            await client.get_alias("my-fn", "nope")
        with pytest.raises(ServiceError, match="EC2UnexpectedException"):
            await client.invoke("my-fn", payload={"m": PAYLOAD_MARKER})  # a 502: not retried
        with pytest.raises(ValidationError):
            await client.get_alias("my-fn", "not an alias")  # nothing sent, no span

    not_found, bad_gateway = exporter.get_finished_spans()
    assert not_found.status.status_code is StatusCode.ERROR
    assert _attributes(not_found)["error.type"] == "ResourceNotFoundException"
    assert _attributes(not_found)["http.response.status_code"] == 404
    assert _attributes(not_found)["aws.request_id"] == missing.value.request_id
    assert bad_gateway.status.status_code is StatusCode.ERROR
    assert _attributes(bad_gateway)["error.type"] == "EC2UnexpectedException"
    assert _attributes(bad_gateway)["lambdaclient.attempts"] == 1
    assert [(a.status, a.will_retry) for a in attempts] == [(404, False), (502, False)]


async def test_a_failure_without_a_response_is_named_by_its_class(
    exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    attempts: list[Attempt] = []
    async with LocalLambda() as closed:
        endpoint = closed.endpoint_url  # nothing listens there once it stops
    async with LambdaClient(
        "us-east-1",
        endpoint_url=endpoint,
        credentials=CREDENTIALS,
        max_attempts=2,
        sleep=_no_wait,
        tracer_provider=provider,
        on_attempt=attempts.append,
    ) as client:
        with pytest.raises(ConnectError) as raised:
            await client.get_alias("my-fn", "live")
    (span,) = exporter.get_finished_spans()
    assert _attributes(span)["error.type"] == type(raised.value).__name__ == "ConnectError"
    assert _attributes(span)["lambdaclient.attempts"] == 2
    assert "http.response.status_code" not in _attributes(span)
    assert [(a.status, a.error_type, a.request_id, a.will_retry) for a in attempts] == [
        (None, "ConnectError", None, True),
        (None, "ConnectError", None, False),
    ]


async def test_a_call_past_its_total_timeout_is_a_timeout_span(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    attempts: list[Attempt] = []
    lam.inject("GetAlias", Delay(0.5))
    async with _client(lam, tracer_provider=provider, on_attempt=attempts.append) as client:
        with pytest.raises(TotalTimeoutError):
            await client.get_alias("my-fn", "live", total_timeout=0.1)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["error.type"] == "TotalTimeoutError"
    assert _attributes(span)["lambdaclient.attempts"] == 1
    assert attempts == []  # the attempt was cut short: it has no outcome to report


async def test_a_stream_abandoned_midway_ends_its_span_when_its_block_is_left(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    async with _client(lam, tracer_provider=provider) as client:
        async with client.invoke_with_response_stream("streamer") as stream:
            async for chunk in stream:
                assert chunk == b"chunk"
                break
            assert exporter.get_finished_spans() == ()  # the stream is still open
        (abandoned,) = exporter.get_finished_spans()

        started = asyncio.Event()

        async def read_for_ever() -> None:
            async with client.invoke_with_response_stream("streamer") as stream:
                started.set()
                async for _ in stream:
                    pass

        task = asyncio.create_task(read_for_ever())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    cancelled = exporter.get_finished_spans()[1]
    for span in (abandoned, cancelled):
        # Abandoned by the caller: no failure of the call's.
        assert span.name == "Lambda.InvokeWithResponseStream"
        assert span.status.status_code is StatusCode.UNSET
        assert _attributes(span)["http.response.status_code"] == 200
        assert _attributes(span)["lambdaclient.stream.abandoned"] is True
        assert "error.type" not in _attributes(span)


async def test_a_stream_s_span_ends_when_its_body_ends_not_when_its_block_is_left(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    async with _client(lam, tracer_provider=provider) as client:
        async with client.invoke_stream("my-fn", payload={"a": 1}) as response:
            assert await response.read() == b'{"a": 1}'
            assert len(exporter.get_finished_spans()) == 1  # before the block is left
        async with client.invoke_stream("my-fn", payload={"b": 2}) as response:
            assert b"".join([chunk async for chunk in response.iter_chunks()]) == b'{"b": 2}'
            assert len(exporter.get_finished_spans()) == 2
        async with client.invoke_with_response_stream("streamer") as stream:
            assert [chunk async for chunk in stream] == [b"chunk"] * 200
            assert len(exporter.get_finished_spans()) == 3
    for span in exporter.get_finished_spans():
        assert span.status.status_code is StatusCode.UNSET
        assert "lambdaclient.stream.abandoned" not in _attributes(span)


async def test_the_caller_s_own_exception_in_a_stream_s_block_is_no_error_of_the_call(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    async def caller_bug(client: LambdaClient, *, read: bool) -> None:
        async with client.invoke_stream("my-fn", payload={"a": 1}) as response:
            if read:
                await response.read()
            raise KeyError("the caller's own bug")

    async with _client(lam, tracer_provider=provider) as client:
        with pytest.raises(KeyError):
            await caller_bug(client, read=True)
        with pytest.raises(KeyError):
            await caller_bug(client, read=False)
    read, unread = exporter.get_finished_spans()
    for span in (read, unread):
        assert span.status.status_code is StatusCode.UNSET
        assert "error.type" not in _attributes(span)
        assert _attributes(span)["http.response.status_code"] == 200
    assert "lambdaclient.stream.abandoned" not in _attributes(read)
    assert _attributes(unread)["lambdaclient.stream.abandoned"] is True


async def test_a_stream_that_fails_while_read_is_an_error_even_if_the_caller_catches_it(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    async def stalls(event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.sleep(5)
        yield b"never"

    lam.add_function("stalls", stalls)
    async with (
        _client(lam, tracer_provider=provider) as client,
        client.invoke_with_response_stream("stalls", read_timeout=0.3) as stream,
    ):
        assert await anext(stream) == b"first"
        with pytest.raises(RequestTimeoutError):
            await anext(stream)  # caught by the caller, who leaves the block normally
        assert len(exporter.get_finished_spans()) == 1
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["error.type"] == "RequestTimeoutError"
    assert "lambdaclient.stream.abandoned" not in _attributes(span)


async def test_the_span_is_the_current_one_while_requests_are_sent_only(
    lam: LocalLambda, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    seen: list[str] = []

    def note_current(attempt: Attempt) -> None:
        span = trace.get_current_span()
        seen.append(getattr(span, "name", "none"))

    tracer = provider.get_tracer("test")
    async with _client(lam, tracer_provider=provider, on_attempt=note_current) as client:
        with tracer.start_as_current_span("handler") as parent:
            await client.get_function_configuration("my-fn")
            async with client.invoke_stream("my-fn") as response:
                seen.append(getattr(trace.get_current_span(), "name", "none"))
                await response.read()
    assert seen == ["Lambda.GetFunctionConfiguration", "Lambda.Invoke", "handler"]
    spans = [span for span in exporter.get_finished_spans() if span.name != "handler"]
    parent_id = parent.get_span_context().span_id
    assert all(span.parent is not None and span.parent.span_id == parent_id for span in spans)


Received = list[Mapping[str, str]]


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Received]]:
    """A server on 127.0.0.1 that answers every request as GetAlias does: its URL, and the
    headers each request arrived with."""
    received: Received = []

    async def handle(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        stub = stubs.load("GetAlias", "200-unweighted")
        return web.Response(status=stub.status, body=stub.body_bytes, headers=dict(stub.headers))

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", received
    finally:
        await runner.cleanup()


async def _get_alias(url: str, provider: TracerProvider | None = None) -> None:
    async with LambdaClient(
        "us-east-1", endpoint_url=url, credentials=CREDENTIALS, tracer_provider=provider
    ) as client:
        await client.get_alias("my-fn", "live")


@pytest.mark.usefixtures("xray")
async def test_an_xray_propagator_sends_the_span_as_x_amzn_trace_id(
    server: tuple[str, Received],
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = server
    await _get_alias(url, provider)
    # Inside Lambda, the invocation's own trace header wins (it carries the Lineage that loop
    # detection counts).
    runtime = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "caller")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", runtime)
    await _get_alias(url, provider)

    first, _ = exporter.get_finished_spans()
    context = first.get_span_context()
    assert context is not None
    trace_id = f"{context.trace_id:032x}"
    expected = f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={context.span_id:016x};Sampled=1"
    assert received[0]["X-Amzn-Trace-Id"] == expected
    assert received[1]["X-Amzn-Trace-Id"] == runtime
    assert "traceparent" not in received[0]  # only the header AWS reads is taken


async def test_without_an_xray_propagator_no_trace_header_is_sent(
    server: tuple[str, Received], provider: TracerProvider
) -> None:
    url, received = server
    await _get_alias(url, provider)
    assert not {"x-amzn-trace-id", "traceparent"} & {name.lower() for name in received[0]}


class _Recording(AiohttpTransport):
    """The default transport, keeping every request's signature."""

    def __init__(self) -> None:
        super().__init__()
        self.signatures: list[str] = []

    async def send(self, request: Request) -> Response:
        self.signatures.append(request.headers["Authorization"].rsplit("Signature=", 1)[1])
        return await super().send(request)


@pytest.mark.usefixtures("xray")
async def test_no_secret_signature_or_payload_byte_is_in_any_span(
    lam: LocalLambda, exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    transport = _Recording()
    lam.inject("Invoke", Throttle(0))
    async with LambdaClient(
        lam.region,
        endpoint_url=lam.endpoint_url,
        credentials=lam.credentials,
        transport=transport,
        sleep=_no_wait,
        tracer_provider=provider,
    ) as client:
        await client.invoke("my-fn", payload={"marker": PAYLOAD_MARKER})
        async with client.invoke_stream("my-fn", payload=f'"{PAYLOAD_MARKER}"') as response:
            assert PAYLOAD_MARKER.encode() in await response.read()
        # AWS's message quotes a payload it cannot parse.
        with pytest.raises(ServiceError, match="InvalidRequestContentException"):
            await client.invoke("my-fn", payload=f"not json {PAYLOAD_MARKER}")

    exported = "\n".join(span.to_json() for span in exporter.get_finished_spans())
    assert len(exporter.get_finished_spans()) == 3
    assert len(transport.signatures) == 4
    for secret in (SECRET, TOKEN, PAYLOAD_MARKER, "Signature", *transport.signatures):
        assert secret not in exported


@pytest.mark.usefixtures("xray")
async def test_without_a_provider_no_span_is_made_and_a_caller_s_trace_passes_through(
    server: tuple[str, Received],
) -> None:
    # The global provider is the API's proxy, making no span until an application sets one.
    url, received = server
    await _get_alias(url)
    caller = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    token = otel_context.attach(propagate.extract({"X-Amzn-Trace-Id": caller}))
    try:
        await _get_alias(url)
    finally:
        otel_context.detach(token)
    assert "X-Amzn-Trace-Id" not in received[0]  # no trace going on: nothing to pass on
    assert received[1]["X-Amzn-Trace-Id"] == caller


async def test_an_async_hook_is_awaited_before_the_next_attempt(lam: LocalLambda) -> None:
    order: list[str] = []

    async def hook(attempt: Attempt) -> None:
        await asyncio.sleep(0.01)
        order.append(f"hook {attempt.number}")

    async def sleep(delay: float) -> None:
        order.append("backoff")

    lam.inject("GetFunctionConfiguration", ServerError(503, "ServiceUnavailable"))
    async with _client(lam, on_attempt=hook, sleep=sleep) as client:
        await client.get_function_configuration("my-fn")
    assert order == ["hook 1", "backoff", "hook 2"]


async def test_a_hook_that_raises_is_logged_and_never_breaks_the_call(
    lam: LocalLambda, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def broken(attempt: Attempt) -> None:
        calls.append(attempt.number)
        raise RuntimeError("the metrics backend is down")

    async def broken_async(attempt: Attempt) -> None:
        raise KeyError("async too")

    lam.inject("Invoke", Throttle(0))
    caplog.set_level(logging.WARNING, logger="lambdaclient")
    with caplog.at_level(logging.WARNING, logger="lambdaclient"):
        async with _client(lam, on_attempt=broken) as client:
            result = await client.invoke("my-fn", payload={"n": 1})
        async with _client(lam, on_attempt=broken_async) as client:
            with pytest.raises(ResourceNotFoundError):
                await client.get_alias("my-fn", "missing")
    assert result.json() == {"n": 1}
    assert calls == [1, 2]  # the throttled attempt was retried all the same
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert all(r.name == "lambdaclient" and r.exc_info for r in warnings)
    assert "Invoke attempt 1: HTTP 429 TooManyRequestsException" in warnings[0].getMessage()
    assert isinstance(warnings[2].exc_info[1] if warnings[2].exc_info else None, KeyError)


async def test_the_debug_line_is_the_attempt(
    lam: LocalLambda, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[Attempt] = []
    lam.inject("GetFunctionConfiguration", Throttle(0), times=5)
    with caplog.at_level(logging.DEBUG, logger="lambdaclient"):
        async with _client(lam, on_attempt=attempts.append) as client:
            with pytest.raises(TooManyRequestsError):
                await client.get_function_configuration("my-fn")
    lines = [r.getMessage() for r in caplog.records if " attempt " in r.getMessage()]
    assert lines == [attempt.describe() for attempt in attempts]
    assert [a.will_retry for a in attempts] == [True, True, False]


def test_hooks_and_providers_are_checked() -> None:
    with pytest.raises(ValidationError, match="on_attempt"):
        LambdaClient("us-east-1", credentials=CREDENTIALS, on_attempt="print")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tracer_provider"):
        CloudWatchClient("us-east-1", credentials=CREDENTIALS, tracer_provider=object())  # type: ignore[arg-type]


_WITHOUT_OPENTELEMETRY = """
import asyncio, sys

hidden = [name for name in sys.modules if name.split(".")[0] == "opentelemetry"]
assert not hidden, hidden
sys.modules["opentelemetry"] = None  # as if the otel extra were not installed

from lambdaclient import Credentials, LambdaClient, ValidationError

async def main() -> None:
    attempts = []
    async with LambdaClient(
        "us-east-1",
        endpoint_url=sys.argv[1],
        credentials=Credentials(*sys.argv[2:]),
        on_attempt=attempts.append,
    ) as client:
        result = await client.invoke("my-fn", payload={"n": 1})
        async with client.invoke_stream("my-fn", payload=b"{}") as response:
            await response.read()
    assert sys.modules["opentelemetry"] is None  # nothing got past the hidden package
    print(result.json(), [a.status for a in attempts])
    try:
        LambdaClient("us-east-1", credentials=Credentials("a", "b"), tracer_provider=object())
    except ValidationError as error:
        print(error)

asyncio.run(main())
"""

_WITH_A_GLOBAL_PROVIDER = """
import asyncio, sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lambdaclient import Credentials, LambdaClient

async def main() -> None:
    # A client made before the application sets its provider still uses it.
    client = LambdaClient(
        "us-east-1", endpoint_url=sys.argv[1], credentials=Credentials(*sys.argv[2:])
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    async with client:
        await client.invoke("my-fn", payload={"n": 1})
    print([span.name for span in exporter.get_finished_spans()])

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            _WITHOUT_OPENTELEMETRY,
            "{'n': 1} [200, 200]\n"
            "tracer_provider needs OpenTelemetry: pip install 'lambdaclient[otel]'\n",
        ),
        (_WITH_A_GLOBAL_PROVIDER, "['Lambda.Invoke']\n"),
    ],
    ids=["without-opentelemetry", "global-provider"],
)
async def test_in_a_fresh_interpreter(lam: LocalLambda, script: str, expected: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        lam.endpoint_url,
        lam.credentials.access_key_id,
        lam.credentials.secret_access_key,
        TOKEN,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert out.decode() == expected
