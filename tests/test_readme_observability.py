import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lambdaclient import Attempt, LambdaClient
from lambdaclient.testing import LocalLambda, Throttle


@pytest.mark.asyncio
async def test_one_span_per_call_and_the_hook_sees_every_attempt() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # an application sets its own: trace.set_tracer_provider(...)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    attempts: list[Attempt] = []

    async with LocalLambda() as lam:
        lam.add_function("my-fn", lambda event, context: event)
        lam.inject("Invoke", Throttle(retry_after=0))  # the first attempt is throttled
        async with LambdaClient(
            lam.region,
            endpoint_url=lam.endpoint_url,
            credentials=lam.credentials,
            tracer_provider=provider,
            on_attempt=attempts.append,  # or an async function, awaited
        ) as client:
            await client.invoke("my-fn", payload={"order": 42}, qualifier="$LATEST")

    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert span.name == "Lambda.Invoke"
    assert attributes["faas.invoked_name"] == "my-fn"
    assert attributes["http.response.status_code"] == 200
    assert attributes["lambdaclient.attempts"] == 2
    assert [(a.number, a.status, a.error_type, a.will_retry) for a in attempts] == [
        (1, 429, "TooManyRequestsException", True),
        (2, 200, None, False),
    ]
