"""Function management over the wire, driven by boto3 over a real socket on 127.0.0.1: a
function created from a zip built here, updated, published, routed by a weighted alias, and
run in worker processes whose crashes, exits and hangs never reach the server."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest

from lambdaclient.testing import LocalLambda
from tests.local_lambda_process import local_lambda_process
from tests.packages import package
from tests.test_boto3_local_lambda import Boto3Lambda, boto3_lambda

ROLE = "arn:aws:iam::123456789012:role/app"


GREET_V1 = """
    import os

    def handler(event, context):
        print("greeting", event["name"])
        return {"version": 1, "hello": event["name"], "stage": os.environ.get("STAGE")}
"""
GREET_V2 = GREET_V1.replace('"version": 1', '"version": 2')


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda(seed=7) as server:
        yield server


@pytest.fixture
async def aws(lam: LocalLambda) -> AsyncIterator[Boto3Lambda]:
    async with boto3_lambda(lam) as client:
        yield client


async def create(aws: Boto3Lambda, name: str, source: str, **params: Any) -> dict[str, Any]:
    request = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": package(source)},
        **params,
    }
    return await aws("create_function", **request)


async def invoke(aws: Boto3Lambda, name: str, event: Any = None, **params: Any) -> dict[str, Any]:
    response = await aws(
        "invoke", FunctionName=name, Payload=json.dumps(event or {}).encode(), **params
    )
    response["Payload"] = json.loads(response["Payload"])
    return response


async def test_the_lifecycle_of_a_zip_function(aws: Boto3Lambda) -> None:
    created = await create(
        aws,
        "greet",
        GREET_V1,
        Description="greets",
        Timeout=5,
        MemorySize=256,
        Environment={"Variables": {"STAGE": "one"}},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending"  # as AWS answers a function being created
    zipped = package(GREET_V1)
    assert created["CodeSize"] == len(zipped)
    assert created["Environment"] == {"Variables": {"STAGE": "one"}}
    assert (created["Timeout"], created["MemorySize"]) == (5, 256)

    got = await aws("get_function", FunctionName="greet")
    assert got["Configuration"]["State"] == "Active"
    assert got["Code"]["RepositoryType"] == "S3"

    v1 = await aws("publish_version", FunctionName="greet")
    assert v1["Version"] == "1"
    updated = await aws("update_function_code", FunctionName="greet", ZipFile=package(GREET_V2))
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["CodeSha256"] != v1["CodeSha256"]
    v2 = await aws("publish_version", FunctionName="greet")
    assert v2["Version"] == "2"

    await aws(
        "create_alias",
        FunctionName="greet",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen = set()
    for _ in range(40):
        response = await invoke(aws, "greet", {"name": "ada"}, Qualifier="live")
        assert response["Payload"]["version"] == int(response["ExecutedVersion"])
        assert response["Payload"]["stage"] == "one"
        seen.add(response["ExecutedVersion"])
    assert seen == {"1", "2"}

    await aws("delete_alias", FunctionName="greet", Name="live")
    deleted = await aws("delete_function", FunctionName="greet")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    gone = await aws.error("get_function", FunctionName="greet")
    assert gone["Error"]["Code"] == "ResourceNotFoundException"


async def test_print_and_logging_reach_the_tail(aws: Boto3Lambda) -> None:
    source = """
        import logging

        def handler(event, context):
            print("printed")
            logging.getLogger().warning("logged")
            return context.aws_request_id
    """
    await create(aws, "talk", source)
    response = await invoke(aws, "talk", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "printed\n" in log
    assert "[WARNING]\tlogged\n" in log
    assert f"START RequestId: {response['Payload']} Version: $LATEST" in log


async def test_a_timeout_answers_aws_error_and_the_next_call_runs(aws: Boto3Lambda) -> None:
    source = """
        import time

        def handler(event, context):
            if event.get("sleep"):
                time.sleep(60)
            return "awake"
    """
    await create(aws, "sleepy", source, Timeout=1)
    response = await invoke(aws, "sleepy", {"sleep": True})
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Sandbox.Timedout"
    assert response["Payload"]["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert (await invoke(aws, "sleepy"))["Payload"] == "awake"


async def test_a_handler_error_is_the_payload(aws: Boto3Lambda) -> None:
    await create(aws, "fail", "def handler(event, context):\n    raise KeyError('gone')\n")
    response = await invoke(aws, "fail")
    assert response["FunctionError"] == "Unhandled"
    payload = response["Payload"]
    assert (payload["errorType"], payload["errorMessage"]) == ("KeyError", "'gone'")
    assert payload["requestId"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert len(payload["stackTrace"]) == 1
    assert "app.py" in payload["stackTrace"][0]


@pytest.mark.parametrize(
    ("source", "handler", "error_type", "message"),
    [
        ("", "missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing'"),
        ("import nothing_here\n", "app.handler", "Runtime.ImportModuleError", "No module named"),
        ("x = 1\n", "app.handler", "Runtime.HandlerNotFound", "Handler 'handler' missing on"),
        ("raise ValueError('boom')\n", "app.handler", "ValueError", "boom"),
    ],
)
async def test_a_package_that_does_not_load_fails_at_invoke(
    aws: Boto3Lambda, source: str, handler: str, error_type: str, message: str
) -> None:
    await create(aws, "broken", source, Handler=handler)
    for _ in range(2):  # every invocation answers alike
        response = await invoke(aws, "broken")
        assert response["FunctionError"] == "Unhandled"
        assert response["Payload"]["errorType"] == error_type
        assert message in response["Payload"]["errorMessage"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("sys.exit(0)", "Runtime exited without providing a reason"),
        ("sys.exit(3)", "Runtime exited with error: exit status 3"),
        ("os.abort()", "Runtime exited with error: signal: aborted"),
        ("raise KeyboardInterrupt", "Runtime exited with error: exit status 1"),
    ],
)
async def test_a_worker_that_ends_answers_exit_error_and_restarts(
    aws: Boto3Lambda, body: str, reason: str
) -> None:
    source = f"""
        import os, sys

        def handler(event, context):
            if event.get("end"):
                {body}
            return 1
    """
    await create(aws, "ender", source)
    response = await invoke(aws, "ender", {"end": True})
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {response['ResponseMetadata']['RequestId']} Error: {reason}",
    }
    assert (await invoke(aws, "ender"))["Payload"] == 1


async def test_a_hanging_function_does_not_stop_other_calls(aws: Boto3Lambda) -> None:
    await create(aws, "hang", "import time\ndef handler(e, c):\n    time.sleep(60)\n", Timeout=3)
    await create(aws, "quick", "def handler(e, c):\n    return 'quick'\n")
    hanging = asyncio.create_task(invoke(aws, "hang"))
    await invoke(aws, "quick")  # a cold start first
    for _ in range(5):
        assert (await invoke(aws, "quick"))["Payload"] == "quick"
    assert not hanging.done()
    assert (await hanging)["Payload"]["errorType"] == "Sandbox.Timedout"


async def test_a_result_that_is_not_json_is_a_marshal_error(aws: Boto3Lambda) -> None:
    await create(aws, "a-set", "def handler(e, c):\n    return {1, 2}\n")
    payload = (await invoke(aws, "a-set"))["Payload"]
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"].startswith("Unable to marshal response:")


async def test_nan_is_written_as_lambdas_runtime_writes_it(aws: Boto3Lambda) -> None:
    # Lambda's Python runtime encodes with allow_nan: NaN is not an error there.
    await create(aws, "nan", "def handler(e, c):\n    return [float('nan'), float('inf')]\n")
    not_a_number, infinite = (await invoke(aws, "nan"))["Payload"]
    assert math.isnan(not_a_number)
    assert infinite == math.inf


async def test_update_configuration_changes_what_the_worker_sees(aws: Boto3Lambda) -> None:
    await create(aws, "greet", GREET_V1, Environment={"Variables": {"STAGE": "one"}})
    assert (await invoke(aws, "greet", {"name": "a"}))["Payload"]["stage"] == "one"
    updated = await aws(
        "update_function_configuration",
        FunctionName="greet",
        Environment={"Variables": {"STAGE": "two"}},
        Description="second",
    )
    assert updated["Description"] == "second"
    assert (await invoke(aws, "greet", {"name": "a"}))["Payload"]["stage"] == "two"


async def test_list_functions_pages_and_lists_versions(aws: Boto3Lambda) -> None:
    for index in range(3):
        await create(aws, f"fn-{index}", GREET_V1)
    await aws("publish_version", FunctionName="fn-0")
    pages = await aws.pages("list_functions", PaginationConfig={"PageSize": 2})
    assert [len(page["Functions"]) for page in pages] == [2, 1]
    assert {f["FunctionArn"].rsplit(":", 1)[1] for p in pages for f in p["Functions"]} == {
        "fn-0",
        "fn-1",
        "fn-2",
    }
    every = await aws("list_functions", FunctionVersion="ALL")
    assert [f["Version"] for f in every["Functions"]] == ["$LATEST", "1", "$LATEST", "$LATEST"]
    assert every["Functions"][1]["FunctionArn"].endswith(":fn-0:1")


async def test_delete_a_version(aws: Boto3Lambda) -> None:
    await create(aws, "greet", GREET_V1, Publish=True)
    latest = await aws.error("delete_function", FunctionName="greet", Qualifier="$LATEST")
    assert latest["Error"]["Message"] == (
        "$LATEST version cannot be deleted without deleting the function."
    )
    await aws("delete_function", FunctionName="greet", Qualifier="1")
    await aws("delete_function", FunctionName="greet", Qualifier="1")  # idempotent, as AWS
    versions = await aws("list_versions_by_function", FunctionName="greet")
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST"]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            {"Runtime": "nodejs20.x"},
            "InvalidParameterValueException",
            "LocalLambda runs Python functions only",
        ),
        (
            {"Runtime": "python3.7"},
            "InvalidParameterValueException",
            "The runtime parameter of python3.7 is no longer supported",
        ),
        (
            {"Runtime": "PYTHON3.9"},
            "InvalidParameterValueException",
            "Value PYTHON3.9 at 'runtime' failed to satisfy constraint",
        ),
        (
            {"Code": {"ZipFile": b"not a zip"}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ),
        ({"Role": "r1"}, "ValidationException", "Value 'r1' at 'role' failed to satisfy"),
        (
            {"Environment": {"Variables": {"SMALL": "ok", "LARGE": "x" * 4077}}},
            "InvalidParameterValueException",
            'exceeded the 4KB limit. String measured: {"SMALL":"ok","LARGE":"xxx',
        ),
        ({"MemorySize": 64}, "ValidationException", "at 'memorySize' failed to satisfy"),
    ],
)
async def test_create_refuses_what_aws_refuses(
    lam: LocalLambda, params: dict[str, Any], code: str, message: str
) -> None:
    async with boto3_lambda(lam, parameter_validation=False) as aws:
        request = {
            "FunctionName": "bad",
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": package(GREET_V1)},
            **params,
        }
        error = await aws.error("create_function", **request)
    assert error["Error"]["Code"] == code
    assert message in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


async def test_creating_a_function_twice_is_a_conflict(aws: Boto3Lambda) -> None:
    await create(aws, "greet", GREET_V1)
    error = await aws.error(
        "create_function",
        FunctionName="greet",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": package(GREET_V1)},
    )
    assert error["Error"] == {
        "Code": "ResourceConflictException",
        "Message": "Function already exist: greet",
    }


async def test_event_and_streaming_invocations_of_a_zip_function(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    await create(aws, "greet", GREET_V1)
    accepted = await aws(
        "invoke", FunctionName="greet", InvocationType="Event", Payload=b'{"name": "ev"}'
    )
    assert accepted["StatusCode"] == 202
    streamed = await aws(
        "invoke_with_response_stream", FunctionName="greet", Payload=b'{"name": "st"}'
    )
    events = streamed["EventStream"]
    chunks = b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e)
    assert json.loads(chunks)["hello"] == "st"
    assert events[-1]["InvokeComplete"].get("ErrorCode") is None
    for _ in range(100):  # the Event invocation runs in the background
        if lam.executions("greet", "$LATEST") == 2:
            break
        await asyncio.sleep(0.05)
    assert lam.executions("greet", "$LATEST") == 2


async def test_ctrl_c_stops_the_server_while_an_event_invocation_runs() -> None:
    # local_lambda_process sends SIGINT on leaving and checks a clean exit within 20 s; the
    # Event invocation would run for a minute, in a worker process.
    async with local_lambda_process() as exported:
        client = await asyncio.to_thread(
            boto3.client,
            "lambda",
            region_name=exported["AWS_DEFAULT_REGION"],
            endpoint_url=exported["AWS_ENDPOINT_URL_LAMBDA"],
            aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
        )
        try:
            aws = Boto3Lambda(client)
            await create(aws, "sleepy", "import time\ndef handler(e, c):\n    time.sleep(60)\n")
            accepted = await aws("invoke", FunctionName="sleepy", InvocationType="Event")
            assert accepted["StatusCode"] == 202
        finally:
            await asyncio.to_thread(client.close)


async def test_the_context_a_zip_handler_receives(aws: Boto3Lambda) -> None:
    source = """
        def handler(event, context):
            return {
                "name": context.function_name,
                "version": context.function_version,
                "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb,
                "custom": context.client_context.custom,
                "remaining": 0 < context.get_remaining_time_in_millis() <= 5000,
            }
    """
    await create(aws, "ctx", source, Timeout=5, MemorySize=256, Publish=True)
    await aws("create_alias", FunctionName="ctx", Name="live", FunctionVersion="1")
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = await invoke(aws, "ctx", Qualifier="live", ClientContext=client_context)
    assert response["Payload"] == {
        "name": "ctx",
        "version": "1",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:ctx:live",
        "memory": 256,
        "custom": {"k": "v"},
        "remaining": True,
    }


async def test_a_slow_init_does_not_count_against_the_timeout(aws: Boto3Lambda) -> None:
    # The module takes longer to load than the function's Timeout; Lambda times the init
    # phase apart (up to 10 s).
    source = """
        import time
        time.sleep(1.2)

        def handler(event, context):
            return "ready"
    """
    await create(aws, "slow-init", source, Timeout=1)
    for _ in range(2):
        response = await invoke(aws, "slow-init")
        assert response.get("FunctionError") is None
        assert response["Payload"] == "ready"


async def test_a_response_too_large_to_read_answers_response_size_too_large(
    aws: Boto3Lambda,
) -> None:
    # Quotes are escaped twice on the way out of the worker: 3.5 MB of them make a frame
    # of 14 MB, past what LocalLambda reads.
    source = """
        def handler(event, context):
            return '"' * 3_500_000 if event.get("big") else "small"
    """
    await create(aws, "big", source)
    response = await invoke(aws, "big", {"big": True})
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size"
        " (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    assert (await invoke(aws, "big"))["Payload"] == "small"


SLEEP_TWO = """
    import time

    def handler(event, context):
        time.sleep(2)
        return "done"
