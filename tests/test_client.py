"""LambdaClient's alias operations over aiohttp, with AWS's responses served by aioresponses
from the canned wire responses in ``stubs/``.

aioresponses normalises the URLs it records, so the exact wire form (percent-encoding,
signatures) is checked over a real socket in ``test_end_to_end.py``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import attrs
import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from lambdaclient import (
    AliasConfiguration,
    AliasPage,
    ClientClosedError,
    ConnectError,
    Credentials,
    EventLoopError,
    InvalidParameterValueError,
    LambdaClient,
    PaginationError,
    PreconditionFailedError,
    ResourceConflictError,
    ResourceNotFoundError,
    ResponseParseError,
    RoutingConfig,
    ServiceError,
    ServiceException,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from lambdaclient.testing import LocalLambda
from tests import stubs
from tests.conftest import CompatClientResponse

ENDPOINT = "https://lambda.us-east-1.amazonaws.com"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
ENCODED_ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token/+=")
NOW = datetime(2026, 11, 25, 12, 30, 45, tzinfo=UTC)


@attrs.frozen
class Sent:
    """A request as it left the client."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeLambda:
    """Serves canned responses for paths under the Lambda endpoint and records each request."""

    def __init__(self, mocked: aioresponses) -> None:
        self.mocked = mocked
        self.sent: list[Sent] = []

    def _recorder(self, method: str) -> Callable[..., CallbackResult | None]:
        def record(url: URL, **kwargs: Any) -> CallbackResult | None:
            data = kwargs.get("data")
            self.sent.append(Sent(method, str(url), dict(kwargs["headers"]), bytes(data or b"")))
            return None

        return record

    def reply(
        self,
        method: str,
        path: str,
        stub: stubs.Stub | None = None,
        *,
        query: str = "",
        status: int = 200,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        exception: Exception | None = None,
        times: int = 1,
    ) -> None:
        url = URL(f"{ENDPOINT}{path}" + (f"?{query}" if query else ""), encoded=True)
        for _ in range(times):
            self.mocked.add(
                url,
                method,
                status=stub.status if stub else status,
                body=stub.body_bytes if stub else body,
                headers=dict(stub.headers) if stub else headers,
                exception=exception,
                response_class=CompatClientResponse,
                callback=self._recorder(method),
            )


@pytest.fixture
def fake_lambda() -> Iterator[FakeLambda]:
    with aioresponses() as mocked:
        yield FakeLambda(mocked)


@pytest.fixture
async def client() -> AsyncIterator[LambdaClient]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with LambdaClient(
        "us-east-1", credentials=CREDENTIALS, clock=lambda: NOW, jitter=lambda: 0.5, sleep=sleep
    ) as client:
        client.sleeps = sleeps  # type: ignore[attr-defined]
        yield client


def alias_path(function: str = "my-fn", name: str | None = None) -> str:
    path = f"/2015-03-31/functions/{function}/aliases"
    return path if name is None else f"{path}/{name}"


def expected_alias(stub: stubs.Stub) -> AliasConfiguration:
    body = stub.body
    weights = body.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    return AliasConfiguration(
        body["AliasArn"],
        body["Name"],
        body["FunctionVersion"],
        body.get("Description"),
        RoutingConfig(weights) if weights else None,
        body["RevisionId"],
    )


# --- each operation sends what AWS expects and returns the model --------------------------


