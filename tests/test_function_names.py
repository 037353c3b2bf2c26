"""A function given by name, partial ARN, ARN or qualified name: the bare name is what
CloudWatch's dimensions hold, and a qualified name is no function to shift."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdaclient import Credentials, LambdaClient, RoutingConfig
from lambdaclient.cloudwatch import CloudWatchClient
from lambdaclient.errors import ValidationError
from lambdaclient.shifting import Canary, MetricsGate, StepContext, shift_traffic
from lambdaclient.testing import LocalLambda, MockTransport
from lambdaclient.transport import Request, Response

FN = "orders"


def v1(event: Any, context: Any) -> Any:
    return 1


def v2(event: Any, context: Any) -> Any:
    return 2


async def test_metrics_gate_reads_the_function_however_it_is_named() -> None:
    async with LocalLambda(seed=1, metrics_delay=0) as lam:
        settings: dict[str, Any] = {
            "credentials": lam.credentials,
            "endpoint_url": lam.endpoint_url,
        }
        async with (
            LambdaClient(lam.region, **settings) as client,
            CloudWatchClient(lam.region, **settings) as cloudwatch,
        ):
            for handler in (v1, v2):
                lam.add_function(FN, handler)
                lam.publish_version(FN)
            await client.create_alias(
                FN, "live", function_version="1", routing_config=RoutingConfig({"2": 0.5})
            )
            started = datetime.now(UTC) - timedelta(seconds=1)
            for _ in range(20):
                await client.invoke(FN, payload={}, qualifier="live")
            await asyncio.sleep(1)  # past the last one-second period
            gate = MetricsGate(cloudwatch, period=1, settle=0, max_error_rate=0.5)
            arn = (await client.get_function_configuration(FN)).function_arn
            assert arn is not None
            counts = []
            for name in (FN, f"{FN}:live", f"{FN}:2", arn, f"{arn}:live"):
                step = StepContext(client, name, "live", "1", "2", 0, 0.5, 1, started=started)
                reading = (await gate(step)).metrics
                assert reading is not None
                window = reading.verdict.tally.total
                counts.append((window.old_invocations, window.new_invocations))
    assert sum(counts[0]) == 20
    assert counts == [counts[0]] * 5


@pytest.mark.parametrize(
    "name", [f"{FN}:live", f"{FN}:7", f"arn:aws:lambda:us-east-1:123456789012:function:{FN}:live"]
)
async def test_shift_traffic_refuses_a_qualified_function_before_any_request(name: str) -> None:
    sent: list[Request] = []

    def answer(request: Request) -> Response:
        sent.append(request)
        return Response(500, {}, b"")

    async with LambdaClient(
        "us-east-1", credentials=Credentials("AKID", "secret"), transport=MockTransport(answer)
    ) as client:
        with pytest.raises(ValidationError) as raised:
            await shift_traffic(
                client, name, "live", to_version="2", strategy=Canary(0.1, timedelta(minutes=1))
            )
    assert raised.value.field == "function_name"
    assert "names a version or alias" in str(raised.value)
    assert sent == []