"""


async def wait_for_executions(lam: LocalLambda, name: str, count: int) -> None:
    for _ in range(200):
        if lam.executions(name, "$LATEST") >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} did not reach {count} executions")


async def test_past_max_concurrency_sync_calls_are_throttled_and_events_queue() -> None:
    async with (
        LocalLambda(max_concurrency=1) as lam,
        boto3_lambda(lam) as first,
        boto3_lambda(lam) as second,
    ):
        await create(first, "busy", SLEEP_TWO)
        running = asyncio.create_task(invoke(first, "busy"))
        await wait_for_executions(lam, "busy", 1)

        error = await second.error("invoke", FunctionName="busy")
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert error["Error"]["Message"] == "Rate Exceeded."

        queued = await second("invoke", FunctionName="busy", InvocationType="Event")
        assert queued["StatusCode"] == 202
        assert lam.executions("busy", "$LATEST") == 1  # waiting for the slot, not running
        assert (await running)["Payload"] == "done"
        await wait_for_executions(lam, "busy", 2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_max_concurrency_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="max_concurrency must be a positive integer"):
        LocalLambda(max_concurrency=bad)  # type: ignore[arg-type]


def child_processes() -> set[int]:
    """The processes whose parent is this one."""
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == os.getpid():
                children.add(int(entry))
    return children


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_stop_refuses_new_requests_at_once_and_leaves_no_worker() -> None:
    before = child_processes()
    lam = LocalLambda(shutdown_grace=1)
    await lam.start()
    try:
        async with boto3_lambda(lam) as aws:
            await create(aws, "sleepy", "import time\ndef handler(e, c):\n    time.sleep(60)\n")
            accepted = await aws("invoke", FunctionName="sleepy", InvocationType="Event")
            assert accepted["StatusCode"] == 202
            await wait_for_executions(lam, "sleepy", 1)
            for _ in range(200):  # the worker process is up
                if child_processes() - before:
                    break
                await asyncio.sleep(0.05)
            assert child_processes() - before
    finally:
        stopping = asyncio.create_task(lam.stop())
        await asyncio.sleep(0.2)  # within the grace period: the Event invocation still runs
        assert not stopping.done()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((lam.host, lam.port), timeout=5).close()
        await stopping
    assert child_processes() <= before
