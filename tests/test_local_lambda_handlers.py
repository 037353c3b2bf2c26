"""Handlers registered from Python on LocalLambda, run in its process: the function's timeout
holds for sync and async handlers, a sync handler never blocks the server, and no
``sys.exit()`` or ``KeyboardInterrupt`` in a handler reaches the server, for plain, streaming
and Event invocations. Over real sockets, with lambdaclient's own client."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import pytest

from lambdaclient import InvocationType, LambdaClient, LogType
from lambdaclient.testing import LambdaContext, LocalLambda


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda() as server:
        yield server


@pytest.fixture
async def client(lam: LocalLambda) -> AsyncIterator[LambdaClient]:
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
    ) as client:
        yield client


def exit_error(request_id: str | None, reason: str) -> dict[str, str]:
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {reason}",
    }


def exits(event: Any, context: LambdaContext) -> NoReturn:
    raise SystemExit(event.get("code", 0))


def interrupted(event: Any, context: LambdaContext) -> NoReturn:
    raise KeyboardInterrupt


async def exits_async(event: Any, context: LambdaContext) -> NoReturn:
    raise SystemExit(2)


async def exits_mid_stream(event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise SystemExit(0)


@pytest.mark.parametrize(
    ("handler", "event", "reason"),
    [
        (exits, {}, "Runtime exited without providing a reason"),
        (exits, {"code": 4}, "Runtime exited with error: exit status 4"),
        (interrupted, {}, "Runtime exited with error: exit status 1"),
        (exits_async, {}, "Runtime exited with error: exit status 2"),
    ],
)
async def test_an_exiting_handler_answers_exit_error(
    lam: LocalLambda, client: LambdaClient, handler: Any, event: Any, reason: str
) -> None:
    lam.add_function("fn", handler)
    result = await client.invoke("fn", payload=event)
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == exit_error(result.request_id, reason)
    lam.add_function("ok", lambda event, context: "still serving")
    assert json.loads((await client.invoke("ok")).payload) == "still serving"


async def stream_failure(client: LambdaClient, name: str) -> tuple[list[bytes], Any]:
    """The chunks a streaming invocation sent, and the error its InvokeComplete reported."""
    async with client.invoke_with_response_stream(name) as stream:
        chunks = [chunk async for chunk in stream]
    assert stream.complete is not None
    assert stream.complete.error_code == "Unhandled"
    assert stream.complete.error_details is not None
    return chunks, json.loads(stream.complete.error_details)


async def test_an_exit_mid_stream_ends_the_stream_with_exit_error(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", exits_mid_stream)
    chunks, error = await stream_failure(client, "fn")
    assert chunks == [b"first"]
    assert error["errorType"] == "Runtime.ExitError"


async def test_an_exiting_event_invocation_leaves_the_server_running(
    lam: LocalLambda, client: LambdaClient
) -> None:
    ran = asyncio.Event()

    async def exits_after_signal(event: Any, context: LambdaContext) -> NoReturn:
        ran.set()
        raise SystemExit(1)

    lam.add_function("fn", exits_after_signal)
    await client.invoke("fn", invocation_type=InvocationType.EVENT)
    await asyncio.wait_for(ran.wait(), 5)
    lam.add_function("ok", lambda event, context: 1)
    assert json.loads((await client.invoke("ok")).payload) == 1


async def test_a_sync_handler_does_not_block_other_calls(
    lam: LocalLambda, client: LambdaClient
) -> None:
    release = threading.Event()

    def blocks(event: Any, context: LambdaContext) -> str:
        release.wait(10)
        return "released"

    lam.add_function("blocks", blocks, timeout=30)
    lam.add_function("quick", lambda event, context: "quick")
    blocked = asyncio.create_task(client.invoke("blocks"))
    for _ in range(3):
        assert json.loads((await client.invoke("quick")).payload) == "quick"
    assert not blocked.done()
    release.set()
    assert json.loads((await blocked).payload) == "released"


def sleeps_forever(event: Any, context: LambdaContext) -> None:
    time.sleep(3600)


async def sleeps_forever_async(event: Any, context: LambdaContext) -> None:
    await asyncio.sleep(3600)


async def streams_forever(event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
    yield b"start"
    await asyncio.sleep(3600)


@pytest.mark.parametrize("handler", [sleeps_forever, sleeps_forever_async])
async def test_a_handler_past_its_timeout_answers_aws_timeout_error(
    lam: LocalLambda, client: LambdaClient, handler: Any
) -> None:
    lam.add_function("fn", handler, timeout=1)
    result = await client.invoke("fn")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }


async def test_a_streaming_handler_past_its_timeout_ends_with_the_timeout_error(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", streams_forever, timeout=1)
    chunks, error = await stream_failure(client, "fn")
    assert chunks == [b"start"]
    assert error["errorType"] == "Sandbox.Timedout"


async def test_a_streaming_handlers_own_connection_error_is_its_failure(
    lam: LocalLambda, client: LambdaClient
) -> None:
    async def calls_a_closed_port(event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
        yield b"start"
        raise ConnectionRefusedError("downstream refused")

    lam.add_function("fn", calls_a_closed_port)
    chunks, error = await stream_failure(client, "fn")
    assert chunks == [b"start"]
    assert error["errorType"] == "ConnectionRefusedError"


async def test_stop_cancels_event_invocations_after_the_grace_period(
    client: LambdaClient,
) -> None:
    cancelled = asyncio.Event()

    async def waits(event: Any, context: LambdaContext) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    lam = LocalLambda(shutdown_grace=0.2)
    await lam.start()
    lam.add_function("fn", waits, timeout=900)
    lam.add_function("sync", sleeps_forever, timeout=900)
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
    ) as own:
        await own.invoke("fn", invocation_type=InvocationType.EVENT)
        await own.invoke("sync", invocation_type=InvocationType.EVENT)
    started = time.monotonic()
    await asyncio.wait_for(lam.stop(), 10)
    assert cancelled.is_set()
    assert time.monotonic() - started < 5


async def test_a_result_that_is_not_json_is_a_marshal_error(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("a-set", lambda event, context: {1, 2})
    lam.add_function("object", lambda event, context: object())
    for name in ("a-set", "object"):
        result = await client.invoke(name)
        assert result.function_error == "Unhandled"
        error = json.loads(result.payload)
        assert error["errorType"] == "Runtime.MarshalError"
        assert error["errorMessage"].startswith("Unable to marshal response: ")


async def test_the_tail_of_a_handler_printing_without_end_is_its_last_output(
    lam: LocalLambda, client: LambdaClient
) -> None:
    def prints_a_lot(event: Any, context: LambdaContext) -> str:
        for line in range(200_000):
            print(f"line {line}")
        return "done"

    lam.add_function("fn", prints_a_lot)
    result = await client.invoke("fn", log_type=LogType.TAIL)
    assert result.log_result is not None
    assert "line 199999\n" in result.log_result
    assert "line 0\n" not in result.log_result


async def test_a_handlers_own_timeout_error_is_its_error_not_the_functions_timeout(
    lam: LocalLambda, client: LambdaClient
) -> None:
    async def times_out_downstream(event: Any, context: LambdaContext) -> None:
        raise TimeoutError("downstream took too long")

    lam.add_function("fn", times_out_downstream)
    error = json.loads((await client.invoke("fn")).payload)
    assert (error["errorType"], error["errorMessage"]) == (
        "TimeoutError",
        "downstream took too long",
    )


@pytest.mark.parametrize("grace", [-1, math.nan, math.inf, True, "1"])
def test_a_shutdown_grace_that_is_no_duration_is_refused(grace: Any) -> None:
    with pytest.raises(ValueError, match=r"shutdown_grace must be a finite number of seconds"):
        LocalLambda(shutdown_grace=grace)
