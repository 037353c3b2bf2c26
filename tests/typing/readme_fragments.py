"""The README's fragments, each the body of a function that gives it what it needs: an open
``client`` and, for streams, a ``sink``. mypy --strict checks them here, and
tests/test_readme.py runs them against LocalLambda and checks that each body is, line for
line, its README block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO, Protocol

from lambdaclient import LambdaClient
from lambdaclient.cloudwatch import CloudWatchClient


class SecretsStore(Protocol):
    """The async client of a secrets store that leases temporary AWS credentials."""

    async def lease(self, path: str) -> Mapping[str, Any]: ...


async def invoking_functions(client: LambdaClient, sink: BinaryIO) -> None:
    from lambdaclient import InvocationType, LogType

    result = await client.invoke("my-fn", payload={"order": 42}, qualifier="live")
    result.status_code  # 200; 202 for InvocationType.EVENT, 204 for DRY_RUN
    result.executed_version  # the version that ran: where the weighted alias sent this call
    result.payload  # bytes; result.json() decodes them
    result.function_error  # "Unhandled" (or similar) when the function failed, else None
    result.raise_for_function_error()  # FunctionError(error_type, error_message, stack_trace, ...)

    queued = await client.invoke("my-fn", payload={}, invocation_type=InvocationType.EVENT)
    queued.status_code  # 202: accepted; the function runs on its own
    tail = await client.invoke("my-fn", qualifier="live", log_type=LogType.TAIL)
    print(tail.log_result)  # the end of the function's log

    # The headers first, then the payload as it arrives, never held whole:
    async with client.invoke_stream("my-fn", payload=b"{}", qualifier="live") as response:
        print(response.executed_version)
        async for chunk in response.iter_chunks():
            sink.write(chunk)

    # Functions that stream their response (InvokeWithResponseStream):
    async with client.invoke_with_response_stream("my-fn", payload={}, qualifier="live") as stream:
        async for chunk in stream:  # the bytes of each PayloadChunk event
            sink.write(chunk)
    stream.complete  # InvokeComplete(error_code, error_details, log_result)


async def rolling_out_a_new_version(client: LambdaClient) -> None:
    from datetime import timedelta

    from lambdaclient.shifting import InvokeProbe, Linear, shift_traffic

    result = await shift_traffic(
        client,
        "my-fn",
        "live",
        to_version="7",
        strategy=Linear(step=0.1, interval=timedelta(minutes=1)),  # 10%, 20%, ... 90%, then 100%
        health_check=InvokeProbe(payload={"ping": True}),
        on_progress=lambda event: print(event.kind.value, f"{event.weight:.0%}", event.message),
    )
    if result.rolled_back:
        print("rolled back:", result.reason, result.stats)


async def gating_on_alarms(client: LambdaClient, cloudwatch: CloudWatchClient) -> None:
    from datetime import UTC, datetime, timedelta
    from math import fsum

    from lambdaclient.cloudwatch import Dimension, Metric, MetricDataQuery
    from lambdaclient.shifting import AlarmGate, InvokeProbe, Linear, all_of, shift_traffic

    result = await shift_traffic(
        client,
        "my-fn",
        "live",
        to_version="7",
        strategy=Linear(step=0.25, interval=timedelta(minutes=5)),
        health_check=all_of(
            InvokeProbe(payload={"ping": True}),
            AlarmGate(["my-fn-errors"], cloudwatch=cloudwatch, poll_interval=15),
        ),
    )
    print(result.completed, result.reason)

    # The calls each version took through the alias in the last hour:
    alias = (Dimension("FunctionName", "my-fn"), Dimension("Resource", "my-fn:live"))
    queries = [
        MetricDataQuery(
            f"v{v}",
            Metric("AWS/Lambda", "Invocations", (*alias, Dimension("ExecutedVersion", v))),
            "Sum",
        )
        for v in ("6", "7")
    ]
    end = datetime.now(UTC)
    results = await cloudwatch.get_metric_data(queries, end - timedelta(hours=1), end).collect()
    print({query_id: fsum(result.values) for query_id, result in results.items()})


async def waiting_for_a_new_version(client: LambdaClient) -> None:
    version = (await client.publish_version("my-fn")).version
    assert version is not None  # every field of FunctionConfiguration is optional
    ready = await client.wait_for_version_active("my-fn", version, timeout=600)
    print(ready.version, ready.state)  # e.g. 8 Active
    await client.wait_for_function_updated("my-fn")  # after UpdateFunctionCode/Configuration


async def your_own_credentials_provider(store: SecretsStore) -> None:
    from datetime import UTC, datetime, timedelta

    from lambdaclient import Credentials, LambdaClient

    class LeasedCredentials:
        """Temporary AWS credentials leased from a secrets store (`store`, its async client)."""

        async def load(self) -> Credentials:
            lease = await store.lease("aws/creds/deploy")
            return Credentials(
                lease["access_key"],
                lease["secret_key"],
                lease["security_token"],
                expiration=datetime.now(UTC) + timedelta(seconds=lease["lease_duration"]),
            )

    async with LambdaClient("us-east-1", credentials=LeasedCredentials()) as client:
        result = await client.invoke("my-fn", payload={"order": 42})
        print(result.json())
