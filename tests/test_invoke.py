"""LambdaClient.invoke over aiohttp, with Lambda's answers served by aioresponses from the
canned wire responses in ``stubs/Invoke/``.

What a caller relies on: the request carries exactly the payload (whatever form it was given
in) and the invocation settings as Lambda's headers; the result exposes the payload and the
``X-Amz-*`` headers; bad arguments fail before anything is sent; and an invocation is never
retried when the function may already have run, unless the caller says that is harmless.

aioresponses intercepts ``ClientSession.request`` before aiohttp builds the request, so the
headers aiohttp adds on its own are seen only over a real socket (the last test here).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from lambdaclient import (
    ConnectError,
    FunctionError,
    InvocationType,
    InvokeResult,
    LambdaClient,
    LambdaError,
    LogType,
    RequestTimeoutError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from tests import stubs
from tests import test_client as base
from tests.oracle import botocore_accepts
from tests.test_client import CREDENTIALS, FakeLambda, Sent

# The alias tests' fixtures: a client whose retry sleeps are recorded instead of slept, and
# the aioresponses-backed FakeLambda that records every request.
client = base.client
fake_lambda = base.fake_lambda

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
_ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"
# The longest name Invoke takes (NamespacedFunctionName, 256): a qualified ARN whose function
# name has the 64 characters a name may have.
LONGEST_ARN = f"{_ARN_PREFIX}{'f' * 64}:{'q' * (256 - len(_ARN_PREFIX) - 65)}"


def invoke_path(function: str = "my-fn") -> str:
    return f"/2015-03-31/functions/{function}/invocations"


STREAM_PATH = "/2021-11-15/functions/my-fn/response-streaming-invocations"


def sleeps(client: LambdaClient) -> list[float]:
    recorded: list[float] = client.sleeps  # type: ignore[attr-defined]
    return recorded


def header_names(sent: Sent) -> set[str]:
    return {name.lower() for name in sent.headers}


def signed_over(sent: Sent) -> bool:
    """Whether botocore computes the same signature for the URL, headers and body sent."""
    return botocore_accepts(
        method=sent.method,
        url=sent.url,
        headers=CIMultiDict(sent.headers),
        body=sent.body,
        credentials=CREDENTIALS,
        region="us-east-1",
    )


def expected_result(stub: stubs.Stub) -> InvokeResult:
    log = stub.headers.get("X-Amz-Log-Result")
    return InvokeResult(
        stub.status,
        stub.body_bytes,
        stub.headers.get("X-Amz-Executed-Version"),
        stub.headers.get("X-Amz-Function-Error"),
        base64.b64decode(log).decode() if log else None,
        stub.headers["x-amzn-RequestId"],
    )


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)  # a real producer yields to the loop between chunks
        yield part


# --- the request ---------------------------------------------------------------------------


async def test_invoke_posts_exactly_the_payload_to_the_qualified_function(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "200-ok")
    fake_lambda.reply("POST", invoke_path(), stub, query="Qualifier=live")

    result = await client.invoke("my-fn", payload=b'{"order":42}', qualifier="live")

    assert result == expected_result(stub)
    [sent] = fake_lambda.sent
    url = URL(sent.url)
    assert (sent.method, url.path, dict(url.query)) == (
        "POST",
        invoke_path(),
        {"Qualifier": "live"},
    )
    assert sent.body == b'{"order":42}'
    # A blob payload goes with no Content-Type, as botocore sends it; defaults are not sent.
    assert "content-type" not in header_names(sent)
    assert not {"x-amz-invocation-type", "x-amz-log-type", "x-amz-client-context"} & (
        header_names(sent)
    )
    assert signed_over(sent)


async def test_invoke_without_a_qualifier_sends_no_query(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    await client.invoke("my-fn")

    [sent] = fake_lambda.sent
    assert URL(sent.url).query == {}
    assert sent.body == b""


@pytest.mark.parametrize(
    ("function_name", "path"),
    [
        # NamespacedFunctionName, Invoke's own shape, allows '.' in the name.
        pytest.param("my.fn", invoke_path("my.fn"), id="dotted-name"),
        pytest.param("my-fn:$LATEST.PUBLISHED", None, id="latest-published-qualifier"),
        pytest.param(FUNCTION_ARN, None, id="arn"),
        pytest.param(LONGEST_ARN, None, id="256-characters"),
    ],
)
async def test_invoke_accepts_every_namespaced_function_name_form(
    client: LambdaClient, fake_lambda: FakeLambda, function_name: str, path: str | None
) -> None:
    label = path or invoke_path(function_name.replace(":", "%3A").replace("$", "%24"))
    fake_lambda.reply("POST", label, stubs.load("Invoke", "200-ok"))

    result = await client.invoke(function_name)

    assert result.status_code == 200
    assert len(fake_lambda.sent) == 1


@pytest.mark.parametrize(
    ("invocation_type", "stub_case", "header"),
    [
        (InvocationType.EVENT, "202-event", "Event"),
        (InvocationType.DRY_RUN, "204-dry-run", "DryRun"),
        # The enum is a StrEnum: its values are accepted as plain strings.
        ("Event", "202-event", "Event"),
    ],
)
async def test_a_non_default_invocation_type_is_sent_and_answered_with_an_empty_payload(
    client: LambdaClient,
    fake_lambda: FakeLambda,
    invocation_type: InvocationType,
    stub_case: str,
    header: str,
) -> None:
    stub = stubs.load("Invoke", stub_case)
    fake_lambda.reply("POST", invoke_path(), stub, query="Qualifier=live")

    result = await client.invoke(
        "my-fn", payload={"order": 42}, qualifier="live", invocation_type=invocation_type
    )

    assert result == expected_result(stub)
    assert (result.status_code, result.payload) == (stub.status, b"")
    assert fake_lambda.sent[0].headers["X-Amz-Invocation-Type"] == header


async def test_log_type_tail_is_sent_and_the_log_comes_back_decoded(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "200-log-tail")
    fake_lambda.reply("POST", invoke_path(), stub)

    result = await client.invoke("my-fn", log_type=LogType.TAIL)

    assert fake_lambda.sent[0].headers["X-Amz-Log-Type"] == "Tail"
    assert result.log_result is not None
    assert result.log_result.startswith("START RequestId: ")
    assert "REPORT RequestId: " in result.log_result
    assert result.log_result == base64.b64decode(stub.headers["X-Amz-Log-Result"]).decode()
    assert result.executed_version == "$LATEST"
    assert result.json() == "ok"


async def test_client_context_is_sent_as_base64_json(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))
    context = {"custom": {"tenant": "ünï ✓"}, "env": {"locale": "en"}}

    await client.invoke("my-fn", client_context=context)

    [sent] = fake_lambda.sent
    encoded = sent.headers["X-Amz-Client-Context"]
    assert json.loads(base64.b64decode(encoded, validate=True)) == context
    assert signed_over(sent)  # the header is signed like any other


async def test_a_client_context_of_exactly_the_limit_is_sent(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))
    # {"k":"..."} of 2,685 bytes is 3,580 in base64, the largest multiple of 4 under 3,583.
    context = {"k": "x" * 2677}

    await client.invoke("my-fn", client_context=context)

    assert len(fake_lambda.sent[0].headers["X-Amz-Client-Context"]) == 3580


# --- payload kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        pytest.param(b"\x00\xff raw", b"\x00\xff raw", id="bytes"),
        pytest.param(bytearray(b"raw"), b"raw", id="bytearray"),
        pytest.param(memoryview(b"raw"), b"raw", id="memoryview"),
        pytest.param("héllo ✓", "héllo ✓".encode(), id="str-as-utf8"),
        pytest.param(
            {"order": 42, "note": "é ✓", "items": [1, 2]},
            '{"order":42,"note":"é ✓","items":[1,2]}'.encode(),
            id="dict-as-compact-json",
        ),
        pytest.param([1, "two", None], b'[1,"two",null]', id="list"),
        pytest.param(42, b"42", id="int"),
        pytest.param(True, b"true", id="bool"),
        pytest.param(None, b"", id="none-is-empty"),
    ],
)
async def test_in_memory_payloads_are_sent_encoded(
    client: LambdaClient, fake_lambda: FakeLambda, payload: Any, body: bytes
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    await client.invoke("my-fn", payload=payload)

    [sent] = fake_lambda.sent
    assert sent.body == body
    assert signed_over(sent)  # the signed hash is the hash of these bytes


async def test_a_bytesio_is_sent_from_its_position(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))
    file = io.BytesIO(b"header:payload from the middle")
    file.seek(len("header:"))

    await client.invoke("my-fn", payload=file)

    [sent] = fake_lambda.sent
    assert sent.body == b"payload from the middle"
    assert sent.headers["Content-Length"] == str(len(b"payload from the middle"))
    assert signed_over(sent)
    assert not file.closed  # the caller's file stays the caller's


async def test_a_real_file_is_sent_from_its_position_and_again_on_a_retry(
    client: LambdaClient, fake_lambda: FakeLambda, tmp_path: Path
) -> None:
    path = tmp_path / "payload.bin"
    content = bytes(range(256)) * 20
    path.write_bytes(b"skip" + content)
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "429-too-many-requests"))
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    with path.open("rb") as file:
        file.seek(4)
        result = await client.invoke("my-fn", payload=file)
        assert not file.closed

    assert result.status_code == 200
    assert [sent.body for sent in fake_lambda.sent] == [content, content]
    assert all(sent.headers["Content-Length"] == str(len(content)) for sent in fake_lambda.sent)
    assert all(signed_over(sent) for sent in fake_lambda.sent)


async def test_an_async_iterable_is_spooled_and_sent_whole_on_every_attempt(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    # Over the 1 MiB kept in memory, so the spool moves to a temporary file.
    parts = [bytes([n]) * (300 * 1024) for n in range(4)] + [b"tail"]
    whole = b"".join(parts)
    assert len(whole) > 1 << 20
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "429-too-many-requests"))
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    result = await client.invoke("my-fn", payload=chunks_of(*parts))

    assert result.status_code == 200
    # An iterable can be read once; the retry still sends all of it.
    assert [sent.body for sent in fake_lambda.sent] == [whole, whole]
    assert all(sent.headers["Content-Length"] == str(len(whole)) for sent in fake_lambda.sent)
    assert signed_over(fake_lambda.sent[0])


async def _str_chunks() -> AsyncIterator[Any]:
    yield b"bytes first"
    yield "then text"


@pytest.mark.parametrize(
    "make_payload",
    [
        pytest.param(lambda path: path.open("r"), id="text-mode-file"),
        pytest.param(lambda path: io.StringIO("text"), id="stringio"),
        pytest.param(lambda path: _str_chunks(), id="async-iterable-of-str"),
        pytest.param(lambda path: object(), id="object"),
        pytest.param(lambda path: {1, 2}, id="set"),
        pytest.param(lambda path: {"when": object()}, id="dict-with-an-object"),
    ],
)
async def test_a_payload_that_cannot_be_sent_is_refused_before_sending(
    client: LambdaClient,
    fake_lambda: FakeLambda,
    tmp_path: Path,
    make_payload: Callable[[Path], Any],
) -> None:
    path = tmp_path / "payload.txt"
    path.write_text("some text")
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))
    payload = make_payload(path)

    try:
        with pytest.raises(ValidationError) as caught:
            await client.invoke("my-fn", payload=payload)
    finally:
        if isinstance(payload, io.IOBase):
            payload.close()

    assert caught.value.field == "payload"
    assert fake_lambda.mocked.requests == {}


async def test_an_empty_text_mode_file_is_refused_too(
    client: LambdaClient, fake_lambda: FakeLambda, tmp_path: Path
) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    with path.open("r") as file, pytest.raises(ValidationError) as caught:
        await client.invoke("my-fn", payload=file)  # type: ignore[arg-type]  # the point

    assert caught.value.field == "payload"
    assert fake_lambda.mocked.requests == {}


@pytest.mark.parametrize("number", [float("nan"), float("inf")], ids=["nan", "infinity"])
async def test_a_payload_that_is_not_valid_json_is_refused_before_sending(
    client: LambdaClient, fake_lambda: FakeLambda, number: float
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    with pytest.raises(ValidationError) as caught:
        await client.invoke("my-fn", payload={"reading": number})

    assert caught.value.field == "payload"
    assert fake_lambda.mocked.requests == {}


# --- the result ----------------------------------------------------------------------------


async def test_the_result_exposes_payload_and_headers(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "200-ok")
    fake_lambda.reply("POST", invoke_path(), stub)

    result = await client.invoke("my-fn")

    assert result.status_code == 200
    assert result.payload == stub.body_bytes
    assert result.json() == stub.body
    assert result.executed_version == "2"
    assert result.function_error is None
    assert result.log_result is None
    assert result.request_id == stub.headers["x-amzn-RequestId"]
    result.raise_for_function_error()  # no function error: nothing to raise


async def test_repr_shows_the_payload_size_but_never_its_bytes(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "200-ok")
    fake_lambda.reply("POST", invoke_path(), stub)

    result = await client.invoke("my-fn")

    text = repr(result)
    assert f"<{len(stub.body_bytes)} bytes>" in text
    assert "shipped" not in text
    assert "order" not in text


async def test_a_payload_that_is_not_json_is_returned_as_is(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "200-text")
    fake_lambda.reply("POST", invoke_path(), stub)

    result = await client.invoke("my-fn")

    assert result.payload == stub.body_bytes
    with pytest.raises(ValueError, match="Expecting value"):
        result.json()


async def test_a_function_error_is_returned_then_raised_on_request(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "200-function-error")
    fake_lambda.reply("POST", invoke_path(), stub, query="Qualifier=live")

    # AWS answers 200: the call itself succeeds, and is not retried.
    result = await client.invoke("my-fn", qualifier="live")

    assert (result.status_code, result.function_error) == (200, "Unhandled")
    assert len(fake_lambda.sent) == 1
    with pytest.raises(FunctionError) as caught:
        result.raise_for_function_error()
    error = caught.value
    assert isinstance(error, LambdaError)
    assert error.error_type == stub.body["errorType"]
    assert error.error_message == stub.body["errorMessage"]
    assert error.stack_trace == stub.body["stackTrace"]
    assert error.executed_version == "1"
    assert "KeyError in version 1: order 42 not found" in str(error)


@pytest.mark.parametrize(
    "body",
    [b"Task timed out after 3.00 seconds", b"", b"\xff\xfe", b'["not", "an object"]'],
    ids=["text", "empty", "not-utf8", "json-list"],
)
async def test_a_function_error_whose_payload_is_not_an_error_object_is_typed_by_the_header(
    client: LambdaClient, fake_lambda: FakeLambda, body: bytes
) -> None:
    fake_lambda.reply(
        "POST",
        invoke_path(),
        status=200,
        body=body,
        headers={
            "x-amzn-RequestId": "r",
            "X-Amz-Function-Error": "Unhandled",
            "X-Amz-Executed-Version": "7",
        },
    )

    result = await client.invoke("my-fn")

    with pytest.raises(FunctionError) as caught:
        result.raise_for_function_error()
    assert caught.value.error_type == "Unhandled"
    assert caught.value.error_message == ""
    assert caught.value.stack_trace is None
    assert caught.value.executed_version == "7"


async def test_a_function_error_whose_payload_nests_too_deep_is_still_a_function_error(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "POST",
        invoke_path(),
        status=200,
        body=b"[" * 100_000,
        headers={"x-amzn-RequestId": "r", "X-Amz-Function-Error": "Unhandled"},
    )

    result = await client.invoke("my-fn")

    with pytest.raises(FunctionError) as caught:
        result.raise_for_function_error()
    assert caught.value.error_type == "Unhandled"


# --- bad arguments are refused before anything is sent ---------------------------------------


async def _stream_event(client: LambdaClient) -> None:
    async with client.invoke_with_response_stream(
        "my-fn", invocation_type=InvocationType.EVENT
    ) as stream:
        raise AssertionError(f"an EVENT stream was opened: {stream}")


Call = Callable[[LambdaClient], Awaitable[object]]

BAD_CALLS: list[Any] = [
    pytest.param(lambda c: c.invoke("my-fn", qualifier="a b"), "qualifier", id="qualifier-space"),
    pytest.param(lambda c: c.invoke("my-fn", qualifier=""), "qualifier", id="qualifier-empty"),
    pytest.param(
        lambda c: c.invoke("my-fn", qualifier="q" * 129), "qualifier", id="qualifier-129-chars"
    ),
    pytest.param(lambda c: c.invoke("my fn"), "function_name", id="name-with-space"),
    pytest.param(lambda c: c.invoke(""), "function_name", id="name-empty"),
    pytest.param(lambda c: c.invoke("f" * 65), "function_name", id="bare-name-65-chars"),
    pytest.param(
        lambda c: c.invoke(f"{LONGEST_ARN}q"),
        "function_name",
        id="arn-257-chars",
    ),
    pytest.param(lambda c: c.invoke("my-fn/../other"), "function_name", id="name-with-slash"),
    pytest.param(
        lambda c: c.invoke("my-fn", client_context={"k": "x" * 2678}),
        "client_context",
        id="client-context-3584-bytes-encoded",
    ),
    pytest.param(
        lambda c: c.invoke("my-fn", client_context=["custom"]),
        "client_context",
        id="client-context-list",
    ),
    pytest.param(
        lambda c: c.invoke("my-fn", client_context="eyJ9"),
        "client_context",
        id="client-context-already-encoded",
    ),
    pytest.param(
        lambda c: c.invoke("my-fn", client_context={"k": object()}),
        "client_context",
        id="client-context-not-json",
    ),
    pytest.param(
        lambda c: c.invoke("my-fn", invocation_type="event"),
        "invocation_type",
        id="invocation-type-lowercase",
    ),
    pytest.param(
        lambda c: c.invoke("my-fn", invocation_type="Async"),
        "invocation_type",
        id="invocation-type-unknown",
    ),
    pytest.param(lambda c: c.invoke("my-fn", log_type="tail"), "log_type", id="log-type-lower"),
    pytest.param(lambda c: c.invoke("my-fn", log_type="Full"), "log_type", id="log-type-unknown"),
    pytest.param(lambda c: c.invoke("my-fn", read_timeout=0), "read_timeout", id="timeout-0"),
    pytest.param(
        lambda c: c.invoke("my-fn", read_timeout=-1.0), "read_timeout", id="timeout-negative"
    ),
    pytest.param(lambda c: c.invoke("my-fn", idempotent="yes"), "idempotent", id="idempotent"),
    pytest.param(_stream_event, "invocation_type", id="response-stream-event"),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
async def test_bad_arguments_raise_validation_error_before_any_request(
    client: LambdaClient, fake_lambda: FakeLambda, call: Call, field: str
) -> None:
    # Were anything sent, these would answer it (and aioresponses would record it).
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))
    fake_lambda.reply("POST", STREAM_PATH, stubs.load("InvokeWithResponseStream", "204-dry-run"))

    with pytest.raises(ValidationError) as caught:
        await call(client)

    assert caught.value.field == field
    assert fake_lambda.mocked.requests == {}


async def test_a_client_context_that_is_not_valid_json_is_refused(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    with pytest.raises(ValidationError) as caught:
        await client.invoke("my-fn", client_context={"custom": {"ratio": float("nan")}})

    assert caught.value.field == "client_context"
    assert fake_lambda.mocked.requests == {}


# --- retries: never run a function twice by accident -----------------------------------------


async def test_throttling_is_retried_after_retry_after(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "429-too-many-requests"))
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    result = await client.invoke("my-fn", payload=b"{}")

    assert result.status_code == 200
    assert sleeps(client) == [3.0]  # the stub's Retry-After, not the backoff
    assert [sent.body for sent in fake_lambda.sent] == [b"{}", b"{}"]


async def test_throttling_that_outlasts_the_attempts_raises_too_many_requests(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "429-too-many-requests")
    fake_lambda.reply("POST", invoke_path(), stub, times=3)

    with pytest.raises(TooManyRequestsError) as caught:
        await client.invoke("my-fn")

    assert caught.value.reason == "ConcurrentInvocationLimitExceeded"
    assert caught.value.retry_after_seconds == 3.0
    assert caught.value.message == stub.body["message"]
    assert len(fake_lambda.sent) == 3
    assert sleeps(client) == [3.0, 3.0]


async def test_resource_not_ready_is_a_service_error_and_not_retried(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "502-resource-not-ready")
    fake_lambda.reply("POST", invoke_path(), stub, times=2)

    with pytest.raises(ServiceError) as caught:
        await client.invoke("my-fn", payload=b"{}")

    error = caught.value
    assert (error.code, error.status) == ("ResourceNotReadyException", 502)
    assert error.message == stub.body["message"]  # lower-case "message", as the model says
    assert error.request_id == stub.headers["x-amzn-RequestId"]
    assert len(fake_lambda.sent) == 1
    assert sleeps(client) == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_is_not_retried_by_default(
    client: LambdaClient, fake_lambda: FakeLambda, status: int
) -> None:
    fake_lambda.reply("POST", invoke_path(), status=status, body=b"", times=2)

    with pytest.raises(ServiceError) as caught:
        await client.invoke("my-fn")

    assert caught.value.status == status
    assert len(fake_lambda.sent) == 1


async def test_an_idempotent_invocation_is_retried_after_a_5xx(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "502-resource-not-ready"))
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    result = await client.invoke("my-fn", payload=b"{}", idempotent=True)

    assert result.status_code == 200
    assert len(fake_lambda.sent) == 2
    assert sleeps(client) == [0.5]  # jittered backoff: 0.5 * 2**0


async def test_a_connection_that_failed_before_sending_is_retried(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey(
            "lambda.us-east-1.amazonaws.com", 443, True, True, None, None, None
        ),
        ConnectionRefusedError(111, "Connection refused"),
    )
    fake_lambda.reply("POST", invoke_path(), exception=refused)
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    result = await client.invoke("my-fn", payload=b"{}")

    assert result.status_code == 200
    assert len(fake_lambda.sent) == 2


@pytest.mark.parametrize(
    ("exception", "raised"),
    [
        pytest.param(aiohttp.ServerDisconnectedError(), TransportError, id="disconnected"),
        pytest.param(TimeoutError(), RequestTimeoutError, id="read-timeout"),
    ],
)
async def test_a_failure_after_sending_is_not_retried_by_default(
    client: LambdaClient,
    fake_lambda: FakeLambda,
    exception: Exception,
    raised: type[TransportError],
) -> None:
    # The function may have run: the footgun botocore has (lambda-wire.md §4.1).
    fake_lambda.reply("POST", invoke_path(), exception=exception)
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    with pytest.raises(raised) as caught:
        await client.invoke("my-fn", payload=b"{}")

    assert not isinstance(caught.value, ConnectError)
    assert len(fake_lambda.sent) == 1


async def test_an_idempotent_invocation_is_retried_after_a_dropped_connection(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", invoke_path(), exception=aiohttp.ServerDisconnectedError())
    fake_lambda.reply("POST", invoke_path(), stubs.load("Invoke", "200-ok"))

    result = await client.invoke("my-fn", payload=b"{}", idempotent=True)

    assert result.status_code == 200
    assert len(fake_lambda.sent) == 2


# --- typed errors ----------------------------------------------------------------------------


async def test_an_unknown_function_raises_resource_not_found(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "404-not-found")
    fake_lambda.reply("POST", invoke_path(), stub, query="Qualifier=live")

    with pytest.raises(ResourceNotFoundError) as caught:
        await client.invoke("my-fn", qualifier="live")

    assert (caught.value.code, caught.value.status) == ("ResourceNotFoundException", 404)
    assert caught.value.message == stub.body["Message"]
    assert len(fake_lambda.sent) == 1


async def test_a_payload_over_the_limit_raises_request_too_large(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("Invoke", "413-request-too-large")
    fake_lambda.reply("POST", invoke_path(), stub)

    with pytest.raises(ServiceError) as caught:
        await client.invoke("my-fn", payload=b"x" * 1024)

    assert type(caught.value) is ServiceError  # no class of its own; the code says what it is
    assert (caught.value.code, caught.value.status) == ("RequestTooLargeException", 413)
    assert caught.value.message == stub.body["message"]
    assert len(fake_lambda.sent) == 1


# --- invoke_with_response_stream's answers before any stream ---------------------------------


async def test_a_streaming_dry_run_has_no_stream(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("InvokeWithResponseStream", "204-dry-run")
    fake_lambda.reply("POST", STREAM_PATH, stub)

    async with client.invoke_with_response_stream(
        "my-fn", invocation_type=InvocationType.DRY_RUN
    ) as stream:
        chunks = [chunk async for chunk in stream]

    assert (stream.status_code, chunks, stream.complete) == (204, [], None)
    assert stream.request_id == stub.headers["x-amzn-RequestId"]
    assert fake_lambda.sent[0].headers["X-Amz-Invocation-Type"] == "DryRun"


async def test_a_streaming_invocation_of_an_unknown_function_raises_before_streaming(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", STREAM_PATH, stubs.load("InvokeWithResponseStream", "404-not-found"))

    with pytest.raises(ResourceNotFoundError):
        async with client.invoke_with_response_stream("my-fn") as stream:
            raise AssertionError(f"a stream was opened: {stream}")

    assert len(fake_lambda.sent) == 1


# --- over a real socket ----------------------------------------------------------------------


async def test_no_content_type_reaches_the_wire() -> None:
    received: list[tuple[CIMultiDict[str], bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((CIMultiDict(request.headers), await request.read()))
        stub = stubs.load("Invoke", "200-ok")
        return web.Response(status=stub.status, body=stub.body_bytes, headers=dict(stub.headers))

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with LambdaClient(
            "us-east-1", endpoint_url=f"http://127.0.0.1:{port}", credentials=CREDENTIALS
        ) as client:
            await client.invoke("my-fn", payload=b'{"order":42}')
            await client.invoke("my-fn")
            await client.invoke("my-fn", payload=io.BytesIO(b"file"))
    finally:
        await runner.cleanup()

    assert [body for _, body in received] == [b'{"order":42}', b"", b"file"]
    assert [headers.get("Content-Type") for headers, _ in received] == [None, None, None]
