"""lambdaclient's alias operations against moto's server, as it is.

moto (5.2) is a real-world Lambda emulator that departs from AWS's wire format in ways a
client meets in the wild: it answers 201 to GetAlias, UpdateAlias and DeleteAlias, labels JSON
bodies ``text/html``, sends ``"RoutingConfig": null`` (or an empty weights map once weights are
cleared), ignores ListAliases' MaxItems, never changes a RevisionId nor checks one, names a
duplicate alias ``ConflictException``, and sends two ``Server`` headers. The client must still
return proper models and typed errors. ``test_moto_quirks_on_the_wire`` looks at moto's raw
responses, so these quirks are recorded here and the test fails if moto changes them.

moto runs in-process (``ThreadedMotoServer``: werkzeug in a thread) on 127.0.0.1 and a free port
(port 0: the OS picks one, ``get_host_and_port()`` says which). Its backends are module globals
shared with anything else in the process using moto, so every test uses its own function and
role names. The function and its versions are made with boto3; nothing is invoked, since moto's
Invoke would start Docker. Creating functions, versions and aliases does not need Docker (moto's
``{"lambda": {"use_docker": False}}`` config, settable with ``POST /moto-api/config``, would
switch to a fake invoke, but is not needed here).

aiohttp's response parser is strict in Python's dev mode (``-X dev`` or
``PYTHONASYNCIODEBUG=1``) and then refuses moto's duplicate ``Server`` header; these tests
expect aiohttp's default, lenient parser.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs
import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from moto.server import ThreadedMotoServer

from lambdaclient import (
    Credentials,
    LambdaClient,
    PreconditionFailedError,
    ResourceConflictError,
    ResourceNotFoundError,
    RoutingConfig,
    ServiceError,
)
from tests.packages import package

REGION = "us-east-1"
CREDENTIALS = Credentials("testing", "testing")
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()  # werkzeug closes its listening socket when serve_forever returns


def _deploy(url: str, name: str) -> None:
    """Role, function and versions 1 and 2 of ``name``, made with boto3 (blocking)."""
    settings: dict[str, Any] = {
        "region_name": REGION,
        "endpoint_url": url,
        "aws_access_key_id": CREDENTIALS.access_key_id,
        "aws_secret_access_key": CREDENTIALS.secret_access_key,
    }
    iam = boto3.client("iam", **settings)
    lam = boto3.client("lambda", **settings)
    try:
        # moto's CreateFunction refuses a role of its own account that IAM does not know.
        role = iam.create_role(
            RoleName=f"{name}-role",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": package("def handler(event, context):\n    return event\n", "index")},
        )
        assert lam.publish_version(FunctionName=name)["Version"] == "1"
        # Like Lambda, moto publishes nothing new unless code or configuration changed.
        lam.update_function_configuration(FunctionName=name, Description="second")
        assert lam.publish_version(FunctionName=name)["Version"] == "2"
    finally:
        iam.close()
        lam.close()


@pytest.fixture
async def function_name(moto_url: str) -> str:
    name = f"fn-{uuid.uuid4().hex[:12]}"
    await asyncio.to_thread(_deploy, moto_url, name)
    return name


@pytest.fixture
async def client(moto_url: str) -> AsyncIterator[LambdaClient]:
    async with LambdaClient(REGION, endpoint_url=moto_url, credentials=CREDENTIALS) as lambda_:
        yield lambda_


@attrs.frozen
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def _raw(url: str, method: str, path: str, body: Any = None) -> RawResponse:
    """One request signed by botocore and sent with http.client, independent of lambdaclient
    and aiohttp, to see moto's answer as sent. (moto routes by the signature's service name,
    so even these must be signed.)"""
    data = b"" if body is None else json.dumps(body).encode()
    request = AWSRequest(
        method=method,
        url=f"{url}{path}",
        data=data,
        headers={} if body is None else {"Content-Type": "application/json"},
    )
    SigV4Auth(
        BotocoreCredentials(CREDENTIALS.access_key_id, CREDENTIALS.secret_access_key),
        "lambda",
        REGION,
    ).add_auth(request)
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=data, headers=dict(request.headers))
        response = connection.getresponse()
        return RawResponse(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


async def raw(url: str, method: str, path: str, body: Any = None) -> RawResponse:
    return await asyncio.to_thread(_raw, url, method, path, body)


async def test_moto_quirks_on_the_wire(moto_url: str, function_name: str) -> None:
    aliases = f"/2015-03-31/functions/{function_name}/aliases"
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"

    created = await raw(moto_url, "POST", aliases, {"Name": "live", "FunctionVersion": "1"})
    assert created.status == 201  # as AWS
    # JSON labelled as HTML, and two Server headers (werkzeug's and moto's "amazon.com").
    assert created.header("Content-Type") == ["text/html; charset=utf-8"]
    assert len(created.header("Server")) == 2
    assert "amazon.com" in created.header("Server")
    # No weights: null (AWS omits the key).
    assert created.json()["RoutingConfig"] is None
    revision = created.json()["RevisionId"]

    fetched = await raw(moto_url, "GET", f"{aliases}/live")
    assert fetched.status == 201  # AWS: 200
    assert fetched.header("Content-Type") == ["text/html; charset=utf-8"]
    assert fetched.json() == created.json()

    # A stale RevisionId is not checked (AWS: 412), and the revision never changes.
    updated = await raw(
        moto_url,
        "PUT",
        f"{aliases}/live",
        {
            "FunctionVersion": "2",
            "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}},
            "RevisionId": "stale",
        },
    )
    assert updated.status == 201  # AWS: 200
    assert updated.json()["RevisionId"] == revision
    assert updated.json()["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.5}}

    # Cleared weights come back as an empty map (AWS omits RoutingConfig).
    cleared = await raw(
        moto_url, "PUT", f"{aliases}/live", {"RoutingConfig": {"AdditionalVersionWeights": {}}}
    )
    assert cleared.json()["RoutingConfig"] == {"AdditionalVersionWeights": {}}
    assert cleared.json()["FunctionVersion"] == "2"

    # MaxItems is ignored: one page, everything (sorted by name), no NextMarker.
    await raw(moto_url, "POST", aliases, {"Name": "canary", "FunctionVersion": "1"})
    listed = await raw(moto_url, "GET", f"{aliases}?MaxItems=1")
    assert listed.status == 200
    assert listed.header("Content-Type") == ["text/html; charset=utf-8"]
    assert [a["Name"] for a in listed.json()["Aliases"]] == ["canary", "live"]
    assert "NextMarker" not in listed.json()

    # A duplicate is 409 as on AWS, but named ConflictException (AWS: ResourceConflictException).
    duplicate = await raw(moto_url, "POST", aliases, {"Name": "live", "FunctionVersion": "1"})
    assert duplicate.status == 409
    assert duplicate.header("X-Amzn-ErrorType") == ["ConflictException"]
    assert duplicate.json() == {
        "__type": "ConflictException",
        "message": f"Alias already exists: {arn}:live",
    }

    deleted = await raw(moto_url, "DELETE", f"{aliases}/live")
    assert (deleted.status, deleted.body) == (201, b"{}")  # AWS: 204, no body

    missing = await raw(moto_url, "GET", f"{aliases}/live")
    assert missing.status == 404
    assert missing.header("X-Amzn-ErrorType") == ["ResourceNotFoundException"]
    assert missing.header("Content-Type") == ["application/json"]
    assert missing.json()["message"] == f"Cannot find alias arn: {arn}:live"

    # Deleting what is not there succeeds.
    assert (await raw(moto_url, "DELETE", f"{aliases}/live")).status == 201


async def test_alias_lifecycle(client: LambdaClient, function_name: str) -> None:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}:live"

    created = await client.create_alias(
        function_name,
        "live",
        function_version="1",
        description="production",
        routing_config=RoutingConfig({"2": 0.25}),
    )
    assert (created.alias_arn, created.name, created.function_version) == (arn, "live", "1")
    assert created.description == "production"
    assert created.routing_config == RoutingConfig({"2": 0.25})
    assert created.revision_id

    # 201 and text/html, yet a proper AliasConfiguration.
    fetched = await client.get_alias(function_name, "live")
    assert fetched == created

    updated = await client.update_alias(
        function_name,
        "live",
        function_version="2",
        routing_config=RoutingConfig({}),
        revision_id=fetched.revision_id,
    )
    assert updated.function_version == "2"
    assert updated.description == "production"
    # moto sends {"AdditionalVersionWeights": {}}: no weights, so None.
    assert updated.routing_config is None
    assert (await client.get_alias(function_name, "live")).routing_config is None

    await client.delete_alias(function_name, "live")  # a 201 with "{}" is a success too

    with pytest.raises(ResourceNotFoundError) as caught:
        await client.get_alias(function_name, "live")
    assert caught.value.status == 404
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.message == f"Cannot find alias arn: {arn}"
    assert caught.value.request_id


async def test_an_alias_without_weights_has_no_routing_config(
    client: LambdaClient, function_name: str
) -> None:
    # moto sends "RoutingConfig": null here.
    created = await client.create_alias(function_name, "plain", function_version="1")
    assert created.routing_config is None
    assert (await client.get_alias(function_name, "plain")).routing_config is None

    # Setting weights later, and reading them back.
    weighted = await client.update_alias(
        function_name, "plain", routing_config=RoutingConfig({"2": 0.1})
    )
    assert weighted.routing_config == RoutingConfig({"2": 0.1})
    assert (await client.get_alias(function_name, "plain")).routing_config == RoutingConfig(
        {"2": 0.1}
    )


async def test_list_aliases_iterates_all_though_moto_does_not_paginate(
    client: LambdaClient, function_name: str
) -> None:
    names = [f"alias-{i}" for i in range(5)]
    for i, name in enumerate(names):
        await client.create_alias(
            function_name,
            name,
            function_version="1",
            routing_config=RoutingConfig({"2": 0.5}) if i == 0 else None,
        )

    listed = [alias async for alias in client.list_aliases(function_name, page_size=2)]
    assert [alias.name for alias in listed] == names
    assert listed[0].routing_config == RoutingConfig({"2": 0.5})
    assert all(alias.routing_config is None for alias in listed[1:])
    assert listed == [await client.get_alias(function_name, name) for name in names]

    # page_size=2 is sent, and ignored: a single page holds them all.
    pages = [page async for page in client.list_aliases(function_name, page_size=2).pages()]
    assert len(pages) == 1
    assert [alias.name for alias in pages[0].aliases] == names
    assert pages[0].next_marker is None


async def test_errors_against_moto(client: LambdaClient, function_name: str) -> None:
    with pytest.raises(ResourceNotFoundError) as missing_function:
        await client.get_alias(f"{function_name}-nope", "live")
    assert missing_function.value.status == 404

    with pytest.raises(ResourceNotFoundError):
        await client.create_alias(function_name, "live", function_version="9")

    await client.create_alias(function_name, "live", function_version="1")
    # moto's code is ConflictException, which the client does not know as
    # ResourceConflictException: a plain ServiceError, still carrying the 409 and the code.
    with pytest.raises(ServiceError) as duplicate:
        await client.create_alias(function_name, "live", function_version="1")
    assert not isinstance(duplicate.value, ResourceConflictError)
    assert (duplicate.value.code, duplicate.value.status) == ("ConflictException", 409)

    # moto does not check RevisionId: a stale one succeeds (AWS: PreconditionFailedError), and
    # the revision stays the same after an update.
    before = await client.get_alias(function_name, "live")
    try:
        after = await client.update_alias(
            function_name, "live", description="changed", revision_id="stale"
        )
    except PreconditionFailedError:  # pragma: no cover - only if moto starts checking
        pytest.fail("moto now checks RevisionId; update this test and the module docstring")
    assert after.description == "changed"
    assert after.revision_id == before.revision_id

    # Deleting a missing alias succeeds on moto (201).
    await client.delete_alias(function_name, "never-created")
