"""boto3 against LocalLambda, over a real socket on 127.0.0.1.

botocore serialises, signs and parses these requests with its own code and Lambda's service
model, none of which lambdaclient shares; so a test here passing proves that LocalLambda speaks
AWS's wire format (status codes, headers, JSON shapes, event-stream frames, error shapes), not
merely a dialect lambdaclient happens to understand.

boto3 is synchronous: every call runs in a worker thread (``asyncio.to_thread``) while
LocalLambda answers on the test's event loop. Response bodies (``Payload``, ``EventStream``)
are read in that thread too, since reading them on the loop would block the server that is
writing them.

The clients are built with ``retries={"total_max_attempts": 1}``: botocore's older
``max_attempts`` key counts *retries* (``max_attempts=1`` means two attempts), which would
retry an injected 429 and hide it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from lambdaclient.testing import LocalLambda, ServerError, Throttle

SEED = 20240531
ROLE = "arn:aws:iam::123456789012:role/app"


class Boto3Lambda:
    """One botocore Lambda client, used from worker threads one call at a time (a botocore
    client is safe to share between threads as long as calls do not overlap)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def run(self, work: Callable[[Any], Any]) -> Any:
        """``work(client)`` in a worker thread; for batches of calls, one thread hop."""
        return await asyncio.to_thread(work, self.client)

    async def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` and read any body in the worker thread."""

        def call(client: Any) -> dict[str, Any]:
            response: dict[str, Any] = getattr(client, operation)(**params)
            if isinstance(response.get("Payload"), StreamingBody):
                response["Payload"] = response["Payload"].read()
            if "EventStream" in response:
                response["EventStream"] = list(response["EventStream"])
            return response

        result: dict[str, Any] = await self.run(call)
        return result

    async def error(self, operation: str, **params: Any) -> dict[str, Any]:
        """The parsed error response of a call that must fail with a ``ClientError``."""
        with pytest.raises(ClientError) as caught:
            await self(operation, **params)
        response: dict[str, Any] = caught.value.response
        return response

    async def pages(self, operation: str, **params: Any) -> list[dict[str, Any]]:
        """Every page botocore's paginator for ``operation`` fetches."""
        result: list[dict[str, Any]] = await self.run(
            lambda client: list(client.get_paginator(operation).paginate(**params))
        )
        return result

    async def full_result(self, operation: str, **params: Any) -> dict[str, Any]:
        """The paginator's pages merged, with ``NextToken`` if its ``MaxItems`` cut it short."""
        result: dict[str, Any] = await self.run(
            lambda client: client.get_paginator(operation).paginate(**params).build_full_result()
        )
        return result


def _client(
    lam: LocalLambda,
    *,
    access_key: str | None = None,
    secret: str | None = None,
    parameter_validation: bool = True,
) -> Any:
    return boto3.client(
        "lambda",
        region_name=lam.region,
        endpoint_url=lam.endpoint_url,
        aws_access_key_id=access_key or lam.credentials.access_key_id,
        aws_secret_access_key=secret or lam.credentials.secret_access_key,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, parameter_validation=parameter_validation
        ),
    )


@contextlib.asynccontextmanager
async def boto3_lambda(
    lam: LocalLambda,
    *,
    access_key: str | None = None,
    secret: str | None = None,
    parameter_validation: bool = True,
) -> AsyncIterator[Boto3Lambda]:
    # Built in a thread (loading the service model takes a while) and closed at the end, so
    # no keep-alive socket outlives the test as a ResourceWarning.
    client = await asyncio.to_thread(
        _client,
        lam,
        access_key=access_key,
        secret=secret,
        parameter_validation=parameter_validation,
    )
    try:
        yield Boto3Lambda(client)
    finally:
        await asyncio.to_thread(client.close)


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda(seed=SEED) as server:
        yield server


@pytest.fixture
async def aws(lam: LocalLambda) -> AsyncIterator[Boto3Lambda]:
    async with boto3_lambda(lam) as client:
        yield client


def version_one(event: Any, context: Any) -> Any:
    return {"version": "1", "event": event, "function_version": context.function_version}


def version_two(event: Any, context: Any) -> Any:
    return {"version": "2", "event": event, "function_version": context.function_version}


def failing(event: Any, context: Any) -> Any:
    raise ValueError(f"bad order {event['order']}")


async def streaming(event: Any, context: Any) -> AsyncIterator[Any]:
    logging.getLogger("streaming-fn").warning("streaming %s parts", len(event["parts"]))
    for part in event["parts"]:
        yield part


async def streaming_then_failing(event: Any, context: Any) -> AsyncIterator[bytes]:
    yield b"partial"
    raise RuntimeError("stream broke")


async def two_versions(lam: LocalLambda, aws: Boto3Lambda, name: str = "fn") -> None:
    """``name`` with version 1 (version_one) and version 2 (version_two) published."""
    lam.add_function(name, version_one, role=ROLE)
    assert (await aws("publish_version", FunctionName=name))["Version"] == "1"
    lam.add_function(name, version_two, role=ROLE)
    assert (await aws("publish_version", FunctionName=name))["Version"] == "2"


def status(response: dict[str, Any]) -> int:
    code: int = response["ResponseMetadata"]["HTTPStatusCode"]
    return code


def assert_error(response: dict[str, Any], code: str, http_status: int) -> None:
    """The error parsed as botocore parses AWS's: code, message, status and request id."""
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"]
    assert status(response) == http_status
    request_id = response["ResponseMetadata"]["RequestId"]
    assert request_id
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id


# --- aliases and versions ---------------------------------------------------------------------


async def test_alias_lifecycle(lam: LocalLambda, aws: Boto3Lambda) -> None:
    await two_versions(lam, aws)
    # Nothing changed since version 2: Lambda hands back version 2 rather than publish a 3rd.
    assert (await aws("publish_version", FunctionName="fn"))["Version"] == "2"

    created = await aws(
        "create_alias",
        FunctionName="fn",
        Name="live",
        FunctionVersion="1",
        Description="production",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert status(created) == 201
    assert created["AliasArn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn:live"
    assert (created["Name"], created["FunctionVersion"], created["Description"]) == (
        "live",
        "1",
        "production",
    )
    assert created["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}

    fetched = await aws("get_alias", FunctionName="fn", Name="live")
    assert status(fetched) == 200
    fields = ("AliasArn", "Name", "FunctionVersion", "Description", "RoutingConfig", "RevisionId")
    assert {k: fetched[k] for k in fields} == {k: created[k] for k in fields}

    updated = await aws(
        "update_alias",
        FunctionName="fn",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
        RevisionId=fetched["RevisionId"],
    )
    assert status(updated) == 200
    assert updated["FunctionVersion"] == "2"
    assert updated["Description"] == "production"  # not sent, so kept
    assert "RoutingConfig" not in updated  # AWS omits it when there are no weights
    assert updated["RevisionId"] != fetched["RevisionId"]

    stale = await aws.error(
        "update_alias",
        FunctionName="fn",
        Name="live",
        Description="too late",
        RevisionId=fetched["RevisionId"],
    )
    assert_error(stale, "PreconditionFailedException", 412)
    assert (await aws("get_alias", FunctionName="fn", Name="live"))["Description"] == "production"

    duplicate = await aws.error("create_alias", FunctionName="fn", Name="live", FunctionVersion="1")
    assert_error(duplicate, "ResourceConflictException", 409)

    deleted = await aws("delete_alias", FunctionName="fn", Name="live")
    assert status(deleted) == 204
    assert deleted["ResponseMetadata"]["RequestId"]

    gone = await aws.error("get_alias", FunctionName="fn", Name="live")
    assert_error(gone, "ResourceNotFoundException", 404)
    # DeleteAlias is idempotent on AWS: a second delete answers 204 as well.
    assert status(await aws("delete_alias", FunctionName="fn", Name="live")) == 204


async def test_list_aliases_pages_with_max_items_and_next_marker(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    await two_versions(lam, aws)
    names = [f"alias-{i:02d}" for i in range(60)]
    await aws.run(
        lambda client: [
            client.create_alias(
                FunctionName="fn", Name=name, FunctionVersion="2" if i % 3 == 0 else "1"
            )
            for i, name in enumerate(names)
        ]
    )

    # Unasked, the server caps a page (at 50, as for versions) and says where to go on.
    first = await aws("list_aliases", FunctionName="fn")
    assert len(first["Aliases"]) == 50
    rest = await aws("list_aliases", FunctionName="fn", Marker=first["NextMarker"])
    assert "NextMarker" not in rest
    assert [a["Name"] for a in first["Aliases"] + rest["Aliases"]] == names

    # MaxItems is the page size on the wire.
    small = await aws("list_aliases", FunctionName="fn", MaxItems=7)
    assert [a["Name"] for a in small["Aliases"]] == names[:7]
    following = await aws("list_aliases", FunctionName="fn", MaxItems=7, Marker=small["NextMarker"])
    assert [a["Name"] for a in following["Aliases"]] == names[7:14]

    # botocore's paginator follows NextMarker to the end.
    pages = await aws.pages("list_aliases", FunctionName="fn", PaginationConfig={"PageSize": 25})
    assert [len(page["Aliases"]) for page in pages] == [25, 25, 10]
    assert [a["Name"] for page in pages for a in page["Aliases"]] == names

    # ... and with its own MaxItems (a total) stops early, handing back a token to resume.
    capped = await aws.full_result(
        "list_aliases", FunctionName="fn", PaginationConfig={"PageSize": 25, "MaxItems": 30}
    )
    taken = [a["Name"] for a in capped["Aliases"]]
    assert taken == names[:30]
    resumed = await aws.full_result(
        "list_aliases",
        FunctionName="fn",
        PaginationConfig={"PageSize": 25, "StartingToken": capped["NextToken"]},
    )
    assert "NextToken" not in resumed
    assert taken + [a["Name"] for a in resumed["Aliases"]] == names

    pointing_at_two = await aws.pages("list_aliases", FunctionName="fn", FunctionVersion="2")
    assert [a["Name"] for page in pointing_at_two for a in page["Aliases"]] == names[::3]


async def test_list_versions_by_function_paginator(lam: LocalLambda, aws: Boto3Lambda) -> None:
    lam.add_function("fn", version_one, role=ROLE, description="first")
    for description in ("one", "two", "three"):
        # A Description alone publishes nothing new (as on AWS); a change to $LATEST does.
        lam.add_function("fn", version_one, role=ROLE, description=f"latest {description}")
        await aws("publish_version", FunctionName="fn", Description=description)

    pages = await aws.pages(
        "list_versions_by_function", FunctionName="fn", PaginationConfig={"PageSize": 3}
    )
    assert [len(page["Versions"]) for page in pages] == [3, 1]
    versions = [v for page in pages for v in page["Versions"]]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2", "3"]
    assert [v["Description"] for v in versions] == ["latest three", "one", "two", "three"]
    assert {v["Role"] for v in versions} == {ROLE}
    assert all(v["FunctionName"] == "fn" for v in versions)
    # As AWS lists versions: State and LastUpdateStatus only come with a single version.
    assert not any("State" in v or "LastUpdateStatus" in v for v in versions)
    assert pages[0]["NextMarker"]
    assert "NextMarker" not in pages[-1]


async def test_get_function_configuration_with_qualifier(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    await two_versions(lam, aws)
    await aws("create_alias", FunctionName="fn", Name="live", FunctionVersion="1")

    latest = await aws("get_function_configuration", FunctionName="fn")
    assert latest["Version"] == "$LATEST"
    assert latest["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    one = await aws("get_function_configuration", FunctionName="fn", Qualifier="1")
    assert one["Version"] == "1"
    assert one["FunctionArn"].endswith(":function:fn:1")
    assert (await aws("get_function_configuration", FunctionName="fn", Qualifier="$LATEST"))[
        "Version"
    ] == "$LATEST"
    assert (await aws("get_function_configuration", FunctionName="fn", Qualifier="live"))[
        "Version"
    ] == "1"
    assert (await aws("get_function_configuration", FunctionName="fn:2"))["Version"] == "2"
    assert_error(
        await aws.error("get_function_configuration", FunctionName="fn", Qualifier="9"),
        "ResourceNotFoundException",
        404,
    )


# --- invoke --------------------------------------------------------------------------------


async def test_invoke_json_payload_and_executed_version(lam: LocalLambda, aws: Boto3Lambda) -> None:
    await two_versions(lam, aws)

    latest = await aws("invoke", FunctionName="fn", Payload=json.dumps({"order": 42}))
    assert latest["StatusCode"] == 200
    assert latest["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in latest
    assert json.loads(latest["Payload"]) == {
        "version": "2",
        "event": {"order": 42},
        "function_version": "$LATEST",
    }
    assert latest["ResponseMetadata"]["RequestId"]

    # A published version keeps the handler it was published with.
    one = await aws("invoke", FunctionName="fn", Qualifier="1", Payload=b'{"order": 1}')
    assert one["ExecutedVersion"] == "1"
    assert json.loads(one["Payload"])["version"] == "1"
    assert (lam.executions("fn", "$LATEST"), lam.executions("fn", "1")) == (1, 1)


async def test_invoke_function_error_payload(lam: LocalLambda, aws: Boto3Lambda) -> None:
    lam.add_function("fails", failing)

    result = await aws("invoke", FunctionName="fails", Payload=json.dumps({"order": 7}))

    assert result["StatusCode"] == 200  # a function error is not an HTTP error
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"])
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad order 7"
    # As Lambda's Python runtime answers (test_lambda_handler_error): the invocation's request
    # id, and only the handler's frames, each "  File ..., in <name>\n    <code>\n".
    assert error["requestId"] == result["ResponseMetadata"]["RequestId"]
    assert len(error["stackTrace"]) == 1
    frame = error["stackTrace"][0]
    assert frame.startswith('  File "')
    assert frame.endswith("\n")
    assert ", in failing\n    raise ValueError(" in frame


async def test_invoke_function_error_trace_starts_at_the_handler_and_is_logged(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    def inner(order: int) -> None:
        raise KeyError(order)

    async def outer(event: Any, context: Any) -> Any:
        inner(event["order"])

    lam.add_function("fn", outer)
    result = await aws("invoke", FunctionName="fn", Payload=b'{"order": 3}', LogType="Tail")
    error = json.loads(result["Payload"])
    assert [frame.split(", in ")[1].split("\n")[0] for frame in error["stackTrace"]] == [
        "outer",
        "inner",
    ]
    # The runtime's log entry for the error, indented with no-break spaces as recorded in
    # CloudWatch (test_invocation_type_event_error).
    log = base64.b64decode(result["LogResult"]).decode()
    assert "[ERROR] KeyError: 3\nTraceback (most recent call last):\n\u00a0\u00a0File " in log
    assert '\u00a0\u00a0\u00a0\u00a0inner(event["order"])\n' in log


async def test_invoke_log_tail_returns_the_log(lam: LocalLambda, aws: Boto3Lambda) -> None:
    def logs(event: Any, context: Any) -> Any:
        logging.getLogger("fn").warning("handled order %s", event["order"])
        return None

    lam.add_function("fn", logs)
    result = await aws("invoke", FunctionName="fn", Payload=b'{"order": 5}', LogType="Tail")

    log = base64.b64decode(result["LogResult"]).decode()
    assert "handled order 5" in log
    request_id = result["ResponseMetadata"]["RequestId"]
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\n")
    assert f"END RequestId: {request_id}\n" in log
    # AWS's REPORT fields, tab-separated with a trailing tab (test_invocation_with_logs).
    report = log.splitlines()[-1]
    assert re.fullmatch(
        rf"REPORT RequestId: {request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: (\d+) ms"
        r"\tMemory Size: 128 MB\tMax Memory Used: (\d+) MB\t",
        report,
    ), report
    duration = float(report.split("Duration: ")[1].split(" ms")[0])
    billed = int(report.split("Billed Duration: ")[1].split(" ms")[0])
    assert billed == max(1, math.ceil(duration))  # whole milliseconds, rounded up
    assert 0 < int(report.split("Max Memory Used: ")[1].split(" MB")[0]) <= 128
    assert "LogResult" not in await aws("invoke", FunctionName="fn", Payload=b'{"order": 6}')


async def test_invoke_log_tail_has_printed_output_after_stdout_is_replaced(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    def prints(event: Any, context: Any) -> Any:
        print(f"printed order {event['order']}")
        return None

    lam.add_function("fn", prints)
    # The first invocation installs LocalLambda's capture, if no earlier test did.
    await aws("invoke", FunctionName="fn", Payload=b'{"order": 1}', LogType="Tail")
    # pytest swaps sys.stdout like this between every test phase.
    with contextlib.redirect_stdout(io.StringIO()) as elsewhere:
        result = await aws("invoke", FunctionName="fn", Payload=b'{"order": 2}', LogType="Tail")

    assert "printed order 2" not in elsewhere.getvalue()
    assert "printed order 2" in base64.b64decode(result["LogResult"]).decode()


async def test_invoke_event_is_accepted_with_202(lam: LocalLambda, aws: Boto3Lambda) -> None:
    lam.add_function("fn", version_one)

    result = await aws("invoke", FunctionName="fn", InvocationType="Event", Payload=b"{}")

    assert result["StatusCode"] == 202
    assert result["Payload"] == b""
    # The function runs after the answer: wait (briefly) for it on the server's loop.
    for _ in range(200):
        if lam.executions("fn", "$LATEST") == 1:
            break
        await asyncio.sleep(0.01)
    assert lam.executions("fn", "$LATEST") == 1


async def test_invoke_dry_run_answers_204_without_running(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    lam.add_function("fn", version_one)

    result = await aws("invoke", FunctionName="fn", InvocationType="DryRun")

    assert result["StatusCode"] == 204
    assert result["Payload"] == b""
    assert lam.executions("fn", "$LATEST") == 0


async def test_invoke_through_a_weighted_alias_runs_both_versions(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    await two_versions(lam, aws)
    await aws(
        "create_alias",
        FunctionName="fn",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )

    def invoke_many(client: Any) -> list[tuple[str, str]]:
        runs = []
        for _ in range(200):
            response = client.invoke(FunctionName="fn", Qualifier="live", Payload=b"{}")
            runs.append((response["ExecutedVersion"], response["Payload"].read()))
        return runs

    runs: list[tuple[str, bytes]] = await aws.run(invoke_many)

    executed = Counter(version for version, _ in runs)
    assert set(executed) == {"1", "2"}
    assert 0.15 < executed["2"] / len(runs) < 0.45  # 0.3, seeded
    # The header names the version that really ran.
    assert all(json.loads(payload)["version"] == version for version, payload in runs)
    assert executed == {v: lam.executions("fn", v) for v in ("1", "2")}


async def test_invoke_with_response_stream_frames_parse_in_botocore(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    lam.add_function("stream", streaming)

    result = await aws(
        "invoke_with_response_stream",
        FunctionName="stream",
        Payload=json.dumps({"parts": ["Hello, ", "wörld", "!"]}),
        LogType="Tail",
    )

    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert result["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    events = result["EventStream"]
    assert [event["PayloadChunk"]["Payload"] for event in events[:-1]] == [
        b"Hello, ",
        "wörld".encode(),
        b"!",
    ]
    complete = events[-1]["InvokeComplete"]
    assert "ErrorCode" not in complete
    assert "streaming 3 parts" in base64.b64decode(complete["LogResult"]).decode()


async def test_invoke_with_response_stream_error_mid_stream(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    lam.add_function("stream", streaming_then_failing)

    result = await aws("invoke_with_response_stream", FunctionName="stream")

    assert result["StatusCode"] == 200  # the status line went out before the failure
    events = result["EventStream"]
    assert events[0] == {"PayloadChunk": {"Payload": b"partial"}}
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert (details["errorType"], details["errorMessage"]) == ("RuntimeError", "stream broke")
    assert details["requestId"] == result["ResponseMetadata"]["RequestId"]
    assert [frame.split(", in ")[1].split("\n")[0] for frame in details["stackTrace"]] == [
        "streaming_then_failing"
    ]


async def test_invoke_with_response_stream_through_a_weighted_alias(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    await two_versions(lam, aws)
    await aws(
        "create_alias",
        FunctionName="fn",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )

    seen = set()
    for _ in range(30):
        result = await aws(
            "invoke_with_response_stream", FunctionName="fn", Qualifier="live", Payload=b"{}"
        )
        chunks = b"".join(e["PayloadChunk"]["Payload"] for e in result["EventStream"][:-1])
        assert json.loads(chunks)["version"] == result["ExecutedVersion"]
        seen.add(result["ExecutedVersion"])
    assert seen == {"1", "2"}


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "code", "http_status"),
    [
        ("get_alias", {"FunctionName": "nope", "Name": "live"}, "ResourceNotFoundException", 404),
        ("get_alias", {"FunctionName": "fn", "Name": "nope"}, "ResourceNotFoundException", 404),
        ("invoke", {"FunctionName": "fn", "Qualifier": "9"}, "ResourceNotFoundException", 404),
        ("invoke", {"FunctionName": "fn", "Qualifier": "nope"}, "ResourceNotFoundException", 404),
        (
            "invoke",
            {"FunctionName": "fn", "Payload": b"not json"},
            "InvalidRequestContentException",
            400,
        ),
        # botocore checks only a weight's minimum, so 1.5 reaches the server, which refuses it
        # as AWS does: a ValidationException (test_notfound_and_invalid_routingconfigs).
        (
            "create_alias",
            {
                "FunctionName": "fn",
                "Name": "a",
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 1.5}},
            },
            "ValidationException",
            400,
        ),
        (
            "create_alias",
            {
                "FunctionName": "fn",
                "Name": "a",
                "FunctionVersion": "$LATEST",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
            },
            "InvalidParameterValueException",
            400,
        ),
        (
            "create_alias",
            {"FunctionName": "fn", "Name": "1234", "FunctionVersion": "1"},
            "ValidationException",
            400,
        ),
        (
            "update_alias",
            {"FunctionName": "fn", "Name": "nope", "FunctionVersion": "1"},
            "ResourceNotFoundException",
            404,
        ),
    ],
)
async def test_error_shapes_parse_in_botocore(
    lam: LocalLambda,
    aws: Boto3Lambda,
    operation: str,
    params: dict[str, Any],
    code: str,
    http_status: int,
) -> None:
    await two_versions(lam, aws)

    assert_error(await aws.error(operation, **params), code, http_status)


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"secret": "not-the-secret"}, "InvalidSignatureException"),
        ({"access_key": "AKIDUNKNOWN000000000"}, "UnrecognizedClientException"),
    ],
)
async def test_bad_credentials_are_refused_with_403(
    lam: LocalLambda, credentials: dict[str, Any], code: str
) -> None:
    lam.add_function("fn", version_one)
    async with boto3_lambda(lam, **credentials) as stranger:
        assert_error(await stranger.error("get_alias", FunctionName="fn", Name="x"), code, 403)
        assert_error(await stranger.error("invoke", FunctionName="fn"), code, 403)
    assert lam.executions("fn", "$LATEST") == 0


async def test_injected_throttle_is_too_many_requests_with_retry_after(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    await two_versions(lam, aws)
    await aws("create_alias", FunctionName="fn", Name="live", FunctionVersion="1")
    lam.inject("GetAlias", Throttle(retry_after=7))

    throttled = await aws.error("get_alias", FunctionName="fn", Name="live")

    assert_error(throttled, "TooManyRequestsException", 429)
    assert throttled["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "7"
    assert throttled["ResponseMetadata"]["RetryAttempts"] == 0
    # The modeled members: Retry-After as retryAfterSeconds, Reason from the body.
    assert throttled["retryAfterSeconds"] == "7"
    assert throttled["Reason"] == "CallerRateLimitExceeded"
    assert throttled["Error"]["Message"] == "Rate Exceeded."  # as AWS words it
    # The fault was for one call only.
    assert (await aws("get_alias", FunctionName="fn", Name="live"))["Name"] == "live"


async def test_injected_faults_before_a_stream_are_plain_json_errors(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    lam.add_function("stream", streaming)
    lam.inject("InvokeWithResponseStream", Throttle(retry_after=2))
    lam.inject("InvokeWithResponseStream", ServerError(503, "ServiceException"))

    throttled = await aws.error("invoke_with_response_stream", FunctionName="stream")
    failed = await aws.error("invoke_with_response_stream", FunctionName="stream")

    assert_error(throttled, "TooManyRequestsException", 429)
    assert throttled["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"
    assert_error(failed, "ServiceException", 503)
    assert lam.executions("stream", "$LATEST") == 0


@pytest.mark.parametrize("operation", ["get_alias", "invoke"])
async def test_a_function_arn_from_another_region_is_not_found(
    lam: LocalLambda, aws: Boto3Lambda, operation: str
) -> None:
    await two_versions(lam, aws)
    await aws("create_alias", FunctionName="fn", Name="live", FunctionVersion="1")
    elsewhere = "arn:aws:lambda:eu-west-1:123456789012:function:fn"
    params = (
        {"FunctionName": elsewhere, "Name": "live"}
        if operation == "get_alias"
        else {"FunctionName": f"{elsewhere}:live"}
    )

    # AWS: ResourceNotFoundException, "Functions from 'eu-west-1' are not reachable in this
    # region ('us-east-1')" (quoted in alexcasalboni/aws-lambda-power-tuning#18).
    assert_error(await aws.error(operation, **params), "ResourceNotFoundException", 404)
    assert lam.executions("fn", "1") == 0


@pytest.mark.parametrize("operation", ["list_aliases", "list_versions_by_function"])
async def test_max_items_above_10000_is_refused(
    lam: LocalLambda, aws: Boto3Lambda, operation: str
) -> None:
    lam.add_function("fn", version_one)

    # botocore checks only MaxItems' minimum, so 10001 reaches the server (lambda-wire.md §1),
    # which refuses it as the model's constraint: a ValidationException.
    refused = await aws.error(operation, FunctionName="fn", MaxItems=10001)
    assert_error(refused, "ValidationException", 400)
    assert refused["Error"]["Message"] == (
        "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint:"
        " Member must have value less than or equal to 10000"
    )


# --- AWS's recorded answers ------------------------------------------------------------------
# Requests replayed from LocalStack's AWS-validated snapshot tests (tests/aws/services/lambda_/
# test_lambda_api.py and test_lambda.py, recorded against real AWS), with the error code,
# status and message AWS answered. botocore's own parameter validation is off, as in those
# tests, so that what it would refuse locally (a negative weight) reaches the server.

FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
WEIGHT_CONSTRAINT = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0,"
    " Member must have value greater than or equal to 0.0, Member must not be null]"
)
NAMESPACED_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)


def _alias(version: str, weights: dict[str, float] | None = None, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"FunctionName": "fn", "Name": "custom", "FunctionVersion": version}
    if weights is not None:
        params["RoutingConfig"] = {"AdditionalVersionWeights": weights}
    return {**params, **extra}


RECORDED_ERRORS: list[tuple[str, str, dict[str, Any], str, int, str]] = [
    (
        "routing_config_exc_toomany",
        "create_alias",
        _alias("1", {"1": 0.8, "2": 0.2}),
        "InvalidParameterValueException",
        400,
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
    ),
    (
        "routing_config_exc_toohigh",
        "create_alias",
        _alias("1", {"2": 2}),
        "ValidationException",
        400,
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights'"
        f" failed to satisfy constraint: {WEIGHT_CONSTRAINT}",
    ),
    (
        "routing_config_exc_subzero",
        "create_alias",
        _alias("1", {"2": -1}),
        "ValidationException",
        400,
        "1 validation error detected: Value '{2=-1.0}' at"
        " 'routingConfig.additionalVersionWeights' failed to satisfy constraint:"
        f" {WEIGHT_CONSTRAINT}",
    ),
    (
        "routing_config_exc_sameversion",
        "create_alias",
        _alias("1", {"1": 0.5}),
        "InvalidParameterValueException",
        400,
        "Invalid function version 1. Function version 1 is already included in routing"
        " configuration.",
    ),
    (
        "target_version_doesnotexist",
        "create_alias",
        _alias("10", {"2": 0.5}),
        "ResourceNotFoundException",
        404,
        f"Function not found: {FN}:10",
    ),
    (
        "routing_config_exc_version_doesnotexist",
        "create_alias",
        _alias("1", {"10": 0.5}),
        "ResourceNotFoundException",
        404,
        f"Function not found: {FN}:10",
    ),
    (
        "target_version_exc_version_latest",
        "create_alias",
        _alias("$LATEST", {"1": 0.5}),
        "InvalidParameterValueException",
        400,
        "$LATEST is not supported for an alias pointing to more than 1 version",
    ),
    (
        "routing_config_exc_version_latest",
        "create_alias",
        _alias("1", {"$LATEST": 0.5}),
        "ValidationException",
        400,
        "1 validation error detected: Value '{$LATEST=0.5}' at"
        " 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must"
        " satisfy constraint: [Member must have length less than or equal to 1024, Member must"
        " have length greater than or equal to 1, Member must satisfy regular expression"
        " pattern: [0-9]+]",
    ),
    (
        "routing_config_exc_fn_doesnotexist",
        "create_alias",
        _alias("1", {"2": 0.5}, FunctionName="fn-unknown"),
        "ResourceNotFoundException",
        404,
        f"Function not found: {FN}-unknown:1",
    ),
    (
        "create_alias_number_exception",
        "create_alias",
        _alias("1", Name="2024"),
        "ValidationException",
        400,
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint:"
        " Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    ),
    (
        "alias_does_not_exist_esc",
        "get_alias",
        {"FunctionName": "fn", "Name": "non-existent"},
        "ResourceNotFoundException",
        404,
        f"Cannot find alias arn: {FN}:non-existent",
    ),
    (
        "test_non_existent_alias_update",
        "update_alias",
        {"FunctionName": "fn", "Name": "non-existent", "Description": "x"},
        "ResourceNotFoundException",
        404,
        f"Alias not found: {FN}:non-existent",
    ),
    (
        "invoke_function_doesnotexist",
        "invoke",
        {"FunctionName": "doesnotexist"},
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:doesnotexist:$LATEST",
    ),
    (
        "invalid_characters_in_function_name-invoke",
        "invoke",
        {"FunctionName": "my-function!"},
        "ValidationException",
        400,
        "1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy"
        f" constraint: Member must satisfy regular expression pattern: {NAMESPACED_PATTERN}",
    ),
    (
        "invalid_characters_in_qualifier-invoke",
        "invoke",
        {"FunctionName": "fn", "Qualifier": "invalid!"},
        "ValidationException",
        400,
        "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy"
        r" constraint: Member must satisfy regular expression pattern:"
        r" \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    ),
    (
        "qualifier_too_long-invoke",
        "invoke",
        {"FunctionName": "fn", "Qualifier": "a" * 129},
        "ValidationException",
        400,
        f"1 validation error detected: Value '{'a' * 129}' at 'qualifier' failed to satisfy"
        " constraint: Member must have length less than or equal to 128",
    ),
    (
        "latest_version_with_additional_qualifier-invoke",
        "invoke",
        {"FunctionName": f"{FN}:$LATEST", "Qualifier": "1"},
        "InvalidParameterValueException",
        400,
        "The derived qualifier from the function name does not match the specified qualifier.",
    ),
    (
        "lowercase_latest_qualifier-invoke",
        "invoke",
        {"FunctionName": FN, "Qualifier": "$latest"},
        "ResourceNotFoundException",
        404,
        f"Function not found: {FN}:$latest",
    ),
    (
        "function_arn_other_region_exc",
        "get_function_configuration",
        {"FunctionName": "arn:aws:lambda:ap-southeast-1:123456789012:function:fn"},
        "ResourceNotFoundException",
        404,
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
    ),
]


@pytest.mark.parametrize(
    ("operation", "params", "code", "http_status", "message"),
    [case[1:] for case in RECORDED_ERRORS],
    ids=[case[0] for case in RECORDED_ERRORS],
)
async def test_errors_are_answered_as_aws_recorded_them(
    lam: LocalLambda,
    operation: str,
    params: dict[str, Any],
    code: str,
    http_status: int,
    message: str,
) -> None:
    async with boto3_lambda(lam, parameter_validation=False) as aws:
        await two_versions(lam, aws)
        response = await aws.error(operation, **params)
        aliases = await aws("list_aliases", FunctionName="fn")
    assert_error(response, code, http_status)
    assert response["Error"]["Message"] == message
    assert aliases["Aliases"] == []  # nothing was created
    assert lam.executions("fn", "$LATEST") == lam.executions("fn", "1") == 0


async def test_the_validation_error_comes_before_the_lookup(
    lam: LocalLambda,
) -> None:
    # A bad alias name on a function that does not exist: AWS checks the model's constraints
    # before it looks the function up.
    async with boto3_lambda(lam, parameter_validation=False) as aws:
        response = await aws.error(
            "create_alias", FunctionName="nope", Name="2024", FunctionVersion="1"
        )
    assert_error(response, "ValidationException", 400)
    # The front end's ValidationException carries no "Type", unlike Lambda's own errors.
    assert "Type" not in response


async def test_version_lifecycle_as_aws_recorded_it(lam: LocalLambda, aws: Boto3Lambda) -> None:
    # test_version_lifecycle: a publish with only a new Description returns the last version.
    lam.add_function("fn", version_one, description="No version :(")
    lam.add_function("fn", version_one, description="First version :)")
    first = await aws(
        "publish_version", FunctionName="fn", Description="First version description :)"
    )
    assert (first["Version"], first["Description"]) == ("1", "First version description :)")
    lam.add_function("fn", version_one, description="Second version :))")
    second = await aws("publish_version", FunctionName="fn")
    assert (second["Version"], second["Description"]) == ("2", "Second version :))")
    third = await aws(
        "publish_version", FunctionName="fn", Description="Third version description :)))"
    )
    assert (third["Version"], third["Description"]) == ("2", "Second version :))")
    assert third["RevisionId"] == second["RevisionId"]
    assert third["FunctionArn"] == f"{FN}:2"

    listed = await aws("list_versions_by_function", FunctionName="fn")
    assert [(v["Version"], v["FunctionArn"], v["Description"]) for v in listed["Versions"]] == [
        ("$LATEST", f"{FN}:$LATEST", "Second version :))"),
        ("1", f"{FN}:1", "First version description :)"),
        ("2", f"{FN}:2", "Second version :))"),
    ]


@pytest.mark.parametrize(
    ("operation", "header", "value", "allowed"),
    [
        ("invoke", "invocationType", "Bogus", "Event, RequestResponse, DryRun"),
        ("invoke_with_response_stream", "invocationType", "Event", "RequestResponse, DryRun"),
        ("invoke", "logType", "Verbose", "None, Tail"),
    ],
)
async def test_an_enum_outside_the_model_is_a_validation_error(
    lam: LocalLambda, operation: str, header: str, value: str, allowed: str
) -> None:
    # botocore does not check enums; the service does, before it looks the function up.
    params = {"InvocationType": value} if header == "invocationType" else {"LogType": value}
    async with boto3_lambda(lam, parameter_validation=False) as aws:
        response = await aws.error(operation, FunctionName="no-such-function", **params)
    assert_error(response, "ValidationException", 400)
    assert response["Error"]["Message"] == (
        f"1 validation error detected: Value '{value}' at '{header}' failed to satisfy"
        f" constraint: Member must satisfy enum value set: [{allowed}]"
    )


async def test_a_payload_that_is_not_json_names_the_payload(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    lam.add_function("fn", version_one)
    response = await aws.error("invoke", FunctionName="fn", Payload=b"not json")
    assert_error(response, "InvalidRequestContentException", 400)
    # AWS's words before its parser's own (test_lambda_invoke_payload_encoding_error).
    assert response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )
    assert lam.executions("fn", "$LATEST") == 0


async def test_configuration_has_the_fields_aws_answers_for_a_plain_function(
    lam: LocalLambda, aws: Boto3Lambda
) -> None:
    # test_publish_version_on_create: SnapStart off and text logs to /aws/lambda/<name>, in
    # PublishVersion, GetFunctionConfiguration and ListVersionsByFunction alike.
    lam.add_function("fn", version_one)
    answers = [
        await aws("publish_version", FunctionName="fn"),
        await aws("get_function_configuration", FunctionName="fn"),
        *(await aws("list_versions_by_function", FunctionName="fn"))["Versions"],
    ]
    for configuration in answers:
        assert configuration["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
        assert configuration["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"}


async def test_a_missing_required_member_is_a_validation_error(lam: LocalLambda) -> None:
    # The model's "required", in AWS's words for a null member (test_tag_exceptions:
    # untag_empty_keys); botocore's own check is off, as another SDK might not make it.
    async with boto3_lambda(lam, parameter_validation=False) as aws:
        response = await aws.error("create_alias", FunctionName="fn", Name="live")
    assert_error(response, "ValidationException", 400)
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'functionVersion' failed to satisfy"
        " constraint: Member must not be null"
    )


@pytest.mark.parametrize("operation", ["list_aliases", "list_versions_by_function"])
async def test_max_items_is_checked_before_the_function_is_looked_up(
    lam: LocalLambda, aws: Boto3Lambda, operation: str
) -> None:
    refused = await aws.error(operation, FunctionName="no-such-function", MaxItems=10001)
    assert_error(refused, "ValidationException", 400)
