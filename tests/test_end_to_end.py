"""The client over real sockets: an aiohttp server on 127.0.0.1 that checks every signature
with botocore (an implementation independent of ours) and answers with the canned stubs."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import pytest
from aiohttp import web

from lambdaclient import (
    ConnectError,
    Credentials,
    LambdaClient,
    RequestTimeoutError,
    RoutingConfig,
    ServiceError,
)
from tests import stubs
from tests.oracle import Received, signing_server

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok+/=")
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"


@attrs.define
class SigningServer:
    """Checks signatures, records requests, and answers with whatever ``handler`` returns."""

    url: str
    received: list[Received] = attrs.Factory(list)
    handler: Callable[[Received], Awaitable[web.StreamResponse]] | None = None


def stub_response(operation: str, case: str) -> web.Response:
    stub = stubs.load(operation, case)
    return web.Response(status=stub.status, body=stub.body_bytes, headers=dict(stub.headers))


@pytest.fixture
async def server() -> AsyncIterator[SigningServer]:
    state = SigningServer(url="")

    async def answer(request: web.Request, received: Received) -> web.StreamResponse:
        assert state.handler is not None
        return await state.handler(received)

    async with signing_server(CREDENTIALS, answer, state.received) as url:
        state.url = url
        yield state


def client_for(server: SigningServer, **settings: Any) -> LambdaClient:
    settings.setdefault("credentials", CREDENTIALS)
    return LambdaClient("us-east-1", endpoint_url=server.url, **settings)


async def test_the_alias_lifecycle_is_signed_and_encoded_as_aws_expects(
    server: SigningServer,
) -> None:
    replies = {
        "POST": stub_response("CreateAlias", "201-created"),
        "GET": stub_response("GetAlias", "200-weighted"),
        "PUT": stub_response("UpdateAlias", "200-updated"),
        "DELETE": stub_response("DeleteAlias", "204-deleted"),
    }

    async def handler(received: Received) -> web.StreamResponse:
        return replies[received.method]

    server.handler = handler
    async with client_for(server) as client:
        created = await client.create_alias(
            FUNCTION_ARN,
            "live",
            function_version="1",
            description="ünïcödé ✓",
            routing_config=RoutingConfig({"2": 0.1}),
        )
        fetched = await client.get_alias(FUNCTION_ARN, "live")
        updated = await client.update_alias(
            FUNCTION_ARN,
            "live",
            function_version="2",
            routing_config=RoutingConfig({}),
            revision_id=fetched.revision_id,
        )
        await client.delete_alias(FUNCTION_ARN, "live")

    assert [r.method for r in server.received] == ["POST", "GET", "PUT", "DELETE"]
    encoded = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn"
    assert [r.raw_path for r in server.received] == [
        f"/2015-03-31/functions/{encoded}/aliases",
        *[f"/2015-03-31/functions/{encoded}/aliases/live"] * 3,
    ]
    assert json.loads(server.received[0].body)["Description"] == "ünïcödé ✓"
    assert created.routing_config == RoutingConfig({"2": 0.1})
    assert updated.function_version == "2"
    assert all(
        r.headers["X-Amz-Security-Token"] == CREDENTIALS.session_token for r in server.received
    )


async def test_list_aliases_markers_survive_the_wire(server: SigningServer) -> None:
    marker = "tok/+= ü&x=y"
    aliases = stubs.load("ListAliases", "200-first-page").body["Aliases"]

    async def handler(received: Received) -> web.StreamResponse:
        query = dict(received_query(received))
        if "Marker" not in query:
            return web.json_response({"Aliases": aliases[:1], "NextMarker": marker})
        assert query == {"Marker": marker, "MaxItems": "1", "FunctionVersion": "1"}
        return web.json_response({"Aliases": aliases[1:]})

    server.handler = handler
    async with client_for(server) as client:
        names = [
            a.name
            async for a in client.list_aliases(FUNCTION_ARN, function_version="1", page_size=1)
        ]

    assert names == [a["Name"] for a in aliases]
    assert "Marker=tok%2F%2B%3D%20%C3%BC%26x%3Dy" in server.received[1].raw_path


def received_query(received: Received) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(received.raw_path).query, keep_blank_values=True)


async def test_a_wrong_secret_is_refused_by_the_server(server: SigningServer) -> None:
    wrong = Credentials(CREDENTIALS.access_key_id, "not-the-secret")
    async with client_for(server, credentials=wrong) as client:
        with pytest.raises(ServiceError) as caught:
            await client.get_alias("my-fn", "live")

    assert (caught.value.code, caught.value.status) == ("InvalidSignatureException", 403)
    assert len(server.received) == 1  # a 403 is not retried


async def test_an_endpoint_url_with_a_path_prefix_is_signed_with_the_prefix(
    server: SigningServer,
) -> None:
    async def handler(received: Received) -> web.StreamResponse:
        return stub_response("GetAlias", "200-unweighted")

    server.handler = handler
    async with LambdaClient(
        "us-east-1", endpoint_url=f"{server.url}/lambda-proxy/", credentials=CREDENTIALS
    ) as client:
        await client.get_alias("my-fn", "live")

    assert server.received[0].raw_path == "/lambda-proxy/2015-03-31/functions/my-fn/aliases/live"


async def test_inside_lambda_the_trace_id_is_passed_on_unsigned(
    server: SigningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "caller")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")

    async def handler(received: Received) -> web.StreamResponse:
        return stub_response("GetAlias", "200-unweighted")

    server.handler = handler
    async with client_for(server) as client:
        await client.get_alias("my-fn", "live")

    headers = server.received[0].headers
    assert headers["X-Amzn-Trace-Id"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert "x-amzn-trace-id" not in headers["Authorization"]


async def test_a_refused_connection_is_a_connect_error_after_retries() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with LambdaClient(
        "us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        credentials=CREDENTIALS,
        sleep=lambda seconds: asyncio.sleep(0),
    ) as client:
        with pytest.raises(ConnectError):
            await client.delete_alias("my-fn", "live")


async def test_a_stalled_server_is_a_request_timeout(server: SigningServer) -> None:
    release = asyncio.Event()

    async def handler(received: Received) -> web.StreamResponse:
        await release.wait()
        return stub_response("GetAlias", "200-unweighted")

    server.handler = handler
    async with client_for(server, read_timeout=0.2, max_attempts=1) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RequestTimeoutError):
            await client.get_alias("my-fn", "live")
        waited = loop.time() - started
    release.set()

    assert 0.2 <= waited < 5
