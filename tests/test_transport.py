"""The transport seam: LambdaClient over MockTransport, with no network at all."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdaclient import (
    ConnectError,
    Credentials,
    InvokeComplete,
    LambdaClient,
    RequestTimeoutError,
    ResourceNotFoundError,
    ServiceError,
    TransportError,
    ValidationError,
)
from lambdaclient._eventstream import invoke_complete_event, payload_chunk_event
from lambdaclient.testing import MockTransport
from lambdaclient.transport import Request, Response

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
ALIAS = {
    "AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:my-fn:live",
    "Name": "live",
    "FunctionVersion": "1",
    "RevisionId": "r-1",
}


def client_over(transport: Any, **settings: Any) -> LambdaClient:
    return LambdaClient("us-east-1", credentials=CREDENTIALS, transport=transport, **settings)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize("kind", ["bytes", "file", "async iterable"])
async def test_the_handler_gets_the_signed_request_with_its_body_as_bytes(kind: str) -> None:
    payload: Any = {
        "bytes": b'{"n": 1}',
        "file": io.BytesIO(b'{"n": 1}'),
        "async iterable": chunks(b'{"n"', b": 1}"),
    }[kind]
    sent: list[Request] = []

    async def handler(request: Request) -> Response:  # an async handler
        sent.append(request)
        return Response(200, {"X-Amz-Executed-Version": "3"}, b'{"ok": true}')

    async with client_over(MockTransport(handler)) as client:
        result = await client.invoke("my-fn", payload=payload, qualifier="live")

    assert (result.json(), result.executed_version) == ({"ok": True}, "3")
    (request,) = sent
    assert request.body == b'{"n": 1}'
    assert request.url == (
        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/my-fn/invocations"
        "?Qualifier=live"
    )
    assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")


async def test_requests_are_signed_at_the_clock_given() -> None:
    sent: list[Request] = []

    def handler(request: Request) -> Response:
        sent.append(request)
        return Response(200, {}, json.dumps(ALIAS).encode())

    clock = lambda: datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)  # noqa: E731
    async with client_over(MockTransport(handler), clock=clock) as client:
        await client.get_alias("my-fn", "live")

    assert sent[0].headers["X-Amz-Date"] == "20300102T030405Z"


async def test_response_headers_are_read_whatever_their_case() -> None:
    def handler(request: Request) -> Response:
        headers = {"x-amz-executed-version": "2", "X-AMZN-REQUESTID": "req-1"}
        return Response(200, headers, b"{}")

    async with client_over(MockTransport(handler)) as client:
        result = await client.invoke("my-fn")

    assert (result.executed_version, result.request_id) == ("2", "req-1")


async def test_an_error_response_is_the_typed_error() -> None:
    def handler(request: Request) -> Response:
        headers = {"x-amzn-ErrorType": "ResourceNotFoundException", "x-amzn-RequestId": "r-9"}
        return Response(404, headers, b'{"Message": "Function not found"}')

    async with client_over(MockTransport(handler)) as client:
        with pytest.raises(ResourceNotFoundError) as caught:
            await client.get_alias("my-fn", "live")

    assert (caught.value.status, caught.value.request_id) == (404, "r-9")
    assert caught.value.message == "Function not found"


async def test_a_raised_transport_error_is_retried_only_where_the_network_one_would_be() -> None:
    failures: list[Exception] = [ConnectError("refused"), RequestTimeoutError("slow")]
    sent: list[str] = []
    slept: list[float] = []

    def handler(request: Request) -> Response:
        sent.append(request.method)
        if failures:
            raise failures.pop(0)
        return Response(200, {}, json.dumps(ALIAS).encode())

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    transport = MockTransport(handler)
    async with client_over(transport, sleep=sleep, jitter=lambda: 0.5) as client:
        # A connection never made is resent, even for a write; a timeout on a write is not.
        with pytest.raises(RequestTimeoutError):
            await client.update_alias("my-fn", "live", function_version="1")

    assert sent == ["PUT", "PUT"]
    assert slept == [0.5]  # full jitter: 0.5 * 2 ** 0


async def test_both_streaming_invokes_read_the_body_as_it_comes() -> None:
    def handler(request: Request) -> Response:
        if "response-streaming" in request.url:
            frames = payload_chunk_event(b"ab") + invoke_complete_event(log_result="done")
            return Response(200, {"X-Amz-Executed-Version": "4"}, frames)
        return Response(200, {"X-Amz-Executed-Version": "4"}, b"whole")

    async with client_over(MockTransport(handler)) as client:
        async with client.invoke_stream("my-fn") as response:
            assert response.executed_version == "4"
            assert [chunk async for chunk in response.iter_chunks()] == [b"whole"]
        async with client.invoke_with_response_stream("my-fn") as stream:
            assert [chunk async for chunk in stream] == [b"ab"]
        assert stream.complete == InvokeComplete(None, None, "done")
        assert stream.executed_version == "4"


class TrackedStream:
    """A body that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    async def read(self) -> bytes:
        return b"part"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"part"

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize("status", [200, 500])
async def test_a_body_is_closed_when_a_stream_is_left_unread_or_an_error_is_read(
    status: int,
) -> None:
    bodies: list[TrackedStream] = []

    def handler(request: Request) -> Response:
        bodies.append(TrackedStream())
        return Response(status, {}, bodies[-1])

    expected = pytest.raises(ServiceError) if status == 500 else contextlib.nullcontext()
    async with client_over(MockTransport(handler), max_attempts=1) as client:
        with expected:
            async with client.invoke_stream("my-fn"):
                pass  # left without reading the body
    assert [body.closed for body in bodies] == [True]


async def test_the_client_closes_the_transport_it_was_given() -> None:
    closed: list[bool] = []

    class Transport(MockTransport):
        async def aclose(self) -> None:
            closed.append(True)

    async with client_over(Transport(lambda request: Response(200))):
        pass
    assert closed == [True]


async def test_a_handler_that_returns_no_response_is_a_transport_error() -> None:
    async with client_over(
        MockTransport(lambda request: b"{}"),  # type: ignore[arg-type, return-value]
        max_attempts=1,
    ) as client:
        with pytest.raises(TransportError, match="returned a bytes, not a Response"):
            await client.get_alias("my-fn", "live")


def test_a_handler_that_is_not_callable_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError, match="not a dict") as caught:
        MockTransport({"GET": Response(200)})  # type: ignore[arg-type]
    assert caught.value.field == "handler"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"transport": MockTransport(lambda r: Response(200)), "session": object()}, "transport"),
        ({"transport": object()}, "transport"),
        ({"sleep": 1.5}, "sleep"),
        ({"jitter": 0.5}, "jitter"),
        ({"clock": "now"}, "clock"),
    ],
)
def test_bad_seams_are_refused_at_construction(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        LambdaClient("us-east-1", credentials=CREDENTIALS, **settings)
    assert caught.value.field == field