async def test_create_alias_sends_the_alias_and_returns_it(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("CreateAlias", "201-created")
    fake_lambda.reply("POST", alias_path(), stub)

    alias = await client.create_alias(
        "my-fn",
        "live",
        function_version="1",
        description="prod",
        routing_config=RoutingConfig({"2": 0.1}),
    )

    assert alias == expected_alias(stub)
    [sent] = fake_lambda.sent
    assert sent.json() == {
        "Name": "live",
        "FunctionVersion": "1",
        "Description": "prod",
        "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
    }
    assert sent.headers["Content-Type"] == "application/json"


async def test_get_alias_by_arn_encodes_the_arn_as_one_path_label(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("GetAlias", "200-weighted")
    fake_lambda.reply("GET", alias_path(ENCODED_ARN, "live"), stub)

    alias = await client.get_alias(FUNCTION_ARN, "live")

    assert alias.routing_config == RoutingConfig({"2": 0.25})
    assert alias == expected_alias(stub)
    assert fake_lambda.sent[0].url == f"{ENDPOINT}{alias_path(ENCODED_ARN, 'live')}"
    assert fake_lambda.sent[0].body == b""


async def test_an_unweighted_alias_has_no_routing_config(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("GET", alias_path("my-fn", "live"), stubs.load("GetAlias", "200-unweighted"))

    alias = await client.get_alias("my-fn", "live")

    assert alias.routing_config is None


async def test_update_alias_sends_only_what_is_given(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("UpdateAlias", "200-updated")
    fake_lambda.reply("PUT", alias_path("my-fn", "live"), stub, times=3)

    alias = await client.update_alias(
        "my-fn", "live", function_version="2", routing_config=RoutingConfig({}), revision_id="rev-1"
    )
    await client.update_alias("my-fn", "live")
    await client.update_alias("my-fn", "live", description="")

    assert alias == expected_alias(stub)
    assert [sent.json() for sent in fake_lambda.sent] == [
        {
            "FunctionVersion": "2",
            "RoutingConfig": {"AdditionalVersionWeights": {}},
            "RevisionId": "rev-1",
        },
        {},
        {"Description": ""},
    ]


async def test_update_alias_with_a_stale_revision_raises_precondition_failed(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("UpdateAlias", "412-precondition-failed")
    fake_lambda.reply("PUT", alias_path("my-fn", "live"), stub)

    with pytest.raises(PreconditionFailedError) as caught:
        await client.update_alias("my-fn", "live", function_version="2", revision_id="stale")

    assert caught.value.code == "PreconditionFailedException"
    assert caught.value.status == 412
    assert caught.value.request_id == stub.headers["x-amzn-RequestId"]
    assert caught.value.message == stub.body["message"]
    assert len(fake_lambda.sent) == 1  # a write is not retried after a 4xx


async def test_delete_alias(client: LambdaClient, fake_lambda: FakeLambda) -> None:
    fake_lambda.reply(
        "DELETE", alias_path("my-fn", "live"), stubs.load("DeleteAlias", "204-deleted")
    )

    await client.delete_alias("my-fn", "live")

    assert [(sent.method, sent.body) for sent in fake_lambda.sent] == [("DELETE", b"")]


OPERATIONS: dict[str, tuple[str, str, Callable[[LambdaClient], Awaitable[object]]]] = {
    "CreateAlias": (
        "POST",
        alias_path(),
        lambda c: c.create_alias("my-fn", "live", function_version="1"),
    ),
    "GetAlias": ("GET", alias_path("my-fn", "live"), lambda c: c.get_alias("my-fn", "live")),
    "DeleteAlias": (
        "DELETE",
        alias_path("my-fn", "live"),
        lambda c: c.delete_alias("my-fn", "live"),
    ),
    "UpdateAlias": (
        "PUT",
        alias_path("my-fn", "live"),
        lambda c: c.update_alias("my-fn", "live", function_version="2"),
    ),
}


@pytest.mark.parametrize(
    ("operation", "case", "error_class"),
    [
        ("CreateAlias", "409-conflict", ResourceConflictError),
        ("CreateAlias", "400-invalid-parameter", InvalidParameterValueError),
        ("GetAlias", "404-not-found", ResourceNotFoundError),
        ("DeleteAlias", "404-not-found", ResourceNotFoundError),
        ("UpdateAlias", "409-conflict", ResourceConflictError),
    ],
)
async def test_aws_errors_raise_their_typed_error(
    client: LambdaClient,
    fake_lambda: FakeLambda,
    operation: str,
    case: str,
    error_class: type[ServiceError],
) -> None:
    stub = stubs.load(operation, case)
    method, path, call = OPERATIONS[operation]
    fake_lambda.reply(method, path, stub)

    with pytest.raises(error_class) as caught:
        await call(client)

    error = caught.value
    assert (error.code, error.status) == (stub.shape, stub.status)
    assert error.message == (stub.body.get("message") or stub.body.get("Message"))
    assert error.request_id == stub.headers["x-amzn-RequestId"]


async def test_an_error_code_without_a_class_is_a_service_error_carrying_it(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", alias_path(), stubs.load("CreateAlias", "400-alias-limit"))

    with pytest.raises(ServiceError) as caught:
        await client.create_alias("my-fn", "live", function_version="1")

    assert type(caught.value) is ServiceError
    assert caught.value.code == "AliasLimitExceededException"


async def test_a_body_that_is_not_an_alias_is_a_response_parse_error(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "GET",
        alias_path("my-fn", "live"),
        body=b'{"Name": 7}',
        headers={"x-amzn-RequestId": "rid-1"},
    )

    with pytest.raises(ResponseParseError) as caught:
        await client.get_alias("my-fn", "live")

    assert (caught.value.status, caught.value.request_id) == (200, "rid-1")


# --- list_aliases ----------------------------------------------------------------------------


async def test_list_aliases_follows_next_marker_across_pages(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    first = stubs.load("ListAliases", "200-first-page")
    last = stubs.load("ListAliases", "200-last-page")
    fake_lambda.reply("GET", alias_path(), first, query="MaxItems=2")
    fake_lambda.reply("GET", alias_path(), last, query="Marker=tok%2F%2B%3D1&MaxItems=2")

    names = [alias.name async for alias in client.list_aliases("my-fn", page_size=2)]

    assert names == [a["Name"] for a in first.body["Aliases"] + last.body["Aliases"]]
    assert [dict(URL(sent.url).query) for sent in fake_lambda.sent] == [
        {"MaxItems": "2"},
        {"Marker": first.body["NextMarker"], "MaxItems": "2"},
    ]


async def test_list_aliases_pages(client: LambdaClient, fake_lambda: FakeLambda) -> None:
    first = stubs.load("ListAliases", "200-first-page")
    fake_lambda.reply("GET", alias_path(), first, query="MaxItems=50")
    fake_lambda.reply(
        "GET",
        alias_path(),
        stubs.load("ListAliases", "200-last-page"),
        query="Marker=tok%2F%2B%3D1&MaxItems=50",
    )

    pages = [page async for page in client.list_aliases("my-fn", page_size=50).pages()]

    assert [type(page) for page in pages] == [AliasPage, AliasPage]
    assert [page.next_marker for page in pages] == [first.body["NextMarker"], None]
    assert [len(page.aliases) for page in pages] == [2, 1]
    assert pages[0].aliases[1].routing_config == RoutingConfig({"4": 0.5})


async def test_list_aliases_starts_from_a_given_marker(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "GET", alias_path(), stubs.load("ListAliases", "200-empty"), query="Marker=m%201"
    )

    aliases = [alias async for alias in client.list_aliases("my-fn", marker="m 1")]

    assert aliases == []
    assert len(fake_lambda.sent) == 1


async def test_a_repeated_marker_raises_instead_of_looping(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    looping = b'{"Aliases": [], "NextMarker": "same"}'
    fake_lambda.reply("GET", alias_path(), body=looping)
    fake_lambda.reply("GET", alias_path(), body=looping, query="Marker=same")

    with pytest.raises(PaginationError):
        [alias async for alias in client.list_aliases("my-fn")]

    assert len(fake_lambda.sent) == 2


async def test_list_aliases_checks_its_arguments_before_iterating(client: LambdaClient) -> None:
    with pytest.raises(ValidationError):
        client.list_aliases("my-fn", page_size=0)
    with pytest.raises(ValidationError):
        client.list_aliases("my fn")


# --- retries ----------------------------------------------------------------------------------


async def test_a_read_is_retried_after_a_5xx_with_backoff(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    path = alias_path("my-fn", "live")
    fake_lambda.reply("GET", path, stubs.load("GetAlias", "500-service-exception"))
    fake_lambda.reply("GET", path, status=503, body=b"<html>Service Unavailable</html>")
    fake_lambda.reply("GET", path, stubs.load("GetAlias", "200-unweighted"))

    alias = await client.get_alias("my-fn", "live")

    assert alias.name == "live"
    assert len(fake_lambda.sent) == 3
    assert client.sleeps == [0.5, 1.0]  # type: ignore[attr-defined]  # jitter 0.5 * 2**n


async def test_a_read_gives_up_after_max_attempts_with_the_last_error(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "GET", alias_path("my-fn", "live"), stubs.load("GetAlias", "500-service-exception"), times=3
    )

    with pytest.raises(ServiceException):
        await client.get_alias("my-fn", "live")

    assert len(fake_lambda.sent) == 3


async def test_throttling_honours_retry_after(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    path = alias_path("my-fn", "live")
    fake_lambda.reply("PUT", path, stubs.load("GetAlias", "429-too-many-requests"))
    fake_lambda.reply("PUT", path, stubs.load("UpdateAlias", "200-updated"))

    await client.update_alias("my-fn", "live", function_version="2")

    assert client.sleeps == [2.0]  # type: ignore[attr-defined]
    assert len(fake_lambda.sent) == 2
    # Each attempt is signed afresh.
    assert all("Signature=" in sent.headers["Authorization"] for sent in fake_lambda.sent)


async def test_throttling_that_outlasts_the_attempts_raises_too_many_requests(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("GetAlias", "429-too-many-requests")
    fake_lambda.reply("GET", alias_path("my-fn", "live"), stub, times=3)

    with pytest.raises(TooManyRequestsError) as caught:
        await client.get_alias("my-fn", "live")

    assert caught.value.retry_after_seconds == 2.0
    assert caught.value.reason == stub.body["Reason"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_write_is_not_retried_after_a_5xx(
    client: LambdaClient, fake_lambda: FakeLambda, status: int
) -> None:
    fake_lambda.reply("PUT", alias_path("my-fn", "live"), status=status, body=b"")

    with pytest.raises(ServiceError) as caught:
        await client.update_alias("my-fn", "live", function_version="2")

    assert caught.value.status == status
    assert len(fake_lambda.sent) == 1


async def test_a_write_is_retried_when_the_connection_failed_before_sending(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    path = alias_path("my-fn", "live")
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey(
            "lambda.us-east-1.amazonaws.com", 443, True, True, None, None, None
        ),
        ConnectionRefusedError(111, "Connection refused"),
    )
    fake_lambda.reply("DELETE", path, exception=refused)
    fake_lambda.reply("DELETE", path, stubs.load("DeleteAlias", "204-deleted"))

    await client.delete_alias("my-fn", "live")

    assert len(fake_lambda.sent) == 2


async def test_a_write_is_not_retried_when_the_connection_dropped_after_sending(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply("POST", alias_path(), exception=aiohttp.ServerDisconnectedError())

    with pytest.raises(TransportError) as caught:
        await client.create_alias("my-fn", "live", function_version="1")

    assert not isinstance(caught.value, ConnectError)
    assert len(fake_lambda.sent) == 1


async def test_max_attempts_one_never_retries(fake_lambda: FakeLambda) -> None:
    fake_lambda.reply(
        "GET", alias_path("my-fn", "live"), stubs.load("GetAlias", "500-service-exception")
    )

    async with LambdaClient("us-east-1", credentials=CREDENTIALS, max_attempts=1) as client:
        with pytest.raises(ServiceException):
            await client.get_alias("my-fn", "live")

    assert len(fake_lambda.sent) == 1


async def test_the_retry_quota_stops_retries_against_a_failing_endpoint(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    # 500 tokens at 5 per retry: 100 retries, then calls fail at their first attempt.
    fake_lambda.reply(
        "GET",
        alias_path("my-fn", "live"),
        stubs.load("GetAlias", "500-service-exception"),
        times=200,
    )

    for _ in range(50):
        with pytest.raises(ServiceException):
            await client.get_alias("my-fn", "live")

    assert len(fake_lambda.sent) == 150
    with pytest.raises(ServiceException):
        await client.get_alias("my-fn", "live")
    assert len(fake_lambda.sent) == 151


# --- bad input is refused before anything is sent ---------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.get_alias("my-fn", "1234"), "name"),
        (lambda c: c.get_alias("my fn", "live"), "function_name"),
        (lambda c: c.get_alias("my-fn/../other", "live"), "function_name"),
        (lambda c: c.create_alias("my-fn", "live", function_version="latest"), "function_version"),
        (
            lambda c: c.create_alias("my-fn", "live", function_version="1", description="x" * 257),
            "description",
        ),
        (
            lambda c: c.create_alias(
                "my-fn", "live", function_version="1", routing_config=RoutingConfig({"2": 1.5})
            ),
            "routing_config",
        ),
        (
            lambda c: c.create_alias(
                "my-fn",
                "live",
                function_version="$LATEST",
                routing_config=RoutingConfig({"2": 0.5}),
            ),
            "routing_config",
        ),
        (
            lambda c: c.update_alias(
                "my-fn", "live", function_version="2", routing_config=RoutingConfig({"2": 0.5})
            ),
            "routing_config",
        ),
        (
            lambda c: c.update_alias(
                "my-fn", "live", routing_config=RoutingConfig({"2": 0.1, "3": 0.1})
            ),
            "routing_config",
        ),
        (lambda c: c.update_alias("my-fn", "live", revision_id=""), "revision_id"),
        (lambda c: c.delete_alias("my-fn", ""), "name"),
    ],
)
async def test_bad_arguments_raise_validation_error_before_any_request(
    client: LambdaClient, fake_lambda: FakeLambda, call: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await call(client)

    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)
    assert fake_lambda.sent == []


# --- lifecycle --------------------------------------------------------------------------------


async def test_a_call_after_close_is_a_clear_error(fake_lambda: FakeLambda) -> None:
    client = LambdaClient("us-east-1", credentials=CREDENTIALS)
    await client.close()

    with pytest.raises(ClientClosedError):
        await client.get_alias("my-fn", "live")
    assert fake_lambda.sent == []


async def test_a_session_the_caller_owns_is_used_and_never_closed(fake_lambda: FakeLambda) -> None:
    fake_lambda.reply("GET", alias_path("my-fn", "live"), stubs.load("GetAlias", "200-unweighted"))
    async with aiohttp.ClientSession() as session:
        async with LambdaClient("us-east-1", credentials=CREDENTIALS, session=session) as client:
            await client.get_alias("my-fn", "live")
        assert not session.closed


def test_a_client_used_from_a_second_event_loop_says_to_create_one_per_loop() -> None:
    async def first_run() -> LambdaClient:
        # The caller's session is closed with this loop, so nothing is left open for the
        # second; the client itself stays bound to this loop.
        async with LocalLambda() as lam, aiohttp.ClientSession() as session:
            lam.add_function("fn", lambda event, context: event)
            client = LambdaClient(
                lam.region,
                endpoint_url=lam.endpoint_url,
                credentials=lam.credentials,
                session=session,
            )
            assert (await client.invoke("fn", payload={"n": 1})).payload == b'{"n": 1}'
            return client

    client = asyncio.run(first_run())
    with pytest.raises(EventLoopError, match="one client per event loop") as info:
        asyncio.run(client.invoke("fn", payload={"n": 2}))
    assert "first used on" in str(info.value)
    assert isinstance(info.value, RuntimeError)  # what code catching aiohttp's error expects


async def test_closing_twice_is_harmless_and_releases_the_connection_it_opened() -> None:
    released = asyncio.Event()
    body = json.dumps(stubs.load("GetAlias", "200-unweighted").body).encode()

    async def one_keep_alive_response(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        await reader.read()  # until the client closes the connection
        released.set()
        writer.close()

    server = await asyncio.start_server(one_keep_alive_response, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client = LambdaClient(
            "us-east-1", credentials=CREDENTIALS, endpoint_url=f"http://127.0.0.1:{port}"
        )
        assert (await client.get_alias("my-fn", "live")).name == "live"
        assert not released.is_set()  # kept alive for the next call

        await client.close()
        await client.close()

        await asyncio.wait_for(released.wait(), timeout=5)
        with pytest.raises(ClientClosedError):
            await client.get_alias("my-fn", "live")


# --- configuration --------------------------------------------------------------------------


def test_region_comes_from_the_argument_then_aws_region_then_aws_default_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert LambdaClient(credentials=CREDENTIALS).region == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert LambdaClient(credentials=CREDENTIALS).region == "eu-central-1"
    assert LambdaClient("ap-south-1", credentials=CREDENTIALS).region == "ap-south-1"


def test_region_falls_back_to_the_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    config = tmp_path / "config"
    config.write_text("[profile deploy]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    client = LambdaClient(profile="deploy", credentials=CREDENTIALS)

    assert client.region == "sa-east-1"
    assert client.endpoint_url == "https://lambda.sa-east-1.amazonaws.com"


def test_no_region_is_a_clear_error_at_construction() -> None:
    with pytest.raises(ValidationError, match="region"):
        LambdaClient(credentials=CREDENTIALS)


@pytest.mark.parametrize("region", ["us-east-1/..", "evil.com", "us-east-1@evil.com", "us east 1"])
def test_a_region_that_could_redirect_requests_is_refused(region: str) -> None:
    with pytest.raises(ValidationError):
        LambdaClient(region, credentials=CREDENTIALS)


def test_endpoint_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert (
        LambdaClient("us-east-1", credentials=CREDENTIALS).endpoint_url == "http://127.0.0.1:4566"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:9001/")
    assert (
        LambdaClient("us-east-1", credentials=CREDENTIALS).endpoint_url == "http://127.0.0.1:9001"
    )
    assert (
        LambdaClient(
            "us-east-1", credentials=CREDENTIALS, endpoint_url="https://x.test"
        ).endpoint_url
        == "https://x.test"
    )


def test_fips_and_dualstack_endpoints() -> None:
    client = LambdaClient("us-west-2", credentials=CREDENTIALS, use_fips=True, use_dualstack=True)
    assert client.endpoint_url == "https://lambda-fips.us-west-2.api.aws"


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"connect_timeout": 0},
        {"read_timeout": -1.0},
        {"credentials": ("AKID", "secret")},
    ],
)
def test_bad_settings_are_refused_at_construction(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        LambdaClient("us-east-1", **settings)


def test_repr_shows_no_secrets() -> None:
    client = LambdaClient("us-east-1", credentials=CREDENTIALS)
    assert CREDENTIALS.secret_access_key not in repr(client)
    assert "us-east-1" in repr(client)


@pytest.mark.parametrize(
    ("endpoint_url", "warned"),
    [
        ("http://127.0.0.1:9001", False),
        ("http://localhost:4566", False),
        ("http://[::1]:9001", False),
        ("https://lambda.example.test", False),
        ("http://lambda.example.test", True),
    ],
)
def test_plain_http_to_another_host_logs_a_warning(
    caplog: pytest.LogCaptureFixture, endpoint_url: str, warned: bool
) -> None:
    with caplog.at_level("WARNING", logger="lambdaclient"):
        client = LambdaClient("us-east-1", credentials=CREDENTIALS, endpoint_url=endpoint_url)

    assert client.endpoint_url == endpoint_url
    assert ("plain HTTP" in caplog.text) is warned


async def test_closing_the_client_while_a_retry_waits_stops_the_retry(
    fake_lambda: FakeLambda,
) -> None:
    fake_lambda.reply(
        "GET", alias_path("my-fn", "live"), stubs.load("GetAlias", "500-service-exception")
    )

    clients: list[LambdaClient] = []

    async def close_instead_of_sleeping(seconds: float) -> None:
        await clients[0].close()

    client = LambdaClient("us-east-1", credentials=CREDENTIALS, sleep=close_instead_of_sleeping)
    clients.append(client)

    with pytest.raises(ClientClosedError):
        await client.get_alias("my-fn", "live")
    assert len(fake_lambda.sent) == 1
